/*
 * Exercise 01, graded tests: the ported program prints the same trace, is
 * event2 style through and through (its object calls no 1.x function and
 * read no compat header: .ci/purity.sh, as the lessons' build uses it),
 * and frees what event2 style allocates: the 1.x program owned its
 * events; after the port libevent allocates them, and each needs its
 * event_free(). Every kind of leak counts, "still reachable" too: the
 * events sit in static pointers, so one never freed is still reachable at
 * exit, never "lost".
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* The bounds of these tests, measured 2026-12-02 on this 2-core VM: 10
   gradings of the solution with two busy loops of ours and the other
   engineers' work (load average 7 to 12), the runner at nice 10. The run
   here took 1329 ms at worst (median 537), sandbox included: the default
   limit it had, 5 s, is only 3.8 times that, and loads of 20 to 31 were
   seen in other gradings. 10 s is 7.5 times it, and the test's 20 s holds
   it and run_subject()'s 3 s of grace. The purity tests took up to
   17.1 s of their PURITY_TEST_S (120). A program that hangs fails here
   whatever the limit; none of them judges speed. */
START_TEST(trace_matches_expected)
{
    struct outcome o;
    struct run_options options = { .timeout_ms = 10000 };
    run_subject("event2", NULL, &options, &o);
    assert_exited_zero(&o, "event2");
    char *want = harness_expected("expected.trace");
    assert_same_trace(want, o.out, "the trace");
    free(want);
    outcome_free(&o);
}
END_TEST

/* The complaints of one kind from the purity check, as the names they
   are about ("event_init event_set"), or the rest of each line. */
static char *complaints(const char *report, const char *marker, bool rest_of_line)
{
    char *names = calloc(1, strlen(report) + 1);
    if (names == NULL)
        abort();
    for (const char *line = report; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        const char *at = strstr(line, marker);
        if (at != NULL && at < line + n) {
            const char *name = at + strlen(marker);
            size_t len = strcspn(name, rest_of_line ? "\n" : " \n");
            if (*names != '\0')
                strcat(names, " ");
            strncat(names, name, len);
        }
        line += n + (line[n] == '\n');
    }
    return names;
}

START_TEST(calls_only_event2_functions)
{
    char *report = harness_purity("event2", "event2.o");
    char *calls = complaints(report, "may not call ", false);
    ck_assert_msg(*calls == '\0', "event2.c still calls functions outside event2/symbols.txt: %s",
                  calls);
    free(calls);
    free(report);
}
END_TEST

START_TEST(includes_no_compat_header)
{
    char *report = harness_purity("event2", "event2.o");
    char *headers = complaints(report, "may not include a compat header: ", true);
    ck_assert_msg(*headers == '\0',
                  "event2.c still includes a 1.x compat header (through <event.h>?): %s", headers);
    free(headers);
    free(report);
}
END_TEST

START_TEST(frees_every_event)
{
    static const char *const valgrind[] = { "valgrind", "--quiet", "--error-exitcode=99",
                                            "--leak-check=full",
                                            "--errors-for-leak-kinds=all",
                                            "--show-leak-kinds=all", NULL };
    /* Valgrind is slow: the solution's run under it took 21.1 s at worst
       (median 15.4), measured as trace_matches_expected's, against the
       30 s this limit once was. It is 90 s now, 4.3 times the worst
       seen, for the loads of 20 to 31 other gradings met; the test's
       limit (120 s) holds it and the 3 s of grace. A leak is judged by
       valgrind's exit status, never by time. */
    struct run_options options = { .timeout_ms = 90000, .memory_mb = 4096, .wrapper = valgrind };
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

void exercise_tests(Suite *suite)
{
    GRADED_TEST(suite, trace_matches_expected, 20);
    GRADED_TEST(suite, calls_only_event2_functions, PURITY_TEST_S);
    GRADED_TEST(suite, includes_no_compat_header, PURITY_TEST_S);
    GRADED_TEST(suite, frees_every_event, 120);
}
