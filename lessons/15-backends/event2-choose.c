/*
 * Lesson 15, event2 style: how a base gets its backend.
 *
 * What it shows: the backends this libevent offers, best first
 *   (event_get_supported_methods()); the one a default base takes, the
 *   first that is not ruled out; what a backend can do
 *   (event_base_get_features()) and what it means when it cannot: epoll has
 *   no EV_FEATURE_FDS, and event_add() of a regular file fails there. A
 *   base that requires EV_FEATURE_FDS skips epoll and watches the file; a
 *   requirement no backend meets gets no base at all. Last, the EVENT_NO*
 *   variables 1.x programs used still rule backends out in 2.x, unless the
 *   base is made with EVENT_BASE_FLAG_IGNORE_ENV.
 * Run it:   make lesson-15                 (every role, both styles)
 *           build/bin/15-event2-choose     (this program alone)
 * Look for: "base created method=epoll" for the default base and
 *   "event_add() returned -1" for its file; "method=poll" and a callback
 *   for the file once EV_FEATURE_FDS is required; "no base" for
 *   EV_FEATURE_ET|EV_FEATURE_FDS.
 */
#include "event2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "ET|O1|EARLY_CLOSE": a base's EV_FEATURE_* bits. */
static const char *features_text(int features, char *buf, size_t size)
{
    static const struct { int bit; const char *name; } names[] = {
        { EV_FEATURE_ET, "ET" }, { EV_FEATURE_O1, "O1" },
        { EV_FEATURE_FDS, "FDS" }, { EV_FEATURE_EARLY_CLOSE, "EARLY_CLOSE" },
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (features & names[i].bit)
            snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? "|" : "",
                     names[i].name);
    return buf[0] ? buf : "none";
}

static void show_base(struct event_base *base)
{
    char features[64];
    trace("base", "created", "method=%s", event_base_get_method(base));
    trace_style("event_base_get_features(): %s",
                features_text(event_base_get_features(base), features, sizeof features));
}

static void on_file(evutil_socket_t fd, short what, void *arg)
{
    struct event *self = arg;
    char buf[64];
    probe_callback(self, what);
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    if (n < 0)
        die_errno("pread");
    trace_note("the file is readable: %zd bytes", n);
    probe_after(self);
}

/* doc: file */
/* A read event on a regular file, added to base, and one loop pass. */
static void watch_file(struct event_base *base, int file)
{
    struct event *ev = event_new(base, file, EV_READ, on_file, event_self_cbarg());
    if (ev == NULL)
        die("event_new");
    probe_watch(ev, "file");
    if (event_add(ev, NULL) != 0) { /* libevent says why on stderr */
        trace_note("event_add() returned -1: %s cannot watch a regular file",
                   event_base_get_method(base));
        probe_step(ev, "seen");
    } else {
        probe_added(ev, NULL);
        trace("loop", "nonblock", NULL);
        int result = event_base_loop(base, EVLOOP_NONBLOCK);
        trace("loop", "returned", "result=%d", result);
    }
    probe_free(ev);
    event_free(ev);
}
/* doc: end */

static void free_base(struct event_base *base)
{
    event_base_free(base);
    trace("base", "freed", NULL);
}

/* A base made with cfg, which is freed. */
static struct event_base *base_with(struct event_config *cfg)
{
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

static struct event_config *new_config(void)
{
    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        die("event_config_new");
    return cfg;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    FILE *tmp = tmpfile(); /* a regular file, gone when closed */
    if (tmp == NULL || fputs("hello\n", tmp) == EOF || fflush(tmp) != 0)
        die_errno("tmpfile");
    int file = fileno(tmp);

    /* doc: offered */
    trace_note("what this libevent offers, in its order of preference");
    char list[128] = "";
    const char **methods = event_get_supported_methods(); /* read now; never freed */
    if (methods == NULL)
        die("event_get_supported_methods");
    for (size_t i = 0; methods[i] != NULL; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), " %s", methods[i]);
    trace_style("event_get_supported_methods():%s", list);
    /* doc: end */

    /* doc: default */
    trace_note("a default base: the first backend not ruled out that starts");
    trace_style("event_base_new()");
    struct event_base *base = event_base_new();
    if (base == NULL)
        die("event_base_new");
    show_base(base);
    watch_file(base, file);
    free_base(base);
    /* doc: end */

    /* doc: require */
    trace_note("a base that can watch a regular file");
    struct event_config *cfg = new_config();
    if (event_config_require_features(cfg, EV_FEATURE_FDS) != 0)
        die("event_config_require_features");
    trace_style("event_config_require_features(cfg, EV_FEATURE_FDS)");
    if ((base = base_with(cfg)) == NULL)
        die("event_base_new_with_config");
    show_base(base);
    watch_file(base, file);
    free_base(base);
    /* doc: end */

    /* doc: none */
    trace_note("when no backend qualifies");
    cfg = new_config();
    if (event_config_require_features(cfg, EV_FEATURE_ET | EV_FEATURE_FDS) != 0)
        die("event_config_require_features");
    trace_style("event_config_require_features(cfg, EV_FEATURE_ET|EV_FEATURE_FDS)");
    if ((base = base_with(cfg)) != NULL) { /* not on Linux: say so if it ever is */
        show_base(base);
        free_base(base);
    } else {
        trace_style("event_base_new_with_config() returned NULL");
        trace_note("no base");
    }
    /* doc: end */

    /* doc: environment */
    trace_note("EVENT_NOEPOLL set in the environment");
    if (setenv("EVENT_NOEPOLL", "1", 1) != 0)
        die_errno("setenv");
    trace_style("event_base_new()");
    if ((base = event_base_new()) == NULL)
        die("event_base_new");
    trace("base", "created", "method=%s", event_base_get_method(base));
    free_base(base);
    cfg = new_config();
    if (event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV) != 0)
        die("event_config_set_flag");
    if ((base = base_with(cfg)) == NULL)
        die("event_base_new_with_config");
    trace_style("with EVENT_BASE_FLAG_IGNORE_ENV: method=%s", event_base_get_method(base));
    event_base_free(base);
    if (unsetenv("EVENT_NOEPOLL") != 0)
        die_errno("unsetenv");
    /* doc: end */

    fclose(tmp);
    return 0;
}
