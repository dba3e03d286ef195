/*
 * client.h - exercise 03's tests share one way to run the student's client
 * against a server that is part of the test (trusted code): the server
 * takes the connection, reads the client's line, answers as the test
 * says, closes, and keeps every byte the client sent.
 */
#ifndef EXERCISE03_CLIENT_H
#define EXERCISE03_CLIENT_H

#include "harness.h"

struct session {
    char *received;      /* every byte the client sent, until it closed */
    size_t received_len;
    struct outcome client;
};

/* Run the client against a server that answers the client's first line
   with parts[0], then parts[1], ... (a pause between parts), then closes. */
void run_session(const char *const parts[], struct session *s);
void session_free(struct session *s);

/* The "text=..." fields of the client's "client reply" lines, joined by
   spaces. Caller frees. */
char *reply_texts(const char *trace);

#endif
