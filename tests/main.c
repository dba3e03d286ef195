/*
 * main.c - runs the Check suites: `make test` (or build/bin/run-tests from
 * the top of the tree).
 *
 *   run-tests [-j N] [SUITE...]   the named suites (default: those of the
 *                                 table below not marked slow), N at a time
 *                                 (default: one per CPU)
 *   run-tests [-j N] --slow       the suites marked slow (make test-slow)
 *   run-tests [-j N] --all        every suite
 *
 * The slow suites grade every submission, package every exercise for
 * Gradescope, build the whole site and run make's targets as a user would:
 * minutes, where make test stays near one (tests/README.md has the times).
 * CI runs both (.ci/run).
 *
 * Each suite runs in a process of its own, and each test within it in its
 * own process again (Check's fork mode) under a time limit. A line is
 * printed as each suite finishes (its name, its checks, its time); each
 * failing suite's report from Check follows once all have finished. Results go
 * to build/test-results/SUITE.tap and SUITE.xml. CK_RUN_CASE /
 * CK_RUN_SUITE narrow a run further, as Check documents.
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct suite_entry {
    const char *name;
    Suite *(*make)(void);
    bool slow; /* left to make test-slow */
} all[] = {
    /* The slowest first, so that two at a time finish together (the times
       of a warm run on 2 cores: grader 117 s, tooling 78, gradescope 50,
       site 48; http 39, lessons 23, network 19, the rest under 10). */
    { "grader", grader_suite, true },
    { "tooling", tooling_suite, true },
    { "gradescope", gradescope_suite, true },
    { "site", site_suite, true },
    { "http", http_suite, false },
    { "lessons", lessons_suite, false },
    { "network", network_suite, false },
    { "mistakes", mistakes_suite, false },
    { "dns", dns_suite, false },
    { "bench", bench_suite, false },
    { "timers", timers_suite, false },
    { "backends", backends_suite, false },
    { "semantics", semantics_suite, false },
    { "threads", threads_suite, false },
    { "bufferevents", bufferevents_suite, false },
    { "evbuffers", evbuffers_suite, false },
    { "fork", fork_suite, false },
    { "edge", edge_suite, false },
    /* One line per suite file: tests/<name>.c defines <name>_suite(). */
};
enum { NSUITES = sizeof all / sizeof all[0] };

/* What one suite's process reports back, through a pipe. */
struct outcome {
    int run, failed;
};

struct job {
    const struct suite_entry *suite;
    pid_t pid;
    int pipe_fd;
    long long started_ms;
    struct outcome outcome;
    bool done, crashed;
    char *log_path; /* Check's report of its failures */
};

static int usage(void)
{
    fprintf(stderr, "usage: run-tests [-j N] [--slow | --all | SUITE...]\n");
    for (int slow = 0; slow <= 1; slow++) {
        int column = fprintf(stderr, slow ? "slow suites (--slow):" : "suites (the default):");
        for (size_t j = 0; j < NSUITES; j++) {
            if (all[j].slow != slow)
                continue;
            if (column + 1 + (int)strlen(all[j].name) > 78)
                column = fprintf(stderr, "\n ");
            column += fprintf(stderr, " %s", all[j].name);
        }
        fputc('\n', stderr);
    }
    return 2;
}

static const struct suite_entry *find_suite(const char *name)
{
    for (size_t j = 0; j < NSUITES; j++)
        if (strcmp(all[j].name, name) == 0)
            return &all[j];
    return NULL;
}

/* In the child: run one suite silently, write its failures to the log and
   its counts to the pipe. */
static _Noreturn void run_suite(const struct suite_entry *suite, const char *log_path, int fd)
{
    char *tap, *xml;
    if (asprintf(&tap, "%s/test-results/%s.tap", build_dir(), suite->name) < 0 ||
        asprintf(&xml, "%s/test-results/%s.xml", build_dir(), suite->name) < 0)
        abort();
    SRunner *runner = srunner_create(suite->make());
    srunner_set_fork_status(runner, CK_FORK);
    srunner_set_tap(runner, tap);
    srunner_set_xml(runner, xml);
    srunner_run_all(runner, CK_SILENT);

    int failed = srunner_ntests_failed(runner);
    /* Check's own report (its summary, then each failure with its test's
       name), into the log the parent shows. */
    fflush(stdout);
    int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0 && dup2(log, STDOUT_FILENO) >= 0)
        srunner_print(runner, failed > 0 ? CK_NORMAL : CK_SILENT);
    fflush(stdout);
    struct outcome o = { srunner_ntests_run(runner), failed };
    if (write(fd, &o, sizeof o) != (ssize_t)sizeof o)
        _exit(3);
    srunner_free(runner);
    free(tap);
    free(xml);
    _exit(0);
}

static void start(struct job *job)
{
    int fds[2];
    if (pipe(fds) != 0 || asprintf(&job->log_path, "%s/test-results/%s.failures", build_dir(),
                                   job->suite->name) < 0)
        abort();
    char *note;
    if (asprintf(&note, "%s/test-results/%s.note", build_dir(), job->suite->name) < 0)
        abort();
    unlink(note);
    free(note);
    fflush(NULL);
    job->started_ms = now_ms();
    job->pid = fork();
    if (job->pid < 0)
        abort();
    if (job->pid == 0) {
        close(fds[0]);
        run_suite(job->suite, job->log_path, fds[1]);
    }
    close(fds[1]);
    job->pipe_fd = fds[0];
}

/* What a suite adds to its line ("; 4 graded, 50 from the cache"): the
   first line of test-results/SUITE.note, which start() removes first. */
static const char *suite_note(const struct suite_entry *suite)
{
    static char note[128];
    char *path;
    note[0] = '\0';
    if (asprintf(&path, "%s/test-results/%s.note", build_dir(), suite->name) < 0)
        abort();
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        strcpy(note, "; ");
        if (fgets(note + 2, sizeof note - 2, f) == NULL)
            note[0] = '\0';
        note[strcspn(note, "\n")] = '\0';
        fclose(f);
    }
    free(path);
    return note;
}

/* Reap one finished suite; print its line. */
static struct job *finish_one(struct job *jobs, size_t n, size_t name_width)
{
    int status;
    pid_t pid;
    while ((pid = wait(&status)) < 0 && errno == EINTR)
        ;
    for (size_t i = 0; i < n; i++) {
        struct job *job = &jobs[i];
        if (job->pid != pid || job->done)
            continue;
        job->done = true;
        job->crashed = read(job->pipe_fd, &job->outcome, sizeof job->outcome) !=
                       (ssize_t)sizeof job->outcome;
        close(job->pipe_fd);
        double seconds = (double)(now_ms() - job->started_ms) / 1000.0;
        if (job->crashed)
            printf("  ✗ %-*s did not finish (status %d)\n", (int)name_width, job->suite->name,
                   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        else
            printf("  %s %-*s %3d checks, %d failed  %5.1f s%s\n",
                   job->outcome.failed == 0 ? "✓" : "✗", (int)name_width, job->suite->name,
                   job->outcome.run, job->outcome.failed, seconds, suite_note(job->suite));
        fflush(stdout);
        return job;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long jobs_at_once = sysconf(_SC_NPROCESSORS_ONLN);
    enum { FAST, SLOW, ALL } which = FAST;
    static const struct option options[] = { { "slow", no_argument, NULL, 's' },
                                              { "all", no_argument, NULL, 'a' },
                                              { NULL, 0, NULL, 0 } };
    int opt;
    while ((opt = getopt_long(argc, argv, "j:", options, NULL)) != -1) {
        if (opt == 's')
            which = SLOW;
        else if (opt == 'a')
            which = ALL;
        else if (opt != 'j' || (jobs_at_once = strtol(optarg, NULL, 10)) < 1)
            return usage();
    }
    if (which != FAST && optind < argc)
        return usage();
    if (jobs_at_once < 1)
        jobs_at_once = 1;

    struct job jobs[NSUITES];
    size_t n = 0, name_width = 0;
    for (size_t j = 0; j < NSUITES; j++) {
        bool wanted = optind >= argc && (which == ALL || all[j].slow == (which == SLOW));
        for (int i = optind; i < argc; i++)
            wanted = wanted || strcmp(argv[i], all[j].name) == 0;
        if (wanted) {
            jobs[n++] = (struct job){ .suite = &all[j] };
            if (strlen(all[j].name) > name_width)
                name_width = strlen(all[j].name);
        }
    }
    for (int i = optind; i < argc; i++)
        if (find_suite(argv[i]) == NULL) {
            fprintf(stderr, "run-tests: no suite '%s'\n", argv[i]);
            return usage();
        }

    char *results;
    if (asprintf(&results, "%s/test-results", build_dir()) < 0)
        abort();
    mkdir(build_dir(), 0755);
    mkdir(results, 0755);
    printf("run-tests: %zu suite%s, %ld at a time; results in %s/\n", n, n == 1 ? "" : "s",
           jobs_at_once < (long)n ? jobs_at_once : (long)n, results);
    fflush(stdout);

    long long started = now_ms();
    size_t next = 0, running = 0;
    while (next < n || running > 0) {
        if (next < n && running < (size_t)jobs_at_once) {
            start(&jobs[next++]);
            running++;
            continue;
        }
        if (finish_one(jobs, n, name_width) != NULL)
            running--;
    }

    int run = 0, failed = 0, crashed = 0;
    for (size_t i = 0; i < n; i++) {
        run += jobs[i].outcome.run;
        failed += jobs[i].outcome.failed;
        crashed += jobs[i].crashed;
        char *log = jobs[i].crashed ? NULL : read_file(jobs[i].log_path);
        if (log != NULL && log[0] != '\0')
            printf("\n%s", log);
        free(log);
        free(jobs[i].log_path);
    }
    printf("\n%s: %d checks, %d failed%s, in %.1f s\n", failed + crashed == 0 ? "passed" : "FAILED",
           run, failed, crashed ? " (and a suite did not finish)" : "",
           (double)(now_ms() - started) / 1000.0);
    free(results);
    return failed + crashed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
