/*
 * common.c - the helpers every part of the harness uses (internal.h).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *harness_env(const char *name)
{
    const char *value = getenv(name);
    if (value == NULL || *value == '\0')
        ck_abort_msg("grader error: %s is not set (run the tests through make grade)", name);
    return value;
}

char *harness_join(const char *a, const char *b)
{
    char *path;
    if (asprintf(&path, "%s/%s", a, b) < 0)
        abort();
    return path;
}

void harness_append(char **buf, size_t *len, const char *data, size_t n)
{
    char *grown = realloc(*buf, *len + n + 1);
    if (grown == NULL)
        abort();
    memcpy(grown + *len, data, n);
    *len += n;
    grown[*len] = '\0';
    *buf = grown;
}

char *harness_program_path(const char *name)
{
    char *path = harness_join(harness_env("GRADE_PROGRAMS"), name);
    if (access(path, R_OK) != 0)
        ck_abort_msg("%s was not built (see the build output)", name);
    return path;
}
