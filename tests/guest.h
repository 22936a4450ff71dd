/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * What the test programs that run code in the guest through libhostcall
 * (hostcall-lib-test, hostcall-stress, hostcall-fuzz) share. GUEST
 * functions use general registers only, so that they run in guest ring 0
 * even on a KVM that cannot execute vector instructions in a guest; most
 * also run natively, for the native result.
 */
#ifndef HOSTCALL_TESTS_GUEST_H
#define HOSTCALL_TESTS_GUEST_H

#include "hostcall.h"

#define GUEST		__attribute__((target("general-regs-only"), noipa))

/*
 * a[0] is the number, a[1..6] the arguments: the result as the kernel gives
 * it. A copy in each file that calls it, in the guest or natively.
 */
GUEST __attribute__((unused)) static long guest_syscall(void *arg)
{
	const long *a = arg;

	return hc_syscall(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
}

#endif
