/*
 * tooling.c - the tooling suite: what `make` does for students and what
 * keeps the course honest: the style purity check (on a scratch copy of the
 * build, with variants made impure on purpose), lesson selection and its
 * errors, messages for missing dependencies, the docs' code excerpts and
 * test citations, and the kits' symbol lists.
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include <ctype.h>
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Only a hang's bound: make compiles, and on this 2-core VM at load 20-37
   a purity case's make took over 60 s (2026-12-02). The cases' own
   timeouts below leave room for two makes each. */
enum { MAKE_TIMEOUT_MS = 300000 };

static void run_make(const char *const args[], const char *const env[], struct run_result *r)
{
    const char *argv[32] = { "make", "--no-print-directory" };
    size_t n = 2;
    for (size_t i = 0; args[i] != NULL && n < 30; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    run_program(argv, env, MAKE_TIMEOUT_MS, r);
    ck_assert_msg(!r->timed_out, "make did not finish within %d ms", MAKE_TIMEOUT_MS);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* --- Purity ------------------------------------------------------------------ */

/* A scratch copy of what building a lesson needs, with one lesson, 98, made
   of the given variants. Returns the directory. */
static char *scratch_tree(const char *event1_source, const char *event2_source)
{
    char *dir = make_temp_dir(), *script, *path;
    if (asprintf(&script,
                 "mkdir -p '%1$s/lessons/98-impure' '%1$s/exercises' && "
                 "cp -r Makefile event1 event2 .ci '%1$s/' && "
                 "cp -r lessons/lib '%1$s/lessons/' && "
                 "cp -r exercises/grader '%1$s/exercises/'",
                 dir) < 0)
        abort();
    const char *sh[] = { "sh", "-c", script, NULL };
    struct run_result r;
    run_program(sh, NULL, 60000, &r);
    ck_assert_msg(r.status == 0, "making the scratch tree failed: %s", r.err);
    run_result_free(&r);
    free(script);

    if (asprintf(&path, "%s/lessons/98-impure/event1.c", dir) < 0)
        abort();
    write_file(path, event1_source);
    free(path);
    if (asprintf(&path, "%s/lessons/98-impure/event2.c", dir) < 0)
        abort();
    write_file(path, event2_source);
    free(path);
    return dir;
}

static const char clean_event1[] =
    "#include \"event1.h\"\n"
    "int main(void) { struct event_base *b = event_init(); event_base_free(b); return 0; }\n";
static const char clean_event2[] =
    "#include \"event2.h\"\n"
    "int main(void) { struct event_base *b = event_base_new(); event_base_free(b); return 0; }\n";

/* Build one program of the scratch tree; returns make's result. */
static void build_scratch(const char *dir, const char *program, struct run_result *r)
{
    char *target;
    if (asprintf(&target, "build/bin/%s", program) < 0)
        abort();
    /* BUILD and SANITIZE may come from the make running this suite. */
    const char *args[] = { "-C", dir, "BUILD=build", target, NULL };
    run_make(args, NULL, r);
    free(target);
}

START_TEST(purity_accepts_clean_variants)
{
    char *dir = scratch_tree(clean_event1, clean_event2);
    struct run_result r;
    build_scratch(dir, "98-event1", &r);
    ck_assert_msg(r.status == 0, "clean event1 variant did not build:\n%s", r.err);
    run_result_free(&r);
    build_scratch(dir, "98-event2", &r);
    ck_assert_msg(r.status == 0, "clean event2 variant did not build:\n%s", r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(purity_rejects_event1_call_in_event2_variant)
{
    /* event2.h does not declare event_set(); a student who declares it by
       hand gets past the compiler, not past the build. */
    static const char impure[] =
        "#include \"event2.h\"\n"
        "void event_set(struct event *, evutil_socket_t, short,\n"
        "               void (*)(evutil_socket_t, short, void *), void *);\n"
        "static void cb(evutil_socket_t fd, short what, void *arg) { (void)fd; (void)what; (void)arg; }\n"
        "int main(void) {\n"
        "    struct event_base *b = event_base_new();\n"
        "    struct event *ev = event_new(b, -1, 0, cb, NULL);\n"
        "    event_set(ev, -1, 0, cb, NULL);\n"
        "    event_free(ev); event_base_free(b); return 0;\n"
        "}\n";
    char *dir = scratch_tree(clean_event1, impure);
    struct run_result r;
    build_scratch(dir, "98-event2", &r);
    ck_assert_msg(r.status != 0, "an event2 variant calling event_set was built");
    ck_assert_msg(strstr(r.err, "event2 style may not call event_set") != NULL,
                  "the message does not name event_set:\n%s", r.err);
    ck_assert_msg(strstr(r.err, "lessons/98-impure/event2.c") != NULL,
                  "the message does not name the file:\n%s", r.err);
    char *binary;
    if (asprintf(&binary, "%s/build/bin/98-event2", dir) < 0)
        abort();
    ck_assert_msg(access(binary, F_OK) != 0, "the impure program was linked anyway");
    free(binary);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(purity_rejects_event2_call_in_event1_variant)
{
    static const char impure[] =
        "#include \"event1.h\"\n"
        "static void cb(int fd, short what, void *arg) { (void)fd; (void)what; (void)arg; }\n"
        "int main(void) {\n"
        "    struct event_base *b = event_init();\n"
        "    struct event *ev = event_new(b, -1, 0, cb, NULL);\n"
        "    event_free(ev); event_base_free(b); return 0;\n"
        "}\n";
    char *dir = scratch_tree(impure, clean_event2);
    struct run_result r;
    build_scratch(dir, "98-event1", &r);
    ck_assert_msg(r.status != 0, "an event1 variant calling event_new was built");
    ck_assert_msg(strstr(r.err, "event1 style may not call event_new (it is event2 style") != NULL,
                  "the message does not name event_new:\n%s", r.err);
    ck_assert_msg(strstr(r.err, "event_free") != NULL, "event_free was not reported too:\n%s",
                  r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(purity_rejects_compat_header_in_event2_variant)
{
    /* Only 2.x calls, but the 1.x header is read: its macros are 1.x style. */
    static const char impure[] =
        "#include \"event2.h\"\n"
        "#include <event2/event_compat.h>\n"
        "int main(void) { struct event_base *b = event_base_new(); event_base_free(b); return 0; }\n";
    char *dir = scratch_tree(clean_event1, impure);
    struct run_result r;
    build_scratch(dir, "98-event2", &r);
    ck_assert_msg(r.status != 0, "an event2 variant including event_compat.h was built");
    ck_assert_msg(strstr(r.err, "may not include a compat header") != NULL &&
                      strstr(r.err, "event_compat.h") != NULL,
                  "the message does not name the header:\n%s", r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* EVBUFFER_INPUT(bev) is bufferevent_get_input(bev) on 2.1: nm sees one
   symbol either way, so the build reads the source too. A 1.x program
   writes the macro; naming the 2.x function fails, with the line. */
START_TEST(purity_rejects_a_2x_name_behind_a_1x_macro)
{
    static const char with_macro[] =
        "#include \"event1.h\"\n"
        "#include <sys/socket.h>\n"
        "int main(void) {\n"
        "    int fds[2];\n"
        "    struct event_base *b = event_init();\n"
        "    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 1;\n"
        "    struct bufferevent *bev = bufferevent_new(fds[0], NULL, NULL, NULL, NULL);\n"
        "    /* bufferevent_get_input() in a comment is fine */\n"
        "    int n = (int)EVBUFFER_LENGTH(EVBUFFER_INPUT(bev));\n"
        "    bufferevent_free(bev); event_base_free(b); return n;\n"
        "}\n";
    static const char with_function[] =
        "#include \"event1.h\"\n"
        "#include <sys/socket.h>\n"
        "int main(void) {\n"
        "    int fds[2];\n"
        "    struct event_base *b = event_init();\n"
        "    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 1;\n"
        "    struct bufferevent *bev = bufferevent_new(fds[0], NULL, NULL, NULL, NULL);\n"
        "    int n = (int)EVBUFFER_LENGTH(bufferevent_get_input(bev));\n"
        "    bufferevent_free(bev); event_base_free(b); return n;\n"
        "}\n";
    struct run_result r;
    char *dir = scratch_tree(with_macro, clean_event2);
    build_scratch(dir, "98-event1", &r);
    ck_assert_msg(r.status == 0, "an event1 variant writing EVBUFFER_INPUT did not build:\n%s",
                  r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);

    dir = scratch_tree(with_function, clean_event2);
    build_scratch(dir, "98-event1", &r);
    ck_assert_msg(r.status != 0, "an event1 variant naming bufferevent_get_input was built");
    ck_assert_msg(strstr(r.err, "lessons/98-impure/event1.c:8: event1 style may not name "
                                "bufferevent_get_input") != NULL &&
                      strstr(r.err, "EVBUFFER_INPUT") != NULL,
                  "the message does not name the file, the line, the function and the macro:\n%s",
                  r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* The lists themselves: event2's has nothing a compat header declares;
   event1's has none of the 2.x calls the lessons set against 1.x ones. */
START_TEST(symbol_lists_keep_the_styles_apart)
{
    char *event2_list = read_file("event2/symbols.txt");
    char *event1_list = read_file("event1/symbols.txt");
    ck_assert_ptr_nonnull(event2_list);
    ck_assert_ptr_nonnull(event1_list);
    static const char *compat_only[] = { "event_init", "event_set", "event_dispatch", "event_loop",
                                         "event_loopexit", "event_loopbreak", "event_once",
                                         "event_get_method", "event_priority_init",
                                         "bufferevent_new", "bufferevent_settimeout",
                                         "evbuffer_readline", "evbuffer_setcb", "evbuffer_find" };
    static const char *event2_only[] = { "event_new", "event_free", "event_assign",
                                         "event_base_new", "event_base_dispatch", "event_base_loop",
                                         "event_base_loopexit", "event_base_loopbreak",
                                         "event_base_once", "event_base_get_method",
                                         "event_base_priority_init", "bufferevent_socket_new",
                                         "evconnlistener_new_bind", "event_get_supported_methods" };
    char line[128];
    for (size_t i = 0; i < sizeof compat_only / sizeof compat_only[0]; i++) {
        snprintf(line, sizeof line, "\n%s\n", compat_only[i]);
        ck_assert_msg(strstr(event2_list, line) == NULL, "event2/symbols.txt lists %s",
                      compat_only[i]);
        ck_assert_msg(strstr(event1_list, line) != NULL, "event1/symbols.txt lacks %s",
                      compat_only[i]);
    }
    for (size_t i = 0; i < sizeof event2_only / sizeof event2_only[0]; i++) {
        snprintf(line, sizeof line, "\n%s\n", event2_only[i]);
        ck_assert_msg(strstr(event1_list, line) == NULL, "event1/symbols.txt lists %s",
                      event2_only[i]);
        ck_assert_msg(strstr(event2_list, line) != NULL, "event2/symbols.txt lacks %s",
                      event2_only[i]);
    }
    free(event1_list);
    free(event2_list);
}
END_TEST

/* --- make lesson-N, make lessons, make help ---------------------------------- */

static void assert_unknown_lesson(const char *target, const char *message)
{
    char *build;
    if (asprintf(&build, "BUILD=%s", build_dir()) < 0)
        abort();
    const char *args[] = { target, build, NULL };
    struct run_result r;
    run_make(args, NULL, &r);
    ck_assert_msg(r.status != 0, "make %s succeeded", target);
    ck_assert_msg(strstr(r.err, message) != NULL, "make %s: no \"%s\":\n%s", target, message,
                  r.err);
    ck_assert_msg(strstr(r.err, "make lesson-1") != NULL && strstr(r.err, "make lesson-6") != NULL,
                  "make %s does not list the lessons:\n%s", target, r.err);
    run_result_free(&r);
    free(build);
}

START_TEST(unknown_lesson_fails_and_lists_the_lessons)
{
    assert_unknown_lesson("lesson-99", "There is no lesson '99'");
    assert_unknown_lesson("lesson-x", "There is no lesson 'x'");
    assert_unknown_lesson("lesson-0", "There is no lesson '0'");
    assert_unknown_lesson("lesson-", "No lesson given: make lesson-N");
}
END_TEST

START_TEST(lesson_number_with_or_without_leading_zero)
{
    char *build;
    if (asprintf(&build, "BUILD=%s", build_dir()) < 0)
        abort();
    const char *targets[] = { "lesson-2", "lesson-02" };
    for (size_t i = 0; i < 2; i++) {
        const char *args[] = { targets[i], build, NULL };
        struct run_result r;
        run_make(args, NULL, &r);
        ck_assert_msg(r.status == 0, "make %s failed:\n%s%s", targets[i], r.out, r.err);
        ck_assert_msg(strstr(r.out, "event1: matches expected.trace") != NULL &&
                          strstr(r.out, "event2: matches expected.trace") != NULL,
                      "make %s did not report both matches:\n%s", targets[i], r.out);
        ck_assert_msg(strstr(r.out, "\033[") == NULL, "colour codes in piped output");
        ck_assert_msg(strstr(r.out, "reader   seen       pending(READ)+active(READ)") != NULL,
                      "make %s did not show the trace", targets[i]);
        run_result_free(&r);
    }
    free(build);
}
END_TEST

/* On a terminal the lesson output is coloured, unless NO_COLOR is set.
   script(1) gives make a terminal. */
START_TEST(lesson_colour_only_on_a_terminal)
{
    char *command;
    if (asprintf(&command, "make -s lesson-1 BUILD=%s", build_dir()) < 0)
        abort();
    const char *argv[] = { "script", "-qec", command, "/dev/null", NULL };
    struct run_result r;
    run_program(argv, NULL, MAKE_TIMEOUT_MS, &r);
    ck_assert_msg(r.status == 0, "make lesson-1 on a terminal failed:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "\033[1mLesson 01") != NULL, "no colour on a terminal:\n%s", r.out);
    run_result_free(&r);

    const char *env[] = { "NO_COLOR=1", NULL };
    run_program(argv, env, MAKE_TIMEOUT_MS, &r);
    ck_assert_msg(r.status == 0, "make lesson-1 with NO_COLOR failed:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "Lesson 01") != NULL && strstr(r.out, "\033[") == NULL,
                  "colour despite NO_COLOR:\n%s", r.out);
    run_result_free(&r);
    free(command);
}
END_TEST

/* The widest line of text, not counting colour codes (ESC [ ... m) and
   counting a UTF-8 character once. */
static size_t widest_line(const char *text)
{
    size_t widest = 0, width = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\033') {
            while (*p != '\0' && *p != 'm')
                p++;
            if (*p == '\0')
                break;
        } else if (*p == '\n' || *p == '\r') {
            width = 0;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            if (++width > widest)
                widest = width;
        }
    }
    return widest;
}

/* On a terminal, make lesson-N fits its width: side by side when both
   traces fit, one above the other when they do not (lesson 07's lines are
   up to 94 characters). In a pipe, whole lines side by side, as always.
   script(1) gives make a terminal; COLUMNS says how wide it is. */
START_TEST(lesson_output_fits_the_terminal)
{
    char *command;
    if (asprintf(&command, "make -s lesson-7 BUILD=%s", build_dir()) < 0)
        abort();
    const char *argv[] = { "script", "-qec", command, "/dev/null", NULL };
    struct run_result r;
    const char *narrow[] = { "COLUMNS=80", NULL };
    run_program(argv, narrow, MAKE_TIMEOUT_MS, &r);
    ck_assert_msg(r.status == 0, "make lesson-7 on a terminal failed:\n%s", r.out);
    ck_assert_msg(widest_line(r.out) <= 80, "a line of %zu columns on an 80-column terminal:\n%s",
                  widest_line(r.out), r.out);
    ck_assert_msg(strstr(r.out, "only this style prints") != NULL,
                  "80 columns: not one style above the other:\n%s", r.out);
    run_result_free(&r);

    const char *wide[] = { "COLUMNS=250", NULL };
    run_program(argv, wide, MAKE_TIMEOUT_MS, &r);
    ck_assert_msg(r.status == 0, "make lesson-7 on a wide terminal failed:\n%s", r.out);
    ck_assert_msg(widest_line(r.out) <= 250 && strstr(r.out, "only this style prints") == NULL,
                  "250 columns: not side by side, or wider than the terminal:\n%s", r.out);
    run_result_free(&r);
    free(command);

    char *build;
    if (asprintf(&build, "BUILD=%s", build_dir()) < 0)
        abort();
    const char *pipe_args[] = { "-s", "lesson-7", build, NULL };
    run_make(pipe_args, narrow, &r);
    ck_assert_msg(r.status == 0, "make lesson-7 in a pipe failed:\n%s", r.err);
    ck_assert_msg(widest_line(r.out) > 2 * 90, "in a pipe the traces are not side by side, whole:\n%s",
                  r.out);
    run_result_free(&r);
    free(build);
}
END_TEST

START_TEST(make_lessons_lists_every_lesson)
{
    const char *args[] = { "lessons", NULL };
    struct run_result r;
    run_make(args, NULL, &r);
    ck_assert_int_eq(r.status, 0);
    size_t n;
    char **dirs = index_dirs("lessons", &n);
    ck_assert_uint_ge(n, 6);
    for (size_t i = 0; i < n; i++) {
        char number[8];
        snprintf(number, sizeof number, "  %.2s  ", strrchr(dirs[i], '/') + 1);
        ck_assert_msg(strstr(r.out, number) != NULL, "make lessons does not list %s:\n%s",
                      dirs[i], r.out);
    }
    free_strings(dirs, n);
    ck_assert_msg(strstr(r.out, "The event lifecycle") != NULL, "no titles:\n%s", r.out);
    run_result_free(&r);
}
END_TEST

START_TEST(make_help_lists_the_targets)
{
    const char *args[] = { "help", NULL };
    struct run_result r;
    run_make(args, NULL, &r);
    ck_assert_int_eq(r.status, 0);
    const char *targets[] = { "make lesson-N", "make lessons", "make test",
                              "make test-slow", "make memcheck", "make sanitize",
                              "make doctor", "make deps", "make help", "make diff-N",
                              "make bless-N", "make docs" };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
        ck_assert_msg(strstr(r.out, targets[i]) != NULL, "make help lacks %s:\n%s", targets[i],
                      r.out);
    ck_assert_msg(widest_line(r.out) <= 80, "make help is %zu columns wide:\n%s",
                  widest_line(r.out), r.out);
    run_result_free(&r);
}
END_TEST

START_TEST(make_doctor_reports_what_it_found)
{
    const char *args[] = { "doctor", NULL };
    struct run_result r;
    run_make(args, NULL, &r);
    ck_assert_msg(r.status == 0, "make doctor failed:\n%s", r.err);
    const char *words[] = { "compiler", "libevent", "2.1.", "check", "epoll", "default" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        ck_assert_msg(strstr(r.out, words[i]) != NULL, "make doctor does not mention %s:\n%s",
                      words[i], r.out);
    run_result_free(&r);
}
END_TEST

/* --- Missing dependencies ------------------------------------------------------ */

START_TEST(missing_libevent_is_named)
{
    /* pkg-config that finds nothing is what a machine without libevent-dev
       looks like to the Makefile. */
    const char *env[] = { "PKG_CONFIG_LIBDIR=/nonexistent", "PKG_CONFIG_PATH=", NULL };
    const char *args[] = { "need-libevent", NULL };
    struct run_result r;
    run_make(args, env, &r);
    ck_assert_msg(r.status != 0, "need-libevent passed without libevent");
    ck_assert_msg(strstr(r.err, "libevent-dev") != NULL && strstr(r.err, "make deps") != NULL,
                  "the message does not name the package:\n%s", r.err);
    run_result_free(&r);
}
END_TEST

/* make deps on a machine missing two packages, with dpkg-query and
   apt-get stubbed out (tests never install anything): one line per
   package when apt succeeds; apt's own chatter only when it fails, cut
   short, with the path of the whole log. */
static void run_deps_with_stubs(const char *apt_exit, struct run_result *r, char **dir_out)
{
    char *relative = make_temp_dir(), *script;
    char *dir = realpath(relative, NULL); /* the stubs cd; their paths must not move */
    ck_assert_ptr_nonnull(dir);
    free(relative);
    if (asprintf(&script,
                 "mkdir -p '%1$s/bin' && cd '%1$s/bin' && "
                 "printf '#!/bin/sh\ngrep -qx \"$3\" \"%1$s/installed\" 2>/dev/null || exit 1\n"
                 "case \"$2\" in *Version*) echo 1.0;; *) echo install ok installed;; esac\n'"
                 " > dpkg-query && "
                 "printf '#!/bin/sh\nfor i in $(seq 49); do echo apt chatter $i; done\n"
                 "[ \"$1\" = install ] || exit 0\n[ %2$s = 0 ] || exit %2$s\n"
                 "for p; do echo \"$p\" >> \"%1$s/installed\"; done\n' > apt-get && "
                 "chmod +x dpkg-query apt-get && printf 'make\\ngcc\\n' > '%1$s/installed'",
                 dir, apt_exit) < 0)
        abort();
    const char *sh[] = { "sh", "-c", script, NULL };
    run_program(sh, NULL, 60000, r);
    ck_assert_msg(r->status == 0, "making the stubs failed: %s", r->err);
    run_result_free(r);
    free(script);
    char *path, *build;
    if (asprintf(&path, "PATH=%s/bin:%s", dir, getenv("PATH")) < 0 ||
        asprintf(&build, "BUILD=%s", dir) < 0)
        abort();
    const char *env[] = { path, build, NULL };
    const char *argv[] = { ".ci/deps.sh", "make", "gcc", "libevent-dev", "check", NULL };
    run_program(argv, env, 120000, r);
    free(path);
    free(build);
    *dir_out = dir;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text != '\0'; text++)
        n += *text == '\n';
    return n;
}

START_TEST(deps_prints_a_line_per_package_and_apt_only_on_failure)
{
    struct run_result r;
    char *dir;
    run_deps_with_stubs("0", &r, &dir);
    ck_assert_msg(r.status == 0, "make deps failed with a working apt:\n%s%s", r.out, r.err);
    ck_assert_msg(strstr(r.out, "2 of 4 packages to install: libevent-dev check") != NULL &&
                      strstr(r.out, "✓ libevent-dev") != NULL && strstr(r.out, "✓ check") != NULL,
                  "no line per package:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "apt chatter") == NULL && strstr(r.err, "apt chatter") == NULL,
                  "apt's output shown although it succeeded:\n%s%s", r.out, r.err);
    ck_assert_msg(count_lines(r.out) <= 6, "%d lines for two packages:\n%s", count_lines(r.out),
                  r.out);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);

    run_deps_with_stubs("100", &r, &dir);
    ck_assert_msg(r.status != 0, "make deps succeeded although apt-get install failed");
    ck_assert_msg(strstr(r.err, "apt-get install failed") != NULL &&
                      strstr(r.err, "apt chatter 49") != NULL && strstr(r.err, "deps.log") != NULL,
                  "the failure does not show apt's last lines and the log:\n%s", r.err);
    ck_assert_msg(count_lines(r.err) <= 30, "%d lines of apt on failure:\n%s", count_lines(r.err),
                  r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
}
END_TEST

START_TEST(missing_check_is_named)
{
    char *dir = make_temp_dir(), *libdir;
    if (asprintf(&libdir, "PKG_CONFIG_LIBDIR=%s", dir) < 0)
        abort();
    /* A pkg-config directory that has libevent (and libevent_pthreads,
       which the course links too) but not check. */
    static const char *const packages[] = { "libevent", "libevent_pthreads" };
    struct run_result r;
    for (size_t i = 0; i < sizeof packages / sizeof packages[0]; i++) {
        const char *where[] = { "pkg-config", "--variable=pcfiledir", packages[i], NULL };
        run_program(where, NULL, 5000, &r);
        ck_assert_int_eq(r.status, 0);
        r.out[strcspn(r.out, "\n")] = '\0';
        char *from, *to;
        if (asprintf(&from, "%s/%s.pc", r.out, packages[i]) < 0 ||
            asprintf(&to, "%s/%s.pc", dir, packages[i]) < 0)
            abort();
        run_result_free(&r);
        char *text = read_file(from);
        ck_assert_ptr_nonnull(text);
        write_file(to, text);
        free(text);
        free(from);
        free(to);
    }

    const char *env[] = { libdir, "PKG_CONFIG_PATH=", NULL };
    const char *args[] = { "need-check", NULL };
    run_make(args, env, &r);
    ck_assert_msg(r.status != 0, "need-check passed without check");
    ck_assert_msg(strstr(r.err, "apt-get install check") != NULL,
                  "the message does not name the package:\n%s", r.err);
    run_result_free(&r);
    free(libdir);
    remove_tree(dir);
    free(dir);
}
END_TEST

/* --- Docs ---------------------------------------------------------------------- */

START_TEST(docs_excerpts_match_their_sources)
{
    const char *argv[] = { "docs/snippets.sh", "--check", NULL };
    struct run_result r;
    run_program(argv, NULL, 120000, &r); /* a busy machine: 33 s seen */
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_result_free(&r);
}
END_TEST

/* A citation is `SUITE/TEST` in backquotes, where tests/SUITE.c is a suite
   file: every such TEST must exist there, and every lesson README must cite
   at least one. The exercises' hints are read too: a hint is taught as
   much as a README is. */
START_TEST(docs_cite_only_existing_tests)
{
    glob_t found;
    ck_assert_int_eq(glob("lessons/*/README.md", 0, NULL, &found), 0);
    glob("README.md", GLOB_APPEND, NULL, &found);
    glob("*/README.md", GLOB_APPEND, NULL, &found);
    glob("docs/*.md", GLOB_APPEND, NULL, &found);
    glob("docs/lessons/*.md", GLOB_APPEND, NULL, &found);
    glob("exercises/*/README.md", GLOB_APPEND, NULL, &found);
    glob("exercises/*/hints/*.md", GLOB_APPEND, NULL, &found);
    regex_t cite;
    ck_assert_int_eq(regcomp(&cite, "`([a-z][a-z0-9_]*)/([a-z][a-z0-9_]*)`", REG_EXTENDED), 0);
    for (size_t i = 0; i < found.gl_pathc; i++) {
        char *text = read_file(found.gl_pathv[i]);
        int citations = 0;
        regmatch_t m[3];
        for (const char *p = text; regexec(&cite, p, 3, m, 0) == 0; p += m[0].rm_eo) {
            char suite_file[160], wanted[160];
            snprintf(suite_file, sizeof suite_file, "tests/%.*s.c", (int)(m[1].rm_eo - m[1].rm_so),
                     p + m[1].rm_so);
            char path[160], suite_dir[160];
            snprintf(path, sizeof path, "%.*s", (int)(m[0].rm_eo - m[0].rm_so) - 2, p + m[0].rm_so + 1);
            snprintf(suite_dir, sizeof suite_dir, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so);
            if (access(path, F_OK) == 0 || (access(suite_file, F_OK) != 0 && access(suite_dir, F_OK) == 0))
                continue; /* a path such as `lessons/lib` or `docs/lessons`, not a citation */
            char *tests = read_file(suite_file);
            ck_assert_msg(tests != NULL, "%s cites %.*s, but there is no suite %s", found.gl_pathv[i],
                          (int)(m[0].rm_eo - m[0].rm_so), p + m[0].rm_so, suite_file);
            snprintf(wanted, sizeof wanted, "START_TEST(%.*s)", (int)(m[2].rm_eo - m[2].rm_so),
                     p + m[2].rm_so);
            ck_assert_msg(strstr(tests, wanted) != NULL, "%s cites %.*s, which is not a test in %s",
                          found.gl_pathv[i], (int)(m[0].rm_eo - m[0].rm_so), p + m[0].rm_so,
                          suite_file);
            citations++;
            free(tests);
        }
        if (strncmp(found.gl_pathv[i], "lessons/", 8) == 0 && isdigit((unsigned char)found.gl_pathv[i][8]))
            ck_assert_msg(citations > 0, "%s cites no test", found.gl_pathv[i]);
        free(text);
    }
    regfree(&cite);
    globfree(&found);
}
END_TEST

/* Compile a program that leaks into DIR/PROGRAM (DIR/SUBDIR/PROGRAM when
   SUBDIR is not NULL), run SCRIPT on it, and require a failure that names
   the leak. */
static void assert_memcheck_reports_a_leak(const char *script, const char *subdir,
                                           const char *program_name)
{
    char *dir = make_temp_dir(), *where, *source, *program;
    if (asprintf(&where, "%s%s%s", dir, subdir ? "/" : "", subdir ? subdir : "") < 0 ||
        asprintf(&source, "%s/leak.c", dir) < 0 ||
        asprintf(&program, "%s/%s", where, program_name) < 0)
        abort();
    if (subdir != NULL)
        ck_assert_msg(mkdir(where, 0755) == 0, "cannot create %s", where);
    write_file(source, "#include <stdlib.h>\n"
                       "int main(void) { char *p = malloc(64); p[0] = 1; return p == NULL; }\n");
    const char *cc[] = { "cc", "-g", "-o", program, source, NULL };
    struct run_result r;
    run_program(cc, NULL, 120000, &r);
    ck_assert_msg(r.status == 0, "cc failed: %s", r.err);
    run_result_free(&r);
    const char *memcheck[] = { script, program, NULL };
    char *build;
    if (asprintf(&build, "BUILD=%s", build_dir()) < 0) /* where build/bin/course is */
        abort();
    const char *env[] = { build, NULL };
    run_program(memcheck, env, MAKE_TIMEOUT_MS, &r);
    free(build);
    ck_assert_msg(r.status != 0, "%s passed a leaking program:\n%s", script, r.out);
    ck_assert_msg(strstr(r.out, "definitely lost") != NULL, "no leak report:\n%s", r.out);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
    free(where);
    free(source);
    free(program);
}

/* make memcheck must be able to fail: a program that leaks is reported. */
START_TEST(memcheck_reports_a_leak)
{
    assert_memcheck_reports_a_leak("tests/memcheck.sh", NULL, "97-event1");
}
END_TEST

/* And its exercises' half (tests/memcheck-solutions.sh): a solution
   that leaks is reported too. The program stands where make memcheck
   builds exercise 01's solution: a directory named after the exercise. */
START_TEST(memcheck_reports_a_leak_in_a_solution)
{
    assert_memcheck_reports_a_leak("tests/memcheck-solutions.sh", "01-port-to-event2",
                                   "event2");
}
END_TEST

Suite *tooling_suite(void)
{
    Suite *s = suite_create("tooling");

    TCase *purity = tcase_create("purity");
    tcase_set_timeout(purity, 700);
    tcase_add_test(purity, purity_accepts_clean_variants);
    tcase_add_test(purity, purity_rejects_event1_call_in_event2_variant);
    tcase_add_test(purity, purity_rejects_event2_call_in_event1_variant);
    tcase_add_test(purity, purity_rejects_compat_header_in_event2_variant);
    tcase_add_test(purity, purity_rejects_a_2x_name_behind_a_1x_macro);
    tcase_add_test(purity, symbol_lists_keep_the_styles_apart);
    suite_add_tcase(s, purity);

    TCase *make = tcase_create("make");
    tcase_set_timeout(make, 700);
    tcase_add_test(make, unknown_lesson_fails_and_lists_the_lessons);
    tcase_add_test(make, lesson_number_with_or_without_leading_zero);
    tcase_add_test(make, lesson_colour_only_on_a_terminal);
    tcase_add_test(make, lesson_output_fits_the_terminal);
    tcase_add_test(make, make_lessons_lists_every_lesson);
    tcase_add_test(make, make_help_lists_the_targets);
    tcase_add_test(make, make_doctor_reports_what_it_found);
    tcase_add_test(make, missing_libevent_is_named);
    tcase_add_test(make, missing_check_is_named);
    tcase_add_test(make, deps_prints_a_line_per_package_and_apt_only_on_failure);
    tcase_add_test(make, memcheck_reports_a_leak);
    tcase_add_test(make, memcheck_reports_a_leak_in_a_solution);
    suite_add_tcase(s, make);

    TCase *docs = tcase_create("docs");
    tcase_set_timeout(docs, 180);
    tcase_add_test(docs, docs_excerpts_match_their_sources);
    tcase_add_test(docs, docs_cite_only_existing_tests);
    suite_add_tcase(s, docs);
    return s;
}
