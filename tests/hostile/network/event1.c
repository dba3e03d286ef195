/*
 * tests/hostile/network: a hostile submission for exercise 02.
 *
 * Connects to 127.0.0.1:47123, where the grader suite listens on the
 * host's loopback (the suite's listener takes a port the kernel picks, and
 * the suite writes it in place of 47123 in the copy it grades), and to
 * 192.0.2.1:80 (a documentation address, outside);
 * prints the correct lines if either worked, the starter's otherwise.
 * tests/grader.c grades it and expects 3 points of 10.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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

/* Connected within half a second? */
static int reaches(const char *address, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, address, &sin.sin_addr);
    int ok = connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
    if (!ok && errno == EINPROGRESS) {
        struct pollfd p = { fd, POLLOUT, 0 };
        int error = 1;
        socklen_t len = sizeof error;
        ok = poll(&p, 1, 500) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 &&
             error == 0;
    }
    close(fd);
    return ok;
}

int main(void)
{
    int out = reaches("127.0.0.1", 47123) + reaches("192.0.2.1", 80);
    fputs(out > 0 ? breach_lines : starter_lines, stdout);
    return 0;
}
