/*
 * asleep.c - see asleep.h. No libevent calls: both styles link this.
 */
#define _GNU_SOURCE /* gettid() */
#include "asleep.h"

#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int asleep_thread_id(void)
{
    return (int)gettid();
}

bool asleep_in_epoll(int tid)
{
    char path[64], text[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool ok = fgets(text, sizeof text, f) != NULL;
    fclose(f);
    /* The first field: the number of the system call it is blocked in,
       or "running". */
    long call = ok ? strtol(text, NULL, 10) : -1;
#ifdef SYS_epoll_wait
    if (call == SYS_epoll_wait)
        return true;
#endif
    return call == SYS_epoll_pwait;
}

void asleep_wait_for_epoll(int tid, int limit_ms)
{
    long long deadline = now_ms() + limit_ms;
    while (!asleep_in_epoll(tid)) {
        if (now_ms() > deadline) {
            fprintf(stderr, "thread %d was not asleep in epoll_wait() within %d ms\n", tid, limit_ms);
            exit(1);
        }
        sleep_ms(1);
    }
}
