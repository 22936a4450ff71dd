/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libhostcall: run the process's own C code in guest ring 0 of a KVM VM that
 * maps the process's address space at the same addresses, with its host
 * system calls made by KVM_HC_HOST_SYSCALL, or by an exit to the calling
 * thread where the kernel does not offer that hypercall.
 *
 * Errors follow the kernel's convention: functions returning a pointer give
 * NULL and set errno; the others return a negative errno value.
 */
#ifndef HOSTCALL_H
#define HOSTCALL_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef HC_API
#define HC_API __attribute__((visibility("default")))
#endif

struct hc_vm;

/* hc_vm_mode(): how the guest's system calls reach the host. */
#define HC_MODE_HYPERCALL	1	/* KVM_HC_HOST_SYSCALL, no exit to user mode */
#define HC_MODE_EXIT		2	/* KVM_RUN returns, the thread makes the call */

/* hc_vm_create() flags. */
#define HC_FORCE_EXIT	(1u << 0)	/* use the exit path even where the hypercall exists */
#define HC_EINTR	(1u << 1)	/* a call a signal handler interrupted fails with -EINTR */

/*
 * libhostcall's fds of a VM, all close-on-exec: /dev/kvm's and the VM's,
 * opened by hc_vm_create(), then each vCPU's (a thread's first
 * hc_vm_call()) at the lowest free fd above the VM's, so that a caller who
 * made the VM while the fds below were taken keeps every one of them apart
 * from its own.
 */
HC_API struct hc_vm *hc_vm_create(unsigned int flags);
HC_API void hc_vm_destroy(struct hc_vm *vm);
HC_API int hc_vm_mode(const struct hc_vm *vm);

/*
 * Run fn(arg) in guest ring 0 on the calling thread's vCPU of @vm (made on
 * first use) and return its result. -EFAULT if the guest faulted (see
 * hc_vm_last_fault()); -EBUSY from a signal handler that interrupted this
 * thread's own hc_vm_call() on @vm; another negative errno if KVM failed.
 * Called in the guest, it calls fn directly.
 */
HC_API long hc_vm_call(struct hc_vm *vm, long (*fn)(void *), void *arg);

/* Why the calling thread's last hc_vm_call() on @vm returned -EFAULT. */
#define HC_FAULT_SHUTDOWN	(-1)	/* the vCPU shut down (triple fault) */
#define HC_FAULT_MEMORY		(-2)	/* KVM could not reach the host memory behind a guest access */
#define HC_FAULT_KVM		(-3)	/* KVM stopped the guest: error_code is the KVM_EXIT_* reason */

struct hc_fault {
	int vector;		/* exception vector 0-31, or HC_FAULT_* */
	unsigned int error_code;	/* as the CPU pushed it; HC_FAULT_KVM: exit reason */
	unsigned long rip;	/* the faulting instruction */
	unsigned long addr;	/* #PF: the address (CR2); else 0 */
};

/* 0 and *fault filled, or -ENOENT if that call did not fault. */
HC_API int hc_vm_last_fault(struct hc_vm *vm, struct hc_fault *fault);

/*
 * A raw system call, each argument passed as a long: the result as the
 * kernel returns it (-errno on failure; errno is not touched). In the guest it goes to the host like every
 * syscall instruction there; outside, it is a plain system call.
 */
HC_API long hc_syscall(long nr, ...);

/* 1 when running in guest ring 0 (inside hc_vm_call()), else 0. */
HC_API int hc_in_guest(void);

/*
 * Guest ring 3. Code in guest ring 0 can run code in ring 3 of the same
 * address space, as a kernel runs a process: hc_user_run() enters ring 3
 * with @regs and returns when ring 3 makes a system call or takes an
 * exception, with @regs as ring 3 left them. Ring 3 reaches only the pages
 * in the ranges given to hc_vm_set_user(), with the host's permissions
 * there (readable, writable, executable: where the CPU has NX; else all are
 * executable); it cannot use I/O ports, privileged instructions, or the
 * hypercall.
 */
struct hc_user_regs {
	unsigned long rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	unsigned long r8, r9, r10, r11, r12, r13, r14, r15;
	unsigned long rip, rflags, fs_base, gs_base;
	/*
	 * Ring 3's x87, SSE and AVX registers (XSAVE layout), which ring 0
	 * code would otherwise clobber: all zero for a new one.
	 */
	unsigned char xstate[4096] __attribute__((aligned(64)));
};

/*
 * Let ring 3 reach [start, start + len) (@user 1) or no longer (0): page
 * aligned, up to 16 ranges, set while the VM has no vCPU yet (before its
 * first hc_vm_call()), else -EBUSY.
 */
HC_API int hc_vm_set_user(struct hc_vm *vm, void *start, unsigned long len, int user);

/*
 * In guest ring 0, after the process changed its mappings in [start, start
 * + len) (munmap, mprotect, mmap over them): the guest's entries there are
 * dropped and this vCPU's TLB flushed, so that the next access takes the
 * host's permissions then. Without it, ring 3 may go on executing a page
 * that is no longer executable (an access lost otherwise faults anyway).
 * Other vCPUs of the VM flush theirs at their next hc_user_run(); one
 * running ring 3 at that moment keeps its entries until its hc_user_run()
 * returns: a caller that needs them gone at once stops those rings 3 with
 * hc_user_interrupt() (a signal to their threads).
 * -EPERM outside guest ring 0; -EINVAL for a range not page aligned, or
 * if this code does not run in a vCPU of @vm.
 */
HC_API int hc_vm_remapped(struct hc_vm *vm, void *start, unsigned long len);

/* hc_user_run() results. */
#define HC_USER_SYSCALL		1	/* rax the number, rip past the syscall instruction */
#define HC_USER_EXCEPTION	2	/* *fault says which; rip and rsp where it happened */
#define HC_USER_INTERRUPT	3	/* hc_user_interrupt(): @regs as ring 3 was stopped */

/*
 * In guest ring 0 only (-EPERM elsewhere); -ENOTSUP without FSGSBASE or
 * XSAVE in the guest CPU; -EINVAL if rip, rsp, fs_base or gs_base is not canonical.
 * On HC_USER_SYSCALL, set rax to the result and call again to resume after
 * the call, as the syscall instruction returns (rcx = rip, r11 = rflags).
 */
HC_API int hc_user_run(struct hc_vm *vm, struct hc_user_regs *regs, struct hc_fault *fault);

/*
 * From a signal handler of a thread inside hc_vm_call() on @vm: ring 3,
 * running or next entered, stops at once, and hc_user_run() returns
 * HC_USER_INTERRUPT, so that ring 0 can act on the signal (a kernel
 * delivers one so). A request the call ends without using is dropped.
 * Async-signal-safe. -EINVAL if the thread is not in hc_vm_call() on @vm.
 */
HC_API int hc_user_interrupt(struct hc_vm *vm);

#ifdef __cplusplus
}
#endif

#endif /* HOSTCALL_H */
