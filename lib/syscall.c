// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The guest's system calls on the exit path: every call in exit mode, and
 * in hypercall mode those KVM refuses (the kernel's list of refused calls is
 * in Documentation/virt/kvm/x86/hypercalls.rst). The host thread makes them
 * as itself, which is what those calls need, except where that would not
 * mean what the guest asked:
 *
 *   clone, clone3, fork, vfork   -ENOSYS: the child would start in host mode
 *                                at the VMM's KVM_RUN, not in the guest
 *   rt_sigreturn, restart_syscall  -ENOSYS: no signal frame or restart of the
 *                                guest's to return to
 *   iopl, ioperm, modify_ldt,    -ENOSYS: they change the host thread's user
 *   set_thread_area, uretprobe   mode, not the guest
 *   x32 numbers                  -ENOSYS
 *   arch_prctl                   made, and a new FS or GS base is also the
 *                                vCPU's, so that TLS follows
 *
 * exit, exit_group and execve end or replace the thread or process as they
 * would natively; pause and rt_sigsuspend return -EINTR once a handler ran;
 * sigaltstack sets the stack the host thread's handlers run on.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>

#include "internal.h"

#ifndef SYS_uretprobe
#define SYS_uretprobe	335
#endif
#define X32_SYSCALL_BIT	0x40000000

static bool refused(int nr)
{
	switch (nr) {
	case SYS_clone:
	case SYS_clone3:
	case SYS_fork:
	case SYS_vfork:
	case SYS_rt_sigreturn:
	case SYS_restart_syscall:
	case SYS_iopl:
	case SYS_ioperm:
	case SYS_modify_ldt:
	case SYS_set_thread_area:
	case SYS_uretprobe:
		return true;
	}
	return nr & X32_SYSCALL_BIT;
}

void hc_serve_syscall(struct hc_vcpu *vcpu, struct pt_regs *regs)
{
	/* Like the kernel, the number is the low 32 bits of rax. */
	int nr = (int)regs->rax;
	long ret;

	if (refused(nr)) {
		regs->rax = -ENOSYS;
		return;
	}
	ret = hc_raw_syscall(nr, regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8, regs->r9);
	if (nr == SYS_arch_prctl && ret == 0 &&
	    (regs->rdi == ARCH_SET_FS || regs->rdi == ARCH_SET_GS))
		ret = hc_vcpu_set_segment_base(vcpu, regs->rdi == ARCH_SET_FS, regs->rsi);
	regs->rax = ret;
}

long hc_syscall(long nr, ...)
{
	long arg[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		arg[i] = va_arg(ap, long);
	va_end(ap);
	return hc_raw_syscall(nr, arg[0], arg[1], arg[2], arg[3], arg[4], arg[5]);
}

/* Host user mode is ring 3; only libhostcall's guest runs in ring 0. */
int hc_in_guest(void)
{
	uint16_t cs;

	__asm__("mov %%cs, %0" : "=r"(cs));
	return (cs & 3) == 0;
}
