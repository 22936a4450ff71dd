// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * tls: thread-local storage for hostcall-run. A static binary's TLS block is
 * laid out by glibc's startup, which allocates it with brk and points %fs at
 * it with arch_prctl(ARCH_SET_FS); this checks that the result is usable:
 * initialised and zero-initialised __thread variables, a 64 KiB __thread
 * array so that the block spans many pages, an over-aligned one, errno (set
 * by a failing openat), static __thread counters, and that ARCH_GET_FS and
 * the thread pointer agree with where the linker put a variable. It prints
 * the values and exits 0 if all held, else 1.
 *
 * The output must be byte-identical natively and under hostcall-run, so it
 * prints values and yes/no, never addresses.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "say.h"

#define LOOPS 1000000

__thread int t_answer = 42;
__thread long t_zero;
__thread char t_str[16] = "hello, tls";
__thread unsigned char t_big[65536];
__thread _Alignas(64) unsigned long t_aligned[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
/* volatile, so that the loop below does a TLS access each time round */
static __thread volatile unsigned long t_count;


static unsigned long bump(void)
{
	static __thread volatile unsigned long calls;

	return ++calls;
}

static const char *yes(int b)
{
	return b ? "yes" : "no";
}

int main(void)
{
	uintptr_t tp = (uintptr_t)__builtin_thread_pointer(), fs = 0, var;
	unsigned long i, last = 0, sum = 0;
	long tpoff;
	int fd, err, aligned;

	check(t_answer == 42, "initialised int: %d", t_answer);
	check(!strcmp(t_str, "hello, tls"), "initialised string: %s", t_str);
	check(t_zero == 0, "zero-initialised long: %ld", t_zero);
	for (i = 0; i < sizeof(t_big); i++)
		sum += t_big[i];
	check(sum == 0, "64 KiB array zero-initialised: %s", yes(sum == 0));
	for (i = 0; i < 8; i++)
		sum += t_aligned[i];
	aligned = (uintptr_t)t_aligned % 64 == 0;
	check(sum == 36 && aligned, "64-byte aligned array: sum %lu, aligned %s", sum,
	      yes(aligned));

	/* Touch every page of the big array, ends included. */
	for (i = 0; i < sizeof(t_big); i++)
		t_big[i] = (unsigned char)(i * 7 + (i >> 12));
	for (sum = 14695981039346656037UL, i = 0; i < sizeof(t_big); i++)
		sum = (sum ^ t_big[i]) * 1099511628211UL;	/* FNV-1a */
	check(sum == 0x39ef9f4ee1f7e325UL, "64 KiB array checksum: %016lx", sum);
	check(tp - (uintptr_t)t_big >= sizeof(t_big), "TLS block spans the array: %s",
	      yes(tp - (uintptr_t)t_big >= sizeof(t_big)));

	errno = 0;
	fd = openat(AT_FDCWD, "tls.no-such-file", O_RDONLY);
	err = errno;
	check(fd == -1 && err == ENOENT, "errno after openat of a missing file: %s",
	      err == ENOENT ? "ENOENT" : "other");
	/* x86-64 TLS is variant II: the block lies just below the thread pointer. */
	check((uintptr_t)&errno < tp && tp - (uintptr_t)&errno < (1 << 20),
	      "errno lives in the TLS block: %s",
	      yes((uintptr_t)&errno < tp && tp - (uintptr_t)&errno < (1 << 20)));

	for (i = 0; i < LOOPS; i++) {
		t_count++;
		last = bump();
		if (i % 1000 == 0)
			t_zero += i;
		t_answer ^= (int)i;
	}
	check(t_count == LOOPS && last == LOOPS, "static __thread counters: %lu, %lu",
	      (unsigned long)t_count, last);
	check(t_zero == 499500000L, "accumulated long: %ld", t_zero);
	check(t_answer == 42, "int after xor with 0..999999 (which xor to 0): %d", t_answer);

	/*
	 * The thread pointer is what the TCB at %fs:0 says it is; the kernel's
	 * (or the sandbox's) FS base must be that same address, and t_answer
	 * must lie at the linker's fixed offset from it.
	 */
	__asm__("movq $t_answer@tpoff, %0" : "=r"(tpoff));
	var = (uintptr_t)&t_answer;
	err = syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	check(err == 0 && fs == tp && fs + tpoff == var, "fs base matches: %s",
	      yes(err == 0 && fs == tp && fs + tpoff == var));

	if (failures)
		check(0, "%d checks failed", failures);
	else
		check(1, "all checks passed");
	return failures ? 1 : 0;
}
