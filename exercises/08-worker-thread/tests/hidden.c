/*
 * Exercise 08, hidden test (left out of `make release`): sixteen workers,
 * the most the program takes (a variant of the visible
 * delivers_from_several_workers).
 */
#define _GNU_SOURCE
#include "results.h"

START_TEST(delivers_from_sixteen_workers)
{
    assert_runs(5, 1, 16, 1000, false);
}
END_TEST

void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, delivers_from_sixteen_workers, 120);
}
