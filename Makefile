# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#
# make          build the programs (host and lab guest)
# make lab      build the lab: kernel with kernel/patches, KVM selftests, initramfs
# make test     every test, host and lab; last line "N passed, N failed, N skipped"
# make demo     the lab running KVM inside both emulated vendors
# make series   regenerate kernel/patches/ from the commits in build/linux
# make series-builds  build the series with KVM=m, SECCOMP=n and for i386
# make clean    remove what make built (build/linux, which may hold work, stays)

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror=implicit-function-declaration

BUILD      := build
GUEST_BIN  := $(BUILD)/guest-bin

# Static programs that lab/run puts on the lab guest's PATH.
GUEST_PROGS := $(GUEST_BIN)/kvm-hello $(GUEST_BIN)/hostcall-demo

all: guest

guest: $(GUEST_PROGS)

$(GUEST_BIN)/%: lab/guest/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -static -o $@ $<

lab: guest
	lab/build

test: lab
	tests/run

demo: lab
	lab/demo

series:
	lab/series

series-builds: lab
	tests/run "series-configs:tests/series-configs.t --full"

clean:
	rm -rf $(GUEST_BIN) $(BUILD)/kernel $(BUILD)/selftests $(BUILD)/initramfs $(BUILD)/test-logs
	git -C $(BUILD)/linux worktree remove --force $(BUILD)/bisect 2>/dev/null || true

.PHONY: all guest lab test demo series series-builds clean
