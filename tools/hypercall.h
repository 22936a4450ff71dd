/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * KVM hypercalls made straight from the guest ring 0 code that hc_vm_call()
 * runs, for the programs that measure or fuzz the hypercall itself rather
 * than go through libhostcall's syscall entry (hostcall-bench,
 * hostcall-fuzz): the number, the status codes, and the instruction of the
 * guest's vendor, which is the host's.
 */
#ifndef HOSTCALL_TOOLS_HYPERCALL_H
#define HOSTCALL_TOOLS_HYPERCALL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm_para.h>	/* KVM_ENOSYS, KVM_EFAULT, KVM_EPERM */

#include "hostcall-kvm.h"	/* KVM_HC_HOST_SYSCALL */

/* "AuthenticAMD": KVM there handles vmmcall, and vmcall only by emulation. */
static inline bool cpu_is_amd(void)
{
	uint32_t eax, ebx, ecx, edx;

	__asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0));
	return ebx == 0x68747541;	/* "Auth" */
}

/* rax = @nr, rbx = @a0; KVM writes rax alone, with the status. */
static inline __attribute__((target("general-regs-only"), always_inline))
long kvm_hypercall(bool amd, unsigned long nr, const void *a0)
{
	long status;

	if (amd)
		__asm__ volatile("vmmcall" : "=a"(status) : "a"(nr), "b"(a0) : "memory");
	else
		__asm__ volatile("vmcall" : "=a"(status) : "a"(nr), "b"(a0) : "memory");
	return status;
}

#endif
