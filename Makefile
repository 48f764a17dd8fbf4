# containerd in C. `make` builds bin/; `make run` and `make test` install
# what they need first (Debian 12, as root).

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wno-unused-parameter
ifeq ($(CI),true)
WARN     += -Werror
endif
# Recursive, so B set on the command line (the sanitizer tree) is seen.
CPPFLAGS  = -D_GNU_SOURCE -Ilib -Istore -I$(B)/gen
ALLCFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS)
LIBS     := -lev -lsqlite3 -lnghttp2 -lprotobuf-c -ljansson -lm
B        := build
# Where programs go; the sanitizer build puts its own in bin-san.
BIN      := bin

DEB_PKGS := gcc make pkg-config libsqlite3-dev libprotobuf-c-dev protobuf-c-compiler \
	protobuf-compiler libprotobuf-dev libev-dev libjansson-dev libnghttp2-dev runc \
	busybox-static bats python3-grpcio python3-protobuf sqlite3 musl-tools jq util-linux \
	procps psmisc iproute2 clang-14 libclang-rt-14-dev criu man-db prometheus

PROTOS   := schema/api.proto schema/health.proto schema/records.proto
GEN_C    := $(B)/gen/api.pb-c.c $(B)/gen/health.pb-c.c $(B)/gen/records.pb-c.c $(B)/gen/google/protobuf/timestamp.pb-c.c
GEN_H    := $(GEN_C:.c=.h)
MIGRATIONS := $(sort $(wildcard schema/[0-9]*.sql))

LIB_SRC   := $(wildcard lib/*.c)
STORE_SRC := $(wildcard store/*.c)
DAEMON_SRC:= $(wildcard daemon/*.c)
SHIM_SRC  := $(wildcard shim/*.c)
CTR_SRC   := $(wildcard ctr/*.c)
STATE_SRC := $(wildcard tools/state/*.c)
BENCH_SRC := $(wildcard tools/bench/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJ   := $(call obj,$(LIB_SRC)) $(patsubst $(B)/gen/%.c,$(B)/obj/gen/%.o,$(GEN_C))
STORE_OBJ := $(call obj,$(STORE_SRC)) $(B)/obj/gen/migrations.o
DAEMON_OBJ:= $(call obj,$(DAEMON_SRC))
CTR_OBJ   := $(call obj,$(CTR_SRC))
STATE_OBJ := $(call obj,$(STATE_SRC))
BENCH_OBJ := $(call obj,$(BENCH_SRC))
UNIT_BIN  := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

BINS := $(BIN)/containerd $(BIN)/containerd-shim $(BIN)/ctr
ifneq ($(STATE_SRC),)
BINS += $(BIN)/containerd-state
endif
ifneq ($(BENCH_SRC),)
BINS += $(BIN)/containerd-bench
endif

# The names dockerd's default mode looks for in PATH (it starts
# docker-containerd --shim docker-containerd-shim itself); Docker also
# shipped docker-containerd-ctr. Links beside the programs they name.
DOCKER_LINKS := $(BIN)/docker-containerd $(BIN)/docker-containerd-shim $(BIN)/docker-containerd-ctr

# The man pages and bash completions, written by the programs themselves
# (hidden --man and --bash-completion) from the tables that print --help.
DOC_PROGS   := containerd ctr $(if $(STATE_SRC),containerd-state)
MANPAGES    := $(B)/doc/containerd.8 $(B)/doc/ctr.1 $(if $(STATE_SRC),$(B)/doc/containerd-state.1)
COMPLETIONS := $(patsubst %,$(B)/doc/bash-completion/%,$(DOC_PROGS))

.PHONY: all deps run test unit clean bundle
all: $(BINS) $(DOCKER_LINKS) $(UNIT_BIN) $(MANPAGES) $(COMPLETIONS)

$(BIN)/docker-containerd: $(BIN)/containerd
	ln -sfn containerd $@
$(BIN)/docker-containerd-shim: $(BIN)/containerd-shim
	ln -sfn containerd-shim $@
$(BIN)/docker-containerd-ctr: $(BIN)/ctr
	ln -sfn ctr $@

$(B)/doc/containerd.8: $(BIN)/containerd
	@mkdir -p $(dir $@)
	$< --man > $@.tmp && mv $@.tmp $@
$(B)/doc/%.1: $(BIN)/%
	@mkdir -p $(dir $@)
	$< --man > $@.tmp && mv $@.tmp $@
$(B)/doc/bash-completion/%: $(BIN)/%
	@mkdir -p $(dir $@)
	$< --bash-completion > $@.tmp && mv $@.tmp $@

# ---- make install / make uninstall: PREFIX (default /usr/local) and DESTDIR,
# as usual. The units run $(BINDIR)/containerd; `systemctl enable --now
# containerd.socket` starts it on the first connection. containerd-bench
# stays in bin/ (it measures this build against runc; see BENCHMARKS.md).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
INSTALL     ?= install
INSTALL_PROGS := containerd containerd-shim ctr $(if $(STATE_SRC),containerd-state)
UNITS         := containerd.service containerd.socket
# Every path install writes, and so every path uninstall removes.
INSTALLED := $(addprefix $(BINDIR)/,$(INSTALL_PROGS) $(notdir $(DOCKER_LINKS))) \
	$(patsubst $(B)/doc/%,$(MANDIR)/man1/%,$(filter %.1,$(MANPAGES))) \
	$(patsubst $(B)/doc/%,$(MANDIR)/man8/%,$(filter %.8,$(MANPAGES))) \
	$(addprefix $(BASHCOMPDIR)/,$(DOC_PROGS)) \
	$(addprefix $(UNITDIR)/,$(UNITS))

.PHONY: install uninstall
install: $(addprefix $(BIN)/,$(INSTALL_PROGS)) $(MANPAGES) $(COMPLETIONS) \
		$(patsubst %,dist/systemd/%.in,$(UNITS))
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 0755 $(addprefix $(BIN)/,$(INSTALL_PROGS)) $(DESTDIR)$(BINDIR)/
	ln -sfn containerd $(DESTDIR)$(BINDIR)/docker-containerd
	ln -sfn containerd-shim $(DESTDIR)$(BINDIR)/docker-containerd-shim
	ln -sfn ctr $(DESTDIR)$(BINDIR)/docker-containerd-ctr
	$(INSTALL) -m 0644 $(filter %.1,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(filter %.8,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(COMPLETIONS) $(DESTDIR)$(BASHCOMPDIR)/
	for u in $(UNITS); do \
		sed 's|@BINDIR@|$(BINDIR)|g' dist/systemd/$$u.in > $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

# Exactly what install wrote: no directory, nothing else. Stop the service
# first (systemctl disable --now containerd.socket containerd.service).
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# Installs whatever Debian package is missing; quiet when all are there.
# Some come with a service (prometheus): a policy-rc.d that refuses every
# start is in place for the duration (the tests run their own instance;
# nothing may listen on the package's default port), and whatever was
# there before is put back, also on ^C.
POLICY_RC := /usr/sbin/policy-rc.d
deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		saved=""; \
		if [ -e $(POLICY_RC) ]; then saved=$$(mktemp) && cp -p $(POLICY_RC) $$saved || exit 1; fi; \
		trap 'if [ -n "$$saved" ]; then mv -f "$$saved" $(POLICY_RC); else rm -f $(POLICY_RC); fi' EXIT; \
		trap 'exit 130' INT TERM; \
		printf '#!/bin/sh\n# make deps: no service starts while packages install\nexit 101\n' \
			> $(POLICY_RC) && chmod 0755 $(POLICY_RC) || exit 1; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

$(B)/gen/%.pb-c.c $(B)/gen/%.pb-c.h: schema/%.proto
	@mkdir -p $(B)/gen
	protoc-c --c_out=$(B)/gen -Ischema -I/usr/include $<

$(B)/gen/google/protobuf/timestamp.pb-c.c $(B)/gen/google/protobuf/timestamp.pb-c.h:
	@mkdir -p $(B)/gen
	protoc-c --c_out=$(B)/gen -I/usr/include google/protobuf/timestamp.proto

$(B)/gen/migrations.c: $(MIGRATIONS) tools/embed-sql.sh
	@mkdir -p $(B)/gen
	sh tools/embed-sql.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/%.o: $(B)/gen/%.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -Wno-shadow -c -o $@ $<

$(B)/obj/%.o: %.c $(GEN_H) $(wildcard lib/*.h store/*.h daemon/*.h ctr/*.h tools/state/*.h tools/bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -c -o $@ $<

$(B)/libcommon.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BIN)/containerd: $(DAEMON_OBJ) $(STORE_OBJ) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)

# ctr is one process per command, so its start-up is most of its cost:
# linked statically when the archives are there (no loader, no library
# lookups: about half the CPU of a `ctr version`, see tools/bench-cli.sh),
# dynamically without them and under the sanitizers.
CTR_LIBS   := -lnghttp2 -lprotobuf-c -ljansson -lm
CTR_STATIC  = $(if $(SANFLAGS),,$(shell for a in libc.a libnghttp2.a libprotobuf-c.a libjansson.a; do \
	[ "$$($(CC) -print-file-name=$$a)" != $$a ] || exit 0; done; echo -static))
$(BIN)/ctr: $(CTR_OBJ) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(ALLCFLAGS) $(CTR_STATIC) -o $@ $^ $(CTR_LIBS)

$(BIN)/containerd-state: $(STATE_OBJ) $(STORE_OBJ) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(ALLCFLAGS) -o $@ $^ $(LIBS)

# The bench's workers are threads, each with its own blocking client.
$(BIN)/containerd-bench: $(BENCH_OBJ) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(ALLCFLAGS) -pthread -o $@ $^ $(LIBS)

# The shim runs once per container process, so its size is the density
# figure: static against musl when musl-gcc is there, glibc otherwise.
MUSL_GCC := $(shell command -v musl-gcc 2>/dev/null)
$(BIN)/containerd-shim: $(SHIM_SRC) $(wildcard shim/*.h)
	@mkdir -p $(BIN)
ifneq ($(MUSL_GCC),)
	musl-gcc -std=c11 -D_GNU_SOURCE -Os $(WARN) -static -o $@ $(SHIM_SRC)
else
	$(CC) -std=c11 -D_GNU_SOURCE -Os $(WARN) -o $@ $(SHIM_SRC)
endif

# Some unit tests #include the module they test (daemon/stats.c, daemon/prom_text.c,
# daemon/procinfo.c, tools/state/*.c).
$(B)/tests/%: tests/unit/%.c $(STORE_OBJ) $(B)/libcommon.a tests/unit/tap.h tests/unit/rawdb.h tests/unit/putfile.h \
		$(wildcard daemon/stats.c daemon/prom_text.c daemon/prom.h daemon/procinfo.[ch] tools/state/*.c tools/state/*.h)
	@mkdir -p $(B)/tests
	$(CC) $(CPPFLAGS) -Itests/unit $(ALLCFLAGS) -o $@ $< $(STORE_OBJ) $(B)/libcommon.a $(LIBS)

# A busybox OCI bundle for trying things by hand: make bundle ARGS="sleep 60"
bundle: deps
	sh tools/mkbundle $(B)/bundle $(or $(ARGS),sh)

run: deps all
	./$(BIN)/containerd $(RUN_FLAGS)

test: deps
	@$(MAKE) --no-print-directory all fuzz-build san-build
	@sh tests/run-all.sh

# Chaos: the daemon SIGKILLed at CHAOS_SEEDS seeded moments of a burst of
# 100 creates, plus the shim and SIGTERM rounds, and the rounds of every
# other tests/integration/chaos*.bats file (make test runs 2 seeds).
CHAOS_SEEDS ?= 20
.PHONY: chaos
chaos: deps
	@$(MAKE) --no-print-directory all
	BATS_TEST_TIMEOUT=$$(( $(CHAOS_SEEDS) * 40 + 120 )) CHAOS_SEEDS=$(CHAOS_SEEDS) \
		bats tests/integration/chaos*.bats

# Start rate and density against raw runc (issue 6); BENCH_N, BENCH_W
# override the 1000 containers and 100 clients. See BENCHMARKS.md.
.PHONY: bench
bench: deps all
	@bash tools/bench.sh

# The same at 10,000 (issue 13): BENCH_N=10000 by default, progress and the
# rate per 1,000 as it goes, the host's limits raised for the run and put
# back; the targets at scale. Takes 20-30 minutes here.
.PHONY: bench-scale
bench-scale: deps all
	@BENCH_SCALE=1 bash tools/bench.sh

# This daemon beside raw runc, Debian's containerd 1.6 and podman 4.3, in
# interleaved rounds (issue 13); installs the two packages when missing.
# BENCH_PEERS_N ("100 500"), BENCH_PEERS_ROUNDS (3), BENCH_PEERS_ONLY.
.PHONY: bench-peers
bench-peers: deps all
	@bash tools/bench-peers.sh

# ---- fuzzing: libFuzzer targets in tests/fuzz (clang; see tests/fuzz/run.sh)
# Each target builds its sources itself with clang and the fuzzer's
# sanitizers; nothing of the gcc build is linked in.
FUZZ_CC      ?= clang-14
FUZZ_FLAGS   := -std=c11 -g -O1 $(WARN) -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TARGETS := grpc proto control validate shimjson jsonlax
FUZZ_BINS    := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_TIME    ?= 300

$(B)/fuzz/fuzz_grpc: tests/fuzz/fuzz_grpc.c lib/grpc.c lib/grpc_budget.c lib/err.c lib/log.c \
		lib/timefmt.c lib/validate.c lib/grpc.h lib/grpc_core.h lib/grpc_internal.h lib/log.h lib/err.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^) -lnghttp2

$(B)/fuzz/fuzz_proto: tests/fuzz/fuzz_proto.c $(GEN_C) $(GEN_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -Wno-shadow -o $@ $(filter %.c,$^) -lprotobuf-c

$(B)/fuzz/fuzz_control: tests/fuzz/fuzz_control.c shim/control.c shim/control.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -D_GNU_SOURCE -Ishim $(FUZZ_FLAGS) -o $@ $(filter %.c,$^)

$(B)/fuzz/fuzz_shimjson: tests/fuzz/fuzz_shimjson.c shim/json.c shim/json.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -D_GNU_SOURCE -Ishim $(FUZZ_FLAGS) -o $@ $(filter %.c,$^)

$(B)/fuzz/fuzz_jsonlax: tests/fuzz/fuzz_jsonlax.c lib/jsonlax.c lib/jsonlax.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^) -ljansson -lm

$(B)/fuzz/fuzz_validate: tests/fuzz/fuzz_validate.c lib/validate.c lib/err.c \
		lib/validate.h lib/err.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^)

# Writes the generated seeds of fuzz_grpc into its corpus (committed).
$(B)/fuzz/gen_grpc_seeds: tests/fuzz/gen_grpc_seeds.c lib/grpc.c lib/grpc_budget.c lib/err.c \
		lib/log.c lib/timefmt.c lib/validate.c lib/grpc.h lib/grpc_core.h lib/grpc_internal.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -o $@ $(filter %.c,$^) -lnghttp2

.PHONY: fuzz fuzz-build fuzz-seeds
fuzz-build: $(FUZZ_BINS)
fuzz-seeds: $(B)/fuzz/gen_grpc_seeds
	@mkdir -p tests/fuzz/corpus/grpc
	$(B)/fuzz/gen_grpc_seeds tests/fuzz/corpus/grpc
# FUZZ_TIME seconds per target (default 300); findings go to build/fuzz/.
fuzz: deps fuzz-build
	@FUZZ_TIME=$(FUZZ_TIME) FUZZ_BIN_DIR=$(B)/fuzz sh tests/fuzz/run.sh long

# ---- sanitizers: the daemon, ctr, containerd-state and the unit tests built
# with ASan+UBSan into build-san/ and bin-san/ (bin/ is untouched; the shim
# stays the musl build). tests/san/run.sh runs them.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_BINS  := bin-san/containerd bin-san/ctr $(if $(STATE_SRC),bin-san/containerd-state) \
	$(patsubst tests/unit/%.c,build-san/tests/%,$(UNIT_SRC))
.PHONY: san-build
san-build:
	@$(MAKE) --no-print-directory B=build-san BIN=bin-san SANFLAGS="$(SAN_FLAGS)" $(SAN_BINS)

clean:
	rm -rf $(B) $(BIN)
