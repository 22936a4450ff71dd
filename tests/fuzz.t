#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# The short fuzz of make test: tests/fuzz/hostcall-fuzz in both labs, each
# with a fixed seed so that a failure repeats. Each batch runs in a
# throwaway child process in namespaces of its own; every system call of
# Linux 6.12 is drawn, with fds, pointers, sizes and flags by class. Each
# point holds if every hypercall got the status the ABI gives, no byte
# outside a valid struct's rax and the call's own buffer changed, the calls
# that can be compared natively returned what they return natively, no
# child hung, and the kernel reported nothing (the AMD lab boots $amd_kernel,
# tests/lib/lab-tap.sh; make test-debug: the debug kernel, KASAN, kmemleak,
# lockdep, then a kmemleak scan). Both boots at once, each emulator on a core.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

. tests/check.sh
. tests/lib/lab-tap.sh
out=build/test-fuzz
mkdir -p "$out"

# fuzz CPU KERNEL SEED COUNT: the fuzzer's lines in $out/CPU.out (its counts
# by class), the console in $out/CPU.console; a kmemleak scan after, where
# the kernel has kmemleak.
fuzz() {
	lab/run --cpu "$1" --kernel "$2" --timeout 900 -- \
		sh -c 'hostcall-fuzz --seed "$1" --count "$2" &&
		       { [ ! -e /sys/kernel/debug/kmemleak ] || hostcall-kmemleak; }' sh "$3" "$4" \
		2>"$out/$1.console" >"$out/$1.out"
}

fuzz intel default 2 4096 &
intel=$!
fuzz amd "$amd_kernel" 1 8192
amd=$?
wait $intel
intel=$?
echo "1..2"
check "amd, $amd_kernel kernel: 8,192 random hypercalls (seed 1): statuses, canaries, results" \
	sh -c "cat $out/amd.out; exit $amd"
check "intel: 4,096 random hypercalls (seed 2): statuses, canaries, results" \
	sh -c "cat $out/intel.out; exit $intel"
