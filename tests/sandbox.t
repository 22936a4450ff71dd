#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# tests/sandbox.t: hostcall-run. Here, what needs no guest: its own errors
# (usage, policy, a missing, foreign or dynamic program), which come before
# it creates a VM. In both labs, hostcall-run-check (tests/sandbox/check):
# busybox applets, our own programs and Debian's (lab/run --debian) give
# the same output and status natively and in both modes; hostile programs
# get errors or their signal; --stats and --policy. The AMD lab runs
# $amd_kernel (tests/lib/lab-tap.sh; make test-debug: the debug kernel, then
# a kmemleak scan); the Intel lab, the slower one, the default kernel with
# smaller inputs and fewer of Debian's commands; both at once.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

. tests/check.sh
. tests/lib/lab-tap.sh
out=build/test-sandbox
mkdir -p "$out"
CHECK_LOG=$out/check.out
run=build/guest-bin/hostcall-run

# fails_with STATUS PATTERN ARG...: hostcall-run exits STATUS, stderr matching PATTERN.
fails_with() {
	local want=$1 pattern=$2 status=0
	shift 2
	"$run" "$@" >"$out/host.out" 2>"$out/host.err" || status=$?
	[ $status = "$want" ] || { echo "status $status, not $want"; cat "$out/host.err"; return 1; }
	[ ! -s "$out/host.out" ] || { echo "stdout not empty"; return 1; }
	grep -q -- "$pattern" "$out/host.err" || { echo "stderr lacks '$pattern':"; cat "$out/host.err"; return 1; }
}

echo "no_such_call" >"$out/bad-policy"
echo "ioctl" >"$out/ioctl-policy"
printf 'plain text\n' >"$out/text"
printf '#!/no/such/shell -x\n' >"$out/script"
chmod +x "$out/text" "$out/script"
echo 'int main(void) { return 0; }' |
	cc -x c -o "$out/no-interp" -Wl,--dynamic-linker=/no/such/ld.so - ||
	{ echo "Bail out! cc could not build a test program"; exit 1; }
{
	echo "@@run host"
	check "no program: usage, status 125" fails_with 125 "usage: hostcall-run" --stats
	check "unknown option: usage, status 125" fails_with 125 "usage: hostcall-run" --bogus -- /bin/true
	check "--mode other: usage, status 125" fails_with 125 "usage: hostcall-run" --mode fast -- /bin/true
	check "policy names a call it cannot check: status 125, file and line" \
		fails_with 125 "bad-policy:1: \"no_such_call\"" --policy "$out/bad-policy" -- /bin/true
	check "policy names a call whose arguments it cannot check: status 125" \
		fails_with 125 "\"ioctl\" is a system call whose arguments" --policy "$out/ioctl-policy" -- /bin/true
	check "missing policy file: status 125" fails_with 125 "no-such-policy" --policy "$out/no-such-policy" -- /bin/true
	check "missing program: status 127" fails_with 127 "No such file" -- /no/such/program
	check "not an ELF file: status 126" fails_with 126 "not an ELF file" -- "$out/text"
	check "a script whose interpreter is missing: status 127, named" \
		fails_with 127 "/no/such/shell: No such file" -- "$out/script"
	check "a program whose interpreter is missing: status 127, named" \
		fails_with 127 "its interpreter /no/such/ld.so: No such file" -- "$out/no-interp"
	# This machine's kernel is Debian's, without the series.
	if [ -e /dev/kvm ]; then
		check "--mode hypercall where the kernel lacks it: status 125, says so" \
			fails_with 125 "does not offer KVM_HC_HOST_SYSCALL" --mode hypercall -- /bin/busybox true
	else
		check_n=$((check_n + 1))
		echo "ok $check_n - --mode hypercall where the kernel lacks it # SKIP no /dev/kvm here"
	fi
	echo "@@status 0"
	lab_tap_run_args=(--debian)
	lab_tap_intel_args=(--small)
	lab_tap_both "$out" hostcall-run-check
} | tests/lib/merge-tap
