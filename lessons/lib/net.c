/*
 * net.c - see net.h. No libevent calls: both styles link this.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *program_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    return slash != NULL ? slash + 1 : argv0;
}

static void usage(FILE *to, const char *program, enum net_role role)
{
    if (role == NET_SERVER)
        fprintf(to,
                "usage: %s [--port P]\n"
                "  --port P   listen on 127.0.0.1:P; 0 (the default) lets the kernel pick.\n"
                "             The first line printed is \"listening on 127.0.0.1:PORT\".\n"
                "  SIGINT or SIGTERM (Ctrl-C, kill PID) stops the server.\n",
                program);
    else
        fprintf(to,
                "usage: %s --port P [--host H]\n"
                "  --port P   the server's port (a server prints it when it starts)\n"
                "  --host H   the server's IPv4 address or host name (default 127.0.0.1)\n",
                program);
}

static _Noreturn void bad_usage(const char *program, enum net_role role, const char *problem,
                                const char *value)
{
    fflush(stdout);
    if (value != NULL)
        fprintf(stderr, "%s: %s: '%s'\n", program, problem, value);
    else
        fprintf(stderr, "%s: %s\n", program, problem);
    usage(stderr, program, role);
    exit(2);
}

/* A port number, digits only: "80", not "+80", "0x50", "80 " or "". */
static bool parse_port(const char *text, int lowest, int *port)
{
    long value = 0;
    if (text[0] == '\0' || strlen(text) > 5)
        return false;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return false;
        value = value * 10 + (*c - '0');
    }
    if (value < lowest || value > 65535)
        return false;
    *port = (int)value;
    return true;
}

/* host as an IPv4 address (a name is looked up); false if it is neither. */
static bool resolve_host(const char *host, struct in_addr *out)
{
    if (inet_pton(AF_INET, host, out) == 1)
        return true;
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &found) != 0 || found == NULL)
        return false;
    *out = ((const struct sockaddr_in *)found->ai_addr)->sin_addr;
    freeaddrinfo(found);
    return true;
}

/* "--name value" or "--name=value": the value, advancing *i past it; NULL
   if argv[*i] is not this flag. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, const char *program,
                              enum net_role role)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, len) != 0)
        return NULL;
    if (arg[len] == '=')
        return arg + len + 1;
    if (arg[len] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        bad_usage(program, role, "missing value after", name);
    return argv[++*i];
}

void net_parse_options(int argc, char **argv, enum net_role role, struct net_options *options)
{
    const char *program = program_name(argc > 0 ? argv[0] : "program");
    const char *host = "127.0.0.1";
    int port = -1;

    for (int i = 1; i < argc; i++) {
        const char *value;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, program, role);
            exit(0);
        } else if ((value = flag_value(argc, argv, &i, "--port", program, role)) != NULL) {
            if (!parse_port(value, role == NET_SERVER ? 0 : 1, &port))
                bad_usage(program, role,
                          role == NET_SERVER ? "--port takes a number from 0 to 65535"
                                             : "--port takes a number from 1 to 65535",
                          value);
        } else if ((value = flag_value(argc, argv, &i, "--host", program, role)) != NULL) {
            if (role == NET_SERVER)
                bad_usage(program, role, "--host is for clients: a server listens on 127.0.0.1 only",
                          NULL);
            host = value;
        } else if (argv[i][0] == '-') {
            bad_usage(program, role, "unknown option", argv[i]);
        } else {
            bad_usage(program, role, "unexpected argument", argv[i]);
        }
    }

    memset(&options->address, 0, sizeof options->address);
    options->address.sin_family = AF_INET;
    if (role == NET_SERVER) {
        options->address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        options->address.sin_port = htons((uint16_t)(port < 0 ? 0 : port));
        return;
    }
    if (port < 0)
        bad_usage(program, role, "missing --port (the port the server printed)", NULL);
    if (!resolve_host(host, &options->address.sin_addr))
        bad_usage(program, role, "--host is not an IPv4 address or a known host name", host);
    options->address.sin_port = htons((uint16_t)port);
}

void net_announce(int listening_fd)
{
    struct sockaddr_in bound;
    socklen_t length = sizeof bound;
    char text[INET_ADDRSTRLEN];
    if (getsockname(listening_fd, (struct sockaddr *)&bound, &length) != 0) {
        perror("getsockname");
        exit(EXIT_FAILURE);
    }
    printf("listening on %s:%u\n", inet_ntop(AF_INET, &bound.sin_addr, text, sizeof text),
           (unsigned)ntohs(bound.sin_port));
    fflush(stdout);
}

void net_report_connect_error(const struct sockaddr_in *address, int error)
{
    char text[INET_ADDRSTRLEN];
    fflush(stdout);
    fprintf(stderr, "cannot connect to %s:%u: %s\n",
            inet_ntop(AF_INET, &address->sin_addr, text, sizeof text),
            (unsigned)ntohs(address->sin_port), strerror(error));
}

int net_connect(const struct sockaddr_in *address)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        exit(EXIT_FAILURE);
    }
    if (connect(fd, (const struct sockaddr *)address, sizeof *address) != 0) {
        net_report_connect_error(address, errno);
        exit(EXIT_FAILURE);
    }
    return fd;
}

void net_ignore_sigpipe(void)
{
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGPIPE, &ignore, NULL) != 0) {
        perror("sigaction(SIGPIPE)");
        exit(EXIT_FAILURE);
    }
}

static void set_stop_signals(int how)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (sigprocmask(how, &stop, NULL) != 0) {
        perror("sigprocmask");
        exit(EXIT_FAILURE);
    }
}

void net_hold_stop_signals(void)
{
    set_stop_signals(SIG_BLOCK);
}

void net_release_stop_signals(void)
{
    set_stop_signals(SIG_UNBLOCK);
}
