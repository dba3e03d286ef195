/*
 * grader.c - the grader suite: the exercises and the grader that marks
 * them (exercises/, docs/instructors.md).
 *
 *   grading   every exercise's starter, solution and known-wrong
 *             submissions (wrong/NAME: its base with its change.patch
 *             applied, by exercises/grader/wrong.sh), and every hostile
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

/* GRADING_TIMEOUT_MS bounds a cold run (nothing in the cache): 55
   gradings and the hostile set, with the rest of the suite, took 26 min
   on this 2-core VM at load average 25 to 30 (tests/README.md); a warm
   run grades nothing. */
enum { MAKE_TIMEOUT_MS = 300000, GRADING_TIMEOUT_MS = 2400000 };

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
static int host_listener = -1;   /* the host's loopback, port host_port */
static int host_port;            /* chosen by the kernel (bind to port 0) */
static char **exercises;
static size_t nexercises;

static void note_problem(const char *what, const struct run_result *r)
{
    if (fixture_problem == NULL &&
        asprintf(&fixture_problem, "%s (status %d%s):\n%s%s", what, r->status,
                 r->timed_out ? ", timed out" : "", r->out, r->err) < 0)
        abort();
}

/* A listener on the host's loopback, on a port the kernel picks: the
   hostile submission "network" is given that port (in place of 47123 in
   its copy) and tries to connect to it. */
static void open_host_listener(void)
{
    host_listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = 0;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (host_listener < 0 || bind(host_listener, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        listen(host_listener, 16) != 0 ||
        getsockname(host_listener, (struct sockaddr *)&sin, &len) != 0) {
        if (host_listener >= 0)
            close(host_listener);
        host_listener = -1;
        return;
    }
    host_port = ntohs(sin.sin_port);
}

/* The cache of gradings, $BUILD/grade-cache/KEY/: grade.sh's output for
   one submission (grade.log, results.json, results.tap, results.xml,
   build.log, exit), and the hostile set's whole run. KEY is a hash of
   everything the grading depends on: the submission's files (a
   known-wrong one's patch and base too), the
   exercise's tests/ and points, its runner, the sandbox, the kit, the
   grader's scripts, the purity rules, the compiler, libevent, valgrind,
   what the sandbox can do here, the build's flags and the width. A warm
   run with nothing changed grades nothing; a fresh clone grades all. A
   grading a test finds wrong leaves the cache (forget_grading()), so a
   failure is graded again, never kept; a run cut short by
   GRADING_TIMEOUT_MS keeps what it finished.

   A known-wrong submission (exercises/NN-slug/wrong/NAME) is laid out
   first, by wrong.sh, in OUT/submission: its base's files with its
   change.patch applied; its key covers the patch and the base as well as
   the files laid out. When the patch no longer applies, wrong.sh's message
   is the grading's grade.log and its status the exit (read_grade() fails
   with both).

   grade_job is one job ($1 exercise, $2 submission, $3 output directory,
   $4 width; $GW_SCRATCH, $GW_CACHE, $GW_DEPS from the script). */
static const char grade_job[] =
    "exercise=$1 submission=$2 out=$3 width=$4 known=\n"
    "mkdir -p \"$out\"\n"
    "case $submission in exercises/[0-9]*/wrong/*)\n"
    "  known=$submission submission=$out/submission\n"
    "  rm -rf \"$submission\"\n"
    "  if ! exercises/grader/wrong.sh lay-out \"$known\" \"$submission\" > \"$out/grade.log\" 2>&1; then\n"
    "    echo 2 > \"$out/exit\"; echo graded > \"$out/source\"; exit 0\n"
    "  fi;;\n"
    "esac\n"
    "key=$( { echo \"$GW_DEPS $exercise $width\"\n"
    "  if [ -n \"$known\" ]; then\n"
    "    base=$(sed -n 's/^base:[[:space:]]*//p' \"$known/expect\")\n"
    "    sha256sum \"$known/change.patch\" \"$exercise/$base\"/*\n"
    "  fi\n"
    "  for f in $(ls \"$exercise/starter\"); do\n"
    "    echo \"$f $(sha256sum < \"$submission/$f\" 2>/dev/null || echo missing)\"\n"
    "  done\n"
    "  (cd \"$exercise\" && find tests points -type f | LC_ALL=C sort | xargs sha256sum)\n"
    "  sha256sum < \"$BUILD/exercises/${exercise#exercises/}/runner\"\n"
    "} | sha256sum | cut -c1-40)\n"
    "entry=$GW_CACHE/$key\n"
    "echo \"$entry\" > \"$out/cache-entry\"\n"
    "if [ -f \"$entry/results.json\" ] && [ -f \"$entry/scratch\" ]; then\n"
    "  cp \"$entry\"/* \"$out\"/ && rm -f \"$out/scratch\"\n"
    "  old=$(cat \"$entry/scratch\")\n"
    "  sed -i -e \"s|$old|$GW_SCRATCH|g\" -e \"s|${old#\"$PWD\"/}|${GW_SCRATCH#\"$PWD\"/}|g\" \"$out/grade.log\"\n"
    "  echo cache > \"$out/source\"\n"
    "  exit 0\n"
    "fi\n"
    "COLUMNS=$width exercises/grader/grade.sh \"$exercise\" \"$submission\" \"$out\" > \"$out/grade.log\" 2>&1\n"
    "echo $? > \"$out/exit\"\n"
    "echo graded > \"$out/source\"\n"
    "if [ \"$(cat \"$out/exit\")\" = 0 ] && [ -f \"$out/results.json\" ]; then\n"
    "  new=$(mktemp -d \"$GW_CACHE/new-XXXXXX\") &&\n"
    "  (cd \"$out\" && cp grade.log results.json exit $(ls results.tap results.xml build.log 2>/dev/null) \"$new\"/) &&\n"
    "  echo \"$GW_SCRATCH\" > \"$new/scratch\" && { mv -T \"$new\" \"$entry\" 2>/dev/null || rm -rf \"$new\"; }\n"
    "fi\n";

/* The hostile set, graded by grade-all.sh as one run (cached as one). */
static const char hostile_job[] =
    "key=$( { echo \"$GW_DEPS hostile\"\n"
    "  find tests/hostile -type f | LC_ALL=C sort | xargs sha256sum\n"
    "  (cd exercises/02-* && find tests points -type f | LC_ALL=C sort | xargs sha256sum)\n"
    "  sha256sum < \"$BUILD\"/exercises/02-*/runner\n"
    "} | sha256sum | cut -c1-40)\n"
    "entry=$GW_CACHE/hostile-$key\n"
    "echo \"$entry\" > \"$GW_SCRATCH/hostile-entry\"\n"
    "if [ -f \"$entry/hostile/gradebook.csv\" ]; then\n"
    "  cp -R \"$entry/hostile\" \"$GW_SCRATCH/grades/hostile\" && cp \"$entry/hostile.log\" \"$GW_SCRATCH/\"\n"
    "  echo cache > \"$GW_SCRATCH/hostile-source\"\n"
    "  exit 0\n"
    "fi\n"
    "cp -R tests/hostile \"$GW_SCRATCH/hostile\" &&\n"
    "sed -i \"s/47123/$GW_HOST_PORT/\" \"$GW_SCRATCH/hostile/network/event1.c\" &&\n"
    "grep -q \"reaches(\\\"127.0.0.1\\\", $GW_HOST_PORT)\" \"$GW_SCRATCH/hostile/network/event1.c\" || {\n"
    "  echo \"the hostile submission network does not try port $GW_HOST_PORT, the suite's listener\" >&2\n"
    "  exit 1; }\n"
    "echo \"$GW_HOST_PORT\" > \"$GW_SCRATCH/hostile-port\"\n"
    "JOBS=3 exercises/grader/grade-all.sh 2 \"$GW_SCRATCH/hostile\" \"$GW_SCRATCH/grades/hostile\""
    " > \"$GW_SCRATCH/hostile.log\" 2>&1\n"
    "status=$?\n"
    "echo graded > \"$GW_SCRATCH/hostile-source\"\n"
    "if [ $status = 0 ] && [ -f \"$GW_SCRATCH/grades/hostile/gradebook.csv\" ]; then\n"
    "  new=$(mktemp -d \"$GW_CACHE/new-XXXXXX\") &&\n"
    "  cp -R \"$GW_SCRATCH/grades/hostile\" \"$GW_SCRATCH/hostile.log\" \"$new\"/ &&\n"
    "  { mv -T \"$new\" \"$entry\" 2>/dev/null || rm -rf \"$new\"; }\n"
    "fi\n";

/* What every grading depends on beyond its own files, as one hash. */
static const char deps_script[] =
    "{ \"$CC\" --version; sha256sum < \"$(command -v \"$CC\")\"; echo \"$GW_FLAGS $KIT_CFLAGS\"\n"
    "  pkg-config --modversion libevent\n"
    "  sha256sum < \"$(realpath \"$(pkg-config --variable=libdir libevent)/libevent-2.1.so.7\")\"\n"
    "  valgrind --version; \"$BUILD/bin/sandbox\" --probe; sha256sum < \"$BUILD/bin/sandbox\"\n"
    "  find \"$BUILD/exercises/kit\" -type f | LC_ALL=C sort | xargs sha256sum\n"
    "  sha256sum exercises/grader/*.sh .ci/purity.sh .ci/index.sh event1/symbols.txt"
    " event2/symbols.txt\n"
    "} 2>&1 | sha256sum | cut -c1-40";

/* The wrong submissions of an exercise, "exercises/NN-slug/wrong/NAME",
   each a directory with a file `expect` (see docs/instructors.md). */
static size_t wrong_list(const char *exercise, char ***out)
{
    glob_t found;
    char *pattern;
    size_t n = 0;
    *out = NULL;
    if (asprintf(&pattern, "%s/wrong/*/expect", exercise) < 0)
        abort();
    if (glob(pattern, 0, NULL, &found) == 0) {
        *out = calloc(found.gl_pathc, sizeof **out);
        for (size_t i = 0; i < found.gl_pathc; i++)
            (*out)[n++] = strndup(found.gl_pathv[i], strlen(found.gl_pathv[i]) - strlen("/expect"));
        globfree(&found);
    }
    free(pattern);
    return n;
}

/* "N graded, M from the cache": the line run-tests prints for this suite
   ends with it (test-results/grader.note). */
static void write_cache_note(void)
{
    char *command;
    struct run_result r;
    if (asprintf(&command,
                 "cd %s || exit 1; graded=$(find grades -name source -exec grep -lx graded {} + | wc -l);"
                 " cached=$(find grades -name source -exec grep -lx cache {} + | wc -l);"
                 " n=$(ls -d grades/hostile/*/ 2>/dev/null | wc -l);"
                 " case $(cat hostile-source 2>/dev/null) in graded) graded=$((graded + n));;"
                 " cache) cached=$((cached + n));; esac;"
                 " echo \"$graded graded, $cached from the cache\"",
                 scratch) < 0)
        abort();
    run_shell(command, 20000, &r);
    free(command);
    char *path;
    if (asprintf(&path, "%s/test-results/grader.note", build_dir()) < 0)
        abort();
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(r.out, f);
        fclose(f);
    }
    free(path);
    run_result_free(&r);
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
    /* One job per starter, solution and wrong submission, slowest
       exercise first: exercise, submission, output directory, the
       terminal's width. The third exercise's starter (03's) is graded for
       a terminal of 40 columns, its reasons wrapped and cut
       (a_cut_reason_is_marked). One more job: the first exercise's
       starter with a line that is not C added to each file (grades/broken,
       a_failed_build_is_reported_once). */
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
        char **wrong;
        size_t nwrong = wrong_list(exercises[k], &wrong);
        for (size_t w = 0; w < nwrong; w++)
            fprintf(list, "%s\t%s\t%s/grades/%s/wrong-%s\t80\n", exercises[k], wrong[w], scratch,
                    slug, strrchr(wrong[w], '/') + 1);
        free_list(wrong, nwrong);
    }
    fprintf(list, "%s\t%s/broken\t%s/grades/broken\t80\n", exercises[0], scratch, scratch);
    fclose(list);

    open_host_listener();
    char *q_scratch = shell_quote(scratch), *q_build = shell_quote(build_abs);
    char *q_first = shell_quote(exercises[0]);
    char *q_job = shell_quote(grade_job);
    const char *flags = build_flags();
    /* Three gradings at a time, and the hostile set three at a time
       beside them; $0 is the scratch directory. */
    if (asprintf(&command,
                 "export BUILD=%2$s KIT_CFLAGS='-O2 -g' %3$s GW_FLAGS='%3$s'\n"
                 "export GW_SCRATCH=%1$s GW_CACHE=%2$s/grade-cache GW_HOST_PORT=%7$d\n"
                 "mkdir -p %1$s/grades %1$s/broken \"$GW_CACHE\" || exit 1\n"
                 "GW_DEPS=$(%8$s) && export GW_DEPS || exit 1\n"
                 "for f in %5$s/starter/*; do\n"
                 "  cp \"$f\" %1$s/broken/ && echo 'this is not C' >> %1$s/broken/\"${f##*/}\"\n"
                 "done\n"
                 "%4$s"
                 "while IFS=$'\\t' read -r exercise submission out width; do\n"
                 "  printf '%%s\\0%%s\\0%%s\\0%%s\\0' \"$exercise\" \"$submission\" \"$out\" \"$width\"\n"
                 "done < %1$s/jobs | xargs -0 -n 4 -P 3 bash -c %6$s _\n"
                 "wait\n",
                 q_scratch, q_build, flags, hostile_run ? "bash -c \"$1\" &\n" : "", q_first, q_job,
                 host_port, deps_script) < 0)
        abort();
    free(q_first);
    const char *argv[] = { "bash", "-c", command, scratch, hostile_job, NULL };
    run_program(argv, NULL, GRADING_TIMEOUT_MS, &r);
    if (r.status != 0 || r.timed_out)
        note_problem("grading did not finish", &r);
    run_result_free(&r);
    free(command);
    free(q_job);
    free(q_scratch);
    free(q_build);
    free(jobs);
    write_cache_note();
}

/* A grading a test found wrong leaves the cache (its output directory's
   cache-entry names it), so the next run grades it again rather than
   keeping a failure, a flaky one too. */
static void forget_grading(const char *out)
{
    char *path;
    if (asprintf(&path, "%s/cache-entry", out) < 0)
        abort();
    char *entry = read_file(path);
    if (entry != NULL) {
        entry[strcspn(entry, "\n")] = '\0';
        if (strstr(entry, "/grade-cache/") != NULL)
            remove_tree(entry);
    }
    free(entry);
    free(path);
}

/* Each grading test that passes leaves a mark (a checked teardown runs
   only after a test that passed). The tests of one grading call
   forget_grading() before they fail; the others (the hostile set's, the
   processes left, the files left) judge the hostile run, so a run with
   fewer marks than tests removes the hostile set's entry. Grading that did
   not finish (its time limit) is no verdict on the entries it made: each
   is a whole grading, kept for the next run. */
static int grading_tests;

static void mark_passed(void)
{
    char *path;
    if (scratch == NULL || asprintf(&path, "%s/passed", scratch) < 0)
        return;
    mkdir(path, 0755);
    char *mark;
    if (asprintf(&mark, "%s/XXXXXX", path) >= 0) {
        int fd = mkstemp(mark);
        if (fd >= 0)
            close(fd);
        free(mark);
    }
    free(path);
}

static void forget_cache_unless_all_passed(void)
{
    char *command;
    struct run_result r;
    if (fixture_problem != NULL)
        return;
    if (asprintf(&command,
                 "cd %s || exit 0; [ \"$(ls passed 2>/dev/null | wc -l)\" -ge %d ] && exit 0;"
                 " e=$(cat hostile-entry 2>/dev/null); case $e in */grade-cache/*) rm -rf \"$e\";;"
                 " esac; true",
                 scratch, grading_tests) < 0)
        abort();
    run_shell(command, 60000, &r);
    run_result_free(&r);
    free(command);
}

static void drop_everything(void)
{
    if (host_listener >= 0)
        close(host_listener);
    host_listener = -1;
    if (scratch != NULL) {
        forget_cache_unless_all_passed();
        remove_tree(scratch);
    }
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
        ck_assert_msg(atoi(exit_text) == 0, "grading %s exited with status %d:\n%s", out,
                      atoi(exit_text), log);
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
        if (score >= max)
            forget_grading(out);
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
        if (score != max || max == 0)
            forget_grading(out);
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

/* The value of "KEY: value" in a wrong submission's expect file (up to
   the end of its line), or NULL. Caller frees. */
static char *expect_field(const char *expect, const char *key)
{
    for (const char *line = expect; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
            const char *value = line + strlen(key) + 1;
            value += strspn(value, " ");
            return strndup(value, len - (size_t)(value - line));
        }
        line += len + (line[len] == '\n');
    }
    return NULL;
}

/* Is name one of the space-separated words of list? */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(list, name); p != NULL; p = strstr(p + 1, name))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* Each known-wrong submission (exercises/NN-slug/wrong/NAME) scores below
   full marks, gets 0 on every test its expect file says must catch it
   ("fails:"), and full points on every other test but those it names as
   "may_fail:" (a race some runs catch): a test that fails it without
   being named is as wrong as one that lets it pass. */
START_TEST(wrong_submissions_lose_the_points_they_should)
{
    assert_graded();
    int checked = 0;
    for (size_t i = 0; i < nexercises; i++) {
        char **wrong;
        size_t nwrong = wrong_list(exercises[i], &wrong);
        for (size_t w = 0; w < nwrong; w++) {
            const char *name = strrchr(wrong[w], '/') + 1;
            char *out, *expect_path, *json, *log_path;
            if (asprintf(&out, "%s/grades/%s/wrong-%s", scratch, strchr(exercises[i], '/') + 1,
                         name) < 0 ||
                asprintf(&expect_path, "%s/expect", wrong[w]) < 0 ||
                asprintf(&json, "%s/results.json", out) < 0 ||
                asprintf(&log_path, "%s/grade.log", out) < 0)
                abort();
            int score, max;
            read_grade(out, &score, &max);
            char *expect = read_file(expect_path), *log = read_file(log_path);
            char *fails = expect_field(expect, "fails");
            char *may_fail = expect_field(expect, "may_fail");
            if (score >= max)
                forget_grading(out);
            ck_assert_msg(score < max, "%s (%s) scores full marks, %d/%d:\n%s", wrong[w],
                          expect_field(expect, "description"), score, max, log);
            const char *argv[] = { "jq", "-r", ".tests[] | \"\\(.name) \\(.score) \\(.max_score)\"",
                                   json, NULL };
            struct run_result r;
            run_program(argv, NULL, 10000, &r);
            ck_assert_int_eq(r.status, 0);
            for (char *line = r.out; *line != '\0';) {
                char test[128];
                int got, of;
                size_t len = strcspn(line, "\n");
                ck_assert_int_eq(sscanf(line, "%127s %d %d", test, &got, &of), 3);
                bool expected = (may_fail != NULL && listed(may_fail, test)) ||
                                (listed(fails, test) ? got == 0 : got == of);
                if (!expected)
                    forget_grading(out);
                if (may_fail != NULL && listed(may_fail, test))
                    ; /* a race: caught some runs, not all */
                else if (listed(fails, test))
                    ck_assert_msg(got == 0, "%s: %s passed it, but should catch its mistake (%s)",
                                  wrong[w], test, expect_field(expect, "description"));
                else
                    ck_assert_msg(got == of,
                                  "%s: lost the points of %s, which its expect file says it "
                                  "keeps (its mistake: %s):\n%s",
                                  wrong[w], test, expect_field(expect, "description"), log);
                line += len + (line[len] == '\n');
            }
            run_result_free(&r);
            checked++;
            free(may_fail);
            free(fails);
            free(log);
            free(expect);
            free(log_path);
            free(json);
            free(expect_path);
            free(out);
        }
        free_list(wrong, nwrong);
    }
    ck_assert_msg(checked > 0, "no exercise has a wrong/ submission to grade");
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

/* Does /proc/PID/mountinfo hold a mount point under prefix? The sandbox
   mounts a run's scratch directory back at its own path (sandbox.c,
   hide()), so each process of one of this run's sandboxes has a mount
   point in this build's grade-work/: other engineers' runs, in other
   build directories, do not. */
static bool mounts_under(const char *pid, const char *prefix)
{
    char path[300];
    snprintf(path, sizeof path, "/proc/%s/mountinfo", pid);
    char *info = read_file(path);
    if (info == NULL)
        return false;
    bool found = false;
    for (const char *line = info; !found && *line != '\0';) {
        /* id parent major:minor root MOUNT-POINT ... */
        char point[4096];
        if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1)
            found = strncmp(point, prefix, strlen(prefix)) == 0;
        line += strcspn(line, "\n");
        line += *line == '\n';
    }
    free(info);
    return found;
}

/* A process of this run's sandboxes still running is a leftover: one of
   the sandbox user range whose mounts show this build's grade-work/, or
   whose working directory or program lies there. Other runs' sandboxes
   (other build directories, graded at the same time) are not counted. */
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
        ck_assert_msg(st.st_uid < SANDBOX_UID_BASE || !mounts_under(e->d_name, work),
                      "process %s of a sandbox user (uid %u) of this run is still running",
                      e->d_name, (unsigned)st.st_uid);
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

/* The hostile submission "network" tries the suite's listener (port 0:
   the kernel's pick, written into its copy) and gets no connection. When
   the hostile set was graded this run, its copy was aimed at this
   listener; a set from the cache was graded by a run with the same
   sandbox and kept only because this test passed then (a failure removes
   the set's entry). */
START_TEST(submissions_cannot_reach_the_host_network)
{
    assert_hostile_run();
    ck_assert_msg(host_listener >= 0, "the suite could not listen on 127.0.0.1 to watch");
    char *source_path, *port_path;
    if (asprintf(&source_path, "%s/hostile-source", scratch) < 0 ||
        asprintf(&port_path, "%s/hostile-port", scratch) < 0)
        abort();
    char *source = read_file(source_path), *port = read_file(port_path);
    ck_assert_msg(source != NULL, "the hostile set was neither graded nor found in the cache");
    if (strcmp(source, "graded\n") == 0)
        ck_assert_msg(port != NULL && atoi(port) == host_port,
                      "the hostile submission network was aimed at port %s, not at the suite's "
                      "listener on %d",
                      port != NULL ? port : "(none written)", host_port);
    free(port);
    free(source);
    free(port_path);
    free(source_path);
    int fd = accept(host_listener, NULL, NULL);
    ck_assert_msg(fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
                  "a submission connected to 127.0.0.1:%d on the host", host_port);
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

/* make grade WRONG=NAME grades the known-wrong submission NAME of the
   second exercise (the quickest to grade), laid out from its base and
   change.patch: grading runs, the score is below full marks and every
   test its expect file names as failing gives 0. A name that is not there
   is refused, listing those that are, and so are SUBMISSION and WRONG
   together. */
START_TEST(make_grade_grades_a_known_wrong_submission)
{
    char **list;
    size_t n = exercise_list(&list);
    ck_assert_uint_ge(n, 2);
    char **wrong;
    size_t nwrong = wrong_list(list[1], &wrong);
    ck_assert_uint_ge(nwrong, 1);
    const char *name = strrchr(wrong[0], '/') + 1;
    char *dir = make_temp_dir(), *args, *json, *expect_path;
    if (asprintf(&args, "grade EXERCISE=2 WRONG=%s OUT=%s/out", name, dir) < 0 ||
        asprintf(&json, "%s/out/results.json", dir) < 0 ||
        asprintf(&expect_path, "%s/expect", wrong[0]) < 0)
        abort();
    struct run_result r;
    run_make(args, &r);
    char line[256];
    int score = -1, max = -1;
    sscanf(last_line(r.out, line, sizeof line), "SCORE: %d/%d", &score, &max);
    ck_assert_msg(r.status == 0 && max > 0 && score < max,
                  "make %s did not grade it below full marks:\n%s%s", args, r.out, r.err);
    char *expect = read_file(expect_path), *fails = expect_field(expect, "fails");
    ck_assert_ptr_nonnull(fails);
    for (char *test = strtok(fails, " "); test != NULL; test = strtok(NULL, " ")) {
        char *filter, *got;
        if (asprintf(&filter, ".tests[] | select(.name == \"%s\") | .score", test) < 0)
            abort();
        got = jq(filter, json);
        ck_assert_msg(got != NULL && strcmp(got, "0") == 0,
                      "make %s: %s gave %s points, not 0 (its expect file: %s)", args, test,
                      got != NULL ? got : "no", expect);
        free(got);
        free(filter);
    }
    run_result_free(&r);
    assert_refused("grade EXERCISE=2 WRONG=no-such-mistake",
                   "exercise 02-callback-order has no known-wrong submission 'no-such-mistake'; "
                   "it has: ");
    assert_refused("grade EXERCISE=2 WRONG=no-such-mistake", name);
    assert_refused("grade EXERCISE=2 WRONG=../solution", "has no known-wrong submission");
    assert_refused("grade EXERCISE=2 WRONG=x SUBMISSION=exercises", "give SUBMISSION or WRONG, not both");
    remove_tree(dir);
    free(fails);
    free(expect);
    free(expect_path);
    free(json);
    free(args);
    free(dir);
    free_list(wrong, nwrong);
    free_list(list, n);
}
END_TEST

/* When a base changes where a known mistake is made, its patch no longer
   applies, and laying it out (what the grading does first) fails, naming
   the patch: shown on a copy of the first exercise with known-wrong
   submissions, the line its first patch's first hunk starts on edited in
   the copy's base. The unedited copy lays out. */
START_TEST(a_patch_that_no_longer_applies_is_named)
{
    char **list;
    size_t n = exercise_list(&list);
    char **wrong = NULL;
    size_t nwrong = 0, i;
    for (i = 0; i < n && nwrong == 0; i++)
        nwrong = wrong_list(list[i], &wrong);
    ck_assert_msg(nwrong > 0, "no exercise has known-wrong submissions");
    const char *exercise = list[i - 1], *name = strrchr(wrong[0], '/') + 1;
    const char *slug = strchr(exercise, '/') + 1;
    char *dir = make_temp_dir(), *command, *expect_path, *top = absolute(".");
    if (asprintf(&expect_path, "%s/expect", wrong[0]) < 0)
        abort();
    char *expect = read_file(expect_path), *base = expect_field(expect, "base");
    ck_assert_ptr_nonnull(base);
    /* The copy, laid out as it is; then its base's line edited. */
    if (asprintf(&command,
                 "cp -R %1$s %2$s/ && cd %2$s/%3$s/wrong/%4$s || exit 3\n"
                 "%6$s/exercises/grader/wrong.sh lay-out . ../../as-is || exit 3\n"
                 "file=$(sed -n 's|^+++ b/||p' change.patch | head -n 1)\n"
                 "line=$(awk '/^@@/ { h = 1; next } h && /^[- ]/ { print substr($0, 2); exit }'"
                 " change.patch)\n"
                 "LINE=$line awk '!done && $0 == ENVIRON[\"LINE\"] { $0 = $0 \" /* edited */\"; done = 1 }"
                 " { print }' ../../%5$s/$file > edited && mv edited ../../%5$s/$file || exit 3\n"
                 "grep -q -F 'edited */' ../../%5$s/$file || exit 3\n"
                 "exec %6$s/exercises/grader/wrong.sh lay-out . ../../stale\n",
                 exercise, dir, slug, name, base, top) < 0)
        abort();
    struct run_result r;
    run_shell(command, 20000, &r);
    ck_assert_msg(r.status != 3, "could not set up the edited copy:\n%s%s", r.out, r.err);
    char *want;
    if (asprintf(&want, "%s/wrong/%s/change.patch no longer applies to ", slug, name) < 0)
        abort();
    ck_assert_msg(r.status == 2 && strstr(r.err, want) != NULL &&
                      strstr(r.err, "FAILED") != NULL,
                  "a stale %s/change.patch laid out with status %d, its message not saying "
                  "\"%s\" and patch's complaint:\n%s",
                  wrong[0], r.status, want, r.err);
    run_result_free(&r);
    remove_tree(dir);
    free(want);
    free(command);
    free(top);
    free(base);
    free(expect);
    free(expect_path);
    free(dir);
    free_list(wrong, nwrong);
    free_list(list, n);
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

/* Every exercise with a solution has at least four known-wrong
   submissions, each a change.patch and an expect file: a one-line
   description, the base the patch changes (solution or starter), and the
   tests that must catch it, each a test of the manifest; and the patch
   applies to its base today (docs/instructors.md, "Add a known-wrong
   submission"). */
START_TEST(every_exercise_has_known_wrong_submissions)
{
    char **list;
    size_t n = exercise_list(&list);
    char *tmp = make_temp_dir();
    for (size_t i = 0; i < n; i++) {
        if (!has_solution(list[i]))
            continue;
        char **wrong;
        size_t nwrong = wrong_list(list[i], &wrong);
        ck_assert_msg(nwrong >= 4, "%s has %zu known-wrong submissions in wrong/, not 4 or more",
                      list[i], nwrong);
        char *points_path;
        if (asprintf(&points_path, "%s/points", list[i]) < 0)
            abort();
        char *points = read_file(points_path);
        for (size_t w = 0; w < nwrong; w++) {
            char *expect_path, *check;
            if (asprintf(&expect_path, "%s/expect", wrong[w]) < 0)
                abort();
            char *expect = read_file(expect_path);
            char *description = expect_field(expect, "description");
            char *fails = expect_field(expect, "fails");
            ck_assert_msg(description != NULL && strlen(description) > 10 && fails != NULL &&
                              *fails != '\0',
                          "%s lacks a line \"description: ...\" or \"fails: TEST...\"", expect_path);
            char *may_fail = expect_field(expect, "may_fail"), *both;
            if (asprintf(&both, "%s %s", fails, may_fail != NULL ? may_fail : "") < 0)
                abort();
            for (char *test = strtok(both, " "); test != NULL; test = strtok(NULL, " ")) {
                char entry[160];
                snprintf(entry, sizeof entry, "\n%s ", test);
                ck_assert_msg(strstr(points, entry) != NULL,
                              "%s names %s, which is not a test of %s/points", expect_path, test,
                              list[i]);
            }
            char *base = expect_field(expect, "base");
            ck_assert_msg(base != NULL && (strcmp(base, "solution") == 0 || strcmp(base, "starter") == 0),
                          "%s lacks a line \"base: solution\" or \"base: starter\"", expect_path);
            /* Its one change, laid out on its base as the grading does it:
               the starter's files, at least one of them changed. */
            if (asprintf(&check,
                         "ls %1$s | diff - <(printf '%%s\\n' change.patch expect) &&"
                         " rm -rf %2$s/w && exercises/grader/wrong.sh lay-out %1$s %2$s/w &&"
                         " diff <(ls %3$s/starter) <(ls %2$s/w) || exit 1;"
                         " for f in $(ls %2$s/w); do cmp -s %3$s/%4$s/$f %2$s/w/$f || exit 0; done;"
                         " echo 'the patch changes nothing'; exit 1",
                         wrong[w], tmp, list[i], base) < 0)
                abort();
            struct run_result r;
            run_shell(check, 10000, &r);
            ck_assert_msg(r.status == 0,
                          "%s is not change.patch and expect, or does not lay out as the "
                          "starter's files, one at least changed:\n%s%s",
                          wrong[w], r.out, r.err);
            run_result_free(&r);
            free(check);
            free(base);
            free(both);
            free(may_fail);
            free(fails);
            free(description);
            free(expect);
            free(expect_path);
        }
        free(points);
        free(points_path);
        free_list(wrong, nwrong);
    }
    remove_tree(tmp);
    free(tmp);
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
                 "find . -path './exercises/*/solution*' -o -path './exercises/*/wrong' "
                 "  -o -name 'hidden*.c' -o -path './.git' "
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
    tcase_add_checked_fixture(grading, NULL, mark_passed);
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
    tcase_add_test(grading, wrong_submissions_lose_the_points_they_should);
    grading_tests = 12; /* the tests above: each leaves a mark when it passes */
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
    tcase_add_test(input, every_exercise_has_known_wrong_submissions);
    tcase_add_test(input, make_grade_grades_a_known_wrong_submission);
    tcase_add_test(input, a_patch_that_no_longer_applies_is_named);
    suite_add_tcase(s, input);

    TCase *release = tcase_create("release");
    tcase_set_timeout(release, 700); /* a hang bound: 120 s ran out at load 14-20 */
    tcase_add_test(release, release_leaves_no_solution_or_hidden_test);
    tcase_add_test(release, student_commands_work_in_a_release);
    suite_add_tcase(s, release);
    return s;
}
