#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# The smoke test of make bench: tools/bench/run --quick in every lab and on
# this machine; results.csv has its header and a row for every lab x
# mechanism x op each can run (SlimVM's, the peer of tools/peers/, in intel
# and amd where its source is); the table and the chart are made; sandbox.csv
# has a row for every lab x way x job of the sandbox stage (intel, amd). On
# the default lab kernel, which the other suites built: it checks rows, not
# figures.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# Not build/bench: a test leaves make bench's last results alone.
out=build/test-bench

. tests/check.sh
CHECK_LOG=$out/check.out

per_call="getpid read1 clock_gettime"
workloads="udp_rr read64"
# SlimVM's rows come where its source is, as tools/peers/build-slimvm finds it.
if tools/peers/build-slimvm --has-source 2>/dev/null; then
	slimvm_labs="intel amd"
	slimvm_note=", slimvm rows in intel and amd"
else
	slimvm_labs=
	slimvm_note=" (no slimvm rows: $(tools/peers/build-slimvm --has-source 2>&1))"
fi

# seccomp_unotify_sync needs Linux 6.6 (the labs run 6.12).
kernel_at_least_6_6() {
	local v=$1 major minor
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%[!0-9]*}
	[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 6 ]; }
}
host_sync=0
kernel_at_least_6_6 "$(uname -r)" && host_sync=1

# lab mechanism op, for every row the lab must have; this machine has the
# exit rows only if it has a KVM (some CI machines have none)
expected_rows() {
	local lab mech op
	for lab in intel amd amd-wall host; do
		for op in $per_call $workloads; do
			echo "$lab native $op"
			[ $lab = host ] && [ ! -c /dev/kvm ] || echo "$lab exit $op"
			[ $lab = host ] || echo "$lab hypercall $op"
			case " $slimvm_labs " in *" $lab "*) echo "$lab slimvm $op" ;; esac
		done
		for op in $per_call; do
			for mech in ptrace seccomp_trap seccomp_unotify; do
				echo "$lab $mech $op"
			done
			[ $lab = host ] && [ $host_sync = 0 ] || echo "$lab seccomp_unotify_sync $op"
			[ $lab = host ] || echo "$lab noop_hypercall $op"
			case " $slimvm_labs " in *" $lab "*) echo "$lab slimvm_noop $op" ;; esac
		done
	done
}

# lab way job, for every row of the sandbox stage: Debian's programs run in
# the AMD lab only with --quick
expected_sandbox_rows() {
	local lab way job jobs
	for lab in intel amd; do
		jobs="sha256sum sha256-16 getppid"
		[ $lab = intel ] || jobs="$jobs python3 tar pipeline xz-T2"
		for way in native hypercall exit ptrace; do
			for job in $jobs; do
				echo "$lab $way $job"
			done
		done
	done
}

# has_rows CSV HEADER VALUES EXPECTED: CSV has HEADER, then a row "a,b,c,VALUES"
# (VALUES a regular expression) for each line "a b c" the function EXPECTED
# prints, and no other row.
has_rows() {
	local csv=$1 header=$2 values=$3 expected=$4 missing=0 a b c
	head -n 1 "$csv" | grep -qx "$header" || { echo "header is: $(head -n 1 "$csv")"; return 1; }
	while read -r a b c; do
		grep -Eq "^$a,$b,$c,$values\$" "$csv" || { echo "no row $a,$b,$c"; missing=1; }
	done < <($expected)
	[ "$(tail -n +2 "$csv" | wc -l)" -eq "$($expected | wc -l)" ] ||
		{ echo "$(tail -n +2 "$csv" | wc -l) rows, want $($expected | wc -l)"; missing=1; }
	return $missing
}

mkdir -p "$out"
echo "1..6"
check "tools/bench/run --quick runs in intel, amd, amd-wall and host, then the sandbox and paths stages" \
	tools/bench/run --quick --out "$out" --kernel default
check "results.csv: its header, and a row for each lab x mechanism x op that lab can run$([ -c /dev/kvm ] || echo ' (host: no exit rows, no /dev/kvm)')$slimvm_note" \
	has_rows "$out/results.csv" lab,mechanism,op,calls,ns_per_call '[0-9]+,[0-9]+(\.[0-9]+)?' expected_rows
check "the table has exit/hypercall for the labs and the chart is a PNG" \
	sh -c "grep -Eq '^intel +getpid +exit .* [0-9]+\.[0-9]+\$' $out/table.txt &&
	       head -c 8 $out/hostcall-bench.png | od -An -c | grep -q 'P   N   G'"
check "sandbox.csv: its header, and a row for each lab x way x job, ns > 0" \
	has_rows "$out/sandbox.csv" lab,way,job,reps,ns '[0-9]+,[1-9][0-9]*' expected_sandbox_rows
# The breakdown's steps each give the status the ABI says (a step that does
# not prints "failed:"), in both labs that run the hypercall.
check "the hypercall path's breakdown runs every step in intel and amd" \
	sh -c "grep -q '^call made: getpid' $out/intel.out && grep -q '^call made: getpid' $out/amd.out &&
	       ! grep -q 'failed:' $out/intel.out $out/amd.out"
# The paths stage: one getpid traced per mechanism, each function named, so
# that the getpid itself is found in every path that makes it.
traced="native hypercall exit noop_hypercall${slimvm_labs:+ slimvm slimvm_noop}"
paths_ok() {
	local header total call
	header=$(head -n 1 "$out/paths.txt" | sed 's/^instructions per getpid *//' | tr -s ' ')
	[ "$header" = "$traced" ] || { echo "columns: $header, want $traced"; return 1; }
	total=$(grep '^total ' "$out/paths.txt") call=$(grep '^the system call itself ' "$out/paths.txt")
	echo "$total" | awk '{ for (i = 2; i <= NF; i++) if ($i < 1) exit 1 }' || { echo "$total"; return 1; }
	# getpid runs in all but the no-op hypercalls
	echo "$call" | awk -v cols="$traced" '{ n = split(cols, c, " ")
		for (i = 1; i <= n; i++) if ((c[i] ~ /noop/) != ($(i + 4) == 0)) exit 1 }' ||
		{ echo "$call"; return 1; }
}
check "paths.txt: intel traces one getpid for $traced; each path has instructions and, but the no-ops, the call" \
	paths_ok
