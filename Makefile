# libevent-lessons: libevent taught in pairs, 1.x style ("event1") beside 2.x
# style ("event2"). `make help` lists every target.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules --no-print-directory

BUILD ?= build
BIN   := $(BUILD)/bin
OBJ   := $(BUILD)/obj

# --- Compiler and dependencies ---------------------------------------------
# CC and CFLAGS may be overridden (make CC=clang test); the standard and the
# warnings may not.
# DWARF 4: valgrind 3.19 cannot read clang 14's default DWARF 5.
CFLAGS ?= -O2 -g -gdwarf-4
ifeq ($(origin CC),default)
CC := cc
endif
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
WARN_FLAGS := -std=c11 -Wall -Wextra -Werror
ALL_CFLAGS  = $(WARN_FLAGS) $(CFLAGS) $(SAN_FLAGS)
ALL_CPPFLAGS = -D_DEFAULT_SOURCE -Ilessons/lib $(CPPFLAGS)

# Looked up when first needed (so `make deps lesson-1` works on a machine that
# has no libevent yet), then remembered.
memo = $(eval $(1) := $(shell $(2)))$($(1))
# libevent_pthreads: evthread_use_pthreads(), for the lessons on threads.
LIBEVENT_CFLAGS = $(call memo,LIBEVENT_CFLAGS,pkg-config --cflags libevent libevent_pthreads 2>/dev/null)
LIBEVENT_LIBS   = $(call memo,LIBEVENT_LIBS,pkg-config --libs libevent libevent_pthreads 2>/dev/null)
CHECK_CFLAGS    = $(call memo,CHECK_CFLAGS,pkg-config --cflags check 2>/dev/null)
CHECK_LIBS      = $(call memo,CHECK_LIBS,pkg-config --libs check 2>/dev/null)

# Debian/Ubuntu packages behind `make deps`.
DEB_PACKAGES := make gcc clang pkg-config libevent-dev check valgrind socat netcat-openbsd jq curl zip unzip \
    pandoc graphviz python3 libxml2-utils chromium chromium-driver python3-selenium gnuplot-nox

V ?= 0
# make -s: no "CC file" lines either (short options are MAKEFLAGS' first word).
ifneq ($(findstring s,$(filter-out -%,$(firstword $(MAKEFLAGS)))),)
V := quiet
endif
ifeq ($(V),quiet)
Q := @
say =
else ifeq ($(V),0)
Q := @
say = @printf '  %-8s %s\n' $(1) $(2);
else
Q :=
say =
endif

# --- What there is ------------------------------------------------------------
# The lessons and exercises are what the course's index (.ci/index.sh) says.
INDEX := .ci/index.sh
LESSON_DIRS := $(shell $(INDEX) dirs lessons)
LESSON_SRCS := $(foreach d,$(LESSON_DIRS),$(wildcard $(d)/event1*.c $(d)/event2*.c))

# lessons/02-event-lifecycle/event1.c -> build/bin/02-event1
#  lessons/10-tcp-server/event2-server.c -> build/bin/10-event2-server
lesson_number = $(firstword $(subst -, ,$(notdir $(patsubst %/,%,$(dir $(1))))))
program_of = $(BIN)/$(call lesson_number,$(1))-$(basename $(notdir $(1)))
style_of = $(if $(filter event1%,$(notdir $(1))),event1,event2)
LESSON_PROGRAMS := $(foreach s,$(LESSON_SRCS),$(call program_of,$(s)))

# Style-neutral support code every variant may use (the trace writer, ...):
# every lessons/lib/*.c, in one archive so a program links only what it calls.
SUPPORT_SRCS := $(wildcard lessons/lib/*.c)
SUPPORT_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(SUPPORT_SRCS))
SUPPORT_LIB := $(OBJ)/lessons/lib/libsupport.a
PURITY := .ci/purity.sh

# The course's own tools: build/bin/course (.ci/course.c), on the small C
# library the suites and the grader's harness share (.ci/lib/).
TOOL_LIB_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(wildcard .ci/lib/*.c))
COURSE_TOOL := $(BIN)/course

TEST_SRCS := $(wildcard tests/*.c)
TEST_RUNNER := $(BIN)/run-tests

# --- Building -----------------------------------------------------------------
.PHONY: all
all: $(LESSON_PROGRAMS) $(COURSE_TOOL) ## Build every lesson program into build/bin/

# Every object records the headers it read, system ones included (-MD): the
# purity check reads that list to refuse *_compat.h in event2 code. A variant
# sees only its own kit's header directory.
$(OBJ)/%.o: %.c | need-libevent
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -I$(call style_of,$<) $(LIBEVENT_CFLAGS) $(ALL_CFLAGS) -MD -MP -c $< -o $@

# The support code calls no libevent function at all (style "neutral").
$(SUPPORT_LIB): $(SUPPORT_OBJS) $(PURITY)
	$(call say,AR,$@)
	$(Q)$(PURITY) neutral $(SUPPORT_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $(SUPPORT_OBJS)

# A variant links only if it, and its kit's probe, call nothing outside the
# kit's symbols.txt (see event1/README.md and event2/README.md).
define variant_rule
$(call program_of,$(1)): $(OBJ)/$(1:.c=.o) $(OBJ)/$(call style_of,$(1))/probe.o $(SUPPORT_LIB) $(call style_of,$(1))/symbols.txt $(PURITY)
	$$(call say,LD,$$@)
	$$(Q)$(PURITY) $(call style_of,$(1)) $(OBJ)/$(1:.c=.o) $(OBJ)/$(call style_of,$(1))/probe.o
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(ALL_CFLAGS) -o $$@ $$(filter %.o %.a,$$^) $$(LIBEVENT_LIBS)
endef
$(foreach s,$(LESSON_SRCS),$(eval $(call variant_rule,$(s))))

$(OBJ)/.ci/%.o: .ci/%.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -I.ci/lib $(ALL_CFLAGS) -MD -MP -c $< -o $@

$(COURSE_TOOL): $(OBJ)/.ci/course.o $(TOOL_LIB_OBJS) $(SUPPORT_LIB)
	$(call say,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^

$(TEST_RUNNER): $(patsubst %.c,$(OBJ)/%.o,$(TEST_SRCS)) $(TOOL_LIB_OBJS) $(SUPPORT_LIB) | need-check
	$(call say,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBEVENT_LIBS)

$(OBJ)/tests/%.o: tests/%.c | need-libevent need-check
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -I.ci/lib $(LIBEVENT_CFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) -MD -MP -c $< -o $@

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# --- Dependencies -------------------------------------------------------------
.PHONY: need-libevent need-check deps
need-libevent:
	@command -v pkg-config >/dev/null || { echo "error: pkg-config not found; install it: make deps (or: sudo apt-get install pkg-config)" >&2; exit 1; }
	@pkg-config --exists libevent libevent_pthreads && printf '#include <event.h>\n#include <event2/event.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 \
	  || { echo "error: libevent 2.x headers not found; install them: make deps (or: sudo apt-get install libevent-dev pkg-config)" >&2; exit 1; }

need-check: need-libevent
	@pkg-config --exists check && printf '#include <check.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 \
	  || { echo "error: the Check unit-test library was not found; install it: make deps (or: sudo apt-get install check)" >&2; exit 1; }

deps: ## Install what the course needs (apt; sudo if not root)
	@BUILD=$(BUILD) .ci/deps.sh $(DEB_PACKAGES)

# --- Lessons ------------------------------------------------------------------
# `make lesson-2` and `make lesson-02` both work: the number is matched
# against the lesson directories, and anything else lists the valid ones.
lesson_dir_for = $(if $(1),$(shell $(INDEX) find lessons '$(1)'))
lesson_programs_for = $(filter $(BIN)/$(call lesson_number,$(call lesson_dir_for,$(1))/)-%,$(LESSON_PROGRAMS))

.SECONDEXPANSION:
.PHONY: lessons
lessons: ## List the lessons with their titles
	@.ci/lesson.sh --list

lesson-%: $$(call lesson_programs_for,$$*) $(COURSE_TOOL) ## Build and run lesson N in both styles, side by side
	@.ci/lesson.sh "$*"

lesson-:
	@.ci/lesson.sh ""

bless-%: $$(call lesson_programs_for,$$*) $(COURSE_TOOL) ## Rewrite lesson N's expected trace (on purpose only)
	@.ci/lesson.sh --bless "$*"

diff-%: ## Show how lesson N's event1 and event2 sources differ
	@.ci/lesson.sh --diff "$*"

# --- Tests --------------------------------------------------------------------
.PHONY: test test-slow memcheck sanitize
# The suites run side by side, one per CPU (TEST_JOBS=1: one at a time).
test: $(LESSON_PROGRAMS) $(COURSE_TOOL) $(TEST_RUNNER) ## The Check suites, side by side
	@LESSONS_BIN=$(BIN) LESSONS_BUILD=$(BUILD) $(TEST_RUNNER) $(if $(TEST_JOBS),-j $(TEST_JOBS))

# The slower checks (minutes): the grader grading every submission, the
# Gradescope packages, the whole site, make's targets run as a user would.
# CI runs them after make test (.ci/run).
# The grader and gradescope suites grade with the sandbox and the exercises'
# runners (make grader): built here, in parallel under -j, rather than inside
# the suites' time.
test-slow: $(LESSON_PROGRAMS) $(COURSE_TOOL) $(TEST_RUNNER) grader ## The slower suites: grader, gradescope, site, tooling
	@LESSONS_BIN=$(BIN) LESSONS_BUILD=$(BUILD) $(TEST_RUNNER) $(if $(TEST_JOBS),-j $(TEST_JOBS)) --slow

memcheck: $(LESSON_PROGRAMS) $(COURSE_TOOL) ## Lessons and solutions under valgrind: 0 errors, 0 lost
	@status=0; BUILD=$(BUILD) tests/memcheck.sh $(LESSON_PROGRAMS) || status=1; \
	  BUILD=$(BUILD) tests/memcheck-solutions.sh $(EX_SOLUTION_PROGRAMS) || status=1; exit $$status

sanitize: ## Every suite built with ASan+UBSan (build/sanitize)
	@$(MAKE) BUILD=$(BUILD)/sanitize SANITIZE=1 test test-slow

# ThreadSanitizer, for the programs that start threads: lesson 17's,
# lesson 20's mistake 12 and exercise 08's solution, built with
# -fsanitize=thread into build/tsan
# (their kit and libsupport too) and run by tests/tsan.sh, which fails on
# any report and checks that TSan does report the race in the exercise's
# starter. libevent is not instrumented; tests/tsan.sh says what that
# means.
TSAN_CFLAGS := -O1 -g -gdwarf-4 -fsanitize=thread -fno-omit-frame-pointer
TSAN_PROGRAMS = $(call lesson_programs_for,17) $(filter %-12-no-evthread-bug %-12-no-evthread-fix,$(call lesson_programs_for,20)) \
	$(filter %/08-worker-thread/event2,$(EX_SOLUTION_PROGRAMS))
.PHONY: tsan tsan-run
tsan: ## Lessons 17, 20 and exercise 08 under TSan: no report
	@$(MAKE) BUILD=$(BUILD)/tsan CFLAGS="$(TSAN_CFLAGS)" tsan-run

tsan-run: $$(TSAN_PROGRAMS) $(COURSE_TOOL)
	@BUILD=$(BUILD) CC="$(CC)" CFLAGS="$(CFLAGS)" LIBEVENT_CFLAGS="$(LIBEVENT_CFLAGS)" \
	  LIBEVENT_LIBS="$(LIBEVENT_LIBS)" tests/tsan.sh $(TSAN_PROGRAMS)

# --- Docs ---------------------------------------------------------------------
.PHONY: docs check-docs
docs: ## Refresh the code excerpts in docs/ from the lesson sources
	@docs/snippets.sh --update

check-docs: ## Check that every code excerpt in docs/ matches its source
	@docs/snippets.sh --check

# The course as a static site, the pictures made from the programs and their
# traces (docs/site/build.sh says what and how), and every page of it checked
# in headless Chromium, with screenshots (docs/site/check.py).
.PHONY: site check-site
site: ## Build the site into build/site/ (pandoc, graphviz)
	@docs/site/build.sh $(BUILD)/site

check-site: site ## Check every page in headless Chromium; screenshots
	@docs/site/check.py $(BUILD)/site $(BUILD)/site-shots

# --- Exercises ---------------------------------------------------------------
# The exercises and the grader bring their own targets.
include exercises/grader/grader.mk

# --- Bench --------------------------------------------------------------------
# make bench: what things cost, measured side by side (.ci/bench/bench.c says
# what and how; lesson 21 explains it). The course's echo servers and the
# bench's own are measured under one load generator; QUICK=1: short rounds.
BENCH := $(BUILD)/bench
BENCH_OBJ := $(OBJ)/.ci/bench
BENCH_TOOL := $(BENCH)/bench
BENCH_PROGRAMS := $(BENCH)/echo-epoll $(BENCH)/echo-bufferevent \
    $(BENCH)/dispatch-event1 $(BENCH)/dispatch-event2
BENCH_SERVERS := $(filter $(BIN)/10-%-server $(BIN)/11-%-server,$(LESSON_PROGRAMS)) \
    $(filter %/04-echo-server/event2-server %/05-line-protocol/event2-server \
      %/06-idle-timeouts/event2-server,$(EX_SOLUTION_PROGRAMS))

$(BENCH_OBJ)/%.o: .ci/bench/%.c | need-libevent
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -I.ci/lib -I.ci/bench $(LIBEVENT_CFLAGS) $(ALL_CFLAGS) -MD -MP -c $< -o $@

$(BENCH_TOOL): $(addprefix $(BENCH_OBJ)/,bench.o load.o backends.o timers.o stats.o) \
    $(TOOL_LIB_OBJS) $(SUPPORT_LIB)
	$(call say,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBEVENT_LIBS)

$(BENCH)/echo-%: $(BENCH_OBJ)/echo-%.o $(SUPPORT_LIB)
	$(call say,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBEVENT_LIBS)

# Each dispatch loop may call only its own style's functions, as a lesson
# variant may: the kits' purity check applies.
$(BENCH)/dispatch-%: $(BENCH_OBJ)/dispatch-%.o $(BENCH_OBJ)/stats.o %/symbols.txt $(PURITY)
	$(call say,LD,$@)
	$(Q)$(PURITY) $* $(BENCH_OBJ)/dispatch-$*.o
	$(Q)$(PURITY) neutral $(BENCH_OBJ)/stats.o
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(LIBEVENT_LIBS)

.SECONDARY: $(addprefix $(BENCH_OBJ)/,echo-epoll.o echo-bufferevent.o dispatch-event1.o \
    dispatch-event2.o)

.PHONY: bench
bench: $(BENCH_TOOL) $(BENCH_PROGRAMS) $(BENCH_SERVERS) ## Measure: backends, styles, timers, echo (QUICK=1)
	@$(BENCH_TOOL) --build $(BUILD) $(if $(QUICK),--quick)

# --- Information --------------------------------------------------------------
.PHONY: help doctor clean
doctor: ## The compiler, libevent, Check and backends found
	@.ci/doctor.sh "$(CC)"

clean: ## Remove build/
	rm -rf $(BUILD)

help: ## List the targets
	@echo "libevent-lessons: libevent 1.x style (event1) beside 2.x style (event2)."
	@echo
	@grep -hE '^[a-z%][a-zA-Z0-9_%-]*:.*## ' $(MAKEFILE_LIST) \
	  | sed -E 's/^([^:]*):.*## (.*)/\1\t\2/' \
	  | awk -F'\t' '{ t=$$1; sub(/%$$/, "N", t); printf "  make %-12s %s\n", t, $$2 }'
	@echo
	@echo "Variables: CC=clang, CFLAGS=..., V=1 (show commands), NO_COLOR=1 (plain output)."
