/*
 * harness.c - see harness.h.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "clock.h" /* now_ms(), sleep_ms() */
#include "proc.h"  /* run_program(), read_file(), remove_tree() */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { OUTPUT_CAP = 256 * 1024, SCRATCH_MB = 32 };

/* --- Small things -------------------------------------------------------------- */

static const char *env_path(const char *name)
{
    const char *value = getenv(name);
    if (value == NULL || *value == '\0')
        ck_abort_msg("grader error: %s is not set (run the tests through make grade)", name);
    return value;
}

static char *join(const char *a, const char *b)
{
    char *path;
    if (asprintf(&path, "%s/%s", a, b) < 0)
        abort();
    return path;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
    char *grown = realloc(*buf, *len + n + 1);
    if (grown == NULL)
        abort();
    memcpy(grown + *len, data, n);
    *len += n;
    grown[*len] = '\0';
    *buf = grown;
}

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
    nftw(path, open_up, 16, FTW_PHYS);
    remove_tree(path);
}

const char *harness_excerpt(const char *text, size_t len, size_t max)
{
    static char slots[4][1024];
    static int next;
    char *out = slots[next];
    next = (next + 1) % 4;
    if (max > 200)
        max = 200;
    size_t o = 0, i = 0;
    for (; i < len && o + 8 < sizeof slots[0] && i < max; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n')
            o += (size_t)snprintf(out + o, sizeof slots[0] - o, "\\n");
        else if (c == '\\')
            o += (size_t)snprintf(out + o, sizeof slots[0] - o, "\\\\");
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, sizeof slots[0] - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (i < len)
        o += (size_t)snprintf(out + o, sizeof slots[0] - o, "...");
    out[o] = '\0';
    return out;
}

/* --- Registering --------------------------------------------------------------- */

enum { MAX_CASES = 64 };
struct harness_registered harness_cases[MAX_CASES];
size_t harness_ncases;

TCase *harness_case(Suite *suite, const char *name, int seconds, bool hidden)
{
    if (harness_ncases == MAX_CASES) {
        fprintf(stderr, "harness: more than %d tests\n", MAX_CASES);
        exit(2);
    }
    harness_cases[harness_ncases].name = name;
    harness_cases[harness_ncases].hidden = hidden;
    harness_ncases++;
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, seconds);
    if (hidden)
        tcase_set_tags(tc, "hidden");
    suite_add_tcase(suite, tc);
    return tc;
}

/* --- Trusted helper programs (nm, the purity check) ------------------------------ */

/* Run a trusted program (.ci/lib/proc.h); what it printed, stdout then
   stderr. */
static char *capture(const char *const argv[], int timeout_ms, int *status)
{
    struct run_result r;
    run_program(argv, NULL, timeout_ms, &r);
    size_t len = strlen(r.out);
    append(&r.out, &len, r.err, strlen(r.err));
    free(r.err);
    *status = r.status;
    return r.out;
}

static char *program_path(const char *name)
{
    char *path = join(env_path("GRADE_PROGRAMS"), name);
    if (access(path, R_OK) != 0)
        ck_abort_msg("%s was not built (see the build output)", name);
    return path;
}

char *harness_purity(const char *style, const char *object)
{
    char *script = join(env_path("GRADE_COURSE"), ".ci/purity.sh");
    char *path = program_path(object);
    const char *argv[] = { script, style, path, NULL };
    int status;
    char *text = capture(argv, 30000, &status);
    /* "/long/scratch/path/event2.c: event2 style may not ..." -> "event2.c: ..." */
    const char *programs = env_path("GRADE_PROGRAMS");
    size_t plen = strlen(programs);
    char *out = NULL;
    size_t len = 0;
    append(&out, &len, "", 0);
    for (char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        if (n > plen + 1 && strncmp(line, programs, plen) == 0 && line[plen] == '/')
            append(&out, &len, line + plen + 1, n - plen - 1);
        else
            append(&out, &len, line, n);
        append(&out, &len, "\n", 1);
        line += n + (line[n] == '\n');
    }
    if (status != 0 && len == 0)
        append(&out, &len, "the purity check failed without saying why\n", 43);
    if (status == 0)
        out[0] = '\0';
    free(text);
    free(path);
    free(script);
    return out;
}

char *harness_undefined_symbols(const char *object)
{
    char *path = program_path(object);
    const char *argv[] = { "nm", "-u", "-P", path, NULL };
    int status;
    char *text = capture(argv, 10000, &status);
    ck_assert_msg(status == 0, "grader error: nm failed on %s", object);
    /* "name U" lines -> "name" */
    char *out = NULL;
    size_t len = 0;
    append(&out, &len, "", 0);
    for (char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        size_t name = strcspn(line, " \n");
        append(&out, &len, line, name);
        append(&out, &len, "\n", 1);
        line += n + (line[n] == '\n');
    }
    free(text);
    free(path);
    return out;
}

void assert_style(const char *style, const char *object)
{
    char *report = harness_purity(style, object);
    size_t n = strlen(object);
    ck_assert_msg(*report == '\0', "%.*s.c is not %s style: %s", (int)(n > 2 ? n - 2 : n), object,
                  style, harness_excerpt(report, strlen(report), 200));
    free(report);
}

bool harness_calls(const char *object, const char *function)
{
    char *calls = harness_undefined_symbols(object);
    size_t n = strlen(function);
    bool found = false;
    for (const char *line = calls; *line != '\0' && !found;) {
        size_t len = strcspn(line, "\n");
        found = len == n && strncmp(line, function, n) == 0;
        line += len + (line[len] == '\n');
    }
    free(calls);
    return found;
}

/* --- Running the student's program ---------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    ck_assert_msg(in >= 0 && out >= 0, "grader error: cannot copy %s: %s", from, strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        ck_assert_msg(write(out, buf, (size_t)n) == n, "grader error: writing %s", to);
    close(in);
    close(out);
}

void subject_start(struct subject *s, const char *program, const char *const args[],
                   const struct run_options *options)
{
    static const struct run_options defaults = { 0 };
    if (options == NULL)
        options = &defaults;
    memset(s, 0, sizeof *s);
    s->sandbox = -1;
    char *path = program_path(program);
    s->name = strdup(program);

    char *pattern = join(env_path("GRADE_SCRATCH"), "run-XXXXXX");
    ck_assert_msg(mkdtemp(pattern) != NULL, "grader error: mkdtemp: %s", strerror(errno));
    s->run_dir = pattern;
    char *work = join(s->run_dir, "work");
    ck_assert_msg(mkdir(work, 0755) == 0, "grader error: mkdir %s", work);
    char *copy = join(work, program);
    copy_file(path, copy);
    free(copy);

    char timeout[32], memory[32], cap[32], tmpfs[32];
    snprintf(timeout, sizeof timeout, "%d", options->timeout_ms > 0 ? options->timeout_ms : 5000);
    snprintf(memory, sizeof memory, "%d", options->memory_mb > 0 ? options->memory_mb : 512);
    snprintf(cap, sizeof cap, "%d", OUTPUT_CAP);
    snprintf(tmpfs, sizeof tmpfs, "%d", SCRATCH_MB);
    char *status = join(s->run_dir, "status");
    char *local;
    if (asprintf(&local, "./%s", program) < 0)
        abort();

    const char *argv[96];
    size_t n = 0;
    argv[n++] = env_path("GRADE_SANDBOX");
    argv[n++] = "--dir";
    argv[n++] = work;
    argv[n++] = "--tmpfs";
    argv[n++] = tmpfs;
    argv[n++] = "--timeout";
    argv[n++] = timeout;
    argv[n++] = "--memory";
    argv[n++] = memory;
    argv[n++] = "--out-cap";
    argv[n++] = cap;
    argv[n++] = "--status";
    argv[n++] = status;
    if (options->share_network) {
        argv[n++] = "--net";
        argv[n++] = "inherit";
    }
    /* The course tree (hidden tests, solutions), the scratch area and
       whatever else grade.sh names: out of the program's sight. */
    char *hide_list = strdup(getenv("GRADE_HIDE") ? getenv("GRADE_HIDE") : "");
    char *save = NULL;
    for (char *p = strtok_r(hide_list, ":", &save); p != NULL && n < 60;
         p = strtok_r(NULL, ":", &save)) {
        argv[n++] = "--hide";
        argv[n++] = p;
    }
    argv[n++] = "--";
    for (size_t i = 0; options->wrapper != NULL && options->wrapper[i] != NULL && n < 80; i++)
        argv[n++] = options->wrapper[i];
    argv[n++] = local;
    for (size_t i = 0; args != NULL && args[i] != NULL && n < 94; i++)
        argv[n++] = args[i];
    argv[n] = NULL;

    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        abort();
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0) {
        /* If this test process dies (a failed assertion, Check's timeout),
           the sandbox dies with it, and the kernel ends the run. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(125);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(125);
    }
    close(out[1]);
    close(err[1]);
    s->sandbox = pid;
    s->out_fd = out[0];
    s->err_fd = err[0];
    append(&s->out, &s->out_len, "", 0);
    append(&s->err, &s->err_len, "", 0);
    free(hide_list);
    free(local);
    free(status);
    free(work);
    free(path);
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
        for (int i = 0; i < 2; i++) {
            int *fd = i == 0 ? &s->out_fd : &s->err_fd;
            if (*fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[65536];
            ssize_t got = read(*fd, buf, sizeof buf);
            if (got > 0) {
                if (i == 0)
                    append(&s->out, &s->out_len, buf, (size_t)got);
                else
                    append(&s->err, &s->err_len, buf, (size_t)got);
            } else if (got == 0 || errno != EINTR) {
                close(*fd);
                *fd = -1;
            }
        }
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

static void read_status(const char *path, struct outcome *o, bool *found)
{
    FILE *f = fopen(path, "r");
    *found = f != NULL;
    if (f == NULL)
        return;
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
}

void subject_finish(struct subject *s, int timeout_ms, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    long long deadline = now_ms() + timeout_ms;
    while ((s->out_fd >= 0 || s->err_fd >= 0) && now_ms() < deadline)
        subject_pump(s, (int)(deadline - now_ms()));
    bool killed = false;
    if (s->out_fd >= 0 || s->err_fd >= 0 || timeout_ms == 0) {
        /* Not done in time: the sandbox and, with it, the whole run go. */
        kill(s->sandbox, SIGKILL);
        killed = true;
        subject_pump(s, 2000);
    }
    for (int *fd = &s->out_fd; fd <= &s->err_fd; fd++)
        if (*fd >= 0) {
            close(*fd);
            *fd = -1;
        }
    int status;
    while (waitpid(s->sandbox, &status, 0) < 0 && errno == EINTR)
        ;
    s->sandbox = -1;
    char *path = join(s->run_dir, "status");
    bool found;
    read_status(path, o, &found);
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
    int limit = options != NULL && options->timeout_ms > 0 ? options->timeout_ms : 5000;
    subject_finish(&s, limit + 3000, o);
}

/* The cache: GRADE_SCRATCH/once-PROGRAM/{out,err,status}. */
static char *cache_file(const char *program, const char *name)
{
    char *dir, *path;
    if (asprintf(&dir, "%s/once-%s", env_path("GRADE_SCRATCH"), program) < 0)
        abort();
    mkdir(dir, 0700);
    path = join(dir, name);
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

void run_subject_once(const char *program, const struct run_options *options, struct outcome *o)
{
    char *status_path = cache_file(program, "status");
    char *out_path = cache_file(program, "out"), *err_path = cache_file(program, "err");
    FILE *status = fopen(status_path, "r");
    if (status != NULL) {
        memset(o, 0, sizeof *o);
        int timed_out, output_limit, exited, truncated;
        ck_assert_int_eq(fscanf(status, "%d %d %d %d %d", &timed_out, &output_limit, &exited,
                                &o->code, &truncated), 5);
        fclose(status);
        o->timed_out = timed_out;
        o->output_limit = output_limit;
        o->exited = exited;
        o->out_truncated = truncated;
        o->out = read_file(out_path);
        o->err = read_file(err_path);
        ck_assert_msg(o->out != NULL && o->err != NULL, "grader error: the cached run is gone");
    } else {
        run_subject(program, NULL, options, o);
        /* Output holding a NUL is cut there: traces are text. */
        spill(out_path, o->out);
        spill(err_path, o->err);
        FILE *f = fopen(status_path, "w");
        ck_assert_msg(f != NULL, "grader error: cannot write %s", status_path);
        fprintf(f, "%d %d %d %d %d\n", o->timed_out, o->output_limit, o->exited, o->code,
                o->out_truncated);
        fclose(f);
    }
    free(status_path);
    free(out_path);
    free(err_path);
}

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

/* --- Judging output ------------------------------------------------------------ */

char *harness_expected(const char *name)
{
    char *path;
    if (asprintf(&path, "%s/tests/%s", env_path("GRADE_EXERCISE"), name) < 0)
        abort();
    char *text = read_file(path);
    ck_assert_msg(text != NULL, "grader error: cannot read %s", path);
    free(path);
    return text;
}

void assert_same_trace(const char *want, const char *got, const char *what)
{
    if (strcmp(want, got) == 0)
        return;
    int line = 1;
    const char *w = want, *g = got;
    while (*w != '\0' && *w == *g) {
        if (*w == '\n')
            line++;
        w++;
        g++;
    }
    while (w > want && w[-1] != '\n') { /* back to the start of the line */
        w--;
        g--;
    }
    size_t wl = strcspn(w, "\n"), gl = strcspn(g, "\n");
    ck_abort_msg("%s: line %d should be \"%s\" but is %s%s%s", what, line,
                 harness_excerpt(w, wl, 120), *g ? "\"" : "missing (the output ends)",
                 *g ? harness_excerpt(g, gl, 120) : "", *g ? "\"" : "");
}

char *harness_subjects_of_step(const char *text, const char *step)
{
    char *out = NULL;
    size_t len = 0;
    append(&out, &len, "", 0);
    for (const char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        char name[64], word[64];
        char copy[256];
        snprintf(copy, sizeof copy, "%.*s", (int)(n < 255 ? n : 255), line);
        if (sscanf(copy, "%63s %63s", name, word) == 2 && strcmp(word, step) == 0) {
            if (len > 0)
                append(&out, &len, " ", 1);
            append(&out, &len, name, strlen(name));
        }
        line += n + (line[n] == '\n');
    }
    return out;
}

/* --- TCP ---------------------------------------------------------------------- */

bool harness_private_network(void)
{
    if (unshare(CLONE_NEWNET) != 0)
        return false;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(s >= 0, "grader error: socket: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    ck_assert_msg(ioctl(s, SIOCGIFFLAGS, &ifr) == 0, "grader error: SIOCGIFFLAGS lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    ck_assert_msg(ioctl(s, SIOCSIFFLAGS, &ifr) == 0, "grader error: bringing lo up");
    close(s);
    return true;
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

int harness_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(fd >= 0, "grader error: socket: %s", strerror(errno));
    struct sockaddr_in sin = loopback(0);
    socklen_t len = sizeof sin;
    ck_assert_msg(bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 && listen(fd, 64) == 0 &&
                      getsockname(fd, (struct sockaddr *)&sin, &len) == 0,
                  "grader error: listening socket: %s", strerror(errno));
    *port = ntohs(sin.sin_port);
    return fd;
}

int harness_free_port(void)
{
    int port;
    close(harness_listen(&port));
    return port;
}

int harness_accept(int listener, int timeout_ms)
{
    struct pollfd p = { listener, POLLIN, 0 };
    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    return accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}

int harness_try_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = loopback(port);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int harness_connect(struct subject *s, int port, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        int fd = harness_try_connect(port);
        if (fd >= 0)
            return fd;
        if (subject_finished(s)) {
            struct outcome o;
            char why[128];
            subject_finish(s, 1000, &o);
            ck_abort_msg("%s ended before accepting a connection: it %s; stderr: %s", "the server",
                         outcome_describe(&o, why, sizeof why),
                         harness_excerpt(o.err, strlen(o.err), 160));
        }
        if (now_ms() >= deadline)
            ck_abort_msg("the server did not accept a connection on port %d within %d ms", port,
                         timeout_ms);
        subject_pump(s, 5); /* starting up: try again shortly */
    }
}

int harness_start_server(struct subject *s, const char *program, const char *const extra[])
{
    harness_private_network();
    int port = harness_free_port();
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    const char *args[24] = { "--port", port_text };
    size_t n = 2;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    struct run_options options = { .share_network = true, .timeout_ms = 30000 };
    subject_start(s, program, args, &options);
    close(harness_connect(s, port, 5000)); /* it accepts: ready */
    return port;
}

char *harness_exchange(int fd, const void *data, size_t len, int timeout_ms, size_t *got)
{
    char *back = malloc(len + 1);
    if (back == NULL)
        abort();
    size_t sent = 0, received = 0;
    long long deadline = now_ms() + timeout_ms;
    while (received < len) {
        long long left = deadline - now_ms();
        struct pollfd p = { fd, (short)(POLLIN | (sent < len ? POLLOUT : 0)), 0 };
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        if ((p.revents & POLLOUT) && sent < len) {
            ssize_t n = send(fd, (const char *)data + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                break;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, back + received, len - received, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                break;
            if (n > 0)
                received += (size_t)n;
        }
    }
    back[received] = '\0';
    *got = received;
    return back;
}

void harness_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        ck_assert_msg(n > 0, "sending to the program failed: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

void harness_send_text(int fd, const char *text)
{
    harness_send(fd, text, strlen(text));
}

char *harness_receive(int fd, const char *needle, int timeout_ms, size_t *len, bool *eof)
{
    char *buf = NULL;
    size_t n = 0;
    append(&buf, &n, "", 0);
    *eof = false;
    long long deadline = now_ms() + timeout_ms;
    while (needle == NULL || memmem(buf, n, needle, strlen(needle)) == NULL) {
        long long left = deadline - now_ms();
        struct pollfd p = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            break;
        char chunk[65536];
        ssize_t got = recv(fd, chunk, sizeof chunk, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            *eof = true;
            break;
        }
        append(&buf, &n, chunk, (size_t)got);
    }
    if (len != NULL)
        *len = n;
    return buf;
}

char *harness_receive_expecting(int fd, const char *expected, int timeout_ms, size_t *len,
                                bool *eof)
{
    size_t want = strlen(expected);
    char *buf = NULL;
    size_t n = 0;
    append(&buf, &n, "", 0);
    *eof = false;
    long long deadline = now_ms() + timeout_ms;
    while (n < want && memcmp(buf, expected, n) == 0) {
        long long left = deadline - now_ms();
        struct pollfd p = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            break;
        char chunk[4096];
        ssize_t got = recv(fd, chunk, want - n < sizeof chunk ? want - n : sizeof chunk, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            *eof = true;
            break;
        }
        append(&buf, &n, chunk, (size_t)got);
    }
    *len = n;
    return buf;
}

void assert_reply(int fd, const char *sent, const char *expected, int timeout_ms, const char *what)
{
    size_t len;
    bool eof;
    if (*sent != '\0')
        harness_send_text(fd, sent);
    char *got = harness_receive_expecting(fd, expected, timeout_ms, &len, &eof);
    if (len == strlen(expected) && memcmp(got, expected, len) == 0) {
        free(got);
        return;
    }
    const char *sent_text = harness_excerpt(sent, strlen(sent), 60);
    const char *got_text = harness_excerpt(got, len, 60);
    const char *closed = eof ? " and the connection closed" : "";
    if (strcmp(sent, expected) == 0) /* an echo */
        ck_abort_msg("%s: sent \"%s\", got back \"%s\"%s", what, sent_text, got_text, closed);
    ck_abort_msg("%s: sent \"%s\", want \"%s\" back, got \"%s\"%s", what, sent_text,
                 harness_excerpt(expected, strlen(expected), 60), got_text, closed);
}

long harness_wait_close(int fd, int timeout_ms)
{
    long long start = now_ms(), deadline = start + timeout_ms;
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd p = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            return -1;
        char chunk[4096];
        ssize_t got = recv(fd, chunk, sizeof chunk, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return (long)(now_ms() - start);
    }
}

bool harness_quiet_for(int fd, int ms, char **got)
{
    char *buf = NULL;
    size_t n = 0;
    append(&buf, &n, "", 0);
    long long deadline = now_ms() + ms;
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd p = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            break;
        char chunk[4096];
        ssize_t r = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0) {
            append(&buf, &n, "<closed>", 8);
            break;
        }
        append(&buf, &n, chunk, (size_t)r);
    }
    *got = buf;
    return n == 0;
}
