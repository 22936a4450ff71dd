#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# tests/stress.t: hostcall-stress (tests/stress/), the concurrency, lifetime
# and isolation cases of KVM_HC_HOST_SYSCALL, in two boots: the AMD lab under
# the debug kernel (KASAN, kmemleak, lockdep, ...; 2 vCPUs, so that threads
# do run at once), then a kmemleak scan that must find nothing; and the
# Intel lab under the default kernel, with shorter loads (Bochs is slow). The
# seeds are fixed; they drive the random choices, not the threads' timing.
# Points are prefixed by lab; a boot that fails (124 timeout, 125 kernel
# report) adds a failing point, with the console's end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

out=build/test-stress
mkdir -p "$out"

# In the guest: $1 the run's name, then hostcall-stress's options.
stress='name=$1; shift
echo "@@run $name"
hostcall-stress "$@"
echo "@@status $?"
[ -e /sys/kernel/debug/kmemleak ] || exit 0
echo "@@run $name, kmemleak"
hostcall-kmemleak "no leak once the cases are over"
echo "@@status $?"'

# lab CPU KERNEL NAME STRESS-OPTION...: the run's lines, or a failing run for the boot.
lab() {
	local cpu=$1 kernel=$2 name=$3 status=0 start=$SECONDS
	shift 3
	lab/run --cpu "$cpu" --kernel "$kernel" --timeout 600 -- sh -c "$stress" sh "$name" "$@" \
		2>"$out/$cpu.console" || status=$?
	echo "# $name: $((SECONDS - start)) s, boot included"
	if [ $status -ne 0 ]; then
		echo "@@run $name: lab/run"
		# where lab/run says why: the reports it found, a timeout, a failed boot
		tail -n 20 "$out/$cpu.console"
		echo "@@status $status"
	fi
}

{
	lab amd debug "amd, debug kernel" --seed 1 --seconds 2
	lab intel default "intel" --seed 2 --seconds 1
} | tests/lib/merge-tap
