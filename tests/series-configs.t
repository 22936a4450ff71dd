#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# The series builds in the configurations it must survive besides the lab's:
# KVM as modules (the entry helper's export to kvm must resolve), without
# seccomp, and for i386 (where the hypercall compiles out).
#
# tests/series-configs.t [--full]
#
# KVM=m is a full build (bzImage and modules: modpost checks the export's
# namespace); it shares all but KVM with the lab kernel's ccache. SECCOMP=n
# and i386 build the objects that the series changes, which is where they
# can break; --full (make series-builds) builds those kernels whole too.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. lab/lib.sh

full=0
[ "${1:-}" = --full ] && full=1

# The objects of the series' C files that the configuration in $1 builds,
# as make targets (virt/kvm is built from arch/x86/kvm). An object is built
# unless its Kbuild or Makefile adds it under obj-$(CONFIG_X) with X unset.
series_objects() {
	local target name cfg
	git -C "$SRC" diff --name-only base..HEAD -- '*.c' ':!tools' |
		sed -e 's|^virt/kvm/.*|arch/x86/kvm/|' -e 's|\.c$|.o|' | sort -u |
	while read -r target; do
		# A directory (kvm/) is added by its parent's Makefile, as a file is.
		name=${target%/}
		name=${name##*/}${target##*[^/]}
		cfg=$(cat "$SRC/$(dirname "${target%/}")"/{Kbuild,Makefile} 2>/dev/null |
			sed -n "s|^obj-\$(\(CONFIG_[A-Z0-9_]*\)).*[[:space:]]${name}\([[:space:]].*\)\{0,1\}$|\1|p" |
			head -n 1)
		if [ -z "$cfg" ] || grep -q "^$cfg=[ym]" "$1"; then
			echo "$target"
		fi
	done
}

# build/linux must not change meanwhile (tests/series.t checks out commits).
lock 9 "$BUILD/linux.lock" -s
configs=(kvm-modules no-seccomp i386)
echo "TAP version 13"
echo "1..${#configs[@]}"
n=0
for name in "${configs[@]}"; do
	n=$((n + 1))
	obj=$BUILD/kernel/config-$name
	arch=x86_64 targets="bzImage" what=kernel
	mkdir -p "$obj"
	cp "$BUILD/kernel/default/obj/.config" "$obj/.config"
	case $name in
	kvm-modules)
		printf 'CONFIG_KVM=m\nCONFIG_KVM_AMD=m\nCONFIG_KVM_INTEL=m\n' >>"$obj/.config"
		targets="bzImage modules"
		want='CONFIG_KVM=m' ;;
	no-seccomp)
		printf '# CONFIG_SECCOMP is not set\n# CONFIG_SECCOMP_FILTER is not set\n' >>"$obj/.config"
		want='# CONFIG_SECCOMP is not set' ;;
	i386)
		sed -i '/^CONFIG_64BIT=y/d' "$obj/.config"
		printf '# CONFIG_64BIT is not set\n' >>"$obj/.config"
		arch=i386
		want='CONFIG_KVM=y' ;;
	esac
	log=$obj/build.log
	# The configuration first: which objects to build depends on it.
	kmake O="$obj" ARCH=$arch olddefconfig >"$log" 2>&1 ||
		die "make olddefconfig failed for $name (see $log)"
	if [ $full -eq 0 ] && [ "$name" != kvm-modules ]; then
		targets="prepare $(series_objects "$obj/.config" | tr '\n' ' ')"
		what=objects
	fi
	# shellcheck disable=SC2086 # $targets is a list of make targets
	if problems=$(kernel_builds "$log" O="$obj" ARCH=$arch $targets) &&
	   grep -qxF "$want" "$obj/.config"; then
		echo "ok $n - the series' $what build: $name ($want)"
	else
		echo "not ok $n - the series' $what build: $name ($want)"
		printf '%s\n' "$problems"
	fi
done
