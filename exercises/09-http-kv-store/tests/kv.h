/*
 * kv.h - what exercise 09's tests share: the student's server, started in
 * the test's own network (harness_start_server()), and curl, the real
 * client, run by the test in that same network. curl is trusted, so it
 * runs as the test does, not in the sandbox; only loopback is up there, and
 * only the student's server listens on it.
 */
#ifndef EXERCISE09_KV_H
#define EXERCISE09_KV_H

#include "harness.h"

/* Start event2-server with --max-value max_value (0: the default 1024);
   returns its port once it accepts connections. */
int start_kv_server(struct subject *server, int max_value);

/* Run a bash script (curl commands) with URL set to
   http://127.0.0.1:PORT; returns what it printed. The test fails, naming
   `what`, if it does not exit 0 within 20 s. */
char *kv_script(int port, const char *script, const char *what);

/* One request with curl: METHOD on URL PATH, with the text body given (NULL:
   none). Returns the status; *answer (if not NULL) gets the body of the
   answer, the caller frees it. */
int kv_request(int port, const char *method, const char *path, const char *body, char **answer);

/* Fail unless a request gets this status (and, unless want_body is NULL,
   this body). */
void expect_status(int port, const char *method, const char *path, const char *body,
                   int want_status, const char *want_body);

/* Send n bytes on a connection of their own, read what comes back for a
   moment (an error page, a close or nothing: all fine), and hang up,
   resetting the connection when reset is true: a malformed request. */
void kv_abuse(struct subject *server, int port, const void *bytes, size_t n, bool reset);

#endif
