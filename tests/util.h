/*
 * util.h - helpers the Check suites share: run a program and capture what it
 * prints, read files, and find the lessons.
 */
#ifndef TESTS_UTIL_H
#define TESTS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

struct run_result {
    char *out;       /* everything written to stdout (NUL-terminated) */
    char *err;       /* everything written to stderr */
    int status;      /* exit status, or 128 + signal number */
    bool timed_out;  /* killed after the time limit */
};

/* Run argv[0] (looked up in PATH) in its own process group with EVENT_*,
   MAKEFLAGS, MAKELEVEL and MFLAGS removed from its environment (plus the
   NAME=VALUE settings in env, which may be NULL). The whole group is killed
   after timeout_ms. */
void run_program(const char *const argv[], const char *const env[], int timeout_ms,
                 struct run_result *result);
void run_result_free(struct run_result *result);

/* A file's contents, NUL-terminated; NULL if it cannot be read. */
char *read_file(const char *path);

/* The expected trace for one style: lines starting with the other style's
   name ("event1 " or "event2 ") removed. Caller frees. */
char *expected_for_style(const char *expected, const char *style);

/* Drop every line starting with "event1 " or "event2 ". Caller frees. */
char *without_style_lines(const char *trace);

/* Where the lesson programs are (LESSONS_BIN, default build/bin) and the
   build directory (LESSONS_BUILD, default build). */
const char *bin_dir(void);
const char *build_dir(void);

/* The lesson directories, "lessons/NN-slug", sorted; count in *n. */
char **lesson_dirs(size_t *n);

/* Make a fresh directory under build/tmp; caller frees the path. */
char *make_temp_dir(void);

/* Recursively remove a directory made by make_temp_dir(). */
void remove_tree(const char *path);

/* CLOCK_MONOTONIC in milliseconds: for deadlines, never for ordering. */
long long now_ms(void);

/* Remove EVENT_*, MAKEFLAGS, MAKELEVEL and MFLAGS from this process's
   environment, then add the NAME=VALUE settings in env (may be NULL): what
   a lesson program must see (its expected trace was made without them). */
void scrub_environment(const char *const env[]);

/* Whether fd is an open descriptor. */
bool is_open(int fd);

struct sockaddr_in;
/* A blocking listening socket on 127.0.0.1, port chosen by the kernel;
   *address is where it listens. Fails the test if it cannot. */
int listen_on_loopback(struct sockaddr_in *address);

/* BEV_EVENT_* flags as "READING|EOF" in buf. */
const char *bev_flags(short what, char *buf, size_t size);

#endif
