/*
 * register.c - registering graded tests (harness.h).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

enum { MAX_CASES = 64 };
struct harness_registered harness_cases[MAX_CASES];
size_t harness_ncases;

TCase *harness_case(Suite *suite, const char *name, int seconds, bool hidden)
{
    if (harness_ncases == MAX_CASES) {
        fprintf(stderr, "harness: more than %d tests\n", MAX_CASES);
        exit(2);
    }
    harness_cases[harness_ncases].name = name;
    harness_cases[harness_ncases].hidden = hidden;
    harness_ncases++;
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, seconds);
    if (hidden)
        tcase_set_tags(tc, "hidden");
    suite_add_tcase(suite, tc);
    return tc;
}
