# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# Sourced by TAP scripts: check NAME CMD... runs CMD and prints the next test
# point, "ok" if it succeeded, else "not ok" and the end of its output.
# CHECK_LOG is where that output goes (default: a file under TMPDIR).
check_n=0
check() {
	local name=$1 log=${CHECK_LOG:-${TMPDIR:-/tmp}/check.$$}
	shift
	check_n=$((check_n + 1))
	if "$@" >"$log" 2>&1; then
		echo "ok $check_n - $name"
	else
		echo "not ok $check_n - $name"
		tail -n 5 "$log" | sed 's/^/#   /'
	fi
	rm -f "$log"
}
