/*
 * site.c - the site suite: `make site` (docs/site/build.sh) builds the
 * course's site from the course as it is, and what it builds holds what
 * the issue asks of it. The site is built once, into a temporary directory
 * under the build directory, before the tests (an unchecked fixture); the
 * tests read it with real parsers: tests/site.py (python's html.parser) for
 * the pages, xmllint for the pictures. What only a browser can tell (console
 * errors, layout at 390 pixels) is `make check-site`'s (docs/site/check.py).
 * Cite these tests as `site/<test name>`.
 */
#define _GNU_SOURCE /* asprintf */
#include "suites.h"
#include "util.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Building the whole site takes ~15 s on an idle 2-core machine; a loaded
   one may take many times that. */
enum { BUILD_TIMEOUT_MS = 900000, TOOL_TIMEOUT_MS = 120000 };

static char *temp_dir;    /* the fixture's directory */
static char *site;        /* the site built there */
static struct run_result build;

static void build_site(void)
{
    temp_dir = make_temp_dir();
    if (asprintf(&site, "%s/site", temp_dir) < 0)
        abort();
    const char *argv[] = { "docs/site/build.sh", site, NULL };
    run_program(argv, NULL, BUILD_TIMEOUT_MS, &build);
}

static void remove_site(void)
{
    remove_tree(temp_dir);
    run_result_free(&build);
    free(site);
    free(temp_dir);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Run tests/site.py WHAT SITE [PAGE]. */
static void site_py(const char *what, const char *page, struct run_result *r)
{
    const char *argv[] = { "tests/site.py", what, site, page, NULL };
    run_program(argv, NULL, TOOL_TIMEOUT_MS, r);
    ck_assert_msg(!r->timed_out, "tests/site.py %s timed out", what);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static int count_lines_equal(const char *text, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t l = end != NULL ? (size_t)(end - p) : strlen(p);
        if (l == len && strncmp(p, line, len) == 0)
            n++;
        p = end != NULL ? end + 1 : NULL;
    }
    return n;
}

/* The line of text that starts with prefix, or NULL. Caller frees. */
static char *line_starting(const char *text, const char *prefix)
{
    size_t len = strlen(prefix);
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t l = end != NULL ? (size_t)(end - p) : strlen(p);
        if (l >= len && strncmp(p, prefix, len) == 0)
            return strndup(p, l);
        p = end != NULL ? end + 1 : NULL;
    }
    return NULL;
}

/* --- The build --------------------------------------------------------------- */

START_TEST(site_builds_without_a_warning)
{
    ck_assert_msg(!build.timed_out, "docs/site/build.sh did not finish within %d ms", BUILD_TIMEOUT_MS);
    ck_assert_msg(build.status == 0, "docs/site/build.sh failed (%d):\n%.1500s", build.status, build.err);
    char *index;
    if (asprintf(&index, "%s/index.html", site) < 0)
        abort();
    ck_assert_msg(exists(index), "no index page: %s", index);
    free(index);
}
END_TEST

/* Every lesson of the index has its README's page, its walkthrough's page,
   and two timelines (one per style) per expected trace, each a well-formed
   SVG: nothing is listed by hand, so a new lesson is new pages. */
START_TEST(every_lesson_in_the_index_has_its_pages_and_timelines)
{
    size_t n;
    char **dirs = index_dirs("lessons", &n);
    ck_assert_msg(n > 0, "the index lists no lesson");
    for (size_t i = 0; i < n; i++) {
        const char *slug = strchr(dirs[i], '/') + 1;
        char *readme, *page, *walk, *walk_page, *pattern;
        if (asprintf(&readme, "%s/README.md", dirs[i]) < 0 ||
            asprintf(&page, "%s/%s/README.html", site, dirs[i]) < 0 ||
            asprintf(&walk, "docs/lessons/%s.md", slug) < 0 ||
            asprintf(&walk_page, "%s/docs/lessons/%s.html", site, slug) < 0 ||
            asprintf(&pattern, "%s/expected*.trace", dirs[i]) < 0)
            abort();
        if (exists(readme))
            ck_assert_msg(exists(page), "%s: no page for its README", dirs[i]);
        if (exists(walk))
            ck_assert_msg(exists(walk_page), "%s: no page for its walkthrough %s", dirs[i], walk);
        glob_t g;
        if (exists(readme) && glob(pattern, 0, NULL, &g) == 0) {
            for (size_t t = 0; t < g.gl_pathc; t++) {
                char *base = strrchr(g.gl_pathv[t], '/') + 1;
                for (int style = 1; style <= 2; style++) {
                    char *svg;
                    if (asprintf(&svg, "%s/img/timelines/%s/%.*s.event%d.svg", site, slug,
                                 (int)(strlen(base) - strlen(".trace")), base, style) < 0)
                        abort();
                    ck_assert_msg(exists(svg), "%s: no timeline %s", dirs[i], svg);
                    const char *argv[] = { "xmllint", "--noout", svg, NULL };
                    struct run_result r;
                    run_program(argv, NULL, TOOL_TIMEOUT_MS, &r);
                    ck_assert_msg(r.status == 0, "%s is not well-formed XML: %.1500s", svg, r.err);
                    run_result_free(&r);
                    free(svg);
                }
            }
            globfree(&g);
        }
        free(readme);
        free(page);
        free(walk);
        free(walk_page);
        free(pattern);
    }
    free_strings(dirs, n);
}
END_TEST

START_TEST(every_local_link_and_anchor_leads_somewhere)
{
    struct run_result r;
    site_py("links", NULL, &r);
    ck_assert_msg(r.status == 0 && r.out[0] == '\0', "links that lead nowhere:\n%.1500s%.500s", r.out, r.err);
    run_result_free(&r);
}
END_TEST

START_TEST(no_page_loads_anything_from_outside_the_site)
{
    struct run_result r;
    site_py("outside", NULL, &r);
    ck_assert_msg(r.status == 0 && r.out[0] == '\0', "resources from outside the site:\n%.1500s%.500s", r.out, r.err);
    run_result_free(&r);
}
END_TEST

/* --- Pages ------------------------------------------------------------------- */

/* Every pair a walkthrough writes (**event1** then **event2**, or the old
   HTML table) is on its page as two columns, event1's files in the first,
   event2's in the second. */
START_TEST(every_walkthrough_shows_the_two_styles_side_by_side)
{
    glob_t g;
    ck_assert_int_eq(glob("docs/lessons/*.md", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *md = read_file(g.gl_pathv[i]);
        ck_assert_ptr_nonnull(md);
        int written = count_lines_equal(md, "**event1**") + count_lines_equal(md, "<tr><th>event1</th><th>event2</th></tr>");
        char *page;
        const char *name = strrchr(g.gl_pathv[i], '/') + 1;
        if (asprintf(&page, "docs/lessons/%.*s.html", (int)(strlen(name) - 3), name) < 0)
            abort();
        char *lesson_readme;
        if (asprintf(&lesson_readme, "lessons/%.*s/README.md", (int)(strlen(name) - 3), name) < 0)
            abort();
        if (!exists(lesson_readme)) { /* a walkthrough before its lesson: not on the site */
            free(md), free(page), free(lesson_readme);
            continue;
        }
        char *built_page;
        if (asprintf(&built_page, "%s/%s", site, page) < 0)
            abort();
        bool built = exists(built_page);
        free(built_page);
        if (!built) { /* every_lesson_in_the_index_has_its_pages_and_timelines says so */
            free(md), free(page), free(lesson_readme);
            continue;
        }
        struct run_result r;
        site_py("pairs", page, &r);
        ck_assert_msg(r.status == 0, "tests/site.py pairs %s: %.1500s", page, r.err);
        int shown = 0;
        for (char *line = strtok(r.out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            char *bar = strstr(line, " | ");
            if (bar == NULL || bar == line)
                continue; /* a pair of pictures (the timelines) */
            *bar = '\0';
            ck_assert_msg(strstr(line, "/event1") != NULL && strstr(bar + 3, "/event2") != NULL,
                          "%s: a pair whose columns are not event1, event2: %s | %s", page, line, bar + 3);
            shown++;
        }
        ck_assert_msg(shown == written, "%s: %d pairs of code on the page, %d in %s",
                      page, shown, written, g.gl_pathv[i]);
        run_result_free(&r);
        free(md);
        free(page);
        free(lesson_readme);
    }
    globfree(&g);
}
END_TEST

START_TEST(lessons_link_to_the_previous_and_next_in_the_index)
{
    size_t n;
    char **dirs = index_dirs("lessons", &n);
    ck_assert_msg(n >= 3, "fewer than three lessons");
    char *page, *prev, *next;
    const char *slug = strchr(dirs[1], '/') + 1;
    if (asprintf(&page, "docs/lessons/%s.html", slug) < 0 ||
        asprintf(&prev, "prev ../../docs/lessons/%s.html", strchr(dirs[0], '/') + 1) < 0 ||
        asprintf(&next, "next ../../docs/lessons/%s.html", strchr(dirs[2], '/') + 1) < 0)
        abort();
    struct run_result r;
    site_py("prevnext", page, &r);
    ck_assert_msg(count_lines_equal(r.out, prev) == 1 && count_lines_equal(r.out, next) == 1,
                  "%s: previous and next are\n%.500s\nnot %s, %s", page, r.out, prev, next);
    run_result_free(&r);
    site_py("prevnext", "docs/lessons/01-first-loop.html", &r);
    ck_assert_msg(strncmp(r.out, "next ", 5) == 0, "lesson 01 has a previous lesson: %.500s", r.out);
    run_result_free(&r);
    free(page);
    free(prev);
    free(next);
    free_strings(dirs, n);
}
END_TEST

/* The index page: the lifecycle drawn, and a row per lesson of the index. */
START_TEST(index_page_has_the_lifecycle_and_a_row_per_lesson)
{
    struct run_result r;
    site_py("images", "index.html", &r);
    ck_assert_msg(count_lines_equal(r.out, "img/lifecycle.svg") == 1, "index images: %.500s", r.out);
    run_result_free(&r);
    site_py("table", "index.html", &r);
    size_t n;
    char **dirs = index_dirs("lessons", &n);
    for (size_t i = 0; i < n; i++) {
        char *readme, *row;
        if (asprintf(&readme, "%s/README.md", dirs[i]) < 0 ||
            asprintf(&row, "%.2s\t", strchr(dirs[i], '/') + 1) < 0)
            abort();
        if (exists(readme)) {
            char *line = line_starting(r.out, row);
            ck_assert_msg(line != NULL, "no row for %s on the index page:\n%.1500s", dirs[i], r.out);
            ck_assert_msg(strstr(line, strchr(dirs[i], '/') + 1) != NULL, "row %s does not link to it: %.1500s", dirs[i], line);
            free(line);
        }
        free(readme);
        free(row);
    }
    free_strings(dirs, n);
    run_result_free(&r);
}
END_TEST

/* --- The pictures ------------------------------------------------------------ */

/* timeline.py on a trace written here: the SVG's description says, lane by
   lane, what it draws. */
START_TEST(timeline_draws_each_lane_as_the_trace_says)
{
    char *dir = make_temp_dir(), *trace, *svg;
    if (asprintf(&trace, "%s/t.trace", dir) < 0 || asprintf(&svg, "%s/t.svg", dir) < 0)
        abort();
    write_file(trace,
               "tick     created    non-pending events=TIMEOUT|PERSIST\n" /* 1 */
               "tick     added      pending(TIMEOUT|PERSIST)\n"            /* 2 */
               "loop     dispatch\n"                                      /* 3 */
               "tick     active     what=TIMEOUT\n"                        /* 4 */
               "tick     callback   pending(TIMEOUT|PERSIST)\n"           /* 5 */
               "event1   a line event2 does not print\n"
               "tick     deleted    non-pending\n"                         /* 6 in event2 */
               "tick     after      non-pending\n"                         /* 7 */
               "loop     returned   result=1\n"                            /* 8 */
               "tick     free       non-pending\n");                       /* 9 */
    const char *argv[] = { "docs/site/timeline.py", "event2", trace, svg, NULL };
    struct run_result r;
    run_program(argv, NULL, TOOL_TIMEOUT_MS, &r);
    ck_assert_msg(r.status == 0, "timeline.py failed: %.1500s", r.err);
    run_result_free(&r);
    const char *xpath[] = { "xmllint", "--xpath", "string(/*[local-name()='svg']/*[local-name()='desc'])", svg, NULL };
    run_program(xpath, NULL, TOOL_TIMEOUT_MS, &r);
    ck_assert_msg(r.status == 0, "xmllint: %.1500s", r.err);
    ck_assert_str_eq(r.out,
                     "loop: running 3-8\n"
                     "tick: non-pending 1, pending(TIMEOUT|PERSIST) 2-3, active 4, "
                     "pending(TIMEOUT|PERSIST) 5, non-pending 6-9; callbacks 5-7; free 9\n");
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
    free(trace);
    free(svg);
}
END_TEST

/* A row of the lifecycle's table names call1 among event1's causes and
   call2 among event2's ("...: event1 a(), b(); event2 c(), d()"). */
static void assert_styles_say(const char *row, const char *call1, const char *call2)
{
    const char *one = strstr(row, "event1 "), *two = strstr(row, "; event2 ");
    ck_assert_msg(one != NULL && two != NULL && one < two, "no cause per style: %.1500s", row);
    const char *found1 = strstr(one, call1), *found2 = strstr(two, call2);
    ck_assert_msg(found1 != NULL && found1 < two, "event1 does not name %s: %.1500s", call1, row);
    ck_assert_msg(found2 != NULL, "event2 does not name %s: %.1500s", call2, row);
}

/* The lifecycle's transitions, each with its cause in each style, read from
   the lessons' programs: event_set() and event_new() make an event,
   event_add() adds it in both styles, EV_PERSIST keeps it pending. */
START_TEST(lifecycle_labels_each_transition_per_style)
{
    struct run_result r;
    site_py("table", "lifecycle.html", &r);
    char *made = line_starting(r.out, "start\tnon-pending\t");
    char *added = line_starting(r.out, "non-pending\tpending\t");
    char *persist = line_starting(r.out, "callback\tpending\t");
    ck_assert_msg(made != NULL && added != NULL && persist != NULL, "transitions missing:\n%.1500s", r.out);
    assert_styles_say(made, "event_set()", "event_new()");
    assert_styles_say(added, "event_add()", "event_add()");
    ck_assert_msg(strstr(persist, "EV_PERSIST") != NULL, "persist: %.1500s", persist);
    free(made);
    free(added);
    free(persist);
    run_result_free(&r);

    char *svg;
    if (asprintf(&svg, "%s/img/lifecycle.svg", site) < 0)
        abort();
    const char *argv[] = { "xmllint", "--xpath", "count(//*[local-name()='g'][@class='edge'])", svg, NULL };
    run_program(argv, NULL, TOOL_TIMEOUT_MS, &r);
    ck_assert_msg(r.status == 0 && atoi(r.out) >= 8, "the lifecycle has %.20s transitions: %.500s", r.out, r.err);
    run_result_free(&r);
    free(svg);
}
END_TEST

/* The API map pairs 1.x calls with the 2.x calls the event2 programs make
   in their place, and links each pair to the lessons that show it. */
START_TEST(api_map_pairs_1x_calls_with_their_2x_counterparts)
{
    struct run_result r;
    site_py("table", "api-map.html", &r);
    char *init = line_starting(r.out, "event_init()\tevent_base_new() ");
    char *dispatch = line_starting(r.out, "event_dispatch()\tevent_base_dispatch() ");
    ck_assert_msg(init != NULL && dispatch != NULL, "event_init or event_dispatch not paired:\n%.1500s", r.out);
    ck_assert_msg(strstr(init, "[docs/lessons/01-first-loop.html]") != NULL, "no link to lesson 01: %.1500s", init);
    free(init);
    free(dispatch);
    run_result_free(&r);
}
END_TEST

/* --- The pager form ---------------------------------------------------------- */

START_TEST(convert_writes_a_table_as_event1_then_event2)
{
    char *dir = make_temp_dir(), *md;
    if (asprintf(&md, "%s/w.md", dir) < 0)
        abort();
    const char *snippet1 = "<!-- snippet: lessons/01-first-loop/event1.c a -->\n```c\none();\n```\n<!-- end snippet -->\n";
    const char *snippet2 = "<!-- snippet: lessons/01-first-loop/event2.c a -->\n```c\ntwo();\n```\n<!-- end snippet -->\n";
    char *table, *pager;
    if (asprintf(&table, "Before.\n\n<table>\n<tr><th>event1</th><th>event2</th></tr>\n<tr><td>\n\n%s\n"
                         "</td><td>\n\n%s\n</td></tr>\n</table>\n\nAfter.\n", snippet1, snippet2) < 0 ||
        asprintf(&pager, "Before.\n\n**event1**\n\n%s\n**event2**\n\n%s\nAfter.\n", snippet1, snippet2) < 0)
        abort();
    write_file(md, table);
    const char *argv[] = { "docs/site/convert.py", md, NULL };
    struct run_result r;
    run_program(argv, NULL, TOOL_TIMEOUT_MS, &r);
    ck_assert_msg(r.status == 0, "convert.py: %.1500s", r.err);
    run_result_free(&r);
    char *got = read_file(md);
    ck_assert_str_eq(got, pager);
    free(got);

    /* Prose in a cell is not converted: an error naming the line. */
    const char *odd = "<table>\n<tr><th>event1</th><th>event2</th></tr>\n<tr><td>\n\nprose\n</td><td>\n</td></tr>\n</table>\n";
    write_file(md, odd);
    run_program(argv, NULL, TOOL_TIMEOUT_MS, &r);
    ck_assert_msg(r.status == 1 && strstr(r.err, "w.md:5:") != NULL, "status %d: %.1500s", r.status, r.err);
    got = read_file(md);
    ck_assert_str_eq(got, odd);
    free(got);
    run_result_free(&r);
    remove_tree(dir);
    free(dir);
    free(md);
    free(table);
    free(pager);
}
END_TEST

Suite *site_suite(void)
{
    Suite *s = suite_create("site");
    TCase *built = tcase_create("built");
    tcase_add_unchecked_fixture(built, build_site, remove_site);
    tcase_set_timeout(built, 120);
    tcase_add_test(built, site_builds_without_a_warning);
    tcase_add_test(built, every_lesson_in_the_index_has_its_pages_and_timelines);
    tcase_add_test(built, every_local_link_and_anchor_leads_somewhere);
    tcase_add_test(built, no_page_loads_anything_from_outside_the_site);
    tcase_add_test(built, every_walkthrough_shows_the_two_styles_side_by_side);
    tcase_add_test(built, lessons_link_to_the_previous_and_next_in_the_index);
    tcase_add_test(built, index_page_has_the_lifecycle_and_a_row_per_lesson);
    tcase_add_test(built, lifecycle_labels_each_transition_per_style);
    tcase_add_test(built, api_map_pairs_1x_calls_with_their_2x_counterparts);
    suite_add_tcase(s, built);

    TCase *tools = tcase_create("tools");
    tcase_set_timeout(tools, 120);
    tcase_add_test(tools, timeline_draws_each_lane_as_the_trace_says);
    tcase_add_test(tools, convert_writes_a_table_as_event1_then_event2);
    suite_add_tcase(s, tools);
    return s;
}
