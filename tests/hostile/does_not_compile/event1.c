/*
 * tests/hostile/does_not_compile: a hostile submission for exercise 02.
 *
 * Is not C: the build fails, every test scores 0, and grading still
 * finishes.
 * tests/grader.c grades it and expects 0 points of 10.
 */
#include <stdio.h>

int main(void)
{
    printf("SCORE: 10/10\n")
    return 0
}
