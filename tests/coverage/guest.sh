#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#
# make coverage's guest side (tests/coverage/run adds it with the list of
# commands, one a line, in /root/coverage-commands): zero the gcov counters,
# run each command with a line before and after it, then print the counters
# (/sys/kernel/debug/gcov) as a base64 tar.gz between marker lines, on
# stdout: the guest's only channel to the host.
gcov=/sys/kernel/debug/gcov
if [ ! -e $gcov/reset ]; then
	echo "@@coverage error: no $gcov/reset: this kernel has no gcov"
	exit 1
fi
# Only what the commands execute counts, not the boot.
echo 1 >$gcov/reset

while IFS= read -r cmd; do
	echo "@@coverage run: $cmd"
	sh -c "$cmd" </dev/null
	echo "@@coverage status $?: $cmd"
done <coverage-commands

# debugfs shows a .gcda as an empty file to stat (tar would store nothing):
# copy each by reading it, to tmpfs, and pack the copies.
echo "@@coverage collecting"
mkdir -p /tmp/gcda
cd $gcov || exit 1
find . -name '*.gcda' | while IFS= read -r f; do
	mkdir -p "/tmp/gcda/${f%/*}"
	cat "$f" >"/tmp/gcda/$f" || exit 1
done || { echo "@@coverage error: could not read the counters"; exit 1; }
echo "@@coverage gcda begin"
tar -C /tmp/gcda -czf - . | base64
echo "@@coverage gcda end"
