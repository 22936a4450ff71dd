// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A vCPU in 64-bit ring 0 that can run the process's compiled code: flat
 * segments, paging through paging.c's tables, the FPU and vector state the
 * host's libc was built to use, FS and GS bases of the owning thread (TLS),
 * the syscall instruction enabled with entry.S as its target, and an IDT
 * whose stubs run on a stack of their own (IST), which is always mapped.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define CR0_PE	(1ULL << 0)
#define CR0_MP	(1ULL << 1)
#define CR0_ET	(1ULL << 4)
#define CR0_NE	(1ULL << 5)
#define CR0_WP	(1ULL << 16)	/* ring 0 honours read-only entries: faults tell */
#define CR0_PG	(1ULL << 31)
#define CR3_PWT	(1ULL << 3)
#define CR4_PAE	(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define CR4_FSGSBASE	(1ULL << 16)
#define CR4_OSXSAVE	(1ULL << 18)
#define EFER_SCE	(1ULL << 0)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define EFER_NXE	(1ULL << 11)

#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
/* TF, DF, IF, AC cleared on syscall, as Linux does. */
#define SYSCALL_MASK		0x47700

#define TSS_IST1	0x24
#define TSS_LIMIT	0x67
#define TSS_AREA_SIZE	(5 * HC_PAGE_SIZE)	/* the TSS page, then 16 KiB of IST stack */

static const uint64_t gdt[] = {
	0,
	0x00af9b000000ffffULL,	/* HC_SEL_CODE: 64-bit, ring 0, accessed */
	0x00cf93000000ffffULL,	/* HC_SEL_DATA: flat, writable, accessed */
	0, 0,			/* HC_SEL_TSS: loaded from the registers, never read */
	0,
	0x00cff3000000ffffULL,	/* HC_SEL_USER_DATA: the same, ring 3 */
	0x00affb000000ffffULL,	/* HC_SEL_USER_CODE */
};

static struct kvm_cpuid_entry2 *cpuid_entry(struct kvm_cpuid2 *cpuid, uint32_t function)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == function && cpuid->entries[i].index == 0)
			return &cpuid->entries[i];
	}
	return NULL;
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

/*
 * What every vCPU of @vm shares: CPUID, vendor, address width, FSGSBASE,
 * NX, XCR0, GDT, IDT.
 */
int hc_cpu_init_vm(struct hc_vm *vm)
{
	struct kvm_cpuid_entry2 *leaf;
	uint64_t *idt;
	int nent = 64;

	for (;;) {
		vm->cpuid = calloc(1, sizeof(*vm->cpuid) + nent * sizeof(vm->cpuid->entries[0]));
		if (!vm->cpuid)
			return -ENOMEM;
		vm->cpuid->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) == 0)
			break;
		free(vm->cpuid);
		vm->cpuid = NULL;
		if (errno != E2BIG)
			return -errno;
		nent *= 2;
	}
	leaf = cpuid_entry(vm->cpuid, 0);
	/* "AuthenticAMD": KVM there only handles vmmcall without emulation. */
	vm->amd = leaf && leaf->ebx == 0x68747541 && leaf->edx == 0x69746e65 &&
		  leaf->ecx == 0x444d4163;
	leaf = cpuid_entry(vm->cpuid, 0x80000008);
	vm->phys_bits = leaf ? leaf->eax & 0xff : 36;
	leaf = cpuid_entry(vm->cpuid, 7);
	vm->fsgsbase = leaf && (leaf->ebx & 1);
	leaf = cpuid_entry(vm->cpuid, 0x80000001);
	vm->nx = leaf && (leaf->edx & (1U << 20));
	leaf = cpuid_entry(vm->cpuid, 1);
	if (leaf && (leaf->ecx & (1U << 26))) {	/* XSAVE, so Linux enabled it for us */
		leaf = cpuid_entry(vm->cpuid, 0xd);
		vm->xcr0 = leaf ? ((uint64_t)leaf->edx << 32 | leaf->eax) & xgetbv0() : 0;
	}

	vm->sys = mmap(NULL, HC_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (vm->sys == MAP_FAILED) {
		vm->sys = NULL;
		return -errno;
	}
	memcpy(vm->sys + HC_SYS_GDT, gdt, sizeof(gdt));
	idt = (uint64_t *)(vm->sys + HC_SYS_IDT);
	for (int v = 0; v < HC_IDT_VECTORS; v++) {
		uint64_t stub = (uintptr_t)hc_guest_vector0 + v * HC_VECTOR_STUB_SIZE;

		/*
		 * Interrupt gate, present, IST 1; ring 0, but for int3, which
		 * ring 3 may execute (its #BP, as Linux's gate allows it).
		 */
		uint64_t dpl = v == 3 ? 3 : 0;

		idt[2 * v] = (stub & 0xffff) | (uint64_t)HC_SEL_CODE << 16 | 1ULL << 32 |
			     (0x8eULL | dpl << 5) << 40 | (stub >> 16 & 0xffff) << 48;
		idt[2 * v + 1] = stub >> 32;
	}
	return hc_paging_pin(vm, vm->sys, HC_PAGE_SIZE, 0);
}

static struct kvm_segment segment(uint16_t selector, uint8_t type, uint64_t base)
{
	return (struct kvm_segment){
		.base = base, .limit = 0xffffffff, .selector = selector, .type = type,
		.present = 1, .s = 1, .l = selector == HC_SEL_CODE,
		.db = selector != HC_SEL_CODE, .g = 1,
	};
}

/* The thread's FS or GS base; arch_prctl() is what any libc uses to set them. */
static uint64_t thread_base(int which)
{
	unsigned long base = 0;

	syscall(SYS_arch_prctl, which, &base);
	return base;
}

static int set_sregs(struct hc_vcpu *vcpu)
{
	struct hc_vm *vm = vcpu->vm;
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = segment(HC_SEL_CODE, 0xb, 0);
	sregs.ds = sregs.es = sregs.ss = segment(HC_SEL_DATA, 0x3, 0);
	sregs.fs = segment(HC_SEL_DATA, 0x3, thread_base(ARCH_GET_FS));
	sregs.gs = segment(HC_SEL_DATA, 0x3, thread_base(ARCH_GET_GS));
	sregs.tr = (struct kvm_segment){
		.base = (uintptr_t)vcpu->tss, .limit = TSS_LIMIT, .selector = HC_SEL_TSS,
		.type = 0xb, .present = 1,	/* busy 64-bit TSS */
	};
	sregs.ldt = (struct kvm_segment){ .type = 0x2, .unusable = 1 };
	sregs.gdt.base = (uintptr_t)vm->sys + HC_SYS_GDT;
	sregs.gdt.limit = sizeof(gdt) - 1;
	sregs.idt.base = (uintptr_t)vm->sys + HC_SYS_IDT;
	sregs.idt.limit = HC_IDT_VECTORS * 16 - 1;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = 0;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (vm->xcr0)
		sregs.cr4 |= CR4_OSXSAVE;
	if (vm->fsgsbase)	/* the thread may read its bases itself */
		sregs.cr4 |= CR4_FSGSBASE;
	sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | (vm->nx ? EFER_NXE : 0);
	return ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 ? -errno : 0;
}

static int set_msrs(struct hc_vcpu *vcpu)
{
	struct hc_vm *vm = vcpu->vm;
	const char *entry = vm->mode == HC_MODE_EXIT ? hc_guest_syscall_exit :
			    vm->amd ? hc_guest_syscall_vmmcall : hc_guest_syscall_vmcall;
	struct {
		struct kvm_msrs head;
		struct kvm_msr_entry entries[4];
	} msrs = {
		.head.nmsrs = 4,
		.entries = {
			{ .index = MSR_STAR, .data = (uint64_t)HC_SEL_CODE << 32 },
			{ .index = MSR_LSTAR, .data = (uintptr_t)entry },
			{ .index = MSR_SYSCALL_MASK, .data = SYSCALL_MASK },
			{ .index = MSR_KERNEL_GS_BASE, .data = 0 },
		},
	};
	int ret = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);

	if (ret < 0)
		return -errno;
	return ret == 4 ? 0 : -EINVAL;
}

static int set_xcr0(struct hc_vcpu *vcpu)
{
	struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs[0] = { .xcr = 0, .value = vcpu->vm->xcr0 } };

	if (vcpu->vm->xcr0 && ioctl(vcpu->fd, KVM_SET_XCRS, &xcrs) < 0)
		return -errno;
	return 0;
}

/*
 * The guest's TSC is the host's, so that the vDSO's clock_gettime() gives the
 * host's time in the guest too. Kernels before 5.16 lack the attribute.
 */
static int set_tsc_offset(struct hc_vcpu *vcpu)
{
	uint64_t zero = 0;
	struct kvm_device_attr tsc_offset = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uintptr_t)&zero,
	};

	if (ioctl(vcpu->fd, KVM_SET_DEVICE_ATTR, &tsc_offset) < 0 &&
	    errno != ENXIO && errno != ENOTTY)
		return -errno;
	return 0;
}

/* Registers for a new call; also after a shutdown, which leaves them undefined. */
int hc_vcpu_reset(struct hc_vcpu *vcpu)
{
	int ret = set_sregs(vcpu);

	if (!ret)
		ret = set_msrs(vcpu);
	if (!ret)
		ret = set_xcr0(vcpu);
	if (!ret)
		ret = set_tsc_offset(vcpu);
	return ret;
}

int hc_vcpu_set_segment_base(struct hc_vcpu *vcpu, bool fs, uint64_t base)
{
	struct kvm_sregs sregs;
	long ret = hc_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs);

	if (ret < 0)
		return ret;
	if (fs)
		sregs.fs.base = base;
	else
		sregs.gs.base = base;
	return hc_ioctl(vcpu->fd, KVM_SET_SREGS, &sregs);
}

/* KVM flushes the guest's TLB when CR3 changes: toggle a cache bit of it. */
int hc_vcpu_flush_tlb(struct hc_vcpu *vcpu)
{
	struct kvm_sregs sregs;
	long ret = hc_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs);

	if (ret < 0)
		return ret;
	sregs.cr3 ^= CR3_PWT;
	return hc_ioctl(vcpu->fd, KVM_SET_SREGS, &sregs);
}

void hc_vcpu_free(struct hc_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->run_size);
	if (vcpu->stack)
		munmap(vcpu->stack, HC_GUEST_STACK_SIZE);
	if (vcpu->tss)
		munmap(vcpu->tss, TSS_AREA_SIZE);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu);
}

/*
 * A new vCPU's fd, moved to the lowest free fd above the VM's. KVM gives
 * the lowest free one, which for a thread made long after the VM is among
 * the program's own fds; a caller that keeps a range of fds apart for the
 * VM (hostcall-run, above the program's) finds its vCPUs there instead.
 */
static int vcpu_fd(struct hc_vm *vm, int id)
{
	int fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id), moved, err;

	/* the lowest free fd, above the VM's: the lowest free there too */
	if (fd < 0 || fd > vm->vm_fd)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, vm->vm_fd);
	err = errno;
	close(fd);
	errno = err;
	return moved;
}

/* A vCPU for the calling thread. */
struct hc_vcpu *hc_vcpu_create(struct hc_vm *vm)
{
	struct hc_vcpu *vcpu = calloc(1, sizeof(*vcpu));
	int ret = -ENOMEM;

	if (!vcpu)
		goto fail;
	vcpu->vm = vm;
	vcpu->fd = vcpu_fd(vm, __atomic_fetch_add(&vm->nr_vcpus, 1, __ATOMIC_RELAXED));
	if (vcpu->fd < 0 || ioctl(vcpu->fd, KVM_SET_CPUID2, vm->cpuid) < 0)
		goto fail_errno;
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	vcpu->stack = mmap(NULL, HC_GUEST_STACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	vcpu->tss = mmap(NULL, TSS_AREA_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vcpu->run == MAP_FAILED)
		vcpu->run = NULL;
	if (vcpu->stack == MAP_FAILED)
		vcpu->stack = NULL;
	if (vcpu->tss == MAP_FAILED)
		vcpu->tss = NULL;
	if (!vcpu->run || !vcpu->stack || !vcpu->tss ||
	    mprotect(vcpu->stack, HC_PAGE_SIZE, PROT_NONE) < 0)
		goto fail_errno;
	*(uint64_t *)(vcpu->tss + TSS_IST1) = (uintptr_t)vcpu->tss + TSS_AREA_SIZE;
	*(uint16_t *)(vcpu->tss + 0x66) = TSS_LIMIT + 1;	/* no I/O bitmap */
	ret = hc_paging_pin(vm, vcpu->tss, TSS_AREA_SIZE, PROT_WRITE);
	if (!ret)
		ret = hc_vcpu_reset(vcpu);
	if (ret)
		goto fail;
	vcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	return vcpu;

fail_errno:
	ret = -errno;
fail:
	if (vcpu)
		hc_vcpu_free(vcpu);
	errno = -ret;
	return NULL;
}
