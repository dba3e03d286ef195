/*
 * Exercise 09, hidden tests (left out of `make release`): malformed
 * requests, sent as raw bytes (curl would not send them), cost the server
 * nothing; many clients at once are each served.
 */
#define _GNU_SOURCE
#include "kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Each five times: a line that is not HTTP; 20 KB of headers and a
   hang-up; a body cut short by a hang-up; a negative Content-Length; a
   broken chunked body; control characters, a key of 10 KB and 4 KB of
   random bytes as paths; a reset in the middle of a request. Then the
   server still stores and returns a value. */
START_TEST(survives_malformed_requests)
{
    struct subject server;
    int port = start_kv_server(&server, 0);
    static char headers[20 * 1024], long_path[10 * 1024 + 64], noise[4096];
    strcpy(headers, "GET /kv/a HTTP/1.1\r\n");
    while (strlen(headers) + 32 < sizeof headers)
        strcat(headers, "X-Filler: aaaaaaaaaaaaaaaaaa\r\n");
    strcpy(long_path, "GET /kv/");
    memset(long_path + 8, 'k', 10 * 1024);
    strcat(long_path, " HTTP/1.1\r\nHost: x\r\n\r\n");
    unsigned seed = 9;
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (char)(rand_r(&seed) & 0xff);
    static const char *const texts[] = {
        "garbage\r\n\r\n",
        "PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789",
        "PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "PUT /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n",
        "GET /kv/\x01\x02\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /kv/a HTTP/9.9\r\nHost: x\r\n\r\n",
        "PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab",
    };
    for (int round = 0; round < 5; round++) {
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
            kv_abuse(&server, port, texts[i], strlen(texts[i]), i == 6);
        kv_abuse(&server, port, headers, strlen(headers), false);
        kv_abuse(&server, port, long_path, strlen(long_path), false);
        kv_abuse(&server, port, noise, sizeof noise, round % 2 == 1);
    }
    expect_status(port, "PUT", "/kv/after", "still serving", 201, NULL);
    expect_status(port, "GET", "/kv/after", NULL, 200, "still serving");
    subject_stop(&server);
}
END_TEST

/* 100 PUTs, 20 at a time over 20 connections (curl --parallel), each of
   its own key and value; then every value is there. */
START_TEST(serves_many_clients_at_once)
{
    struct subject server;
    int port = start_kv_server(&server, 0);
    char *out = kv_script(port,
                          "args=(); for i in $(seq 100); do args+=(--next -X PUT "
                          "--data-binary \"value-$i\" -o /dev/null -w '%{http_code}\\n' "
                          "\"$URL/kv/key-$i\"); done; "
                          "curl -sS --parallel --parallel-max 20 \"${args[@]:1}\" | sort | uniq -c | "
                          "tr -s ' '; "
                          "diff <(curl -sS -w '\\n' \"$URL/kv/key-[1-100]\") "
                          "<(for i in $(seq 100); do echo \"value-$i\"; done) > /dev/null "
                          "|| echo 'a value is missing or wrong'",
                          "100 PUTs, 20 at a time");
    ck_assert_msg(strcmp(out, " 100 201\n") == 0,
                  "100 PUTs of new keys, 20 at a time, then a GET of each: %s",
                  harness_excerpt(out, strlen(out), 100));
    free(out);
    subject_stop(&server);
}
END_TEST

/* Measured as CURL_TEST_S in visible.c: 12.6 s and 10.8 s at worst; 60 s
   is about 5 times that. */
void exercise_hidden_tests(Suite *suite)
{
    HIDDEN_TEST(suite, survives_malformed_requests, 60);
    HIDDEN_TEST(suite, serves_many_clients_at_once, 60);
}
