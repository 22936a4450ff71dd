// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-fuzz's hypercalls from guest ring 3. KVM answers a hypercall
 * made at CPL 3 with -KVM_EPERM before it looks at anything else, so these
 * must never run a call nor touch the struct, whatever the registers hold.
 * libhostcall runs guest code in ring 0 only; these come from a small VM of
 * their own, with the capability enabled, whose vCPU starts in 64-bit ring
 * 3 (CS and SS of DPL 3) on two instructions: the hypercall, then an OUT,
 * allowed by IOPL 3, whose exit ends KVM_RUN with the status in rax. There
 * is no IDT: an exception would shut the vCPU down, and be reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "hypercall.h"
#include "ring3.h"

#ifndef KVM_CAP_X86_HOST_SYSCALL
#define KVM_CAP_X86_HOST_SYSCALL	239
#endif

/* Guest-physical layout, one memslot: the page tables, then the code. */
#define PML4		0x0000
#define PDPT		0x1000
#define PD		0x2000
#define CODE		0x3000
#define MEM_SIZE	0x4000
#define EXIT_PORT	0x10

#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_U		(1ULL << 2)
#define PTE_PS		(1ULL << 7)

#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define RFLAGS_IOPL3	(3ULL << 12)

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	int n = 256;
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));

	if (!cpuid)
		return NULL;
	cpuid->nent = n;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		free(cpuid);
		return NULL;
	}
	return cpuid;
}

/* A flat 64-bit ring-3 segment: code (long mode) or data. */
static struct kvm_segment user_segment(bool code)
{
	return (struct kvm_segment){
		.limit = 0xffffffff, .selector = code ? 0x1b : 0x23, .type = code ? 0xb : 0x3,
		.present = 1, .dpl = 3, .s = 1, .l = code, .db = !code, .g = 1,
	};
}

static int set_ring3(int vcpu_fd)
{
	struct kvm_sregs sregs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.cs = user_segment(true);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = user_segment(false);
	/* A busy 64-bit TSS and no LDT, as VMX's entry checks want; never used. */
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .selector = 0x28, .type = 0xb, .present = 1 };
	sregs.ldt = (struct kvm_segment){ .unusable = 1 };
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	sregs.cr3 = PML4;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	return ioctl(vcpu_fd, KVM_SET_SREGS, &sregs);
}

int ring3_init(struct ring3 *r, bool amd)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_HOST_SYSCALL };
	struct kvm_userspace_memory_region slot = { .memory_size = MEM_SIZE };
	static const uint8_t vmcall[] = { 0x0f, 0x01, 0xc1 }, vmmcall[] = { 0x0f, 0x01, 0xd9 };
	uint64_t *tables;
	struct kvm_cpuid2 *cpuid;
	int kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	long run_size;

	if (kvm_fd < 0)
		return -1;
	r->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	r->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	cpuid = supported_cpuid(kvm_fd);
	close(kvm_fd);
	if (r->vm_fd < 0 || r->mem == MAP_FAILED || run_size <= 0 || !cpuid ||
	    ioctl(r->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return -1;

	/* GVA 0-2 MiB maps GPA 0-2 MiB, user and writable; only MEM_SIZE of it is memory. */
	tables = (uint64_t *)r->mem;
	tables[PML4 / 8] = PDPT | PTE_P | PTE_W | PTE_U;
	tables[PDPT / 8] = PD | PTE_P | PTE_W | PTE_U;
	tables[PD / 8] = 0 | PTE_P | PTE_W | PTE_U | PTE_PS;
	memcpy(r->mem + CODE, amd ? vmmcall : vmcall, 3);
	memcpy(r->mem + CODE + 3, (uint8_t[]){ 0xe6, EXIT_PORT }, 2);	/* out %al, $EXIT_PORT */
	slot.userspace_addr = (uintptr_t)r->mem;
	if (ioctl(r->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return -1;

	r->vcpu_fd = ioctl(r->vm_fd, KVM_CREATE_VCPU, 0);
	if (r->vcpu_fd < 0 || ioctl(r->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0 || set_ring3(r->vcpu_fd))
		return -1;
	free(cpuid);
	r->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->vcpu_fd, 0);
	return r->run == MAP_FAILED ? -1 : 0;
}

long ring3_hypercall(struct ring3 *r, struct kvm_regs *regs, long *status)
{
	regs->rip = CODE;
	regs->rflags = 0x2 | RFLAGS_IOPL3;
	regs->rax = KVM_HC_HOST_SYSCALL;
	if (ioctl(r->vcpu_fd, KVM_SET_REGS, regs) < 0)
		return -errno;
	while (ioctl(r->vcpu_fd, KVM_RUN, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (r->run->exit_reason != KVM_EXIT_IO || r->run->io.port != EXIT_PORT)
		return 1;
	if (ioctl(r->vcpu_fd, KVM_GET_REGS, regs) < 0)
		return -errno;
	*status = (long)regs->rax;
	return 0;
}
