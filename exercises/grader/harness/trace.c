/*
 * trace.c - judging output: excerpts for messages, expected traces
 * (harness.h).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "proc.h" /* read_file() */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* harness_excerpt()'s buffers: a message may use several excerpts. */
enum { EXCERPT_SLOTS = 4, EXCERPT_SIZE = 1024, EXCERPT_MAX = 200 };

const char *harness_excerpt(const char *text, size_t len, size_t max)
{
    static char slots[EXCERPT_SLOTS][EXCERPT_SIZE];
    static int next;
    char *out = slots[next];
    next = (next + 1) % EXCERPT_SLOTS;
    if (max > EXCERPT_MAX)
        max = EXCERPT_MAX;
    size_t o = 0, i = 0;
    /* 40: room for the longest escape, the cut mark and the NUL */
    for (; i < len && o + 40 < EXCERPT_SIZE && i < max; i++) {
        unsigned char c = (unsigned char)text[i];
        /* A line break stays one (the message is one line: the TAP log,
           the terminal's reason) as ↵, which grade.sh turns back into a
           real one in results.json. Raw, it cannot come from the text:
           its bytes are non-ASCII, escaped below. */
        if (c == '\n')
            o += (size_t)snprintf(out + o, EXCERPT_SIZE - o, "\u21b5");
        else if (c == '\\')
            o += (size_t)snprintf(out + o, EXCERPT_SIZE - o, "\\\\");
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, EXCERPT_SIZE - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (i < len) /* cut: say so, and how much is not shown */
        o += (size_t)snprintf(out + o, EXCERPT_SIZE - o, "\u2026[cut: %zu more bytes]", len - i);
    out[o] = '\0';
    return out;
}

char *harness_expected(const char *name)
{
    char *path;
    if (asprintf(&path, "%s/tests/%s", harness_env("GRADE_EXERCISE"), name) < 0)
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
    harness_append(&out, &len, "", 0);
    for (const char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        char name[64], word[64];
        char copy[256];
        snprintf(copy, sizeof copy, "%.*s", (int)(n < 255 ? n : 255), line);
        if (sscanf(copy, "%63s %63s", name, word) == 2 && strcmp(word, step) == 0) {
            if (len > 0)
                harness_append(&out, &len, " ", 1);
            harness_append(&out, &len, name, strlen(name));
        }
        line += n + (line[n] == '\n');
    }
    return out;
}
