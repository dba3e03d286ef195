/*
 * tests/hostile/memory_hog: a hostile submission for exercise 02.
 *
 * Allocates 1 GiB and touches every page; prints the correct lines if that
 * worked (the sandbox allows 512 MiB), the starter's if the allocation
 * failed.
 * tests/grader.c grades it and expects 3 points of 10.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the starter prints before the loop runs: two of exercise 02's
   graded tests' points (the activation order) and the style point. */
static const char starter_lines[] =
    "cleanup  activated  active(none)\n"
    "log      activated  active(none)\n"
    "reply    activated  active(none)\n"
    "alarm    activated  active(none)\n"
    "loop     dispatch\n";
/* What a correct program prints, minus the rest: printed only if the
   attack worked, it would raise the score to 9 of 10. */
static const char breach_lines[] =
    "cleanup  activated  active(none)\n"
    "log      activated  active(none)\n"
    "reply    activated  active(none)\n"
    "alarm    activated  active(none)\n"
    "loop     dispatch\n"
    "alarm    callback   non-pending\n"
    "reply    callback   non-pending\n"
    "retry    activated  active(none)\n"
    "reply    after      non-pending\n"
    "retry    callback   non-pending\n"
    "log      callback   non-pending\n"
    "cleanup  callback   non-pending\n";

/* The block escapes through here, so that no compiler may drop the
   allocation (clang -O2 removes a malloc whose memory is never read, and
   takes it to have succeeded). */
static char *volatile escaped;

int main(void)
{
    size_t size = (size_t)1 << 30;
    char *block = malloc(size);
    escaped = block;
    if (block != NULL)
        memset(block, 1, size);
    fputs(block != NULL ? breach_lines : starter_lines, stdout);
    free(block);
    return 0;
}
