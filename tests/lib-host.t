#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# libhostcall on this machine's own KVM: hostcall-lib-test in the mode
# hc_vm_create() picks (auto: EXIT, on a kernel without the hypercall) and
# with HOSTCALL_MODE=exit. Its points are renumbered and named by mode.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
test=build/guest-bin/hostcall-lib-test

if [ ! -c /dev/kvm ]; then
	echo "1..1"
	echo "ok 1 - hostcall-lib-test # SKIP no /dev/kvm"
	exit 0
fi
if [ ! -x "$test" ]; then
	echo "1..1"
	echo "not ok 1 - $test is missing: make $test"
	exit 1
fi
for m in auto exit; do
	echo "@@run $m"
	status=0
	HOSTCALL_MODE=$m "$test" || status=$?
	echo "@@status $status"
done | tests/lib/merge-tap
