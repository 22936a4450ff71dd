#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# tests/parity.t: the seccomp parity matrix, hostcall-parity (tests/parity/):
# each seccomp verdict, and filters on the arguments, the architecture and
# the instruction pointer, give the same outcome to a call made natively and
# by KVM_HC_HOST_SYSCALL, or differ exactly as the series documents; the
# table is in the comments. Two boots at once, each emulator on a core: the
# AMD lab under $amd_kernel (tests/lib/lab-tap.sh; make test-debug: the debug
# kernel, then a kmemleak scan that must find nothing); and the Intel lab
# under the default kernel (Bochs under the debug kernel takes 3.3 minutes).
# Points are prefixed by lab; a boot that fails (124 timeout, 125 kernel
# report) adds a failing point, with the console's end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

. tests/lib/lab-tap.sh
out=build/test-parity
lab_tap_both "$out" hostcall-parity | tests/lib/merge-tap
