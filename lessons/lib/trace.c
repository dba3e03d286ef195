/*
 * trace.c - the style-neutral half of the lifecycle trace (see trace.h and
 * docs/trace-format.md). It calls no libevent function: it only needs the
 * EV_* flag values, so the purity check has nothing to say about it.
 */
#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_WATCHED = 32, NAME_MAX_LEN = 15 };

/* Events are named, never shown by address: traces must be identical from
   run to run and between the two styles. */
static struct watched {
    const struct event *ev;
    char name[NAME_MAX_LEN + 1];
} watched[MAX_WATCHED];

static struct watched *find(const struct event *ev)
{
    for (size_t i = 0; i < MAX_WATCHED; i++)
        if (watched[i].ev == ev)
            return &watched[i];
    return NULL;
}

static const char *name_of(const struct event *ev)
{
    struct watched *w = find(ev);
    if (w == NULL) {
        fprintf(stderr, "trace: an event that probe_watch() was never told about\n");
        exit(EXIT_FAILURE);
    }
    return w->name;
}

/* "non-pending", "pending(READ)", "active(READ)" or
   "pending(READ)+active(READ)": one token, no spaces. */
static const char *state_text(const struct probe_state *st, char *buf, size_t size)
{
    char pending[64], result[64];
    trace_flags(st->pending, pending, sizeof pending);
    trace_flags(st->result, result, sizeof result);
    if (st->pending && st->active)
        snprintf(buf, size, "pending(%s)+active(%s)", pending, result);
    else if (st->pending)
        snprintf(buf, size, "pending(%s)", pending);
    else if (st->active)
        snprintf(buf, size, "active(%s)", result);
    else
        snprintf(buf, size, "non-pending");
    return buf;
}

static void vline(const char *subject, const char *step, const char *fmt, va_list ap)
{
    /* Columns are padded for people; parsers split on runs of spaces. */
    if (fmt == NULL || fmt[0] == '\0') {
        printf("%-8s %s\n", subject, step);
    } else {
        printf("%-8s %-10s ", subject, step);
        vprintf(fmt, ap);
        putchar('\n');
    }
    /* Flush every line: a crash, a fork or a kill must not reorder or lose
       what was already traced. */
    fflush(stdout);
}

void trace(const char *subject, const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(subject, step, fmt, ap);
    va_end(ap);
}

static void vfree_line(const char *subject, const char *fmt, va_list ap)
{
    printf("%-8s ", subject);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
}

void trace_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfree_line("note", fmt, ap);
    va_end(ap);
}

void trace_style(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfree_line(probe_style, fmt, ap);
    va_end(ap);
}

static void state_line(struct event *ev, const char *step, const char *extra)
{
    struct probe_state st;
    char state[160];
    probe_observe(ev, &st);
    trace(name_of(ev), step, "%s%s%s", state_text(&st, state, sizeof state),
          extra[0] ? " " : "", extra);
}

void probe_watch(struct event *ev, const char *name)
{
    if (find(ev) != NULL) {
        fprintf(stderr, "trace: %s is already watched\n", name);
        exit(EXIT_FAILURE);
    }
    struct watched *slot = find(NULL);
    if (slot == NULL || strlen(name) > NAME_MAX_LEN) {
        fprintf(stderr, "trace: cannot watch %s (too many events or name too long)\n", name);
        exit(EXIT_FAILURE);
    }
    slot->ev = ev;
    snprintf(slot->name, sizeof slot->name, "%s", name);

    struct probe_state st;
    char events[64], extra[80];
    probe_observe(ev, &st);
    snprintf(extra, sizeof extra, "events=%s", trace_flags(st.events, events, sizeof events));
    state_line(ev, "created", extra);
}

void probe_step(struct event *ev, const char *step)
{
    state_line(ev, step, "");
}

void probe_added(struct event *ev, const struct timeval *timeout)
{
    char extra[64] = "", duration[32];
    if (timeout != NULL)
        snprintf(extra, sizeof extra, "timeout=%s",
                 trace_duration(timeout, duration, sizeof duration));
    state_line(ev, "added", extra);
}

void probe_priority(struct event *ev)
{
    struct probe_state st;
    probe_observe(ev, &st);
    trace(name_of(ev), "priority", "%d", st.priority);
}

void probe_callback(struct event *ev, short what)
{
    char flags[64];
    probe_check_running(ev);
    trace(name_of(ev), "active", "what=%s", trace_flags(what, flags, sizeof flags));
    state_line(ev, "callback", "");
}

void probe_after(struct event *ev)
{
    state_line(ev, "after", "");
}

void probe_free(struct event *ev)
{
    struct watched *w = find(ev);
    state_line(ev, "free", "");
    w->ev = NULL;
}

void probe_unwatched_callback(const char *name, short what)
{
    char flags[64];
    trace(name, "active", "what=%s", trace_flags(what, flags, sizeof flags));
    trace(name, "callback", NULL);
}

void die(const char *what)
{
    /* libevent explains most failures itself, through its log on stderr. */
    fflush(stdout);
    fprintf(stderr, "%s failed\n", what);
    exit(EXIT_FAILURE);
}

void die_errno(const char *what)
{
    int saved = errno;
    fflush(stdout);
    fprintf(stderr, "%s failed: %s\n", what, strerror(saved));
    exit(EXIT_FAILURE);
}
