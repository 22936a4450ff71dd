# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# Sourced by the suites that run a TAP program of ours in the lab (parity,
# stress, sandbox): lab_tap DIR CPU KERNEL NAME CMD [ARG]... prints, for
# tests/lib/merge-tap, CMD's points from one boot as the run NAME, then a
# kmemleak scan as a run of its own where the kernel has kmemleak (the
# debug kernel), and the boot's time. A boot that fails (124 timeout, 125
# kernel report or failed boot) adds a failing run with the end of the
# console, which is kept in DIR/CPU.console. lab_tap_run_args: more
# options for lab/run (such as --debian).

# The kernel of the AMD boots that look for kernel reports (fuzz, parity,
# stress, sandbox): the default one (lockdep) in make test, which then
# builds no second kernel; make test-debug: the debug one (KASAN, kmemleak).
amd_kernel=${HOSTCALL_AMD_KERNEL:-default}

# In the guest: $1 the run's name, then the command.
lab_tap_guest='name=$1; shift
echo "@@run $name"
"$@"
echo "@@status $?"
[ -e /sys/kernel/debug/kmemleak ] || exit 0
echo "@@run $name, kmemleak"
hostcall-kmemleak "no leak once the cases are over"
echo "@@status $?"'

lab_tap_run_args=()
lab_tap() {
	local dir=$1 cpu=$2 kernel=$3 name=$4 status=0 start=$SECONDS
	shift 4
	mkdir -p "$dir"
	lab/run --cpu "$cpu" --kernel "$kernel" --timeout 600 "${lab_tap_run_args[@]}" \
		-- sh -c "$lab_tap_guest" sh "$name" "$@" \
		2>"$dir/$cpu.console" || status=$?
	echo "# $name: $((SECONDS - start)) s, boot included"
	if [ $status -ne 0 ]; then
		echo "@@run $name: lab/run"
		# where lab/run says why: the reports it found, a timeout, a failed boot
		tail -n 20 "$dir/$cpu.console"
		echo "@@status $status"
	fi
}

# lab_tap_both DIR CMD [ARG]...: lab_tap in both labs at once, each emulator
# on a core of its own: the AMD lab under $amd_kernel, the Intel lab under
# the default kernel with lab_tap_intel_args after CMD's. The AMD lab's runs
# come first; the Intel lab's wait in DIR/intel.tap until then.
lab_tap_intel_args=()
lab_tap_both() {
	local dir=$1 intel
	shift
	mkdir -p "$dir"
	lab_tap "$dir" intel default intel "$@" "${lab_tap_intel_args[@]}" >"$dir/intel.tap" &
	intel=$!
	lab_tap "$dir" amd "$amd_kernel" "amd, $amd_kernel kernel" "$@"
	wait $intel
	cat "$dir/intel.tap"
}
