# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# Shared by the lab scripts: paths, messages, and the facts every step keys on.
# Sourced, not run.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$LAB_DIR")
BUILD=${HOSTCALL_BUILD:-$TOP/build}
SRC=$BUILD/linux
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/hostcall/ccache}

say() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# as_root CMD...: run CMD as root, through sudo when we are not root.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root to run '$*' (no sudo here): run it as root once, then retry"
	fi
}

# hash_of FILE...: one hash over the names and contents of FILEs (missing ones count as empty).
hash_of() {
	local f
	for f in "$@"; do
		printf '%s\n' "${f#"$TOP"/}"
		[ -f "$f" ] && cat "$f"
	done | sha256sum | cut -c1-16
}

series_patches() {
	find "$TOP/kernel/patches" -maxdepth 1 -name '[0-9]*.patch' ! -name '0000-cover-letter.patch' | sort
}

# The kernel source version the tree under build/linux was made from.
base_version() {
	cat "$SRC/.git/hostcall-base" 2>/dev/null || true
}

# kmake MAKE_ARG...: make in the lab's kernel tree (KSRC, default build/linux),
# with ccache, on every core.
kmake() {
	make -C "${KSRC:-$SRC}" CC="ccache gcc" -j"$(nproc)" "$@"
}

# kernel_builds LOG MAKE_ARG...: kmake into LOG; true if make succeeded and
# the compiler warned of nothing. Otherwise the first problems follow, as TAP
# comments.
kernel_builds() {
	local log=$1
	shift
	if kmake "$@" >"$log" 2>&1 && ! grep -q ': warning:' "$log"; then
		return 0
	fi
	grep -E ': (warning|error):|ERROR:|\*\*\*' "$log" | head -n 5 | sed 's/^/#   /'
	return 1
}

# kernel_fragments NAME: the config fragments of lab kernel NAME, in order.
# `base` is the default configuration built without the series.
kernel_fragments() {
	local c=$TOP/kernel/config
	case "$1" in
	default|base) echo "$c/default.config $c/distro.config $c/lockdep.config" ;;
	debug) echo "$c/default.config $c/distro.config $c/lockdep.config $c/debug.config" ;;
	bench) echo "$c/default.config $c/distro.config" ;;
	coverage) echo "$c/default.config $c/distro.config $c/lockdep.config $c/coverage.config" ;;
	*) die "unknown lab kernel '$1' (choose default, debug, bench, coverage or base)" ;;
	esac
}

# series_c_files: the kernel's C files that the series changes (outside
# tools/), relative to build/linux: what the coverage kernel profiles.
series_c_files() {
	git -C "$SRC" diff --name-only base..HEAD -- '*.c' ':!tools/'
}

# gcov_profile: make's GCOV_PROFILE for the coverage kernel, y for the objects
# of series_c_files and for no other. Not GCOV_PROFILE_<obj>.o: Kbuild names an
# object from the directory whose Makefile builds it, so arch/x86/boot/regs.o
# (real-mode code) would match too, and kvm_main.o, built from arch/x86/kvm,
# is ../../../virt/kvm/kvm_main.o there. This compares absolute paths.
gcov_profile() {
	local objs
	objs=$(series_c_files | sed 's/\.c$/.o/' | tr '\n' ' ')
	# shellcheck disable=SC2016 # make's expansions, not the shell's
	printf 'GCOV_PROFILE=$(if $(filter $(abspath %s),$(abspath $@)),y)' "${objs% }"
}

# The unpatched tree that the `base` kernel is built from: a worktree of
# build/linux at tag base, so that it builds while build/linux changes.
BASE_SRC=$BUILD/linux-base

# lock FD FILE [-s]: take an exclusive (or with -s, shared) lock on FILE
# through descriptor FD, saying so when another lab step holds it.
lock() {
	local fd=$1 file=$2 mode=${3:--x}
	eval "exec $fd>>\"\$file\""
	flock -n "$mode" "$fd" && return 0
	say "waiting for another lab step that holds ${file#"$TOP"/}"
	flock "$mode" "$fd"
}
