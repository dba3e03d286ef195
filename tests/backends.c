/*
 * backends.c - the backends suite: how an event_base gets its backend and
 * what the backends do differently (lesson 15), against the real libevent
 * (2.1.12 on Debian 12: epoll, poll and select). Lessons cite these tests
 * as `backends/<test name>`.
 *
 * Each test runs in its own process (Check's fork mode), so a test may set
 * EVENT_* variables, raise its descriptor limit or install a log callback
 * without touching the next one. What could kill the process (select with
 * descriptor 1024, event_init() with no backend left) runs in a child the
 * test forks, which reports through its exit status and a pipe. Nothing
 * here depends on timing: one loop pass is EVLOOP_ONCE|EVLOOP_NONBLOCK on
 * descriptors that are ready before it starts.
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include <event2/event.h>
#include <event2/event_compat.h> /* event_init(), event_get_method(): the 1.x way */
#include <event2/thread.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- Making bases ---------------------------------------------------------- */

/* A base from a configuration that avoids the methods in avoid (a
   space-separated list, or NULL), requires features and sets flags. NULL
   when libevent cannot make one. */
static struct event_base *base_with(const char *avoid, int features, int flags)
{
    struct event_config *cfg = event_config_new();
    ck_assert_ptr_nonnull(cfg);
    char *names = strdup(avoid != NULL ? avoid : "");
    for (char *m = strtok(names, " "); m != NULL; m = strtok(NULL, " "))
        ck_assert_int_eq(event_config_avoid_method(cfg, m), 0);
    free(names);
    if (features != 0)
        ck_assert_int_eq(event_config_require_features(cfg, features), 0);
    if (flags != 0)
        ck_assert_int_eq(event_config_set_flag(cfg, flags), 0);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

/* A base on method alone (every other supported method avoided). */
static struct event_base *base_on(const char *method)
{
    char avoid[128] = "";
    const char **methods = event_get_supported_methods();
    ck_assert_ptr_nonnull(methods);
    for (size_t i = 0; methods[i] != NULL; i++)
        if (strcmp(methods[i], method) != 0)
            snprintf(avoid + strlen(avoid), sizeof avoid - strlen(avoid), "%s ", methods[i]);
    struct event_base *base = base_with(avoid, 0, 0);
    ck_assert_msg(base != NULL, "no base on %s", method);
    ck_assert_str_eq(event_base_get_method(base), method);
    return base;
}

/* The method of a base made as base_with() says, then freed; "none" when
   there is no base. */
static const char *method_of(const char *avoid, int features, int flags)
{
    static char method[32];
    struct event_base *base = base_with(avoid, features, flags);
    if (base == NULL)
        return "none";
    snprintf(method, sizeof method, "%s", event_base_get_method(base));
    event_base_free(base);
    return method;
}

static const char *default_method(void)
{
    static char method[32];
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    snprintf(method, sizeof method, "%s", event_base_get_method(base));
    event_base_free(base);
    return method;
}

static char logged[1024];

static void log_to_buffer(int severity, const char *msg)
{
    snprintf(logged + strlen(logged), sizeof logged - strlen(logged), "%d:%s\n", severity, msg);
}

/* libevent's warnings, where a test provokes them on purpose, are not
   shown. */
static void discard_log(int severity, const char *msg)
{
    (void)severity;
    (void)msg;
}

static void quiet(void)
{
    event_set_log_callback(discard_log);
}

/* --- Counting callbacks ---------------------------------------------------- */

static int calls;
static short last_what;

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)arg;
    calls++;
    last_what = what;
}

/* Add a read event on fd (with extra flags) to base: event_add()'s result.
   *ev is the event, to free. */
static int add_reader(struct event_base *base, int fd, short extra, struct event **ev)
{
    *ev = event_new(base, fd, EV_READ | extra, on_ready, NULL);
    ck_assert_ptr_nonnull(*ev);
    return event_add(*ev, NULL);
}

/* One loop pass that does not wait. */
static void one_pass(struct event_base *base)
{
    ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), -1);
}

/* A regular file with a few bytes in it (unlinked: gone when closed). */
static int regular_file(void)
{
    char *dir = make_temp_dir(), *path;
    if (asprintf(&path, "%s/file", dir) < 0)
        abort();
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "hello\n", 6), 6);
    unlink(path);
    remove_tree(dir);
    free(path);
    free(dir);
    return fd;
}

/* --- What this system offers and what a default base takes ------------------ */

START_TEST(supported_methods_are_epoll_poll_select)
{
    const char **methods = event_get_supported_methods();
    ck_assert_ptr_nonnull(methods);
    char list[128] = "";
    for (size_t i = 0; methods[i] != NULL; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " " : "", methods[i]);
    ck_assert_str_eq(list, "epoll poll select");
}
END_TEST

/* Lesson 15, choose: libevent tries its methods in the order
   event_get_supported_methods() lists them and takes the first one not
   ruled out whose setup succeeds. event_init() (1.x) does the same. */
START_TEST(default_base_takes_the_first_supported_method)
{
    const char **methods = event_get_supported_methods();
    ck_assert_ptr_nonnull(methods);
    char first[32];
    snprintf(first, sizeof first, "%s", methods[0]);
    ck_assert_str_eq(default_method(), first);
    ck_assert_str_eq(first, "epoll");

    struct event_base *base = event_init();
    ck_assert_ptr_nonnull(base);
    ck_assert_str_eq(event_get_method(), first);
    event_base_free(base);
}
END_TEST

START_TEST(features_of_each_backend)
{
    static const struct {
        const char *method;
        int features;
    } want[] = {
        { "epoll", EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE },
        { "poll", EV_FEATURE_FDS | EV_FEATURE_EARLY_CLOSE },
        { "select", EV_FEATURE_FDS },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct event_base *base = base_on(want[i].method);
        ck_assert_msg(event_base_get_features(base) == want[i].features, "%s: features 0x%x",
                      want[i].method, event_base_get_features(base));
        event_base_free(base);
    }
}
END_TEST

/* The array event_get_supported_methods() returns is allocated on each
   call and freed by the next one: a pointer kept from an earlier call
   dangles. event.h and the book do not say so. */
static void *freed[64];
static size_t nfreed;

static void recording_free(void *p)
{
    if (nfreed < sizeof freed / sizeof freed[0])
        freed[nfreed++] = p;
    free(p);
}

START_TEST(supported_methods_array_is_freed_by_the_next_call)
{
    event_set_mem_functions(malloc, realloc, recording_free);
    const char **first = event_get_supported_methods();
    ck_assert_ptr_nonnull(first);
    const void *first_address = first; /* only compared from here on */
    nfreed = 0;
    const char **second = event_get_supported_methods();
    ck_assert_ptr_nonnull(second);
    bool first_freed = false;
    for (size_t i = 0; i < nfreed; i++)
        first_freed = first_freed || freed[i] == first_address;
    ck_assert_msg(first_freed, "the first call's array was not freed by the second");
    ck_assert_ptr_ne(second, first_address);
}
END_TEST

/* --- Choosing and avoiding ------------------------------------------------- */

START_TEST(avoiding_a_method_takes_the_next_in_order)
{
    ck_assert_str_eq(method_of("epoll", 0, 0), "poll");
    ck_assert_str_eq(method_of("epoll poll", 0, 0), "select");
    ck_assert_str_eq(method_of("poll", 0, 0), "epoll");
}
END_TEST

START_TEST(avoiding_every_method_gives_no_base)
{
    quiet();
    ck_assert_str_eq(method_of("epoll poll select", 0, 0), "none");
}
END_TEST

/* A misspelt name is accepted (0) and avoids nothing. */
START_TEST(avoiding_an_unknown_name_is_accepted_and_ignored)
{
    struct event_config *cfg = event_config_new();
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(event_config_avoid_method(cfg, "epol"), 0);
    ck_assert_int_eq(event_config_avoid_method(cfg, "kqueue"), 0);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    ck_assert_ptr_nonnull(base);
    ck_assert_str_eq(event_base_get_method(base), "epoll");
    event_base_free(base);
}
END_TEST

START_TEST(requiring_fds_skips_epoll)
{
    ck_assert_str_eq(method_of(NULL, EV_FEATURE_FDS, 0), "poll");
    ck_assert_str_eq(method_of("poll", EV_FEATURE_FDS, 0), "select");
    ck_assert_str_eq(method_of(NULL, EV_FEATURE_ET, 0), "epoll");
}
END_TEST

/* No backend here has both ET (or O1) and FDS; with epoll avoided nothing
   has ET or O1. FDS with epoll avoided is poll, not "no base". */
START_TEST(requiring_what_no_backend_has_gives_no_base)
{
    quiet();
    ck_assert_str_eq(method_of(NULL, EV_FEATURE_ET | EV_FEATURE_FDS, 0), "none");
    ck_assert_str_eq(method_of(NULL, EV_FEATURE_O1 | EV_FEATURE_FDS, 0), "none");
    ck_assert_str_eq(method_of("epoll", EV_FEATURE_ET, 0), "none");
    ck_assert_str_eq(method_of("epoll", EV_FEATURE_O1, 0), "none");
    ck_assert_str_eq(method_of("epoll", EV_FEATURE_FDS, 0), "poll");
}
END_TEST

/* --- What a backend without a feature does ----------------------------------- */

/* EV_FEATURE_FDS is not "sockets only" against "any descriptor": epoll
   watches pipes; what it refuses is a regular file (and /dev/null), which
   epoll_ctl() rejects with EPERM. event_add() returns -1. */
START_TEST(epoll_watches_a_pipe_but_not_a_regular_file)
{
    event_set_log_callback(log_to_buffer);
    logged[0] = '\0';
    struct event_base *base = base_on("epoll");
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    struct event *ev;
    ck_assert_int_eq(add_reader(base, fds[0], 0, &ev), 0);
    event_free(ev);

    int file = regular_file();
    ck_assert_int_eq(add_reader(base, file, 0, &ev), -1);
    ck_assert_int_eq(event_pending(ev, EV_READ, NULL), 0);
    ck_assert_msg(strstr(logged, "Operation not permitted") != NULL, "logged: %s", logged);
    event_free(ev);
    int devnull = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(devnull, 0);
    ck_assert_int_eq(add_reader(base, devnull, 0, &ev), -1);
    event_free(ev);
    event_base_free(base);
    close(devnull);
    close(file);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* A regular file is always readable to poll() and select(). */
START_TEST(poll_and_select_watch_a_regular_file)
{
    const char *methods[] = { "poll", "select" };
    for (size_t i = 0; i < 2; i++) {
        struct event_base *base = base_on(methods[i]);
        int file = regular_file();
        struct event *ev;
        calls = 0;
        ck_assert_int_eq(add_reader(base, file, 0, &ev), 0);
        one_pass(base);
        ck_assert_msg(calls == 1, "%s: %d callbacks", methods[i], calls);
        event_free(ev);
        event_base_free(base);
        close(file);
    }
}
END_TEST

/* EV_ET on a backend without EV_FEATURE_ET is accepted and ignored: a byte
   left unread runs a persistent reader's callback on every pass. */
static int et_calls(const char *method)
{
    struct event_base *base = base_on(method);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1); /* never read */
    struct event *ev;
    calls = 0;
    ck_assert_int_eq(add_reader(base, fds[0], EV_ET | EV_PERSIST, &ev), 0);
    for (int pass = 0; pass < 3; pass++)
        one_pass(base);
    event_free(ev);
    event_base_free(base);
    close(fds[0]);
    close(fds[1]);
    return calls;
}

START_TEST(et_without_the_feature_is_level_triggered)
{
    ck_assert_int_eq(et_calls("epoll"), 1);
    ck_assert_int_eq(et_calls("poll"), 3);
    ck_assert_int_eq(et_calls("select"), 3);
}
END_TEST

/* EV_ET shows in the callback's what only where it is honoured: on epoll
   an EV_READ|EV_ET event runs with what=EV_READ|EV_ET, on poll and select
   with what=EV_READ. */
START_TEST(et_shows_in_what_only_where_it_is_honoured)
{
    const char *methods[] = { "epoll", "poll", "select" };
    const short want[] = { EV_READ | EV_ET, EV_READ, EV_READ };
    for (size_t i = 0; i < 3; i++) {
        struct event_base *base = base_on(methods[i]);
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        ck_assert_int_eq(write(fds[1], "x", 1), 1);
        struct event *ev;
        calls = 0;
        ck_assert_int_eq(add_reader(base, fds[0], EV_ET, &ev), 0);
        one_pass(base);
        ck_assert_int_eq(calls, 1);
        ck_assert_msg(last_what == want[i], "%s: what=0x%x", methods[i], last_what);
        event_free(ev);
        event_base_free(base);
        close(fds[0]);
        close(fds[1]);
    }
}
END_TEST

/* poll and select start each scan of their descriptors at a random place,
   so two events that are ready together run in either order: a lesson
   whose order must not depend on the backend has one thing ready at a
   time. (epoll reports in the order the kernel queued them.) */
static char order[8];

static void on_named(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    strncat(order, arg, sizeof order - strlen(order) - 1);
}

START_TEST(poll_and_select_run_events_ready_together_in_either_order)
{
    const char *methods[] = { "poll", "select" };
    for (size_t m = 0; m < 2; m++) {
        bool ab = false, ba = false;
        for (int round = 0; round < 200 && !(ab && ba); round++) {
            struct event_base *base = base_on(methods[m]);
            int a[2], b[2];
            ck_assert_int_eq(pipe(a), 0);
            ck_assert_int_eq(pipe(b), 0);
            ck_assert_int_eq(write(a[1], "x", 1), 1);
            ck_assert_int_eq(write(b[1], "x", 1), 1);
            struct event *ea = event_new(base, a[0], EV_READ, on_named, "a");
            struct event *eb = event_new(base, b[0], EV_READ, on_named, "b");
            ck_assert(ea != NULL && eb != NULL);
            ck_assert_int_eq(event_add(ea, NULL), 0);
            ck_assert_int_eq(event_add(eb, NULL), 0);
            order[0] = '\0';
            one_pass(base);
            ab = ab || strcmp(order, "ab") == 0;
            ba = ba || strcmp(order, "ba") == 0;
            event_free(ea);
            event_free(eb);
            event_base_free(base);
            close(a[0]);
            close(a[1]);
            close(b[0]);
            close(b[1]);
        }
        ck_assert_msg(ab && ba, "%s: always %s", methods[m], ab ? "ab" : "ba");
    }
}
END_TEST

/* --- The environment ------------------------------------------------------ */

/* EVENT_NO<METHOD> rules a method out for event_init() (1.x), for
   event_base_new() and for a configured base alike. */
START_TEST(event_no_variables_rule_backends_out)
{
    ck_assert_int_eq(setenv("EVENT_NOEPOLL", "1", 1), 0);
    ck_assert_str_eq(default_method(), "poll");
    ck_assert_str_eq(method_of(NULL, 0, 0), "poll");
    struct event_base *base = event_init();
    ck_assert_ptr_nonnull(base);
    ck_assert_str_eq(event_get_method(), "poll");
    event_base_free(base);
    ck_assert_int_eq(setenv("EVENT_NOPOLL", "1", 1), 0);
    ck_assert_str_eq(default_method(), "select");
}
END_TEST

/* libevent asks only whether the variable is set. */
START_TEST(event_no_variable_counts_whatever_its_value)
{
    const char *values[] = { "1", "0", "", "no" };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        ck_assert_int_eq(setenv("EVENT_NOEPOLL", values[i], 1), 0);
        ck_assert_msg(strcmp(default_method(), "poll") == 0, "EVENT_NOEPOLL=\"%s\": %s",
                      values[i], default_method());
    }
}
END_TEST

START_TEST(ignore_env_flag_ignores_event_no_variables)
{
    ck_assert_int_eq(setenv("EVENT_NOEPOLL", "1", 1), 0);
    ck_assert_str_eq(method_of(NULL, 0, EVENT_BASE_FLAG_IGNORE_ENV), "epoll");
    ck_assert_str_eq(method_of(NULL, 0, 0), "poll");
}
END_TEST

/* EVENT_SHOW_METHOD makes every new base log its method, at EVENT_LOG_MSG. */
START_TEST(show_method_logs_the_backend)
{
    event_set_log_callback(log_to_buffer);
    logged[0] = '\0';
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    event_base_free(base);
    ck_assert_str_eq(logged, "");
    ck_assert_int_eq(setenv("EVENT_SHOW_METHOD", "1", 1), 0);
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    event_base_free(base);
    char want[64];
    snprintf(want, sizeof want, "%d:libevent using: epoll\n", EVENT_LOG_MSG);
    ck_assert_str_eq(logged, want);
}
END_TEST

/* event.h: IGNORE_ENV means "Do not check the EVENT_* environment
   variables when configuring an event_base". EVENT_SHOW_METHOD is still
   checked. */
START_TEST(ignore_env_does_not_ignore_show_method)
{
    event_set_log_callback(log_to_buffer);
    logged[0] = '\0';
    ck_assert_int_eq(setenv("EVENT_SHOW_METHOD", "1", 1), 0);
    ck_assert_str_eq(method_of(NULL, 0, EVENT_BASE_FLAG_IGNORE_ENV), "epoll");
    char want[64];
    snprintf(want, sizeof want, "%d:libevent using: epoll\n", EVENT_LOG_MSG);
    ck_assert_str_eq(logged, want);
}
END_TEST

/* --- Running what may end the process in a child ---------------------------- */

struct ending {
    int status;    /* exit status, or 128 + signal number */
    char out[512]; /* what it wrote on its stdout (a pipe) */
    char err[512]; /* and on its stderr */
};

static void read_all(int fd, char *buf, size_t size)
{
    size_t len = 0;
    char chunk[512];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0) {
            ck_assert_int_eq(errno, EINTR);
            continue;
        }
        for (ssize_t i = 0; i < n && len < size - 1; i++)
            buf[len++] = chunk[i];
    }
    buf[len] = '\0';
}

/* Run action in a child process, its stdout and stderr into pipes. Check
   assertions belong to the test's process: the child reports only through
   its status and what it writes. */
static void in_child(void (*action)(void), struct ending *end)
{
    int out[2], err[2];
    ck_assert_int_eq(pipe(out), 0);
    ck_assert_int_eq(pipe(err), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)
            _exit(120);
        close(out[0]);
        close(err[0]);
        action();
        _exit(0);
    }
    close(out[1]);
    close(err[1]);
    /* stdout first, then stderr: the child writes little to either, far
       less than a pipe holds, so it never blocks on the one not read yet. */
    read_all(out[0], end->out, sizeof end->out);
    read_all(err[0], end->err, sizeof end->err);
    close(out[0]);
    close(err[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    end->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void rule_out_everything(void)
{
    if (setenv("EVENT_NOEPOLL", "1", 1) != 0 || setenv("EVENT_NOPOLL", "1", 1) != 0 ||
        setenv("EVENT_NOSELECT", "1", 1) != 0)
        _exit(121);
}

static void event_init_with_nothing_left(void)
{
    rule_out_everything();
    struct event_base *base = event_init(); /* does not return */
    printf("event_init returned %s\n", base == NULL ? "NULL" : "a base");
    fflush(stdout);
}

/* 1.x had no way to learn that no backend is left: event_init() logs why
   and calls exit(1). */
START_TEST(event_init_exits_when_no_backend_is_left)
{
    struct ending end;
    in_child(event_init_with_nothing_left, &end);
    ck_assert_int_eq(end.status, 1);
    ck_assert_str_eq(end.out, "");
    ck_assert_str_eq(end.err, "[warn] event_base_new_with_config: no event mechanism available\n"
                              "[err] event_init: Unable to construct event_base\n");
}
END_TEST

static void event_base_new_with_nothing_left(void)
{
    rule_out_everything();
    struct event_base *base = event_base_new();
    printf("event_base_new returned %s\n", base == NULL ? "NULL" : "a base");
    fflush(stdout);
}

START_TEST(event_base_new_returns_null_when_no_backend_is_left)
{
    struct ending end;
    in_child(event_base_new_with_nothing_left, &end);
    ck_assert_int_eq(end.status, 0);
    ck_assert_str_eq(end.out, "event_base_new returned NULL\n");
    ck_assert_str_eq(end.err, "[warn] event_base_new_with_config: no event mechanism available\n");
}
END_TEST

/* --- Descriptors 1024 and up ------------------------------------------------ */

/* Raise the soft limit on descriptors above number (false if the hard
   limit does not allow it). */
static bool allow_descriptor(int number)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return false;
    if (limit.rlim_cur > (rlim_t)number)
        return true;
    if (limit.rlim_max <= (rlim_t)number)
        return false;
    limit.rlim_cur = (rlim_t)number + 1;
    return setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

/* A pipe holding one byte, its read end moved to descriptor number;
   returns the write end. */
static int readable_descriptor(int number)
{
    ck_assert_msg(allow_descriptor(number), "cannot raise RLIMIT_NOFILE above %d", number);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert_int_eq(dup2(fds[0], number), number);
    close(fds[0]);
    return fds[1];
}

/* Does a base on method run a read callback for descriptor number? */
static bool watches_descriptor(const char *method, int number)
{
    int writer = readable_descriptor(number);
    struct event_base *base = base_on(method);
    struct event *ev;
    calls = 0;
    ck_assert_int_eq(add_reader(base, number, 0, &ev), 0);
    one_pass(base);
    event_free(ev);
    event_base_free(base);
    close(number);
    close(writer);
    return calls == 1;
}

START_TEST(select_watches_descriptor_1023)
{
    ck_assert(watches_descriptor("select", 1023));
}
END_TEST

START_TEST(poll_and_epoll_watch_descriptor_1024)
{
    ck_assert(watches_descriptor("poll", 1024));
    ck_assert(watches_descriptor("epoll", 1024));
    ck_assert(watches_descriptor("poll", 4096));
    ck_assert(watches_descriptor("epoll", 4096));
}
END_TEST

/* In the child: say where it got to on stdout, one line per step. */
static void select_with_descriptor_1024(void)
{
    if (!allow_descriptor(1024)) {
        puts("no descriptor 1024 here");
        _exit(122);
    }
    int fds[2];
    if (pipe(fds) != 0 || write(fds[1], "x", 1) != 1 || dup2(fds[0], 1024) != 1024)
        _exit(123);
    struct event_config *cfg = event_config_new();
    if (cfg == NULL || event_config_avoid_method(cfg, "epoll") != 0 ||
        event_config_avoid_method(cfg, "poll") != 0)
        _exit(124);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (base == NULL || strcmp(event_base_get_method(base), "select") != 0)
        _exit(125);
    struct event *ev = event_new(base, 1024, EV_READ, on_ready, NULL);
    if (ev == NULL)
        _exit(126);
    printf("event_add\n");
    fflush(stdout);
    int added = event_add(ev, NULL);
    printf("event_add returned %d\n", added);
    fflush(stdout);
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    printf("callbacks %d\n", calls);
    fflush(stdout);
    event_free(ev);
    event_base_free(base);
}

/* libevent's select backend grows its fd_sets past FD_SETSIZE, but this
   libevent is built with _FORTIFY_SOURCE, and glibc's FD_SET() then checks
   the descriptor against FD_SETSIZE: event_add() itself aborts the
   process, before any select() call. */
START_TEST(select_aborts_in_event_add_for_descriptor_1024)
{
    struct ending end;
    in_child(select_with_descriptor_1024, &end);
    ck_assert_msg(end.status == 128 + SIGABRT, "status %d; stdout: %s", end.status, end.out);
    ck_assert_str_eq(end.out, "event_add\n");
    ck_assert_str_eq(end.err, "*** bit out of range 0 - FD_SETSIZE on fd_set ***: terminated\n");
}
END_TEST

/* --- Flags ----------------------------------------------------------------- */

/* How many of this process's descriptors are anon_inode:[KIND]. */
static int descriptors_of_kind(const char *kind)
{
    char want[64];
    snprintf(want, sizeof want, "anon_inode:[%s]", kind);
    DIR *dir = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char path[300], target[300];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strcmp(target, want) == 0;
        }
    }
    closedir(dir);
    return n;
}

/* With EVENT_BASE_FLAG_PRECISE_TIMER an epoll base times its waits with a
   timerfd (nanoseconds) instead of epoll_wait()'s milliseconds. The book
   and event.h speak only of a more precise clock. */
START_TEST(precise_timer_gives_epoll_a_timerfd)
{
    struct event_base *plain = base_with(NULL, 0, 0);
    ck_assert_ptr_nonnull(plain);
    ck_assert_int_eq(descriptors_of_kind("timerfd"), 0);
    struct event_base *precise = base_with(NULL, 0, EVENT_BASE_FLAG_PRECISE_TIMER);
    ck_assert_ptr_nonnull(precise);
    ck_assert_str_eq(event_base_get_method(precise), "epoll");
    ck_assert_int_eq(descriptors_of_kind("timerfd"), 1);
    event_base_free(precise);
    ck_assert_int_eq(descriptors_of_kind("timerfd"), 0);
    event_base_free(plain);
}
END_TEST

/* The EVENT_PRECISE_TIMER variable does the same for every base that
   reads the environment. */
START_TEST(precise_timer_variable_does_the_same)
{
    ck_assert_int_eq(setenv("EVENT_PRECISE_TIMER", "1", 1), 0);
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    ck_assert_int_eq(descriptors_of_kind("timerfd"), 1);
    event_base_free(base);
    base = base_with(NULL, 0, EVENT_BASE_FLAG_IGNORE_ENV);
    ck_assert_ptr_nonnull(base);
    ck_assert_int_eq(descriptors_of_kind("timerfd"), 0);
    event_base_free(base);
}
END_TEST

static long long usec(const struct timespec *ts)
{
    return (long long)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
}

static long long base_now(struct event_base *base)
{
    struct timeval tv;
    ck_assert_int_eq(event_gettime_monotonic(base, &tv), 0);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* A default base's clock is CLOCK_MONOTONIC_COARSE (it moves in steps of
   clock_getres(), 4 ms here): it never reads later than that clock read
   after it. */
START_TEST(default_clock_is_coarse)
{
    struct timespec res, after;
    ck_assert_int_eq(clock_getres(CLOCK_MONOTONIC_COARSE, &res), 0);
    ck_assert_int_gt(res.tv_nsec, 1000); /* coarser than the microseconds compared */
    struct event_base *base = event_base_new();
    ck_assert_ptr_nonnull(base);
    for (int i = 0; i < 1000; i++) {
        long long now = base_now(base);
        ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC_COARSE, &after), 0);
        ck_assert_int_le(now, usec(&after));
    }
    event_base_free(base);
}
END_TEST

/* With PRECISE_TIMER it is CLOCK_MONOTONIC: never earlier than that clock
   read before it. */
START_TEST(precise_timer_clock_is_monotonic)
{
    struct timespec before;
    struct event_base *base = base_with(NULL, 0, EVENT_BASE_FLAG_PRECISE_TIMER);
    ck_assert_ptr_nonnull(base);
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &before), 0);
        ck_assert_int_ge(base_now(base), usec(&before));
    }
    event_base_free(base);
}
END_TEST

/* Once threads are set up (evthread_use_pthreads()), every base gets a
   lock and an eventfd through which another thread wakes its loop.
   EVENT_BASE_FLAG_NOLOCK gives neither: another thread must not touch that
   base at all. */
START_TEST(nolock_base_has_no_notify_descriptor)
{
    struct event_base *before = event_base_new();
    ck_assert_ptr_nonnull(before);
    ck_assert_int_eq(descriptors_of_kind("eventfd"), 0);
    ck_assert_int_eq(evthread_use_pthreads(), 0);
    struct event_base *locked = event_base_new();
    ck_assert_ptr_nonnull(locked);
    ck_assert_int_eq(descriptors_of_kind("eventfd"), 1);
    struct event_base *nolock = base_with(NULL, 0, EVENT_BASE_FLAG_NOLOCK);
    ck_assert_ptr_nonnull(nolock);
    ck_assert_int_eq(descriptors_of_kind("eventfd"), 1);
    event_base_free(nolock);
    event_base_free(locked);
    event_base_free(before);
}
END_TEST

/* --- The lesson's programs ----------------------------------------------------- */

static char *run_lesson_program(const char *name, const char *const env[], int *status)
{
    char *path;
    if (asprintf(&path, "%s/%s", bin_dir(), name) < 0)
        abort();
    ck_assert_msg(access(path, X_OK) == 0, "%s is not built (make all)", path);
    const char *argv[] = { path, NULL };
    struct run_result r;
    run_program(argv, env, 20000, &r);
    ck_assert_msg(!r.timed_out, "%s did not finish", path);
    *status = r.status;
    free(path);
    free(r.err);
    return r.out;
}

/* The blocks of a compare trace, one per "note backend M" line, with the
   lines that name the backend ("base created method=M", a style's way of
   choosing it) left out. Returns how many blocks; each is malloc'd. */
static size_t backend_blocks(const char *trace, char *blocks[], size_t max, char *methods[])
{
    size_t n = 0;
    char *copy = strdup(trace), *save;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "note     backend ", 17) == 0) {
            ck_assert_uint_lt(n, max);
            methods[n] = strdup(line + 17);
            blocks[n++] = strdup("");
            continue;
        }
        if (n == 0 || strncmp(line, "event1 ", 7) == 0 || strncmp(line, "event2 ", 7) == 0 ||
            strncmp(line, "base     created    method=", 27) == 0)
            continue;
        char *grown;
        if (asprintf(&grown, "%s%s\n", blocks[n - 1], line) < 0)
            abort();
        free(blocks[n - 1]);
        blocks[n - 1] = grown;
    }
    free(copy);
    return n;
}

/* Lesson 15, compare: on every backend the scenario's trace is the same
   line for line, but for the line naming the backend. */
START_TEST(compare_traces_are_the_same_on_every_backend)
{
    const char *programs[] = { "15-event1-compare", "15-event2-compare" };
    for (size_t p = 0; p < 2; p++) {
        int status;
        char *out = run_lesson_program(programs[p], NULL, &status);
        ck_assert_int_eq(status, 0);
        char *blocks[4], *methods[4];
        size_t n = backend_blocks(out, blocks, 4, methods);
        ck_assert_uint_eq(n, 3);
        const char *want[] = { "epoll", "poll", "select" };
        for (size_t i = 0; i < n; i++) {
            char created[64];
            snprintf(created, sizeof created, "base     created    method=%s\n", want[i]);
            ck_assert_str_eq(methods[i], want[i]);
            ck_assert_msg(strstr(out, created) != NULL, "%s: no %s", programs[p], created);
            ck_assert_msg(strstr(blocks[i], "usr1     after      non-pending\n") != NULL,
                          "%s: the scenario did not finish on %s", programs[p], want[i]);
            ck_assert_msg(strcmp(blocks[i], blocks[0]) == 0, "%s: %s differs from %s:\n%s",
                          programs[p], want[i], want[0], blocks[i]);
        }
        for (size_t i = 0; i < n; i++) {
            free(blocks[i]);
            free(methods[i]);
        }
        free(out);
    }
}
END_TEST

/* On a system without one of the backends (simulated here with
   EVENT_NOEPOLL), the compare programs say so in its block and go on. */
START_TEST(compare_without_epoll_says_so)
{
    const char *env[] = { "EVENT_NOEPOLL=1", NULL };
    const char *programs[] = { "15-event1-compare", "15-event2-compare" };
    const char *says[] = { "event1   the child exited with status 1\n",
                           "event2   event_base_new_with_config() returned NULL\n" };
    for (size_t p = 0; p < 2; p++) {
        int status;
        char *out = run_lesson_program(programs[p], env, &status);
        ck_assert_int_eq(status, 0);
        char *blocks[4], *methods[4];
        ck_assert_uint_eq(backend_blocks(out, blocks, 4, methods), 3);
        ck_assert_str_eq(blocks[0], ""); /* nothing ran on epoll */
        ck_assert_str_eq(blocks[1], blocks[2]);
        ck_assert_msg(strstr(out, says[p]) != NULL, "%s:\n%s", programs[p], out);
        ck_assert_ptr_null(strstr(out, "method=epoll"));
        for (size_t i = 0; i < 3; i++) {
            free(blocks[i]);
            free(methods[i]);
        }
        free(out);
    }
}
END_TEST

/* Where the hard limit keeps descriptor 1024 out of reach, the fd1024
   programs say so instead of pretending. */
START_TEST(fd1024_programs_say_when_the_limit_is_too_low)
{
    const char *programs[] = { "15-event1-fd1024", "15-event2-fd1024" };
    for (size_t p = 0; p < 2; p++) {
        char *path;
        if (asprintf(&path, "%s/%s", bin_dir(), programs[p]) < 0)
            abort();
        const char *argv[] = { "prlimit", "--nofile=1024:1024", path, NULL };
        struct run_result r;
        run_program(argv, NULL, 20000, &r);
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(strstr(r.out, "note     the child said: the hard limit on open "
                                    "descriptors is 1024: no descriptor 1024 here\n") != NULL,
                      "%s:\n%s", programs[p], r.out);
        ck_assert_ptr_null(strstr(r.out, "SIGABRT"));
        run_result_free(&r);
        free(path);
    }
}
END_TEST

/* Under valgrind with a soft limit of 1024 (Debian's default for a login),
   valgrind caps the limit of the program it runs at 1024, soft and hard.
   The fd1024 programs' children run the program again, and what valgrind
   starts that way it does not follow: their trace is the expected one. */
#if !BUILT_WITH_ASAN
START_TEST(fd1024_programs_trace_the_same_under_valgrind_at_1024)
{
    const char *styles[] = { "event1", "event2" };
    char *expected = read_file("lessons/15-backends/expected-fd1024.trace");
    ck_assert_ptr_nonnull(expected);
    for (size_t p = 0; p < 2; p++) {
        char *path;
        if (asprintf(&path, "%s/15-%s-fd1024", bin_dir(), styles[p]) < 0)
            abort();
        const char *argv[] = { "prlimit", "--nofile=1024:", "valgrind", "--quiet",
                               "--error-exitcode=99", path, NULL };
        struct run_result r;
        run_program(argv, NULL, 120000, &r);
        ck_assert_msg(r.status == 0, "%s: status %d\n%s", path, r.status, r.err);
        char *want = trace_for_style(expected, styles[p]);
        ck_assert_str_eq(r.out, want);
        free(want);
        run_result_free(&r);
        free(path);
    }
    free(expected);
}
END_TEST
#endif

START_TEST(lesson_programs_reject_arguments)
{
    const char *programs[] = { "15-event1-choose", "15-event2-choose", "15-event1-compare",
                               "15-event2-compare", "15-event1-fd1024", "15-event2-fd1024" };
    for (size_t p = 0; p < sizeof programs / sizeof programs[0]; p++) {
        char *path;
        if (asprintf(&path, "%s/%s", bin_dir(), programs[p]) < 0)
            abort();
        const char *argv[] = { path, "--port", "0", NULL };
        struct run_result r;
        run_program(argv, NULL, 20000, &r);
        ck_assert_msg(r.status == 2, "%s: status %d", programs[p], r.status);
        ck_assert_str_eq(r.out, "");
        ck_assert_msg(strstr(r.err, "usage: ") != NULL, "%s: %s", programs[p], r.err);
        run_result_free(&r);
        free(path);
    }
}
END_TEST

Suite *backends_suite(void)
{
    Suite *s = suite_create("backends");

    TCase *choose = tcase_create("choosing");
    tcase_set_timeout(choose, 10);
    tcase_add_test(choose, supported_methods_are_epoll_poll_select);
    tcase_add_test(choose, default_base_takes_the_first_supported_method);
    tcase_add_test(choose, features_of_each_backend);
    tcase_add_test(choose, supported_methods_array_is_freed_by_the_next_call);
    tcase_add_test(choose, avoiding_a_method_takes_the_next_in_order);
    tcase_add_test(choose, avoiding_every_method_gives_no_base);
    tcase_add_test(choose, avoiding_an_unknown_name_is_accepted_and_ignored);
    tcase_add_test(choose, requiring_fds_skips_epoll);
    tcase_add_test(choose, requiring_what_no_backend_has_gives_no_base);
    tcase_add_test(choose, event_init_exits_when_no_backend_is_left);
    tcase_add_test(choose, event_base_new_returns_null_when_no_backend_is_left);
    suite_add_tcase(s, choose);

    TCase *features = tcase_create("features");
    tcase_set_timeout(features, 10);
    tcase_add_test(features, epoll_watches_a_pipe_but_not_a_regular_file);
    tcase_add_test(features, poll_and_select_watch_a_regular_file);
    tcase_add_test(features, et_without_the_feature_is_level_triggered);
    tcase_add_test(features, et_shows_in_what_only_where_it_is_honoured);
    tcase_add_test(features, poll_and_select_run_events_ready_together_in_either_order);
    suite_add_tcase(s, features);

    TCase *env = tcase_create("environment");
    tcase_set_timeout(env, 10);
    tcase_add_test(env, event_no_variables_rule_backends_out);
    tcase_add_test(env, event_no_variable_counts_whatever_its_value);
    tcase_add_test(env, ignore_env_flag_ignores_event_no_variables);
    tcase_add_test(env, show_method_logs_the_backend);
    tcase_add_test(env, ignore_env_does_not_ignore_show_method);
    suite_add_tcase(s, env);

    TCase *fdsetsize = tcase_create("fd1024");
    tcase_set_timeout(fdsetsize, 10);
    tcase_add_test(fdsetsize, select_watches_descriptor_1023);
    tcase_add_test(fdsetsize, poll_and_epoll_watch_descriptor_1024);
    tcase_add_test(fdsetsize, select_aborts_in_event_add_for_descriptor_1024);
    suite_add_tcase(s, fdsetsize);

    TCase *flags = tcase_create("flags");
    tcase_set_timeout(flags, 10);
    tcase_add_test(flags, precise_timer_gives_epoll_a_timerfd);
    tcase_add_test(flags, precise_timer_variable_does_the_same);
    tcase_add_test(flags, default_clock_is_coarse);
    tcase_add_test(flags, precise_timer_clock_is_monotonic);
    tcase_add_test(flags, nolock_base_has_no_notify_descriptor);
    suite_add_tcase(s, flags);

    TCase *programs = tcase_create("programs");
    tcase_set_timeout(programs, 240);
    tcase_add_test(programs, compare_traces_are_the_same_on_every_backend);
    tcase_add_test(programs, compare_without_epoll_says_so);
    tcase_add_test(programs, fd1024_programs_say_when_the_limit_is_too_low);
    /* valgrind cannot run an AddressSanitizer binary: make sanitize leaves this
       check to make test, which runs the plain build under valgrind. */
#if !BUILT_WITH_ASAN
    tcase_add_test(programs, fd1024_programs_trace_the_same_under_valgrind_at_1024);
#endif
    tcase_add_test(programs, lesson_programs_reject_arguments);
    suite_add_tcase(s, programs);
    return s;
}
