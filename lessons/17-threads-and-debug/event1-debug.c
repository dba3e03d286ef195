/*
 * Lesson 17, event1 style, role "debug": what a 1.x program had instead
 * of debug mode.
 *
 * What it shows: 1.x had no debug mode, no fatal callback, no allocator
 *   hooks and no global shutdown; 2.x added them all. It had the log
 *   callback, and the checks a program could make itself:
 *   event_initialized(), event_pending(), event_add()'s return value. The
 *   same misuses as the event2 program run here, each in a child process
 *   as there: an event never set up, a copy of one, one set up again
 *   while added, one whose storage went away, one on a blocking
 *   descriptor. Nothing stops any of them; where a 1.x program could
 *   check, this one does.
 * Run it:   make lesson-17               (both roles, both styles)
 *           build/bin/17-event1-debug    (this program alone)
 * Look for: "event_add() returned -1" for the event never set up, as in
 *   event2: event_add()'s own check. "event_add() on the copy returned 0":
 *   nothing notices a copied event.
 */
#include "event1.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct timeval ten_seconds = { 10, 0 };

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
/* doc: end */

static void on_timer(int fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

/* --- The misuses, each in a child ------------------------------------------ */

/* doc: cases */
static void never_set_up(void)
{
    static struct event zeroed_ev; /* zeroed: static storage */
    struct event *ev = &zeroed_ev;
    trace_note("event_initialized(): %d", event_initialized(ev));
    trace_note("event_add() returned %d", event_add(ev, &ten_seconds));
}

/* As realloc() of an array of them, or a struct assignment, would. */
static void copied(void)
{
    static struct event original_ev, copy_ev;
    struct event *ev = &original_ev, *copy = &copy_ev;
    evtimer_set(ev, on_timer, NULL);
    *copy = *ev;
    trace_note("event_add() on a copy of a set-up event");
    if (event_add(copy, &ten_seconds) != 0)
        die("event_add");
    trace_style("event_add() on the copy returned 0: nothing noticed");
    if (event_del(copy) != 0)
        die("event_del");
}

static void set_up_again(void)
{
    static struct event timer_ev;
    struct event *ev = &timer_ev;
    evtimer_set(ev, on_timer, NULL);
    if (event_add(ev, &ten_seconds) != 0)
        die("event_add");
    trace_note("the event is added; set up again");
    /* Nothing would stop event_set() here, and the base would keep an
       event that no longer knows it is added. 1.x left the check to the
       program. */
    if (event_pending(ev, EV_TIMEOUT, NULL)) {
        trace_style("event_pending() says added: event_del() first");
        if (event_del(ev) != 0)
            die("event_del");
    }
    evtimer_set(ev, on_timer, NULL);
}

static void used_after_free(void)
{
    trace_style("no event_free() in 1.x: an event lived in the program's own storage,");
    trace_style("and event_del() before that storage went away was the whole rule");
}

static void blocking_descriptor(void)
{
    int fds[2];
    if (pipe(fds) != 0) /* blocking, as pipe() makes them */
        die_errno("pipe");
    trace_note("an EV_READ event for a blocking pipe");
    static struct event reader_ev;
    struct event *reader = &reader_ev;
    event_set(reader, fds[0], EV_READ, on_timer, NULL);
    trace_style("event_set() takes it: making descriptors non-blocking was the program's job");
    close(fds[0]);
    close(fds[1]);
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

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: 17-event1-debug (no arguments)\n");
        return 2;
    }

    /* doc: setup */
    event_set_log_callback(on_log);
    trace_note("event_set_log_callback(): libevent's messages come to the program");
    trace_style("1.x had no debug mode: the checks below are the program's own");
    struct event_base *base = event_init();
    if (base == NULL)
        die("event_init");
    trace("base", "created", "method=%s", event_get_method());
    /* doc: end */

    /* doc: run */
    run_case("zeroed", never_set_up);
    run_case("copied", copied);
    run_case("reassigned", set_up_again);
    run_case("freed", used_after_free);
    run_case("blocking", blocking_descriptor);
    /* doc: end */

    /* doc: shutdown */
    event_base_free(base);
    trace("base", "freed", NULL);
    trace_style("no allocator hooks, no global shutdown: valgrind counts (make memcheck)");
    /* doc: end */
    return 0;
}
