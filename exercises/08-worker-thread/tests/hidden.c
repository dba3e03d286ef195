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
                                            "--errors-for-leak-kinds=all",
                                            "--show-leak-kinds=all", NULL };
    static const char *const args[] = { "--workers", "3", "--results", "300", NULL };
    /* Under valgrind, measured on this 2-core VM at load average 17 to
       20 and nice 19: 37 to 84 s (5 s when not niced). The 15 s this
       once had is why the solution scored 15/17 under load; 240 s is
       about 3 times the worst seen. */
    struct run_options options = { .timeout_ms = 240000, .memory_mb = 4096, .wrapper = valgrind };
    struct outcome o;
    run_subject("event2", args, &options, &o);
    char why[256];
    ck_assert_msg(!(o.exited && o.code == 99), "event2 misuses memory or ends with some never freed (every "
                  "event_new() needs its event_free(), and libevent_global_shutdown() frees what "
                  "evthread_use_pthreads() made); valgrind: %s",
                  harness_excerpt(o.err, strlen(o.err), 200));
    ck_assert_msg(judge_run(&o, 3, 300, false, why, sizeof why), "under valgrind: %s", why);
    outcome_free(&o);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, delivers_from_sixteen_workers, 120);
    HIDDEN_TEST(suite, frees_everything, 300);
}
