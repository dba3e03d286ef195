# exercises/exercises.mk - the exercises (students) and the grader
# (instructors), included by the top Makefile. See exercises/README.md,
# docs/students.md and docs/instructors.md.

EXERCISE_DIRS := $(sort $(patsubst %/,%,$(wildcard exercises/[0-9][0-9]-*/)))
EX_BUILD := $(BUILD)/exercises
SANDBOX := $(BIN)/sandbox

# The graded tests of each exercise, one runner program per exercise:
# exercises/harness/*.c + exercises/NN-slug/tests/*.c (hidden.c included
# when it is there; `make release` leaves it out), and tests/util.c, whose
# process running and file helpers the harness uses.
HARNESS_SRCS := $(wildcard exercises/harness/*.c)
HARNESS_OBJS := $(patsubst exercises/%.c,$(EX_BUILD)/obj/%.o,$(HARNESS_SRCS)) $(OBJ)/tests/util.o
exercise_runner = $(EX_BUILD)/$(notdir $(1))/runner
EX_RUNNERS := $(foreach d,$(EXERCISE_DIRS),$(call exercise_runner,$(d)))

# What a submission is linked with: the style kits' probes and the support
# code, built without sanitizers (student programs never are: they run
# under the sandbox's memory limit).
EX_KIT := $(EX_BUILD)/kit
EX_KIT_OBJS := $(EX_KIT)/event1-probe.o $(EX_KIT)/event2-probe.o $(EX_KIT)/libsupport.a
KIT_CFLAGS = $(WARN_FLAGS) $(CFLAGS)

# What grading exercise N needs: `make grade EXERCISE=3` and `make
# exercise-3` build that exercise's runner only (an unknown exercise builds
# nothing, and the script says what the exercises are).
exercise_dir_for = $(if $(1),$(firstword $(filter exercises/$(1),$(EXERCISE_DIRS)) \
    $(if $(call strip_digits,$(1)),,$(wildcard exercises/$(1)-*/ exercises/0$(1)-*/))))
grader_deps_for = $(SANDBOX) $(EX_KIT_OBJS) \
    $(foreach d,$(call exercise_dir_for,$(patsubst exercises/%,%,$(patsubst %/,%,$(1)))),$(call exercise_runner,$(patsubst %/,%,$(d))))
GRADE_ENV = BUILD=$(BUILD) CC="$(CC)" KIT_CFLAGS="$(CFLAGS)"

$(SANDBOX): exercises/sandbox.c | need-libevent
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ $<

$(EX_BUILD)/obj/%.o: exercises/%.c | need-check
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -Iexercises/harness -Itests $(CHECK_CFLAGS) $(ALL_CFLAGS) -MD -MP -c $< -o $@

define runner_rule
$(call exercise_runner,$(1)): $(HARNESS_OBJS) $(patsubst exercises/%.c,$(EX_BUILD)/obj/%.o,$(wildcard $(1)/tests/*.c))
	$$(call say,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(ALL_CFLAGS) -o $$@ $$^ $$(CHECK_LIBS)
endef
$(foreach d,$(EXERCISE_DIRS),$(eval $(call runner_rule,$(d))))

$(EX_KIT)/%-probe.o: %/probe.c lessons/trace.h | need-libevent
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -I$* $(LIBEVENT_CFLAGS) $(KIT_CFLAGS) -c $< -o $@

$(EX_KIT)/support/%.o: lessons/%.c | need-libevent
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(LIBEVENT_CFLAGS) $(KIT_CFLAGS) -MD -MP -c $< -o $@

$(EX_KIT)/libsupport.a: $(patsubst lessons/%.c,$(EX_KIT)/support/%.o,$(SUPPORT_SRCS))
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

-include $(shell find $(EX_BUILD)/obj $(EX_KIT) -name '*.d' 2>/dev/null)

# `make memcheck` runs every solution under valgrind too
# (exercises/memcheck-solutions.sh). Each is built as grade.sh builds a
# submission, build-submission.sh in a directory holding the file and the
# kit (headers, probe objects, support archive), but outside the sandbox:
# solutions are trusted. A release has no solutions, so nothing here.
#   exercises/04-echo-server/solution/event2-server.c
#     -> $(BUILD)/memcheck/exercises/04-echo-server/event2-server
EX_MEMCHECK := $(BUILD)/memcheck/exercises
EX_SOLUTION_SRCS := $(wildcard exercises/[0-9][0-9]-*/solution/event[12]*.c)
solution_program = $(EX_MEMCHECK)/$(notdir $(patsubst %/solution/,%,$(dir $(1))))/$(basename $(notdir $(1)))
EX_SOLUTION_PROGRAMS := $(foreach s,$(EX_SOLUTION_SRCS),$(call solution_program,$(s)))
EX_KIT_HEADERS := $(wildcard lessons/*.h) event1/event1.h event2/event2.h

define solution_rule
$(call solution_program,$(1)): $(1) $(EX_KIT_OBJS) $(EX_KIT_HEADERS) exercises/build-submission.sh | need-libevent
	$$(call say,BUILD,$$@)
	$$(Q)rm -rf $$@.build && mkdir -p $$@.build/kit/lessons $$@.build/kit/event1 $$@.build/kit/event2
	$$(Q)cp $(1) $$@.build/ && cp lessons/*.h $$@.build/kit/lessons/ && cp event1/event1.h $$@.build/kit/event1/ \
	    && cp event2/event2.h $$@.build/kit/event2/ && cp $(EX_KIT_OBJS) $$@.build/kit/
	$$(Q)cd $$@.build && CC="$$(CC)" KIT_CFLAGS="$$(CFLAGS)" LIBEVENT_CFLAGS="$$(LIBEVENT_CFLAGS)" \
	    LIBEVENT_LIBS="$$(LIBEVENT_LIBS)" bash $$(CURDIR)/exercises/build-submission.sh
	$$(Q)cp $$@.build/$$(notdir $$@) $$@
endef
$(foreach s,$(EX_SOLUTION_SRCS),$(eval $(call solution_rule,$(s))))

memcheck: $(EX_SOLUTION_PROGRAMS)

.PHONY: need-jq grader grade grade-all grade-bench release exercises exercise- hint- reset-
need-jq:
	@command -v jq >/dev/null || { echo "error: jq not found; install it: make deps (or: sudo apt-get install jq)" >&2; exit 1; }

grader: $(SANDBOX) $(EX_RUNNERS) $(EX_KIT_OBJS) | need-jq ## Build the sandbox and every exercise's graded tests

# The grader suite (tests/grader.c) grades with these: built with the test
# runner, in parallel under -j, rather than inside the suite's time.
test: grader

# --- Instructors -----------------------------------------------------------------
grade: $(call grader_deps_for,$(EXERCISE)) | need-jq ## Grade one submission: make grade EXERCISE=N SUBMISSION=DIR [OUT=DIR]
	@$(GRADE_ENV) exercises/grade.sh "$(EXERCISE)" "$(SUBMISSION)" "$(OUT)"

grade-all: $(call grader_deps_for,$(EXERCISE)) | need-jq ## Grade every student: make grade-all EXERCISE=N SUBMISSIONS=DIR [OUT=DIR] [-j2]
	@$(GRADE_ENV) JOBS="$(JOBS)" exercises/grade-all.sh "$(EXERCISE)" "$(SUBMISSIONS)" "$(OUT)"

grade-bench: $(call grader_deps_for,$(or $(EXERCISE),4)) | need-jq ## Time grading 30 copies of one submission with -j2 (EXERCISE=N, SUBMISSION=DIR)
	@$(GRADE_ENV) exercises/grade-bench.sh "$(EXERCISE)" "$(SUBMISSION)" "$(COPIES)"

release: ## Write a student copy of the course (no solutions, no hidden tests): make release DEST=DIR
	@exercises/release.sh "$(DEST)"

# --- Students ----------------------------------------------------------------------
exercises: ## List the exercises with your progress
	@$(GRADE_ENV) exercises/student.sh list

exercise-%: $$(call grader_deps_for,$$*) | need-jq ## Build and test your work on exercise N (exercises/NN-slug/work/)
	@$(GRADE_ENV) exercises/student.sh test "$*"

hint-%: ## Show the next hint for exercise N
	@$(GRADE_ENV) exercises/student.sh hint "$*"

reset-%: ## Put the starter files of exercise N back in its work/ (asks first)
	@$(GRADE_ENV) YES="$(YES)" exercises/student.sh reset "$*"

# No number: the script says so and lists the exercises.
exercise-:
	@$(GRADE_ENV) exercises/student.sh test ""

hint- reset-:
	@$(GRADE_ENV) exercises/student.sh "$(patsubst %-,%,$@)" ""
