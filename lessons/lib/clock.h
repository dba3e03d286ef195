/*
 * clock.h - a monotonic clock in milliseconds, and sleeping.
 *
 * For deadlines and measurements only: no ordering in this course ever
 * depends on how long something took, and no trace prints a time.
 */
#ifndef LESSONS_CLOCK_H
#define LESSONS_CLOCK_H

/* CLOCK_MONOTONIC in milliseconds. */
long long now_ms(void);

/* Sleep ms milliseconds, whatever signals arrive meanwhile. */
void sleep_ms(int ms);

#endif
