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
#include <string.h>
#include <sys/syscall.h>

#include "internal.h"

/*
 * A page fault that keeps coming back after it was resolved, with no entry
 * dropped meanwhile, is the guest's.
 */
#define MAX_SAME_FAULTS	4

/* The last page fault resolved: its address, and the VM's forgets then. */
struct last_fault {
	uint64_t addr;
	unsigned long forgets;
	int same;
};

static struct kvm_regs *regs_of(struct hc_vcpu *vcpu)
{
	return &vcpu->run->s.regs.regs;
}

static void set_regs(struct hc_vcpu *vcpu)
{
	vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

/* The call ends with -EFAULT; hc_vm_last_fault() says why. */
static long fault_at(struct hc_vcpu *vcpu, int vector, unsigned int error_code,
		     uint64_t rip, uint64_t addr)
{
	vcpu->fault = (struct hc_fault){
		.vector = vector, .error_code = error_code, .rip = rip, .addr = addr,
	};
	vcpu->faulted = true;
	return -EFAULT;
}

/* The same, where the guest stopped. */
static long fault(struct hc_vcpu *vcpu, int vector, unsigned int error_code)
{
	return fault_at(vcpu, vector, error_code, regs_of(vcpu)->rip, 0);
}

/*
 * 0 to resume the guest, or the call's error. The stub goes on with rax 0
 * if the fault was resolved, else (ring 3's) to hc_user_run()'s caller.
 */
static long exception(struct hc_vcpu *vcpu, struct last_fault *last)
{
	struct hc_exception_frame *frame = (void *)regs_of(vcpu)->rbx;
	bool user = (frame->cs & 3) == 3;

	vcpu->stale = false;
	regs_of(vcpu)->rax = 0;
	if (frame->vector == 14) {
		/*
		 * The same address again after the program unmapped and
		 * mapped it anew (hc_vm_remapped()) is a new fault: a loop
		 * of mmap() and munmap() gets it each time.
		 */
		unsigned long forgets = __atomic_load_n(&vcpu->vm->forgets, __ATOMIC_ACQUIRE);

		last->same = frame->cr2 == last->addr && forgets == last->forgets ?
			     last->same + 1 : 0;
		last->addr = frame->cr2;
		last->forgets = forgets;
		if (last->same < MAX_SAME_FAULTS &&
		    hc_paging_fault(vcpu->vm, frame->cr2, frame->error_code & 2,
				    frame->error_code & 16, user) == 0)
			goto resume;
	}
	if (!user)
		return fault_at(vcpu, frame->vector, frame->error_code, frame->rip,
				frame->vector == 14 ? frame->cr2 : 0);
	regs_of(vcpu)->rax = 1;
resume:
	set_regs(vcpu);
	return 0;
}

/*
 * KVM could not reach the host memory behind a guest entry: the process
 * unmapped or protected it since. Drop the entries once so that the access
 * faults in the guest, where its address is known.
 */
static long memory_fault(struct hc_vcpu *vcpu, uint64_t *last_rip)
{
	/*
	 * Still failing once remade from a guest fault (memory KVM cannot
	 * map, such as some special mappings) is not stale: give up.
	 */
	if (vcpu->stale || regs_of(vcpu)->rip == *last_rip)
		return fault(vcpu, HC_FAULT_MEMORY, 0);
	*last_rip = regs_of(vcpu)->rip;
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

/* hc_vm_remapped(): rax 0 once the entries of [rbx, rcx) are gone, if rdx is our VM. */
static void remapped(struct hc_vcpu *vcpu)
{
	struct kvm_regs *regs = regs_of(vcpu);

	regs->rax = regs->rdx == (uintptr_t)vcpu->vm ? 0 : -EINVAL;
	if (!regs->rax)
		hc_paging_forget_range(vcpu->vm, regs->rbx, regs->rcx);
	set_regs(vcpu);
}

__thread struct hc_vcpu *hc_running_vcpu;

/*
 * hc_user_interrupt() set immediate_exit, so that a KVM_RUN it came just
 * before returns at once. Without an in-kernel irqchip, KVM injects what
 * KVM_INTERRUPT gives whatever the guest's IF: ask KVM to stop once the
 * guest takes interrupts, which only ring 3 does, and inject it then.
 */
static void request_interrupt(struct hc_vcpu *vcpu)
{
	vcpu->interrupt = false;
	vcpu->run->immediate_exit = 0;
	vcpu->run->request_interrupt_window = 1;
}

static void inject_interrupt(struct hc_vcpu *vcpu)
{
	struct kvm_interrupt irq = { .irq = HC_VECTOR_INTERRUPT };

	vcpu->run->request_interrupt_window = 0;
	hc_ioctl(vcpu->fd, KVM_INTERRUPT, &irq);
}

static long run(struct hc_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct last_fault last_fault = { .addr = -1 };
	uint64_t last_memory_fault_rip = -1;
	long ret;

	for (;;) {
		if (vcpu->interrupt)
			request_interrupt(vcpu);
		ret = hc_ioctl(vcpu->fd, KVM_RUN, NULL);
		if (ret == -EINTR) {
			interrupted(vcpu);
			continue;
		}
		if (ret == -EFAULT) {
			ret = memory_fault(vcpu, &last_memory_fault_rip);
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
				ret = exception(vcpu, &last_fault);
				if (ret)
					return ret;
				continue;
			case HC_PORT_REMAPPED:
				remapped(vcpu);
				continue;
			}
			break;
		case KVM_EXIT_INTR:
			continue;
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			inject_interrupt(vcpu);
			continue;
		case KVM_EXIT_SHUTDOWN:
			return fault(vcpu, HC_FAULT_SHUTDOWN, 0);
		}
		/*
		 * Nothing of ours makes other exits: an instruction KVM could
		 * not run (KVM_EXIT_INTERNAL_ERROR), an access outside every
		 * memslot (MMIO), hlt.
		 */
		return fault(vcpu, HC_FAULT_KVM, run->exit_reason);
	}
}

/*
 * An exit the call ended on (I/O to a port not ours, MMIO) is completed by
 * KVM on the next KVM_RUN, after the next call has set its registers: a
 * string instruction would then resume at its old RIP. Let KVM complete it
 * now, without entering the guest, as the API's immediate_exit allows.
 */
static void complete_exit(struct hc_vcpu *vcpu)
{
	vcpu->run->immediate_exit = 1;
	for (int i = 0; i < 16 && hc_ioctl(vcpu->fd, KVM_RUN, NULL) != -EINTR; i++)
		;
	vcpu->run->immediate_exit = 0;
}

long hc_vm_call(struct hc_vm *vm, long (*fn)(void *), void *arg)
{
	struct hc_vcpu *vcpu, *outer;
	struct kvm_regs *regs;
	long ret, tid;

	if (hc_in_guest())
		return fn(arg);
	vcpu = hc_thread_vcpu(vm, true);
	if (!vcpu)
		return -errno;
	tid = hc_raw_syscall(SYS_gettid, 0, 0, 0, 0, 0, 0);
	if (vcpu->busy == tid)
		return -EBUSY;
	/*
	 * Busy for another task: a vfork() child that shared the thread's
	 * vCPU died inside a call, leaving it in any state (ring 3, say).
	 */
	if (vcpu->busy && hc_vcpu_reset(vcpu))
		return -EIO;
	vcpu->busy = tid;
	vcpu->faulted = false;
	regs = regs_of(vcpu);
	memset(regs, 0, sizeof(*regs));
	regs->rip = (uintptr_t)hc_guest_call;
	/*
	 * Room above fn's frame, as a process's first frame has its arguments
	 * above it: a variadic callee (hc_syscall(), syscall()) reads all six
	 * arguments, the last from its caller's frame, passed or not.
	 */
	regs->rsp = (uintptr_t)vcpu->stack + HC_GUEST_STACK_SIZE - 64;
	regs->rflags = 0x2;
	regs->rdi = (uintptr_t)arg;
	regs->rsi = (uintptr_t)fn;
	set_regs(vcpu);
	/* a handler's hc_vm_call() on another VM comes back to this one */
	outer = hc_running_vcpu;
	hc_running_vcpu = vcpu;
	ret = run(vcpu);
	hc_running_vcpu = outer;
	vcpu->interrupt = false;
	vcpu->run->immediate_exit = 0;
	vcpu->run->request_interrupt_window = 0;
	if (vcpu->faulted && vcpu->fault.vector == HC_FAULT_KVM)
		complete_exit(vcpu);
	/* A vCPU KVM stopped has undefined state; the next call starts anew. */
	if (vcpu->faulted && (vcpu->fault.vector == HC_FAULT_SHUTDOWN ||
			      vcpu->fault.vector == HC_FAULT_KVM))
		hc_vcpu_reset(vcpu);
	vcpu->busy = 0;
	return ret;
}

int hc_vm_last_fault(struct hc_vm *vm, struct hc_fault *fault)
{
	struct hc_vcpu *vcpu = hc_thread_vcpu(vm, false);

	if (!vcpu || !vcpu->faulted)
		return -ENOENT;
	*fault = vcpu->fault;
	return 0;
}
