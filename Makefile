# Vigil build. `make` builds build/vigil; `make test` runs every test.
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := x86
BUILD := build
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Isrc -Ibpf -I$(BUILD)
LDLIBS := -lbpf -lelf -lz -ljansson -lsqlite3 -lyaml
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

.PHONY: all clean test unit e2e bench bench-model
all: $(BUILD)/vigil

$(BUILD)/vigil.bpf.o: bpf/vigil.bpf.c bpf/*.h bpf/vmlinux/$(ARCH)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Ibpf/vmlinux/$(ARCH) -Wall -Werror -c $< -o $@

$(BUILD)/vigil.skel.h: $(BUILD)/vigil.bpf.o
	$(BPFTOOL) gen skeleton $< name vigil_bpf > $@

$(BUILD)/src/%.o: src/%.c $(wildcard src/*/*.h) bpf/vigil_event.h | $(BUILD)/vigil.skel.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -c $< -o $@

$(BUILD)/gen/rules_builtin.c: rules/builtin.yaml scripts/embed.sh
	@mkdir -p $(@D)
	scripts/embed.sh rules_builtin_yaml $< > $@

$(BUILD)/gen/rules_builtin.o: $(BUILD)/gen/rules_builtin.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/vigil: $(OBJS)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) tests/unit/harness.h
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

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
