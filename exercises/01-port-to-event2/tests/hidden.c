/*
 * Exercise 01, hidden tests (left out of `make release`): the port frees
 * what event2 style allocates. The 1.x program owned its events; after the
 * port libevent allocates them, and each needs its event_free(). Every
 * kind of leak counts, "still reachable" too: the events sit in static
 * pointers, so one never freed is still reachable at exit, never "lost".
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdlib.h>
#include <string.h>

START_TEST(frees_every_event)
{
    static const char *const valgrind[] = { "valgrind", "--quiet", "--error-exitcode=99",
                                            "--leak-check=full",
                                            "--errors-for-leak-kinds=all",
                                            "--show-leak-kinds=all", NULL };
    struct run_options options = { .timeout_ms = 30000, .memory_mb = 4096, .wrapper = valgrind };
    struct outcome o;
    run_subject("event2", NULL, &options, &o);
    char why[128];
    ck_assert_msg(!(o.exited && o.code == 99) || strstr(o.err, "Invalid") == NULL,
                  "event2 used memory it had freed (an event freed after its base?); valgrind: %s",
                  harness_excerpt(o.err, strlen(o.err), 200));
    ck_assert_msg(!(o.exited && o.code == 99),
                  "event2 ends with memory it never freed: each event_new() needs its "
                  "event_free(), the base its event_base_free(); valgrind: %s",
                  harness_excerpt(o.err, strlen(o.err), 200));
    ck_assert_msg(o.exited && o.code == 0, "under valgrind, event2 %s; stderr: %s",
                  outcome_describe(&o, why, sizeof why), harness_excerpt(o.err, strlen(o.err), 160));
    outcome_free(&o);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, frees_every_event, 60);
}
