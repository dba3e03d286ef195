/*
 * network_proc.c - see network_proc.h.
 */
#define _GNU_SOURCE /* asprintf */
#include "network_proc.h"
#include "util.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { START_TIMEOUT_MS = 20000 };

/* A scratch directory for the server's two files. */
static void prepare(struct netproc *p)
{
    memset(p, 0, sizeof *p);
    p->dir = make_temp_dir();
    if (asprintf(&p->out_path, "%s/stdout", p->dir) < 0 ||
        asprintf(&p->err_path, "%s/stderr", p->dir) < 0)
        abort();
}

bool netproc_alive(struct netproc *p)
{
    return server_alive(&p->s);
}

bool netproc_try_start(struct netproc *p, const char *const argv[], int timeout_ms)
{
    prepare(p);
    return server_start(&p->s, argv, p->out_path, p->err_path, 0, timeout_ms);
}

bool netproc_try_start_with_pending(struct netproc *p, const char *const argv[], int sig,
                                    int timeout_ms)
{
    prepare(p);
    return server_start(&p->s, argv, p->out_path, p->err_path, sig, timeout_ms);
}

void netproc_start(struct netproc *p, const char *program, const char *const extra[])
{
    const char *argv[16] = { program, "--port", "0" };
    size_t n = 3;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    if (!netproc_try_start(p, argv, START_TIMEOUT_MS)) {
        char *out = netproc_output(p), *err = netproc_errors(p);
        netproc_kill(p);
        ck_abort_msg("%s did not start: no \"listening on 127.0.0.1:PORT\" line within %d ms "
                     "(status %d)\nstdout:\n%s\nstderr:\n%s",
                     program, START_TIMEOUT_MS, p->s.status, out ? out : "", err ? err : "");
    }
}

int netproc_stop(struct netproc *p, int sig, int timeout_ms)
{
    return server_stop(&p->s, sig, timeout_ms);
}

void netproc_kill(struct netproc *p)
{
    server_kill(&p->s);
}

void netproc_release(struct netproc *p)
{
    netproc_kill(p);
    if (p->dir != NULL)
        remove_tree(p->dir);
    free(p->dir);
    free(p->out_path);
    free(p->err_path);
    p->dir = p->out_path = p->err_path = NULL;
}

char *netproc_output(const struct netproc *p)
{
    return p->out_path != NULL ? read_file(p->out_path) : NULL;
}

char *netproc_errors(const struct netproc *p)
{
    return p->err_path != NULL ? read_file(p->err_path) : NULL;
}

char *netproc_trace(const struct netproc *p)
{
    char *out = netproc_output(p);
    if (out == NULL)
        return NULL;
    char *newline = strchr(out, '\n');
    char *trace = strdup(newline != NULL ? newline + 1 : "");
    free(out);
    return trace;
}

int netproc_fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    if (dir == NULL)
        return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (e->d_name[0] != '.')
            count++;
    closedir(dir);
    return count;
}

long netproc_memory_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t len = strlen(field);
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}
