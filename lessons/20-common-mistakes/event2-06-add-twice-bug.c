/*
 * Lesson 20, event2 style, mistake 06, the bug: adding an event that is
 * already pending, and setting it up again while it is.
 *
 * What it shows: two reminders wanted, one timer used: added for 10 ms,
 *   then added again for 20 ms. An event is pending or not; the second
 *   event_add() moves its deadline, and there is one callback. Then, in a
 *   child process, a timer set up again with event_assign() while added:
 *   libevent's heap still holds it, the event no longer knows, and at its
 *   deadline the loop spins without calling back. The parent kills the
 *   child after a bounded wait. A second child does the same in debug
 *   mode, which stops it with a message at event_assign().
 * Run it:   make lesson-20     (every mistake: the bug, then the fix)
 *           build/bin/20-event2-06-add-twice-bug
 * Look for: "still running after 300 ms ... killed" for the first child;
 *   debug mode's "called on an already added event" for the second;
 *   "reminders: 1 of 2".
 */
#include "event2.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct timeval ten_ms = { 0, 10 * 1000 }, twenty_ms = { 0, 20 * 1000 };
enum { CHILD_WAIT_MS = 300 };
static int reminders;

static void on_remind(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    (void)fd;
    probe_callback(self, what);
    trace_note("reminder %d", ++reminders);
    probe_after(self);
}

/* libevent's messages, addresses made "0x..." (a trace holds none). */
static void on_log(int severity, const char *message)
{
    char text[256];
    size_t n = 0;
    for (const char *c = message; *c != '\0' && n < sizeof text - 5; c++) {
        text[n++] = *c;
        if (c[0] == '0' && c[1] == 'x' && strspn(c + 2, "0123456789abcdef") >= 4) {
            memcpy(text + n, "x...", 4);
            n += 4;
            c += 1 + strspn(c + 2, "0123456789abcdef");
        }
    }
    text[n] = '\0';
    trace_style("libevent %s: %s", severity == EVENT_LOG_ERR ? "err" : "says", text);
}

/* The child's timer: if this ever runs, the child says so and ends. */
static void on_child_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    trace_note("the child's callback ran");
    _exit(0);
}

/* In a child: a timer, added, set up again while added, added, and the
   loop. */
static void set_up_again(void)
{
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    struct event *timer = evtimer_new(base, on_child_timer, NULL);
    if (timer == NULL || evtimer_add(timer, &ten_ms) != 0)
        die("evtimer_new, evtimer_add");
    /* doc: bug-again */
    /* The mistake: set up again while it is added, then added. */
    if (event_assign(timer, base, -1, 0, on_child_timer, NULL) != 0)
        die("event_assign");
    if (evtimer_add(timer, &ten_ms) != 0)
        die("evtimer_add");
    /* doc: end */
    event_base_dispatch(base); /* does not return */
}

/* Fork, run set_up_again() in the child, wait for it at most
   CHILD_WAIT_MS, and say how it ended. */
static int run_child(bool debug)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die_errno("fork");
    if (pid == 0) {
        if (debug)
            event_enable_debug_mode();
        set_up_again();
        _exit(0);
    }
    int status = 0;
    pid_t ended = 0;
    for (int waited = 0; ended == 0 && waited < CHILD_WAIT_MS; waited++) {
        if ((ended = waitpid(pid, &status, WNOHANG)) < 0)
            die_errno("waitpid");
        if (ended == 0)
            usleep(1000);
    }
    if (ended == 0) { /* it does not end by itself: a bounded wait */
        if (kill(pid, SIGKILL) != 0 || waitpid(pid, &status, 0) != pid)
            die_errno("kill, waitpid");
        return -1;
    }
    return status;
}

int main(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    /* The children first: debug mode must come before any base. */
    trace("child", "forked", "case=set-up-again");
    int status = run_child(false);
    trace("child", "ended", "case=set-up-again");
    if (status == -1)
        trace_note("still running after %d ms, its callback not run: killed", CHILD_WAIT_MS);
    else
        trace_note("ended by itself, status %d", status);
    event_set_log_callback(on_log);
    trace_style("the same in debug mode");
    status = run_child(true);
    if (status != -1 && WIFSIGNALED(status))
        trace_style("the child was killed by %s", WTERMSIG(status) == SIGABRT ? "SIGABRT" : "a signal");
    else
        trace_style("the child was not stopped by debug mode");

    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    /* doc: bug */
    trace_note("two reminders, one event");
    struct event *remind = evtimer_new(base, on_remind, event_self_cbarg());
    if (remind == NULL)
        die("evtimer_new");
    probe_watch(remind, "remind");
    if (evtimer_add(remind, &ten_ms) != 0)
        die("evtimer_add");
    probe_added(remind, &ten_ms);
    /* The mistake: it is pending already, and this only moves it. */
    if (evtimer_add(remind, &twenty_ms) != 0)
        die("evtimer_add");
    probe_added(remind, &twenty_ms);
    /* doc: end */
    trace("loop", "dispatch", NULL);
    int result = event_base_dispatch(base);
    trace("loop", "returned", "result=%d", result);
    trace_note("reminders: %d of 2", reminders);
    probe_free(remind);
    event_free(remind);
    event_base_free(base);
    return 0;
}
