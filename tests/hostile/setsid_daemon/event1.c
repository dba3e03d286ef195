/*
 * tests/hostile/setsid_daemon: a hostile submission for exercise 02.
 *
 * Starts a daemon (fork, setsid, fork) that keeps stdout open and lives
 * forever, prints the starter's first lines, and exits 0.
 * tests/grader.c grades it and expects 3 points of 10.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
    if (fork() == 0) {
        setsid();
        if (fork() == 0)
            for (;;)
                sleep(1);
        _exit(0);
    }
    fputs(starter_lines, stdout);
    return 0;
}
