/*
 * gradescope.c - the gradescope suite: `make gradescope EXERCISE=N`, the
 * autograder zip Gradescope takes (exercises/grader/gradescope.sh,
 * docs/instructors.md), run as Gradescope runs it.
 *
 *   package     every exercise's zip: setup.sh and run_autograder at its
 *               root, the grader, the kit, the exercise's tests (hidden
 *               ones included); no solution, no known-wrong submission
 *               (wrong/), no other exercise. Bad input fails clearly.
 *   autograder  one exercise (02, the quickest to grade, and the one the
 *               hostile submissions of tests/hostile/ attack): its zip
 *               unpacked into a fresh directory laid out as Gradescope's
 *               /autograder (source/, submission/, results/); setup.sh's
 *               build step (SKIP_APT=1: this machine has the packages)
 *               once; then, each in a root of its own (a container of
 *               its own on Gradescope), run_autograder for the solution,
 *               the starter, the solution in a folder, a submission
 *               without the file, one with a symbolic link, two hostile
 *               submissions and one whose failure shows lines of its
 *               stderr. Each results.json is checked with jq against
 *               Gradescope's documented fields.
 *
 * The fixture's times (setup.sh's build, the submissions, three at a time)
 * go to build/test-results/gradescope.note. Nothing here is timed.
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { FIXTURE_TIMEOUT_MS = 1500000, MAKE_TIMEOUT_MS = 600000 };

/* The exercise the autograder cases grade. */
static const char exercise[] = "exercises/02-callback-order";

static void run_shell(const char *script, int timeout_ms, struct run_result *r)
{
    const char *argv[] = { "bash", "-c", script, NULL };
    run_program(argv, NULL, timeout_ms, r);
}

/* jq's answer about a file (its first line), or NULL if jq failed (-e: a
   false or null answer fails too). Caller frees. */
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

/* --- The package ------------------------------------------------------------------ */

/* Package every exercise into DIR/NN-slug.list (the zip's names) and
   DIR/NN-slug.modes (unzip -Z's long listing). */
static const char package_script[] =
    "dir=$1 build=$2\n"
    "for ex in $(.ci/index.sh dirs exercises); do\n"
    "  slug=${ex#exercises/}\n"
    "  make -s --no-print-directory BUILD=\"$build\" gradescope EXERCISE=\"${slug%%-*}\" DEST=\"$dir/zips\""
    " > \"$dir/$slug.log\" 2>&1 || { echo \"make gradescope EXERCISE=$slug failed:\"; cat \"$dir/$slug.log\"; exit 1; }\n"
    "  unzip -Z1 \"$dir/zips/autograder-$slug.zip\" > \"$dir/$slug.list\" &&\n"
    "  unzip -Zl \"$dir/zips/autograder-$slug.zip\" > \"$dir/$slug.modes\" || exit 1\n"
    "done\n";

static char *package_dir;
static char **exercises;
static size_t nexercises;

static void package_everything(void)
{
    package_dir = make_temp_dir();
    exercises = index_dirs("exercises", &nexercises);
    char *script;
    if (asprintf(&script, "set -- '%s' '%s'\n%s", package_dir, build_dir(), package_script) < 0)
        abort();
    struct run_result r;
    run_shell(script, MAKE_TIMEOUT_MS, &r);
    free(script);
    char *status;
    if (asprintf(&status, "%s/status", package_dir) < 0)
        abort();
    FILE *f = fopen(status, "w");
    if (f != NULL) {
        fprintf(f, "%d\n%s%s", r.status, r.out, r.err);
        fclose(f);
    }
    free(status);
    run_result_free(&r);
}

static void drop_packages(void)
{
    remove_tree(package_dir);
    free(package_dir);
    free_strings(exercises, nexercises);
}

/* The listing of exercise k's zip (SUFFIX "list" or "modes"); fails the
   test, with make's output, when packaging failed. Caller frees. */
static char *listing(size_t k, const char *suffix)
{
    char *path, *text;
    if (asprintf(&path, "%s/status", package_dir) < 0)
        abort();
    text = read_file(path);
    free(path);
    ck_assert_msg(text != NULL && strncmp(text, "0\n", 2) == 0, "packaging failed: %s", text);
    free(text);
    if (asprintf(&path, "%s/%s.%s", package_dir, strchr(exercises[k], '/') + 1, suffix) < 0)
        abort();
    text = read_file(path);
    ck_assert_msg(text != NULL, "no listing %s", path);
    free(path);
    return text;
}

/* Is NAME a line of LIST? */
static bool has_line(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(list, name); p != NULL; p = strstr(p + 1, name))
        if ((p == list || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

START_TEST(every_package_holds_its_exercise_and_the_grader)
{
    ck_assert_uint_gt(nexercises, 0);
    const char *needed[] = { "Makefile", ".ci/index.sh", ".ci/purity.sh", "lessons/lib/trace.c",
                             "event1/event1.h", "event1/probe.c", "event1/symbols.txt",
                             "event2/event2.h", "event2/probe.c", "event2/symbols.txt",
                             "exercises/grader/grader.mk", "exercises/grader/grade.sh",
                             "exercises/grader/sandbox.c", "exercises/grader/harness/runner.c" };
    int hidden = 0;
    for (size_t k = 0; k < nexercises; k++) {
        char *list = listing(k, "list"), *modes = listing(k, "modes");
        /* At the root, executable. */
        const char *scripts[] = { " setup.sh\n", " run_autograder\n" };
        for (size_t i = 0; i < 2; i++) {
            const char *line = strstr(modes, scripts[i]);
            while (line != NULL && line > modes && line[-1] != '\n')
                line--;
            ck_assert_msg(line != NULL && strncmp(line, "-rwxr-xr-x", 10) == 0,
                          "%s: no executable%sat the zip's root:\n%s", exercises[k], scripts[i],
                          modes);
        }
        for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
            ck_assert_msg(has_line(list, needed[i]), "%s's zip lacks %s", exercises[k], needed[i]);
        /* Its README, points, starter and every test file, hidden ones
           included: what the course's own directory holds. */
        char *command;
        if (asprintf(&command, "cd %s && ls README.md points starter/* tests/*", exercises[k]) < 0)
            abort();
        struct run_result r;
        run_shell(command, 10000, &r);
        free(command);
        ck_assert_int_eq(r.status, 0);
        for (char *line = strtok(r.out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            char *name;
            if (asprintf(&name, "%s/%s", exercises[k], line) < 0)
                abort();
            ck_assert_msg(has_line(list, name), "%s's zip lacks %s", exercises[k], name);
            hidden += strstr(line, "tests/hidden") == line;
            free(name);
        }
        run_result_free(&r);
        free(list);
        free(modes);
    }
    ck_assert_msg(hidden > 0, "no exercise has a hidden test to package");
}
END_TEST

START_TEST(no_package_holds_a_solution_or_another_exercise)
{
    int wrong_in_course = 0;
    for (size_t k = 0; k < nexercises; k++) {
        char *list = listing(k, "list");
        char *mine;
        if (asprintf(&mine, "%s/", exercises[k]) < 0)
            abort();
        for (const char *line = list; *line != '\0';) {
            size_t len = strcspn(line, "\n");
            char *name = strndup(line, len);
            ck_assert_msg(strstr(name, "solution/") == NULL && strstr(name, "wrong/") == NULL &&
                              strstr(name, "/work/") == NULL,
                          "%s's zip holds %s", exercises[k], name);
            ck_assert_msg(strncmp(name, "exercises/", 10) != 0 ||
                              strncmp(name, "exercises/grader/", 17) == 0 ||
                              strncmp(name, mine, strlen(mine)) == 0 ||
                              strncmp(mine, name, strlen(name)) == 0, /* a parent of mine */
                          "%s's zip holds another exercise's %s", exercises[k], name);
            free(name);
            line += len + (line[len] == '\n');
        }
        /* The check above means something only where there is a wrong/ or
           a solution to leave out. */
        char *wrong;
        struct stat st;
        if (asprintf(&wrong, "%s/wrong", exercises[k]) < 0)
            abort();
        wrong_in_course += stat(wrong, &st) == 0;
        free(wrong);
        free(mine);
        free(list);
    }
    ck_assert_msg(wrong_in_course > 0, "no exercise has a wrong/ to leave out");
}
END_TEST

START_TEST(make_gradescope_refuses_an_unknown_exercise)
{
    const char *cases[] = { "EXERCISE=99", "EXERCISE=", "EXERCISE=02 DEST=/proc/none" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *command;
        if (asprintf(&command, "make -s --no-print-directory BUILD=%s gradescope %s", build_dir(),
                     cases[i]) < 0)
            abort();
        struct run_result r;
        run_shell(command, MAKE_TIMEOUT_MS, &r);
        ck_assert_msg(r.status != 0 && !r.timed_out, "%s succeeded:\n%s", command, r.out);
        ck_assert_msg(strstr(r.err, "error: ") != NULL, "%s says no error:\n%s", command, r.err);
        if (i < 2)
            ck_assert_msg(strstr(r.err, "EXERCISE=2") != NULL && strstr(r.err, "usage: ") != NULL,
                          "%s does not list the exercises:\n%s", command, r.err);
        free(command);
        run_result_free(&r);
    }
}
END_TEST

/* --- The autograder, as Gradescope runs it ------------------------------------------- */

/* $1 scratch, $2 build directory, $3 the exercise. One image (the zip
   unpacked in image/source, setup.sh's build run there), then one root
   per submission (roots/NAME: source/ a copy of the image's, submission/,
   results/, run_autograder copied to the root as Gradescope does), three
   run_autograder at a time. A container holds /autograder alone; here the
   course is around it, and grade.sh hides it too (GRADE_HIDE_ALSO), as it
   hides the course from `make grade`'s submissions. */
static const char autograder_script[] =
    "scratch=$1 build=$2 ex=$3\n"
    "start=$SECONDS\n"
    "make -s --no-print-directory BUILD=\"$build\" gradescope EXERCISE=\"$ex\" DEST=\"$scratch/zip\""
    " > \"$scratch/package.log\" 2>&1 || { echo 'make gradescope failed:'; cat \"$scratch/package.log\"; exit 1; }\n"
    "image=$scratch/image\n"
    "mkdir -p \"$image/source\" && (cd \"$image/source\" && unzip -q \"$scratch\"/zip/autograder-*.zip) || exit 1\n"
    "SKIP_APT=1 AUTOGRADER_ROOT=\"$image\" bash \"$image/source/setup.sh\" > \"$scratch/setup.log\" 2>&1 ||\n"
    "  { echo 'setup.sh failed:'; tail -n 30 \"$scratch/setup.log\"; exit 1; }\n"
    "setup=$((SECONDS - start))\n"
    "sub() { mkdir -p \"$scratch/roots/$1/submission\" && echo \"$scratch/roots/$1/submission\"; }\n"
    "s=$(sub solution) && cp \"$ex\"/solution/* \"$s/\" &&\n"
    "s=$(sub starter) && cp \"$ex\"/starter/* \"$s/\" &&\n"
    "s=$(sub folder) && mkdir -p \"$s/my work\" \"$s/__MACOSX/my work\" && cp \"$ex\"/solution/* \"$s/my work/\" &&\n"
    "  echo 'not C' > \"$s/__MACOSX/my work/._event1.c\" &&\n"
    "s=$(sub missing) && echo 'my notes' > \"$s/notes.txt\" &&\n"
    "s=$(sub symlink) && ln -s /etc/hostname \"$s/event1.c\" &&\n"
    "s=$(sub fake_results) && cp tests/hostile/fake_results/event1.c \"$s/\" &&\n"
    "s=$(sub reads_the_course) && cp tests/hostile/reads_the_course/event1.c \"$s/\" &&\n"
    "s=$(sub line_breaks) && cp \"$scratch/line_breaks.c\" \"$s/event1.c\" || exit 1\n"
    "grade() {\n"
    "  root=$scratch/roots/$1\n"
    "  mkdir -p \"$root/results\" && cp -a \"$image/source\" \"$root/source\" &&\n"
    "  cp \"$root/source/run_autograder\" \"$root/run_autograder\" || return 1\n"
    "  (cd \"$root\" && AUTOGRADER_ROOT=\"$root\" GRADE_HIDE_ALSO=\"$course\" ./run_autograder"
    " > \"$root/stdout\" 2>&1; echo $? > \"$root/exit\")\n"
    "  rm -rf \"$root/source\"\n"
    "}\n"
    "course=$PWD\n"
    "export -f grade; export scratch image course\n"
    "begin=$SECONDS\n"
    "ls \"$scratch/roots\" | xargs -P 3 -I{} bash -c 'grade \"$1\"' _ {}\n"
    "n=$(ls \"$scratch/roots\" | wc -l)\n"
    "echo \"package and setup.sh's build $setup s; $n submissions, 3 at a time,"
    " $((SECONDS - begin)) s\" > \"$scratch/times\"\n";

/* The submission whose failure shows its stderr: two lines, then 400
   bytes: 263 more than the excerpt (160 of the 423) keeps. */
static const char line_breaks_c[] =
    "#include <stdio.h>\n"
    "int main(void)\n"
    "{\n"
    "    fputs(\"first line\\nsecond line\\n\", stderr);\n"
    "    for (int i = 0; i < 40; i++)\n"
    "        fputs(\"0123456789\", stderr);\n"
    "    return 3;\n"
    "}\n";

static char *ag_dir;      /* this run's scratch directory, absolute */
static char *ag_problem;  /* why the fixture failed, if it did */

static void run_autograders(void)
{
    char *relative = make_temp_dir();
    ag_dir = realpath(relative, NULL);
    free(relative);
    if (ag_dir == NULL)
        abort();
    char *path;
    if (asprintf(&path, "%s/line_breaks.c", ag_dir) < 0)
        abort();
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(line_breaks_c, f) == EOF || fclose(f) != 0)
        abort();
    free(path);
    char *script;
    if (asprintf(&script, "set -- '%s' '%s' '%s'\n%s", ag_dir, build_dir(), exercise,
                 autograder_script) < 0)
        abort();
    struct run_result r;
    run_shell(script, FIXTURE_TIMEOUT_MS, &r);
    free(script);
    if (r.status != 0 &&
        asprintf(&ag_problem, "the fixture failed (status %d%s):\n%s%s", r.status,
                 r.timed_out ? ", timed out" : "", r.out, r.err) < 0)
        abort();
    run_result_free(&r);
    /* What it took, on the line run-tests prints for this suite. */
    char *times, *note;
    if (asprintf(&times, "%s/times", ag_dir) < 0 ||
        asprintf(&note, "%s/test-results/gradescope.note", build_dir()) < 0)
        abort();
    char *text = read_file(times);
    FILE *out = text != NULL ? fopen(note, "w") : NULL;
    if (out != NULL) {
        fputs(text, out);
        fclose(out);
    }
    free(text);
    free(times);
    free(note);
}

static void drop_autograders(void)
{
    remove_tree(ag_dir);
    free(ag_dir);
    free(ag_problem);
    ag_dir = ag_problem = NULL;
}

/* The results.json of submission NAME; fails the test, with what
   run_autograder printed, when there is none. Caller frees. */
static char *results_of(const char *name)
{
    ck_assert_msg(ag_problem == NULL, "%s", ag_problem);
    char *json, *exit_path, *stdout_path;
    if (asprintf(&json, "%s/roots/%s/results/results.json", ag_dir, name) < 0 ||
        asprintf(&exit_path, "%s/roots/%s/exit", ag_dir, name) < 0 ||
        asprintf(&stdout_path, "%s/roots/%s/stdout", ag_dir, name) < 0)
        abort();
    char *status = read_file(exit_path), *out = read_file(stdout_path);
    struct stat st;
    ck_assert_msg(status != NULL && strcmp(status, "0\n") == 0 && stat(json, &st) == 0,
                  "run_autograder for %s: status %s, results.json %s; it printed:\n%s", name,
                  status, stat(json, &st) == 0 ? "written" : "missing", out);
    free(status);
    free(out);
    free(exit_path);
    free(stdout_path);
    return json;
}

/* jq's answer (a number or a string) about submission NAME's results. */
static char *answer(const char *name, const char *filter)
{
    char *json = results_of(name);
    char *value = jq(filter, json);
    ck_assert_msg(value != NULL, "jq '%s' failed on %s's results.json", filter, name);
    free(json);
    return value;
}

static int score_of(const char *name)
{
    char *value = answer(name, ".score");
    int score = atoi(value);
    free(value);
    return score;
}

static int max_of(const char *name)
{
    char *value = answer(name, "[.tests[].max_score] | add");
    int max = atoi(value);
    free(value);
    return max;
}

static const char *const submissions[] = { "solution", "starter", "folder", "missing",
                                           "symlink", "fake_results", "reads_the_course",
                                           "line_breaks" };

/* Gradescope's results.json (gradescope-autograders.readthedocs.io,
   "Autograder Specifications"): a score, and the tests with name, score,
   max_score, output and visibility; at the top, output, execution_time and
   stdout_visibility. The score is the tests' sum here, and each test's
   score between 0 and its max. */
static const char gradescope_schema[] =
    "(.score | type == \"number\") and (.score == ([.tests[].score] | add))"
    " and (.output | type == \"string\") and (.execution_time | type == \"number\")"
    " and (.stdout_visibility | IN(\"hidden\", \"after_due_date\", \"after_published\", \"visible\"))"
    " and (.tests | type == \"array\" and length > 0)"
    " and all(.tests[]; (.name | type == \"string\" and length > 0)"
    "   and (.score | type == \"number\") and (.max_score | type == \"number\")"
    "   and .score >= 0 and .score <= .max_score and (.output | type == \"string\")"
    "   and (.visibility | IN(\"hidden\", \"after_due_date\", \"after_published\", \"visible\")))";

START_TEST(every_results_json_follows_gradescope_s_schema)
{
    for (size_t i = 0; i < sizeof submissions / sizeof submissions[0]; i++) {
        char *json = results_of(submissions[i]);
        char *ok = jq(gradescope_schema, json);
        char *text = read_file(json);
        ck_assert_msg(ok != NULL && strcmp(ok, "true") == 0,
                      "%s's results.json is not what Gradescope reads:\n%s", submissions[i], text);
        free(text);
        free(ok);
        free(json);
    }
}
END_TEST

START_TEST(the_solution_gets_full_marks)
{
    ck_assert_int_eq(max_of("solution"), 10);
    ck_assert_int_eq(score_of("solution"), 10);
}
END_TEST

START_TEST(the_starter_gets_less)
{
    ck_assert_int_lt(score_of("starter"), max_of("starter"));
}
END_TEST

START_TEST(files_in_one_folder_are_found)
{
    ck_assert_int_eq(score_of("folder"), 10);
    char *said = answer("folder", ".output | contains(\"found in the folder my work/\")");
    ck_assert_str_eq(said, "true");
    free(said);
}
END_TEST

START_TEST(a_missing_file_is_named_in_results_json)
{
    ck_assert_int_eq(score_of("missing"), 0);
    ck_assert_int_eq(max_of("missing"), 10);
    char *output = answer("missing", ".output");
    ck_assert_msg(strstr(output, "event1.c is missing") != NULL, "results.json says: %s", output);
    free(output);
}
END_TEST

START_TEST(a_symbolic_link_is_refused_in_results_json)
{
    ck_assert_int_eq(score_of("symlink"), 0);
    char *output = answer("symlink", ".output");
    ck_assert_msg(strstr(output, "event1.c is a symbolic link") != NULL, "results.json says: %s",
                  output);
    free(output);
}
END_TEST

/* Each scores what tests/hostile/NAME/expected_score says, as under
   make grade (grader/hostile_submissions_get_their_expected_scores). */
START_TEST(hostile_submissions_get_their_expected_scores)
{
    const char *names[] = { "fake_results", "reads_the_course" };
    for (size_t i = 0; i < 2; i++) {
        char *path;
        if (asprintf(&path, "tests/hostile/%s/expected_score", names[i]) < 0)
            abort();
        char *expected = read_file(path);
        ck_assert_msg(expected != NULL, "cannot read %s", path);
        ck_assert_msg(score_of(names[i]) == atoi(expected), "%s scored %d, not %d", names[i],
                      score_of(names[i]), atoi(expected));
        free(expected);
        free(path);
    }
}
END_TEST

/* The output a student reads: the lines of the program's stderr on lines
   of their own (no literal \n), the cut said with how much was cut. */
START_TEST(output_keeps_line_breaks_and_marks_a_cut)
{
    char *json = results_of("line_breaks");
    char *whole = jq(".tests[] | select(.name == \"callbacks_run_in_the_required_order\") | .output | @json", json);
    ck_assert_msg(whole != NULL, "no such test in %s", json);
    /* @json: the output as a JSON string, a line break as \n, a literal
       backslash as \\. */
    ck_assert_msg(strstr(whole, "stderr: first line\\nsecond line\\n0123456789") != NULL,
                  "the stderr's lines are not on lines of their own: %s", whole);
    ck_assert_msg(strstr(whole, "\\\\n") == NULL, "a literal \\n is left: %s", whole);
    ck_assert_msg(strstr(whole, "…[cut: 263 more bytes]") != NULL, "the cut is not marked: %s",
                  whole);
    free(whole);
    free(json);
}
END_TEST

Suite *gradescope_suite(void)
{
    Suite *s = suite_create("gradescope");

    TCase *package = tcase_create("package");
    tcase_add_unchecked_fixture(package, package_everything, drop_packages);
    tcase_set_timeout(package, 120);
    tcase_add_test(package, every_package_holds_its_exercise_and_the_grader);
    tcase_add_test(package, no_package_holds_a_solution_or_another_exercise);
    tcase_add_test(package, make_gradescope_refuses_an_unknown_exercise);
    suite_add_tcase(s, package);

    TCase *autograder = tcase_create("autograder");
    tcase_add_unchecked_fixture(autograder, run_autograders, drop_autograders);
    tcase_set_timeout(autograder, 60);
    tcase_add_test(autograder, every_results_json_follows_gradescope_s_schema);
    tcase_add_test(autograder, the_solution_gets_full_marks);
    tcase_add_test(autograder, the_starter_gets_less);
    tcase_add_test(autograder, files_in_one_folder_are_found);
    tcase_add_test(autograder, a_missing_file_is_named_in_results_json);
    tcase_add_test(autograder, a_symbolic_link_is_refused_in_results_json);
    tcase_add_test(autograder, hostile_submissions_get_their_expected_scores);
    tcase_add_test(autograder, output_keeps_line_breaks_and_marks_a_cut);
    suite_add_tcase(s, autograder);
    return s;
}
