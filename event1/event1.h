/*
 * event1.h - the one libevent header an event1-style variant includes.
 *
 * event1 style is libevent 1.x as most 1.x programs were written: one global
 * base from event_init(), event_set() on caller-owned struct event,
 * event_dispatch(), bufferevent_new(), EVBUFFER_DATA(). On libevent 2.1 that
 * code still compiles through <event.h>, which pulls in the *_compat.h
 * headers. Which libevent functions an event1 variant may call is fixed by
 * event1/symbols.txt and checked on every build (see event1/README.md).
 */
#ifndef LESSONS_EVENT1_H
#define LESSONS_EVENT1_H

#include <event.h>  /* the 1.x header: event.h + event_compat.h + buffers */
#include <evdns.h>  /* 1.x DNS: evdns_init(), evdns_resolve_ipv4(), ... */
#include <evhttp.h> /* 1.x HTTP: evhttp_start(), evhttp_connection_new(), ... */

#include "trace.h"

#endif
