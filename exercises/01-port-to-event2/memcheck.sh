# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): alone, and its trace must be
# tests/expected.trace, as the graded tests want.
# shellcheck shell=bash disable=SC2034 # memcheck_use is read by the script that sources this
memcheck_use="its trace is tests/expected.trace"
memcheck_run() { memcheck_alone "$1" exercises/01-port-to-event2/tests/expected.trace; }
