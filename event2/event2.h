/*
 * event2.h - the one libevent header an event2-style variant includes.
 *
 * event2 style is the libevent 2.x API: an explicit event_base everywhere,
 * event_new()/event_assign(), opaque structures, bufferevent_socket_new(),
 * evconnlistener. Only <event2/...> headers are included, never a *_compat.h
 * one, so a stray 1.x call such as event_init() is an implicit-declaration
 * error at compile time; the purity check (event2/symbols.txt, see
 * event2/README.md) catches the rest at link time.
 */
#ifndef LESSONS_EVENT2_H
#define LESSONS_EVENT2_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "trace.h"

#endif
