/*
 * stats.c - the clock and the median every part of the bench uses (see
 * micro.h). No libevent here: the bench's event1 and event2 programs link
 * it too, and each may call only its own style's functions.
 */
#define _GNU_SOURCE
#include "micro.h"

#include <stdlib.h>
#include <time.h>

long long micro_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, compare_doubles);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}
