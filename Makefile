# xdpfw build. `make` builds the BPF objects, the native helper and the
# TypeScript; `make deps` installs what a fresh Debian machine lacks.
SHELL := /bin/bash
ARCH_INCLUDE := /usr/include/$(shell gcc -dumpmachine)
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -I$(ARCH_INCLUDE)
BPF_OUT := dist/bpf
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BPF_OUT)/%.bpf.o,$(BPF_SRCS))
# Benchmark-only programs (traffic generator, sinks, minimal forwarder).
BENCH_BPF_OBJS := $(patsubst bpf/bench/%.bpf.c,$(BPF_OUT)/bench/%.bpf.o,$(wildcard bpf/bench/*.bpf.c))
# Benchmark-only native tools (built by `make bench` only).
BENCH_TOOLS := dist/test/bench/tools/xsk-relay dist/test/bench/tools/ct-inject
# Test-only programs (the far side of a test's links).
TEST_BPF_OBJS := $(patsubst bpf/test/%.bpf.c,$(BPF_OUT)/test/%.bpf.o,$(wildcard bpf/test/*.bpf.c))
TS_SRCS := $(shell find lib bin test -name '*.ts' 2>/dev/null)
NATIVE := build/Release/xdpfw_native.node
DEBIAN_PACKAGES := clang llvm libbpf-dev libxdp-dev libelf-dev zlib1g-dev pkg-config \
	iproute2 nftables conntrack iputils-ping ethtool procps util-linux python3 make g++ \
	systemd strace keepalived conntrackd libnetfilter-conntrack-dev libmnl-dev
TEST_FILES ?= dist/test

.PHONY: all deps debian-deps bpf native ts ct-helper test fuzz demo bench clean verifier-insns

all: bpf native ts ct-helper

# The daemon's ctnetlink writer and reader (high-availability mirroring and adoption).
CT_HELPER := dist/bin/xdpfw-ct
ct-helper: $(CT_HELPER)

$(CT_HELPER): native/ct/xdpfw-ct.c native/ct/ct_record.h
	@mkdir -p $(dir $@)
	gcc -O2 -g -Wall -Wextra -Werror -o $@ $< $$(pkg-config --cflags --libs libmnl)

deps: debian-deps node_modules/.deps-stamp
	@mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

debian-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Scripts are skipped: the native helper is built by `make native`.
node_modules/.deps-stamp: package.json package-lock.json | debian-deps
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

bpf: $(BPF_OBJS) $(BENCH_BPF_OBJS) $(TEST_BPF_OBJS)

$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h)
	@mkdir -p $(BPF_OUT)
	clang $(BPF_CFLAGS) -c $< -o $@

$(BPF_OUT)/bench/%.bpf.o: bpf/bench/%.bpf.c $(wildcard bpf/bench/*.h)
	@mkdir -p $(BPF_OUT)/bench
	clang $(BPF_CFLAGS) -c $< -o $@

$(BPF_OUT)/test/%.bpf.o: bpf/test/%.bpf.c $(wildcard bpf/*.h)
	@mkdir -p $(BPF_OUT)/test
	clang $(BPF_CFLAGS) -c $< -o $@

native: $(NATIVE)

$(NATIVE): binding.gyp $(wildcard native/*.cc native/*.h)
	npx node-gyp rebuild --nodedir=$$( [ -d /usr/include/node ] && echo /usr || node -p 'process.execPath.replace(/\/bin\/node$$/, "")' )

ts: dist/.ts-stamp

dist/.ts-stamp: tsconfig.json $(TS_SRCS)
	npx tsc -p tsconfig.json
	@touch $@

# The tests load BPF programs and build network namespaces: run as root.
test: deps all
	@bash test/run.sh $(TEST_FILES)

# The fuzz tier at full volume (test/fuzz/, README "Fuzzing"): a fresh seed
# each run, printed; FUZZ_SEED=N replays one, FUZZ_CASE=I one case of it.
fuzz: deps all
	@FUZZ_SCALE=large TAP_TIMEOUT=14400 bash test/run.sh dist/test/fuzz

demo: deps all
	@node dist/test/demo.js

clean:
	rm -rf build dist

# Every figure a ratio to a baseline measured in the same run; writes
# bench-results.json and bench-results.md. BENCH="forwarding memory" runs some.
bench: deps all $(BENCH_TOOLS)
	@node dist/test/bench/run.js $(BENCH)

# The minimal AF_XDP relay (the floor under any userspace slow path), for BENCH=latency.
dist/test/bench/tools/xsk-relay: test/bench/tools/xsk-relay.c
	@mkdir -p $(dir $@)
	gcc -O2 -g -Wall -Wextra -Werror -o $@ $< $$(pkg-config --libs libxdp libbpf)

# Batched ctnetlink writes (the HA interchange's kernel side), for BENCH=ha-sync.
dist/test/bench/tools/ct-inject: test/bench/tools/ct-inject.c
	@mkdir -p $(dir $@)
	gcc -O2 -g -Wall -Wextra -Werror -o $@ $< $$(pkg-config --libs libmnl)

# Instructions the verifier processes per program (limit 1,000,000): run as root.
dist/tools/verifier-insns: tools/verifier-insns.c
	@mkdir -p dist/tools
	gcc -O2 -Wall -o $@ $< -lbpf

verifier-insns: dist/tools/verifier-insns bpf
	dist/tools/verifier-insns $(BPF_OUT)/xdpfw.bpf.o
