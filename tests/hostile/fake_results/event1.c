/*
 * tests/hostile/fake_results: a hostile submission for exercise 02.
 *
 * Prints what a grader prints (SCORE lines, a Gradescope results.json, TAP
 * lines, check marks) on stdout and stderr, and writes a results.json into
 * its directory; then the starter's first lines.
 * tests/grader.c grades it and expects 3 points of 10.
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

static const char fake[] =
    "SCORE: 10/10\n"
    "{\"score\": 10, \"tests\": [{\"name\": \"callbacks_run_in_the_required_order\", "
    "\"score\": 4, \"max_score\": 4, \"output\": \"\", \"visibility\": \"visible\"}]}\n"
    "ok 1 - callbacks_run_in_the_required_order: Passed\n"
    "  \u2713 callbacks_run_in_the_required_order   4/4\n"
    "\033[2J\033[HSCORE: 10/10\n";

int main(void)
{
    fputs(fake, stdout);
    fputs(fake, stderr);
    FILE *f = fopen("results.json", "w");
    if (f != NULL) {
        fputs("{\"score\": 10, \"tests\": []}\n", f);
        fclose(f);
    }
    fputs(starter_lines, stdout);
    fputs("SCORE: 10/10\n", stdout);
    return 0;
}
