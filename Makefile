# Vigil build. `make` builds build/vigil; `make test` runs every test.
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := x86
BUILD := build
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Isrc -Ibpf -I$(BUILD)
LDLIBS := -lbpf -lelf -lz -ljansson -lsqlite3 -lyaml -lcurl
SAN ?=
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
BUILD := build/san
endif

SRCS := $(shell find src -name '*.c' | sort)
OBJS := $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/rules_builtin.o
LIB_OBJS := $(filter-out $(BUILD)/src/cli/%,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all clean test unit e2e bench bench-model bench-recorder
all: $(BUILD)/vigil

$(BUILD)/vigil.bpf.o: bpf/vigil.bpf.c bpf/*.h bpf/vmlinux/$(ARCH)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Ibpf/vmlinux/$(ARCH) -Wall -Werror -c $< -o $@

$(BUILD)/vigil.skel.h: $(BUILD)/vigil.bpf.o
	$(BPFTOOL) gen skeleton $< name vigil_bpf > $@

# enforcement (bpf/enforce.bpf.c): a second object, separate from the sensor
$(BUILD)/enforce.bpf.o: bpf/enforce.bpf.c bpf/enforce_event.h bpf/vmlinux/$(ARCH)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Ibpf/vmlinux/$(ARCH) -Wall -Werror -c $< -o $@

$(BUILD)/enforce.skel.h: $(BUILD)/enforce.bpf.o
	$(BPFTOOL) gen skeleton $< name enforce_bpf > $@

$(BUILD)/src/%.o: src/%.c $(wildcard src/*/*.h) bpf/vigil_event.h | $(BUILD)/vigil.skel.h $(BUILD)/enforce.skel.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -c $< -o $@

$(BUILD)/gen/rules_builtin.c: rules/builtin.yaml scripts/embed.sh
	@mkdir -p $(@D)
	scripts/embed.sh rules_builtin_yaml $< > $@

$(BUILD)/gen/rules_builtin.o: $(BUILD)/gen/rules_builtin.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/vigil: $(OBJS)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS)

unit: $(UNIT_BINS)
	@tests/run_unit.sh $(UNIT_BINS)

test: all
	@tests/run_all.sh

$(BUILD)/bench/model_bench: bench/model_bench.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS)

# user-space model benchmark (no root): bench/model_bench.sh
bench-model: $(BUILD)/bench/model_bench
	bench/model_bench.sh

$(BUILD)/bench/recorder_bench: bench/recorder_bench.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS)

# flight recorder benchmark (no root): bench/recorder_bench.sh
bench-recorder: $(BUILD)/bench/recorder_bench
	bench/recorder_bench.sh

# enforcement demo driver used by tests/e2e/test_enforce.py and bench/enforce_bench.sh
# (links only what it uses: enforce, the model and two leaf utilities)
GUARD_OBJS := $(filter $(BUILD)/src/enforce/%,$(OBJS)) \
	$(addprefix $(BUILD)/src/,lib/hashmap.o lib/jsonw.o model/model.o model/model_yaml.o model/generalize.o)
$(BUILD)/tests/guard_demo: tests/e2e/helpers/guard_demo.c $(GUARD_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(GUARD_OBJS) -o $@ -lbpf -lelf -lz -lyaml -lpthread

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# cgaction driver (kill / freeze / thaw a cgroup) used by tests/e2e/test_openguard.py
$(BUILD)/tests/cgaction_demo: tests/e2e/helpers/cgaction_demo.c $(BUILD)/src/enforce/cgaction.o $(BUILD)/src/enforce/cgroot.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(BUILD)/src/enforce/cgaction.o $(BUILD)/src/enforce/cgroot.o -o $@

# policy parser fuzzing with clang's libFuzzer (src/policy, tests/fuzz):
# runs FUZZ_TIME seconds (default 60) on build/fuzz/policy-corpus, seeded
# from the golden files and the example policies and kept between runs;
# crashes are written to build/fuzz/. `make unit` runs the same target on
# fixed mutants (tests/unit/test_policy_fuzz.c).
FUZZ_TIME ?= 60
FUZZ_POLICY_SRCS := tests/fuzz/fuzz_policy.c src/policy/policy_parse.c \
	src/policy/policy_load.c src/policy/policy_eval.c src/policy/policy_dump.c \
	src/model/generalize.c src/lib/strbuf.c
.PHONY: fuzz-policy
build/fuzz/fuzz_policy: $(FUZZ_POLICY_SRCS) src/policy/policy.h src/policy/policy_int.h
	@mkdir -p $(@D)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Isrc $(FUZZ_POLICY_SRCS) -o $@ -lyaml

fuzz-policy: build/fuzz/fuzz_policy
	@mkdir -p build/fuzz/policy-corpus
	cp tests/policy/golden/*.yaml policies/*.yaml build/fuzz/policy-corpus/
	build/fuzz/fuzz_policy -max_total_time=$(FUZZ_TIME) -dict=tests/fuzz/policy.dict \
		-artifact_prefix=build/fuzz/ -print_final_stats=1 build/fuzz/policy-corpus

# exec_kill driver (sensor_exec_kill_set on one cgroup, prints that cgroup's
# exec and exit events) used by tests/e2e/test_exec_kill.py
EXEC_KILL_OBJS := $(addprefix $(BUILD)/src/,sensor/sensor.o sensor/record_check.o enforce/cgroot.o)
$(BUILD)/tests/exec_kill_demo: tests/e2e/helpers/exec_kill_demo.c $(EXEC_KILL_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(EXEC_KILL_OBJS) -o $@ -lbpf -lelf -lz
