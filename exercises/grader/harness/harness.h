/*
 * harness.h - what an exercise's graded tests use: run the student's
 * program in the sandbox and judge what it does from outside.
 *
 * The graded tests are Check suites written by the instructor
 * (the .c files of exercises/NN-slug/tests/), linked with this harness into one runner
 * per exercise. They are never linked with the student's code: the
 * student's programs are built beforehand (exercises/grader/build-submission.sh,
 * itself sandboxed), and every run of one happens through build/bin/sandbox
 * in a fresh scratch directory. A test's verdict is Check's: what the test
 * observed (the program's output, its exit, bytes on a socket), never
 * anything the program claims about itself.
 *
 * Failure messages are one line (the student's one-line reason; a stray
 * newline would also break the TAP log), and excerpts of the program's
 * output in them are escaped (harness_excerpt()).
 *
 * The runner finds its way from the environment grade.sh sets:
 *   GRADE_PROGRAMS  the built programs (and their objects)
 *   GRADE_SCRATCH   where per-run scratch directories go
 *   GRADE_SANDBOX   the sandbox program
 *   GRADE_EXERCISE  the exercise directory (tests/ holds expected output)
 *   GRADE_COURSE    the top of the course tree (.ci/purity.sh)
 */
#ifndef EXERCISES_HARNESS_H
#define EXERCISES_HARNESS_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* --- Registering graded tests (register.c) ------------------------------------ */

/* Each graded test is its own TCase named after the test (that name is what
   the manifest, exercises/NN-slug/points, gives points to), with its own
   time limit in seconds. Hidden tests carry the tag "hidden": students
   running `make exercise-N` skip them. */
#define GRADED_TEST(suite, test, seconds) \
    tcase_add_test(harness_case((suite), #test, (seconds), false), test)
#define HIDDEN_TEST(suite, test, seconds) \
    tcase_add_test(harness_case((suite), #test, (seconds), true), test)
TCase *harness_case(Suite *suite, const char *name, int seconds, bool hidden);

/* The time limit of a test that runs the purity check (assert_style(),
   harness_purity()): the check's own limit, PURITY_TIMEOUT_MS in
   purity.c (100 s, measured: up to 40 s under load), and room for the
   rest of the test. The 30 s these tests once had expired in every
   grading of exercise 05 run with the CPU busy. */
enum { PURITY_TEST_S = 120 };

/* Every test registered so far, for `runner --list`. */
struct harness_registered {
    const char *name;
    bool hidden;
};
extern struct harness_registered harness_cases[];
extern size_t harness_ncases;

/* Defined by the exercise: tests/visible.c adds the visible tests;
   tests/hidden.c, which `make release` leaves out, the hidden ones. */
void exercise_tests(Suite *suite);
void exercise_hidden_tests(Suite *suite) __attribute__((weak));

/* --- Running the student's program (process.c) -------------------------------- */

struct run_options {
    int timeout_ms;      /* wall-clock limit (default 5000) */
    int memory_mb;       /* address space per process (default 512) */
    bool share_network;  /* run in the test's network namespace (see
                            harness_private_network()) instead of its own */
    const char *const *wrapper; /* run the program under this command,
                                   e.g. { "valgrind", "-q", NULL } */
};

/* One run of a student's program. */
struct subject {
    pid_t sandbox;       /* the sandbox process; -1 once finished */
    int out_fd, err_fd;
    char *run_dir;       /* per-run directory: work/ (the scratch) and status */
    char *name;          /* the program, for messages */
    char *out, *err;     /* what it printed so far (capped by the sandbox) */
    size_t out_len, err_len;
};

/* How a run ended. */
struct outcome {
    bool timed_out;
    bool output_limit;   /* stopped for printing more than the cap */
    bool exited;         /* else killed by signal `code` (or timed out) */
    int code;            /* exit status or signal number */
    bool out_truncated;
    char *out, *err;     /* everything it printed (up to the cap) */
};

/* Start PROGRAM (a file in GRADE_PROGRAMS, e.g. "event2-server") with
   ARGS (NULL-terminated, may be NULL) in a fresh scratch copy. A missing
   program fails the test: the build did not make it. */
void subject_start(struct subject *s, const char *program, const char *const args[],
                   const struct run_options *options);

/* Read whatever the program prints for up to ms milliseconds; returns
   false if it has finished (its output is complete). */
bool subject_pump(struct subject *s, int ms);

/* Has the program finished? (Reads its pending output.) */
bool subject_finished(struct subject *s);

/* Send a signal to the program's process group (through the sandbox). */
void subject_signal(struct subject *s, int sig);

/* Wait up to timeout_ms for the program to end (the sandbox's own limit
   ends it in any case), collect its outcome, remove its scratch copy. */
void subject_finish(struct subject *s, int timeout_ms, struct outcome *o);

/* End the program now (the sandbox and everything in it are killed) and
   clean up; for servers a test is done with. */
void subject_stop(struct subject *s);

/* Start, wait, collect. */
void run_subject(const char *program, const char *const args[], const struct run_options *options,
                 struct outcome *o);

/* run_subject(), once per runner: the first test that asks runs the
   program, later tests of the same submission get that run's outcome
   (for programs that read no input and must behave the same every time:
   a submission that hangs then costs its time limit once, not per test). */
void run_subject_once(const char *program, const struct run_options *options, struct outcome *o);

void outcome_free(struct outcome *o);

/* "exited with status 3", "was killed by signal 11 (Segmentation fault)",
   "did not finish within 5000 ms", "printed more than 262144 bytes": for
   messages. */
const char *outcome_describe(const struct outcome *o, char *buf, size_t size);

/* Fail unless the program exited with status 0. */
void assert_exited_zero(const struct outcome *o, const char *program);

/* --- Judging output (trace.c) ----------------------------------------------------- */

/* At most max bytes of text on one line: line breaks as ↵ (results.json
   gets real ones back), other control characters and non-ASCII as \xHH,
   "…[cut: N more bytes]" when cut. Returns a static buffer (one of four,
   so a message may use several). */
const char *harness_excerpt(const char *text, size_t len, size_t max);

/* A file of the exercise's tests/ directory (expected traces), read whole. */
char *harness_expected(const char *name);

/* Fail with the first line where got differs from want, naming what. */
void assert_same_trace(const char *want, const char *got, const char *what);

/* The lines of text whose second field is step ("callback"), as their
   first fields joined by spaces: "alarm reply retry". Caller frees. */
char *harness_subjects_of_step(const char *text, const char *step);

/* --- Judging the code (purity.c) -------------------------------------------------- */

/* Run .ci/purity.sh STYLE on the student's object OBJECT (e.g.
   "event2.o"); returns its complaints, one per line, with the scratch
   paths cut off ("" if the object is pure). Caller frees. */
char *harness_purity(const char *style, const char *object);

/* Fail unless the purity check passes: "event2-server.c is not event2
   style: ...". */
void assert_style(const char *style, const char *object);

/* The libevent functions an object calls (nm -u), one per line. */
char *harness_undefined_symbols(const char *object);

/* Does the object call function (one of its nm -u names)? */
bool harness_calls(const char *object, const char *function);

/* --- Talking to the program over TCP (tcp.c) ----------------------------------- */

/* Put the calling test in a network namespace of its own with only
   loopback up, so a server under test and the test's client share a
   network nobody else sees. Returns false where that is not allowed (not
   root): then the host's loopback is used. Run programs with
   share_network afterwards either way. */
bool harness_private_network(void);

/* A free TCP port on 127.0.0.1. */
int harness_free_port(void);

/* Connect to 127.0.0.1:port, retrying while the server (s) starts up;
   fails the test if it finished or did not accept within timeout_ms. */
int harness_connect(struct subject *s, int port, int timeout_ms);

/* Start a server program (it takes --port P) in the test's private
   network with extra arguments (NULL-terminated, may be NULL); returns the
   port once it accepts connections. */
int harness_start_server(struct subject *s, const char *program, const char *const extra[]);

/* Connect once: the socket, or -1 with errno set. */
int harness_try_connect(int port);

/* A listening socket on 127.0.0.1, port in *port. */
int harness_listen(int *port);

/* accept() within timeout_ms, or -1. */
int harness_accept(int listener, int timeout_ms);

/* Write all of data (fails the test on error). */
void harness_send(int fd, const void *data, size_t len);
void harness_send_text(int fd, const char *text);

/* Read until the bytes read so far contain needle (NULL: until EOF), EOF,
   an error or timeout_ms. Returns what was read (NUL-terminated; *len its
   length, *eof whether the peer closed or reset). Caller frees. */
char *harness_receive(int fd, const char *needle, int timeout_ms, size_t *len, bool *eof);

/* Read until exactly `expected` has come, or what came can no longer
   become it (it is not a prefix of it), EOF, an error or timeout_ms: a
   wrong answer fails at once instead of waiting out the time limit. */
char *harness_receive_expecting(int fd, const char *expected, int timeout_ms, size_t *len,
                                bool *eof);

/* Send `sent` (nothing if it is empty) and expect exactly `expected` back
   within timeout_ms (harness_receive_expecting()); the failure message
   names `what`. */
void assert_reply(int fd, const char *sent, const char *expected, int timeout_ms, const char *what);

/* Send len bytes while reading what comes back, until len bytes came back,
   the peer closed, or timeout_ms. Returns what came back (*got bytes). */
char *harness_exchange(int fd, const void *data, size_t len, int timeout_ms, size_t *got);

/* Wait up to timeout_ms for the peer to close (EOF or reset), reading and
   discarding. Returns the milliseconds waited, or -1 if it stayed open. */
long harness_wait_close(int fd, int timeout_ms);

/* Nothing arrives within ms milliseconds (and the connection stays open)? */
bool harness_quiet_for(int fd, int ms, char **got);

/* Milliseconds on a monotonic clock, and sleeping: now_ms() and
   sleep_ms() from lessons/lib/clock.h. */
#include "clock.h"

#endif
