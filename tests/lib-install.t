#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# make install, and an outside program built with pkg-config against what it
# installed, statically (as for the lab) and against the shared library.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. tests/check.sh
CHECK_LOG=$work/out

root=$work/root
export PKG_CONFIG_PATH=$root/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
install_into_root() {
	make -s install DESTDIR="$root" PREFIX=/usr || return 1
	for f in usr/include/hostcall.h usr/lib/libhostcall.a usr/lib/libhostcall.so.0 \
		 usr/lib/libhostcall.so usr/lib/pkgconfig/hostcall.pc; do
		[ -e "$root/$f" ] || { echo "missing $f"; return 1; }
	done
	[ -x "$root/usr/bin/hostcall-run" ] || { echo "missing usr/bin/hostcall-run"; return 1; }
}
# Only the API of include/hostcall.h leaves the shared library.
exports_api_only() {
	local extra
	extra=$(nm -D --defined-only "$root/usr/lib/libhostcall.so.0" | awk '{print $3}' |
		grep -v -x -E 'hc_vm_(create|destroy|mode|call|last_fault|set_user|remapped)|hc_syscall|hc_in_guest|hc_user_(run|interrupt)') || true
	[ -z "$extra" ] || { echo "also exported: $extra"; return 1; }
	nm -D --defined-only "$root/usr/lib/libhostcall.so.0" | grep -q ' T hc_vm_call$'
}
static_build() {
	# shellcheck disable=SC2046 # pkg-config prints separate words
	cc -std=c11 -D_GNU_SOURCE -static -o "$work/example-static" examples/hostcall-example.c \
		$(pkg-config --cflags --libs --static hostcall) &&
		! readelf -l "$work/example-static" | grep -q INTERP
}
shared_build() {
	# shellcheck disable=SC2046
	cc -std=c11 -D_GNU_SOURCE -o "$work/example-shared" examples/hostcall-example.c \
		$(pkg-config --cflags --libs hostcall) &&
		readelf -d "$work/example-shared" | grep -q 'NEEDED.*libhostcall.so.0'
}

echo "1..4"
check "make install DESTDIR PREFIX=/usr puts header, libraries, hostcall.pc and hostcall-run in place" \
	install_into_root
check "the shared library exports exactly the API of hostcall.h" exports_api_only
check "cc prog.c \$(pkg-config --cflags --libs --static hostcall) -static builds" static_build
check "cc prog.c \$(pkg-config --cflags --libs hostcall) links libhostcall.so.0" shared_build
