/*
 * bench.c - `make bench`: what things cost on this machine, measured side
 * by side in one run so that the figures are ratios (a shared, busy
 * machine moves absolute numbers; ratios measured together hold better).
 * Lesson 21 explains the figures.
 *
 *   bench --build DIR [--quick]
 *
 * 1. backends: one loop iteration on epoll, poll and select, with 1 or
 *    100 of N descriptors readable, N = 100, 1,000, 10,000 (micro.h);
 * 2. event1 against event2: one loop written in each style's calls
 *    (DIR/bench/dispatch-event1 and -event2);
 * 3. timers: 100,000 of one duration, on the heap and a common timeout;
 * 4. echo: every echo server of the course and two of the bench's own
 *    (epoll edge-triggered; a plain bufferevent, with and without
 *    TCP_NODELAY), under 1 and 100 connections of 64 B and 16 KiB
 *    messages (load.h), the server on one CPU and the load on another.
 *
 * Every figure is the median of a few short rounds; the echo rounds go
 * round the servers in turn, so a burst of load elsewhere falls on all of
 * them. The table goes to stdout as it is measured (each line at most 80
 * columns; on a terminal, a progress line on stderr), the figures to CSV
 * files in DIR/bench, and, when gnuplot is installed, a plot to
 * DIR/bench/bench.svg. Every server is stopped by pid with SIGTERM and
 * must exit 0. Exit status: 0, or 1 if anything failed.
 */
#define _GNU_SOURCE
#include "load.h"
#include "micro.h"
#include "proc.h"
#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long and how often: the full run, and QUICK=1's. */
struct plan {
    int backend_rounds, backend_ms;
    int style_runs, style_rounds, style_ms;
    int timer_rounds;
    int echo_rounds, echo_warmup_ms, echo_measure_ms;
};
static const struct plan full = { 7, 40, 3, 5, 40, 3, 5, 100, 200 };
static const struct plan quick = { 1, 10, 1, 1, 10, 1, 1, 20, 50 };

static const char *build;   /* --build DIR */
static char bench_dir[256]; /* DIR/bench: programs, CSVs, the plot */
static bool on_terminal;
static int failures;
static int server_cpu = -1, load_cpu = -1; /* -1: not pinned (one CPU) */

/* --- Output --------------------------------------------------------------- */

/* The progress line, on a terminal only: overwritten, then erased. */
static void progress(const char *format, ...)
{
    if (!on_terminal)
        return;
    va_list args;
    va_start(args, format);
    fputs("\r\033[K  ", stderr);
    vfprintf(stderr, format, args);
    va_end(args);
    fflush(stderr);
}

static void row(const char *format, ...)
{
    if (on_terminal)
        fputs("\r\033[K", stderr);
    va_list args;
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    fflush(stdout);
}

static void failed(const char *format, ...)
{
    failures++;
    va_list args;
    va_start(args, format);
    if (on_terminal)
        fputs("\r\033[K", stderr);
    fputs("bench: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

static FILE *open_csv(const char *name, const char *header)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", bench_dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        failed("cannot write %s: %s", path, strerror(errno));
    else
        fprintf(f, "%s\n", header);
    return f;
}

/* "1,234,567" for a count; "12.3" or "0.45" for a figure. */
static const char *figure(double x, char buffer[32])
{
    if (x < 0)
        snprintf(buffer, 32, "n/a");
    else if (x >= 1000) {
        long long n = (long long)(x + 0.5);
        char digits[32];
        int len = snprintf(digits, sizeof digits, "%lld", n), out = 0;
        for (int i = 0; i < len; i++) {
            if (i > 0 && (len - i) % 3 == 0)
                buffer[out++] = ',';
            buffer[out++] = digits[i];
        }
        buffer[out] = '\0';
    } else if (x >= 100)
        snprintf(buffer, 32, "%.0f", x);
    else if (x >= 10)
        snprintf(buffer, 32, "%.1f", x);
    else
        snprintf(buffer, 32, "%.2f", x);
    return buffer;
}

/* --- The machine ------------------------------------------------------------ */

static void describe_machine(void)
{
    char model[128] = "unknown CPU", line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':') != NULL) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f != NULL)
        fclose(f);
    double load[3] = { 0, 0, 0 };
    getloadavg(load, 3);
    struct utsname u;
    uname(&u);
    row("make bench: libevent %s, Linux %.24s\n", event_get_version(), u.release);
    row("  %ld CPUs (%.40s), load average %.1f\n", sysconf(_SC_NPROCESSORS_ONLN), model, load[0]);
    if (server_cpu >= 0)
        row("  servers on CPU %d, the load and the microbenchmarks on CPU %d\n", server_cpu,
            load_cpu);
    else
        row("  one CPU: servers and load share it (nothing pinned)\n");
}

static void pin_to(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        failed("cannot pin to CPU %d: %s", cpu, strerror(errno));
}

/* The first two CPUs this process may use: servers, then load. */
static void choose_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set)) {
            if (server_cpu < 0)
                server_cpu = cpu;
            else {
                load_cpu = cpu;
                return;
            }
        }
    server_cpu = -1; /* only one */
}

/* --- 1. Backends ------------------------------------------------------------ */

static void bench_backends(const struct plan *p)
{
    static const char *const methods[] = { "epoll", "poll", "select" };
    static const int watched[] = { 100, 1000, 10000 }, actives[] = { 1, 100 };
    enum { NM = 3, NW = 3, NA = 2 };
    double us[NA][NM][NW];
    FILE *csv = open_csv("backends.csv", "method,active,watched,us_per_dispatch,ratio_to_epoll");

    row("\nBackends: one loop iteration, A of N descriptors readable (us; x epoll)\n");
    row("  %-7s %4s  %-16s %-16s %-16s %s\n", "method", "A", "N=100", "N=1,000", "N=10,000",
        "10,000/100");
    for (int a = 0; a < NA; a++)
        for (int m = 0; m < NM; m++) {
            char cells[NW][40];
            for (int w = 0; w < NW; w++) {
                const char *why = NULL;
                progress("backends: %s, %d of %d ...", methods[m], actives[a], watched[w]);
                us[a][m][w] = backend_dispatch_us(methods[m], watched[w], actives[a],
                                                  p->backend_rounds, p->backend_ms, &why);
                if (us[a][m][w] < 0 && strcmp(methods[m], "select") != 0)
                    failed("%s with %d descriptors: %s", methods[m], watched[w], why);
                char f[32];
                double ratio = us[a][m][w] > 0 && us[a][0][w] > 0 ? us[a][m][w] / us[a][0][w] : -1;
                if (us[a][m][w] < 0)
                    snprintf(cells[w], sizeof cells[w], "n/a");
                else if (ratio < 0)
                    snprintf(cells[w], sizeof cells[w], "%s", figure(us[a][m][w], f));
                else
                    snprintf(cells[w], sizeof cells[w], "%s (%.1f)", figure(us[a][m][w], f), ratio);
                if (csv != NULL)
                    fprintf(csv, "%s,%d,%d,%.3f,%.3f\n", methods[m], actives[a], watched[w],
                            us[a][m][w], ratio);
            }
            char growth[32] = "n/a";
            if (us[a][m][0] > 0 && us[a][m][NW - 1] > 0)
                snprintf(growth, sizeof growth, "%.1fx", us[a][m][NW - 1] / us[a][m][0]);
            row("  %-7s %4d  %-16s %-16s %-16s %s\n", methods[m], actives[a], cells[0], cells[1],
                cells[2], growth);
        }
    if (csv != NULL)
        fclose(csv);
}

/* --- 2. event1 against event2 -------------------------------------------- */

/* Run DIR/bench/PROGRAM ROUNDS MS; read "NAME value" lines into values[]
   in the order of names[]. */
static bool run_style(const char *program, const struct plan *p, const char *const names[],
                      double values[])
{
    char path[600], rounds[16], ms[16];
    snprintf(path, sizeof path, "%s/%s", bench_dir, program);
    snprintf(rounds, sizeof rounds, "%d", p->style_rounds);
    snprintf(ms, sizeof ms, "%d", p->style_ms);
    const char *argv[] = { path, rounds, ms, NULL };
    struct run_result r;
    run_program(argv, NULL, 60000, &r);
    bool ok = r.status == 0;
    for (int i = 0; ok && names[i] != NULL; i++) {
        const char *at = strstr(r.out, names[i]);
        ok = at != NULL && sscanf(at + strlen(names[i]), " %lf", &values[i]) == 1;
    }
    if (!ok)
        failed("%s: status %d, %s%s", program, r.status, r.out, r.err);
    run_result_free(&r);
    return ok;
}

static void bench_styles(const struct plan *p)
{
    static const char *const names1[] = { "dispatch_ns", "churn_ns", NULL };
    static const char *const names2[] = { "dispatch_ns", "churn_ns", "churn_new_ns", NULL };
    double e1[8][2], e2[8][3];
    int runs = p->style_runs > 8 ? 8 : p->style_runs;
    for (int r = 0; r < runs; r++) { /* in turn, so that both see the same machine */
        progress("event1 against event2: run %d of %d ...", r + 1, runs);
        if (!run_style("dispatch-event1", p, names1, e1[r]) ||
            !run_style("dispatch-event2", p, names2, e2[r]))
            return;
    }
    double m1[2], m2[3], column[8];
    for (int k = 0; k < 3; k++) {
        for (int r = 0; r < runs; r++)
            column[r] = e2[r][k];
        m2[k] = median(column, runs);
        if (k < 2) {
            for (int r = 0; r < runs; r++)
                column[r] = e1[r][k];
            m1[k] = median(column, runs);
        }
    }
    char a[32], b[32];
    row("\nevent1 against event2: the same loop in each style's calls (ns)\n");
    row("  %-42s %8s %8s %8s\n", "", "event1", "event2", "1 / 2");
    row("  %-42s %8s %8s %8.2f\n", "loop iteration, 1 of 100 ready (EVLOOP_ONCE)", figure(m1[0], a),
        figure(m2[0], b), m1[0] / m2[0]);
    row("  %-42s %8s %8s %8.2f\n", "event_set/event_assign + add + del", figure(m1[1], a),
        figure(m2[1], b), m1[1] / m2[1]);
    row("  %-42s %8s %8s %8s\n", "event_new + add + del + event_free", "-", figure(m2[2], b), "-");
    FILE *csv = open_csv("styles.csv", "measure,event1_ns,event2_ns,ratio");
    if (csv != NULL) {
        fprintf(csv, "dispatch,%.1f,%.1f,%.3f\n", m1[0], m2[0], m1[0] / m2[0]);
        fprintf(csv, "set_add_del,%.1f,%.1f,%.3f\n", m1[1], m2[1], m1[1] / m2[1]);
        fprintf(csv, "new_add_del_free,,%.1f,\n", m2[2]);
        fclose(csv);
    }
}

/* --- 3. Timers --------------------------------------------------------------- */

static void bench_timers(const struct plan *p)
{
    enum { COUNT = 100000 };
    struct timer_costs heap, common;
    progress("timers: 100,000 on the heap ...");
    bool ok = timer_costs(false, COUNT, p->timer_rounds, &heap);
    progress("timers: 100,000 on a common timeout ...");
    ok = ok && timer_costs(true, COUNT, p->timer_rounds, &common);
    if (!ok) {
        failed("timers: a libevent call failed");
        return;
    }
    const char *what[] = { "add (60 s)", "add again while pending (rearm)", "run when due" };
    double h[] = { heap.add_ns, heap.rearm_ns, heap.fire_ns };
    double c[] = { common.add_ns, common.rearm_ns, common.fire_ns };
    const char *key[] = { "add", "rearm", "fire" };
    FILE *csv = open_csv("timers.csv", "operation,heap_ns,common_ns,ratio");
    row("\nTimers: 100,000 of one duration (ns per timer)\n");
    row("  %-34s %8s %8s %12s\n", "", "heap", "common", "heap/common");
    for (int i = 0; i < 3; i++) {
        char a[32], b[32];
        row("  %-34s %8s %8s %12.2f\n", what[i], figure(h[i], a), figure(c[i], b), h[i] / c[i]);
        if (csv != NULL)
            fprintf(csv, "%s,%.1f,%.1f,%.3f\n", key[i], h[i], c[i], h[i] / c[i]);
    }
    if (csv != NULL)
        fclose(csv);
}

/* --- 4. Echo ------------------------------------------------------------------ */

struct echo_server {
    const char *label;     /* at most 26 columns */
    const char *program;   /* under DIR */
    const char *flag, *flag_value;
    enum load_kind kind;
    const char *prefix;    /* LOAD_LINE */
    size_t max_line;       /* LOAD_LINE: longest request it takes */
    struct server s;
    bool running;
    char out[600], err[600];
};

#define ECHO(label_, program_, ...) \
    { .label = label_, .program = program_, .kind = LOAD_ECHO, __VA_ARGS__ }
#define LINES(label_, program_, prefix_, max_line_) \
    { .label = label_, .program = program_, .kind = LOAD_LINE, .prefix = prefix_, \
      .max_line = max_line_ }
static struct echo_server servers[] = {
    ECHO("epoll ET (bench)", "bench/echo-epoll"),
    ECHO("bufferevent (bench)", "bench/echo-bufferevent"),
    ECHO("bufferevent, Nagle (bench)", "bench/echo-bufferevent", .flag = "--nagle"),
    ECHO("lesson 10 event1", "bin/10-event1-server"),
    ECHO("lesson 10 event2", "bin/10-event2-server"),
    LINES("lesson 11 event1 (lines)", "bin/11-event1-server", "", 4096),
    LINES("lesson 11 event2 (lines)", "bin/11-event2-server", "", 4096),
    ECHO("exercise 04", "memcheck/exercises/04-echo-server/event2-server"),
    LINES("exercise 05 (lines)", "memcheck/exercises/05-line-protocol/event2-server", "ECHO ", 64),
    ECHO("exercise 06", "memcheck/exercises/06-idle-timeouts/event2-server", .flag = "--idle-ms",
         .flag_value = "60000"),
};
enum { NSERVERS = sizeof servers / sizeof servers[0], MAX_ROUNDS = 16 };

static void start_servers(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/servers", bench_dir);
    mkdir(dir, 0755);
    pin_to(server_cpu); /* inherited by each server, then undone */
    for (int i = 0; i < NSERVERS; i++) {
        struct echo_server *e = &servers[i];
        char path[600];
        snprintf(path, sizeof path, "%s/%s", build, e->program);
        snprintf(e->out, sizeof e->out, "%s/%d.out", dir, i);
        snprintf(e->err, sizeof e->err, "%s/%d.err", dir, i);
        if (access(path, X_OK) != 0)
            continue; /* its row says "not built" */
        const char *argv[] = { path, "--port", "0", e->flag, e->flag_value, NULL };
        e->running = server_start(&e->s, argv, e->out, e->err, 0, 10000);
        if (!e->running) {
            failed("%s (%s) did not start: see %s", e->label, path, e->err);
            server_kill(&e->s);
        }
    }
    pin_to(load_cpu);
}

static void stop_servers(void)
{
    for (int i = 0; i < NSERVERS; i++) {
        struct echo_server *e = &servers[i];
        if (!e->running)
            continue;
        int status = server_stop(&e->s, SIGTERM, 10000);
        if (status != 0)
            failed("%s exited with status %d on SIGTERM (see %s)", e->label, status, e->err);
    }
}

static void bench_echo(const struct plan *p)
{
    static const struct { int connections; size_t size; const char *title; } configs[] = {
        { 1, 64, "64 B, 1 connection" },
        { 100, 64, "64 B, 100 connections" },
        { 1, 16384, "16 KiB, 1 connection" },
        { 100, 16384, "16 KiB, 100 connections" },
    };
    FILE *csv = open_csv("echo.csv", "server,connections,message_bytes,messages_per_s,"
                                     "ratio_to_epoll,p50_us,p99_us,rounds");
    double plotted[NSERVERS][2]; /* x epoll, 1 connection: 64 B, 16 KiB */
    for (int i = 0; i < NSERVERS; i++)
        plotted[i][0] = plotted[i][1] = -1;
    start_servers();
    int rounds = p->echo_rounds > MAX_ROUNDS ? MAX_ROUNDS : p->echo_rounds;
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        static struct load_result results[NSERVERS][MAX_ROUNDS];
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < NSERVERS; i++) {
                struct echo_server *e = &servers[i];
                struct load_result *res = &results[i][r];
                *res = (struct load_result){ .error = "not built" };
                if (e->kind == LOAD_LINE && configs[k].size > e->max_line + 1)
                    res->error = "request over its line limit";
                if (!e->running || (e->kind == LOAD_LINE && configs[k].size > e->max_line + 1))
                    continue;
                progress("echo, %s: %s, round %d of %d ...", configs[k].title, e->label, r + 1,
                         rounds);
                struct load_spec spec = { e->kind, e->prefix, e->s.port, configs[k].connections,
                                          configs[k].size, p->echo_warmup_ms,
                                          p->echo_measure_ms };
                load_run(&spec, res);
                if (res->error != NULL)
                    failed("%s, %s: %s", e->label, configs[k].title, res->error);
            }
        row("\nEcho, %s: messages a second, round trip (us)\n", configs[k].title);
        row("  %-26s %10s %7s %10s %10s\n", "server", "msg/s", "x epoll", "p50", "p99");
        /* The ratio to epoll is taken in each round, between measurements
           seconds apart, then the median of those: side by side. */
        for (int i = 0; i < NSERVERS; i++) {
            double rate[MAX_ROUNDS], ratio[MAX_ROUNDS], p50[MAX_ROUNDS], p99[MAX_ROUNDS];
            const char *error = NULL;
            for (int r = 0; r < rounds; r++) {
                error = error ? error : results[i][r].error;
                rate[r] = results[i][r].messages_per_s;
                ratio[r] = results[0][r].error ? -1 : rate[r] / results[0][r].messages_per_s;
                p50[r] = results[i][r].p50_us;
                p99[r] = results[i][r].p99_us;
            }
            if (error != NULL) {
                row("  %-26s %s\n", servers[i].label, error);
                continue;
            }
            double m = median(rate, rounds), x = median(ratio, rounds);
            if (configs[k].connections == 1)
                plotted[i][configs[k].size == 64 ? 0 : 1] = x;
            double m50 = median(p50, rounds), m99 = median(p99, rounds);
            char a[32], b[32], c[32];
            row("  %-26s %10s %7.2f %10s %10s\n", servers[i].label, figure(m, a), x,
                figure(m50, b), figure(m99, c));
            if (csv != NULL)
                fprintf(csv, "\"%s\",%d,%zu,%.1f,%.4f,%.1f,%.1f,%d\n", servers[i].label,
                        configs[k].connections, configs[k].size, m, x, m50, m99, rounds);
        }
    }
    stop_servers();
    if (csv != NULL)
        fclose(csv);
    /* For the plot: one row per server, "?" where it has no figure. */
    FILE *dat = open_csv("echo-plot.dat", "server,x_epoll_64,x_epoll_16k");
    for (int i = 0; dat != NULL && i < NSERVERS; i++) {
        fprintf(dat, "\"%s\"", servers[i].label);
        for (int j = 0; j < 2; j++)
            fprintf(dat, plotted[i][j] < 0 ? ",?" : ",%.4f", plotted[i][j]);
        fputc('\n', dat);
    }
    if (dat != NULL)
        fclose(dat);
}

/* --- The plot ------------------------------------------------------------------ */

static void plot(void)
{
    char script[600], setting[700], svg[600];
    snprintf(script, sizeof script, ".ci/bench/bench.gp");
    snprintf(setting, sizeof setting, "dir='%s'", bench_dir);
    snprintf(svg, sizeof svg, "%s/bench.svg", bench_dir);
    const char *which[] = { "sh", "-c", "command -v gnuplot", NULL };
    struct run_result r;
    run_program(which, NULL, 10000, &r);
    bool have = r.status == 0;
    run_result_free(&r);
    if (!have) {
        row("\nno plot: gnuplot is not installed (make deps installs it)\n");
        return;
    }
    const char *argv[] = { "gnuplot", "-e", setting, script, NULL };
    run_program(argv, NULL, 60000, &r);
    if (r.status != 0)
        failed("gnuplot failed: %s", r.err);
    else
        row("\nplot: %s\n", svg);
    run_result_free(&r);
}

int main(int argc, char **argv)
{
    bool is_quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            is_quick = true;
        else if (strcmp(argv[i], "--build") == 0 && i + 1 < argc)
            build = argv[++i];
        else {
            fprintf(stderr, "usage: bench --build DIR [--quick]\n");
            return 2;
        }
    }
    if (build == NULL) {
        fprintf(stderr, "usage: bench --build DIR [--quick]\n");
        return 2;
    }
    const struct plan *p = is_quick ? &quick : &full;
    on_terminal = isatty(STDERR_FILENO);
    snprintf(bench_dir, sizeof bench_dir, "%s/bench", build);
    mkdir(bench_dir, 0755);
    struct rlimit files; /* 10,000 descriptors for the backends */
    if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    long long started = micro_now_ns();

    choose_cpus();
    describe_machine();
    pin_to(load_cpu);
    bench_backends(p);
    bench_styles(p);
    bench_timers(p);
    bench_echo(p);
    plot();

    if (on_terminal)
        fputs("\r\033[K", stderr);
    row("\n%s in %.0f s%s; figures in %s/*.csv\n", failures ? "FAILED" : "done",
        (double)(micro_now_ns() - started) / 1e9, is_quick ? " (QUICK=1)" : "", bench_dir);
    return failures ? 1 : 0;
}
