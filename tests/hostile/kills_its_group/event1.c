/*
 * tests/hostile/kills_its_group: a hostile submission for exercise 02.
 *
 * kill(-1) and kill() on every pid it can name, prints the starter's first
 * lines, then kills its own process group.
 * tests/grader.c grades it and expects 1 points of 10.
 */
#include <signal.h>
#include <stdio.h>
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
    kill(-1, SIGKILL); /* every process this user may signal, but itself */
    for (pid_t pid = 1; pid < 4096; pid++)
        if (pid != getpid())
            kill(pid, SIGKILL);
    kill(getppid(), SIGKILL);
    fputs(starter_lines, stdout);
    fflush(stdout);
    kill(0, SIGKILL); /* its process group: itself, if the grader got it one */
    return 0;
}
