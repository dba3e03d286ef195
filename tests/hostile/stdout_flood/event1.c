/*
 * tests/hostile/stdout_flood: a hostile submission for exercise 02.
 *
 * Prints the starter's first lines, then floods stdout with fake SCORE
 * lines forever.
 * tests/grader.c grades it and expects 1 points of 10.
 */
#include <stdio.h>

/* What the starter prints before the loop runs: two of exercise 02's
   graded tests' points (the activation order) and the style point. */
static const char starter_lines[] =
    "cleanup  activated  active(none)\n"
    "log      activated  active(none)\n"
    "reply    activated  active(none)\n"
    "alarm    activated  active(none)\n"
    "loop     dispatch\n";

int main(void)
{
    fputs(starter_lines, stdout);
    for (;;)
        fputs("SCORE: 10/10\n", stdout);
}
