/*
 * tests/hostile/starts_threads: a hostile submission for exercise 02.
 *
 * Prints the starter's first lines, then starts threads (small stacks, so
 * that the process limit, not memory, is what stops it) until
 * pthread_create() fails; every thread waits forever. Then the main
 * thread calls pthread_exit(): the process lives on in its threads, with
 * no main thread to return. Threads count against RLIMIT_NPROC like
 * processes, so the sandbox's process limit stops the flood, and its
 * wall-clock limit ends the rest.
 * tests/grader.c grades it and expects 1 point of 10.
 */
#include <pthread.h>
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

static void *wait_forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    fputs(starter_lines, stdout);
    fflush(stdout);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    long started = 0;
    pthread_t thread;
    while (started < 100000 && pthread_create(&thread, &attr, wait_forever, NULL) == 0)
        started++;
    fprintf(stderr, "started %ld threads before pthread_create() failed\n", started);
    pthread_exit(NULL);
}
