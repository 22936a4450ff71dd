#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# tests/stress.t: hostcall-stress (tests/stress/), the concurrency, lifetime
# and isolation cases of KVM_HC_HOST_SYSCALL, in two boots: the AMD lab (2
# vCPUs, so that threads do run at once) under $amd_kernel
# (tests/lib/lab-tap.sh; make test-debug: the debug kernel, then a kmemleak
# scan that must find nothing); and the Intel lab under the default kernel,
# with shorter loads (Bochs is slow). The seeds are fixed; they drive the
# random choices, not the threads' timing.
# Points are prefixed by lab; a boot that fails (124 timeout, 125 kernel
# report) adds a failing point, with the console's end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

. tests/lib/lab-tap.sh
out=build/test-stress
{
	lab_tap "$out" amd "$amd_kernel" "amd, $amd_kernel kernel" hostcall-stress --seed 1 --seconds 2
	lab_tap "$out" intel default intel hostcall-stress --seed 2 --seconds 1
} | tests/lib/merge-tap
