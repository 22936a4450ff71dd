// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Guest ring 3: code in ring 0 runs code in ring 3 of the same address
 * space and gets it back on each of its system calls and exceptions, the
 * way a kernel runs a process (entry.S has the switch itself).
 *
 * What ring 3 may reach is a short list of address ranges: their pages get
 * the user bit when a fault maps them (paging.c), every other page lacks it,
 * so ring 3 faults on libhostcall, on the caller's ring-0 code and data and
 * on the page tables alike. The list is fixed before the first vCPU exists,
 * so that no entry made earlier lacks the bit.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

int hc_vm_set_user(struct hc_vm *vm, void *start, unsigned long len, int user)
{
	uint64_t first = (uintptr_t)start, end = first + len;
	int i, ret = 0;

	if ((first | len) & (HC_PAGE_SIZE - 1) || !len || end < first || end > HC_USER_END)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < vm->nr_user; i++) {
		if (vm->user[i].start == first && vm->user[i].end == end)
			break;
	}
	if (vm->vcpus)
		ret = -EBUSY;
	else if (!user && i == vm->nr_user)
		ret = -ENOENT;
	else if (!user)
		vm->user[i] = vm->user[--vm->nr_user];
	else if (i < vm->nr_user)
		;
	else if (vm->nr_user == HC_MAX_USER_RANGES)
		ret = -ENOSPC;
	else
		vm->user[vm->nr_user++] = (struct hc_user_range){ first, end };
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/*
 * The page tables are the VM's, the TLB is each vCPU's: entries that
 * another vCPU dropped (hc_vm_remapped()) may still be cached in this one.
 * Flush once entries were dropped since this vCPU last did. Ours are not
 * global: a CR3 write flushes them. In ring 0, which runs with the thread's
 * FS base, so that hc_running_vcpu is the vCPU of its hc_vm_call().
 */
static void flush_forgotten(struct hc_vcpu *vcpu)
{
	unsigned long forgets = __atomic_load_n(&vcpu->vm->forgets, __ATOMIC_ACQUIRE);

	if (forgets == vcpu->flushed)
		return;
	vcpu->flushed = forgets;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

int hc_vm_remapped(struct hc_vm *vm, void *start, unsigned long len)
{
	uint64_t first = (uintptr_t)start, end = first + len;
	long ret;

	if (!hc_in_guest())
		return -EPERM;
	if ((first | len) & (HC_PAGE_SIZE - 1) || end < first || end > HC_USER_END)
		return -EINVAL;
	/*
	 * The host side drops the entries, and checks that @vm is this vCPU's:
	 * in ring 0, a fault on the tables or on the VM's lists would wait for
	 * the lock held to change them. The count of forgets it then raised
	 * makes this vCPU flush its TLB at once, the others at their next
	 * hc_user_run().
	 */
	__asm__ volatile("out %%al, %[port]" : "=a"(ret) : "a"(0), [port] "i"(HC_PORT_REMAPPED),
			 "b"(first), "c"(end), "d"(vm) : "memory");
	if (ret)
		return ret;
	flush_forgotten(hc_running_vcpu);
	return 0;
}

int hc_user_interrupt(struct hc_vm *vm)
{
	struct hc_vcpu *vcpu = hc_running_vcpu;

	if (!vcpu || vcpu->vm != vm)
		return -EINVAL;
	vcpu->interrupt = true;
	vcpu->run->immediate_exit = 1;
	return 0;
}

/* iretq and wrfsbase fault in ring 0 on a non-canonical rip or base. */
static bool canonical(unsigned long addr)
{
	return (unsigned long)((long)(addr << 16) >> 16) == addr;
}

_Static_assert(sizeof(((struct hc_user_frame *)0)->regs) ==
	       offsetof(struct hc_user_regs, gs_base) + sizeof(long), "the frame has every register");

int hc_user_run(struct hc_vm *vm, struct hc_user_regs *regs, struct hc_fault *fault)
{
	struct hc_user_frame frame = { .xstate = (uintptr_t)regs->xstate };
	uint32_t *mxcsr = (uint32_t *)(regs->xstate + HC_XSTATE_MXCSR);
	int ret;

	if (!hc_in_guest())
		return -EPERM;
	if (!vm->fsgsbase || !vm->xcr0)
		return -ENOTSUP;
	/* A new ring 3: its MXCSR as at exec, xrstor loads it in any case. */
	if (!*mxcsr && !*(uint64_t *)(regs->xstate + HC_XSTATE_BV))
		*mxcsr = 0x1f80;
	if (!canonical(regs->rip) || !canonical(regs->rsp) ||
	    !canonical(regs->fs_base) || !canonical(regs->gs_base))
		return -EINVAL;
	flush_forgotten(hc_running_vcpu);
	memcpy(frame.regs, regs, sizeof(frame.regs));
	ret = hc_guest_user_run(&frame);
	memcpy(regs, frame.regs, sizeof(frame.regs));
	if (ret == HC_USER_EXCEPTION && frame.vector == HC_VECTOR_INTERRUPT)
		return HC_USER_INTERRUPT;
	if (ret == HC_USER_EXCEPTION)
		*fault = (struct hc_fault){
			.vector = frame.vector, .error_code = frame.error_code,
			.rip = regs->rip, .addr = frame.vector == 14 ? frame.cr2 : 0,
		};
	return ret;
}
