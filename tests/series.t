#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# The kernel series: each patch is checkpatch --strict clean, and the kernel
# builds after each one (bisectable), with the lab's default configuration.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. lab/lib.sh

mapfile -t patches < <(series_patches)
mapfile -t commits < <(git -C "$SRC" rev-list --reverse base..HEAD)
echo "TAP version 13"
echo "1..$((2 * ${#patches[@]}))"
if [ ${#patches[@]} -ne ${#commits[@]} ]; then
	echo "Bail out! build/linux holds ${#commits[@]} commits, kernel/patches ${#patches[@]}: run lab/build"
	exit 1
fi

# checkpatch runs scripts/spdxcheck.py on new files with Debian's python3,
# which needs python3-ply and python3-git (lab/setup); when it cannot run,
# checkpatch prints its traceback and still exits 0. With --terse a clean
# patch prints nothing: anything printed fails the point.
n=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	out=$(cd "$SRC" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --terse --show-types "$p" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		echo "ok $n - checkpatch --strict: ${p##*/}"
	else
		echo "not ok $n - checkpatch --strict: ${p##*/}"
		printf '%s\n' "$out" | head -n 10 | sed 's/^/#   /'
	fi
done

# Each prefix of the series builds, newest first: build/linux steps back one
# commit at a time from the tip, whose objects the default lab kernel already
# built (copied here: same paths, so ccache hits too). A step back touches
# only the files of the patch it drops, so make recompiles only what includes
# them; oldest first, the first step would touch every file of the series.
# build/linux returns to the tip after. Lab kernel builds wait meanwhile, and
# this waits for them.
lock 9 "$BUILD/linux.lock"
obj=$BUILD/kernel/bisect/obj
mkdir -p "$obj"
rsync -a --delete "$BUILD/kernel/default/obj/" "$obj/"
tip=$(git -C "$SRC" symbolic-ref -q --short HEAD)
trap 'git -C "$SRC" checkout -q "$tip"' EXIT
for ((i = ${#commits[@]} - 1; i >= 0; i--)); do
	n=$((n + 1))
	git -C "$SRC" checkout -q --detach "${commits[i]}"
	subject="$((i + 1))/${#commits[@]} $(git -C "$SRC" log -1 --format=%s)"
	log=$BUILD/kernel/bisect/build-$((i + 1)).log
	if problems=$(kernel_builds "$log" O="$obj" ARCH=x86_64 bzImage); then
		echo "ok $n - builds with: $subject"
	else
		echo "not ok $n - builds with: $subject"
		printf '%s\n' "$problems"
	fi
done
