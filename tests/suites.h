/*
 * suites.h - the Check suites run by tests/main.c.
 */
#ifndef TESTS_SUITES_H
#define TESTS_SUITES_H

#include <check.h>

Suite *lessons_suite(void);   /* tests/lessons.c: every lesson's trace */
Suite *semantics_suite(void); /* tests/semantics.c: libevent's ordering rules */
Suite *tooling_suite(void);   /* tests/tooling.c: make targets, purity, docs */
Suite *site_suite(void);      /* tests/site.c: make site, the pages and pictures */
Suite *bufferevents_suite(void); /* tests/bufferevents.c: bufferevents, lessons 07-09 */
Suite *fork_suite(void);      /* tests/fork.c: fork() and event_reinit(), lesson 12 */
Suite *evbuffers_suite(void); /* tests/evbuffers.c: evbuffers, lesson 13 */
Suite *timers_suite(void);    /* tests/timers.c: many timers, the cached time, lesson 16 */
Suite *threads_suite(void);   /* tests/threads.c: threads and debug mode, lesson 17 */
Suite *backends_suite(void);  /* tests/backends.c: backends and base configuration, lesson 15 */
Suite *dns_suite(void);       /* tests/dns.c: evdns resolvers and servers, lesson 19 */
Suite *edge_suite(void);      /* tests/edge.c: level- and edge-triggered reads, lesson 14 */
Suite *mistakes_suite(void);  /* tests/mistakes.c: common mistakes, lesson 20 */
Suite *network_suite(void);   /* tests/network.c: servers and clients, lessons 10-11 */
Suite *http_suite(void);      /* tests/http.c: evhttp servers and clients, lesson 18 */
Suite *bench_suite(void);     /* tests/bench.c: lesson 21, make bench */
Suite *grader_suite(void);    /* tests/grader.c: the exercises and their grader */
Suite *gradescope_suite(void); /* tests/gradescope.c: make gradescope, run as Gradescope does */
/* One line per suite file, in the order of the table in tests/main.c. */

#endif
