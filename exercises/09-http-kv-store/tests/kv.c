/*
 * kv.c - see kv.h.
 */
#define _GNU_SOURCE
#include "kv.h"
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One curl script's limit. Measured 2026-12-02 (see CURL_TEST_S in
   visible.c): the ten scripts of one test took 30 s together, about 3 s
   each at load average 12 to 23; 20 s is over 6 times that. */
enum { CURL_MS = 20000 };

int start_kv_server(struct subject *server, int max_value)
{
    char text[16];
    snprintf(text, sizeof text, "%d", max_value);
    const char *extra[] = { "--max-value", text, NULL };
    return harness_start_server(server, "event2-server", max_value > 0 ? extra : NULL);
}

char *kv_script(int port, const char *script, const char *what)
{
    char url[64], *full;
    snprintf(url, sizeof url, "URL=http://127.0.0.1:%d", port);
    if (asprintf(&full, "command -v curl > /dev/null || { echo 'curl is not installed "
                        "(make deps)' >&2; exit 99; }; %s", script) < 0)
        abort();
    const char *argv[] = { "bash", "-c", full, NULL };
    const char *env[] = { url, NULL };
    struct run_result r;
    run_program(argv, env, CURL_MS, &r);
    ck_assert_msg(r.status != 99, "grader error: curl is not installed (make deps)");
    ck_assert_msg(!r.timed_out && r.status == 0, "%s: curl %s: %s", what,
                  r.timed_out ? "got no answer within 20 s" : "failed",
                  harness_excerpt(r.err, strlen(r.err), 160));
    free(r.err);
    free(full);
    return r.out;
}

int kv_request(int port, const char *method, const char *path, const char *body, char **answer)
{
    char *script, what[160];
    /* The status on a last line of its own, after whatever body came. */
    if (asprintf(&script, "%scurl -sS -X %s %s -w '\\n%%{http_code}' \"$URL%s\"",
                 body != NULL ? "printf '%s' \"$BODY\" | " : "", method,
                 body != NULL ? "--data-binary @-" : "", path) < 0)
        abort();
    snprintf(what, sizeof what, "%s %s", method, path);
    char *full;
    if (asprintf(&full, "BODY='%s'; %s", body != NULL ? body : "", script) < 0)
        abort();
    char *out = kv_script(port, full, what);
    char *last = strrchr(out, '\n');
    ck_assert_msg(last != NULL, "%s: curl printed no status", what);
    int status = atoi(last + 1);
    *last = '\0';
    if (answer != NULL)
        *answer = strdup(out);
    free(out);
    free(full);
    free(script);
    return status;
}

void expect_status(int port, const char *method, const char *path, const char *body,
                   int want_status, const char *want_body)
{
    char *got;
    int status = kv_request(port, method, path, body, &got);
    ck_assert_msg(status == want_status, "%s %s%s%s%s: status %d, not %d (body: \"%s\")", method,
                  path, body != NULL ? " with the body \"" : "", body != NULL ? body : "",
                  body != NULL ? "\"" : "", status, want_status,
                  harness_excerpt(got, strlen(got), 60));
    if (want_body != NULL)
        ck_assert_msg(strcmp(got, want_body) == 0, "%s %s: status %d as it should, but the body "
                      "is \"%s\", not \"%s\"", method, path, status,
                      harness_excerpt(got, strlen(got), 60), want_body);
    free(got);
}

void kv_abuse(struct subject *server, int port, const void *bytes, size_t n, bool reset)
{
    int fd = harness_connect(server, port, 2000);
    send(fd, bytes, n, MSG_NOSIGNAL);
    size_t len;
    bool eof;
    free(harness_receive(fd, NULL, 100, &len, &eof));
    if (reset) {
        struct linger now = { 1, 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    }
    close(fd);
}
