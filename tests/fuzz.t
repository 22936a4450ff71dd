#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# The short fuzz of make test: tests/fuzz/hostcall-fuzz in both labs, each
# with a fixed seed so that a failure repeats. Each point holds if every
# hypercall got the status its rbx and number call for, no byte outside a
# valid struct's rax and the call's own buffer changed, and every call that
# ran returned what the same call returns natively. The AMD lab boots the
# debug kernel (KASAN, kmemleak, ...), where any report fails the run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

. tests/check.sh
out=build/test-fuzz
mkdir -p "$out"

# fuzz CPU KERNEL SEED COUNT: the fuzzer's lines on stdout, the console in $out.
fuzz() {
	lab/run --cpu "$1" --kernel "$2" --timeout 900 -- hostcall-fuzz --seed "$3" --count "$4" \
		2>"$out/$1.console"
}

echo "1..2"
check "amd, debug kernel: 50,000 random hypercalls (seed 1): statuses, canaries, results" \
	fuzz amd debug 1 50000
check "intel: 5,000 random hypercalls (seed 2): statuses, canaries, results" fuzz intel default 2 5000
