/*
 * runner.c - the graded tests of one exercise, as a program: grade.sh runs
 * it once per submission, after building the submission in the sandbox.
 *
 *   runner --results DIR [--visible] [--tap FILE] [--xml FILE] [--list]
 *
 * --results DIR  for each test NAME, DIR/NAME.result ("pass", "fail" or
 *                "error": the test itself broke, e.g. Check's timeout) and
 *                DIR/NAME.message (Check's message; empty on a pass)
 * --visible      skip the hidden tests (what `make exercise-N` runs)
 * --list         print each test's name and "visible" or "hidden", and run
 *                nothing (the grader checks the manifest against it)
 *
 * Every test runs in its own process (Check's fork mode) with its own time
 * limit. The results are Check's own: what each test observed, never
 * anything the student's program printed about itself.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(void)
{
    fputs("usage: runner --results DIR [--visible] [--tap FILE] [--xml FILE]\n       runner --list\n", stderr);
    exit(2);
}

static void write_text(const char *dir, const char *name, const char *suffix, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, suffix);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
        fprintf(stderr, "runner: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

int main(int argc, char **argv)
{
    const char *results = NULL, *tap = NULL, *xml = NULL;
    bool visible_only = false, list = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--results") == 0 && i + 1 < argc)
            results = argv[++i];
        else if (strcmp(argv[i], "--tap") == 0 && i + 1 < argc)
            tap = argv[++i];
        else if (strcmp(argv[i], "--xml") == 0 && i + 1 < argc)
            xml = argv[++i];
        else if (strcmp(argv[i], "--visible") == 0)
            visible_only = true;
        else if (strcmp(argv[i], "--list") == 0)
            list = true;
        else
            usage();
    }
    if (!list && results == NULL)
        usage();

    Suite *suite = suite_create("exercise");
    exercise_tests(suite);
    if (exercise_hidden_tests != NULL)
        exercise_hidden_tests(suite);

    if (list) {
        for (size_t i = 0; i < harness_ncases; i++)
            printf("%s %s\n", harness_cases[i].name, harness_cases[i].hidden ? "hidden" : "visible");
        srunner_free(srunner_create(suite)); /* frees the suite */
        return 0;
    }

    SRunner *runner = srunner_create(suite);
    srunner_set_fork_status(runner, CK_FORK);
    if (tap != NULL)
        srunner_set_tap(runner, tap);
    if (xml != NULL)
        srunner_set_xml(runner, xml);
    mkdir(results, 0755);
    srunner_run_tagged(runner, NULL, NULL, NULL, visible_only ? "hidden" : NULL, CK_SILENT);

    TestResult **all = srunner_results(runner);
    int n = srunner_ntests_run(runner);
    for (int i = 0; i < n; i++) {
        const char *name = tr_tcname(all[i]);
        int type = tr_rtype(all[i]);
        write_text(results, name, "result",
                   type == CK_PASS ? "pass\n" : type == CK_FAILURE ? "fail\n" : "error\n");
        write_text(results, name, "message", type == CK_PASS ? "" : tr_msg(all[i]));
    }
    free(all);
    srunner_free(runner);
    return 0;
}
