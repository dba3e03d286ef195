/*
 * course.c - build/bin/course, the small tool the course's scripts share,
 * so that each of these things is written once (in .ci/lib/, which the C
 * suites use directly):
 *
 *   course expected STYLE FILE
 *       The lines of the expected trace FILE that STYLE (event1, event2)
 *       prints: those starting with the other style's name are left out.
 *   course run PROGRAM [ARG...]
 *       Run PROGRAM with EVENT_*, MAKEFLAGS, MAKELEVEL and MFLAGS removed
 *       from its environment, as the expected traces were made.
 *   course serve [-o OUT] [-e ERR] [-s STATUS] [-w SECONDS] [-t SECONDS]
 *                [-c COMMAND] -- SERVER [ARG...]
 *       Start SERVER ARG... (give it --port 0 yourself), its stdout to OUT
 *       and stderr to ERR (default: files under $TMPDIR, removed after),
 *       wait for its first line, "listening on 127.0.0.1:PORT", then run
 *       COMMAND with bash, PORT and SERVER_PID in its environment, in a
 *       process group of its own (at most -t seconds, default 300). Then
 *       SIGTERM to the server, which must exit within -w seconds (default
 *       10; it is killed otherwise), and SIGKILL to what is left of
 *       COMMAND's group (a process holding a connection open, say). STATUS
 *       gets two lines: the server's exit status (124: it did not exit in
 *       time), then COMMAND's.
 *       Exit status: COMMAND's if it failed, else the server's; 3 if the
 *       server never printed its listening line (what it printed is on
 *       stderr).
 */
#include "clock.h"
#include "proc.h"
#include "server.h"
#include "traces.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *self = "course";

static int usage(void)
{
    fprintf(stderr,
            "usage: %s expected STYLE FILE\n"
            "       %s run PROGRAM [ARG...]\n"
            "       %s serve [-o OUT] [-e ERR] [-s STATUS] [-w SECONDS] [-t SECONDS] "
            "[-c COMMAND] -- SERVER [ARG...]\n",
            self, self, self);
    return 2;
}

/* --- course expected ------------------------------------------------------------ */

static int cmd_expected(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "event1") != 0 && strcmp(argv[1], "event2") != 0))
        return usage();
    char *text = read_file(argv[2]);
    if (text == NULL) {
        fprintf(stderr, "%s expected: cannot read %s: %s\n", self, argv[2], strerror(errno));
        return 2;
    }
    char *mine = trace_for_style(text, argv[1]);
    fputs(mine, stdout);
    free(mine);
    free(text);
    return fflush(stdout) == 0 ? 0 : 2;
}

/* --- course run -------------------------------------------------------------------- */

static int cmd_run(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    scrub_environment(NULL);
    execvp(argv[1], argv + 1);
    fprintf(stderr, "%s run: cannot run %s: %s\n", self, argv[1], strerror(errno));
    return 127;
}

/* --- course serve ------------------------------------------------------------------- */

struct serve_options {
    const char *out, *err, *status, *command;
    int term_wait_s, command_limit_s;
    char **server_argv;
};

/* Killed on SIGINT, SIGTERM or SIGHUP to the tool: the server and the
   command's group (they are in process groups of their own, so a Ctrl-C
   on the terminal does not reach them). */
static volatile pid_t server_pid, command_pgid;

static void on_signal(int sig)
{
    if (command_pgid > 0)
        kill(-command_pgid, SIGKILL);
    if (server_pid > 0)
        kill(-server_pid, SIGKILL);
    _exit(128 + sig);
}

static int parse_serve(int argc, char **argv, struct serve_options *o)
{
    *o = (struct serve_options){ .term_wait_s = 10, .command_limit_s = 300, .command = "" };
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL)
            return usage();
        if (strcmp(argv[i], "-o") == 0)
            o->out = value;
        else if (strcmp(argv[i], "-e") == 0)
            o->err = value;
        else if (strcmp(argv[i], "-s") == 0)
            o->status = value;
        else if (strcmp(argv[i], "-c") == 0)
            o->command = value;
        else if (strcmp(argv[i], "-w") == 0)
            o->term_wait_s = atoi(value);
        else if (strcmp(argv[i], "-t") == 0)
            o->command_limit_s = atoi(value);
        else
            return usage();
    }
    if (i + 1 >= argc || o->term_wait_s <= 0 || o->command_limit_s <= 0)
        return usage();
    o->server_argv = argv + i + 1;
    return 0;
}

/* Run COMMAND with bash in a new process group; its exit status, or 124
   if it ran past the limit (its group is then killed). */
static int run_command(const char *command, const struct server *s, int limit_s)
{
    char port[16], pid[16];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(pid, sizeof pid, "%d", (int)s->pid);
    fflush(NULL);
    pid_t child = fork();
    if (child < 0)
        return 127;
    if (child == 0) {
        setpgid(0, 0);
        setenv("PORT", port, 1);
        setenv("SERVER_PID", pid, 1);
        scrub_environment(NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execlp("bash", "bash", "-c", command, (char *)NULL);
        fprintf(stderr, "%s serve: cannot run bash: %s\n", self, strerror(errno));
        _exit(127);
    }
    setpgid(child, child);
    command_pgid = child;
    long long deadline = now_ms() + (long long)limit_s * 1000;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(child, &status, WNOHANG);
        if (r == child)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR)
            return 127;
        if (now_ms() >= deadline) {
            fprintf(stderr, "%s serve: the command ran past %d s; killed\n", self, limit_s);
            kill(-child, SIGKILL);
            waitpid(child, &status, 0);
            return 124;
        }
        sleep_ms(5);
    }
}

/* Standard output and error of a server that did not start, on stderr. */
static void show_failed_start(const struct serve_options *o, const struct server *s)
{
    fprintf(stderr, "%s serve: %s did not print \"listening on 127.0.0.1:PORT\" first",
            self, o->server_argv[0]);
    if (s->pid == 0)
        fprintf(stderr, " (it exited with status %d)", s->status);
    fputc('\n', stderr);
    const char *paths[2] = { o->out, o->err };
    for (int i = 0; i < 2; i++) {
        char *text = read_file(paths[i]);
        if (text != NULL && text[0] != '\0')
            fprintf(stderr, "  its %s: %.2000s%s", i == 0 ? "stdout" : "stderr", text,
                    text[strlen(text) - 1] == '\n' ? "" : "\n");
        free(text);
    }
}

static int cmd_serve(int argc, char **argv)
{
    struct serve_options o;
    if (parse_serve(argc, argv, &o) != 0)
        return 2;
    char scratch[2048], out[2100], err[2100];
    bool own_files = o.out == NULL || o.err == NULL;
    if (own_files) {
        const char *tmp = getenv("TMPDIR");
        if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 1024)
            tmp = "/tmp";
        snprintf(scratch, sizeof scratch, "%s/course-serve-XXXXXX", tmp);
        if (mkdtemp(scratch) == NULL) {
            fprintf(stderr, "%s serve: cannot make a scratch directory: %s\n", self,
                    strerror(errno));
            return 2;
        }
        snprintf(out, sizeof out, "%s/stdout", scratch);
        snprintf(err, sizeof err, "%s/stderr", scratch);
        if (o.out == NULL)
            o.out = out;
        if (o.err == NULL)
            o.err = err;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    struct server s;
    int status;
    /* 60 s: a server under valgrind on a busy machine starts slowly. */
    bool started = server_start(&s, (const char *const *)o.server_argv, o.out, o.err, 0, 60000);
    server_pid = s.pid;
    if (!started) {
        show_failed_start(&o, &s);
        server_kill(&s);
        status = 3;
    } else {
        int command_status = run_command(o.command, &s, o.command_limit_s);
        int server_status = server_stop(&s, SIGTERM, o.term_wait_s * 1000);
        if (server_status < 0) {
            fprintf(stderr, "%s serve: %s did not exit within %d s of SIGTERM; killed\n", self,
                    o.server_argv[0], o.term_wait_s);
            server_status = 124;
        }
        kill(-command_pgid, SIGKILL);
        command_pgid = 0;
        if (o.status != NULL) {
            FILE *f = fopen(o.status, "w");
            if (f != NULL) {
                fprintf(f, "%d\n%d\n", server_status, command_status);
                fclose(f);
            }
        }
        status = command_status != 0 ? command_status : server_status;
    }
    server_pid = 0;
    if (own_files) {
        remove_tree(scratch);
    }
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "expected") == 0)
        return cmd_expected(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    return usage();
}
