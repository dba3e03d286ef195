/*
 * grader.c - the grader suite: the exercises and the grader that marks
 * them (exercises/, docs/instructors.md).
 *
 *   grading   every exercise's starter and solution, and every hostile
 *             submission in tests/hostile/, are graded once, in parallel,
 *             by a fixture (exercises/grader/grade.sh and grade-all.sh, as `make
 *             grade` and `make grade-all` run them); the tests then read
 *             the results: starters below full marks, solutions at full
 *             marks, each hostile submission at the score its
 *             expected_score file names, a valid results.json and one
 *             SCORE line each, no process of any submission left running,
 *             nothing written outside, no connection to the host.
 *   input     bad input fails clearly: unknown exercise, missing
 *             submission or files; each exercise's runner, manifest and
 *             README agree.
 *   release   `make release` leaves no solution or hidden test behind,
 *             and the student's commands work in the copy.
 *
 * The hostile set needs the sandbox's PID namespace (root, or user
 * namespaces): without it, kill(-1) from a submission would reach the
 * user's own processes, so the set is not run and its tests say why.
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAKE_TIMEOUT_MS = 300000, GRADING_TIMEOUT_MS = 240000, HOST_PORT = 47123 };

/* Sandbox users are 0x60000000 + a pid (exercises/grader/sandbox.c). */
#define SANDBOX_UID_BASE 0x60000000u

/* --- Shared helpers ------------------------------------------------------------ */

static char *shell_quote(const char *s)
{
    size_t n = 2;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *q = malloc(n + 1), *o = q;
    if (q == NULL)
        abort();
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return q;
}

static void run_shell(const char *script, int timeout_ms, struct run_result *r)
{
    const char *argv[] = { "bash", "-c", script, NULL };
    run_program(argv, NULL, timeout_ms, r);
}

/* "CC=clang SANITIZE=1": the compiler and sanitizers this suite was built
   with, for the make calls that build the grader. */
static const char *build_flags(void)
{
#if defined(__clang__)
#define GRADER_CC "CC=clang"
#else
#define GRADER_CC "CC=cc"
#endif
#if defined(__SANITIZE_ADDRESS__)
    return GRADER_CC " SANITIZE=1";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return GRADER_CC " SANITIZE=1";
#else
    return GRADER_CC;
#endif
#else
    return GRADER_CC;
#endif
}

static char *absolute(const char *path)
{
    char *abs = realpath(path, NULL);
    if (abs == NULL)
        abort();
    return abs;
}

/* The exercise directories, "exercises/NN-slug", as the index lists them. */
static size_t exercise_list(char ***out)
{
    size_t n;
    *out = index_dirs("exercises", &n);
    return n;
}

static void free_list(char **list, size_t n)
{
    free_strings(list, n);
}

/* The last line of text (without its newline), in buf. */
static const char *last_line(const char *text, char *buf, size_t size)
{
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        n--;
    size_t start = n;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    snprintf(buf, size, "%.*s", (int)(n - start), text + start);
    return buf;
}

static int count_lines_starting(const char *text, const char *prefix)
{
    int count = 0;
    for (const char *line = text; *line != '\0';) {
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            count++;
        const char *nl = strchr(line, '\n');
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return count;
}

/* The columns a line of UTF-8 text takes (one per character: ✓, ✗ and …
   are one column each). */
static int columns(const char *line, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)line[i] & 0xC0) != 0x80;
    return n;
}

/* Every line of TEXT fits WIDTH columns, but a path alone on its line (no
   space after the indentation), which is never cut. */
static void assert_lines_fit(const char *what, const char *text, int width)
{
    for (const char *line = text; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        if (columns(line, len) > width) {
            size_t indent = strspn(line, " ");
            bool path_alone = memchr(line + indent, ' ', len - indent) == NULL;
            ck_assert_msg(path_alone, "%s: a line is wider than %d columns:\n%.*s\nin:\n%s", what,
                          width, (int)len, line, text);
        }
        line += len + (line[len] == '\n');
    }
}

/* jq's answer about a file (one line, no newline), or NULL if jq failed. */
static char *jq(const char *filter, const char *file)
{
    const char *argv[] = { "jq", "-r", "-e", filter, file, NULL };
    struct run_result r;
    run_program(argv, NULL, 10000, &r);
    free(r.err);
    if (r.status != 0) {
        free(r.out);
        return NULL;
    }
    r.out[strcspn(r.out, "\n")] = '\0';
    return r.out;
}

/* A results.json the way Gradescope reads it: a numeric score equal to
   the sum of its tests', and tests with name, score, max_score, output
   and a known visibility. */
static const char gradescope_check[] =
    "(.score | type == \"number\") and (.tests | type == \"array\")"
    " and (.score == ([.tests[].score] | add // 0))"
    " and all(.tests[]; (.name | type == \"string\") and (.score | type == \"number\")"
    "   and (.max_score | type == \"number\") and (.output | type == \"string\")"
    "   and (.score >= 0) and (.score <= .max_score)"
    "   and (.visibility | IN(\"visible\", \"hidden\", \"after_due_date\", \"after_published\")))";

/* --- The grading fixture --------------------------------------------------- */

static char *scratch;            /* this run's directory: submissions, grades */
static char *build_abs;          /* the build directory, absolute */
static bool hostile_run;         /* the sandbox could contain the hostile set */
static char *fixture_problem;    /* why grading could not run, if it could not */
static int host_listener = -1;   /* the host's loopback, HOST_PORT */
static char **exercises;
static size_t nexercises;

static void note_problem(const char *what, const struct run_result *r)
{
    if (fixture_problem == NULL &&
        asprintf(&fixture_problem, "%s (status %d%s):\n%s%s", what, r->status,
                 r->timed_out ? ", timed out" : "", r->out, r->err) < 0)
        abort();
}

static void open_host_listener(void)
{
    host_listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    setsockopt(host_listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(HOST_PORT);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(host_listener, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        listen(host_listener, 16) != 0) {
        close(host_listener);
        host_listener = -1;
    }
}

static void grade_everything(void)
{
    struct run_result r;
    char *command;
    build_abs = absolute(build_dir());
    nexercises = exercise_list(&exercises);

    /* The grader itself (make test has built it already; this is quick). */
    if (asprintf(&command, "make --no-print-directory -s BUILD=%s %s grader", build_dir(),
                 build_flags()) < 0)
        abort();
    run_shell(command, MAKE_TIMEOUT_MS, &r);
    free(command);
    if (r.status != 0) {
        note_problem("make grader failed", &r);
        run_result_free(&r);
        return;
    }
    run_result_free(&r);

    char *sandbox;
    if (asprintf(&sandbox, "%s/bin/sandbox --probe", build_abs) < 0)
        abort();
    run_shell(sandbox, 10000, &r);
    free(sandbox);
    hostile_run = r.status == 0 && strstr(r.out, "pid namespace:     yes") != NULL;
    run_result_free(&r);

    char *relative_scratch = make_temp_dir();
    scratch = absolute(relative_scratch);
    free(relative_scratch);
    /* One job per starter and solution, slowest exercise first: exercise,
       submission, output directory, the terminal's width. The third
       exercise's starter (03's) is graded for a terminal of 40 columns,
       its reasons wrapped and cut (a_cut_reason_is_marked). One more job:
       the first exercise's starter with a line that is not C added to each
       file (grades/broken, a_failed_build_is_reported_once). */
    char *jobs;
    if (asprintf(&jobs, "%s/jobs", scratch) < 0)
        abort();
    FILE *list = fopen(jobs, "w");
    if (list == NULL)
        abort();
    for (size_t k = nexercises; k-- > 0;) {
        const char *slug = strchr(exercises[k], '/') + 1;
        for (int which = 0; which < 2; which++) {
            const char *kind = which == 0 ? "starter" : "solution";
            fprintf(list, "%s\t%s/%s\t%s/grades/%s/%s\t%d\n", exercises[k], exercises[k], kind,
                    scratch, slug, kind, k == 2 && which == 0 ? 40 : 80);
        }
    }
    fprintf(list, "%s\t%s/broken\t%s/grades/broken\t80\n", exercises[0], scratch, scratch);
    fclose(list);

    open_host_listener();
    char *q_scratch = shell_quote(scratch), *q_build = shell_quote(build_abs);
    char *q_first = shell_quote(exercises[0]);
    const char *flags = build_flags();
    /* Three starters and solutions at a time, and three hostile
       submissions; $0 is the scratch directory. */
    if (asprintf(&command,
                 "export BUILD=%2$s KIT_CFLAGS='-O2 -g' %3$s\n"
                 "mkdir -p %1$s/grades %1$s/broken\n"
                 "for f in %5$s/starter/*; do\n"
                 "  cp \"$f\" %1$s/broken/ && echo 'this is not C' >> %1$s/broken/\"${f##*/}\"\n"
                 "done\n"
                 "%4$s"
                 "while IFS=$'\\t' read -r exercise submission out width; do\n"
                 "  printf '%%s\\0%%s\\0%%s\\0%%s\\0' \"$exercise\" \"$submission\" \"$out\" \"$width\"\n"
                 "done < %1$s/jobs | xargs -0 -n 4 -P 3 bash -c '\n"
                 "  mkdir -p \"$3\"\n"
                 "  COLUMNS=$4 exercises/grader/grade.sh \"$1\" \"$2\" \"$3\" > \"$3/grade.log\" 2>&1\n"
                 "  echo $? > \"$3/exit\"' _\n"
                 "wait\n",
                 q_scratch, q_build, flags,
                 hostile_run ? "JOBS=3 exercises/grader/grade-all.sh 2 tests/hostile \"$0\"/grades/hostile "
                               "> \"$0\"/hostile.log 2>&1 &\n"
                             : "",
                 q_first) < 0)
        abort();
    free(q_first);
    const char *argv[] = { "bash", "-c", command, scratch, NULL };
    run_program(argv, NULL, GRADING_TIMEOUT_MS, &r);
    if (r.status != 0 || r.timed_out)
        note_problem("grading did not finish", &r);
    run_result_free(&r);
    free(command);
    free(q_scratch);
    free(q_build);
    free(jobs);
}

static void drop_everything(void)
{
    if (host_listener >= 0)
        close(host_listener);
    host_listener = -1;
    if (scratch != NULL)
        remove_tree(scratch);
    free(scratch);
    scratch = NULL;
    free(build_abs);
    free(fixture_problem);
    fixture_problem = NULL;
    free_list(exercises, nexercises);
    exercises = NULL;
}

static void assert_graded(void)
{
    ck_assert_msg(fixture_problem == NULL, "%s", fixture_problem);
}

static void assert_hostile_run(void)
{
    assert_graded();
    ck_assert_msg(hostile_run,
                  "the hostile set was not run: the sandbox has no PID namespace here (run the "
                  "suite as root, or where user namespaces are allowed); `%s/bin/sandbox --probe` "
                  "says what it can do",
                  build_dir());
}

/* One graded output directory: its score and maximum from results.json,
   checked against the SCORE line, which must be grade.sh's last line and
   its only one. */
static void read_grade(const char *out, int *score, int *max)
{
    char *log_path, *json;
    if (asprintf(&log_path, "%s/grade.log", out) < 0 || asprintf(&json, "%s/results.json", out) < 0)
        abort();
    char *log = read_file(log_path);
    ck_assert_msg(log != NULL, "%s was not graded (no grade.log)", out);
    char *exit_path, *exit_text;
    if (asprintf(&exit_path, "%s/exit", out) < 0)
        abort();
    exit_text = read_file(exit_path);
    if (exit_text != NULL)
        ck_assert_msg(atoi(exit_text) == 0, "grading %s exited with status %s:\n%s", out, exit_text,
                      log);
    char *valid = jq(gradescope_check, json);
    ck_assert_msg(valid != NULL && strcmp(valid, "true") == 0,
                  "%s is missing or not in Gradescope's format", json);
    char *points = jq("\"\\(.score) \\([.tests[].max_score] | add // 0)\"", json);
    ck_assert_ptr_nonnull(points);
    ck_assert_int_eq(sscanf(points, "%d %d", score, max), 2);
    char line[256], want[64];
    snprintf(want, sizeof want, "SCORE: %d/%d", *score, *max);
    ck_assert_msg(strcmp(last_line(log, line, sizeof line), want) == 0,
                  "%s: the last line of grade.sh is \"%s\", not \"%s\"", out, line, want);
    ck_assert_msg(count_lines_starting(log, "SCORE:") == 1,
                  "%s: grade.sh printed more than one line starting with SCORE:\n%s", out, log);
    free(points);
    free(valid);
    free(exit_text);
    free(exit_path);
    free(log);
    free(json);
    free(log_path);
}

static char *grade_dir(const char *exercise, const char *kind)
{
    char *out;
    if (asprintf(&out, "%s/grades/%s/%s", scratch, strchr(exercise, '/') + 1, kind) < 0)
        abort();
    return out;
}

static bool has_solution(const char *exercise)
{
    char *path;
    if (asprintf(&path, "%s/solution", exercise) < 0)
        abort();
    bool yes = access(path, F_OK) == 0;
    free(path);
    return yes;
}

START_TEST(every_starter_scores_below_full_marks)
{
    assert_graded();
    ck_assert_uint_ge(nexercises, 6);
    for (size_t i = 0; i < nexercises; i++) {
        if (!has_solution(exercises[i]))
            continue;
        char *out = grade_dir(exercises[i], "starter");
        int score, max;
        read_grade(out, &score, &max);
        ck_assert_msg(score < max, "%s: the starter scores %d/%d", exercises[i], score, max);
        free(out);
    }
}
END_TEST

START_TEST(every_solution_scores_full_marks)
{
    assert_graded();
    for (size_t i = 0; i < nexercises; i++) {
        if (!has_solution(exercises[i]))
            continue;
        char *out = grade_dir(exercises[i], "solution");
        int score, max;
        read_grade(out, &score, &max);
        char *log_path, *log;
        if (asprintf(&log_path, "%s/grade.log", out) < 0)
            abort();
        log = read_file(log_path);
        ck_assert_msg(score == max && max > 0, "%s: the solution scores %d/%d:\n%s", exercises[i],
                      score, max, log);
        free(log);
        free(log_path);
        free(out);
    }
}
END_TEST

/* The course is built with -Werror; the exercises' files are shown to
   students as examples of it. */
START_TEST(starters_and_solutions_build_without_warnings)
{
    assert_graded();
    for (size_t i = 0; i < nexercises; i++) {
        if (!has_solution(exercises[i]))
            continue;
        for (int which = 0; which < 2; which++) {
            char *out = grade_dir(exercises[i], which == 0 ? "starter" : "solution");
            char *path, *log;
            if (asprintf(&path, "%s/build.log", out) < 0)
                abort();
            log = read_file(path);
            ck_assert_msg(log != NULL && strstr(log, "warning:") == NULL &&
                              strstr(log, "error:") == NULL,
                          "%s builds with diagnostics:\n%s", out, log ? log : "(no build.log)");
            free(log);
            free(path);
            free(out);
        }
    }
}
END_TEST

/* What grade.sh prints fits 80 columns (its output is not a terminal
   here): a reason goes under its test, wrapped. */
START_TEST(grading_output_fits_80_columns)
{
    assert_graded();
    for (size_t i = 0; i < nexercises; i++) {
        for (int which = 0; which < 2; which++) {
            if (which == 1 && !has_solution(exercises[i]))
                continue;
            char *out = grade_dir(exercises[i], which == 0 ? "starter" : "solution"), *path;
            if (asprintf(&path, "%s/grade.log", out) < 0)
                abort();
            char *log = read_file(path);
            ck_assert_msg(log != NULL, "%s was not graded", out);
            assert_lines_fit(path, log, 80);
            free(log);
            free(path);
            free(out);
        }
    }
}
END_TEST

/* A submission that does not compile: its first errors once, where the
   whole build log is, one line for the tests that did not run; and in
   results.json every test of the manifest, with 0 points and the reason. */
START_TEST(a_failed_build_is_reported_once)
{
    assert_graded();
    char *out, *log_path, *json;
    if (asprintf(&out, "%s/grades/broken", scratch) < 0 ||
        asprintf(&log_path, "%s/grade.log", out) < 0 || asprintf(&json, "%s/results.json", out) < 0)
        abort();
    int score, max;
    read_grade(out, &score, &max);
    ck_assert_int_eq(score, 0);
    char *log = read_file(log_path);
    ck_assert_msg(strstr(log, "build: the submission did not compile; the first errors:") != NULL &&
                      strstr(log, "error:") != NULL,
                  "grade.sh does not show the first errors:\n%s", log);
    ck_assert_msg(strstr(log, "the whole build log:") != NULL && strstr(log, "/build.log") != NULL,
                  "grade.sh does not say where the build log is:\n%s", log);
    ck_assert_msg(count_lines_starting(log, "  ✗") == 1 && count_lines_starting(log, "  ✓") == 0,
                  "grade.sh prints a line per test that did not run:\n%s", log);
    ck_assert_msg(strstr(log, "not built") == NULL, "grade.sh repeats \"not built\":\n%s", log);
    char *tests = jq("[.tests[] | select(.score == 0 and (.output | startswith(\"Not run: \")))]"
                     " | length",
                     json);
    char *manifest;
    if (asprintf(&manifest, "cd %s && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' points | wc -l",
                 exercises[0]) < 0)
        abort();
    struct run_result r;
    run_shell(manifest, 10000, &r);
    ck_assert_msg(tests != NULL && atoi(tests) == atoi(r.out) && atoi(r.out) > 0,
                  "results.json has %s tests not run, the manifest %s", tests, r.out);
    char want[64];
    snprintf(want, sizeof want, "none of the %d tests ran", atoi(r.out));
    ck_assert_msg(strstr(log, want) != NULL, "grade.sh does not say \"%s\":\n%s", want, log);
    assert_lines_fit(log_path, log, 80);
    run_result_free(&r);
    free(manifest);
    free(tests);
    free(log);
    free(json);
    free(log_path);
    free(out);
}
END_TEST

/* On a terminal of 40 columns (the third exercise's starter is graded
   so), a reason too long for three lines is cut, the cut marked with …,
   and the output says where each is whole. */
START_TEST(a_cut_reason_is_marked)
{
    assert_graded();
    ck_assert_uint_ge(nexercises, 3);
    char *out, *log_path, *json;
    if (asprintf(&out, "%s/grades/%s/starter", scratch, strchr(exercises[2], '/') + 1) < 0 ||
        asprintf(&log_path, "%s/grade.log", out) < 0 || asprintf(&json, "%s/results.json", out) < 0)
        abort();
    char *log = read_file(log_path);
    ck_assert_msg(log != NULL, "%s was not graded", out);
    /* Some reason of this starter needs more than three lines of 34. */
    char *longest = jq("[.tests[].output | split(\"\\n\")[0] | length] | max", json);
    ck_assert_msg(longest != NULL && atoi(longest) > 3 * 34,
                  "no reason of %s is long enough to be cut (longest: %s)", out, longest);
    int reason_lines = 0, cut_lines = 0;
    for (const char *line = log; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, "      ", 6) == 0) {
            reason_lines++;
            ck_assert_msg(columns(line, len) <= 40, "a reason's line is wider than 40:\n%.*s\n%s",
                          (int)len, line, log);
            if (len >= strlen("…") && strncmp(line + len - strlen("…"), "…", strlen("…")) == 0)
                cut_lines++;
        }
        line += len + (line[len] == '\n');
    }
    ck_assert_msg(reason_lines > 0 && cut_lines > 0, "no reason was cut and marked with …:\n%s",
                  log);
    ck_assert_msg(strstr(log, "… marks a cut reason; each is whole in") != NULL &&
                      strstr(log, "/results.json") != NULL,
                  "grade.sh does not say where the cut reasons are whole:\n%s", log);
    free(longest);
    free(log);
    free(json);
    free(log_path);
    free(out);
}
END_TEST

/* Each hostile submission's output directory, with its expected score. */
static size_t hostile_list(char ***names)
{
    glob_t found;
    size_t n = 0;
    *names = NULL;
    if (glob("tests/hostile/*/expected_score", 0, NULL, &found) == 0) {
        *names = calloc(found.gl_pathc, sizeof **names);
        for (size_t i = 0; i < found.gl_pathc; i++) {
            const char *start = found.gl_pathv[i] + strlen("tests/hostile/");
            (*names)[n++] = strndup(start, strcspn(start, "/"));
        }
        globfree(&found);
    }
    return n;
}

START_TEST(hostile_submissions_get_their_expected_scores)
{
    assert_hostile_run();
    char **names;
    size_t n = hostile_list(&names);
    ck_assert_uint_ge(n, 10);
    for (size_t i = 0; i < n; i++) {
        char *out, *expected_path;
        if (asprintf(&out, "%s/grades/hostile/%s", scratch, names[i]) < 0 ||
            asprintf(&expected_path, "tests/hostile/%s/expected_score", names[i]) < 0)
            abort();
        char *expected = read_file(expected_path);
        ck_assert_ptr_nonnull(expected);
        int score, max;
        read_grade(out, &score, &max);
        ck_assert_msg(score == atoi(expected), "hostile submission %s scored %d/%d, expected %d",
                      names[i], score, max, atoi(expected));
        free(expected);
        free(expected_path);
        free(out);
    }
    free_list(names, n);
}
END_TEST

START_TEST(gradebook_has_a_row_per_submission)
{
    assert_hostile_run();
    char *path;
    if (asprintf(&path, "%s/grades/hostile/gradebook.csv", scratch) < 0)
        abort();
    char *csv = read_file(path);
    ck_assert_msg(csv != NULL, "grade-all wrote no %s", path);
    static const char header[] = "\"student\",\"callbacks_run_in_the_required_order\",";
    ck_assert_msg(strncmp(csv, header, strlen(header)) == 0,
                  "the gradebook's header is wrong:\n%s", csv);
    char **names;
    size_t n = hostile_list(&names);
    ck_assert_int_eq(count_lines_starting(csv, "\""), (int)n + 1);
    for (size_t i = 0; i < n; i++) {
        char row[128], *expected_path;
        if (asprintf(&expected_path, "tests/hostile/%s/expected_score", names[i]) < 0)
            abort();
        char *expected = read_file(expected_path);
        /* ... the points of each test, then the total and the status. */
        snprintf(row, sizeof row, ",%d,\"graded\"\n", atoi(expected));
        char *start;
        char key[96];
        snprintf(key, sizeof key, "\n\"%s\",", names[i]);
        start = strstr(csv, key);
        ck_assert_msg(start != NULL, "the gradebook has no row for %s", names[i]);
        const char *end = strchr(start + 1, '\n');
        ck_assert_msg(end != NULL && (size_t)(end + 1 - start) > strlen(row) &&
                          strncmp(end + 1 - strlen(row), row, strlen(row)) == 0,
                      "the gradebook row of %s does not end with %s", names[i], row);
        free(expected);
        free(expected_path);
    }
    free_list(names, n);
    free(csv);
    free(path);
}
END_TEST

/* Every process of the sandbox user range, or whose working directory or
   program lies in a grading work directory, is a leftover. */
START_TEST(grading_leaves_no_process_running)
{
    assert_hostile_run();
    char *work;
    if (asprintf(&work, "%s/grade-work/", build_abs) < 0)
        abort();
    DIR *proc = opendir("/proc");
    ck_assert_ptr_nonnull(proc);
    struct dirent *e;
    while ((e = readdir(proc)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], target[4096];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%s", e->d_name);
        if (stat(path, &st) != 0)
            continue; /* gone meanwhile */
        ck_assert_msg(st.st_uid < SANDBOX_UID_BASE,
                      "process %s of a sandbox user (uid %u) is still running", e->d_name,
                      (unsigned)st.st_uid);
        for (int i = 0; i < 2; i++) {
            snprintf(path, sizeof path, "/proc/%s/%s", e->d_name, i == 0 ? "cwd" : "exe");
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            ck_assert_msg(strncmp(target, work, strlen(work)) != 0,
                          "process %s still runs in a grading directory: %s", e->d_name, target);
        }
    }
    closedir(proc);
    free(work);
}
END_TEST

/* The work directories are gone, and no hostile submission managed to
   write its marker file anywhere it tried. */
START_TEST(grading_leaves_nothing_behind)
{
    assert_hostile_run();
    struct run_result r;
    char *q_build = shell_quote(build_abs), *command;
    if (asprintf(&command,
                 "ls -A %1$s/grade-work 2>/dev/null;"
                 "for d in / /tmp /var/tmp /dev/shm /run/lock /root; do"
                 "  [ -e \"$d/pwned-by-submission\" ] && echo \"$d/pwned-by-submission\";"
                 "done;"
                 "find . %1$s -name pwned-by-submission 2>/dev/null; true",
                 q_build) < 0)
        abort();
    run_shell(command, 60000, &r);
    ck_assert_msg(r.out[0] == '\0', "left behind after grading:\n%s", r.out);
    run_result_free(&r);
    free(command);
    free(q_build);
}
END_TEST

START_TEST(submissions_cannot_reach_the_host_network)
{
    assert_hostile_run();
    ck_assert_msg(host_listener >= 0, "the suite could not listen on 127.0.0.1:%d to watch",
                  HOST_PORT);
    int fd = accept(host_listener, NULL, NULL);
    ck_assert_msg(fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
                  "a submission connected to 127.0.0.1:%d on the host", HOST_PORT);
}
END_TEST

/* --- Bad input ---------------------------------------------------------------- */

static void run_make(const char *args, struct run_result *r)
{
    char *command;
    if (asprintf(&command, "make --no-print-directory BUILD=%s %s %s", build_dir(), build_flags(),
                 args) < 0)
        abort();
    run_shell(command, MAKE_TIMEOUT_MS, r);
    free(command);
}

static void assert_refused(const char *args, const char *message)
{
    struct run_result r;
    run_make(args, &r);
    ck_assert_msg(r.status != 0, "make %s succeeded:\n%s", args, r.out);
    ck_assert_msg(strstr(r.err, message) != NULL, "make %s: the message does not say \"%s\":\n%s",
                  args, message, r.err);
    ck_assert_msg(strstr(r.out, "SCORE:") == NULL, "make %s printed a score", args);
    run_result_free(&r);
}

START_TEST(unknown_exercise_fails_and_lists_the_exercises)
{
    assert_refused("grade EXERCISE=99 SUBMISSION=exercises", "there is no exercise '99'");
    assert_refused("grade EXERCISE=99 SUBMISSION=exercises", "EXERCISE=1\n");
    assert_refused("grade EXERCISE=echo SUBMISSION=exercises", "there is no exercise 'echo'");
    assert_refused("grade SUBMISSION=exercises", "no exercise given");
    assert_refused("grade-all EXERCISE=0 SUBMISSIONS=exercises", "there is no exercise '0'");
    assert_refused("exercise-42", "there is no exercise '42'");
    assert_refused("exercise-42", "make exercise-1\n");
    assert_refused("hint-x", "there is no exercise 'x'");
}
END_TEST

START_TEST(missing_submission_fails_clearly)
{
    assert_refused("grade EXERCISE=3 SUBMISSION=/nonexistent/alice",
                   "the submission directory '/nonexistent/alice' does not exist");
    assert_refused("grade EXERCISE=3", "no submission given");
    assert_refused("grade-all EXERCISE=3 SUBMISSIONS=/nonexistent",
                   "the submissions directory '/nonexistent' does not exist");
}
END_TEST

/* A command without what it needs says its usage, naming every required
   variable, and an example; on lines that fit 80 columns. */
START_TEST(usage_names_every_required_variable)
{
    static const struct {
        const char *args, *usage, *example;
    } cases[] = {
        { "grade", "usage: make grade EXERCISE=N SUBMISSION=DIR", "e.g. make grade EXERCISE=3 SUBMISSION=" },
        { "grade EXERCISE=3", "usage: make grade EXERCISE=N SUBMISSION=DIR", "e.g. make grade EXERCISE=3 SUBMISSION=" },
        { "grade SUBMISSION=exercises", "usage: make grade EXERCISE=N SUBMISSION=DIR", "e.g. make grade EXERCISE=3" },
        { "grade-all", "usage: make grade-all EXERCISE=N SUBMISSIONS=DIR", "e.g. make grade-all EXERCISE=3 SUBMISSIONS=" },
        { "grade-all EXERCISE=3", "usage: make grade-all EXERCISE=N SUBMISSIONS=DIR", "e.g. make grade-all EXERCISE=3 SUBMISSIONS=" },
        { "release", "usage: make release DEST=DIR", "e.g. make release DEST=" },
        { "grade-bench EXERCISE=x", "usage: make grade-bench [EXERCISE=N] [SUBMISSION=DIR]", "e.g. make grade-bench EXERCISE=3 SUBMISSION=" },
        { "exercise-", "usage: make exercise-N", "e.g. make exercise-3" },
        { "hint-", "usage: make hint-N", "e.g. make hint-3" },
        { "reset-", "usage: make reset-N", "e.g. make reset-3" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run_result r;
        run_make(cases[i].args, &r);
        ck_assert_msg(r.status != 0, "make %s succeeded:\n%s", cases[i].args, r.out);
        ck_assert_msg(strstr(r.err, cases[i].usage) != NULL && strstr(r.err, cases[i].example) != NULL,
                      "make %s does not say \"%s\" and \"%s\":\n%s", cases[i].args, cases[i].usage,
                      cases[i].example, r.err);
        assert_lines_fit(cases[i].args, r.err, 80);
        run_result_free(&r);
    }
}
END_TEST

START_TEST(missing_files_fail_clearly)
{
    char *dir = make_temp_dir(), *args, *link;
    if (asprintf(&args, "grade EXERCISE=03 SUBMISSION=%s", dir) < 0)
        abort();
    /* An empty directory; the file as a symbolic link; as a directory. */
    assert_refused(args, "event2-client.c is missing (exercise 03 is graded on: event2-client.c)");
    if (asprintf(&link, "%s/event2-client.c", dir) < 0)
        abort();
    ck_assert_int_eq(symlink("/etc/passwd", link), 0);
    assert_refused(args, "event2-client.c is a symbolic link (to /etc/passwd); hand in regular files");
    ck_assert_int_eq(unlink(link), 0);
    ck_assert_int_eq(mkdir(link, 0755), 0);
    assert_refused(args, "event2-client.c is a directory, not a file; hand in regular files");
    remove_tree(dir);
    free(link);
    free(args);
    free(dir);
}
END_TEST

/* grade-bench, on one copy of exercise 02's starter: the machine's load
   and the time, on lines that fit 80 columns; a bad COPIES refused. */
START_TEST(grade_bench_says_the_load_and_the_time)
{
    struct run_result r;
    run_make("grade-bench EXERCISE=2 SUBMISSION=exercises/02-callback-order/starter COPIES=1", &r);
    ck_assert_msg(r.status == 0 && strstr(r.out, "load average before: ") != NULL &&
                      strstr(r.out, "grade-bench: 1 submissions in ") != NULL &&
                      strstr(r.out, "; 1 graded\n") != NULL,
                  "make grade-bench:\n%s%s", r.out, r.err);
    assert_lines_fit("make grade-bench", r.out, 80);
    run_result_free(&r);
    assert_refused("grade-bench EXERCISE=2 SUBMISSION=exercises/02-callback-order/starter COPIES=0",
                   "COPIES must be a positive number, not '0'");
}
END_TEST

/* grade-all never replaces the gradebook of another run without a word:
   another SUBMISSIONS (or exercise) into the same OUT is refused, saying
   which run is there, unless FORCE=1, which removes that run first; the
   same SUBMISSIONS again re-grades. The submissions here lack their files
   (not graded, quickly); one student's name is long, and a stray file is
   reported, not skipped silently. */
START_TEST(grade_all_keeps_another_runs_gradebook)
{
    char *dir = make_temp_dir(), *abs_dir = absolute(dir), *setup;
    if (asprintf(&setup,
                 "cd %s && mkdir -p a/alice b/bob b/a-student-whose-name-is-long-enough-to-be-cut-short out"
                 " && touch b/notes.zip",
                 abs_dir) < 0)
        abort();
    struct run_result r;
    run_shell(setup, 10000, &r);
    ck_assert_msg(r.status == 0, "setting up failed: %s", r.err);
    run_result_free(&r);
    char *first, *second, *forced, *other_exercise, *gradebook;
    if (asprintf(&first, "grade-all EXERCISE=3 SUBMISSIONS=%1$s/a OUT=%1$s/out", abs_dir) < 0 ||
        asprintf(&second, "grade-all EXERCISE=3 SUBMISSIONS=%1$s/b OUT=%1$s/out", abs_dir) < 0 ||
        asprintf(&forced, "grade-all EXERCISE=3 SUBMISSIONS=%1$s/b OUT=%1$s/out FORCE=1", abs_dir) < 0 ||
        asprintf(&other_exercise, "grade-all EXERCISE=2 SUBMISSIONS=%1$s/b OUT=%1$s/out", abs_dir) < 0 ||
        asprintf(&gradebook, "%s/out/gradebook.csv", abs_dir) < 0)
        abort();

    /* Not into SUBMISSIONS, where OUT would be a student next time. */
    char *inside, *inside_out;
    if (asprintf(&inside, "grade-all EXERCISE=3 SUBMISSIONS=%1$s/a OUT=%1$s/a/out", abs_dir) < 0 ||
        asprintf(&inside_out, "%s/a/out", abs_dir) < 0)
        abort();
    assert_refused(inside, "is inside SUBMISSIONS");
    ck_assert_msg(access(inside_out, F_OK) != 0, "grade-all made %s", inside_out);
    free(inside_out);
    free(inside);

    run_make(first, &r);
    ck_assert_msg(r.status == 0, "make %s:\n%s%s", first, r.out, r.err);
    run_result_free(&r);
    char *csv = read_file(gradebook);
    ck_assert_msg(csv != NULL && strstr(csv, "\n\"alice\",") != NULL, "no gradebook of a:\n%s", csv);
    free(csv);

    /* Another SUBMISSIONS: refused, the gradebook of a kept. */
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "graded 20"); /* the date */
    assert_refused(second, want);
    snprintf(want, sizeof want, "; SUBMISSIONS:\n    %s/a\n", abs_dir);
    assert_refused(second, want);
    assert_refused(second, "or replace that run (its gradebook, its students' directories): FORCE=1");
    assert_refused(other_exercise, "OUT holds the gradebook of another run");
    csv = read_file(gradebook);
    ck_assert_msg(csv != NULL && strstr(csv, "\n\"alice\",") != NULL && strstr(csv, "bob") == NULL,
                  "the refused run changed the gradebook:\n%s", csv);
    free(csv);

    /* The same SUBMISSIONS again: re-graded. */
    run_make(first, &r);
    ck_assert_msg(r.status == 0, "grading a again: make %s:\n%s%s", first, r.out, r.err);
    run_result_free(&r);

    /* FORCE=1: a's run is gone, b's is there. */
    run_make(forced, &r);
    ck_assert_msg(r.status == 0 && strstr(r.out, "FORCE=1: removing the run") != NULL,
                  "make %s:\n%s%s", forced, r.out, r.err);
    ck_assert_msg(strstr(r.out, "skipped, not directories: notes.zip") != NULL,
                  "grade-all does not say it skipped b/notes.zip:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "] a-student-whose-name-is-long-enough-to-be-cut-short not graded: ev") !=
                      NULL && strstr(r.out, "…\n") != NULL,
                  "grade-all's progress line is not cut and marked:\n%s", r.out);
    assert_lines_fit(forced, r.out, 80);
    run_result_free(&r);
    csv = read_file(gradebook);
    ck_assert_msg(csv != NULL && strstr(csv, "\n\"bob\",") != NULL && strstr(csv, "alice") == NULL,
                  "after FORCE=1, the gradebook is not b's:\n%s", csv);
    free(csv);
    char *alice;
    if (asprintf(&alice, "%s/out/alice", abs_dir) < 0)
        abort();
    ck_assert_msg(access(alice, F_OK) != 0, "FORCE=1 left a's student directory %s", alice);
    free(alice);

    remove_tree(dir);
    free(gradebook);
    free(other_exercise);
    free(forced);
    free(second);
    free(first);
    free(setup);
    free(abs_dir);
    free(dir);
}
END_TEST

START_TEST(release_refuses_an_occupied_destination)
{
    assert_refused("release", "no destination");
    assert_refused("release DEST=exercises", "is not an empty directory");
}
END_TEST

START_TEST(make_help_lists_the_exercise_targets)
{
    struct run_result r;
    run_make("help", &r);
    const char *targets[] = { "make grade ", "make grade-all", "make release", "make exercises",
                              "make exercise-N", "make hint-N", "make reset-N", "make grade-bench" };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        const char *line = strstr(r.out, targets[i]);
        ck_assert_msg(line != NULL, "make help lacks %s:\n%s", targets[i], r.out);
        /* The line of the grader's target fits 80 columns. */
        while (line > r.out && line[-1] != '\n')
            line--;
        size_t len = strcspn(line, "\n");
        ck_assert_msg(columns(line, len) <= 80, "make help's line is wider than 80 columns:\n%.*s",
                      (int)len, line);
    }
    run_result_free(&r);
}
END_TEST

/* Each exercise's runner, manifest, README and files agree. */
START_TEST(every_exercise_is_complete)
{
    char **list;
    size_t n = exercise_list(&list);
    ck_assert_uint_ge(n, 6);
    for (size_t i = 0; i < n; i++) {
        const char *slug = strchr(list[i], '/') + 1;
        struct run_result r;
        char *runner, *points_path, *readme_path;
        if (asprintf(&runner, "%s/exercises/%s/runner", build_dir(), slug) < 0 ||
            asprintf(&points_path, "%s/points", list[i]) < 0 ||
            asprintf(&readme_path, "%s/README.md", list[i]) < 0)
            abort();
        const char *argv[] = { runner, "--list", NULL };
        run_program(argv, NULL, 10000, &r);
        ck_assert_msg(r.status == 0, "%s --list failed (make grader builds it): %s", runner, r.err);
        char *points = read_file(points_path), *readme = read_file(readme_path);
        ck_assert_msg(points != NULL && readme != NULL, "%s lacks its points or README.md", list[i]);
        char number[8];
        snprintf(number, sizeof number, "%.2s", slug);
        char heading[32];
        snprintf(heading, sizeof heading, "# Exercise %s: ", number);
        ck_assert_msg(strncmp(readme, heading, strlen(heading)) == 0,
                      "%s/README.md does not start with \"%s\"", list[i], heading);
        /* Every test the runner has is in the manifest, hidden exactly when
           not visible, and every visible one has its row, with the same
           points, in the README's table; the manifest has no test the
           runner lacks. */
        int tests = 0, hidden_points = 0;
        for (char *line = r.out; *line != '\0';) {
            char name[128], kind[16], manifest_line[160];
            size_t len = strcspn(line, "\n");
            ck_assert_int_eq(sscanf(line, "%127s %15s", name, kind), 2);
            snprintf(manifest_line, sizeof manifest_line, "\n%s ", name);
            const char *entry = strstr(points, manifest_line);
            ck_assert_msg(entry != NULL, "%s: test %s is not in the manifest (points)", list[i], name);
            char visibility[32];
            int pts;
            ck_assert_int_eq(sscanf(entry + 1, "%*s %d %31s", &pts, visibility), 2);
            ck_assert_msg((strcmp(kind, "hidden") == 0) == (strcmp(visibility, "visible") != 0),
                          "%s: test %s is %s, but the manifest says %s", list[i], name, kind,
                          visibility);
            if (strcmp(kind, "visible") == 0) {
                /* Its row of the README's table: | `name` | points | ... */
                char row[140];
                snprintf(row, sizeof row, "| `%s` | ", name);
                const char *cited = strstr(readme, row);
                ck_assert_msg(cited != NULL, "%s/README.md does not list the graded test %s",
                              list[i], name);
                ck_assert_msg(atoi(cited + strlen(row)) == pts,
                              "%s/README.md gives %s %d points, the manifest %d", list[i], name,
                              atoi(cited + strlen(row)), pts);
            } else {
                hidden_points += pts;
            }
            tests++;
            line += len + (line[len] == '\n');
        }
        int manifest_tests = 0;
        for (char *line = points; *line != '\0';) {
            size_t len = strcspn(line, "\n");
            if (*line != '#' && len > 0)
                manifest_tests++;
            line += len + (line[len] == '\n');
        }
        ck_assert_msg(manifest_tests == tests, "%s: the manifest lists %d tests, the runner has %d",
                      list[i], manifest_tests, tests);
        /* A release keeps the README's (hidden) row, not the tests. */
        const char *hidden_row = strstr(readme, "| (hidden) | ");
        int readme_hidden = hidden_row != NULL ? atoi(hidden_row + strlen("| (hidden) | ")) : 0;
        ck_assert_msg(!has_solution(list[i]) || readme_hidden == hidden_points,
                      "%s/README.md gives the hidden tests %d points, the manifest %d", list[i],
                      readme_hidden, hidden_points);
        /* The starter (and the solution, where there is one) hold the same
           files, and there are hints to give. */
        char *compare;
        if (asprintf(&compare,
                     "cd %1$s && ls starter >/dev/null && ls hints/1.md hints/2.md >/dev/null && "
                     "{ [ ! -d solution ] || diff <(ls starter) <(ls solution); }",
                     list[i]) < 0)
            abort();
        struct run_result c;
        run_shell(compare, 10000, &c);
        ck_assert_msg(c.status == 0, "%s: starter/, solution/ and hints/ do not agree: %s%s",
                      list[i], c.out, c.err);
        run_result_free(&c);
        free(compare);
        free(points);
        free(readme);
        run_result_free(&r);
        free(runner);
        free(points_path);
        free(readme_path);
    }
    free_list(list, n);
}
END_TEST

/* --- Release and the student's commands ------------------------------------ */

START_TEST(release_leaves_no_solution_or_hidden_test)
{
    char *dir = make_temp_dir(), *dest, *args;
    if (asprintf(&dest, "%s/course", dir) < 0 || asprintf(&args, "release DEST=%s", dest) < 0)
        abort();
    struct run_result r;
    run_make(args, &r);
    ck_assert_msg(r.status == 0, "make %s failed:\n%s", args, r.err);
    run_result_free(&r);
    char *q = shell_quote(dest), *check;
    if (asprintf(&check,
                 "cd %s || exit 2;"
                 "find . -path './exercises/*/solution*' -o -name 'hidden*.c' -o -path './.git' "
                 "  -o -path './build' -o -path './exercises/*/work';"
                 "grep -l -E '[[:space:]](hidden|after_due_date|after_published)[[:space:]]*$' "
                 "  exercises/*/points;"
                 "for d in exercises/[0-9][0-9]-*/; do"
                 "  for f in README.md points starter hints/1.md tests/visible.c; do"
                 "    [ -e \"$d$f\" ] || echo \"missing $d$f\";"
                 "  done;"
                 "done; true",
                 q) < 0)
        abort();
    run_shell(check, 20000, &r);
    ck_assert_msg(r.out[0] == '\0', "the release is wrong:\n%s", r.out);
    run_result_free(&r);
    remove_tree(dir);
    free(check);
    free(q);
    free(args);
    free(dest);
    free(dir);
}
END_TEST

/* In a release (built with this build's grader, copied), a student works
   exercise 02: tests the starter, reads hints, resets, hands in. */
START_TEST(student_commands_work_in_a_release)
{
    char *dir = make_temp_dir(), *course, *q_course, *q_build, *setup;
    if (asprintf(&course, "%s/course", dir) < 0)
        abort();
    q_course = shell_quote(course);
    q_build = shell_quote(build_dir());
    if (asprintf(&setup,
                 "exercises/grader/release.sh %1$s >/dev/null && mkdir -p %1$s/build/bin &&"
                 " cp -a %2$s/bin/sandbox %1$s/build/bin/ &&"
                 " cp -a %2$s/exercises %1$s/build/ && rm -rf %1$s/build/exercises/*/bin",
                 q_course, q_build) < 0)
        abort();
    struct run_result r;
    run_shell(setup, 60000, &r);
    ck_assert_msg(r.status == 0, "making the release failed: %s", r.err);
    run_result_free(&r);

    char *make;
    if (asprintf(&make, "cd %s && make --no-print-directory %s ", q_course, build_flags()) < 0)
        abort();
    char *command;
#define STUDENT(args)                                                   \
    do {                                                                \
        if (asprintf(&command, "%s%s", make, args) < 0)                 \
            abort();                                                    \
        run_shell(command, MAKE_TIMEOUT_MS, &r);                        \
        free(command);                                                  \
    } while (0)

    /* The pages a student reads first are written for students: no
       instructor's command, no solution, no memcheck; the README links
       every lesson and exercise, and every relative link leads somewhere. */
    char *pages;
    if (asprintf(&pages,
                 "cd %s || exit 2\n"
                 "for f in README.md exercises/README.md docs/instructors.md; do\n"
                 "  grep -n -i -E 'make grade|make release|grade-all|grade-bench|solution|memcheck|hidden test'"
                 "    \"$f\" | sed \"s|^|$f: |\"\n"
                 "done\n"
                 "for d in $(.ci/index.sh dirs lessons) $(.ci/index.sh dirs exercises); do\n"
                 "  grep -q \"]($d/)\" README.md || echo \"README.md does not link $d\"\n"
                 "done\n"
                 "for f in README.md exercises/README.md docs/instructors.md docs/students.md; do\n"
                 "  grep -o '](\\([^)]*\\))' \"$f\" | sed 's/^](//; s/)$//; s/#.*//' |\n"
                 "    grep -v -E '^(https?:|mailto:|$)' | while read -r l; do\n"
                 "      [ -e \"$(dirname \"$f\")/$l\" ] || echo \"$f: a link to $l leads nowhere\"\n"
                 "    done\n"
                 "done\n",
                 q_course) < 0)
        abort();
    run_shell(pages, 20000, &r);
    ck_assert_msg(r.status == 0 && r.out[0] == '\0', "the release's pages are not a student's:\n%s%s",
                  r.out, r.err);
    run_result_free(&r);
    free(pages);

    STUDENT("exercise-2");
    ck_assert_msg(r.status != 0, "make exercise-2 on the starter succeeded:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "✓ activation_order_is_unchanged") != NULL &&
                      strstr(r.out, "✗ callbacks_run_in_the_required_order") != NULL &&
                      strstr(r.out, "Points so far: 3/10") != NULL,
                  "make exercise-2 on the starter:\n%s%s", r.out, r.err);
    assert_lines_fit("make exercise-2", r.out, 80);
    run_result_free(&r);

    STUDENT("exercises");
    ck_assert_msg(r.status == 0 && strstr(r.out, "3/10") != NULL && strstr(r.out, "not started"),
                  "make exercises does not show the progress:\n%s", r.out);
    assert_lines_fit("make exercises", r.out, 80);
    run_result_free(&r);

    /* On a terminal the list is coloured, its columns still aligned (the
       colour's escapes take no column); never with NO_COLOR. */
    for (int plain = 0; plain < 2; plain++) {
        if (asprintf(&command, "cd %s && %sscript -qec 'make --no-print-directory exercises' /dev/null",
                     q_course, plain ? "NO_COLOR=1 " : "") < 0)
            abort();
        run_shell(command, MAKE_TIMEOUT_MS, &r);
        free(command);
        ck_assert_msg(r.status == 0 && (strstr(r.out, "\033[") == NULL) == plain,
                      "make exercises on a terminal%s:\n%s", plain ? " with NO_COLOR=1" : "", r.out);
        /* Without the escapes, every row's hints column is where the
           header's is. */
        char *text = strdup(r.out), *o = text;
        for (const char *p = r.out; *p != '\0'; p++) {
            if (*p == '\033') {
                p += strspn(p + 1, "[0123456789;") + 1; /* ESC [ ... m */
                continue;
            }
            if (*p != '\r')
                *o++ = *p;
        }
        *o = '\0';
        const char *header = strstr(text, "hints seen");
        ck_assert_ptr_nonnull(header);
        const char *start = header;
        while (start > text && start[-1] != '\n')
            start--;
        int column = columns(start, (size_t)(header - start)), rows = 0;
        for (const char *line = strchr(header, '\n') + 1; strncmp(line, "  0", 3) == 0; rows++) {
            size_t len = strcspn(line, "\n");
            ck_assert_msg(columns(line, len) > column && line[column - 1] == ' ' &&
                              line[column] >= '0' && line[column] <= '9',
                          "make exercises: the hints column is not aligned:\n%s", text);
            line += len + 1;
        }
        ck_assert_msg(rows >= 6, "make exercises lists %d exercises:\n%s", rows, text);
        free(text);
        run_result_free(&r);
    }

    /* The instructor's commands, run in a release, say what a release
       lacks: grading counts the visible tests only; grade-bench has no
       solution to time. */
    STUDENT("grade EXERCISE=2 SUBMISSION=exercises/02-callback-order/starter");
    ck_assert_msg(r.status == 0 && strstr(r.out, "note: this copy of the course is a release") != NULL &&
                      strstr(r.out, "  submission: exercises/02-callback-order/starter\n") != NULL &&
                      strstr(r.out, "SCORE: 3/10") != NULL,
                  "make grade in a release:\n%s%s", r.out, r.err);
    run_result_free(&r);
    STUDENT("grade-bench");
    ck_assert_msg(r.status != 0 && strstr(r.err, "(a release has none): give SUBMISSION") != NULL,
                  "make grade-bench in a release:\n%s%s", r.out, r.err);
    run_result_free(&r);

    for (int i = 1; i <= 4; i++) {
        STUDENT("hint-2");
        char want[32];
        snprintf(want, sizeof want, "Hint %d of 3", i);
        ck_assert_msg(r.status == 0 && strstr(r.out, i <= 3 ? want : "seen all 3 hints") != NULL,
                      "make hint-2, time %d:\n%s%s", i, r.out, r.err);
        run_result_free(&r);
    }

    /* The student's work: the solution, copied into work/, which scores
       full marks. A release (where this suite runs too) has no solution:
       there the work is the starter with a line added, so that a reset
       has something to undo. Either way handed-in.c keeps a copy. */
    if (has_solution("exercises/02-callback-order")) {
        if (asprintf(&command,
                     "cp exercises/02-callback-order/solution/event1.c %1$s/exercises/02-callback-order/work/"
                     " && cp %1$s/exercises/02-callback-order/work/event1.c %1$s/handed-in.c",
                     q_course) < 0)
            abort();
        run_shell(command, 10000, &r);
        free(command);
        ck_assert_msg(r.status == 0, "copying the solution failed: %s", r.err);
        run_result_free(&r);
        STUDENT("exercise-02");
        ck_assert_msg(r.status == 0 && strstr(r.out, "Points so far: 10/10") != NULL,
                      "make exercise-02 on the solution:\n%s%s", r.out, r.err);
        run_result_free(&r);
    } else {
        if (asprintf(&command,
                     "echo '/* my work */' >> %1$s/exercises/02-callback-order/work/event1.c"
                     " && cp %1$s/exercises/02-callback-order/work/event1.c %1$s/handed-in.c",
                     q_course) < 0)
            abort();
        run_shell(command, 10000, &r);
        free(command);
        ck_assert_msg(r.status == 0, "changing work/event1.c failed: %s", r.err);
        run_result_free(&r);
    }

    /* Reset: not without a terminal, unless told yes; on a terminal, "n"
       keeps the work and "y" restores the starter. */
    STUDENT("reset-2 </dev/null");
    ck_assert_msg(r.status != 0 && strstr(r.err, "YES=1") != NULL,
                  "make reset-2 without a terminal did not refuse:\n%s%s", r.out, r.err);
    run_result_free(&r);
    if (asprintf(&command,
                 "cd %1$s && printf 'n\\n' | script -qec 'make --no-print-directory reset-2' /dev/null"
                 " && cmp -s exercises/02-callback-order/work/event1.c handed-in.c"
                 " && printf 'y\\n' | script -qec 'make --no-print-directory reset-2' /dev/null"
                 " && cmp -s exercises/02-callback-order/work/event1.c exercises/02-callback-order/starter/event1.c",
                 q_course) < 0)
        abort();
    run_shell(command, MAKE_TIMEOUT_MS, &r);
    free(command);
    ck_assert_msg(r.status == 0, "make reset-2 on a terminal (n, then y) went wrong:\n%s%s", r.out,
                  r.err);
    run_result_free(&r);
    /* A file gone from work/: said, with where the starter's is. */
    if (asprintf(&command, "rm %s/exercises/02-callback-order/work/event1.c", q_course) < 0)
        abort();
    run_shell(command, 10000, &r);
    free(command);
    run_result_free(&r);
    STUDENT("exercise-2");
    ck_assert_msg(r.status != 0 &&
                      strstr(r.err, "error: in exercises/02-callback-order/work: event1.c is missing "
                                    "(the starter's files are in exercises/02-callback-order/starter/)") !=
                          NULL,
                  "make exercise-2 without work/event1.c:\n%s%s", r.out, r.err);
    run_result_free(&r);
    STUDENT("reset-2 YES=1 </dev/null");
    ck_assert_msg(r.status == 0 && strstr(r.out, "holds the starter files again") != NULL,
                  "make reset-2 YES=1:\n%s%s", r.out, r.err);
    run_result_free(&r);
#undef STUDENT

    remove_tree(dir);
    free(make);
    free(setup);
    free(q_build);
    free(q_course);
    free(course);
    free(dir);
}
END_TEST

Suite *grader_suite(void)
{
    Suite *s = suite_create("grader");

    TCase *grading = tcase_create("grading");
    tcase_add_unchecked_fixture(grading, grade_everything, drop_everything);
    tcase_set_timeout(grading, 60);
    tcase_add_test(grading, every_starter_scores_below_full_marks);
    tcase_add_test(grading, every_solution_scores_full_marks);
    tcase_add_test(grading, starters_and_solutions_build_without_warnings);
    tcase_add_test(grading, grading_output_fits_80_columns);
    tcase_add_test(grading, a_failed_build_is_reported_once);
    tcase_add_test(grading, a_cut_reason_is_marked);
    tcase_add_test(grading, hostile_submissions_get_their_expected_scores);
    tcase_add_test(grading, gradebook_has_a_row_per_submission);
    tcase_add_test(grading, grading_leaves_no_process_running);
    tcase_add_test(grading, grading_leaves_nothing_behind);
    tcase_add_test(grading, submissions_cannot_reach_the_host_network);
    suite_add_tcase(s, grading);

    TCase *input = tcase_create("input");
    tcase_set_timeout(input, 120);
    tcase_add_test(input, unknown_exercise_fails_and_lists_the_exercises);
    tcase_add_test(input, missing_submission_fails_clearly);
    tcase_add_test(input, missing_files_fail_clearly);
    tcase_add_test(input, usage_names_every_required_variable);
    tcase_add_test(input, grade_all_keeps_another_runs_gradebook);
    tcase_add_test(input, grade_bench_says_the_load_and_the_time);
    tcase_add_test(input, release_refuses_an_occupied_destination);
    tcase_add_test(input, make_help_lists_the_exercise_targets);
    tcase_add_test(input, every_exercise_is_complete);
    suite_add_tcase(s, input);

    TCase *release = tcase_create("release");
    tcase_set_timeout(release, 120);
    tcase_add_test(release, release_leaves_no_solution_or_hidden_test);
    tcase_add_test(release, student_commands_work_in_a_release);
    suite_add_tcase(s, release);
    return s;
}
