/*
 * traces.h - reading an expected trace (docs/trace-format.md).
 *
 * An expected trace holds the lines both styles print, plus lines only one
 * style prints, which begin with its name ("event1 ..." or "event2 ...").
 */
#ifndef CI_TRACES_H
#define CI_TRACES_H

/* What one style must print: the lines of expected without those that
   start with the other style's name. style is "event1" or "event2".
   Caller frees. */
char *trace_for_style(const char *expected, const char *style);

/* What both styles print: every line starting with "event1 " or "event2 "
   (or that is just "event1" or "event2") dropped. Caller frees. */
char *trace_without_style_lines(const char *trace);

#endif
