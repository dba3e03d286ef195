/*
 * util.c - see util.h.
 */
#define _GNU_SOURCE /* asprintf, strndup, nftw */
#include "util.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sink {
    char *data;
    size_t len, cap;
};

static void sink_add(struct sink *s, const char *buf, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->data = realloc(s->data, s->cap);
        if (s->data == NULL)
            abort();
    }
    memcpy(s->data + s->len, buf, n);
    s->len += n;
    s->data[s->len] = '\0';
}

void scrub_environment(const char *const env[])
{
    /* Copy the names first: unsetenv() changes environ under us. */
    char *names[256];
    size_t n = 0;
    for (char **e = environ; *e != NULL && n < 256; e++) {
        if (strncmp(*e, "EVENT_", 6) == 0 || strncmp(*e, "MAKEFLAGS=", 10) == 0 ||
            strncmp(*e, "MAKELEVEL=", 10) == 0 || strncmp(*e, "MFLAGS=", 7) == 0)
            names[n++] = strndup(*e, strcspn(*e, "="));
    }
    for (size_t i = 0; i < n; i++) {
        unsetenv(names[i]);
        free(names[i]);
    }
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        putenv((char *)env[i]);
}

void run_program(const char *const argv[], const char *const env[], int timeout_ms,
                 struct run_result *result)
{
    int out_pipe[2], err_pipe[2];
    memset(result, 0, sizeof *result);
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0)
        abort();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        abort();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(out_pipe[1], STDOUT_FILENO);
        dup2(err_pipe[1], STDERR_FILENO);
        close(out_pipe[0]);
        close(out_pipe[1]);
        close(err_pipe[0]);
        close(err_pipe[1]);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        scrub_environment(env);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here, so the kill below cannot miss */
    close(out_pipe[1]);
    close(err_pipe[1]);

    struct sink out = { 0 }, err = { 0 };
    sink_add(&out, "", 0);
    sink_add(&err, "", 0);
    struct pollfd fds[2] = { { out_pipe[0], POLLIN, 0 }, { err_pipe[0], POLLIN, 0 } };
    int open_fds = 2;
    long long deadline = now_ms() + timeout_ms;
    while (open_fds > 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            result->timed_out = true;
            break;
        }
        int ready = poll(fds, 2, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sink_add(i == 0 ? &out : &err, buf, (size_t)n);
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    if (result->timed_out)
        kill(-pid, SIGKILL);
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    kill(-pid, SIGKILL); /* anything the program left behind in its group */
    result->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result->out = out.data;
    result->err = err.data;
}

void run_result_free(struct run_result *result)
{
    free(result->out);
    free(result->err);
    result->out = result->err = NULL;
}

char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct sink s = { 0 };
    sink_add(&s, "", 0);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sink_add(&s, buf, n);
    fclose(f);
    return s.data;
}

static char *filter_lines(const char *text, const char *drop1, const char *drop2)
{
    struct sink s = { 0 };
    sink_add(&s, "", 0);
    const char *line = text;
    while (*line != '\0') {
        size_t len = strcspn(line, "\n");
        size_t with_nl = len + (line[len] == '\n');
        bool drop = (drop1 && strncmp(line, drop1, strlen(drop1)) == 0) ||
                    (drop2 && strncmp(line, drop2, strlen(drop2)) == 0);
        if (!drop)
            sink_add(&s, line, with_nl);
        line += with_nl;
    }
    return s.data;
}

char *expected_for_style(const char *expected, const char *style)
{
    return filter_lines(expected, strcmp(style, "event1") == 0 ? "event2 " : "event1 ", NULL);
}

char *without_style_lines(const char *trace)
{
    return filter_lines(trace, "event1 ", "event2 ");
}

const char *bin_dir(void)
{
    const char *dir = getenv("LESSONS_BIN");
    return dir != NULL ? dir : "build/bin";
}

const char *build_dir(void)
{
    const char *dir = getenv("LESSONS_BUILD");
    return dir != NULL ? dir : "build";
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **lesson_dirs(size_t *n)
{
    DIR *dir = opendir("lessons");
    char **names = NULL;
    *n = 0;
    if (dir == NULL)
        return NULL;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (!(e->d_name[0] >= '0' && e->d_name[0] <= '9' && e->d_name[1] >= '0' &&
              e->d_name[1] <= '9' && e->d_name[2] == '-'))
            continue;
        names = realloc(names, (*n + 1) * sizeof *names);
        if (names == NULL || asprintf(&names[*n], "lessons/%s", e->d_name) < 0)
            abort();
        (*n)++;
    }
    closedir(dir);
    qsort(names, *n, sizeof *names, compare_strings);
    return names;
}

char *make_temp_dir(void)
{
    char *path;
    char *tmp_root;
    if (asprintf(&tmp_root, "%s/tmp", build_dir()) < 0)
        abort();
    mkdir(build_dir(), 0755);
    mkdir(tmp_root, 0755);
    if (asprintf(&path, "%s/test-XXXXXX", tmp_root) < 0 || mkdtemp(path) == NULL)
        abort();
    free(tmp_root);
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

int listen_on_loopback(struct sockaddr_in *address)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    memset(address, 0, sizeof *address);
    address->sin_family = AF_INET;
    address->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)address, sizeof *address), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    socklen_t length = sizeof *address;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)address, &length), 0);
    return fd;
}

const char *bev_flags(short what, char *buf, size_t size)
{
    static const struct { short flag; const char *name; } names[] = {
        { BEV_EVENT_READING, "READING" }, { BEV_EVENT_WRITING, "WRITING" },
        { BEV_EVENT_EOF, "EOF" },         { BEV_EVENT_ERROR, "ERROR" },
        { BEV_EVENT_TIMEOUT, "TIMEOUT" }, { BEV_EVENT_CONNECTED, "CONNECTED" },
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (what & names[i].flag) {
            if (buf[0] != '\0')
                strncat(buf, "|", size - strlen(buf) - 1);
            strncat(buf, names[i].name, size - strlen(buf) - 1);
        }
    return buf;
}
