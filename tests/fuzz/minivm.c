// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Small VMs for hostcall-fuzz. The guest needs nothing from the VMM process
 * but its memslot: its code walks a list of struct addresses in guest
 * memory, makes the hypercall for each and stores the status there, so that
 * a fuzzed call that unmaps, protects or rewrites any other memory of the
 * process cannot stop it, and the parent, which shares the memslot's
 * memory, sees how far it got even if the process dies.
 *
 * vCPU 0 runs in 64-bit ring 0 with no IDT (an exception would shut it
 * down, and be reported); vCPU 1, in a VM with the capability, runs in
 * 64-bit ring 3 with IOPL 3, on the hypercall and an OUT, to make a
 * hypercall from CPL 3 with any other register value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "minivm.h"

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

/*
 * The ring-0 loop. In: rsi the first entry, rcx the count (not 0), rdi the
 * status array, rbp the progress counter. vmcall is patched to vmmcall on
 * AMD, where KVM would otherwise emulate it. At the OUT after an op, r11
 * holds its entry. (No rdtsc to time each call: in the AMD lab it costs as
 * much as the hypercall.)
 */
extern const uint8_t guest_loop[], guest_loop_hypercall[], guest_loop_end[];
extern const uint8_t guest_ring3[], guest_ring3_hypercall[], guest_ring3_end[];
__asm__(".pushsection .rodata\n"
	"guest_loop:\n"
	"1:	mov (%rsi), %rbx\n"
	"	mov 8(%rsi), %rdx\n"
	"	mov $13, %eax\n"		/* KVM_HC_HOST_SYSCALL */
	"guest_loop_hypercall:\n"
	"	vmcall\n"
	"	mov %rax, %r10\n"
	"	mov 8(%rsi), %r11\n"
	"	mov %r11d, %r8d\n"
	"	mov %r10, (%rdi,%r8,8)\n"
	"	incq (%rbp)\n"
	"	bt $32, %r11\n"			/* ENTRY_EXIT_AFTER */
	"	jnc 2f\n"
	"	out %al, $0x11\n"		/* PORT_AFTER */
	"2:	add $16, %rsi\n"
	"	dec %rcx\n"
	"	jnz 1b\n"
	"	out %al, $0x10\n"		/* PORT_DONE */
	"	hlt\n"
	"guest_loop_end:\n"
	"guest_ring3:\n"
	"guest_ring3_hypercall:\n"
	"	vmcall\n"
	"	out %al, $0x10\n"
	"guest_ring3_end:\n"
	".popsection\n");

static const uint8_t vmmcall[3] = { 0x0f, 0x01, 0xd9 };

int minivm_host_init(struct minivm_host *h, int kvm_fd, bool amd)
{
	int n = 256;

	h->kvm_fd = kvm_fd;
	h->amd = amd;
	h->run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	h->cpuid = calloc(1, sizeof(*h->cpuid) + n * sizeof(h->cpuid->entries[0]));
	if (h->run_size <= 0 || !h->cpuid)
		return -1;
	h->cpuid->nent = n;
	return ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, h->cpuid) < 0 ? -1 : 0;
}

static void copy_code(uint8_t *to, const uint8_t *start, const uint8_t *hypercall,
		      const uint8_t *end, bool amd)
{
	memcpy(to, start, end - start);
	if (amd)
		memcpy(to + (hypercall - start), vmmcall, sizeof(vmmcall));
}

void minivm_write_guest(uint8_t *mem, bool amd)
{
	uint64_t *tables = (uint64_t *)mem;

	/* GVA 0-2 MiB maps GPA 0-2 MiB, user and writable; only G_SIZE of it is memory. */
	memset(mem, 0, G_CODE);
	tables[G_PML4 / 8] = G_PDPT | PTE_P | PTE_W | PTE_U;
	tables[G_PDPT / 8] = G_PD | PTE_P | PTE_W | PTE_U;
	tables[G_PD / 8] = 0 | PTE_P | PTE_W | PTE_U | PTE_PS;
	copy_code(mem + G_CODE, guest_loop, guest_loop_hypercall, guest_loop_end, amd);
	copy_code(mem + G_RING3, guest_ring3, guest_ring3_hypercall, guest_ring3_end, amd);
}

/* A flat 64-bit segment of privilege @dpl: code (long mode) or data. */
static struct kvm_segment segment(bool code, int dpl)
{
	return (struct kvm_segment){
		.limit = 0xffffffff,
		.selector = code ? (dpl ? 0x1b : 0x08) : (dpl ? 0x23 : 0x10),
		.type = code ? 0xb : 0x3, .present = 1, .dpl = dpl, .s = 1, .l = code,
		.db = !code, .g = 1,
	};
}

static int set_mode(int vcpu_fd, int dpl)
{
	struct kvm_sregs sregs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.cs = segment(true, dpl);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = segment(false, dpl);
	/* A busy 64-bit TSS and no LDT, as VMX's entry checks want; never used. */
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .selector = 0x28, .type = 0xb, .present = 1 };
	sregs.ldt = (struct kvm_segment){ .unusable = 1 };
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	sregs.cr3 = G_PML4;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	return ioctl(vcpu_fd, KVM_SET_SREGS, &sregs);
}

static int add_vcpu(struct minivm *m, const struct minivm_host *h, int id, int dpl)
{
	m->vcpu_fd[id] = ioctl(m->vm_fd, KVM_CREATE_VCPU, id);
	if (m->vcpu_fd[id] < 0 || ioctl(m->vcpu_fd[id], KVM_SET_CPUID2, h->cpuid) < 0 ||
	    set_mode(m->vcpu_fd[id], dpl))
		return -1;
	m->run[id] = mmap(NULL, h->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, m->vcpu_fd[id], 0);
	return m->run[id] == MAP_FAILED ? -1 : 0;
}

int minivm_create(struct minivm *m, const struct minivm_host *h, uint8_t *mem,
		  bool capable, bool ring3)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_HOST_SYSCALL };
	struct kvm_userspace_memory_region slot = {
		.memory_size = G_SIZE, .userspace_addr = (uintptr_t)mem,
	};

	*m = (struct minivm){ .vm_fd = -1, .vcpu_fd = { -1, -1 } };
	m->vm_fd = ioctl(h->kvm_fd, KVM_CREATE_VM, 0);
	if (m->vm_fd < 0 || (capable && ioctl(m->vm_fd, KVM_ENABLE_CAP, &cap) < 0) ||
	    ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return -1;
	if (add_vcpu(m, h, 0, 0) || (ring3 && add_vcpu(m, h, 1, 3)))
		return -1;
	return 0;
}

int minivm_start_loop(struct minivm *m, int first, int count)
{
	struct kvm_regs regs = {
		.rip = G_CODE, .rflags = 0x2, .rsi = G_LIST + 16 * (uint64_t)first,
		.rcx = count, .rdi = G_STATUS, .rbp = G_PROGRESS,
	};

	return ioctl(m->vcpu_fd[0], KVM_SET_REGS, &regs);
}

long minivm_ring3_hypercall(struct minivm *m, struct kvm_regs *regs, long *status)
{
	regs->rip = G_RING3;
	regs->rflags = 0x2 | RFLAGS_IOPL3;
	regs->rax = 13;		/* KVM_HC_HOST_SYSCALL */
	if (ioctl(m->vcpu_fd[1], KVM_SET_REGS, regs) < 0)
		return -errno;
	while (ioctl(m->vcpu_fd[1], KVM_RUN, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (m->run[1]->exit_reason != KVM_EXIT_IO || m->run[1]->io.port != PORT_DONE)
		return 1;
	if (ioctl(m->vcpu_fd[1], KVM_GET_REGS, regs) < 0)
		return -errno;
	*status = (long)regs->rax;
	return 0;
}

void minivm_destroy(struct minivm *m)
{
	for (int i = 0; i < 2; i++) {
		if (m->vcpu_fd[i] >= 0)
			close(m->vcpu_fd[i]);
	}
	if (m->vm_fd >= 0)
		close(m->vm_fd);
}
