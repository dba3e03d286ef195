/*
 * sandbox.c - run one untrusted program (a student's submission, or the
 * compiler on a student's source) so that whatever it does costs only its
 * own run.
 *
 *   sandbox [OPTION...] -- PROGRAM [ARG...]
 *
 * What it does, as far as the system allows (`sandbox --probe` says what
 * this machine gives):
 *   - the program runs in DIR (--dir), in its own process group and
 *     session, and in its own PID namespace: when it ends, or the wall-clock
 *     limit kills it, the kernel kills every process it left behind, a
 *     daemon that called setsid() included;
 *   - in its own network namespace, where only the loopback interface is
 *     up (--net inherit keeps the caller's: a test that talks to the program
 *     puts itself in a private namespace first);
 *   - in its own mount namespace, where every file system is read-only but
 *     DIR, which is a fresh size-limited tmpfs holding a copy of DIR's files
 *     (--tmpfs MB) or DIR itself; --hide PATH lays an empty directory over
 *     PATH (the course tree, other students' work);
 *   - as root: as a user id of its own (not nobody: two sandboxes running at
 *     once must not share RLIMIT_NPROC), with no_new_privs;
 *   - with rlimits: CPU seconds, address space, processes, open files, file
 *     size, no core files;
 *   - with stdout and stderr passed on up to --out-cap bytes each; a
 *     program that prints more is stopped at once, as if its time were up:
 *     a flood costs neither time nor space.
 * Without privileges and without user namespaces it still gives its own
 * process group, a subreaper that kills every descendant, the rlimits, the
 * timeout and the output caps.
 *
 * Exit status: the program's own, 128 + N if signal N killed it, 124 if the
 * wall-clock limit did, 123 if it printed too much, 125 if the sandbox itself
 * could not run it. --status FILE also writes the verdict as lines a script
 * can read:
 *     result exited|signaled|timeout|output-limit
 *     value N (exit code, signal, milliseconds or bytes)
 *     stdout_bytes N   stdout_truncated 0|1   (same for stderr)
 *     isolation pid,net,mount,user,uid|pgroup   (what was achieved)
 */
#define _GNU_SOURCE
#include "clock.h"    /* now_ms() */
#include "loopback.h" /* loopback_up() */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Sandbox users are 0x60000000 + the sandbox's pid: unique among sandboxes
   alive at the same time, and far from any real account. */
#define SANDBOX_UID_BASE 0x60000000u

/* The sandbox's own exit statuses; otherwise it exits with the program's. */
enum {
    EXIT_OUTPUT = 123,
    EXIT_TIMEOUT = 124,
    EXIT_SANDBOX = 125,
    EXIT_CANNOT_RUN = 127,  /* exec failed, as in the shell */
    EXIT_SIGNAL_BASE = 128, /* + N: signal N killed the program */
};

enum {
    MAX_LIST = 32,       /* --env and --hide entries */
    CHUNK = 65536,       /* bytes per read, copying files or output */
    NFTW_FDS = 16,       /* directories nftw() may hold open */
    RUN_PROGRAM = -1,    /* parse_options(): no exit status yet, go on */
    READ_END = 0,
    WRITE_END = 1,
    READABLE = POLLIN | POLLHUP | POLLERR,
};

/* The supervisor's timings, in milliseconds. */
enum {
    TICK_MS = 1000,         /* longest poll: the limits are checked this often */
    STOPPING_TICK_MS = 100, /* the poll once the run is being stopped */
    INIT_GRACE_MS = 1000,   /* without a PID namespace, the init process's time
                               to kill the run before it is killed itself */
    LINGER_MS = 2000,       /* after a stop, the wait for a writer that outlived
                               everything */
};

/* How a run ended. The init process reports EXITED or SIGNALED (RUNNING:
   no report yet); the sandbox stops a run with TIMEOUT or OUTPUT_LIMIT,
   which then wins over the report. */
enum ending { END_RUNNING, END_EXITED, END_SIGNALED, END_TIMEOUT, END_OUTPUT_LIMIT };

struct config {
    const char *dir;
    long timeout_ms, cpu_seconds, memory_mb, processes, open_files, file_mb, tmpfs_mb;
    size_t out_cap;
    bool private_net;
    const char *status_path;
    const char *env[MAX_LIST];
    size_t nenv;
    const char *hide[MAX_LIST];
    size_t nhide;
    char **argv;
};

/* Who the program runs as: as root, a user of its own; else the caller. */
struct sandbox_user {
    bool as_root;
    uid_t uid;
    gid_t gid;
};

/* What the init process tells the sandbox about the program. */
struct report {
    enum ending how; /* END_RUNNING, END_EXITED or END_SIGNALED */
    int value;       /* exit status or signal */
};

/* What isolation was achieved, for --status and --probe. */
struct isolation {
    bool pid_ns, net_ns, mount_ns, user_ns, own_uid;
};

/* The pipes from the init process to the sandbox. */
struct pipes {
    int out[2], err[2], report[2];
};

/* One of the program's outputs, passed on up to cfg.out_cap bytes. */
struct stream {
    int fd;
    int to;
    size_t kept, total;
};

/* The sandbox's side of a run. */
struct run {
    pid_t init;
    struct isolation iso;
    struct stream out, err;
    int report_fd;
    struct report report;
    size_t report_got;
    bool init_gone;
    enum ending stop;     /* END_RUNNING until the sandbox stops the run */
    long long deadline;   /* the wall-clock limit, on now_ms()'s clock */
    long long stopped_at; /* when the sandbox stopped the run (-1: it has not) */
    long long kill_at;    /* when to kill the init process (-1: no need) */
};

static struct config cfg = {
    .timeout_ms = 10000, .cpu_seconds = 10, .memory_mb = 1024, .processes = 64,
    .open_files = 256, .file_mb = 16, .tmpfs_mb = 0, .out_cap = 1 << 20, .private_net = true,
};

static struct sandbox_user user;

static volatile sig_atomic_t forwarded_signal, stop_requested;

static _Noreturn void fail(const char *what)
{
    fprintf(stderr, "sandbox: %s: %s\n", what, strerror(errno));
    _exit(EXIT_SANDBOX);
}

static bool write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void set_handler(int sig, void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(sig, &sa, NULL);
}

/* SIGTERM, SIGINT and SIGHUP are the program's: the sandbox passes them to
   the init process, which passes them to the program's process group. */
static void handle_forwarded_signals(void (*handler)(int))
{
    set_handler(SIGTERM, handler);
    set_handler(SIGINT, handler);
    set_handler(SIGHUP, handler);
}

static void on_forward(int sig)
{
    forwarded_signal = sig;
}

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* --- Options ---------------------------------------------------------------- */

static void usage(FILE *to)
{
    fputs("usage: sandbox [OPTION...] -- PROGRAM [ARG...]\n"
          "  --dir DIR        run in DIR, the only place it may write (required)\n"
          "  --tmpfs MB       DIR becomes a tmpfs of MB megabytes holding a copy of\n"
          "                   DIR's files; nothing written survives the run\n"
          "  --timeout MS     wall-clock limit; the whole run is killed after it (10000)\n"
          "  --cpu S          CPU seconds per process (10)\n"
          "  --memory MB      address space per process (1024)\n"
          "  --processes N    processes of the sandbox user at once (64)\n"
          "  --files N        open files per process (256)\n"
          "  --file-size MB   largest file it may write (16)\n"
          "  --out-cap BYTES  most of stdout, and of stderr, passed on; a program that\n"
          "                   prints more is stopped (1048576)\n"
          "  --net private|inherit   own network namespace, loopback only (private),\n"
          "                   or the caller's (inherit)\n"
          "  --hide PATH      lay an empty directory over PATH (repeatable)\n"
          "  --env NAME=VALUE add to the program's (otherwise minimal) environment\n"
          "  --status FILE    write the verdict to FILE\n"
          "  --probe          say which isolation this machine allows, and exit\n",
          to);
}

static long number_arg(const char *name, const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "sandbox: %s wants a number from %ld to %ld, not '%s'\n", name, min, max,
                text);
        exit(EXIT_SANDBOX);
    }
    return v;
}

static bool set_dir(const char *arg)
{
    static char dir_path[PATH_MAX];
    if (realpath(arg, dir_path) == NULL) {
        fprintf(stderr, "sandbox: --dir %s: %s\n", arg, strerror(errno));
        return false;
    }
    cfg.dir = dir_path;
    return true;
}

static bool set_net(const char *arg)
{
    if (strcmp(arg, "private") != 0 && strcmp(arg, "inherit") != 0) {
        fprintf(stderr, "sandbox: --net is private or inherit, not '%s'\n", arg);
        return false;
    }
    cfg.private_net = strcmp(arg, "private") == 0;
    return true;
}

static bool add_hide(const char *arg)
{
    static char hide_paths[MAX_LIST][PATH_MAX];
    if (cfg.nhide == MAX_LIST || realpath(arg, hide_paths[cfg.nhide]) == NULL) {
        fprintf(stderr, "sandbox: --hide %s: %s\n", arg,
                cfg.nhide == MAX_LIST ? "too many" : strerror(errno));
        return false;
    }
    cfg.hide[cfg.nhide] = hide_paths[cfg.nhide];
    cfg.nhide++;
    return true;
}

static bool add_env(const char *arg)
{
    if (cfg.nenv == MAX_LIST || strchr(arg, '=') == NULL) {
        fprintf(stderr, "sandbox: --env wants NAME=VALUE (at most %d)\n", MAX_LIST);
        return false;
    }
    cfg.env[cfg.nenv++] = arg;
    return true;
}

static int probe(void);

/* One option: RUN_PROGRAM to go on, else the sandbox's exit status. */
static int apply_option(int opt, const char *arg)
{
    switch (opt) {
    case 'd': return set_dir(arg) ? RUN_PROGRAM : EXIT_SANDBOX;
    case 't': cfg.timeout_ms = number_arg("--timeout", arg, 1, 3600000); break;
    case 'c': cfg.cpu_seconds = number_arg("--cpu", arg, 1, 3600); break;
    case 'm': cfg.memory_mb = number_arg("--memory", arg, 16, 1 << 20); break;
    case 'p': cfg.processes = number_arg("--processes", arg, 1, 100000); break;
    case 'f': cfg.open_files = number_arg("--files", arg, 8, 1 << 20); break;
    case 's': cfg.file_mb = number_arg("--file-size", arg, 1, 1 << 20); break;
    case 'T': cfg.tmpfs_mb = number_arg("--tmpfs", arg, 1, 1 << 16); break;
    case 'o': cfg.out_cap = (size_t)number_arg("--out-cap", arg, 0, 1L << 30); break;
    case 'n': return set_net(arg) ? RUN_PROGRAM : EXIT_SANDBOX;
    case 'H': return add_hide(arg) ? RUN_PROGRAM : EXIT_SANDBOX;
    case 'e': return add_env(arg) ? RUN_PROGRAM : EXIT_SANDBOX;
    case 'S': cfg.status_path = arg; break;
    case 'P': return probe();
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return EXIT_SANDBOX;
    }
    return RUN_PROGRAM;
}

/* Fills cfg: RUN_PROGRAM, or the exit status (--help, --probe, an error). */
static int parse_options(int argc, char **argv)
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' },       { "timeout", required_argument, NULL, 't' },
        { "cpu", required_argument, NULL, 'c' },       { "memory", required_argument, NULL, 'm' },
        { "processes", required_argument, NULL, 'p' }, { "files", required_argument, NULL, 'f' },
        { "file-size", required_argument, NULL, 's' }, { "out-cap", required_argument, NULL, 'o' },
        { "net", required_argument, NULL, 'n' },       { "hide", required_argument, NULL, 'H' },
        { "env", required_argument, NULL, 'e' },       { "status", required_argument, NULL, 'S' },
        { "tmpfs", required_argument, NULL, 'T' },     { "probe", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        int status = apply_option(opt, optarg);
        if (status != RUN_PROGRAM)
            return status;
    }
    if (cfg.dir == NULL || optind >= argc) {
        fprintf(stderr, "sandbox: %s\n", cfg.dir == NULL ? "--dir is required" : "no program given");
        usage(stderr);
        return EXIT_SANDBOX;
    }
    cfg.argv = argv + optind;
    return RUN_PROGRAM;
}

/* --- Namespaces ------------------------------------------------------------------ */

static void write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || !write_all(fd, text, strlen(text)))
        fail(path);
    close(fd);
}

/* The caller's ids map to themselves: only this process holds
   capabilities (in the new namespaces), and it loses them at exec. */
static void map_ids(void)
{
    char map[64];
    write_text("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "%u %u 1", (unsigned)user.uid, (unsigned)user.uid);
    write_text("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "%u %u 1", (unsigned)user.gid, (unsigned)user.gid);
    write_text("/proc/self/gid_map", map);
}

static void bring_loopback_up(void)
{
    if (loopback_up() != 0)
        fail("bringing lo up");
}

/* Mount points in /proc/self/mountinfo escape space, tab, newline and
   backslash as \ooo. */
static void unescape_mount_point(char *s)
{
    char *out = s;
    for (char *in = s; *in != '\0'; in++) {
        if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' && in[2] >= '0' && in[2] <= '7' &&
            in[3] >= '0' && in[3] <= '7') {
            *out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
            in += 3;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
}

/* The flags a read-only bind remount must keep: in a user namespace the
   kernel refuses to clear nosuid, nodev, noexec or the atime flags. */
static unsigned long kept_flags(const char *mount_point)
{
    static const struct {
        unsigned long st, ms;
    } kept[] = {
        { ST_NOSUID, MS_NOSUID },     { ST_NODEV, MS_NODEV },
        { ST_NOEXEC, MS_NOEXEC },     { ST_NOATIME, MS_NOATIME },
        { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
    };
    struct statvfs sv;
    unsigned long flags = 0;
    if (statvfs(mount_point, &sv) != 0)
        return 0;
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        if (sv.f_flag & kept[i].st)
            flags |= kept[i].ms;
    return flags;
}

/* The mount point of a line of /proc/self/mountinfo, unescaped in place,
   or NULL if that mount is read-only already. */
static char *writable_mount_point(char *line)
{
    /* id parent major:minor root mount-point options ... */
    enum { MOUNT_POINT = 4, OPTIONS = 5 };
    char *field[OPTIONS + 1] = { 0 };
    char *save = NULL, *p = line;
    for (int i = 0; i <= OPTIONS && (field[i] = strtok_r(p, " ", &save)) != NULL; i++)
        p = NULL;
    if (field[OPTIONS] == NULL || strncmp(field[OPTIONS], "rw", 2) != 0)
        return NULL;
    unescape_mount_point(field[MOUNT_POINT]);
    return field[MOUNT_POINT];
}

/* Every writable mount point but keep; *count of them. */
static char **writable_mounts(const char *keep, size_t *count)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL)
        fail("/proc/self/mountinfo");
    char *line = NULL;
    size_t cap = 0;
    char **points = NULL;
    size_t n = 0;
    while (getline(&line, &cap, f) > 0) {
        const char *point = writable_mount_point(line);
        if (point == NULL || strcmp(point, keep) == 0)
            continue;
        char **grown = realloc(points, (n + 1) * sizeof *points);
        if (grown == NULL)
            fail("realloc");
        points = grown;
        points[n] = strdup(point);
        if (points[n] == NULL)
            fail("strdup");
        n++;
    }
    free(line);
    fclose(f);
    *count = n;
    return points;
}

/* Every writable mount but the scratch directory becomes read-only (in
   this mount namespace only). A mount that refuses stays as it was. */
static void remount_read_only(const char *keep)
{
    size_t n;
    char **points = writable_mounts(keep, &n);
    for (size_t i = 0; i < n; i++) {
        mount(NULL, points[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(points[i]),
              NULL);
        free(points[i]);
    }
    free(points);
}

/* Copy file name of the directory open as from_fd into the one open as
   to_fd, as the sandbox user's. */
static void copy_file_at(int from_fd, int to_fd, const char *name, mode_t mode)
{
    int in = openat(from_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int out = openat(to_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
    if (in < 0 || out < 0)
        fail(name);
    char buf[CHUNK];
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0)
        if (!write_all(out, buf, (size_t)r))
            fail("copying into the tmpfs");
    if (r < 0 || fchown(out, user.uid, user.gid) != 0)
        fail(name);
    close(in);
    close(out);
}

/* Copy the regular files of the directory open as from_fd into the
   directory open as to_fd (one level: a test's scratch holds programs). */
static void copy_flat(int from_fd, int to_fd)
{
    DIR *d = fdopendir(dup(from_fd));
    if (d == NULL)
        fail("opendir scratch");
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (fstatat(from_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        copy_file_at(from_fd, to_fd, e->d_name, st.st_mode);
    }
    closedir(d);
}

/* The scratch directory as a mount of its own, which stays writable when
   every other becomes read-only: a fresh tmpfs holding a copy of its
   files (--tmpfs), or the directory itself. */
static void mount_scratch(void)
{
    int original = open(cfg.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (original < 0)
        fail(cfg.dir);
    if (cfg.tmpfs_mb > 0) {
        char options[64];
        snprintf(options, sizeof options, "size=%ldm,mode=0700,uid=%u,gid=%u", cfg.tmpfs_mb,
                 (unsigned)user.uid, (unsigned)user.gid);
        if (mount("sandbox", cfg.dir, "tmpfs", MS_NOSUID | MS_NODEV, options) != 0)
            fail("tmpfs on the scratch directory");
        int fresh = open(cfg.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fresh < 0)
            fail(cfg.dir);
        copy_flat(original, fresh);
        close(fresh);
    } else if (mount(cfg.dir, cfg.dir, NULL, MS_BIND, NULL) != 0) {
        fail("bind-mounting the scratch directory");
    }
    close(original);
}

/* Is hide path i inside another one (or the same as an earlier one)? Then
   it is gone already. */
static bool hidden_already(size_t i)
{
    for (size_t j = 0; j < cfg.nhide; j++) {
        size_t n = strlen(cfg.hide[j]);
        if (j != i && strncmp(cfg.hide[i], cfg.hide[j], n) == 0 &&
            (cfg.hide[i][n] == '/' || (cfg.hide[i][n] == '\0' && j < i)))
            return true;
    }
    return false;
}

/* mkdir -p path, from its first `from` bytes on (those exist). */
static void make_dirs(const char *path, size_t from)
{
    char part[PATH_MAX];
    snprintf(part, sizeof part, "%s", path);
    for (char *slash = strchr(part + from, '/');; slash = strchr(slash + 1, '/')) {
        if (slash != NULL)
            *slash = '\0';
        if (mkdir(part, 0755) != 0 && errno != EEXIST)
            fail(part);
        if (slash == NULL)
            break;
        *slash = '/';
    }
}

/* Lay an empty read-only directory over path. If path holds the scratch
   directory (it is under the course's build/), the scratch is mounted back
   at its own path inside it, so the program still sees only the scratch;
   scratch_path names the scratch through /proc/self/fd. */
static void hide(const char *path, const char *scratch_path)
{
    size_t n = strlen(path);
    bool holds_scratch = strncmp(cfg.dir, path, n) == 0 && cfg.dir[n] == '/';
    unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount("hidden", path, "tmpfs", flags | (holds_scratch ? 0 : MS_RDONLY),
              "size=64k,mode=0755") != 0)
        fail(path);
    if (!holds_scratch)
        return;
    make_dirs(cfg.dir, n + 1);
    if (mount(scratch_path, cfg.dir, NULL, MS_BIND | MS_REC, NULL) != 0)
        fail("mounting the scratch directory back");
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_RDONLY | flags, NULL) != 0)
        fail("making the hidden directory read-only");
}

static void hide_paths(void)
{
    int scratch = open(cfg.dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (scratch < 0)
        fail(cfg.dir);
    char scratch_path[64];
    snprintf(scratch_path, sizeof scratch_path, "/proc/self/fd/%d", scratch);
    for (size_t i = 0; i < cfg.nhide; i++)
        if (!hidden_already(i))
            hide(cfg.hide[i], scratch_path);
    close(scratch);
}

/* The program's view of the file system: read-only everywhere but its
   directory, its own /proc, and the hidden paths gone (last: they may
   cover the directory, see hide()). Ends in the program's directory. */
static void set_up_mounts(void)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        fail("making mounts private");
    mount_scratch();
    remount_read_only(cfg.dir);
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    if (chdir(cfg.dir) != 0)
        fail(cfg.dir);
    hide_paths();
    if (chdir(cfg.dir) != 0)
        fail(cfg.dir);
}

/* The init process's namespaces, as start_init() got them. */
static void enter_namespaces(const struct isolation *iso)
{
    if (iso->user_ns)
        map_ids();
    if (iso->net_ns)
        bring_loopback_up();
    if (iso->mount_ns)
        set_up_mounts();
    else if (chdir(cfg.dir) != 0)
        fail(cfg.dir);
}

/* --- Killing everything --------------------------------------------------------- */

/* As root, the sandbox user's processes are killed all at once (kill -1 as
   that user reaches exactly them). */
static void kill_sandbox_user(void)
{
    pid_t killer = fork();
    if (killer == 0) {
        if (setresgid(user.gid, user.gid, user.gid) == 0 &&
            setresuid(user.uid, user.uid, user.uid) == 0)
            kill(-1, SIGKILL);
        _exit(0);
    }
    if (killer > 0)
        waitpid(killer, NULL, 0);
}

/* The parent of process `name` (an entry of /proc), or -1. */
static pid_t parent_of(const char *name)
{
    char path[PATH_MAX], *line = NULL;
    size_t cap = 0;
    pid_t parent = -1;
    snprintf(path, sizeof path, "/proc/%s/status", name);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    while (parent < 0 && getline(&line, &cap, f) > 0)
        if (strncmp(line, "PPid:", 5) == 0)
            parent = atoi(line + 5);
    free(line);
    fclose(f);
    return parent;
}

static void kill_children(void)
{
    DIR *proc = opendir("/proc");
    if (proc == NULL)
        return;
    struct dirent *e;
    pid_t self = getpid();
    while ((e = readdir(proc)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || parent_of(e->d_name) != self)
            continue;
        pid_t child = atoi(e->d_name);
        kill(-child, SIGKILL);
        kill(child, SIGKILL);
    }
    closedir(proc);
}

/* Without a PID namespace the init process is a subreaper: orphans of the
   program become its children, and it kills them until none is left. */
static void kill_descendants(void)
{
    if (user.as_root)
        kill_sandbox_user();
    kill_children();
}

/* --- The program ------------------------------------------------------------------ */

static void set_limit(int resource, rlim_t value)
{
    struct rlimit rl = { value, value };
    if (setrlimit(resource, &rl) != 0)
        fail("setrlimit");
}

/* Non-root: RLIMIT_NPROC counts every process of the real user, the
   caller's own included, so the program may add cfg.processes to those. */
static rlim_t process_limit(void)
{
    if (user.as_root)
        return (rlim_t)cfg.processes;
    rlim_t count = 0;
    DIR *proc = opendir("/proc");
    struct dirent *e;
    while (proc != NULL && (e = readdir(proc)) != NULL) {
        struct stat st;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "/proc/%s", e->d_name);
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && stat(path, &st) == 0 &&
            st.st_uid == getuid())
            count++;
    }
    if (proc != NULL)
        closedir(proc);
    return count + (rlim_t)cfg.processes;
}

/* The program's (minimal) environment, in static storage. */
static char **program_environment(void)
{
    static char home[PATH_MAX + 8], tmp[PATH_MAX + 8];
    static char *envp[MAX_LIST + 8];
    size_t n = 0;
    snprintf(home, sizeof home, "HOME=%s", cfg.dir);
    snprintf(tmp, sizeof tmp, "TMPDIR=%s", cfg.dir);
    envp[n++] = "PATH=/usr/local/bin:/usr/bin:/bin";
    envp[n++] = "LANG=C";
    envp[n++] = home;
    envp[n++] = tmp;
    for (size_t i = 0; i < cfg.nenv; i++)
        envp[n++] = (char *)cfg.env[i];
    envp[n] = NULL;
    return envp;
}

static void redirect_io(int out_fd, int err_fd)
{
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
        dup2(err_fd, STDERR_FILENO) < 0)
        fail("redirecting the program");
}

static void drop_privileges(void)
{
    if (user.as_root) {
        if (setgroups(0, NULL) != 0 || setresgid(user.gid, user.gid, user.gid) != 0 ||
            setresuid(user.uid, user.uid, user.uid) != 0)
            fail("dropping privileges");
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail("no_new_privs");
}

static void set_limits(rlim_t nproc)
{
    set_limit(RLIMIT_NPROC, nproc); /* after setuid: counted for the sandbox user */
    set_limit(RLIMIT_CORE, 0);
    set_limit(RLIMIT_CPU, (rlim_t)cfg.cpu_seconds);
    set_limit(RLIMIT_FSIZE, (rlim_t)cfg.file_mb << 20);
    set_limit(RLIMIT_NOFILE, (rlim_t)cfg.open_files);
    set_limit(RLIMIT_MEMLOCK, 0);
    set_limit(RLIMIT_MSGQUEUE, 0);
    set_limit(RLIMIT_AS, (rlim_t)cfg.memory_mb << 20);
}

static void say(const char *text)
{
    write_all(STDERR_FILENO, text, strlen(text));
}

static _Noreturn void exec_program(int out_fd, int err_fd)
{
    /* Everything that allocates happens before the limits: with the address
       space capped, even this process (instrumented, under `make sanitize`)
       might not get another page. */
    char **envp = program_environment();
    rlim_t nproc = process_limit();

    setpgid(0, 0); /* kill(0, ...) reaches only the program's own group */
    redirect_io(out_fd, err_fd);
    signal(SIGPIPE, SIG_DFL);
    drop_privileges();
    set_limits(nproc);
    close_range(3, ~0U, 0);
    execvpe(cfg.argv[0], cfg.argv, envp);
    const char *why = strerror(errno);
    say("sandbox: cannot run ");
    say(cfg.argv[0]);
    say(": ");
    say(why);
    say("\n");
    _exit(EXIT_CANNOT_RUN);
}

/* --- The init process ---------------------------------------------------------- */

/* The init process dies with the sandbox; without a PID namespace it
   becomes the subreaper of the program's orphans. */
static void become_init(bool pid_ns, pid_t sandbox_pid)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The sandbox died before the line above (in a PID namespace the parent
       is outside it and getppid() says 0). */
    if (getppid() != (pid_ns ? 0 : sandbox_pid))
        _exit(EXIT_SANDBOX);
    if (!pid_ns)
        prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/* Fork the program (in a process group of its own, see exec_program()). */
static pid_t start_program(const struct pipes *p)
{
    pid_t program = fork();
    if (program < 0)
        fail("fork");
    if (program == 0) {
        handle_forwarded_signals(SIG_DFL);
        set_handler(SIGUSR1, SIG_DFL);
        close(p->report[WRITE_END]);
        exec_program(p->out[WRITE_END], p->err[WRITE_END]);
    }
    setpgid(program, program);
    close(p->out[WRITE_END]);
    close(p->err[WRITE_END]);
    return program;
}

/* Act on the signals caught since last time: SIGUSR1 from the sandbox (the
   wall-clock limit, without a PID namespace) kills the run, the others go
   to the program while it runs. */
static void act_on_signals(pid_t program, const struct report *report)
{
    if (stop_requested) {
        kill(-program, SIGKILL);
        kill_descendants();
        stop_requested = 0;
    }
    if (forwarded_signal != 0) {
        int sig = forwarded_signal;
        forwarded_signal = 0;
        if (report->how == END_RUNNING) {
            kill(-program, sig);
            kill(program, sig);
        }
    }
}

/* Reap every process until none is left; how the program ended. Once it
   is gone, so is everything it started. */
static struct report reap_all(pid_t program, bool pid_ns)
{
    struct report report = { END_RUNNING, 0 };
    for (;;) {
        act_on_signals(program, &report);
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break; /* ECHILD: nothing left */
        if (pid == program) {
            report.how = WIFEXITED(status) ? END_EXITED : END_SIGNALED;
            report.value = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
        }
        if (report.how == END_RUNNING)
            continue;
        if (pid_ns)
            kill(-1, SIGKILL);
        else
            kill_descendants();
    }
    return report;
}

/* The process that owns the namespaces (PID 1 in its PID namespace): sets
   them up, starts the program, forwards SIGTERM/SIGINT/SIGHUP to its
   process group, and once the program is gone kills whatever it left and
   reports how it ended. */
static _Noreturn void init_main(const struct isolation *iso, const struct pipes *p,
                                pid_t sandbox_pid)
{
    become_init(iso->pid_ns, sandbox_pid);
    enter_namespaces(iso);
    handle_forwarded_signals(on_forward);
    set_handler(SIGUSR1, on_stop);
    pid_t program = start_program(p);
    struct report report = reap_all(program, iso->pid_ns);
    write_all(p->report[WRITE_END], &report, sizeof report);
    _exit(0);
}

/* Start the init process in new namespaces if possible: the raw clone
   system call with no stack behaves like fork(). Falls back step by step
   to no namespaces at all. */
static pid_t start_init(struct isolation *iso)
{
    int base = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
    int net = cfg.private_net ? CLONE_NEWNET : 0;
    int tries[] = { base | net, base | net | CLONE_NEWUSER, 0 };
    for (size_t i = user.as_root ? 0 : 1; i < sizeof tries / sizeof tries[0]; i++) {
        fflush(NULL);
        pid_t pid = tries[i] != 0 ? (pid_t)syscall(SYS_clone, tries[i] | SIGCHLD, NULL, NULL,
                                                   NULL, NULL)
                                  : fork();
        if (pid >= 0) {
            iso->pid_ns = tries[i] & CLONE_NEWPID;
            iso->mount_ns = tries[i] & CLONE_NEWNS; /* comes with the PID namespace */
            iso->user_ns = tries[i] & CLONE_NEWUSER;
            iso->net_ns = tries[i] & CLONE_NEWNET;
            iso->own_uid = user.as_root;
            return pid;
        }
    }
    return -1;
}

/* --- The sandbox ---------------------------------------------------------------- */

static void choose_sandbox_user(void)
{
    user.as_root = geteuid() == 0;
    user.uid = user.as_root ? SANDBOX_UID_BASE + (uid_t)getpid() : getuid();
    user.gid = user.as_root ? (gid_t)user.uid : getgid();
}

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return lchown(path, user.uid, user.gid) == 0 ? 0 : -1;
}

/* The scratch directory is the sandbox user's; the rest stays root's. */
static bool hand_scratch_to_sandbox_user(void)
{
    if (!user.as_root || nftw(cfg.dir, chown_entry, NFTW_FDS, FTW_PHYS) == 0)
        return true;
    fprintf(stderr, "sandbox: cannot hand %s to the sandbox user: %s\n", cfg.dir, strerror(errno));
    return false;
}

static void close_ends(const struct pipes *p, int end)
{
    close(p->out[end]);
    close(p->err[end]);
    close(p->report[end]);
}

/* Start the init process, and through it the program; the sandbox keeps
   the reading ends of the pipes. */
static void start_run(struct run *r)
{
    struct pipes p;
    if (pipe2(p.out, O_CLOEXEC) != 0 || pipe2(p.err, O_CLOEXEC) != 0 ||
        pipe2(p.report, O_CLOEXEC) != 0)
        fail("pipe");
    /* Signals for the program arrive here first; the init process passes
       them on. */
    handle_forwarded_signals(on_forward);
    signal(SIGPIPE, SIG_IGN);

    pid_t self = getpid();
    memset(r, 0, sizeof *r);
    r->init = start_init(&r->iso);
    if (r->init < 0)
        fail("fork");
    if (r->init == 0) {
        close_ends(&p, READ_END);
        init_main(&r->iso, &p, self);
    }
    close_ends(&p, WRITE_END);
    r->out = (struct stream){ p.out[READ_END], STDOUT_FILENO, 0, 0 };
    r->err = (struct stream){ p.err[READ_END], STDERR_FILENO, 0, 0 };
    r->report_fd = p.report[READ_END];
    r->report = (struct report){ END_RUNNING, 0 };
    r->stop = END_RUNNING;
    r->deadline = now_ms() + cfg.timeout_ms;
    r->stopped_at = -1;
    r->kill_at = -1;
}

static void pass_signal_on(struct run *r)
{
    if (forwarded_signal != 0) {
        if (!r->init_gone) /* else there is nobody left to tell */
            kill(r->init, forwarded_signal);
        forwarded_signal = 0;
    }
}

/* Stop the run at the wall-clock limit, or when it printed more than the
   cap. Without a PID namespace the init process kills the run, and is
   killed itself if it has not ended INIT_GRACE_MS later. */
static void enforce_limits(struct run *r, long long now)
{
    bool over = now >= r->deadline || r->out.total > cfg.out_cap || r->err.total > cfg.out_cap;
    if (r->stop == END_RUNNING && over) {
        r->stop = now >= r->deadline ? END_TIMEOUT : END_OUTPUT_LIMIT;
        r->stopped_at = now;
        if (r->iso.pid_ns) {
            kill(r->init, SIGKILL); /* PID 1 gone: the kernel kills the rest */
        } else {
            kill(r->init, SIGUSR1);
            r->kill_at = now + INIT_GRACE_MS;
        }
    }
    if (r->kill_at >= 0 && now >= r->kill_at) {
        kill(r->init, SIGKILL);
        r->kill_at = -1;
    }
}

static void pump(struct stream *s)
{
    char buf[CHUNK];
    ssize_t n = read(s->fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(s->fd);
        s->fd = -1;
        return;
    }
    size_t room = cfg.out_cap - s->kept;
    size_t keep = (size_t)n < room ? (size_t)n : room;
    if (keep > 0 && write_all(s->to, buf, keep))
        s->kept += keep;
    s->total += (size_t)n;
}

static void read_report(struct run *r)
{
    ssize_t n = read(r->report_fd, (char *)&r->report + r->report_got,
                     sizeof r->report - r->report_got);
    if (n > 0) {
        r->report_got += (size_t)n;
    } else if (n == 0 || errno != EINTR) {
        close(r->report_fd);
        r->report_fd = -1;
        r->init_gone = true;
    }
}

/* Wait for output or the report, at most until the next check. */
static void wait_for_input(struct run *r, long long now)
{
    /* A signal to pass on interrupts poll(); the tick bounds how late one
       that came just before it is passed on. */
    long long wait = r->stop != END_RUNNING ? STOPPING_TICK_MS : r->deadline - now;
    if (wait > TICK_MS)
        wait = TICK_MS;
    struct pollfd fds[3] = { { r->out.fd, POLLIN, 0 }, { r->err.fd, POLLIN, 0 },
                             { r->report_fd, POLLIN, 0 } };
    int ready = poll(fds, 3, (int)wait);
    if (ready < 0 && errno != EINTR)
        fail("poll");
    if (ready <= 0)
        return;
    if (r->out.fd >= 0 && (fds[0].revents & READABLE))
        pump(&r->out);
    if (r->err.fd >= 0 && (fds[1].revents & READABLE))
        pump(&r->err);
    if (r->report_fd >= 0 && (fds[2].revents & READABLE))
        read_report(r);
}

/* Pass the program's output on and wait for the init process's report,
   stopping the run at its limits. */
static void supervise(struct run *r)
{
    while (r->out.fd >= 0 || r->err.fd >= 0 || r->report_fd >= 0) {
        pass_signal_on(r);
        long long now = now_ms();
        enforce_limits(r, now);
        if (r->stop != END_RUNNING && r->report_fd < 0 && now >= r->stopped_at + LINGER_MS)
            break; /* a writer that outlived everything: stop waiting for it */
        wait_for_input(r, now);
    }
    if (r->out.fd >= 0)
        close(r->out.fd);
    if (r->err.fd >= 0)
        close(r->err.fd);
}

static void write_status(const struct run *r, enum ending how)
{
    if (cfg.status_path == NULL)
        return;
    FILE *f = fopen(cfg.status_path, "we");
    if (f == NULL) {
        fprintf(stderr, "sandbox: cannot write %s: %s\n", cfg.status_path, strerror(errno));
        return;
    }
    if (how == END_TIMEOUT)
        fprintf(f, "result timeout\nvalue %ld\n", cfg.timeout_ms);
    else if (how == END_OUTPUT_LIMIT)
        fprintf(f, "result output-limit\nvalue %zu\n", cfg.out_cap);
    else
        fprintf(f, "result %s\nvalue %d\n", how == END_EXITED ? "exited" : "signaled",
                r->report.value);
    const struct stream *out = &r->out, *err = &r->err;
    fprintf(f, "stdout_bytes %zu\nstdout_truncated %d\n", out->total, out->total > out->kept);
    fprintf(f, "stderr_bytes %zu\nstderr_truncated %d\n", err->total, err->total > err->kept);
    const struct isolation *iso = &r->iso;
    fprintf(f, "isolation %s%s%s%s%s\n", iso->pid_ns ? "pid," : "", iso->net_ns ? "net," : "",
            iso->mount_ns ? "mount," : "", iso->user_ns ? "user," : "",
            iso->own_uid ? "uid" : "pgroup");
    fclose(f);
}

/* Reap the init process; say how the run ended (--status, and the exit
   status). */
static int finish_run(const struct run *r)
{
    while (waitpid(r->init, NULL, 0) < 0 && errno == EINTR)
        ;
    if (r->stop == END_RUNNING && r->report_got != sizeof r->report) {
        fprintf(stderr, "sandbox: the init process ended without a report\n");
        return EXIT_SANDBOX;
    }
    enum ending how = r->stop != END_RUNNING ? r->stop : r->report.how;
    write_status(r, how);
    switch (how) {
    case END_TIMEOUT: return EXIT_TIMEOUT;
    case END_OUTPUT_LIMIT: return EXIT_OUTPUT;
    case END_EXITED: return r->report.value;
    default: return EXIT_SIGNAL_BASE + r->report.value;
    }
}

static int probe(void)
{
    struct isolation iso = { 0 };
    pid_t child = start_init(&iso);
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(0);
    }
    if (child < 0) {
        perror("sandbox: fork");
        return EXIT_SANDBOX;
    }
    waitpid(child, NULL, 0);
    printf("pid namespace:     %s\n", iso.pid_ns ? "yes" : "no (process group and subreaper)");
    printf("network namespace: %s\n", iso.net_ns ? "yes (loopback only)" : "no (the host's network)");
    printf("mount namespace:   %s\n",
           iso.mount_ns ? "yes (read-only but the scratch directory)" : "no");
    printf("own user id:       %s\n", iso.own_uid ? "yes" : "no (runs as you)");
    return 0;
}

int main(int argc, char **argv)
{
    choose_sandbox_user();
    int status = parse_options(argc, argv);
    if (status != RUN_PROGRAM)
        return status;
    if (!hand_scratch_to_sandbox_user())
        return EXIT_SANDBOX;
    struct run run;
    start_run(&run);
    supervise(&run);
    return finish_run(&run);
}
