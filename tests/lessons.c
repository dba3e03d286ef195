/*
 * lessons.c - the lessons suite: for every lessons/NN-slug directory, one
 * test case "lesson-NN" that runs both variants and checks
 *   - each variant's trace equals the lesson's expected.trace (minus the
 *     other style's lines),
 *   - the two variants agree on every line that is not style-only,
 *   - expected.trace follows docs/trace-format.md and holds no addresses,
 *   - the lesson has its README and its walkthrough in docs/lessons/.
 * A lesson with several programs ("roles": event1-server.c, event1-client.c,
 * ...) is run as a session per style: the server on port 0, each other role
 * with --port, then SIGTERM to the server, which must exit 0. Each role's
 * trace (a server's without its first line, "listening on ...") is checked
 * against expected-ROLE.trace the same way.
 * Lessons are found at run time, so a new lesson is tested without touching
 * this file.
 */
#define _GNU_SOURCE /* asprintf */
#include "network_proc.h"
#include "suites.h"
#include "util.h"

#include <glob.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { RUN_TIMEOUT_MS = 20000 };

enum { MAX_LESSONS = 100, MAX_ROLES = 64 };

static char **dirs;
static size_t ndirs;
static char case_names[MAX_LESSONS][16]; /* Check keeps the pointers */

static void free_dirs(void)
{
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i]);
    free(dirs);
}

/* "lessons/02-event-lifecycle" -> "02" */
static void number_of(const char *dir, char number[3])
{
    const char *base = strrchr(dir, '/') + 1;
    number[0] = base[0];
    number[1] = base[1];
    number[2] = '\0';
}

static char *run_variant(const char *dir, const char *style)
{
    char number[3], *path;
    number_of(dir, number);
    if (asprintf(&path, "%s/%s-%s", bin_dir(), number, style) < 0)
        abort();
    ck_assert_msg(access(path, X_OK) == 0, "%s is not built (make all)", path);
    const char *argv[] = { path, NULL };
    struct run_result r;
    run_program(argv, NULL, RUN_TIMEOUT_MS, &r);
    ck_assert_msg(!r.timed_out, "%s did not finish within %d ms", path, RUN_TIMEOUT_MS);
    ck_assert_msg(r.status == 0, "%s exited with status %d; stderr:\n%s", path, r.status, r.err);
    free(path);
    free(r.err);
    return r.out;
}

/* Fail with the first line where the two texts differ. */
static void assert_same_lines(const char *want, const char *got, const char *what)
{
    if (strcmp(want, got) == 0)
        return;
    int line = 1;
    while (*want && *want == *got) {
        if (*want == '\n')
            line++;
        want++;
        got++;
    }
    while (line > 1 && want[-1] != '\n') { /* back to the start of the line */
        want--;
        got--;
    }
    ck_abort_msg("%s: first difference at line %d\n  expected: %.*s\n  actual:   %.*s", what, line,
                 (int)strcspn(want, "\n"), want, (int)strcspn(got, "\n"), got);
}

/* --- Lessons with several programs ------------------------------------------- */

/* The roles of lesson directory dir, server first ("server", "client"): the
   NAME of each event1-NAME.c. None for a lesson of single programs. */
static size_t roles_of(const char *dir, char *roles[MAX_ROLES])
{
    char *pattern;
    glob_t found;
    size_t n = 0;
    if (asprintf(&pattern, "%s/event1-*.c", dir) < 0)
        abort();
    if (glob(pattern, 0, NULL, &found) == 0) {
        for (size_t i = 0; i < found.gl_pathc && n < MAX_ROLES; i++) {
            const char *name = strrchr(found.gl_pathv[i], '/') + strlen("/event1-");
            char *role = strndup(name, strlen(name) - strlen(".c"));
            if (strcmp(role, "server") == 0) { /* first */
                memmove(roles + 1, roles, n * sizeof *roles);
                roles[0] = role;
            } else {
                roles[n] = role;
            }
            n++;
        }
        globfree(&found);
    }
    free(pattern);
    return n;
}

static void free_roles(char *roles[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(roles[i]);
}

/* Run one role's program (with --port PORT when port is not NULL); its
   trace. */
static char *run_role(const char *dir, const char *style, const char *role, const char *port)
{
    char number[3], *program;
    number_of(dir, number);
    if (asprintf(&program, "%s/%s-%s-%s", bin_dir(), number, style, role) < 0)
        abort();
    ck_assert_msg(access(program, X_OK) == 0, "%s is not built (make all)", program);
    const char *argv[] = { program, port != NULL ? "--port" : NULL, port, NULL };
    struct run_result result;
    run_program(argv, NULL, RUN_TIMEOUT_MS, &result);
    ck_assert_msg(!result.timed_out, "%s did not finish within %d ms", program, RUN_TIMEOUT_MS);
    ck_assert_msg(result.status == 0, "%s exited with status %d; stderr:\n%s", program,
                  result.status, result.err);
    free(result.err);
    free(program);
    return result.out;
}

static struct netproc session_server; /* killed by the teardown if a test fails */

static void kill_session_server(void)
{
    netproc_release(&session_server);
}

/* One style's session; traces[r] is role r's trace. */
static void run_session(const char *dir, const char *style, char *roles[], size_t nroles,
                        char *traces[])
{
    char number[3], *server, port[16];
    number_of(dir, number);
    ck_assert_msg(nroles >= 2, "%s: a lesson with a server needs at least one other role", dir);
    if (asprintf(&server, "%s/%s-%s-server", bin_dir(), number, style) < 0)
        abort();
    ck_assert_msg(access(server, X_OK) == 0, "%s is not built (make all)", server);
    netproc_start(&session_server, server, NULL);
    snprintf(port, sizeof port, "%d", session_server.s.port);

    for (size_t r = 1; r < nroles; r++)
        traces[r] = run_role(dir, style, roles[r], port);
    int status = netproc_stop(&session_server, SIGTERM, RUN_TIMEOUT_MS);
    char *errors = netproc_errors(&session_server);
    ck_assert_msg(status == 0, "%s: status %d after SIGTERM (-1: still running); stderr:\n%s",
                  server, status, errors ? errors : "");
    free(errors);
    traces[0] = netproc_trace(&session_server);
    ck_assert_ptr_nonnull(traces[0]);
    netproc_release(&session_server);
    free(server);
}

static char *expected_path(const char *dir, const char *role)
{
    char *path;
    if (role == NULL ? asprintf(&path, "%s/expected.trace", dir) < 0
                     : asprintf(&path, "%s/expected-%s.trace", dir, role) < 0)
        abort();
    return path;
}

/* Compare one trace with its expected file, for one style. */
static void check_trace(const char *dir, const char *role, const char *style, const char *actual)
{
    char *path = expected_path(dir, role);
    char *expected_file = read_file(path);
    ck_assert_msg(expected_file != NULL, "cannot read %s", path);
    char *expected = trace_for_style(expected_file, style);
    char what[160];
    snprintf(what, sizeof what, "%s %s%s%s vs %s", dir, style, role ? " " : "", role ? role : "",
             strrchr(path, '/') + 1);
    assert_same_lines(expected, actual, what);
    free(expected);
    free(expected_file);
    free(path);
}

/* A lesson with a server runs as a session (the server, then each other
   role against it); roles without a server each run alone. */
static void run_roles(const char *dir, const char *style, char *roles[], size_t nroles,
                      char *traces[])
{
    if (strcmp(roles[0], "server") == 0)
        run_session(dir, style, roles, nroles, traces);
    else
        for (size_t r = 0; r < nroles; r++)
            traces[r] = run_role(dir, style, roles[r], NULL);
}

static void check_roles(const char *dir, const char *style, char *roles[], size_t nroles)
{
    char *traces[MAX_ROLES] = { 0 };
    run_roles(dir, style, roles, nroles, traces);
    for (size_t r = 0; r < nroles; r++) {
        check_trace(dir, roles[r], style, traces[r]);
        free(traces[r]);
    }
}

static void check_variant(int i, const char *style)
{
    char *roles[MAX_ROLES];
    size_t nroles = roles_of(dirs[i], roles);
    if (nroles > 0) {
        check_roles(dirs[i], style, roles, nroles);
        free_roles(roles, nroles);
        return;
    }

    char *path, *expected_file;
    if (asprintf(&path, "%s/expected.trace", dirs[i]) < 0)
        abort();
    expected_file = read_file(path);
    ck_assert_msg(expected_file != NULL, "cannot read %s", path);
    char *expected = trace_for_style(expected_file, style);
    char *actual = run_variant(dirs[i], style);
    char what[128];
    snprintf(what, sizeof what, "%s %s vs %s", dirs[i], style, "expected.trace");
    assert_same_lines(expected, actual, what);
    free(actual);
    free(expected);
    free(expected_file);
    free(path);
}

START_TEST(event1_trace_matches_expected)
{
    check_variant(_i, "event1");
}
END_TEST

START_TEST(event2_trace_matches_expected)
{
    check_variant(_i, "event2");
}
END_TEST

START_TEST(variants_agree)
{
    char *roles[MAX_ROLES];
    size_t nroles = roles_of(dirs[_i], roles);
    if (nroles > 0) {
        char *one[MAX_ROLES] = { 0 }, *two[MAX_ROLES] = { 0 };
        run_roles(dirs[_i], "event1", roles, nroles, one);
        run_roles(dirs[_i], "event2", roles, nroles, two);
        for (size_t r = 0; r < nroles; r++) {
            char *one_common = trace_without_style_lines(one[r]);
            char *two_common = trace_without_style_lines(two[r]);
            char what[96];
            snprintf(what, sizeof what, "%s: event1 vs event2 (style-only lines left out)",
                     roles[r]);
            assert_same_lines(one_common, two_common, what);
            free(one_common);
            free(two_common);
            free(one[r]);
            free(two[r]);
        }
        free_roles(roles, nroles);
        return;
    }
    char *one = run_variant(dirs[_i], "event1");
    char *two = run_variant(dirs[_i], "event2");
    char *one_common = trace_without_style_lines(one);
    char *two_common = trace_without_style_lines(two);
    assert_same_lines(one_common, two_common, "event1 vs event2 (style-only lines left out)");
    free(one);
    free(two);
    free(one_common);
    free(two_common);
}
END_TEST

/* The grammar of docs/trace-format.md: NULL if the line is well formed. */
static const char *trace_line_problem(const char *line)
{
    static regex_t head, state, keyvalue, number, address;
    static bool compiled;
    if (!compiled) {
        const char *flags = "(none|[A-Z]+(\\|[A-Z]+)*)";
        char state_re[256];
        snprintf(state_re, sizeof state_re,
                 "^(non-pending|pending\\(%s\\)(\\+active\\(%s\\))?|active\\(%s\\))$", flags,
                 flags, flags);
        if (regcomp(&head, "^[a-z][a-z0-9_]{0,14} +[a-z][a-z?-]*( |$)", REG_EXTENDED) ||
            regcomp(&state, state_re, REG_EXTENDED) ||
            regcomp(&keyvalue, "^[a-z_]+=[^ ]+$", REG_EXTENDED) ||
            regcomp(&number, "^-?[0-9]+$", REG_EXTENDED) ||
            regcomp(&address, "0x[0-9a-fA-F]{4,}", REG_EXTENDED | REG_NOSUB))
            abort();
        compiled = true;
    }
    for (const char *c = line; *c; c++)
        if (*c < ' ' || *c > '~')
            return "a character that is not printable ASCII";
    if (regexec(&address, line, 0, NULL, 0) == 0)
        return "what looks like an address";
    if (strncmp(line, "note ", 5) == 0 || strncmp(line, "event1 ", 7) == 0 ||
        strncmp(line, "event2 ", 7) == 0)
        return NULL; /* free text */
    if (regexec(&head, line, 0, NULL, 0) != 0)
        return "no NAME STEP at the start";

    char copy[512];
    snprintf(copy, sizeof copy, "%s", line);
    char *save = NULL;
    strtok_r(copy, " ", &save);            /* NAME */
    strtok_r(NULL, " ", &save);            /* STEP */
    for (char *field = strtok_r(NULL, " ", &save); field; field = strtok_r(NULL, " ", &save)) {
        if (regexec(&state, field, 0, NULL, 0) != 0 && regexec(&keyvalue, field, 0, NULL, 0) != 0 &&
            regexec(&number, field, 0, NULL, 0) != 0)
            return "a field that is neither a STATE, a key=value nor a number";
    }
    return NULL;
}

static void check_well_formed(const char *path)
{
    char *text = read_file(path);
    ck_assert_msg(text != NULL && text[0] != '\0', "%s is missing or empty", path);
    int number = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        const char *problem = trace_line_problem(line);
        number++;
        ck_assert_msg(problem == NULL, "%s:%d has %s: %s", path, number, problem, line);
    }
    free(text);
}

START_TEST(expected_trace_is_well_formed)
{
    char *roles[MAX_ROLES];
    size_t nroles = roles_of(dirs[_i], roles);
    for (size_t r = 0; r < (nroles > 0 ? nroles : 1); r++) {
        char *path = expected_path(dirs[_i], nroles > 0 ? roles[r] : NULL);
        check_well_formed(path);
        free(path);
    }
    free_roles(roles, nroles);
}
END_TEST

START_TEST(lesson_has_readme_and_walkthrough)
{
    const char *slug = strrchr(dirs[_i], '/') + 1;
    char *readme_path, *walkthrough, *link;
    if (asprintf(&readme_path, "%s/README.md", dirs[_i]) < 0 ||
        asprintf(&walkthrough, "docs/lessons/%s.md", slug) < 0 ||
        asprintf(&link, "../../docs/lessons/%s.md", slug) < 0)
        abort();
    char *readme = read_file(readme_path);
    ck_assert_msg(readme != NULL, "%s is missing", readme_path);
    ck_assert_msg(access(walkthrough, R_OK) == 0, "%s is missing", walkthrough);
    ck_assert_msg(strstr(readme, link) != NULL, "%s does not link to %s", readme_path, link);
    /* Their titles carry the directory's number: "# Lesson 08: ...",
       "# Walkthrough 08: ..." (a renumbering must not leave one behind). */
    char number[3], want[32];
    number_of(dirs[_i], number);
    snprintf(want, sizeof want, "# Lesson %s: ", number);
    ck_assert_msg(strncmp(readme, want, strlen(want)) == 0, "%s does not start with \"%s\"",
                  readme_path, want);
    char *text = read_file(walkthrough);
    snprintf(want, sizeof want, "# Walkthrough %s: ", number);
    ck_assert_msg(text != NULL && strncmp(text, want, strlen(want)) == 0,
                  "%s does not start with \"%s\"", walkthrough, want);
    /* Walkthroughs read in a pager: the styles one after the other
       (**event1**, then **event2**), never a raw HTML table; the site lays
       them side by side (docs/site/convert.py converts a table). */
    ck_assert_msg(strstr(text, "<table") == NULL,
                  "%s has an HTML table: docs/site/convert.py %s turns it into the pager form",
                  walkthrough, walkthrough);
    free(text);
    /* The course's index tables (README.md, the site) take a lesson's calls
       from one line of its README, "**Calls:** event1 ... · event2 ...". */
    const char *calls = strstr(readme, "\n**Calls:** event1 ");
    ck_assert_msg(calls != NULL, "%s has no \"**Calls:** event1 ... · event2 ...\" line",
                  readme_path);
    const char *end = strchr(calls + 1, '\n');
    const char *two = strstr(calls, " · event2 ");
    ck_assert_msg(two != NULL && (end == NULL || two < end) &&
                      two > calls + strlen("\n**Calls:** event1 ") &&
                      two + strlen(" · event2 ") < (end ? end : two + strlen(two)),
                  "%s: its Calls line needs both an event1 and an event2 part", readme_path);
    free(readme);
    free(readme_path);
    free(walkthrough);
    free(link);
}
END_TEST

/* Likewise an exercise's summary in the index tables: its README's
   "**In short:** ..." line. */
START_TEST(exercise_readmes_say_in_short)
{
    size_t n;
    char **exercises = index_dirs("exercises", &n);
    ck_assert_msg(n > 0, "the index lists no exercise");
    for (size_t i = 0; i < n; i++) {
        char *path;
        if (asprintf(&path, "%s/README.md", exercises[i]) < 0)
            abort();
        char *readme = read_file(path);
        ck_assert_msg(readme != NULL, "%s is missing", path);
        const char *line = strstr(readme, "\n**In short:** ");
        ck_assert_msg(line != NULL && line[strlen("\n**In short:** ")] != '\n',
                      "%s has no \"**In short:** ...\" line", path);
        free(readme);
        free(path);
    }
    free_strings(exercises, n);
}
END_TEST

/* The trace grammar check must itself reject what it is meant to reject. */
START_TEST(trace_grammar_rejects_bad_lines)
{
    ck_assert_ptr_null(trace_line_problem("reader   added      pending(READ|TIMEOUT) timeout=10ms"));
    ck_assert_ptr_null(trace_line_problem("reader   seen       pending(READ)+active(READ)"));
    ck_assert_ptr_nonnull(trace_line_problem("reader   seen       pending(READ) at 0x55d0c0ffee00"));
    /* An address is refused even where the grammar allows any text. */
    ck_assert_ptr_nonnull(trace_line_problem("reader   seen       ptr=0x55d0c0ffee00"));
    ck_assert_ptr_nonnull(trace_line_problem("note     freed 0x55d0c0ffee00"));
    ck_assert_ptr_nonnull(trace_line_problem("reader   seen       pending READ"));
    ck_assert_ptr_nonnull(trace_line_problem("Reader   seen       non-pending"));
    ck_assert_ptr_nonnull(trace_line_problem("reader"));
}
END_TEST

/* docs/trace-format.md: trace lines are written out one at a time, so a
   program that dies loses none it printed. A program built on the trace
   code (lessons/lib, the event2 probe) traces two lines and aborts, its
   standard output a pipe: both lines arrive. */
START_TEST(trace_lines_are_flushed_one_at_a_time)
{
    char *dir = make_temp_dir(), *source, *program;
    if (asprintf(&source, "%s/crash.c", dir) < 0 || asprintf(&program, "%s/crash", dir) < 0)
        abort();
    FILE *f = fopen(source, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#include \"event2.h\"\n"
          "#include <stdlib.h>\n"
          "int main(void)\n"
          "{\n"
          "    trace(\"loop\", \"dispatch\", NULL);\n"
          "    trace_note(\"about to crash\");\n"
          "    abort();\n"
          "}\n",
          f);
    ck_assert_int_eq(fclose(f), 0);
    const char *cc[] = { "cc", "-std=c11", "-D_DEFAULT_SOURCE", "-Ilessons/lib", "-Ievent2",
                         "-o", program, source, "lessons/lib/trace.c", "lessons/lib/flags.c",
                         "event2/probe.c", "-levent", NULL };
    struct run_result r;
    run_program(cc, NULL, 60000, &r);
    ck_assert_msg(r.status == 0, "cc failed:\n%s", r.err);
    run_result_free(&r);
    const char *run[] = { program, NULL };
    run_program(run, NULL, RUN_TIMEOUT_MS, &r);
    ck_assert_int_eq(r.status, 128 + SIGABRT);
    ck_assert_str_eq(r.out, "loop     dispatch\nnote     about to crash\n");
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
    free(source);
    free(program);
}
END_TEST

/* Lesson 01: the lesson programs obey libevent's EVENT_* variables (here
   EVENT_NOEPOLL), and make lesson-N runs them without any, as the expected
   traces were made. */
START_TEST(make_lesson_runs_the_programs_without_event_variables)
{
    const char *env[] = { "EVENT_NOEPOLL=1", NULL };
    char *program;
    if (asprintf(&program, "%s/01-event2", bin_dir()) < 0)
        abort();
    const char *alone[] = { program, NULL };
    struct run_result r;
    run_program(alone, env, RUN_TIMEOUT_MS, &r);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "base     created    method=poll\n") != NULL, "%s", r.out);
    run_result_free(&r);

    char *build;
    if (asprintf(&build, "BUILD=%s", build_dir()) < 0)
        abort();
    const char *make[] = { "make", "--no-print-directory", "lesson-1", build, NULL };
    run_program(make, env, 60000, &r);
    ck_assert_msg(r.status == 0, "make lesson-1 failed:\n%s%s", r.out, r.err);
    ck_assert_msg(strstr(r.out, "method=epoll") != NULL && strstr(r.out, "method=poll") == NULL,
                  "make lesson-1 passed EVENT_NOEPOLL on:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "event2: matches expected.trace") != NULL, "%s", r.out);
    run_result_free(&r);
    free(build);
    free(program);
}
END_TEST

Suite *lessons_suite(void)
{
    Suite *s = suite_create("lessons");
    dirs = index_dirs("lessons", &ndirs);
    atexit(free_dirs);

    TCase *grammar = tcase_create("trace-format");
    tcase_set_timeout(grammar, 60); /* one test compiles a program */
    tcase_add_test(grammar, trace_grammar_rejects_bad_lines);
    tcase_add_test(grammar, trace_lines_are_flushed_one_at_a_time);
    suite_add_tcase(s, grammar);

    TCase *environment = tcase_create("environment");
    tcase_set_timeout(environment, 120);
    tcase_add_test(environment, make_lesson_runs_the_programs_without_event_variables);
    suite_add_tcase(s, environment);

    TCase *index = tcase_create("index");
    tcase_add_test(index, exercise_readmes_say_in_short);
    suite_add_tcase(s, index);

    for (size_t i = 0; i < ndirs && i < MAX_LESSONS; i++) {
        char number[3];
        number_of(dirs[i], number);
        snprintf(case_names[i], sizeof case_names[i], "lesson-%s", number);
        TCase *tc = tcase_create(case_names[i]);
        tcase_set_timeout(tc, 60);
        tcase_add_checked_fixture(tc, NULL, kill_session_server);
        /* A loop test over [i, i+1) hands the lesson's index to the test as _i. */
        tcase_add_loop_test(tc, event1_trace_matches_expected, (int)i, (int)i + 1);
        tcase_add_loop_test(tc, event2_trace_matches_expected, (int)i, (int)i + 1);
        tcase_add_loop_test(tc, variants_agree, (int)i, (int)i + 1);
        tcase_add_loop_test(tc, expected_trace_is_well_formed, (int)i, (int)i + 1);
        tcase_add_loop_test(tc, lesson_has_readme_and_walkthrough, (int)i, (int)i + 1);
        suite_add_tcase(s, tc);
    }
    return s;
}
