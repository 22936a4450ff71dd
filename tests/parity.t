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

. tests/lib/lab-tap.sh
out=build/test-parity
{
	lab_tap "$out" amd debug "amd, debug kernel" hostcall-parity
	lab_tap "$out" intel default intel hostcall-parity
} | tests/lib/merge-tap
