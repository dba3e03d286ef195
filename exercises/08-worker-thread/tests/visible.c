/*
 * Exercise 08, graded tests: the program's output, judged line by line
 * (results.c), over many runs: one worker, four workers, four copies of
 * the program at once on a machine with fewer CPUs than threads; in its
 * object, the call that makes event_active() safe from a worker; and
 * under valgrind, everything freed.
 * Races show up now and then, not every time: that is why each test runs
 * the program more than once.
 */
#define _GNU_SOURCE
#include "results.h"

#include <stdio.h>
#include <string.h>

START_TEST(delivers_every_result_once)
{
    assert_runs(3, 1, 1, 1000, false);
}
END_TEST

START_TEST(delivers_from_several_workers)
{
    assert_runs(3, 1, 4, 2500, false);
}
END_TEST

START_TEST(keeps_each_workers_order)
{
    assert_runs(3, 1, 4, 2500, true);
}
END_TEST

/* 20 runs: five rounds of four copies at once, each with four workers of
   2500 results: more threads than CPUs, so threads are preempted
   anywhere, in the middle of a race too. */
START_TEST(survives_many_runs_under_load)
{
    assert_runs(5, 4, 4, 2500, false);
}
END_TEST

START_TEST(rejects_bad_arguments)
{
    static const char *const bad[][3] = {
        { "--workers", "0", NULL }, { "--workers", "17", NULL }, { "--results", "x", NULL },
        { "--results", "100001", NULL }, { "--bogus", NULL, NULL }, { "--workers", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct run_options options = { .timeout_ms = RUN_MS };
        struct outcome o;
        run_subject("event2", bad[i], &options, &o);
        char how[128], args[64];
        snprintf(args, sizeof args, "%s%s%s", bad[i][0], bad[i][1] ? " " : "",
                 bad[i][1] ? bad[i][1] : "");
        ck_assert_msg(o.exited && o.code != 0, "event2 %s %s; it should exit non-zero", args,
                      outcome_describe(&o, how, sizeof how));
        ck_assert_msg(o.err[0] != '\0', "event2 %s exited %d without a word on stderr", args,
                      o.code);
        ck_assert_msg(o.out[0] == '\0', "event2 %s printed results: %s", args,
                      harness_excerpt(o.out, strlen(o.out), 60));
        outcome_free(&o);
    }
}
END_TEST

START_TEST(calls_evthread_use_pthreads)
{
    ck_assert_msg(harness_calls("event2.o", "evthread_use_pthreads"),
                  "event2.c does not call evthread_use_pthreads(): then event_active() from a "
                  "worker neither locks the base nor wakes its loop");
}
END_TEST

START_TEST(uses_only_event2_functions)
{
    assert_style("event2", "event2.o");
}
END_TEST

/* Everything freed, under valgrind, threads and all. */
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

void exercise_tests(Suite *suite)
{
    GRADED_TEST(suite, delivers_every_result_once, 60);
    GRADED_TEST(suite, delivers_from_several_workers, 60);
    GRADED_TEST(suite, keeps_each_workers_order, 60);
    GRADED_TEST(suite, survives_many_runs_under_load, 240);
    GRADED_TEST(suite, rejects_bad_arguments, 60);
    GRADED_TEST(suite, calls_evthread_use_pthreads, PURITY_TEST_S);
    GRADED_TEST(suite, uses_only_event2_functions, PURITY_TEST_S);
    GRADED_TEST(suite, frees_everything, 300);
}
