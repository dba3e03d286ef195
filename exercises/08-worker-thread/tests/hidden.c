/*
 * Exercise 08, hidden tests (left out of `make release`): sixteen
 * workers, the most the program takes; and everything freed, under
 * valgrind, threads and all.
 */
#define _GNU_SOURCE
#include "results.h"

#include <string.h>

START_TEST(delivers_from_sixteen_workers)
{
    assert_runs(5, 1, 16, 1000, false);
}
END_TEST

START_TEST(frees_everything)
{
    static const char *const valgrind[] = { "valgrind", "--quiet", "--error-exitcode=99",
                                            "--leak-check=full",
                                            "--errors-for-leak-kinds=definite,indirect",
                                            "--show-leak-kinds=definite,indirect", NULL };
    static const char *const args[] = { "--workers", "3", "--results", "300", NULL };
    struct run_options options = { .timeout_ms = 15000, .memory_mb = 4096, .wrapper = valgrind };
    struct outcome o;
    run_subject("event2", args, &options, &o);
    char why[256];
    ck_assert_msg(!(o.exited && o.code == 99), "valgrind found errors or leaks: %s",
                  harness_excerpt(o.err, strlen(o.err), 200));
    ck_assert_msg(judge_run(&o, 3, 300, false, why, sizeof why), "under valgrind: %s", why);
    outcome_free(&o);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, delivers_from_sixteen_workers, 60);
    HIDDEN_TEST(suite, frees_everything, 90);
}
