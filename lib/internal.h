/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libhostcall's own structures, shared by its files:
 *   vm.c       hc_vm_create/destroy: /dev/kvm, the capability, the mode
 *   paging.c   the guest page tables (GVA == HVA) and their memslots
 *   cpu.c      a vCPU in 64-bit ring 0: descriptors, MSRs, FPU state
 *   run.c      hc_vm_call: the KVM_RUN loop, faults, signals
 *   user.c     hc_user_run: guest ring 3
 *   thread.c   which vCPU a thread runs on
 *   syscall.c  the host side of the exit path; hc_syscall, hc_in_guest
 *   entry.S    the guest side
 */
#ifndef HOSTCALL_INTERNAL_H
#define HOSTCALL_INTERNAL_H

#include <asm/ptrace.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostcall.h"
#include "hostcall-kvm.h"
#include "guest.h"

#define HC_PAGE_SIZE	4096UL
/* Each 1 GiB of the address space that the guest touches is one memslot. */
#define HC_WINDOW_SHIFT	30
#define HC_WINDOW_SIZE	(1UL << HC_WINDOW_SHIFT)
#define HC_MAX_WINDOWS	1024
/* The kernel's TASK_SIZE_MAX with 4-level paging: the end of user space. */
#define HC_USER_END	0x7ffffffff000UL

#define HC_GUEST_STACK_SIZE	(8UL << 20)

struct hc_window {
	uint64_t hva, gpa;
};

#define HC_MAX_USER_RANGES	16

struct hc_user_range {
	uint64_t start, end;
};

struct hc_vcpu {
	struct hc_vm *vm;
	struct hc_vcpu *next;
	int fd;
	uint64_t owner;		/* of the thread that runs it; 0: free */
	/*
	 * The task in hc_vm_call(), whose handler must not re-enter; 0 if
	 * none. A task id, not a flag: a vfork() child sharing the thread's
	 * memory may use the vCPU while the thread waits, and die in it.
	 */
	long busy;
	bool stale;		/* page tables dropped after KVM's -EFAULT, not yet resolved */
	bool faulted;		/* the last call ended with -EFAULT; fault is why */
	unsigned long flushed;	/* vm->forgets when its TLB was last flushed: user.c */
	/* hc_user_interrupt() asked, from a signal handler: run.c injects it */
	volatile bool interrupt;
	struct kvm_run *run;
	char *stack;		/* fn's stack; its lowest page is a guard */
	char *tss;		/* the TSS page, then the IST stack */
	struct hc_fault fault;
};

struct hc_vm {
	uint64_t id;		/* unique in the process: per-thread caches key on it */
	struct hc_vm *next;	/* in thread.c's list of VMs */
	int kvm_fd, vm_fd;
	int mode;
	unsigned int flags;
	bool amd;
	bool fsgsbase;		/* the guest may use rdfsbase and the like: hc_user_run() does */
	bool nx;		/* EFER.NXE: pages the host cannot execute are not executable */
	unsigned long forgets;	/* forgets done, each counted once its entries are gone: paging.c */
	size_t run_size;
	unsigned int phys_bits;
	uint64_t xcr0;
	struct kvm_cpuid2 *cpuid;

	pthread_mutex_t lock;	/* the vCPU list, the page tables, the memslots */
	struct hc_vcpu *vcpus;
	int nr_vcpus;

	/* Page tables live in their own memslot at GPA 0; tables are never freed. */
	uint64_t *tables;
	size_t tables_used, tables_max;
	struct hc_window windows[HC_MAX_WINDOWS];
	int nr_windows;
	struct hc_user_range user[HC_MAX_USER_RANGES];	/* what ring 3 reaches */
	int nr_user;

	char *sys;		/* GDT, then IDT: shared by the vCPUs */
};

#define HC_SYS_GDT	0
#define HC_SYS_IDT	64

/* paging.c */
int hc_paging_init(struct hc_vm *vm);
void hc_paging_free(struct hc_vm *vm);
int hc_paging_pin(struct hc_vm *vm, const void *start, size_t len, int prot);
void hc_paging_forget_range(struct hc_vm *vm, uint64_t start, uint64_t end);
int hc_paging_fault(struct hc_vm *vm, uint64_t addr, bool write, bool fetch, bool user);
void hc_paging_forget(struct hc_vm *vm);

/* cpu.c */
int hc_cpu_init_vm(struct hc_vm *vm);
struct hc_vcpu *hc_vcpu_create(struct hc_vm *vm);
void hc_vcpu_free(struct hc_vcpu *vcpu);
int hc_vcpu_reset(struct hc_vcpu *vcpu);
int hc_vcpu_set_segment_base(struct hc_vcpu *vcpu, bool fs, uint64_t base);
int hc_vcpu_flush_tlb(struct hc_vcpu *vcpu);

/*
 * run.c: the vCPU the thread's hc_vm_call() runs on, for hc_user_interrupt()
 * and for ring 0 (user.c), which runs with the thread's TLS.
 */
extern __thread struct hc_vcpu *hc_running_vcpu;

/* thread.c */
struct hc_vcpu *hc_thread_vcpu(struct hc_vm *vm, bool make);
void hc_thread_add_vm(struct hc_vm *vm);
void hc_thread_remove_vm(struct hc_vm *vm);

/* syscall.c */
void hc_serve_syscall(struct hc_vcpu *vcpu, struct pt_regs *regs);

/*
 * System calls of the host side while guest code is suspended on the same
 * thread: they must not touch errno (the guest's errno is the same variable)
 * nor take libc locks (the guest may hold them, in malloc or stdio).
 */
static inline long hc_raw_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long hc_ioctl(int fd, unsigned long request, const void *arg)
{
	return hc_raw_syscall(16 /* ioctl */, fd, (long)request, (long)arg, 0, 0, 0);
}

#endif /* HOSTCALL_INTERNAL_H */
