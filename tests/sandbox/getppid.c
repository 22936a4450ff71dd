// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * getppid: the most syscall-heavy job there is, for hostcall-run's benchmark
 * (tools/sandbox-bench) and its output tests. `sandbox-getppid [N]` makes N
 * getppid() calls (default 100000), each a real system call, and checks that
 * they all returned the same. It prints one line and exits 0 if they did,
 * else 1.
 *
 * The output must be byte-identical natively and under hostcall-run, so it
 * prints the count and yes/no, never the pid. It writes with write(2) rather
 * than stdio so that stdout's type cannot add system calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = 100000, first, i, differ = 0;
	char line[80];
	int len;

	if (argc > 1) {
		char *end;

		n = strtol(argv[1], &end, 10);
		if (*end || n < 1) {
			fputs("usage: sandbox-getppid [N >= 1]\n", stderr);
			return 2;
		}
	}

	/* syscall(), not getppid(): no libc may ever answer from a cache */
	first = syscall(SYS_getppid);
	for (i = 1; i < n; i++)
		differ += syscall(SYS_getppid) != first;

	len = snprintf(line, sizeof(line), "%ld getppid calls, all the same: %s\n", n,
		       differ ? "no" : "yes");
	if (write(1, line, len) != len)
		return 1;
	return differ ? 1 : 0;
}
