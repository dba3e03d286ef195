/*
 * traces.c - see traces.h.
 */
#include "traces.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Does line (len bytes, no newline) belong to style only: "STYLE" alone,
   or "STYLE " and more? */
static bool style_line(const char *line, size_t len, const char *style)
{
    size_t n = strlen(style);
    return len >= n && strncmp(line, style, n) == 0 && (len == n || line[n] == ' ');
}

/* The lines of text that belong to neither drop1 nor drop2 (either may be
   NULL). */
static char *filter_lines(const char *text, const char *drop1, const char *drop2)
{
    char *out = malloc(strlen(text) + 1);
    if (out == NULL)
        abort();
    size_t used = 0;
    for (const char *line = text; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        size_t with_newline = len + (line[len] == '\n');
        bool drop = (drop1 != NULL && style_line(line, len, drop1)) ||
                    (drop2 != NULL && style_line(line, len, drop2));
        if (!drop) {
            memcpy(out + used, line, with_newline);
            used += with_newline;
        }
        line += with_newline;
    }
    out[used] = '\0';
    return out;
}

char *trace_for_style(const char *expected, const char *style)
{
    return filter_lines(expected, strcmp(style, "event1") == 0 ? "event2" : "event1", NULL);
}

char *trace_without_style_lines(const char *trace)
{
    return filter_lines(trace, "event1", "event2");
}
