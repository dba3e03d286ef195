/*
 * results.h - what exercise 08's tests share: running the program with
 * --workers W --results N, alone or several copies at once, and judging
 * its output. A run passes when the program exited 0 and printed every
 * "W K K*K" line exactly once (in each worker's order, when asked) and
 * then "done W*N", and nothing else.
 */
#ifndef EXERCISE08_RESULTS_H
#define EXERCISE08_RESULTS_H

#include "harness.h"

#include <stdbool.h>
#include <stddef.h>

/* The wall-clock limit of one run: a correct program needs a tenth of a
   second alone, and well under a second with four copies on two busy
   CPUs. A hung one costs the whole limit, once per test. */
enum { RUN_MS = 3000, LOADED_RUN_MS = 6000 };

/* Judge one run; false, with the reason in why, if it failed. */
bool judge_run(const struct outcome *o, int workers, int results, bool in_order, char *why,
               size_t size);

/* Run `copies` copies at once, `rounds` times over, each with --workers
   workers --results results; fail the test at the first run that fails,
   naming the round. */
void assert_runs(int rounds, int copies, int workers, int results, bool in_order);

#endif
