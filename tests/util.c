/*
 * util.c - see util.h.
 */
#define _GNU_SOURCE /* asprintf */
#include "util.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

char **index_dirs(const char *kind, size_t *n)
{
    const char *argv[] = { ".ci/index.sh", "dirs", kind, NULL };
    struct run_result r;
    char **dirs = NULL;
    *n = 0;
    run_program(argv, NULL, 30000, &r);
    if (r.status != 0) /* then no lesson has a test, and the tooling suite fails */
        fprintf(stderr, ".ci/index.sh dirs %s failed (status %d): %s", kind, r.status, r.err);
    for (char *line = strtok(r.out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        dirs = realloc(dirs, (*n + 1) * sizeof *dirs);
        if (dirs == NULL || (dirs[*n] = strdup(line)) == NULL)
            abort();
        (*n)++;
    }
    run_result_free(&r);
    return dirs;
}

void free_strings(char **strings, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(strings[i]);
    free(strings);
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

int port_of(int fd)
{
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&address, &length), 0);
    return ntohs(address.sin_port);
}

bool tcp_table_has(bool (*match)(const char *line, void *arg), void *arg)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        char *table = read_file("/proc/net/tcp"), *save = NULL;
        ck_assert_ptr_nonnull(table);
        bool found = false;
        for (char *line = strtok_r(table, "\n", &save); line != NULL && !found;
             line = strtok_r(NULL, "\n", &save))
            found = match(line, arg);
        free(table);
        if (found)
            return true;
    }
    return false;
}

void record_in(char *order, size_t size, const char *fmt, ...)
{
    char entry[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(entry, sizeof entry, fmt, ap);
    va_end(ap);
    if (order[0] != '\0')
        strncat(order, " ", size - strlen(order) - 1);
    strncat(order, entry, size - strlen(order) - 1);
}
