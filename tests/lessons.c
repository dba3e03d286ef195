/*
 * lessons.c - the lessons suite: for every lessons/NN-slug directory, one
 * test case "lesson-NN" that runs both variants and checks
 *   - each variant's trace equals the lesson's expected.trace (minus the
 *     other style's lines),
 *   - the two variants agree on every line that is not style-only,
 *   - expected.trace follows docs/trace-format.md and holds no addresses,
 *   - the lesson has its README and its walkthrough in docs/lessons/.
 * Lessons are found at run time, so a new lesson is tested without touching
 * this file.
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { RUN_TIMEOUT_MS = 20000 };

enum { MAX_LESSONS = 100 };

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

static void check_variant(int i, const char *style)
{
    char *path, *expected_file;
    if (asprintf(&path, "%s/expected.trace", dirs[i]) < 0)
        abort();
    expected_file = read_file(path);
    ck_assert_msg(expected_file != NULL, "cannot read %s", path);
    char *expected = expected_for_style(expected_file, style);
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
    char *one = run_variant(dirs[_i], "event1");
    char *two = run_variant(dirs[_i], "event2");
    char *one_common = without_style_lines(one);
    char *two_common = without_style_lines(two);
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

START_TEST(expected_trace_is_well_formed)
{
    char *path;
    if (asprintf(&path, "%s/expected.trace", dirs[_i]) < 0)
        abort();
    char *text = read_file(path);
    ck_assert_msg(text != NULL && text[0] != '\0', "%s is missing or empty", path);
    int number = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        const char *problem = trace_line_problem(line);
        number++;
        ck_assert_msg(problem == NULL, "%s:%d has %s: %s", path, number, problem, line);
    }
    free(text);
    free(path);
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
    free(readme);
    free(readme_path);
    free(walkthrough);
    free(link);
}
END_TEST

/* The trace grammar check must itself reject what it is meant to reject. */
START_TEST(trace_grammar_rejects_bad_lines)
{
    ck_assert_ptr_null(trace_line_problem("reader   added      pending(READ|TIMEOUT) timeout=10ms"));
    ck_assert_ptr_null(trace_line_problem("reader   seen       pending(READ)+active(READ)"));
    ck_assert_ptr_nonnull(trace_line_problem("reader   seen       pending(READ) at 0x55d0c0ffee00"));
    ck_assert_ptr_nonnull(trace_line_problem("reader   seen       pending READ"));
    ck_assert_ptr_nonnull(trace_line_problem("Reader   seen       non-pending"));
    ck_assert_ptr_nonnull(trace_line_problem("reader"));
}
END_TEST

Suite *lessons_suite(void)
{
    Suite *s = suite_create("lessons");
    dirs = lesson_dirs(&ndirs);
    atexit(free_dirs);

    TCase *grammar = tcase_create("trace-format");
    tcase_add_test(grammar, trace_grammar_rejects_bad_lines);
    suite_add_tcase(s, grammar);

    for (size_t i = 0; i < ndirs && i < MAX_LESSONS; i++) {
        char number[3];
        number_of(dirs[i], number);
        snprintf(case_names[i], sizeof case_names[i], "lesson-%s", number);
        TCase *tc = tcase_create(case_names[i]);
        tcase_set_timeout(tc, 60);
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
