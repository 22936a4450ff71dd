#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# The contract of lab/run: what reaches stdout, arguments, files, exit status.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; printf '#   %s\n' "$@"; }

# judge NAME STATUS EXPECTED_STDOUT_FILE RUN: the point for run RUN ($work/RUN.*)
judge() {
	local name=$1 want_status=$2 want_out=$3 run=$4 status
	status=$(cat "$work/$run.status")
	if [ "$status" -ne "$want_status" ]; then
		not_ok "$name" "exit status $status, wanted $want_status; stderr ends:" \
			"$(tail -n 5 "$work/$run.err")"
	elif [ -n "$want_out" ] && ! cmp -s "$work/$run.out" "$want_out"; then
		not_ok "$name" "stdout differs: got $(od -c "$work/$run.out" | head -n 3)"
	else
		ok "$name"
	fi
}

# run RUN LAB_RUN_ARGS...: lab/run, its stdout, stderr and status in $work/RUN.*
run() {
	local run=$1
	shift
	lab/run "$@" >"$work/$run.out" 2>"$work/$run.err"
	echo $? >"$work/$run.status"
}

# expect NAME STATUS EXPECTED_STDOUT_FILE LAB_RUN_ARGS...
expect() {
	local name=$1 want_status=$2 want_out=$3
	shift 3
	run last "$@"
	judge "$name" "$want_status" "$want_out" last
}

echo "TAP version 13"
echo "1..19"

# The Intel lab's boots run beside the AMD lab's, each emulator on a core;
# their points come last. --trace: a command that makes fewer pairs than
# promised would boot the lab again with tracing on (Bochs's debugger
# resumes at the reboot): the run must end at once, with the count.
# tests/bench.t's paths stage reads a trace that has them all.
printf 'x\0y\nintel err\n' >"$work/intel-expected"
{
	run intel --cpu intel -- \
		sh -c 'printf "x\\0y\\n"; echo "intel err" >&2; test -c /dev/kvm && exit 5'
	run trace --cpu intel --trace "$work/trace" --trace-pairs 2 --timeout 300 -- \
		sh -c 'hostcall-bench --trace --mech native'
} &
intel=$!

printf 'a\0b\r\n\377\nto stderr\n' >"$work/bytes"
expect "amd: stdout is the command's stdout and stderr, byte for byte" 0 "$work/bytes" \
	-- sh -c 'printf "a\\0b\\r\\n\\377\\n"; echo "to stderr" >&2'

printf '[a b][it'\''s][][*][$HOME][-x]' >"$work/args"
expect "arguments arrive as separate words, unchanged" 0 "$work/args" \
	-- sh -c 'for a; do printf "[%s]" "$a"; done' sh "a b" "it's" "" '*' '$HOME' -x

printf '/root\n750\nadded file\n' >"$work/added"
printf 'added file\n' >"$work/data.txt"
chmod 750 "$work/data.txt"
expect "--add copies into /root with its mode; cwd is /root" 0 "$work/added" \
	--add "$work/data.txt" -- sh -c 'pwd; stat -c %a data.txt; cat data.txt'

expect "the exit status is the command's" 3 "" -- sh -c 'exit 3'
expect "a command killed by signal 9 gives 137" 137 "" -- sh -c 'kill -9 $$'
printf '/usr/bin/hostcall-selftests\nkvm\nno selftests\n' >"$work/path"
expect "project tools are on PATH, /dev/kvm exists, no selftests without --selftests" 0 "$work/path" \
	-- sh -c 'command -v hostcall-selftests; test -c /dev/kvm && echo kvm
		test -e /usr/lib/kvm-selftests || echo no selftests'
printf 'host_syscall_test\n' >"$work/selftests"
expect "--selftests adds the KVM selftests" 0 "$work/selftests" \
	--selftests -- sh -c 'test -x /usr/lib/kvm-selftests/x86_64/host_syscall_test && echo host_syscall_test'
expect "a kernel report after init fails the run even if the command succeeded" 125 "" \
	-- sh -c 'echo "BUG: lab self-test" >/dev/kmsg'
expect "a kernel panic fails the run" 125 "" -- sh -c 'echo c >/proc/sysrq-trigger'
# --append: the arguments reach the kernel (a parameter it acts on, read back).
printf 'N\n' >"$work/appended"
expect "--append adds arguments to the kernel command line" 0 "$work/appended" \
	--append kvm.enable_virt_at_load=0 -- cat /sys/module/kvm/parameters/enable_virt_at_load
expect "--timeout ends a command that hangs with 124" 124 "" --timeout 30 -- sleep 1000
expect "--icount with --cpu intel is refused" 2 "" --cpu intel --icount -- true
expect "an unknown option is refused" 2 "" --frobnicate -- true
expect "--icount boots and runs" 0 "" --icount -- true
expect "--trace with --cpu amd is refused" 2 "" --trace "$work/trace" --trace-pairs 1 -- true
expect "--trace without --trace-pairs is refused" 2 "" --cpu intel --trace "$work/trace" -- true

# --bzimage: the image given boots; lab/build makes the initramfs, no kernel.
if lab/run --bzimage build/kernel/default/bzImage -- true >"$work/out" 2>"$work/err" &&
   grep -q '^lab: lab ready: .*; no kernel$' "$work/err"; then
	ok "--bzimage boots that image, and no lab kernel is built for it"
else
	not_ok "--bzimage boots that image, and no lab kernel is built for it" \
		"stderr: $(grep '^lab' "$work/err" | tail -n 3)"
fi

wait $intel
judge "intel: stdout byte for byte, exit status, /dev/kvm" 5 "$work/intel-expected" intel
if [ "$(cat "$work/trace.status")" -eq 125 ] &&
   grep -q 'trace-pairs 2, but the command made 2 magic breakpoints' "$work/trace.err"; then
	ok "intel: --trace with fewer pairs than --trace-pairs ends with 125 and the count"
else
	not_ok "intel: --trace with fewer pairs than --trace-pairs ends with 125 and the count" \
		"exit status $(cat "$work/trace.status"); stderr ends: $(tail -n 3 "$work/trace.err")"
fi
