/*
 * Lesson 17, event2 style, role "debug": debug mode, libevent's log and
 * fatal callbacks, and counting libevent's allocations.
 *
 * What it shows: event_enable_debug_mode() makes libevent remember every
 *   event it has set up, and check calls against that. Each misuse runs
 *   in a child process, since debug mode ends the process: an event never
 *   set up, a copy of one, one set up again while added, one used after
 *   event_free(), one for a blocking descriptor. libevent's messages come
 *   through the log callback; hooks count its allocations.
 * Run it:   make lesson-17               (both roles, both styles)
 *           build/bin/17-event2-debug    (this program alone)
 *           build/bin/17-event2-debug --bench   (what debug mode costs)
 * Look for: "killed by SIGABRT" for the copy: by default debug mode
 *   aborts. "event_add() returned -1" for the event never set up: that is
 *   event_add()'s own check, which comes first; debug mode adds nothing. */
#include "event2.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct event_base *base;
static const struct timeval ten_seconds = { 10, 0 };

/* doc: hooks */
/* libevent's blocks not yet freed. In a child, freed blocks are kept
   (never reused), so that a use after event_free() reads memory that is
   still the program's: what is wrong is then only what libevent sees. */
static long live;
static bool keep_freed;
static void *volatile kept[16]; /* never read; volatile keeps the stores */
static int nkept;

static void *count_malloc(size_t size)
{
    void *p = malloc(size);
    live += p != NULL;
    return p;
}

static void *count_realloc(void *old, size_t size)
{
    void *p = realloc(old, size);
    live += p != NULL && old == NULL; /* a new block only if there was none */
    return p;
}

static void count_free(void *p)
{
    live -= p != NULL;
    if (p != NULL && keep_freed && nkept < (int)(sizeof kept / sizeof kept[0]))
        kept[nkept++] = p;
    else
        free(p);
}
/* doc: end */

/* doc: callbacks */
/* libevent's messages. No libevent call in here (event.h forbids it).
   Addresses become "0x...": a trace holds none. */
static void on_log(int severity, const char *message)
{
    static const char *const names[] = { "debug", "msg", "warn", "err" };
    char text[256];
    size_t n = 0;
    for (const char *c = message; *c != '\0' && n < sizeof text - 4; c++) {
        text[n++] = *c;
        if (c[0] == '0' && c[1] == 'x' && strspn(c + 2, "0123456789abcdef") >= 4) {
            memcpy(text + n, "x...", 4);
            n += 4;
            c += 1 + strspn(c + 2, "0123456789abcdef");
        }
    }
    text[n] = '\0';
    trace_style("libevent %s: %s", severity >= 0 && severity <= 3 ? names[severity] : "?", text);
}

/* Called instead of abort() or exit(), after the message. libevent is in
   no state to be called again: the child ends here. */
static _Noreturn void on_fatal(int err)
{
    trace_style("fatal callback: err=%d; the child exits 3 itself", err);
    _exit(3);
}
/* doc: end */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

/* --- The misuses, each in a child ------------------------------------------ */

/* doc: cases */
/* Under debug mode each misuse ends the child; the checks after it are
   for a libevent that lets it through. */
static void never_set_up(void)
{
    struct event *ev = calloc(1, event_get_struct_event_size()); /* zeroed */
    if (ev == NULL)
        die_errno("calloc");
    trace_note("event_initialized(): %d", event_initialized(ev));
    trace_note("event_add() returned %d", event_add(ev, &ten_seconds));
    free(ev);
}

/* As realloc() of an array of them, or a struct assignment, would. */
static void copied(void)
{
    struct event *ev = event_new(base, -1, 0, on_timer, NULL);
    struct event *copy = malloc(event_get_struct_event_size());
    if (ev == NULL || copy == NULL)
        die("event_new");
    memcpy(copy, ev, event_get_struct_event_size());
    trace_note("event_add() on a copy of a set-up event");
    if (event_add(copy, &ten_seconds) != 0)
        die("event_add");
}

static void set_up_again(void)
{
    struct event *ev = event_new(base, -1, 0, on_timer, NULL);
    if (ev == NULL || event_add(ev, &ten_seconds) != 0)
        die("event_new, event_add");
    trace_note("the event is added; set up again");
    if (event_assign(ev, base, -1, 0, on_timer, NULL) != 0)
        die("event_assign");
}

static void used_after_free(void)
{
    struct event *ev = event_new(base, -1, 0, on_timer, NULL);
    if (ev == NULL)
        die("event_new");
    event_free(ev);
    trace_style("event_add() after event_free()");
    if (event_add(ev, &ten_seconds) != 0)
        die("event_add");
}

static void blocking_descriptor(void)
{
    int fds[2];
    if (pipe(fds) != 0) /* blocking, as pipe() makes them */
        die_errno("pipe");
    trace_note("an EV_READ event for a blocking pipe");
    if (event_new(base, fds[0], EV_READ, on_timer, NULL) == NULL)
        die("event_new");
}
/* doc: end */

/* doc: child */
static void run_case(const char *name, void (*misuse)(void))
{
    trace("child", "forked", "case=%s", name);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die_errno("fork");
    if (pid == 0) {
        keep_freed = true;
        misuse();
        _exit(0); /* what the child holds is its parent's: the parent frees it */
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        die_errno("waitpid");
    trace("child", "ended", "case=%s", name);
    if (WIFSIGNALED(status))
        trace_style("killed by %s", WTERMSIG(status) == SIGABRT ? "SIGABRT" : "a signal");
    else
        trace_style("exit status %d", WEXITSTATUS(status));
}
/* doc: end */

/* --- --bench: what debug mode costs ------------------------------------------ */
enum { BENCH_EVENTS = 1000, BENCH_ROUNDS = 500, BENCH_PAIRS = 5 };

static double cpu_ns(void)
{
    struct timespec t; /* CPU time: only this process's turns on the CPU */
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) != 0)
        die_errno("clock_gettime");
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* In a child: CPU nanoseconds per event_add() + event_del() of a timer
   (ns[0]), and per event_new() + event_free() (ns[1]). */
static void costs(bool debug, double ns[2])
{
    if (debug)
        event_enable_debug_mode();
    struct event_base *b = event_base_new();
    static struct event *evs[BENCH_EVENTS];
    for (int i = 0; i < BENCH_EVENTS; i++)
        if (b == NULL || (evs[i] = event_new(b, -1, 0, on_timer, NULL)) == NULL)
            die("event_base_new, event_new");
    double t0 = cpu_ns();
    for (int r = 0; r < BENCH_ROUNDS; r++)
        for (int i = 0; i < BENCH_EVENTS; i++)
            if (event_add(evs[i], &ten_seconds) != 0 || event_del(evs[i]) != 0)
                die("event_add, event_del");
    double t1 = cpu_ns();
    for (int r = 0; r < BENCH_ROUNDS; r++)
        for (int i = 0; i < BENCH_EVENTS; i++) {
            event_free(evs[i]);
            if ((evs[i] = event_new(b, -1, 0, on_timer, NULL)) == NULL)
                die("event_new");
        }
    ns[0] = (t1 - t0) / (BENCH_ROUNDS * BENCH_EVENTS);
    ns[1] = (cpu_ns() - t1) / (BENCH_ROUNDS * BENCH_EVENTS);
    for (int i = 0; i < BENCH_EVENTS; i++)
        event_free(evs[i]);
    event_base_free(b);
}

static void in_child(bool debug, double ns[2])
{
    int fds[2];
    if (pipe(fds) != 0)
        die_errno("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die_errno("fork");
    if (pid == 0) {
        costs(debug, ns);
        _exit(write(fds[1], ns, 2 * sizeof *ns) == (ssize_t)(2 * sizeof *ns) ? 0 : 1);
    }
    if (read(fds[0], ns, 2 * sizeof *ns) != (ssize_t)(2 * sizeof *ns) ||
        waitpid(pid, NULL, 0) != pid)
        die_errno("the benchmark's child");
    close(fds[0]);
    close(fds[1]);
}

/* Without and with debug mode, one right after the other, BENCH_PAIRS
   times; CPU time, so that other processes on the machine count less. */
static int bench(void)
{
    for (int p = 1; p <= BENCH_PAIRS; p++) {
        double off[2], on[2];
        in_child(false, off);
        in_child(true, on);
        printf("pair %d: add+del %.0f ns, with debug mode %.0f: %.2fx; "
               "new+free %.0f ns, with debug mode %.0f: %.2fx\n",
               p, off[0], on[0], on[0] / off[0], off[1], on[1], on[1] / off[1]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--bench") == 0)
        return bench();
    if (argc != 1) {
        fprintf(stderr, "usage: 17-event2-debug [--bench]\n");
        return 2;
    }

    /* doc: setup */
    /* First: libevent must allocate nothing before its hooks are in. */
    event_set_mem_functions(count_malloc, count_realloc, count_free);
    trace_style("event_set_mem_functions(): libevent allocates through counting hooks");
    event_set_log_callback(on_log);
    trace_note("event_set_log_callback(): libevent's messages come to the program");
    event_enable_debug_mode(); /* before any base or event */
    trace_style("event_enable_debug_mode()");
    base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    trace("base", "created", "method=%s", event_base_get_method(base));
    /* doc: end */

    /* doc: run */
    run_case("zeroed", never_set_up);
    run_case("copied", copied);
    event_set_fatal_callback(on_fatal);
    trace_style("event_set_fatal_callback(): the next children end in the program's hands");
    run_case("reassigned", set_up_again);
    run_case("freed", used_after_free);
    run_case("blocking", blocking_descriptor);
    /* doc: end */

    /* doc: shutdown */
    event_base_free(base);
    trace("base", "freed", NULL);
    trace_style("allocations still live after event_base_free(): %s", live > 0 ? "yes" : "no");
    libevent_global_shutdown(); /* the debug map, and any other global */
    trace_style("after libevent_global_shutdown(), every allocation freed: %s",
                live == 0 ? "yes" : "no");
    /* doc: end */
    return 0;
}
