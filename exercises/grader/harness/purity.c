/*
 * purity.c - judging the code: the course's purity check and nm on the
 * student's objects (harness.h). Both are trusted programs, run outside
 * the sandbox.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "proc.h" /* run_program() */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PURITY_TIMEOUT_MS: .ci/purity.sh starts some twenty processes (pkg-config,
   nm, sort, awk...). Measured 2026-12-02 on this 2-core VM, 20 runs at
   nice 10, load average 16 to 31: 3.6 to 39.6 s for one object (under a
   second of CPU). The 30 s this once was failed the solution's purity
   test in every one of 20 gradings of exercise 05 and 10 of 20 of
   exercise 07 with two busy loops running; 100 s is 2.5 times the worst
   seen. NM_TIMEOUT_MS: one nm -u -P of exercise 02's event1.o, 40 runs at
   nice 10 beside two busy loops (load average 10 to 11), took 0.8 to
   4.1 s (0.4 s on a quiet machine); 02's test that calls nm three times
   took up to 10.9 s in 13 gradings at load 7 to 12. The 10 s this once
   was is 2.4 times the worst single run, too close at the loads of 20 to
   31 seen above; 30 s is 7 times it, and three of them fit in
   PURITY_TEST_S. nm's speed judges nothing of the student's. */
enum { PURITY_TIMEOUT_MS = 100000, NM_TIMEOUT_MS = 30000 };

/* Run a trusted program (.ci/lib/proc.h); what it printed, stdout then
   stderr. */
static char *capture(const char *const argv[], int timeout_ms, int *status)
{
    struct run_result r;
    run_program(argv, NULL, timeout_ms, &r);
    size_t len = strlen(r.out);
    harness_append(&r.out, &len, r.err, strlen(r.err));
    free(r.err);
    *status = r.status;
    return r.out;
}

/* text with the GRADE_PROGRAMS directory cut off the start of its lines:
   "/long/scratch/path/event2.c: event2 style may not ..." -> "event2.c: ..." */
static char *without_programs_dir(const char *text)
{
    const char *programs = harness_env("GRADE_PROGRAMS");
    size_t plen = strlen(programs);
    char *out = NULL;
    size_t len = 0;
    harness_append(&out, &len, "", 0);
    for (const char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        if (n > plen + 1 && strncmp(line, programs, plen) == 0 && line[plen] == '/')
            harness_append(&out, &len, line + plen + 1, n - plen - 1);
        else
            harness_append(&out, &len, line, n);
        harness_append(&out, &len, "\n", 1);
        line += n + (line[n] == '\n');
    }
    return out;
}

char *harness_purity(const char *style, const char *object)
{
    char *script = harness_join(harness_env("GRADE_COURSE"), ".ci/purity.sh");
    char *path = harness_program_path(object);
    const char *argv[] = { script, style, path, NULL };
    int status;
    char *text = capture(argv, PURITY_TIMEOUT_MS, &status);
    char *out = without_programs_dir(text);
    size_t len = strlen(out);
    if (status != 0 && len == 0) {
        static const char unexplained[] = "the purity check failed without saying why\n";
        harness_append(&out, &len, unexplained, sizeof unexplained - 1);
    }
    if (status == 0)
        out[0] = '\0';
    free(text);
    free(path);
    free(script);
    return out;
}

char *harness_undefined_symbols(const char *object)
{
    char *path = harness_program_path(object);
    const char *argv[] = { "nm", "-u", "-P", path, NULL };
    int status;
    char *text = capture(argv, NM_TIMEOUT_MS, &status);
    ck_assert_msg(status == 0, "grader error: nm failed on %s", object);
    /* "name U" lines -> "name" */
    char *out = NULL;
    size_t len = 0;
    harness_append(&out, &len, "", 0);
    for (const char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        size_t name = strcspn(line, " \n");
        harness_append(&out, &len, line, name);
        harness_append(&out, &len, "\n", 1);
        line += n + (line[n] == '\n');
    }
    free(text);
    free(path);
    return out;
}

void assert_style(const char *style, const char *object)
{
    char *report = harness_purity(style, object);
    size_t n = strlen(object);
    ck_assert_msg(*report == '\0', "%.*s.c is not %s style: %s", (int)(n > 2 ? n - 2 : n), object,
                  style, harness_excerpt(report, strlen(report), 200));
    free(report);
}

bool harness_calls(const char *object, const char *function)
{
    char *calls = harness_undefined_symbols(object);
    size_t n = strlen(function);
    bool found = false;
    for (const char *line = calls; *line != '\0' && !found;) {
        size_t len = strcspn(line, "\n");
        found = len == n && strncmp(line, function, n) == 0;
        line += len + (line[len] == '\n');
    }
    free(calls);
    return found;
}
