#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# tests/lab-kernel.t NAME...: lab kernels NAME... build, in that order
# (make test-debug's first suite: the debug kernel).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. tests/check.sh

echo "1..$#"
for kernel; do
	check "the $kernel lab kernel builds" lab/build --kernel "$kernel"
done
