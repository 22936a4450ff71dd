#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# The short fuzz of make test: tests/fuzz/hostcall-fuzz in both labs, each
# with a fixed seed so that a failure repeats. Each batch runs in a
# throwaway child process in namespaces of its own; every system call of
# Linux 6.12 is drawn, with fds, pointers, sizes and flags by class. Each
# point holds if every hypercall got the status the ABI gives, no byte
# outside a valid struct's rax and the call's own buffer changed, the calls
# that can be compared natively returned what they return natively, no
# child hung, and the kernel reported nothing (the AMD lab boots the debug
# kernel: KASAN, kmemleak, lockdep; then a kmemleak scan).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

. tests/check.sh
out=build/test-fuzz
mkdir -p "$out"

# fuzz CPU KERNEL SEED COUNT [AFTER]: the fuzzer's lines on stdout and in $out/CPU.out
# (its counts by class), the console in $out/CPU.console.
fuzz() {
	lab/run --cpu "$1" --kernel "$2" --timeout 900 -- \
		sh -c 'hostcall-fuzz --seed "$1" --count "$2" && $3' sh "$3" "$4" "${5:-true}" \
		2>"$out/$1.console" | tee "$out/$1.out"
}

echo "1..2"
check "amd, debug kernel: 8,192 random hypercalls (seed 1): statuses, canaries, results, kmemleak" \
	fuzz amd debug 1 8192 hostcall-kmemleak
check "intel: 4,096 random hypercalls (seed 2): statuses, canaries, results" fuzz intel default 2 4096
