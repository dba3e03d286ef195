/*
 * tests/hostile/writes_outside: a hostile submission for exercise 02.
 *
 * Tries to create a file named pwned-by-submission in every directory
 * above its own, in /tmp, /var/tmp, /dev/shm and /run/lock, and in every
 * directory /proc/self/mountinfo names but its own; prints the correct
 * lines if any write worked, the starter's if none did.
 * tests/grader.c grades it and expects 3 points of 10.
 */
#include <fcntl.h>
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

static int planted;
static char own[PATH_MAX]; /* its own directory: writing there is allowed */

static void plant(const char *dir)
{
    if (strcmp(dir, own) == 0)
        return;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/pwned-by-submission", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        planted += write(fd, "pwned\n", 6) == 6;
        close(fd);
    }
}

int main(void)
{
    char dir[PATH_MAX];
    if (getcwd(own, sizeof own) == NULL)
        return 1;
    if (getcwd(dir, sizeof dir) != NULL) {
        char *slash;
        while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
            *slash = '\0'; /* the parent: not our own directory */
            plant(dir);
        }
    }
    const char *shared[] = { "/", "/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/root" };
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
        plant(shared[i]);
    FILE *mounts = fopen("/proc/self/mountinfo", "r");
    char line[4096];
    while (mounts != NULL && fgets(line, sizeof line, mounts) != NULL) {
        char point[2048];
        if (sscanf(line, "%*s %*s %*s %*s %2047s", point) == 1)
            plant(point);
    }
    if (mounts != NULL)
        fclose(mounts);
    fputs(planted > 0 ? breach_lines : starter_lines, stdout);
    return 0;
}
