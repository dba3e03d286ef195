/*
 * process.c - running the student's program: every run goes through the
 * sandbox, in a fresh scratch copy (subject_*, run_subject*, outcome_* in
 * harness.h).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "proc.h" /* read_file(), remove_tree() */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
    OUTPUT_CAP = 256 * 1024,   /* the sandbox's --out-cap */
    SCRATCH_MB = 32,           /* the sandbox's --tmpfs */
    DEFAULT_TIMEOUT_MS = 5000, /* struct run_options' defaults */
    DEFAULT_MEMORY_MB = 512,
    FINISH_GRACE_MS = 3000,    /* run_subject()'s wait beyond the run's own limit */
    KILLED_READ_MS = 2000,     /* reading what a killed run left in the pipes */
    EXIT_SANDBOX = 125,        /* as the sandbox's own failures */
    CHUNK = 65536,
    NFTW_FDS = 16,             /* directories nftw() may hold open */
};

/* The sandbox's command line: the fixed options, then --hide pairs up to
   HIDE_END, the wrapper up to WRAPPER_END, the program's arguments up to
   ARGS_END (the program itself and the NULL always fit). */
enum { ARGV_MAX = 96, HIDE_END = 60, WRAPPER_END = 80, ARGS_END = 94 };

struct sandbox_command {
    const char *argv[ARGV_MAX];
    size_t n;
    char timeout[32], memory[32], cap[32], tmpfs[32];
    char *status, *program, *hide_list;
};

/* --- Starting ------------------------------------------------------------------ */

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    ck_assert_msg(in >= 0 && out >= 0, "grader error: cannot copy %s: %s", from, strerror(errno));
    char buf[CHUNK];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        ck_assert_msg(write(out, buf, (size_t)n) == n, "grader error: writing %s", to);
    ck_assert_msg(n == 0, "grader error: cannot copy %s: %s", from, strerror(errno));
    close(in);
    close(out);
}

/* A fresh GRADE_SCRATCH/run-XXXXXX (s->run_dir) holding work/PROGRAM, a
   copy of the built program at path; returns work/. */
static char *make_run_dir(struct subject *s, const char *program, const char *path)
{
    char *pattern = harness_join(harness_env("GRADE_SCRATCH"), "run-XXXXXX");
    ck_assert_msg(mkdtemp(pattern) != NULL, "grader error: mkdtemp: %s", strerror(errno));
    s->run_dir = pattern;
    char *work = harness_join(s->run_dir, "work");
    ck_assert_msg(mkdir(work, 0755) == 0, "grader error: mkdir %s", work);
    char *copy = harness_join(work, program);
    copy_file(path, copy);
    free(copy);
    return work;
}

static void push(struct sandbox_command *c, const char *arg)
{
    c->argv[c->n++] = arg;
}

/* sandbox --dir WORK with the run's limits, its verdict in RUN_DIR/status. */
static void add_limits(struct sandbox_command *c, const char *run_dir, const char *work,
                       const struct run_options *options)
{
    snprintf(c->timeout, sizeof c->timeout, "%d",
             options->timeout_ms > 0 ? options->timeout_ms : DEFAULT_TIMEOUT_MS);
    snprintf(c->memory, sizeof c->memory, "%d",
             options->memory_mb > 0 ? options->memory_mb : DEFAULT_MEMORY_MB);
    snprintf(c->cap, sizeof c->cap, "%d", OUTPUT_CAP);
    snprintf(c->tmpfs, sizeof c->tmpfs, "%d", SCRATCH_MB);
    c->status = harness_join(run_dir, "status");
    push(c, harness_env("GRADE_SANDBOX"));
    push(c, "--dir");
    push(c, work);
    push(c, "--tmpfs");
    push(c, c->tmpfs);
    push(c, "--timeout");
    push(c, c->timeout);
    push(c, "--memory");
    push(c, c->memory);
    push(c, "--out-cap");
    push(c, c->cap);
    push(c, "--status");
    push(c, c->status);
    if (options->share_network) {
        push(c, "--net");
        push(c, "inherit");
    }
}

/* The course tree (hidden tests, solutions), the scratch area and
   whatever else grade.sh names: out of the program's sight. */
static void add_hidden(struct sandbox_command *c)
{
    const char *hide = getenv("GRADE_HIDE");
    c->hide_list = strdup(hide != NULL ? hide : "");
    if (c->hide_list == NULL)
        abort();
    char *save = NULL;
    for (char *p = strtok_r(c->hide_list, ":", &save); p != NULL && c->n < HIDE_END;
         p = strtok_r(NULL, ":", &save)) {
        push(c, "--hide");
        push(c, p);
    }
}

/* -- [WRAPPER...] ./PROGRAM [ARG...] */
static void add_program(struct sandbox_command *c, const char *program, const char *const args[],
                        const struct run_options *options)
{
    if (asprintf(&c->program, "./%s", program) < 0)
        abort();
    push(c, "--");
    const char *const *wrapper = options->wrapper;
    for (size_t i = 0; wrapper != NULL && wrapper[i] != NULL && c->n < WRAPPER_END; i++)
        push(c, wrapper[i]);
    push(c, c->program);
    for (size_t i = 0; args != NULL && args[i] != NULL && c->n < ARGS_END; i++)
        push(c, args[i]);
    c->argv[c->n] = NULL;
}

static void free_command(struct sandbox_command *c)
{
    free(c->hide_list);
    free(c->program);
    free(c->status);
}

static _Noreturn void exec_sandbox(const char *const argv[], int out_fd, int err_fd, pid_t parent)
{
    /* If this test process dies (a failed assertion, Check's timeout),
       the sandbox dies with it, and the kernel ends the run. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(EXIT_SANDBOX);
    if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)
        _exit(EXIT_SANDBOX);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
        dup2(devnull, STDIN_FILENO);
    execv(argv[0], (char *const *)argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(EXIT_SANDBOX);
}

/* Start the sandbox, its stdout and stderr in pipes to s. */
static void spawn_sandbox(struct subject *s, const char *const argv[])
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        abort();
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0)
        exec_sandbox(argv, out[1], err[1], parent);
    close(out[1]);
    close(err[1]);
    s->sandbox = pid;
    s->out_fd = out[0];
    s->err_fd = err[0];
}

void subject_start(struct subject *s, const char *program, const char *const args[],
                   const struct run_options *options)
{
    static const struct run_options defaults = { 0 };
    if (options == NULL)
        options = &defaults;
    memset(s, 0, sizeof *s);
    s->sandbox = -1;
    char *path = harness_program_path(program);
    s->name = strdup(program);
    if (s->name == NULL)
        abort();
    char *work = make_run_dir(s, program, path);

    struct sandbox_command c = { .n = 0 };
    add_limits(&c, s->run_dir, work, options);
    add_hidden(&c);
    add_program(&c, program, args, options);
    spawn_sandbox(s, c.argv);
    harness_append(&s->out, &s->out_len, "", 0);
    harness_append(&s->err, &s->err_len, "", 0);
    free_command(&c);
    free(work);
    free(path);
}

/* --- While it runs ------------------------------------------------------------- */

/* Read what has come on *fd into *buf; at EOF (or an error) close it. */
static void read_output(int *fd, char **buf, size_t *len)
{
    char chunk[CHUNK];
    ssize_t got = read(*fd, chunk, sizeof chunk);
    if (got > 0) {
        harness_append(buf, len, chunk, (size_t)got);
    } else if (got == 0 || errno != EINTR) {
        close(*fd);
        *fd = -1;
    }
}

bool subject_pump(struct subject *s, int ms)
{
    long long deadline = now_ms() + ms;
    while (s->out_fd >= 0 || s->err_fd >= 0) {
        struct pollfd fds[2] = { { s->out_fd, POLLIN, 0 }, { s->err_fd, POLLIN, 0 } };
        long long left = deadline - now_ms();
        if (left < 0)
            left = 0;
        int ready = poll(fds, 2, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return true;
        if (s->out_fd >= 0 && (fds[0].revents & HARNESS_READABLE))
            read_output(&s->out_fd, &s->out, &s->out_len);
        if (s->err_fd >= 0 && (fds[1].revents & HARNESS_READABLE))
            read_output(&s->err_fd, &s->err, &s->err_len);
        if (left == 0)
            return s->out_fd >= 0 || s->err_fd >= 0;
    }
    return false;
}

bool subject_finished(struct subject *s)
{
    if (s->sandbox < 0)
        return true;
    subject_pump(s, 0);
    siginfo_t info;
    info.si_pid = 0;
    if (waitid(P_PID, (id_t)s->sandbox, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0)
        return true; /* ended: leave it to subject_finish() to reap */
    return s->out_fd < 0 && s->err_fd < 0;
}

void subject_signal(struct subject *s, int sig)
{
    if (s->sandbox > 0)
        kill(s->sandbox, sig); /* the sandbox passes it to the program's group */
}

/* --- Finishing ----------------------------------------------------------------- */

static int open_up(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_D || flag == FTW_DNR)
        chmod(path, (st->st_mode & 07777) | S_IRWXU);
    return 0;
}

/* rm -rf, also through directories the program made unreadable. */
static void remove_run_dir(const char *path)
{
    nftw(path, open_up, NFTW_FDS, FTW_PHYS);
    remove_tree(path);
}

/* The sandbox's --status file; false if it wrote none. */
static bool read_status(const char *path, struct outcome *o)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    char key[64], value[64];
    while (fscanf(f, "%63s %63s", key, value) == 2) {
        if (strcmp(key, "result") == 0) {
            o->timed_out = strcmp(value, "timeout") == 0;
            o->output_limit = strcmp(value, "output-limit") == 0;
            o->exited = strcmp(value, "exited") == 0;
        } else if (strcmp(key, "value") == 0) {
            o->code = atoi(value);
        } else if (strcmp(key, "stdout_truncated") == 0) {
            o->out_truncated = atoi(value) != 0;
        }
    }
    fclose(f);
    return true;
}

/* Read the output until it is complete or timeout_ms passed. If it is not
   complete by then, or timeout_ms is 0, the sandbox and with it the whole
   run go. Returns whether it killed them. */
static bool read_or_kill(struct subject *s, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while ((s->out_fd >= 0 || s->err_fd >= 0) && now_ms() < deadline)
        subject_pump(s, (int)(deadline - now_ms()));
    if (s->out_fd < 0 && s->err_fd < 0 && timeout_ms != 0)
        return false;
    if (s->sandbox > 0) /* never kill(-1, ...) */
        kill(s->sandbox, SIGKILL);
    subject_pump(s, KILLED_READ_MS);
    return true;
}

/* Close the pipes, reap the sandbox. */
static void close_and_reap(struct subject *s)
{
    for (int *fd = &s->out_fd; fd <= &s->err_fd; fd++)
        if (*fd >= 0) {
            close(*fd);
            *fd = -1;
        }
    int status;
    while (waitpid(s->sandbox, &status, 0) < 0 && errno == EINTR)
        ;
    s->sandbox = -1;
}

void subject_finish(struct subject *s, int timeout_ms, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    bool killed = read_or_kill(s, timeout_ms);
    close_and_reap(s);
    char *path = harness_join(s->run_dir, "status");
    bool found = read_status(path, o);
    free(path);
    if (killed) {
        o->timed_out = true;
        o->exited = false;
        o->code = timeout_ms;
    } else if (!found) {
        ck_abort_msg("grader error: the sandbox failed to run %s: %s", s->name,
                     harness_excerpt(s->err, s->err_len, 200));
    }
    o->out = s->out;
    o->err = s->err;
    s->out = s->err = NULL;
    remove_run_dir(s->run_dir);
    free(s->run_dir);
    free(s->name);
    s->run_dir = s->name = NULL;
}

void subject_stop(struct subject *s)
{
    if (s->sandbox > 0)
        kill(s->sandbox, SIGKILL);
    struct outcome o;
    subject_finish(s, 0, &o);
    outcome_free(&o);
}

void run_subject(const char *program, const char *const args[], const struct run_options *options,
                 struct outcome *o)
{
    struct subject s;
    subject_start(&s, program, args, options);
    int limit =
        options != NULL && options->timeout_ms > 0 ? options->timeout_ms : DEFAULT_TIMEOUT_MS;
    subject_finish(&s, limit + FINISH_GRACE_MS, o);
}

/* --- Once per runner ----------------------------------------------------------- */

/* run_subject_once()'s cache: GRADE_SCRATCH/once-PROGRAM/{status,out,err}. */
struct cache {
    char *status, *out, *err;
};

static char *cache_file(const char *program, const char *name)
{
    char *dir, *path;
    if (asprintf(&dir, "%s/once-%s", harness_env("GRADE_SCRATCH"), program) < 0)
        abort();
    mkdir(dir, 0700);
    path = harness_join(dir, name);
    free(dir);
    return path;
}

static void spill(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "grader error: cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void read_cache(FILE *status, const struct cache *c, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    int timed_out, output_limit, exited, truncated;
    ck_assert_int_eq(fscanf(status, "%d %d %d %d %d", &timed_out, &output_limit, &exited,
                            &o->code, &truncated), 5);
    fclose(status);
    o->timed_out = timed_out;
    o->output_limit = output_limit;
    o->exited = exited;
    o->out_truncated = truncated;
    o->out = read_file(c->out);
    o->err = read_file(c->err);
    ck_assert_msg(o->out != NULL && o->err != NULL, "grader error: the cached run is gone");
}

static void write_cache(const struct cache *c, const struct outcome *o)
{
    /* Output holding a NUL is cut there: traces are text. */
    spill(c->out, o->out);
    spill(c->err, o->err);
    FILE *f = fopen(c->status, "w");
    ck_assert_msg(f != NULL, "grader error: cannot write %s", c->status);
    fprintf(f, "%d %d %d %d %d\n", o->timed_out, o->output_limit, o->exited, o->code,
            o->out_truncated);
    fclose(f);
}

void run_subject_once(const char *program, const struct run_options *options, struct outcome *o)
{
    struct cache c;
    c.status = cache_file(program, "status");
    c.out = cache_file(program, "out");
    c.err = cache_file(program, "err");
    FILE *status = fopen(c.status, "r");
    if (status != NULL) {
        read_cache(status, &c, o);
    } else {
        run_subject(program, NULL, options, o);
        write_cache(&c, o);
    }
    free(c.status);
    free(c.out);
    free(c.err);
}

/* --- Outcomes ------------------------------------------------------------------ */

void outcome_free(struct outcome *o)
{
    free(o->out);
    free(o->err);
    o->out = o->err = NULL;
}

const char *outcome_describe(const struct outcome *o, char *buf, size_t size)
{
    if (o->timed_out)
        snprintf(buf, size, "did not finish within %d ms", o->code);
    else if (o->output_limit)
        snprintf(buf, size, "printed more than %d bytes and was stopped", o->code);
    else if (o->exited)
        snprintf(buf, size, "exited with status %d", o->code);
    else
        snprintf(buf, size, "was killed by signal %d (%s)", o->code, strsignal(o->code));
    return buf;
}

void assert_exited_zero(const struct outcome *o, const char *program)
{
    char why[128];
    if (o->exited && o->code == 0)
        return;
    ck_abort_msg("%s %s%s%s", program, outcome_describe(o, why, sizeof why),
                 o->err[0] != '\0' ? "; stderr: " : "", harness_excerpt(o->err, strlen(o->err), 160));
}
