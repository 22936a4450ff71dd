#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# tests/parity.t: the seccomp parity matrix, hostcall-parity (tests/parity/):
# each seccomp verdict, and filters on the arguments, the architecture and
# the instruction pointer, give the same outcome to a call made natively and
# by KVM_HC_HOST_SYSCALL, or differ exactly as the series documents; the
# table is in the comments. Two boots: the AMD lab under the debug kernel
# (KASAN, kmemleak, lockdep, ...), then a kmemleak scan that must find
# nothing; and the Intel lab under the default kernel (Bochs under the debug
# kernel takes 3.3 minutes). Points are prefixed by lab; a boot that fails
# (124 timeout, 125 kernel report) adds a failing point, with the console's end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

out=build/test-parity
mkdir -p "$out"

# In the guest: $1 the run's name.
parity='echo "@@run $1"
hostcall-parity
echo "@@status $?"
[ -e /sys/kernel/debug/kmemleak ] || exit 0
echo "@@run $1, kmemleak"
hostcall-kmemleak "no leak once the cases are over"
echo "@@status $?"'

# lab CPU KERNEL NAME: the run's lines, or a failing run for the boot.
lab() {
	local status=0 start=$SECONDS
	lab/run --cpu "$1" --kernel "$2" --timeout 600 -- sh -c "$parity" sh "$3" \
		2>"$out/$1.console" || status=$?
	echo "# $3: $((SECONDS - start)) s, boot included"
	if [ $status -ne 0 ]; then
		echo "@@run $3: lab/run"
		tail -n 20 "$out/$1.console"
		echo "@@status $status"
	fi
}

{
	lab amd debug "amd, debug kernel"
	lab intel default "intel"
} | tests/lib/merge-tap
