#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# tests/lib-lab.t --cpu amd|intel: libhostcall on the lab's patched kernel,
# in one boot: hostcall-lib-test in auto mode (the hypercall) and with
# HOSTCALL_MODE=exit. Its points are renumbered and named by lab and mode.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1

if [ $# -ne 2 ] || [ "$1" != --cpu ] || { [ "$2" != amd ] && [ "$2" != intel ]; }; then
	echo "usage: $0 --cpu amd|intel" >&2
	exit 2
fi
cpu=$2
run='for m in auto exit; do
	echo "@@run '"$cpu"' $m"
	HOSTCALL_MODE=$m hostcall-lib-test
	echo "@@status $?"
done'
{
	status=0
	lab/run --cpu "$cpu" --timeout 1200 -- sh -c "$run" || status=$?
	# a boot that failed (124 timeout, 125 kernel report) fails the suite
	if [ "$status" -ne 0 ]; then
		echo "@@run $cpu lab/run"
		echo "@@status $status"
	fi
} | tests/lib/merge-tap
