/*
 * asleep.h - whether a thread of this process is asleep in epoll_wait(),
 * as the kernel says (/proc/self/task/TID/syscall). Lesson 20's mistake 12
 * needs it: a worker must act only once the main thread's loop sleeps, or
 * the mistake would not show. Style-neutral: no libevent calls.
 */
#ifndef LESSONS_ASLEEP_H
#define LESSONS_ASLEEP_H

#include <stdbool.h>

/* The calling thread's id (gettid()), as /proc names it. */
int asleep_thread_id(void);

/* Whether thread tid is blocked in epoll_wait() (or epoll_pwait()) now. */
bool asleep_in_epoll(int tid);

/* Wait until thread tid is asleep in epoll_wait(), looking every
   millisecond; after limit_ms say so on stderr and exit(1). */
void asleep_wait_for_epoll(int tid, int limit_ms);

#endif
