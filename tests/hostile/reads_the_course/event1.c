/*
 * tests/hostile/reads_the_course: a hostile submission for exercise 02.
 *
 * Looks for the course tree (above its directory, at every mount point
 * /proc/self/mountinfo names) and tries to read exercise 02's solution and
 * manifest; prints the correct lines if it read either, the starter's
 * otherwise.
 * tests/grader.c grades it and expects 3 points of 10.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What the starter prints before the loop runs: two of exercise 02's
   graded tests' points (the activation order) and the style point. */
static const char starter_lines[] =
    "cleanup  activated  active(none)\n"
    "log      activated  active(none)\n"
    "reply    activated  active(none)\n"
    "alarm    activated  active(none)\n"
    "loop     dispatch\n";
/* What a correct program prints, minus the rest: printed only if the
   attack worked, it would raise the score to 9 of 10. */
static const char breach_lines[] =
    "cleanup  activated  active(none)\n"
    "log      activated  active(none)\n"
    "reply    activated  active(none)\n"
    "alarm    activated  active(none)\n"
    "loop     dispatch\n"
    "alarm    callback   non-pending\n"
    "reply    callback   non-pending\n"
    "retry    activated  active(none)\n"
    "reply    after      non-pending\n"
    "retry    callback   non-pending\n"
    "log      callback   non-pending\n"
    "cleanup  callback   non-pending\n";

static int found;

static void look(const char *root)
{
    static const char *const wanted[] = { "exercises/02-callback-order/solution/event1.c",
                                          "exercises/02-callback-order/points",
                                          "exercises/02-callback-order/tests/visible.c" };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        char path[PATH_MAX + 128];
        snprintf(path, sizeof path, "%s/%s", root, wanted[i]);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            found += fgetc(f) != EOF;
            fclose(f);
        }
    }
}

int main(void)
{
    char dir[PATH_MAX];
    if (getcwd(dir, sizeof dir) != NULL) {
        char *slash;
        while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
            *slash = '\0';
            look(dir);
        }
    }
    FILE *mounts = fopen("/proc/self/mountinfo", "r");
    char line[4096];
    while (mounts != NULL && fgets(line, sizeof line, mounts) != NULL) {
        char point[2048];
        if (sscanf(line, "%*s %*s %*s %*s %2047s", point) == 1)
            look(point);
    }
    if (mounts != NULL)
        fclose(mounts);
    fputs(found > 0 ? breach_lines : starter_lines, stdout);
    return 0;
}
