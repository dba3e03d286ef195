/*
 * loopback.h - bring up the loopback interface of a new network namespace
 * (a fresh namespace has lo down): what the sandbox and the harness's
 * private networks both need.
 */
#ifndef GRADER_LOOPBACK_H
#define GRADER_LOOPBACK_H

/* 0, or -1 with errno set. */
int loopback_up(void);

#endif
