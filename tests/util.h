/*
 * util.h - helpers only the Check suites use. What they share with the
 * course's tools comes from .ci/lib (proc.h: run a program, read a file;
 * traces.h: an expected trace for one style) and lessons/lib (clock.h,
 * trace.h), included here for every suite.
 */
#ifndef TESTS_UTIL_H
#define TESTS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "proc.h"
#include "trace.h"
#include "traces.h"

/* Where the lesson programs are (LESSONS_BIN, default build/bin) and the
   build directory (LESSONS_BUILD, default build). */
const char *bin_dir(void);

/* 1 when this suite was built with AddressSanitizer (make sanitize): gcc
   says so with __SANITIZE_ADDRESS__, clang with __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define BUILT_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUILT_WITH_ASAN 1
#endif
#endif
#ifndef BUILT_WITH_ASAN
#define BUILT_WITH_ASAN 0
#endif
const char *build_dir(void);

/* The numbered directories of KIND ("lessons", "exercises"), as the
   course's index (.ci/index.sh) lists them: "lessons/NN-slug", sorted;
   count in *n. Free with free_strings(). */
char **index_dirs(const char *kind, size_t *n);
void free_strings(char **strings, size_t n);

/* Make a fresh directory under build/tmp; caller frees the path. */
char *make_temp_dir(void);

/* Whether fd is an open descriptor. */
bool is_open(int fd);

struct sockaddr_in;
/* A blocking listening socket on 127.0.0.1, port chosen by the kernel;
   *address is where it listens. Fails the test if it cannot. */
int listen_on_loopback(struct sockaddr_in *address);

/* The local port of socket fd. Fails the test if it cannot tell. */
int port_of(int fd);

/* Whether /proc/net/tcp lists a line for which MATCH(line, ARG) is true.
   The kernel hands the table out in pieces, and a line can be skipped
   when sockets come and go between two pieces (other suites and programs
   make thousands of them on a busy machine); a line it lists is true. So
   a line not found is looked for again, up to 20 reads of the table: a
   lookup that must find a line does not fail for a skipped one, and one
   that must not find it only takes longer. */
bool tcp_table_has(bool (*match)(const char *line, void *arg), void *arg);

/* Append one entry, formatted, to the space-separated record ORDER (of
   SIZE bytes), cutting what does not fit: the suites record the order in
   which callbacks ran this way and compare the whole string. */
void record_in(char *order, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
