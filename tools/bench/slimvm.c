// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The peer of issue 17: SlimVM, an out-of-tree module (Dune's descendant,
 * used by gVisor) whose vmcall from guest ring 0 runs a host system call in
 * the VMM thread and re-enters the guest, as KVM_HC_HOST_SYSCALL does. Two
 * mechanisms, run on the same guest code as libhostcall's (guest.c):
 *
 *   slimvm        op_once()'s loop; its syscall instructions land on an entry
 *                 of ours that makes them by SlimVM's vmcall
 *   slimvm_noop   hypercall_loop() with a number past the system call table:
 *                 SlimVM answers -ENOSYS at once (exit, its checks, entry)
 *
 * SlimVM's ABI (tools/peers/, build-slimvm; its ioctls in the notes of issue
 * 17): open /dev/slimvm makes a VM; CREATE_VCPU takes the first registers
 * and system registers (KVM's struct kvm_regs and kvm_sregs, same layout);
 * RUN runs until the guest halts and hands the registers back. There is no
 * SET_REGS, no SET_MSRS and no way to add memory once the guest ran, so:
 *   - the guest is a loop: call mailbox.fn(mailbox.arg), store the result,
 *     hlt; each RUN after the first resumes it past the hlt;
 *   - the guest sets its own syscall MSRs (SlimVM emulates or passes them);
 *   - memory: every 1 GiB window of the address space that the process has
 *     when the VM is made is a region, at a compact guest-physical address
 *     (the labs' CPUs have 40 address bits), and guest page tables map each
 *     window at its own address with 2 MiB pages: GVA == HVA, which the
 *     system calls' pointers need, since SlimVM runs them as the thread.
 *
 * Built-in KVM and SlimVM cannot hold VMX or SVM at once: boot with
 * kvm.enable_virt_at_load=0 (KVM then holds it only while a VM exists), run
 * the KVM mechanisms in one process, then insmod slimvm.ko and run these in
 * another (KVM_CREATE_VM fails from then on: the lab kernels cannot unload
 * modules).
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "hypercall.h"

/* SlimVM's ioctl argument: what RUN and CREATE_VCPU read and write. */
struct slimvm_config {
	struct kvm_regs regs;		/* in at CREATE_VCPU; out after RUN */
	struct kvm_sregs sregs;		/* in at CREATE_VCPU */
	int64_t sid;			/* any id of ours */
	int64_t status;			/* out: why RUN returned */
	uint64_t vcpu;			/* in at RUN */
	uint64_t unused;
	uint64_t nr_regions;		/* in at the first RUN, at most 50 */
	uint64_t regions;		/* a struct slimvm_region array */
};
_Static_assert(sizeof(struct slimvm_config) == 504, "SlimVM's layout: 144 + 312 + 6 * 8");

struct slimvm_region {
	uint64_t hva, gpa, size;
};

#define SLIMVM_RUN		_IOR(233, 1, struct slimvm_config)
#define SLIMVM_CREATE_VCPU	_IO(233, 8)
#define SLIMVM_STATUS_HLT	5

/* A number past the table (and below 2^31, which SlimVM's seccomp check
 * compares as an int): -ENOSYS without running any filter. */
#define SLIMVM_NOOP		1000

#define PAGE			4096UL
#define WINDOW_SHIFT		30
#define MAX_WINDOWS		48	/* SlimVM takes 50 regions */
#define USER_END		0x800000000000UL
#define STACK_SIZE		(1UL << 20)
#define TABLES			(2 + MAX_WINDOWS + 8)	/* PML4, PDPTs, one PD per window */

#define SEL_CODE		0x08
#define SEL_DATA		0x10
#define SEL_TSS			0x18

/* What the guest loop reads: offsets fixed by the assembly below. */
struct mailbox {
	long (*fn)(void *);	/* 0 */
	void *arg;		/* 8 */
	long ret;		/* 16 */
	uint64_t lstar;		/* 24: the syscall entry of the CPU's vendor */
};

/*
 * The guest. slimvm_guest_start runs once, with rbx = the mailbox: the
 * syscall MSRs as libhostcall sets them (STAR's CS, flags masked as Linux
 * does), then the loop. Each RUN returns at the hlt; the next resumes after
 * it. The syscall entries make the call by SlimVM's ABI, which takes it as
 * the syscall instruction left it (rax, rdi, rsi, rdx, r10, r8, r9) and
 * keeps rcx and r11, then return as sysret would, to ring 0; the flags are
 * restored below the red zone of the code that made the call. An exception
 * lands on its vector's stub, which halts for the host to report it.
 */
extern const char slimvm_guest_start[], slimvm_guest_vmcall[], slimvm_guest_vmmcall[];
extern const char slimvm_guest_vectors[], slimvm_guest_vectors_end[];
__asm__(".text\n"
	".balign 16\n"
	"slimvm_guest_start:\n"
	"	mov $0xc0000081, %ecx\n"	/* MSR_STAR */
	"	xor %eax, %eax\n"
	"	mov $0x08, %edx\n"		/* its CS: SEL_CODE */
	"	wrmsr\n"
	"	mov $0xc0000082, %ecx\n"	/* MSR_LSTAR */
	"	mov 24(%rbx), %eax\n"
	"	mov 28(%rbx), %edx\n"
	"	wrmsr\n"
	"	mov $0xc0000084, %ecx\n"	/* MSR_SYSCALL_MASK: TF DF IF AC */
	"	mov $0x47700, %eax\n"
	"	xor %edx, %edx\n"
	"	wrmsr\n"
	"1:	mov 8(%rbx), %rdi\n"
	"	call *(%rbx)\n"
	"	mov %rax, 16(%rbx)\n"
	"	hlt\n"
	"	jmp 1b\n"
	"slimvm_guest_vmcall:\n"
	"	vmcall\n"
	"	jmp 2f\n"
	"slimvm_guest_vmmcall:\n"
	"	vmmcall\n"
	"2:	lea -128(%rsp), %rsp\n"
	"	push %r11\n"
	"	popfq\n"
	"	lea 128(%rsp), %rsp\n"
	"	jmp *%rcx\n"
	".balign 16\n"
	"slimvm_guest_vectors:\n"
	"	.rept 32\n"
	"	hlt\n"
	"	jmp slimvm_guest_vectors\n"
	"	.balign 16\n"
	"	.endr\n"
	"slimvm_guest_vectors_end:\n");

struct slimvm {
	int fd;
	struct slimvm_config conf;
	struct mailbox mailbox;
	struct slimvm_region windows[MAX_WINDOWS];
	int nr_windows;
	uint64_t *tables;	/* TABLES pages */
	int tables_used;
	char *sys;		/* GDT, IDT, TSS */
	char *stack;
	int error;		/* set once the guest failed: it cannot be resumed */
};

/* The guest-physical address of host address @p, or 0 if no window holds it. */
static uint64_t gpa_of(const struct slimvm *vm, const void *p)
{
	uint64_t hva = (uintptr_t)p;

	for (int i = 0; i < vm->nr_windows; i++) {
		if (hva - vm->windows[i].hva < vm->windows[i].size)
			return vm->windows[i].gpa + (hva - vm->windows[i].hva);
	}
	return 0;
}

/* A window for each 1 GiB that /proc/self/maps shows something in. */
static int find_windows(struct slimvm *vm)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	unsigned long start, end;
	char line[512];
	int ret = 0;

	if (!maps)
		return -errno;
	while (!ret && fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2 || start >= USER_END)
			continue;	/* [vsyscall] is the kernel's */
		for (uint64_t w = start >> WINDOW_SHIFT; w <= (end - 1) >> WINDOW_SHIFT; w++) {
			if (gpa_of(vm, (void *)(w << WINDOW_SHIFT)))
				continue;
			if (vm->nr_windows == MAX_WINDOWS) {
				ret = -E2BIG;
				break;
			}
			/* GPA 0 stays unused: gpa_of() answers 0 for "none". */
			vm->windows[vm->nr_windows] = (struct slimvm_region){
				.hva = w << WINDOW_SHIFT,
				.gpa = (uint64_t)(vm->nr_windows + 1) << WINDOW_SHIFT,
				.size = 1UL << WINDOW_SHIFT,
			};
			vm->nr_windows++;
		}
	}
	fclose(maps);
	return ret;
}

/* The table an entry points to, made (zeroed) if absent. */
static uint64_t *next_table(struct slimvm *vm, uint64_t *entry)
{
	uint64_t *table;

	if (*entry)
		return (uint64_t *)((char *)vm->tables + ((*entry & ~0xfffULL) - gpa_of(vm, vm->tables)));
	if (vm->tables_used == TABLES)
		return NULL;
	table = vm->tables + 512 * vm->tables_used++;
	*entry = gpa_of(vm, table) | 0x23;	/* present, writable, accessed */
	return table;
}

/* Page tables mapping each window at its own address; CR3's value. */
static int map_windows(struct slimvm *vm, uint64_t *cr3)
{
	uint64_t *pml4 = vm->tables;

	vm->tables_used = 1;
	for (int i = 0; i < vm->nr_windows; i++) {
		uint64_t hva = vm->windows[i].hva;
		uint64_t *pdpt = next_table(vm, &pml4[hva >> 39 & 511]);
		uint64_t *pd = pdpt ? next_table(vm, &pdpt[hva >> 30 & 511]) : NULL;

		if (!pd)
			return -ENOMEM;
		/* 2 MiB pages: present, writable, accessed, dirty, large. */
		for (int j = 0; j < 512; j++)
			pd[j] = (vm->windows[i].gpa + ((uint64_t)j << 21)) | 0xe3;
	}
	*cr3 = gpa_of(vm, pml4);
	return 0;
}

/* GDT: null, code, data, TSS (two slots); IDT after it; TSS after that. */
#define SYS_IDT		256
#define SYS_TSS		2048
#define TSS_LIMIT	0x67

static void set_descriptors(struct slimvm *vm, struct kvm_sregs *sregs)
{
	uint64_t *gdt = (uint64_t *)vm->sys, *idt = (uint64_t *)(vm->sys + SYS_IDT);
	uint64_t tss = (uintptr_t)vm->sys + SYS_TSS;
	struct kvm_segment data = {
		.limit = 0xffffffff, .selector = SEL_DATA, .type = 3, .present = 1, .s = 1,
		.db = 1, .g = 1,
	};
	unsigned long fs = 0, gs = 0;

	gdt[1] = 0x00af9b000000ffffULL;		/* 64-bit code, ring 0, accessed */
	gdt[2] = 0x00cf93000000ffffULL;		/* flat data, accessed */
	gdt[3] = TSS_LIMIT | (tss & 0xffffff) << 16 | 0x8bULL << 40 | (tss >> 24 & 0xff) << 56;
	gdt[4] = tss >> 32;
	for (int v = 0; v < 32; v++) {
		uint64_t stub = (uintptr_t)slimvm_guest_vectors + 16 * v;

		/* Interrupt gate, present, ring 0, on the current stack. */
		idt[2 * v] = (stub & 0xffff) | (uint64_t)SEL_CODE << 16 | 0x8eULL << 40 |
			     (stub >> 16 & 0xffff) << 48;
		idt[2 * v + 1] = stub >> 32;
	}
	/* The thread's own FS and GS bases: TLS and libc work in the guest. */
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
	/*
	 * SlimVM writes segments as given, without KVM's fix-ups, and its VMX
	 * engine runs the guest without "unrestricted guest": accessed bits
	 * set, a busy 64-bit TSS, an unusable LDT.
	 */
	sregs->cs = (struct kvm_segment){
		.limit = 0xffffffff, .selector = SEL_CODE, .type = 0xb, .present = 1, .s = 1,
		.l = 1, .g = 1,
	};
	sregs->ds = sregs->es = sregs->ss = sregs->fs = sregs->gs = data;
	sregs->fs.base = fs;
	sregs->gs.base = gs;
	sregs->tr = (struct kvm_segment){
		.base = tss, .limit = TSS_LIMIT, .selector = SEL_TSS, .type = 0xb, .present = 1,
	};
	sregs->ldt = (struct kvm_segment){ .type = 2, .unusable = 1 };
	sregs->gdt.base = (uintptr_t)gdt;
	sregs->gdt.limit = 5 * 8 - 1;
	sregs->idt.base = (uintptr_t)idt;
	sregs->idt.limit = 32 * 16 - 1;
}

/* The registers at the first RUN: 64-bit ring 0, paging, SSE as the host's libc. */
static int set_registers(struct slimvm *vm)
{
	struct slimvm_config *conf = &vm->conf;
	uint32_t eax, ebx, ecx, edx;
	uint64_t cr3;
	int ret;

	set_descriptors(vm, &conf->sregs);
	ret = map_windows(vm, &cr3);
	if (ret)
		return ret;
	conf->sregs.cr3 = cr3;
	conf->sregs.cr0 = 0x80010033;		/* PG WP NE ET MP PE */
	conf->sregs.cr4 = 0x620;		/* OSXMMEXCPT OSFXSR PAE */
	__asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
	if (ecx & 1U << 27)			/* Linux enabled XSAVE: so may the guest */
		conf->sregs.cr4 |= 1U << 18;
	conf->sregs.efer = 0xd01;		/* NX LMA LME SCE (SVM forces its own) */
	conf->regs.rip = (uintptr_t)slimvm_guest_start;
	conf->regs.rsp = (uintptr_t)vm->stack + STACK_SIZE;
	conf->regs.rflags = 2;
	conf->regs.rbx = (uintptr_t)&vm->mailbox;
	vm->mailbox.lstar = (uintptr_t)(cpu_is_amd() ? slimvm_guest_vmmcall : slimvm_guest_vmcall);
	return 0;
}

static void *map_populated(size_t len)
{
	/* Written now: no zero page the guest could first read, then write. */
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int slimvm_make(struct slimvm *vm)
{
	int vcpu, ret;

	vm->fd = open("/dev/slimvm", O_RDWR | O_CLOEXEC);
	if (vm->fd < 0) {
		/* Not loaded (or no such device here): the mechanism is left out. */
		return errno == ENOENT || errno == ENXIO || errno == ENODEV ? -ENODEV : -errno;
	}
	vm->stack = map_populated(STACK_SIZE);
	vm->sys = map_populated(PAGE);
	vm->tables = map_populated(TABLES * PAGE);
	if (!vm->stack || !vm->sys || !vm->tables)
		return -ENOMEM;
	/* After the mappings above, so that their windows are in. */
	ret = find_windows(vm);
	if (!ret)
		ret = set_registers(vm);
	if (ret)
		return ret;
	vcpu = ioctl(vm->fd, SLIMVM_CREATE_VCPU, &vm->conf);
	if (vcpu < 0)
		return -errno;
	vm->conf.vcpu = vcpu;
	vm->conf.nr_regions = vm->nr_windows;
	vm->conf.regions = (uintptr_t)vm->windows;
	return 0;
}

/* The VM and its vCPU: made on first use, kept for the process; or -errno. */
static struct slimvm *slimvm_get(int *err)
{
	static struct slimvm vm = { .fd = -1 };
	static bool tried;

	if (!tried) {
		tried = true;
		vm.error = slimvm_make(&vm);
		if (vm.error && vm.error != -ENODEV)
			fprintf(stderr, "hostcall-bench: SlimVM: %s\n", strerror(-vm.error));
	}
	*err = vm.error;
	return vm.error ? NULL : &vm;
}

/* guest_run_fn: fn(arg) in the guest loop, until it halts. */
static long slimvm_run(void *p, long (*fn)(void *), void *arg)
{
	struct slimvm *vm = p;
	struct slimvm_config *conf = &vm->conf;
	uint64_t rip;
	int ret;

	if (vm->error)
		return vm->error;
	vm->mailbox.fn = fn;
	vm->mailbox.arg = arg;
	do {
		/* Some exits leave the last status in place: zero it. */
		conf->status = 0;
		/* A signal ends RUN with EINTR; the guest resumes where it was. */
		ret = ioctl(vm->fd, SLIMVM_RUN, conf);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return vm->error = -errno;	/* conf is not copied back then */
	rip = conf->regs.rip;
	if (conf->status != SLIMVM_STATUS_HLT) {
		fprintf(stderr, "hostcall-bench: SlimVM stopped the guest at %#lx: status %#lx\n",
			(unsigned long)rip, (unsigned long)conf->status);
		return vm->error = -EIO;
	}
	if (rip > (uintptr_t)slimvm_guest_vectors && rip <= (uintptr_t)slimvm_guest_vectors_end) {
		const uint64_t *frame = (const uint64_t *)conf->regs.rsp;

		/* The vector's stub, past its hlt; the CPU's frame on the stack. */
		fprintf(stderr, "hostcall-bench: SlimVM guest exception %lu; stack %#lx %#lx %#lx\n",
			(unsigned long)(rip - 1 - (uintptr_t)slimvm_guest_vectors) / 16,
			(unsigned long)frame[0], (unsigned long)frame[1], (unsigned long)frame[2]);
		return vm->error = -EFAULT;	/* no way back from the stub */
	}
	return vm->mailbox.ret;
}

long mech_slimvm(enum op op, const struct op_env *env, long warmup, long calls)
{
	int err;
	struct slimvm *vm = slimvm_get(&err);

	return vm ? guest_op_timed(slimvm_run, vm, op, env, warmup, calls) : err;
}

long mech_slimvm_noop(enum op op, const struct op_env *env, long warmup, long calls)
{
	int err;
	struct slimvm *vm;

	(void)env;
	if (!ops[op].per_call)
		return -EOPNOTSUPP;
	vm = slimvm_get(&err);
	return vm ? guest_hypercalls_timed(slimvm_run, vm, SLIMVM_NOOP, -ENOSYS, warmup, calls) :
		    err;
}
