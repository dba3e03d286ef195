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
 *     isolation pid,net,mount,uid       (what was achieved)
 */
#define _GNU_SOURCE
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

enum { EXIT_OUTPUT = 123, EXIT_TIMEOUT = 124, EXIT_SANDBOX = 125, MAX_LIST = 32 };

/* Why the sandbox ended a run before the program ended. */
enum stop { STOP_NONE, STOP_TIMEOUT, STOP_OUTPUT };

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

/* What the init process tells the sandbox about the program. */
struct report {
    int kind; /* 0 still running, 1 exited, 2 signaled */
    int value;
};

/* What isolation was achieved, for --status and --probe. */
struct isolation {
    bool pid_ns, net_ns, mount_ns, user_ns, own_uid;
};

static struct config cfg = {
    .timeout_ms = 10000, .cpu_seconds = 10, .memory_mb = 1024, .processes = 64,
    .open_files = 256, .file_mb = 16, .tmpfs_mb = 0, .out_cap = 1 << 20, .private_net = true,
};

static uid_t sandbox_uid;
static gid_t sandbox_gid;
static bool as_root;

static volatile sig_atomic_t forwarded_signal, stop_requested;

static _Noreturn void fail(const char *what)
{
    fprintf(stderr, "sandbox: %s: %s\n", what, strerror(errno));
    _exit(EXIT_SANDBOX);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* --- Namespaces ------------------------------------------------------------------ */

static void write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || !write_all(fd, text, strlen(text)))
        fail(path);
    close(fd);
}

static void loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail("socket for lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        fail("SIOCGIFFLAGS lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        fail("SIOCSIFFLAGS lo");
    close(s);
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
    struct statvfs sv;
    unsigned long flags = 0;
    if (statvfs(mount_point, &sv) != 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        flags |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        flags |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        flags |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        flags |= MS_RELATIME;
    return flags;
}

/* Every writable mount but the scratch directory becomes read-only (in
   this mount namespace only). A mount that refuses stays as it was. */
static void remount_read_only(const char *keep)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL)
        fail("/proc/self/mountinfo");
    char *line = NULL;
    size_t cap = 0;
    char **points = NULL;
    size_t n = 0;
    while (getline(&line, &cap, f) > 0) {
        /* id parent major:minor root mount-point options ... */
        char *field[6] = { 0 };
        char *save = NULL, *p = line;
        for (int i = 0; i < 6 && (field[i] = strtok_r(p, " ", &save)) != NULL; i++)
            p = NULL;
        if (field[5] == NULL || strncmp(field[5], "rw", 2) != 0)
            continue; /* already read-only */
        unescape_mount_point(field[4]);
        if (strcmp(field[4], keep) == 0)
            continue;
        char **grown = realloc(points, (n + 1) * sizeof *points);
        if (grown == NULL)
            fail("realloc");
        points = grown;
        points[n] = strdup(field[4]);
        if (points[n] == NULL)
            fail("strdup");
        n++;
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        mount(NULL, points[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(points[i]),
              NULL);
        free(points[i]);
    }
    free(points);
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
        int in = openat(from_fd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        int out = openat(to_fd, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                         st.st_mode & 0777);
        if (in < 0 || out < 0)
            fail(e->d_name);
        char buf[65536];
        ssize_t r;
        while ((r = read(in, buf, sizeof buf)) > 0)
            if (!write_all(out, buf, (size_t)r))
                fail("copying into the tmpfs");
        if (r < 0 || fchown(out, sandbox_uid, sandbox_gid) != 0)
            fail(e->d_name);
        close(in);
        close(out);
    }
    closedir(d);
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

/* The program's view of the file system: read-only everywhere but its
   directory, its own /proc, and the hidden paths gone. Ends in the
   program's directory. */
static void set_up_mounts(bool own_proc, struct isolation *iso)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        fail("making mounts private");
    int original = open(cfg.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (original < 0)
        fail(cfg.dir);
    if (cfg.tmpfs_mb > 0) {
        char options[64];
        snprintf(options, sizeof options, "size=%ldm,mode=0700,uid=%u,gid=%u", cfg.tmpfs_mb,
                 (unsigned)sandbox_uid, (unsigned)sandbox_gid);
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
    remount_read_only(cfg.dir);
    if (own_proc)
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    if (chdir(cfg.dir) != 0)
        fail(cfg.dir);
    /* Hidden last. A hidden path may hold the scratch directory (it is under
       the course's build/): the scratch is then mounted back at its own
       path inside the empty directory, so the program still sees only it. */
    int scratch = open(cfg.dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (scratch < 0)
        fail(cfg.dir);
    char scratch_path[64];
    snprintf(scratch_path, sizeof scratch_path, "/proc/self/fd/%d", scratch);
    for (size_t i = 0; i < cfg.nhide; i++) {
        if (hidden_already(i))
            continue;
        size_t n = strlen(cfg.hide[i]);
        bool holds_scratch = strncmp(cfg.dir, cfg.hide[i], n) == 0 && cfg.dir[n] == '/';
        unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        if (mount("hidden", cfg.hide[i], "tmpfs", flags | (holds_scratch ? 0 : MS_RDONLY),
                  "size=64k,mode=0755") != 0)
            fail(cfg.hide[i]);
        if (!holds_scratch)
            continue;
        for (char *slash = strchr(cfg.dir + n + 1, '/');; slash = strchr(slash + 1, '/')) {
            if (slash != NULL)
                *slash = '\0';
            if (mkdir(cfg.dir, 0755) != 0 && errno != EEXIST)
                fail(cfg.dir);
            if (slash == NULL)
                break;
            *slash = '/';
        }
        if (mount(scratch_path, cfg.dir, NULL, MS_BIND | MS_REC, NULL) != 0)
            fail("mounting the scratch directory back");
        if (mount(NULL, cfg.hide[i], NULL, MS_REMOUNT | MS_RDONLY | flags, NULL) != 0)
            fail("making the hidden directory read-only");
    }
    close(scratch);
    if (chdir(cfg.dir) != 0)
        fail(cfg.dir);
    iso->mount_ns = true;
}

/* --- Killing everything --------------------------------------------------------- */

/* Without a PID namespace the init process is a subreaper: orphans of the
   program become its children, and it kills them until none is left. As
   root, the sandbox user's processes are killed all at once (kill -1 as
   that user reaches exactly them). */
static void kill_descendants(void)
{
    if (as_root) {
        pid_t killer = fork();
        if (killer == 0) {
            if (setresgid(sandbox_gid, sandbox_gid, sandbox_gid) == 0 &&
                setresuid(sandbox_uid, sandbox_uid, sandbox_uid) == 0)
                kill(-1, SIGKILL);
            _exit(0);
        }
        if (killer > 0)
            waitpid(killer, NULL, 0);
    }
    DIR *proc = opendir("/proc");
    if (proc == NULL)
        return;
    struct dirent *e;
    pid_t self = getpid();
    while ((e = readdir(proc)) != NULL) {
        char path[300], *line = NULL;
        size_t cap = 0;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        FILE *f = fopen(path, "re");
        if (f == NULL)
            continue;
        while (getline(&line, &cap, f) > 0)
            if (strncmp(line, "PPid:", 5) == 0 && atoi(line + 5) == self) {
                pid_t child = atoi(e->d_name);
                kill(-child, SIGKILL);
                kill(child, SIGKILL);
            }
        free(line);
        fclose(f);
    }
    closedir(proc);
}

/* --- The init process and the program ------------------------------------------ */

static void on_forward(int sig)
{
    forwarded_signal = sig;
}

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

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
    if (as_root)
        return (rlim_t)cfg.processes;
    rlim_t count = 0;
    DIR *proc = opendir("/proc");
    struct dirent *e;
    while (proc != NULL && (e = readdir(proc)) != NULL) {
        struct stat st;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s", e->d_name);
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && stat(path, &st) == 0 &&
            st.st_uid == getuid())
            count++;
    }
    if (proc != NULL)
        closedir(proc);
    return count + (rlim_t)cfg.processes;
}

static _Noreturn void exec_program(int out_fd, int err_fd)
{
    /* Everything that allocates happens before the limits: with the address
       space capped, even this process (instrumented, under `make sanitize`)
       might not get another page. */
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
    rlim_t nproc = process_limit();

    setpgid(0, 0); /* kill(0, ...) reaches only the program's own group */
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
        dup2(err_fd, STDERR_FILENO) < 0)
        fail("redirecting the program");
    signal(SIGPIPE, SIG_DFL);
    if (as_root) {
        if (setgroups(0, NULL) != 0 || setresgid(sandbox_gid, sandbox_gid, sandbox_gid) != 0 ||
            setresuid(sandbox_uid, sandbox_uid, sandbox_uid) != 0)
            fail("dropping privileges");
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail("no_new_privs");
    set_limit(RLIMIT_NPROC, nproc); /* after setuid: counted for the sandbox user */
    set_limit(RLIMIT_CORE, 0);
    set_limit(RLIMIT_CPU, (rlim_t)cfg.cpu_seconds);
    set_limit(RLIMIT_FSIZE, (rlim_t)cfg.file_mb << 20);
    set_limit(RLIMIT_NOFILE, (rlim_t)cfg.open_files);
    set_limit(RLIMIT_MEMLOCK, 0);
    set_limit(RLIMIT_MSGQUEUE, 0);
    set_limit(RLIMIT_AS, (rlim_t)cfg.memory_mb << 20);
    close_range(3, ~0U, 0);
    execvpe(cfg.argv[0], cfg.argv, envp);
    const char *why = strerror(errno);
    write_all(STDERR_FILENO, "sandbox: cannot run ", 20);
    write_all(STDERR_FILENO, cfg.argv[0], strlen(cfg.argv[0]));
    write_all(STDERR_FILENO, ": ", 2);
    write_all(STDERR_FILENO, why, strlen(why));
    write_all(STDERR_FILENO, "\n", 1);
    _exit(127);
}

/* The process that owns the namespaces (PID 1 in its PID namespace): sets
   them up, starts the program, forwards SIGTERM/SIGINT/SIGHUP to its
   process group, and once the program is gone kills whatever it left and
   reports how it ended. */
static _Noreturn void init_main(bool pid_ns, bool user_ns, bool net_ns, int out_fd, int err_fd,
                                int report_fd, pid_t sandbox_pid, struct isolation iso)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* The sandbox died before the line above (in a PID namespace the parent
       is outside it and getppid() says 0). */
    if (getppid() != (pid_ns ? 0 : sandbox_pid))
        _exit(EXIT_SANDBOX);
    if (!pid_ns)
        prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (user_ns) {
        /* The caller's ids map to themselves: only this process holds
           capabilities (in the new namespaces), and it loses them at exec. */
        char map[64];
        write_text("/proc/self/setgroups", "deny");
        snprintf(map, sizeof map, "%u %u 1", (unsigned)sandbox_uid, (unsigned)sandbox_uid);
        write_text("/proc/self/uid_map", map);
        snprintf(map, sizeof map, "%u %u 1", (unsigned)sandbox_gid, (unsigned)sandbox_gid);
        write_text("/proc/self/gid_map", map);
    }
    if (net_ns)
        loopback_up();
    if (pid_ns) /* a mount namespace came with it (see start_init) */
        set_up_mounts(true, &iso);
    else if (chdir(cfg.dir) != 0)
        fail(cfg.dir);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_forward;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGUSR1, &sa, NULL);

    pid_t program = fork();
    if (program < 0)
        fail("fork");
    if (program == 0) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGTERM, &dfl, NULL);
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGHUP, &dfl, NULL);
        sigaction(SIGUSR1, &dfl, NULL);
        close(report_fd);
        exec_program(out_fd, err_fd);
    }
    setpgid(program, program);
    close(out_fd);
    close(err_fd);

    struct report report = { 0, 0 };
    for (;;) {
        if (stop_requested) { /* the wall-clock limit, without a PID namespace */
            kill(-program, SIGKILL);
            kill_descendants();
            stop_requested = 0;
        }
        if (forwarded_signal != 0) {
            int sig = forwarded_signal;
            forwarded_signal = 0;
            if (report.kind == 0) {
                kill(-program, sig);
                kill(program, sig);
            }
        }
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break; /* ECHILD: nothing left */
        if (pid == program) {
            report.kind = WIFEXITED(status) ? 1 : 2;
            report.value = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
        }
        if (report.kind != 0) {
            /* The program is gone: so is everything it started. */
            if (pid_ns)
                kill(-1, SIGKILL);
            else
                kill_descendants();
        }
    }
    write_all(report_fd, &report, sizeof report);
    _exit(0);
}

/* Start the init process in new namespaces if possible: the raw clone
   system call with no stack behaves like fork(). Falls back step by step
   to no namespaces at all. */
static pid_t start_init(bool *pid_ns, bool *user_ns, bool *net_ns)
{
    int base = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
    int net = cfg.private_net ? CLONE_NEWNET : 0;
    int tries[] = { base | net, base | net | CLONE_NEWUSER, 0 };
    for (size_t i = as_root ? 0 : 1; i < sizeof tries / sizeof tries[0]; i++) {
        fflush(NULL);
        pid_t pid = tries[i] != 0 ? (pid_t)syscall(SYS_clone, tries[i] | SIGCHLD, NULL, NULL,
                                                   NULL, NULL)
                                  : fork();
        if (pid >= 0) {
            *pid_ns = tries[i] & CLONE_NEWPID;
            *user_ns = tries[i] & CLONE_NEWUSER;
            *net_ns = tries[i] & CLONE_NEWNET;
            return pid;
        }
    }
    return -1;
}

/* --- The sandbox ---------------------------------------------------------------- */

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return lchown(path, sandbox_uid, sandbox_gid) == 0 ? 0 : -1;
}

struct stream {
    int fd;
    int to;
    size_t kept, total;
};

static void pump(struct stream *s)
{
    char buf[65536];
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

static void write_status(const struct report *r, enum stop stop, const struct stream *out,
                         const struct stream *err, const struct isolation *iso)
{
    if (cfg.status_path == NULL)
        return;
    FILE *f = fopen(cfg.status_path, "we");
    if (f == NULL) {
        fprintf(stderr, "sandbox: cannot write %s: %s\n", cfg.status_path, strerror(errno));
        return;
    }
    if (stop == STOP_TIMEOUT)
        fprintf(f, "result timeout\nvalue %ld\n", cfg.timeout_ms);
    else if (stop == STOP_OUTPUT)
        fprintf(f, "result output-limit\nvalue %zu\n", cfg.out_cap);
    else
        fprintf(f, "result %s\nvalue %d\n", r->kind == 1 ? "exited" : "signaled", r->value);
    fprintf(f, "stdout_bytes %zu\nstdout_truncated %d\n", out->total, out->total > out->kept);
    fprintf(f, "stderr_bytes %zu\nstderr_truncated %d\n", err->total, err->total > err->kept);
    fprintf(f, "isolation %s%s%s%s%s\n", iso->pid_ns ? "pid," : "", iso->net_ns ? "net," : "",
            iso->mount_ns ? "mount," : "", iso->user_ns ? "user," : "",
            iso->own_uid ? "uid" : "pgroup");
    fclose(f);
}

static int probe(void)
{
    pid_t self = getpid();
    bool pid_ns, user_ns, net_ns;
    pid_t child = start_init(&pid_ns, &user_ns, &net_ns);
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void)self;
        _exit(0);
    }
    if (child < 0) {
        perror("sandbox: fork");
        return EXIT_SANDBOX;
    }
    waitpid(child, NULL, 0);
    printf("pid namespace:     %s\n", pid_ns ? "yes" : "no (process group and subreaper)");
    printf("network namespace: %s\n", net_ns ? "yes (loopback only)" : "no (the host's network)");
    printf("mount namespace:   %s\n", pid_ns ? "yes (read-only but the scratch directory)" : "no");
    printf("own user id:       %s\n", as_root ? "yes" : "no (runs as you)");
    return 0;
}

int main(int argc, char **argv)
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
    as_root = geteuid() == 0;
    sandbox_uid = as_root ? SANDBOX_UID_BASE + (uid_t)getpid() : getuid();
    sandbox_gid = as_root ? (gid_t)sandbox_uid : getgid();
    static char hide_paths[MAX_LIST][PATH_MAX];
    static char dir_path[PATH_MAX];
    int opt;
    while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            if (realpath(optarg, dir_path) == NULL) {
                fprintf(stderr, "sandbox: --dir %s: %s\n", optarg, strerror(errno));
                return EXIT_SANDBOX;
            }
            cfg.dir = dir_path;
            break;
        case 't': cfg.timeout_ms = number_arg("--timeout", optarg, 1, 3600000); break;
        case 'c': cfg.cpu_seconds = number_arg("--cpu", optarg, 1, 3600); break;
        case 'm': cfg.memory_mb = number_arg("--memory", optarg, 16, 1 << 20); break;
        case 'p': cfg.processes = number_arg("--processes", optarg, 1, 100000); break;
        case 'f': cfg.open_files = number_arg("--files", optarg, 8, 1 << 20); break;
        case 's': cfg.file_mb = number_arg("--file-size", optarg, 1, 1 << 20); break;
        case 'T': cfg.tmpfs_mb = number_arg("--tmpfs", optarg, 1, 1 << 16); break;
        case 'o': cfg.out_cap = (size_t)number_arg("--out-cap", optarg, 0, 1L << 30); break;
        case 'n':
            if (strcmp(optarg, "private") != 0 && strcmp(optarg, "inherit") != 0) {
                fprintf(stderr, "sandbox: --net is private or inherit, not '%s'\n", optarg);
                return EXIT_SANDBOX;
            }
            cfg.private_net = strcmp(optarg, "private") == 0;
            break;
        case 'H':
            if (cfg.nhide == MAX_LIST || realpath(optarg, hide_paths[cfg.nhide]) == NULL) {
                fprintf(stderr, "sandbox: --hide %s: %s\n", optarg,
                        cfg.nhide == MAX_LIST ? "too many" : strerror(errno));
                return EXIT_SANDBOX;
            }
            cfg.hide[cfg.nhide] = hide_paths[cfg.nhide];
            cfg.nhide++;
            break;
        case 'e':
            if (cfg.nenv == MAX_LIST || strchr(optarg, '=') == NULL) {
                fprintf(stderr, "sandbox: --env wants NAME=VALUE (at most %d)\n", MAX_LIST);
                return EXIT_SANDBOX;
            }
            cfg.env[cfg.nenv++] = optarg;
            break;
        case 'S': cfg.status_path = optarg; break;
        case 'P': return probe();
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_SANDBOX;
        }
    }
    if (cfg.dir == NULL || optind >= argc) {
        fprintf(stderr, "sandbox: %s\n", cfg.dir == NULL ? "--dir is required" : "no program given");
        usage(stderr);
        return EXIT_SANDBOX;
    }
    cfg.argv = argv + optind;

    struct isolation iso = { .own_uid = as_root };
    /* The scratch directory is the sandbox user's; the rest stays root's. */
    if (as_root && nftw(cfg.dir, chown_entry, 16, FTW_PHYS) != 0) {
        fprintf(stderr, "sandbox: cannot hand %s to the sandbox user: %s\n", cfg.dir,
                strerror(errno));
        return EXIT_SANDBOX;
    }

    int out_pipe[2], err_pipe[2], report_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
        pipe2(report_pipe, O_CLOEXEC) != 0)
        fail("pipe");

    /* Signals for the program arrive here first; the init process passes
       them on. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_forward;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bool pid_ns, user_ns, net_ns;
    pid_t self = getpid();
    pid_t init = start_init(&pid_ns, &user_ns, &net_ns);
    if (init < 0)
        fail("fork");
    if (init == 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        close(report_pipe[0]);
        iso.pid_ns = pid_ns;
        init_main(pid_ns, user_ns, net_ns, out_pipe[1], err_pipe[1], report_pipe[1], self, iso);
    }
    iso.pid_ns = pid_ns;
    iso.net_ns = net_ns;
    iso.user_ns = user_ns;
    iso.mount_ns = pid_ns;
    close(out_pipe[1]);
    close(err_pipe[1]);
    close(report_pipe[1]);

    struct stream out = { out_pipe[0], STDOUT_FILENO, 0, 0 };
    struct stream err = { err_pipe[0], STDERR_FILENO, 0, 0 };
    struct report report = { 0, 0 };
    size_t report_got = 0;
    int report_fd = report_pipe[0];
    bool init_gone = false;
    enum stop stop = STOP_NONE;
    long long deadline = now_ms() + cfg.timeout_ms, stopped_at = -1, kill_at = -1;

    while (out.fd >= 0 || err.fd >= 0 || report_fd >= 0) {
        if (forwarded_signal != 0 && !init_gone) {
            kill(init, forwarded_signal);
            forwarded_signal = 0;
        }
        long long now = now_ms();
        if (stop == STOP_NONE && (now >= deadline || out.total > cfg.out_cap ||
                                  err.total > cfg.out_cap)) {
            stop = now >= deadline ? STOP_TIMEOUT : STOP_OUTPUT;
            stopped_at = now;
            if (pid_ns) {
                kill(init, SIGKILL); /* PID 1 gone: the kernel kills the rest */
            } else {
                kill(init, SIGUSR1);
                kill_at = now + 1000;
            }
        }
        if (kill_at >= 0 && now >= kill_at) {
            kill(init, SIGKILL);
            kill_at = -1;
        }
        if (stop != STOP_NONE && report_fd < 0 && now >= stopped_at + 2000)
            break; /* a writer that outlived everything: stop waiting for it */
        struct pollfd fds[3] = { { out.fd, POLLIN, 0 }, { err.fd, POLLIN, 0 }, { report_fd, POLLIN, 0 } };
        long long wait = stop != STOP_NONE ? 100 : deadline - now;
        if (wait > 100 && forwarded_signal == 0)
            wait = wait > 1000 ? 1000 : wait;
        int ready = poll(fds, 3, (int)wait);
        if (ready < 0 && errno != EINTR)
            fail("poll");
        if (ready <= 0)
            continue;
        if (out.fd >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            pump(&out);
        if (err.fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            pump(&err);
        if (report_fd >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(report_fd, (char *)&report + report_got, sizeof report - report_got);
            if (n > 0) {
                report_got += (size_t)n;
            } else if (n == 0 || errno != EINTR) {
                close(report_fd);
                report_fd = -1;
                init_gone = true;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        int fd = i == 0 ? out.fd : err.fd;
        if (fd >= 0)
            close(fd);
    }
    int status;
    while (waitpid(init, &status, 0) < 0 && errno == EINTR)
        ;
    if (stop == STOP_NONE && report_got != sizeof report) {
        fprintf(stderr, "sandbox: the init process ended without a report\n");
        return EXIT_SANDBOX;
    }
    write_status(&report, stop, &out, &err, &iso);
    if (stop != STOP_NONE)
        return stop == STOP_TIMEOUT ? EXIT_TIMEOUT : EXIT_OUTPUT;
    return report.kind == 1 ? report.value : 128 + report.value;
}
