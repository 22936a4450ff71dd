#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# lab/build: results are reused while their inputs are unchanged, and a patch
# that does not apply stops the build with a message naming it and the base.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; printf '#   %s\n' "$@"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi; }

echo "TAP version 13"
echo "1..6"

results=(build/kernel/default/bzImage build/selftests/key build/initramfs/base.cpio build/initramfs/selftests.cpio)
before=$(stat -c '%n %Y' "${results[@]}")
lab/build >"$work/log" 2>&1
check "a second lab/build succeeds" test $? -eq 0
check "it rebuilds nothing (kernel, selftests, initramfs untouched)" \
	test "$before" = "$(stat -c '%n %Y' "${results[@]}")"

# A scratch copy of the project whose series has a patch that cannot apply,
# over a cheap clone of build/linux.
scratch=$work/project
mkdir -p "$scratch/kernel/patches" "$scratch/build"
cp -r lab "$scratch/"
cp -r kernel/config kernel/BASE "$scratch/kernel/"
cat >"$scratch/kernel/patches/0001-does-not-apply.patch" <<'PATCH'
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Lab Test <lab@hostcall.invalid>
Date: Sat, 1 Jan 2000 00:00:00 +0000
Subject: [PATCH] does not apply

---
 Makefile | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/Makefile b/Makefile
--- a/Makefile
+++ b/Makefile
@@ -1,3 +1,3 @@
 # SPDX-License-Identifier: GPL-2.0
-VERSION = 5
+VERSION = 7
 PATCHLEVEL = 12
-- 
2.39.5
PATCH
git clone -q --shared --no-checkout "$top/build/linux" "$scratch/build/linux"
git -C "$scratch/build/linux" checkout -q base
cp build/linux/.git/hostcall-base "$scratch/build/linux/.git/"
git -C "$scratch/build/linux" rev-parse HEAD >"$scratch/build/linux/.git/hostcall-applied-head"
sha256sum </dev/null | cut -c1-16 >"$scratch/build/linux/.git/hostcall-applied-series"
HOSTCALL_BUILD= "$scratch/lab/build" >"$work/log" 2>&1
status=$?
check "a patch that does not apply stops the build" test $status -ne 0
# The base is the one this machine built (Debian's current 6.12.y), not
# kernel/BASE, which names the point release the series was last tested on.
check "the message names the patch and the base version" \
	grep -qF "patch kernel/patches/0001-does-not-apply.patch does not apply to $(cat build/linux/.git/hostcall-base):" "$work/log"

# Debian moved linux-source-6.12 to another point release while build/linux
# holds work that kernel/patches/ lacks: the build stops and says how to keep it.
echo "6.12.0 (Debian linux-source-6.12 6.12.0-0~test)" >"$scratch/build/linux/.git/hostcall-base"
git -C "$scratch/build/linux" -c user.name=t -c user.email=t@hostcall.invalid \
	commit -q --allow-empty -m "work not yet in kernel/patches"
HOSTCALL_BUILD= "$scratch/lab/build" >"$work/log" 2>&1
status=$?
check "a new Debian point release does not discard work in build/linux" test $status -ne 0
check "the message names both versions and says how to keep the work" \
	grep -qF "linux-source-6.12 is now $(dpkg-query -W -f='${Version}' linux-source-6.12), build/linux is 6.12.0 (Debian linux-source-6.12 6.12.0-0~test) and holds work that is not in kernel/patches/: keep it with 'make series'" "$work/log"
