# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#
# make          build libhostcall and the programs (host and lab guest)
# make install  libhostcall's header, libraries and hostcall.pc; hostcall-run (PREFIX, DESTDIR)
# make lab      build the lab: kernel with kernel/patches, KVM selftests, initramfs
# make test     every test, host and lab; last line "N passed, N failed, N skipped"
# make demo     the lab running KVM inside both emulated vendors
# make bench    hostcall-bench in both labs and here, whole programs, traced paths: build/bench/
# make fuzz     hostcall-fuzz's long campaign under the debug lab kernel (tests/fuzz/campaign)
# make regress  the KVM selftests on the lab kernels with and without the series, a table
# make coverage which lines the series adds to the kernel make test's lab suites run (gcov): build/coverage/report.txt
# make series   regenerate kernel/patches/ from the commits in build/linux
# make series-builds  build the series with KVM=m, SECCOMP=n and for i386
# make clean    remove what make built (build/linux, which may hold work, stays)

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror=implicit-function-declaration

BUILD      := build
GUEST_BIN  := $(BUILD)/guest-bin

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
BINDIR     ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
VERSION    := 0.1.0
SONAME     := libhostcall.so.0

# libhostcall: one object set, position-independent, for both libraries.
LIB_SRCS := $(wildcard lib/*.c) lib/entry.S
LIB_OBJS := $(patsubst lib/%,$(BUILD)/lib/%.o,$(LIB_SRCS))
LIB_A    := $(BUILD)/lib/libhostcall.a
LIB_SO   := $(BUILD)/lib/$(SONAME)

# Programs that lab/run puts on the lab guest's PATH.
GUEST_PROGS := $(GUEST_BIN)/kvm-hello $(GUEST_BIN)/hostcall-demo $(GUEST_BIN)/hostcall-example \
	       $(GUEST_BIN)/hostcall-lib-test $(GUEST_BIN)/hostcall-bench $(GUEST_BIN)/hostcall-fuzz \
	       $(GUEST_BIN)/hostcall-parity $(GUEST_BIN)/hostcall-stress $(GUEST_BIN)/hostcall-run \
	       $(GUEST_BIN)/hostcall-sandbox-bench \
	       $(GUEST_BIN)/hostcall-run-check $(GUEST_BIN)/hostcall-run-debian-commands \
	       $(GUEST_BIN)/sandbox-args-pie $(GUEST_BIN)/sandbox-args-dyn \
	       $(patsubst tests/sandbox/%.c,$(GUEST_BIN)/sandbox-%,$(wildcard tests/sandbox/*.c))

all: lib guest

lib: $(LIB_A) $(LIB_SO)

$(BUILD)/lib/%.o: lib/% lib/internal.h lib/guest.h include/hostcall.h include/hostcall-kvm.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -Iinclude -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(SONAME) -o $@ $^ -lpthread
	ln -sf $(SONAME) $(BUILD)/lib/libhostcall.so

guest: $(GUEST_PROGS)

$(GUEST_BIN)/%: lab/guest/%.c include/hostcall-kvm.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -Iinclude -o $@ $<

$(GUEST_BIN)/hostcall-example: examples/hostcall-example.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -Iinclude -o $@ $< $(LIB_A) -lpthread

$(GUEST_BIN)/hostcall-lib-test: $(wildcard tests/lib/*.c) tests/lib/test.h tests/guest.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -Iinclude -o $@ $(filter %.c,$^) $(LIB_A) -lpthread

$(GUEST_BIN)/hostcall-bench: $(wildcard tools/bench/*.c) tools/bench/bench.h tools/hypercall.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -Iinclude -Itools -Itools/bench -o $@ $(filter %.c,$^) $(LIB_A) -lpthread

$(GUEST_BIN)/hostcall-fuzz: $(wildcard tests/fuzz/*.c) $(wildcard tests/fuzz/*.h) tools/hypercall.h include/hostcall-kvm.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -Iinclude -Itools -o $@ $(filter %.c,$^)

$(GUEST_BIN)/hostcall-stress: $(wildcard tests/stress/*.c) tests/stress/stress.h tests/guest.h tools/hypercall.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -Iinclude -Itools -o $@ $(filter %.c,$^) $(LIB_A) -lpthread

$(GUEST_BIN)/hostcall-parity: tests/parity/hostcall-parity.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -Iinclude -o $@ $< $(LIB_A) -lpthread

# A static PIE: the kernel places it high, out of the way of the program's addresses.
$(GUEST_BIN)/hostcall-run: $(wildcard tools/run/*.c) tools/run/sandbox.h $(BUILD)/run/syscall-names.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIE -static-pie -Iinclude -I$(BUILD)/run -o $@ $(filter %.c,$^) $(LIB_A) -lpthread

# The x86-64 system call names, from the kernel headers: [nr] = "name",
$(BUILD)/run/syscall-names.h:
	@mkdir -p $(@D)
	echo '#include <asm/unistd_64.h>' | $(CC) -dM -E - | \
		sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$$/\2 \1/p' | sort -n | \
		awk '{ printf "\t[%s] = \"%s\",\n", $$1, $$2 }' >$@.tmp
	mv $@.tmp $@

$(GUEST_BIN)/hostcall-sandbox-bench: tools/sandbox-bench/hostcall-sandbox-bench.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $<

# Programs hostcall-run's tests run in the sandbox and natively, and the tests.
$(GUEST_BIN)/hostcall-run-check: tests/sandbox/check
	@mkdir -p $(@D)
	install -m 0755 $< $@

# The list hostcall-run-check runs Debian's programs from, beside it.
$(GUEST_BIN)/hostcall-run-debian-commands: tests/sandbox/debian-commands
	@mkdir -p $(@D)
	install -m 0644 $< $@

$(GUEST_BIN)/sandbox-%: tests/sandbox/%.c tests/sandbox/say.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $<

$(GUEST_BIN)/sandbox-args-pie: tests/sandbox/args.c tests/sandbox/say.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIE -static-pie -o $@ $<

# Its stack executable, as PT_GNU_STACK RWE asks.
$(GUEST_BIN)/sandbox-execstack: tests/sandbox/execstack.c tests/sandbox/say.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -z execstack -o $@ $<

# Dynamic, as Debian's programs: the lab guest has glibc's loader and libc.
$(GUEST_BIN)/sandbox-args-dyn: tests/sandbox/args.c tests/sandbox/say.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIE -pie -o $@ $<

install: lib $(GUEST_BIN)/hostcall-run
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(BINDIR)
	install -m 0755 $(GUEST_BIN)/hostcall-run $(DESTDIR)$(BINDIR)/
	install -m 0644 include/hostcall.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libhostcall.so
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' lib/hostcall.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/hostcall.pc

lab: guest
	lab/build

test: lab
	tests/run

# The suites that look for kernel reports, with the AMD lab under the debug
# kernel (KASAN, kmemleak, lockdep) and a kmemleak scan after each.
test-debug: lab
	HOSTCALL_AMD_KERNEL=debug tests/run "kernels:tests/lab-kernel.t debug" \
		fuzz:tests/fuzz.t stress:tests/stress.t parity:tests/parity.t sandbox:tests/sandbox.t

demo: lab
	lab/demo
	@echo; cat $(BUILD)/bench/table.txt 2>/dev/null || echo "(make bench adds its table here)"

bench: lab
	tools/bench/run

fuzz: guest
	tests/fuzz/campaign

regress: guest
	tests/regress/run

coverage: guest
	tests/coverage/run

series:
	lab/series

series-builds: lab
	tests/run "series-configs:tests/series-configs.t --full"

clean:
	rm -rf $(GUEST_BIN) $(BUILD)/lib $(BUILD)/run $(BUILD)/bench $(BUILD)/test-* $(BUILD)/kernel $(BUILD)/selftests $(BUILD)/initramfs \
		$(BUILD)/regress $(BUILD)/coverage
	git -C $(BUILD)/linux worktree remove --force $(BUILD)/linux-base 2>/dev/null || true

.PHONY: all lib install guest lab test test-debug demo bench fuzz regress coverage series series-builds clean
