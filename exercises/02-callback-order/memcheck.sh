# memcheck.sh - how `make memcheck` runs this exercise's solution
# (sourced by tests/memcheck-solutions.sh): alone; the graded tests judge
# its order, memcheck only that it is clean and exits 0.
# shellcheck shell=bash disable=SC2034 # memcheck_use is read by the script that sources this
memcheck_use="run alone"
memcheck_run() { memcheck_alone "$1"; }
