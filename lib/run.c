// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hc_vm_call(): run fn(arg) on the thread's vCPU until it returns.
 *
 * The guest stops only for what it cannot do itself: fn returned; a system
 * call for the exit path (syscall.c); an exception, of which a page fault on
 * memory the process has is resolved (paging.c) and the rest end the call;
 * a signal for the thread, whose handler runs on the host as it would during
 * any system call, after which the guest continues.
 *
 * This loop runs on the thread whose guest code it suspended, with the same
 * TLS and libc state: it makes raw system calls only (see hc_raw_syscall()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* A page fault that keeps coming back after it was resolved is the guest's. */
#define MAX_SAME_FAULTS	4

static struct kvm_regs *regs_of(struct hc_vcpu *vcpu)
{
	return &vcpu->run->s.regs.regs;
}

static void set_regs(struct hc_vcpu *vcpu)
{
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

static long fault(struct hc_vcpu *vcpu, int vector, unsigned int error_code, uint64_t addr)
{
	vcpu->fault = (struct hc_fault){
		.vector = vector, .error_code = error_code,
		.rip = regs_of(vcpu)->rip, .addr = addr,
	};
	vcpu->faulted = true;
	return -EFAULT;
}

/* 0 to resume the guest, or the call's error. */
static long exception(struct hc_vcpu *vcpu, uint64_t *last_addr, int *same)
{
	struct hc_exception_frame *frame = (void *)regs_of(vcpu)->rbx;

	vcpu->stale = false;
	if (frame->vector == 14) {
		*same = frame->cr2 == *last_addr ? *same + 1 : 0;
		*last_addr = frame->cr2;
		if (*same < MAX_SAME_FAULTS &&
		    hc_paging_fault(vcpu->vm, frame->cr2, frame->error_code & 2) == 0)
			return 0;
	}
	vcpu->fault = (struct hc_fault){
		.vector = frame->vector, .error_code = frame->error_code,
		.rip = frame->rip, .addr = frame->vector == 14 ? frame->cr2 : 0,
	};
	vcpu->faulted = true;
	return -EFAULT;
}

/*
 * KVM could not reach the host memory behind a guest entry: the process
 * unmapped or protected it since. Drop the entries once so that the access
 * faults in the guest, where its address is known.
 */
static long memory_fault(struct hc_vcpu *vcpu)
{
	if (vcpu->stale)
		return fault(vcpu, HC_FAULT_MEMORY, 0, 0);
	vcpu->stale = true;
	hc_paging_forget(vcpu->vm);
	return hc_vcpu_flush_tlb(vcpu);
}

/*
 * The handler of a signal interrupted a hostcall, which KVM left undone to
 * restart. With HC_EINTR, complete it with -EINTR as the kernel's
 * documentation describes: result in the struct, status 0, RIP past it.
 */
static void interrupted(struct hc_vcpu *vcpu)
{
	struct kvm_regs *regs = regs_of(vcpu);

	if (!(vcpu->run->flags & KVM_RUN_X86_HOST_SYSCALL) || !(vcpu->vm->flags & HC_EINTR))
		return;
	((struct pt_regs *)regs->rbx)->rax = -EINTR;
	regs->rax = 0;
	regs->rip += 3;
	set_regs(vcpu);
}

static long run(struct hc_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint64_t last_addr = -1;
	int same = 0;
	long ret;

	for (;;) {
		ret = hc_ioctl(vcpu->fd, KVM_RUN, NULL);
		if (ret == -EINTR) {
			interrupted(vcpu);
			continue;
		}
		if (ret == -EFAULT) {
			ret = memory_fault(vcpu);
			if (ret)
				return ret;
			continue;
		}
		if (ret < 0)
			return ret;

		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			switch (run->io.port) {
			case HC_PORT_DONE:
				return regs_of(vcpu)->rax;
			case HC_PORT_SYSCALL:
				vcpu->stale = false;
				hc_serve_syscall(vcpu, (struct pt_regs *)regs_of(vcpu)->rbx);
				continue;
			case HC_PORT_EXCEPTION:
				ret = exception(vcpu, &last_addr, &same);
				if (ret)
					return ret;
				continue;
			}
			break;
		case KVM_EXIT_INTR:
			continue;
		case KVM_EXIT_SHUTDOWN:
			return fault(vcpu, HC_FAULT_SHUTDOWN, 0, 0);
		}
		/* Nothing of ours makes other exits (MMIO, HLT, ...): the guest went astray. */
		if (getenv("HCDBG")) { fprintf(stderr, "exit %u sub %u ndata %u d0 %llx d1 %llx\n", run->exit_reason, run->internal.suberror, run->internal.ndata, run->internal.data[0], run->internal.data[1]); }
		return fault(vcpu, HC_FAULT_SHUTDOWN, run->exit_reason, 0);
	}
}

/* The calling thread's vCPU of @vm, made on first use. */
static struct hc_vcpu *thread_vcpu(struct hc_vm *vm)
{
	static __thread struct {
		uint64_t vm_id;
		struct hc_vcpu *vcpu;
	} cache;
	struct hc_vcpu *vcpu;
	pid_t tid;

	if (cache.vm_id == vm->id)
		return cache.vcpu;
	tid = gettid();
	pthread_mutex_lock(&vm->lock);
	for (vcpu = vm->vcpus; vcpu && vcpu->tid != tid; vcpu = vcpu->next)
		;
	pthread_mutex_unlock(&vm->lock);
	if (!vcpu) {
		vcpu = hc_vcpu_create(vm);
		if (!vcpu)
			return NULL;
		pthread_mutex_lock(&vm->lock);
		vcpu->next = vm->vcpus;
		vm->vcpus = vcpu;
		pthread_mutex_unlock(&vm->lock);
	}
	cache.vm_id = vm->id;
	cache.vcpu = vcpu;
	return vcpu;
}

long hc_vm_call(struct hc_vm *vm, long (*fn)(void *), void *arg)
{
	struct hc_vcpu *vcpu;
	struct kvm_regs *regs;
	long ret;

	if (hc_in_guest())
		return fn(arg);
	vcpu = thread_vcpu(vm);
	if (!vcpu)
		return -errno;
	if (vcpu->busy)
		return -EBUSY;
	vcpu->busy = true;
	vcpu->faulted = false;
	regs = regs_of(vcpu);
	memset(regs, 0, sizeof(*regs));
	regs->rip = (uintptr_t)hc_guest_call;
	regs->rsp = (uintptr_t)vcpu->stack + HC_GUEST_STACK_SIZE;
	regs->rflags = 0x2;
	regs->rdi = (uintptr_t)arg;
	regs->rsi = (uintptr_t)fn;
	set_regs(vcpu);
	ret = run(vcpu);
	/* A shut-down vCPU has undefined state; the next call starts anew. */
	if (vcpu->faulted && vcpu->fault.vector == HC_FAULT_SHUTDOWN)
		hc_vcpu_reset(vcpu);
	vcpu->busy = false;
	return ret;
}

int hc_vm_last_fault(struct hc_vm *vm, struct hc_fault *fault)
{
	struct hc_vcpu *vcpu = thread_vcpu(vm);

	if (!vcpu)
		return -errno;
	if (!vcpu->faulted)
		return -ENOENT;
	*fault = vcpu->fault;
	return 0;
}
