// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-demo: the same host system calls made three ways, side by side.
 *
 *   native     the program makes them itself;
 *   exit       a guest in 64-bit ring 0 asks with an OUT: KVM_RUN returns,
 *              the VMM thread makes the call and enters the guest again with
 *              the result in rax (how gVisor-like VMMs do it today);
 *   hypercall  the guest executes KVM_HC_HOST_SYSCALL and KVM makes the call
 *              as the VMM thread, without returning to user mode.
 *
 * The guest never touches the VMM's memory. The VMM loads the guest's
 * registers before each request as guest code would; the pointers in them
 * are the VMM's own addresses, which is what both paths hand to the host.
 */
#include <asm/ptrace.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hostcall-kvm.h"


/* One memslot at GPA 0: code, then the page tables mapping 2 MiB at 0. */
#define MEM_SIZE	0x4000
#define PML4		0x1000
#define PDPT		0x2000
#define PD		0x3000
#define PTE_PRESENT_RW	0x3
#define PDE_2M		0x80

#define DONE_PORT	0x10
#define REQUEST_PORT	0x11
#define HC_STUB		0x0	/* vmcall or vmmcall; out DONE_PORT, al */
#define EXIT_STUB	0x5	/* out REQUEST_PORT, al; out DONE_PORT, al */
#define VMMCALL_BYTE	0x2	/* 0f 01 c1 is vmcall, 0f 01 d9 vmmcall */
#define CELL		72	/* "0 (" nodename ")" */

static const uint8_t guest_code[] = {
	0x0f, 0x01, 0xc1, 0xe6, DONE_PORT,
	0xe6, REQUEST_PORT, 0xe6, DONE_PORT,
};

enum { NATIVE, EXIT, HYPERCALL, METHODS };
enum { GETPID, GETPPID, UNAME, WRITE, CLOSE, CALLS };

static const char *const method_name[METHODS] = { "native", "exit", "hypercall" };
static const char *const call_name[CALLS] = {
	"getpid", "getppid", "uname", "write", "close(-1)",
};
static const long call_nr[CALLS] = {
	SYS_getpid, SYS_getppid, SYS_uname, SYS_write, SYS_close,
};

struct call {
	unsigned long nr, arg[6];
};

static int vcpu;
static struct kvm_run *run;
/* The VMM memory that the calls' pointers name, read after the calls return. */
static struct pt_regs hc_regs;
static struct utsname uts;
static char line[32];

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "hostcall-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct call make_call(int call, int method)
{
	struct call c = { .nr = call_nr[call] };

	switch (call) {
	case UNAME:
		/* Cleared so that a call that did not fill it shows nothing stale. */
		memset(&uts, 0, sizeof(uts));
		c.arg[0] = (uintptr_t)&uts;
		break;
	case WRITE:
		c.arg[0] = 1;
		c.arg[1] = (uintptr_t)line;
		c.arg[2] = snprintf(line, sizeof(line), "%9s: hello\n", method_name[method]);
		break;
	case CLOSE:
		c.arg[0] = -1;
		break;
	}
	return c;
}

/* The result as the syscall instruction returns it, -errno on failure. */
static long host_syscall(const struct call *c)
{
	long ret = syscall(c->nr, c->arg[0], c->arg[1], c->arg[2],
			   c->arg[3], c->arg[4], c->arg[5]);

	return ret == -1 ? -errno : ret;
}

/* Run the guest from @regs to its next exit, an OUT to @port; @regs at it. */
static void run_to(int port, struct kvm_regs *regs)
{
	if (ioctl(vcpu, KVM_SET_REGS, regs) < 0)
		die("KVM_SET_REGS");
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		die("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.port != port) {
		fprintf(stderr, "hostcall-demo: exit reason %u, expected OUT to port %#x\n",
			run->exit_reason, port);
		exit(1);
	}
	if (ioctl(vcpu, KVM_GET_REGS, regs) < 0)
		die("KVM_GET_REGS");
}

static long via_exit(const struct call *c)
{
	struct kvm_regs regs = {
		.rax = c->nr, .rdi = c->arg[0], .rsi = c->arg[1], .rdx = c->arg[2],
		.r10 = c->arg[3], .r8 = c->arg[4], .r9 = c->arg[5],
		.rip = EXIT_STUB, .rflags = 0x2,
	};

	run_to(REQUEST_PORT, &regs);
	/* All the VMM knows of the request is what it finds in the registers. */
	regs.rax = host_syscall(&(struct call){ regs.rax,
		{ regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9 } });
	/* KVM may report RIP at the OUT, skipping it only if RIP stays there. */
	regs.rip = EXIT_STUB + 2;
	run_to(DONE_PORT, &regs);
	return regs.rax;
}

/* Returns the hypercall's status; the call's result is in hc_regs.rax. */
static long via_hypercall(const struct call *c)
{
	struct kvm_regs regs = {
		.rax = KVM_HC_HOST_SYSCALL, .rbx = (uintptr_t)&hc_regs,
		.rip = HC_STUB, .rflags = 0x2,
	};

	hc_regs = (struct pt_regs){
		.rax = c->nr, .rdi = c->arg[0], .rsi = c->arg[1], .rdx = c->arg[2],
		.r10 = c->arg[3], .r8 = c->arg[4], .r9 = c->arg[5],
	};
	run_to(DONE_PORT, &regs);
	return regs.rax;
}

static void describe(char *cell, size_t size, int call, long ret)
{
	if (ret < 0 && ret > -4096)
		snprintf(cell, size, "-%s", strerrorname_np(-ret));
	else if (call == UNAME && ret == 0)
		snprintf(cell, size, "0 (%s)", uts.nodename);
	else
		snprintf(cell, size, "%ld", ret);
}

/* 64-bit ring 0, flat segments, paging through the identity map. */
static void enter_long_mode(void)
{
	struct kvm_segment code = {
		.limit = 0xffffffff, .selector = 0x8, .type = 0xb,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_sregs sregs;

	data.selector = 0x10;
	data.type = 0x3;
	data.l = 0;
	data.db = 1;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr0 = 0x80000001;		/* PG | PE */
	sregs.cr3 = PML4;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.efer = 0x500;		/* LMA | LME */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
}

int main(void)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_HOST_SYSCALL };
	struct kvm_userspace_memory_region region = { .memory_size = MEM_SIZE };
	struct kvm_cpuid2 *cpuid;
	char table[CALLS][METHODS][CELL], path[64], value[32];
	int kvm, vm, hostcall, amd, call;
	uint8_t *mem;
	FILE *stat;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	/* KVM refuses it once a vCPU exists. */
	hostcall = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_X86_HOST_SYSCALL) == 1;
	if (hostcall && ioctl(vm, KVM_ENABLE_CAP, &cap) < 0)
		die("KVM_ENABLE_CAP");

	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memcpy(mem, guest_code, sizeof(guest_code));
	*(uint64_t *)(mem + PML4) = PDPT | PTE_PRESENT_RW;
	*(uint64_t *)(mem + PDPT) = PD | PTE_PRESENT_RW;
	*(uint64_t *)(mem + PD) = 0 | PDE_2M | PTE_PRESENT_RW;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	/* Without a CPUID that offers long mode, KVM refuses EFER.LME. */
	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	if (!cpuid)
		die("calloc");
	cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
	    ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
		die("KVM_GET_SUPPORTED_CPUID/KVM_SET_CPUID2");
	/* Leaf 0 (first) has the host's vendor; KVM only emulates the other's. */
	amd = cpuid->entries[0].ebx == 0x68747541 && cpuid->entries[0].edx == 0x69746e65 &&
	      cpuid->entries[0].ecx == 0x444d4163;	/* "Auth" "enti" "cAMD" */
	if (amd)
		mem[VMMCALL_BYTE] = 0xd9;
	enter_long_mode();

	if (hostcall)
		printf("hypercall: %s, rax = KVM_HC_HOST_SYSCALL (%d), rbx = &struct pt_regs\n",
		       amd ? "vmmcall" : "vmcall", KVM_HC_HOST_SYSCALL);
	else
		printf("hypercall: n/a: kernel without KVM_CAP_X86_HOST_SYSCALL\n");
	/* The write calls print now: flush what came before them. */
	fflush(stdout);

	for (call = 0; call < CALLS; call++) {
		char (*cell)[CELL] = table[call];
		struct call c;
		long status;

		c = make_call(call, NATIVE);
		describe(cell[NATIVE], CELL, call, host_syscall(&c));
		c = make_call(call, EXIT);
		describe(cell[EXIT], CELL, call, via_exit(&c));
		if (!hostcall) {
			snprintf(cell[HYPERCALL], CELL, "n/a");
			continue;
		}
		c = make_call(call, HYPERCALL);
		status = via_hypercall(&c);
		if (status)
			snprintf(cell[HYPERCALL], CELL, "status %ld", status);
		else
			describe(cell[HYPERCALL], CELL, call, hc_regs.rax);
	}
	printf("%-9s | %-16s | %-16s | %s\n", "call", method_name[NATIVE],
	       method_name[EXIT], method_name[HYPERCALL]);
	for (call = 0; call < CALLS; call++)
		printf("%-9s | %-16s | %-16s | %s\n", call_name[call],
		       table[call][NATIVE], table[call][EXIT], table[call][HYPERCALL]);

	/* Per-VM sum of the per-vCPU counter; absent without the series. */
	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/host_syscalls", getpid(), vm);
	stat = fopen(path, "r");
	if (stat && fgets(value, sizeof(value), stat))
		printf("host_syscalls (debugfs): %s", value);
	return 0;
}
