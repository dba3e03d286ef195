/*
 * main.c - runs every Check suite: `make test` (or build/bin/run-tests from
 * the top of the tree).
 *
 *   run-tests [SUITE...]   only the named suites (see the table in main())
 *
 * Each test runs in its own process (Check's fork mode) under a time limit.
 * Results also go to build/test-results.tap and build/test-results.xml.
 * CK_RUN_CASE / CK_RUN_SUITE narrow a run further, as Check documents.
 */
#include "suites.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool wanted(int argc, char **argv, const char *name)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    static const struct { const char *name; Suite *(*make)(void); } all[] = {
        { "lessons", lessons_suite },
        { "semantics", semantics_suite },
        { "tooling", tooling_suite },
        { "bufferevents", bufferevents_suite },
        { "fork", fork_suite },
        { "evbuffers", evbuffers_suite },
        { "network", network_suite },
        { "grader", grader_suite },
        /* One line per suite file: tests/<name>.c defines <name>_suite(). */
    };
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
            known = known || strcmp(argv[i], all[j].name) == 0;
        if (!known) {
            fprintf(stderr, "run-tests: no suite '%s'; the suites are:", argv[i]);
            for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
                fprintf(stderr, " %s", all[j].name);
            fputc('\n', stderr);
            return 2;
        }
    }

    SRunner *runner = NULL;
    for (size_t j = 0; j < sizeof all / sizeof all[0]; j++) {
        if (!wanted(argc, argv, all[j].name))
            continue;
        if (runner == NULL)
            runner = srunner_create(all[j].make());
        else
            srunner_add_suite(runner, all[j].make());
    }

    char tap[512], xml[512];
    snprintf(tap, sizeof tap, "%s/test-results.tap", build_dir());
    snprintf(xml, sizeof xml, "%s/test-results.xml", build_dir());
    srunner_set_fork_status(runner, CK_FORK);
    srunner_set_tap(runner, tap);
    srunner_set_xml(runner, xml);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
