// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-lib-test's points on guest ring 3 (hc_vm_set_user, hc_user_run):
 * code in ring 0 runs short routines of ours in ring 3, copied into the one
 * range of pages that ring 3 may reach in a fresh VM, and sees each of their
 * system calls and exceptions. Ring 3 needs FSGSBASE and XSAVE in the guest
 * CPU: where this machine's KVM offers neither (hc_user_run() -ENOTSUP, as
 * the probe finds), the points that enter ring 3 skip.
 */
#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>

#include "test.h"

/*
 * Ring 3's routines, assembled here and copied into its range (the program's
 * own text is not in one): position-independent, each label an exact RIP.
 */
extern const char r3_code[], r3_code_end[], r3_syscalls[], r3_syscalls_1[], r3_syscalls_2[],
	r3_getpid[], r3_getpid_1[], r3_read[], r3_write[], r3_write_1[], r3_ud2[], r3_hlt[],
	r3_int14[], r3_bases[], r3_bases_1[], r3_bases_2[], r3_vector[], r3_vector_1[],
	r3_vector_2[], r3_spin[];

__asm__(".pushsection .rodata\n"
	"r3_code:\n"
	/* getpid; its result into rbx; getuid */
	"r3_syscalls: mov $39, %eax\n syscall\n"
	"r3_syscalls_1: mov %rax, %rbx\n mov $102, %eax\n syscall\n"
	"r3_syscalls_2: ud2\n"
	"r3_getpid: mov $39, %eax\n syscall\n"
	"r3_getpid_1: ud2\n"
	/* rbx = *rdi; getpid */
	"r3_read: mov (%rdi), %rbx\n mov $39, %eax\n syscall\n ud2\n"
	/* *rdi = 0x77; getpid */
	"r3_write: movq $0x77, (%rdi)\n mov $39, %eax\n syscall\n"
	"r3_write_1: ud2\n"
	"r3_ud2: ud2\n"
	"r3_hlt: hlt\n"
	"r3_int14: int $14\n"
	/* r12 = %fs:0, r13 = %gs:0; getpid; FS base = rdi, GS base = rsi; getpid */
	"r3_bases: mov %fs:0, %r12\n mov %gs:0, %r13\n mov $39, %eax\n syscall\n"
	"r3_bases_1: wrfsbase %rdi\n wrgsbase %rsi\n mov $39, %eax\n syscall\n"
	"r3_bases_2: ud2\n"
	/*
	 * rsi[4] = MXCSR; xmm0 = rdi[0..15]; MXCSR = rdi[5]; getpid;
	 * rsi[0..15] = xmm0; rsi[5] = MXCSR; getpid
	 */
	"r3_vector: stmxcsr 16(%rsi)\n movdqu (%rdi), %xmm0\n ldmxcsr 20(%rdi)\n"
	"	mov $39, %eax\n syscall\n"
	"r3_vector_1: movdqu %xmm0, (%rsi)\n stmxcsr 20(%rsi)\n mov $39, %eax\n syscall\n"
	"r3_vector_2: ud2\n"
	/* forever, until ring 0 stops it */
	"r3_spin: jmp r3_spin\n"
	"r3_code_end:\n"
	".popsection\n");

/* Ring 0's xmm0 all ones. */
long clobber_xmm0(void);
__asm__(".pushsection .text\n clobber_xmm0: pcmpeqd %xmm0, %xmm0\n ret\n .popsection\n");

/*
 * The user range: 4 pages ending a 2 MiB region (code, data, stack, a
 * read-only page), then one page starting the next region, which nothing
 * touches before ring 3 does.
 */
#define USER_PAGES	5
enum { CODE, DATA, STACK, READ_ONLY, FRESH };

#define RUNS	3
#define SYS_GETPID	39
#define SYS_GETUID	102
/* The arithmetic flags: CF PF AF ZF SF OF. */
#define ARITH_FLAGS	0x8d5UL
/* XSAVE layout: the legacy area's MXCSR and xmm0. */
#define XSTATE_MXCSR	24
#define XSTATE_XMM0	160
/* #PF error code bits; #GP's for a gate has IDT set, EXT clear. */
#define PF_P	1
#define PF_W	2
#define PF_U	4
#define PF_I	16
#define GP_IDT	2
#define GP_EXT	1

/* A fresh VM, ring 3's range in it, and what ring 0 saw of ring 3. */
struct user {
	struct hc_vm *vm;
	char *range;
	int runs;			/* hc_user_run()s per hc_vm_call() */
	long result[RUNS];		/* rax for ring 3 after system call i */
	void (*ring0)(struct user *u, int i);	/* ring 0's code before run i, and after the last */
	struct hc_user_regs regs;	/* ring 3's, from one run to the next */
	int ret[RUNS];			/* each run's result */
	struct hc_fault fault[RUNS];
	struct hc_user_regs at[RUNS];	/* regs when run i returned */
	/* test_user_bases, test_user_xstate: ring 0's own state before run i, after the last */
	unsigned long fs_word[RUNS + 1], gs_base[RUNS + 1], tls[RUNS + 1];
	int *errno_at[RUNS + 1];
	unsigned int mxcsr[RUNS + 1];
};

static struct user u;
static char user_skip[128];
static long next_range = 0x300000000000L;
/* Outside every user range: ring 3 may not read it. */
static long ring0_word = 0x5ec2e7;
static __thread long tls_word;

/* ---- Guest functions ---- */

/* u->runs times hc_user_run(); after a system call, rax = its result. */
GUEST static long run_ring3(void *arg)
{
	struct user *u = arg;
	int i;

	for (i = 0; i < u->runs; i++) {
		if (u->ring0)
			u->ring0(u, i);
		u->ret[i] = hc_user_run(u->vm, &u->regs, &u->fault[i]);
		u->at[i] = u->regs;
		if (u->ret[i] == HC_USER_SYSCALL)
			u->regs.rax = u->result[i];
	}
	if (u->ring0)
		u->ring0(u, i);
	return 0;
}

/* Ring 0 on a vCPU of u->vm: the data page, whose code ring 3 ran, loses PROT_EXEC. */
GUEST static int drop_exec(struct user *u)
{
	mprotect(u->range + DATA * PAGE, PAGE, PROT_READ | PROT_WRITE);
	return hc_vm_remapped(u->vm, u->range + DATA * PAGE, PAGE);
}

/* hc_vm_remapped() in ring 0 with another VM, an unaligned range, and as it should be. */
static int remapped_ret[3];

/* Ring 0, before run 1: drop_exec(), on ring 3's own vCPU. */
GUEST static void ring0_no_exec(struct user *u, int i)
{
	if (i != 1)
		return;
	remapped_ret[0] = hc_vm_remapped(vm, u->range + DATA * PAGE, PAGE);
	remapped_ret[1] = hc_vm_remapped(u->vm, u->range + DATA * PAGE + 8, PAGE);
	remapped_ret[2] = drop_exec(u);
}

/* test_user_nx_other_vcpu: another thread, on a vCPU of its own, runs drop_exec(). */
static sem_t drop_asked, drop_done;
static long other_ret;

GUEST static long drop_exec_call(void *u)
{
	return drop_exec(u);
}

static void *other_vcpu(void *u)
{
	sem_wait(&drop_asked);
	other_ret = hc_vm_call(((struct user *)u)->vm, drop_exec_call, u);
	sem_post(&drop_done);
	return NULL;
}

/* Ring 0, before run 1: waits while the other vCPU runs drop_exec(). */
GUEST static void ring0_other_no_exec(struct user *u UNUSED, int i)
{
	if (i != 1)
		return;
	sem_post(&drop_asked);
	sem_wait(&drop_done);
}

/* Ring 0, before run 0: a signal to this thread, whose handler asks for an interrupt. */
GUEST static void ring0_signal(struct user *u, int i)
{
	(void)u;
	if (i == 0)
		raise(SIGUSR2);
}

/* Ring 0's TLS, errno and GS base, which ring 3's bases must not disturb. */
GUEST static void ring0_tls(struct user *u, int i)
{
	unsigned long gs;

	__asm__ volatile("rdgsbase %0" : "=r"(gs));
	u->fs_word[i] = fs_word(NULL);
	u->gs_base[i] = gs;
	u->tls[i] = tls_word;
	tls_word = i + 1;
	u->errno_at[i] = &errno;
	errno = EDOM;
}

/* Between ring 3's two system calls, ring 0 runs vector code of its own. */
GUEST static void ring0_vector(struct user *u, int i)
{
	static char big[65536];

	__asm__ volatile("stmxcsr %0" : "=m"(u->mxcsr[i]));
	if (i != 1)
		return;
	memset(big, i, sizeof(big));
	clobber_xmm0();
}

/* ---- Ring 3's VM ---- */

static char *page(int i)
{
	return u.range + i * PAGE;
}

/* The address of a ring-3 routine's label in the range. */
static unsigned long at(const char *label)
{
	return (unsigned long)page(CODE) + (label - r3_code);
}

/* Ring 3's general registers but rsp, each its own value: 0x1111... times its number. */
static void set_registers(struct hc_user_regs *r)
{
	unsigned long *reg = &r->rax, rsp = r->rsp;

	for (int i = 0; i < 16; i++)
		reg[i] = 0x1111111111111111UL * (i + 1);
	r->rsp = rsp;
}

/* The registers set_registers() gave, but rax, rcx, r11 (syscall's) and rsp. */
static void expect_kept(const struct hc_user_regs *r)
{
	EXPECT_EQ(r->rbx, 0x2222222222222222UL);
	EXPECT_EQ(r->rdx, 0x4444444444444444UL);
	EXPECT_EQ(r->rsi, 0x5555555555555555UL);
	EXPECT_EQ(r->rdi, 0x6666666666666666UL);
	EXPECT_EQ(r->rbp, 0x7777777777777777UL);
	EXPECT_EQ(r->r8, 0x9999999999999999UL);
	EXPECT_EQ(r->r9, 0xaaaaaaaaaaaaaaaaUL);
	EXPECT_EQ(r->r10, 0xbbbbbbbbbbbbbbbbUL);
	EXPECT_EQ(r->r12, 0xddddddddddddddddUL);
	EXPECT_EQ(r->r13, 0xeeeeeeeeeeeeeeeeUL);
	EXPECT_EQ(r->r14, 0xffffffffffffffffUL);
	EXPECT_EQ(r->r15, 0x1111111111111111UL * 16);
}

/*
 * A fresh VM whose ring 3 reaches the range alone, with the routines in it;
 * ring 3 to start at @routine with its stack at the top of its page. False,
 * and the point fails, if that could not be made.
 */
static bool user_start(const char *routine)
{
	char *base = (char *)next_range + (2 << 20) - (USER_PAGES - 1) * PAGE;
	int ret;

	next_range += 4 << 20;
	memset(&u, 0, sizeof(u));
	u.range = mmap(base, USER_PAGES * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	u.vm = hc_vm_create(0);
	EXPECT(u.range == base);
	EXPECT(u.vm != NULL);
	if (u.range != base || !u.vm) {
		hc_vm_destroy(u.vm);
		if (u.range != MAP_FAILED)
			munmap(u.range, USER_PAGES * PAGE);
		return false;
	}
	memcpy(page(CODE), r3_code, r3_code_end - r3_code);
	page(READ_ONLY)[8] = 0x42;
	mprotect(page(READ_ONLY), PAGE, PROT_READ);
	mprotect(page(DATA), 2 * PAGE, PROT_READ | PROT_WRITE);	/* and the stack */
	ret = hc_vm_set_user(u.vm, u.range, USER_PAGES * PAGE, 1);
	EXPECT_EQ(ret, 0);
	u.regs.rip = at(routine);
	u.regs.rsp = (unsigned long)page(STACK) + PAGE;
	u.runs = 1;
	return ret == 0;
}

static void user_end(void)
{
	hc_vm_destroy(u.vm);
	munmap(u.range, USER_PAGES * PAGE);
}

/* hc_vm_call() of run_ring3: 0, or how the call faulted. */
static long user_run(int runs)
{
	struct hc_fault fault = { 0 };
	long ret;

	u.runs = runs;
	ret = hc_vm_call(u.vm, run_ring3, &u);
	if (ret == -EFAULT && hc_vm_last_fault(u.vm, &fault) == 0)
		printf("#   the call faulted: vector %d error %#x rip %#lx addr %#lx\n",
		       fault.vector, fault.error_code, fault.rip, fault.addr);
	return ret;
}

/* The points that enter ring 3 skip where the probe found it cannot run. */
static bool user_start_or_skip(const char *routine)
{
	if (user_skip[0]) {
		point_skip = user_skip;
		return false;
	}
	return user_start(routine);
}

/* Run i stopped on ring 3's exception @vector at @rip. */
static void expect_exception(int i, int vector, const char *rip)
{
	EXPECT_EQ(u.ret[i], HC_USER_EXCEPTION);
	EXPECT_EQ(u.fault[i].vector, vector);
	EXPECT_EQ(u.fault[i].rip, at(rip));
	EXPECT_EQ(u.at[i].rip, at(rip));
	EXPECT_EQ(u.at[i].rsp, (unsigned long)page(STACK) + PAGE);
}

/* Run i stopped on ring 3's system call @nr, made by the instruction before @next. */
static void expect_syscall(int i, long nr, const char *next)
{
	EXPECT_EQ(u.ret[i], HC_USER_SYSCALL);
	EXPECT_EQ(u.at[i].rax, nr);
	EXPECT_EQ(u.at[i].rip, at(next));
}

/* ---- The points ---- */

void test_user_host(void)
{
	static struct hc_user_regs regs;
	struct hc_fault fault;

	EXPECT_EQ(hc_user_run(vm, &regs, &fault), -EPERM);
	EXPECT_EQ(hc_vm_remapped(vm, NULL, PAGE), -EPERM);
}

void test_user_set(void)
{
	struct hc_vm *v = hc_vm_create(0);
	char *base = (char *)0x310000000000L;

	EXPECT(v != NULL);
	if (!v)
		return;
	EXPECT_EQ(hc_vm_set_user(v, base + 1, PAGE, 1), -EINVAL);
	EXPECT_EQ(hc_vm_set_user(v, base, PAGE + 1, 1), -EINVAL);
	EXPECT_EQ(hc_vm_set_user(v, base, PAGE, 0), -ENOENT);
	for (int i = 0; i < 16; i++)
		EXPECT_EQ(hc_vm_set_user(v, base + 2 * i * PAGE, PAGE, 1), 0);
	EXPECT_EQ(hc_vm_set_user(v, base + 32 * PAGE, PAGE, 1), -ENOSPC);
	/* the range as given: [base, base + PAGE), not a part or a superset */
	EXPECT_EQ(hc_vm_set_user(v, base, 2 * PAGE, 0), -ENOENT);
	EXPECT_EQ(hc_vm_set_user(v, base, PAGE, 0), 0);
	EXPECT_EQ(hc_vm_set_user(v, base + 32 * PAGE, PAGE, 1), 0);
	/* the VM's first call makes a vCPU */
	EXPECT_EQ(hc_vm_call(v, ret_arg, (void *)5), 5);
	EXPECT_EQ(hc_vm_set_user(v, base + 34 * PAGE, PAGE, 1), -EBUSY);
	EXPECT_EQ(hc_vm_set_user(v, base + 32 * PAGE, PAGE, 0), -EBUSY);
	EXPECT_EQ(hc_vm_set_user(vm, base, PAGE, 1), -EBUSY);
	hc_vm_destroy(v);
}

void test_user_probe(void)
{
	if (!user_start(r3_getpid))
		return;
	EXPECT_EQ(user_run(1), 0);
	if (u.ret[0] == -ENOTSUP)
		snprintf(user_skip, sizeof(user_skip),
			 "hc_user_run() is -ENOTSUP: this machine's KVM gives the guest no "
			 "FSGSBASE or no XSAVE");
	else
		expect_syscall(0, SYS_GETPID, r3_getpid_1);
	user_end();
}

void test_user_syscall(void)
{
	if (!user_start_or_skip(r3_syscalls))
		return;
	set_registers(&u.regs);
	u.regs.rflags = 0x2 | 0x1 | 0x40 | 0x800;	/* CF ZF OF */
	EXPECT_EQ(user_run(1), 0);
	expect_syscall(0, SYS_GETPID, r3_syscalls_1);
	EXPECT_EQ(u.at[0].rcx, u.at[0].rip);
	EXPECT_EQ(u.at[0].r11, u.at[0].rflags);
	EXPECT_EQ(u.at[0].rflags & ARITH_FLAGS, 0x1 | 0x40 | 0x800);
	EXPECT_EQ(u.at[0].rsp, (unsigned long)page(STACK) + PAGE);
	expect_kept(&u.at[0]);
	user_end();
}

void test_user_resume(void)
{
	if (!user_start_or_skip(r3_syscalls))
		return;
	set_registers(&u.regs);
	u.result[0] = 0x1234567890abcdefL;
	EXPECT_EQ(user_run(2), 0);
	expect_syscall(0, SYS_GETPID, r3_syscalls_1);
	expect_syscall(1, SYS_GETUID, r3_syscalls_2);
	/* ring 3 moved the result to rbx */
	EXPECT_EQ(u.at[1].rbx, 0x1234567890abcdefL);
	EXPECT_EQ(u.at[1].rcx, at(r3_syscalls_2));
	EXPECT_EQ(u.at[1].r12, 0xddddddddddddddddUL);
	EXPECT_EQ(u.at[1].rdi, 0x6666666666666666UL);
	user_end();
}

void test_user_ud2(void)
{
	if (!user_start_or_skip(r3_ud2))
		return;
	set_registers(&u.regs);
	EXPECT_EQ(user_run(1), 0);
	expect_exception(0, 6, r3_ud2);
	/* an exception leaves every register as ring 3 had it */
	expect_kept(&u.at[0]);
	EXPECT_EQ(u.at[0].rax, 0x1111111111111111UL);
	EXPECT_EQ(u.at[0].rcx, 0x3333333333333333UL);
	EXPECT_EQ(u.at[0].r11, 0xccccccccccccccccUL);
	user_end();
}

void test_user_outside(void)
{
	if (!user_start_or_skip(r3_read))
		return;
	/* the test's own data */
	u.regs.rdi = (unsigned long)&ring0_word;
	EXPECT_EQ(user_run(1), 0);
	expect_exception(0, 14, r3_read);
	EXPECT_EQ(u.fault[0].addr, &ring0_word);
	EXPECT_EQ(u.fault[0].error_code & (PF_U | PF_W), PF_U);
	EXPECT_EQ(u.at[0].rbx, 0);
	/* libhostcall's code */
	u.regs.rip = at(r3_read);
	u.regs.rdi = (unsigned long)hc_user_run;
	EXPECT_EQ(user_run(1), 0);
	expect_exception(0, 14, r3_read);
	EXPECT_EQ(u.fault[0].addr, hc_user_run);
	EXPECT_EQ(u.fault[0].error_code & (PF_U | PF_W), PF_U);
	/* ring 3 goes on where ring 0 says */
	u.regs.rip = at(r3_getpid);
	EXPECT_EQ(user_run(1), 0);
	expect_syscall(0, SYS_GETPID, r3_getpid_1);
	user_end();
}

/*
 * The error code of a native int $14 on this machine, which the handler
 * steps over: #GP for the gate, 14 << 3 | GP_IDT by the manuals; QEMU 7.2's
 * TCG (the AMD lab) gives 14 << 4 | GP_IDT.
 */
static volatile long native_error;

static void on_gp(int sig UNUSED, siginfo_t *si UNUSED, void *ctx)
{
	ucontext_t *uc = ctx;

	native_error = uc->uc_mcontext.gregs[REG_ERR];
	uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static long native_int14_error(void)
{
	struct sigaction sa = { .sa_sigaction = on_gp, .sa_flags = SA_SIGINFO }, old;

	native_error = -1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old);
	__asm__ volatile("int $14" ::: "memory");
	sigaction(SIGSEGV, &old, NULL);
	return native_error;
}

void test_user_privileged(void)
{
	if (!user_start_or_skip(r3_hlt))
		return;
	EXPECT_EQ(user_run(1), 0);
	expect_exception(0, 13, r3_hlt);
	EXPECT_EQ(u.fault[0].error_code, 0);
	EXPECT_EQ(u.fault[0].addr, 0);
	u.regs.rip = at(r3_int14);
	EXPECT_EQ(user_run(1), 0);
	expect_exception(0, 13, r3_int14);
	EXPECT_EQ(u.fault[0].error_code, native_int14_error());
	EXPECT_EQ(u.fault[0].error_code & (GP_IDT | GP_EXT), GP_IDT);
	user_end();
}

void test_user_read_only(void)
{
	if (!user_start_or_skip(r3_write))
		return;
	u.regs.rdi = (unsigned long)page(READ_ONLY) + 8;
	EXPECT_EQ(user_run(1), 0);
	expect_exception(0, 14, r3_write);
	EXPECT_EQ(u.fault[0].addr, page(READ_ONLY) + 8);
	EXPECT_EQ(u.fault[0].error_code & (PF_U | PF_W | PF_P), PF_U | PF_W | PF_P);
	EXPECT_EQ(page(READ_ONLY)[8], 0x42);
	user_end();
}

void test_user_fresh_page(void)
{
	if (!user_start_or_skip(r3_write))
		return;
	u.regs.rdi = (unsigned long)page(FRESH) + 16;
	EXPECT_EQ(user_run(1), 0);
	expect_syscall(0, SYS_GETPID, r3_write_1);
	EXPECT_EQ(page(FRESH)[16], 0x77);
	user_end();
}

void test_user_bases(void)
{
	unsigned long *data;
	int *errno_at = &errno;
	int errno_after;

	if (!user_start_or_skip(r3_bases))
		return;
	data = (unsigned long *)page(DATA);
	data[0] = 0xf5f5f5f5;
	data[8] = 0x65656565;
	data[16] = 0xf5f5f5f5 + 1;
	data[24] = 0x65656565 + 1;
	u.regs.fs_base = (unsigned long)&data[0];
	u.regs.gs_base = (unsigned long)&data[8];
	u.regs.rdi = (unsigned long)&data[16];
	u.regs.rsi = (unsigned long)&data[24];
	u.ring0 = ring0_tls;
	tls_word = 0x71570;
	errno = 0;
	EXPECT_EQ(user_run(2), 0);
	errno_after = errno;
	expect_syscall(0, SYS_GETPID, r3_bases_1);
	EXPECT_EQ(u.at[0].r12, 0xf5f5f5f5);
	EXPECT_EQ(u.at[0].r13, 0x65656565);
	EXPECT_EQ(u.at[0].fs_base, &data[0]);
	EXPECT_EQ(u.at[0].gs_base, &data[8]);
	/* the bases ring 3 set itself */
	expect_syscall(1, SYS_GETPID, r3_bases_2);
	EXPECT_EQ(u.at[1].fs_base, &data[16]);
	EXPECT_EQ(u.at[1].gs_base, &data[24]);
	/* ring 0's, before ring 3 ran and after each return */
	for (int i = 0; i <= 2; i++) {
		EXPECT_EQ(u.fs_word[i], fs_word(NULL));
		EXPECT_EQ(u.gs_base[i], u.gs_base[0]);
		EXPECT_EQ(u.tls[i], i ? i : 0x71570);
		EXPECT_EQ(u.errno_at[i], errno_at);
	}
	EXPECT_EQ(tls_word, 3);
	EXPECT_EQ(errno_after, EDOM);
	user_end();
}

void test_user_xstate(void)
{
	static const unsigned char loaded[16] = "ring 3's xmm0!!";
	unsigned char *in, *out;

	if (!user_start_or_skip(r3_vector))
		return;
	in = (unsigned char *)page(DATA);
	out = in + 256;
	memcpy(in, loaded, 16);
	*(unsigned int *)(in + 20) = 0x7f80;	/* round toward zero */
	u.regs.rdi = (unsigned long)in;
	u.regs.rsi = (unsigned long)out;
	u.ring0 = ring0_vector;
	EXPECT_EQ(user_run(2), 0);
	expect_syscall(0, SYS_GETPID, r3_vector_1);
	expect_syscall(1, SYS_GETPID, r3_vector_2);
	/* a new ring 3 starts with the MXCSR of a new process */
	EXPECT_EQ(*(unsigned int *)(out + 16), 0x1f80);
	/* its xmm0 and MXCSR in regs.xstate at the stop, and back in ring 3 after */
	EXPECT_EQ(memcmp(u.at[0].xstate + XSTATE_XMM0, loaded, 16), 0);
	EXPECT_EQ(*(unsigned int *)(u.at[0].xstate + XSTATE_MXCSR), 0x7f80);
	EXPECT_EQ(memcmp(out, loaded, 16), 0);
	EXPECT_EQ(*(unsigned int *)(out + 20), 0x7f80);
	/* ring 0's own MXCSR, kept */
	EXPECT_EQ(u.mxcsr[1], u.mxcsr[0]);
	EXPECT_EQ(u.mxcsr[2], u.mxcsr[0]);
	user_end();
}

void test_user_noncanonical(void)
{
	unsigned long *fields[] = { &u.regs.rip, &u.regs.rsp, &u.regs.fs_base, &u.regs.gs_base };

	if (!user_start_or_skip(r3_getpid))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		unsigned long saved = *fields[i];

		*fields[i] = 1UL << 63;
		EXPECT_EQ(user_run(1), 0);
		EXPECT_EQ(u.ret[0], -EINVAL);
		*fields[i] = 0x0000800000000000UL;
		EXPECT_EQ(user_run(1), 0);
		EXPECT_EQ(u.ret[0], -EINVAL);
		*fields[i] = saved;
	}
	EXPECT_EQ(user_run(1), 0);
	expect_syscall(0, SYS_GETPID, r3_getpid_1);
	user_end();
}

/* The CPU executes no page without PROT_EXEC (EFER.NXE): else the NX points skip. */
static bool user_start_nx(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) || !(edx & (1U << 20))) {
		point_skip = "this CPU has no NX";
		return false;
	}
	if (!user_start_or_skip(r3_getpid))
		return false;
	/* ring 3's getpid, copied into its data page */
	memcpy(page(DATA), r3_getpid, r3_getpid_1 + 2 - r3_getpid);
	u.regs.rip = (unsigned long)page(DATA);
	return true;
}

/* Ring 3's fetch of its data page faulted: #PF with U and I, nothing run. */
static void expect_fetch_fault(int i, unsigned long rip, int present)
{
	EXPECT_EQ(u.ret[i], HC_USER_EXCEPTION);
	EXPECT_EQ(u.fault[i].vector, 14);
	EXPECT_EQ(u.fault[i].addr, rip);
	EXPECT_EQ(u.at[i].rip, rip);
	EXPECT_EQ(u.fault[i].error_code & (PF_I | PF_U | PF_W | PF_P), PF_I | PF_U | present);
}

void test_user_nx(void)
{
	if (!user_start_nx())
		return;
	EXPECT_EQ(user_run(1), 0);
	expect_fetch_fault(0, (unsigned long)page(DATA), 0);
	user_end();
}

/*
 * Ring 3 runs its getpid in its data page, made executable, so that its TLB
 * holds the page; @ring0 takes PROT_EXEC away before run 1, which resumes
 * there, after the syscall: the fetch must fault, not run the ud2 next.
 */
static void run_losing_exec(void (*ring0)(struct user *u, int i))
{
	unsigned long after = (unsigned long)page(DATA) + (r3_getpid_1 - r3_getpid);

	mprotect(page(DATA), PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
	u.ring0 = ring0;
	EXPECT_EQ(user_run(2), 0);
	/* it ran while executable, and not once its mapping said otherwise */
	EXPECT_EQ(u.ret[0], HC_USER_SYSCALL);
	EXPECT_EQ(u.at[0].rip, after);
	expect_fetch_fault(1, after, 0);	/* its entry went */
}

void test_user_nx_remapped(void)
{
	if (!user_start_nx())
		return;
	run_losing_exec(ring0_no_exec);
	EXPECT_EQ(remapped_ret[0], -EINVAL);	/* not the VM this runs in */
	EXPECT_EQ(remapped_ret[1], -EINVAL);
	EXPECT_EQ(remapped_ret[2], 0);
	user_end();
}

void test_user_nx_other_vcpu(void)
{
	pthread_t t;

	if (!user_start_nx())
		return;
	sem_init(&drop_asked, 0, 0);
	sem_init(&drop_done, 0, 0);
	pthread_create(&t, NULL, other_vcpu, &u);
	run_losing_exec(ring0_other_no_exec);
	pthread_join(t, NULL);
	EXPECT_EQ(other_ret, 0);
	sem_destroy(&drop_asked);
	sem_destroy(&drop_done);
	user_end();
}

static volatile int interrupts;

static void on_signal_interrupt(int sig UNUSED)
{
	if (hc_user_interrupt(u.vm) == 0)
		interrupts++;
}

void test_user_interrupt(void)
{
	struct sigaction sa = { .sa_handler = on_signal_interrupt }, old_alrm, old_usr2;
	struct itimerval every_50ms = { { 0, 50000 }, { 0, 50000 } }, stop = { 0 };

	EXPECT_EQ(hc_user_interrupt(vm), -EINVAL);
	if (!user_start_or_skip(r3_spin))
		return;
	sigaction(SIGALRM, &sa, &old_alrm);
	sigaction(SIGUSR2, &sa, &old_usr2);
	interrupts = 0;
	u.ring0 = ring0_signal;
	setitimer(ITIMER_REAL, &every_50ms, NULL);
	EXPECT_EQ(user_run(2), 0);
	setitimer(ITIMER_REAL, &stop, NULL);
	sigaction(SIGALRM, &old_alrm, NULL);
	sigaction(SIGUSR2, &old_usr2, NULL);
	/* run 0: asked in ring 0, before ring 3 ran; run 1: while it spun */
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(u.ret[i], HC_USER_INTERRUPT);
		EXPECT_EQ(u.at[i].rip, at(r3_spin));
		EXPECT_EQ(u.at[i].rsp, (unsigned long)page(STACK) + PAGE);
	}
	EXPECT(interrupts >= 2);
	user_end();
}
