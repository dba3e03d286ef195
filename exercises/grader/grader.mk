# exercises/grader/grader.mk - the exercises (students) and the grader
# (instructors), included by the top Makefile. See exercises/README.md,
# docs/students.md and docs/instructors.md.

GRADER := exercises/grader
EXERCISE_DIRS := $(shell $(INDEX) dirs exercises)
EX_BUILD := $(BUILD)/exercises
SANDBOX := $(BIN)/sandbox

# The graded tests of each exercise, one runner program per exercise:
# exercises/grader/harness/*.c + exercises/NN-slug/tests/*.c (hidden.c
# included when it is there; `make release` leaves it out), with the
# course's tool library (.ci/lib: running trusted programs, reading files)
# and the support archive (lessons/lib: the clock).
HARNESS_SRCS := $(wildcard $(GRADER)/harness/*.c) $(GRADER)/loopback.c
HARNESS_OBJS := $(patsubst exercises/%.c,$(EX_BUILD)/obj/%.o,$(HARNESS_SRCS)) $(TOOL_LIB_OBJS) $(SUPPORT_LIB)
exercise_runner = $(EX_BUILD)/$(notdir $(1))/runner
EX_RUNNERS := $(foreach d,$(EXERCISE_DIRS),$(call exercise_runner,$(d)))

# What a submission is built with, assembled in $(EX_KIT) and copied for
# each build by prepare.sh: the headers a variant includes (lessons/,
# event1/, event2/ inside the kit), the style kits' probes and the support
# code, built without sanitizers (student programs never are: they run
# under the sandbox's memory limit).
EX_KIT := $(EX_BUILD)/kit
EX_KIT_OBJ := $(EX_BUILD)/kit-obj
EX_KIT_HEADERS := $(patsubst lessons/lib/%,$(EX_KIT)/lessons/%,$(wildcard lessons/lib/*.h)) \
    $(EX_KIT)/event1/event1.h $(EX_KIT)/event2/event2.h
EX_KIT_OBJS := $(EX_KIT)/event1-probe.o $(EX_KIT)/event2-probe.o $(EX_KIT)/libsupport.a
EX_KIT_ALL := $(EX_KIT_OBJS) $(EX_KIT_HEADERS)
KIT_CFLAGS = $(WARN_FLAGS) $(CFLAGS)

# What grading exercise N needs: `make grade EXERCISE=3` and `make
# exercise-3` build that exercise's runner only (an unknown exercise builds
# nothing, and the script says what the exercises are).
exercise_dir_for = $(if $(1),$(shell $(INDEX) find exercises '$(1)'))
grader_deps_for = $(SANDBOX) $(EX_KIT_ALL) \
    $(foreach d,$(call exercise_dir_for,$(1)),$(call exercise_runner,$(d)))
GRADE_ENV = BUILD=$(BUILD) CC="$(CC)" KIT_CFLAGS="$(CFLAGS)"

# The sandbox is its own program: its source, the loopback helper it
# shares with the harness, and the course's clock.
$(SANDBOX): $(GRADER)/sandbox.c $(GRADER)/loopback.c lessons/lib/clock.c | need-libevent
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -I$(GRADER) $(ALL_CFLAGS) -o $@ $^

$(EX_BUILD)/obj/%.o: exercises/%.c | need-check
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -I$(GRADER) -I$(GRADER)/harness -I.ci/lib $(CHECK_CFLAGS) $(ALL_CFLAGS) -MD -MP -c $< -o $@

define runner_rule
$(call exercise_runner,$(1)): $(HARNESS_OBJS) $(patsubst exercises/%.c,$(EX_BUILD)/obj/%.o,$(wildcard $(1)/tests/*.c))
	$$(call say,LD,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(ALL_CFLAGS) -o $$@ $$^ $$(CHECK_LIBS)
endef
$(foreach d,$(EXERCISE_DIRS),$(eval $(call runner_rule,$(d))))

$(EX_KIT)/%-probe.o: %/probe.c lessons/lib/trace.h | need-libevent
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) -I$* $(LIBEVENT_CFLAGS) $(KIT_CFLAGS) -c $< -o $@

$(EX_KIT_OBJ)/%.o: lessons/lib/%.c | need-libevent
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(LIBEVENT_CFLAGS) $(KIT_CFLAGS) -MD -MP -c $< -o $@

$(EX_KIT)/libsupport.a: $(patsubst lessons/lib/%.c,$(EX_KIT_OBJ)/%.o,$(SUPPORT_SRCS))
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(EX_KIT)/lessons/%.h: lessons/lib/%.h
	$(Q)mkdir -p $(@D) && cp $< $@

$(EX_KIT)/event1/event1.h $(EX_KIT)/event2/event2.h: $(EX_KIT)/%: %
	$(Q)mkdir -p $(@D) && cp $< $@

-include $(shell find $(EX_BUILD)/obj $(EX_KIT_OBJ) -name '*.d' 2>/dev/null)

# `make memcheck` runs every solution under valgrind too
# (tests/memcheck-solutions.sh). Each is built as grade.sh builds a
# submission, laid out by prepare.sh and built by build-submission.sh, but
# outside the sandbox: solutions are trusted. A release has no solutions,
# so nothing here.
#   exercises/04-echo-server/solution/event2-server.c
#     -> $(BUILD)/memcheck/exercises/04-echo-server/event2-server
EX_MEMCHECK := $(BUILD)/memcheck/exercises
EX_SOLUTION_SRCS := $(foreach d,$(EXERCISE_DIRS),$(wildcard $(d)/solution/event[12]*.c))
solution_program = $(EX_MEMCHECK)/$(notdir $(patsubst %/solution/,%,$(dir $(1))))/$(basename $(notdir $(1)))
EX_SOLUTION_PROGRAMS := $(foreach s,$(EX_SOLUTION_SRCS),$(call solution_program,$(s)))

define solution_rule
$(call solution_program,$(1)): $(1) $(EX_KIT_ALL) $(GRADER)/prepare.sh $(GRADER)/build-submission.sh | need-libevent
	$$(call say,BUILD,$$@)
	$$(Q)rm -rf $$@.build && $(GRADER)/prepare.sh $(EX_KIT) $$@.build $(1)
	$$(Q)cd $$@.build && CC="$$(CC)" KIT_CFLAGS="$$(CFLAGS)" LIBEVENT_CFLAGS="$$(LIBEVENT_CFLAGS)" \
	    LIBEVENT_LIBS="$$(LIBEVENT_LIBS)" bash build.sh
	$$(Q)cp $$@.build/$$(notdir $$@) $$@
endef
$(foreach s,$(EX_SOLUTION_SRCS),$(eval $(call solution_rule,$(s))))

memcheck: $(EX_SOLUTION_PROGRAMS)

.PHONY: need-jq grader grade grade-all grade-bench release gradescope grade-deps exercises exercise- hint- reset-
need-jq:
	@command -v jq >/dev/null || { echo "error: jq not found; install it: make deps (or: sudo apt-get install jq)" >&2; exit 1; }

grader: $(SANDBOX) $(EX_RUNNERS) $(EX_KIT_ALL) | need-jq ## Build the sandbox and every exercise's graded tests

# --- Instructors -----------------------------------------------------------------
# WRONG=NAME grades the known-wrong submission exercises/NN-slug/wrong/NAME
# (wrong.sh lays it out from its base and change.patch).
grade: $(call grader_deps_for,$(EXERCISE)) | need-jq ## Grade a submission: EXERCISE=N SUBMISSION=DIR or WRONG=NAME
	@$(GRADE_ENV) $(if $(WRONG),SUBMISSION="$(SUBMISSION)" $(GRADER)/wrong.sh grade "$(EXERCISE)" "$(WRONG)" "$(OUT)",$(GRADER)/grade.sh "$(EXERCISE)" "$(SUBMISSION)" "$(OUT)")

grade-all: $(call grader_deps_for,$(EXERCISE)) | need-jq ## Grade every student: EXERCISE=N SUBMISSIONS=DIR [-j2]
	@$(GRADE_ENV) JOBS="$(JOBS)" FORCE="$(FORCE)" $(GRADER)/grade-all.sh "$(EXERCISE)" "$(SUBMISSIONS)" "$(OUT)"

grade-bench: $(call grader_deps_for,$(or $(EXERCISE),4)) | need-jq ## Time grading 30 copies of a submission, 2 at a time
	@$(GRADE_ENV) $(GRADER)/grade-bench.sh "$(EXERCISE)" "$(SUBMISSION)" "$(COPIES)"

release: ## Write a copy of the course for students: DEST=DIR
	@$(GRADER)/release.sh "$(DEST)"

# Gradescope: exercise N's autograder zip (exercises/grader/gradescope.sh
# says what it holds); its setup.sh builds what grading needs with
# grade-deps, once, and its run_autograder grades with `make grade`.
gradescope: ## Write exercise N's Gradescope zip: EXERCISE=N [DEST=DIR]
	@BUILD=$(BUILD) $(GRADER)/gradescope.sh "$(EXERCISE)" $(if $(DEST),"$(DEST)")

grade-deps: $(call grader_deps_for,$(EXERCISE)) | need-jq
	@$(if $(call exercise_dir_for,$(EXERCISE)),:,echo "error: there is no exercise '$(EXERCISE)'" >&2; exit 2)

# --- Students ----------------------------------------------------------------------
exercises: ## List the exercises with your progress
	@$(GRADE_ENV) $(GRADER)/student.sh list

exercise-%: $$(call grader_deps_for,$$*) | need-jq ## Build and test your work on exercise N (in its work/)
	@$(GRADE_ENV) $(GRADER)/student.sh test "$*"

hint-%: ## Show the next hint for exercise N
	@$(GRADE_ENV) $(GRADER)/student.sh hint "$*"

reset-%: ## Put exercise N's starter back in its work/ (asks first)
	@$(GRADE_ENV) YES="$(YES)" $(GRADER)/student.sh reset "$*"

# No number: the script says so and lists the exercises.
exercise-:
	@$(GRADE_ENV) $(GRADER)/student.sh test ""

hint- reset-:
	@$(GRADE_ENV) $(GRADER)/student.sh "$(patsubst %-,%,$@)" ""
