/*
 * tests/hostile/exits_early: a hostile submission for exercise 02.
 *
 * Exits 0 at once, printing nothing.
 * tests/grader.c grades it and expects 1 points of 10.
 */
#include <stdlib.h>

int main(void)
{
    exit(0);
}
