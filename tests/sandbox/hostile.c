// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostile: a program that attacks hostcall-run's sandbox from guest ring 3.
 * It checks itself, and means something only under hostcall-run: it finds
 * the ring-0 part by reading /proc/self/maps, which the sandbox forwards to
 * the host, so that it describes the hostcall-run process (its binary, its
 * own [heap] and [stack], and the KVM vCPU mappings). Usage: hostile CASE.
 *
 * pointers        "ok N - ..." lines (see case_pointers); exit 0, or 1 if one is "not ok"
 * read-ring0, write-ring0, jump-ring0
 *                 read, write or call the first byte of hostcall-run: SIGSEGV (139)
 * read-kernel     read 0xffffffff81000000: SIGSEGV
 * null            write a byte at NULL: SIGSEGV
 * hlt, out        hlt, outb to the VMM's port 0x10 (privileged in ring 3): SIGSEGV
 * int-pf          int $14, the page-fault vector (DPL 0): SIGSEGV
 * stack-overflow  recursion with 4 KiB frames: SIGSEGV
 * exec-data       call a ret in its own data (no PROT_EXEC): SIGSEGV
 * exec-stack      call a ret on its stack (PT_GNU_STACK without PF_X): SIGSEGV
 * exec-unprotected  call a ret in a page mapped PROT_EXEC, which works, then
 *                 again once mprotect() took PROT_EXEC away: SIGSEGV
 * ud2             SIGILL (132)
 * abort           abort(): the signal it sends itself, SIGABRT (134)
 * vmcall          hypercall 13 (host syscall getpid) by vmcall, or vmmcall on AMD: KVM
 *                 refuses ring 3 with -KVM_EPERM, so "vmcall: rax=-1, struct untouched:
 *                 yes", exit 0 (1 if either differs)
 * thread-read-ring0  a second thread reads the first byte of hostcall-run while main
 *                 waits in pthread_join: SIGSEGV, for the whole process
 * clone-stack-noncanonical, clone-stack-ring0
 *                 a raw clone(CLONE_VM | CLONE_THREAD | ...) whose child starts with its
 *                 stack pointer at 1 << 63, or at the end of hostcall-run's first mapping,
 *                 and pushes: SIGSEGV
 * robust-list     threads exit with robust lists (set_robust_list) that start at, or
 *                 lead from a good entry to, a PROT_NONE page of the program's, a kernel
 *                 and a non-canonical address and hostcall-run, and one in a circle: each
 *                 good entry marked FUTEX_OWNER_DIED, nothing else reached; exit 0
 *
 * A deadly case prints "# about to ..." first and, should it survive, "# survived ..." and
 * exits 1. Natively, pointers and the ring0 cases exit 77 (not under hostcall-run); vmcall
 * dies by SIGILL on bare metal, and in a KVM guest is refused as above; the others die
 * alike, but clone-stack-noncanonical, whose signal depends on the CPU: an AMD EPYC's
 * iretq refuses the stack pointer, and Linux sends SIGSEGV for that; QEMU's and Bochs'
 * take it (their sources check no canonical form), and the push raises #SS, SIGBUS.
 * hostcall-run's own iretq must never be handed such a pointer: it checks it first, as
 * in rt_sigreturn, and the child gets the SIGSEGV.
 */
#include <asm/prctl.h>
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "say.h"

#define KERNEL_ADDR	0xffffffff81000000UL
#define KVM_EPERM	EPERM	/* as <linux/kvm_para.h>: 1; 1000 is KVM_ENOSYS */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct mapping {
	uintptr_t start, end;
	char path[96];
};

static char maps[1 << 18];
static struct mapping targets[64];	/* the ring-0 part: what pointers must not reach */
static int ntargets, under_sandbox;
static struct mapping *ring0;		/* the first mapping of the hostcall-run binary */
static int ntests, nfailed, null_fd = -1, zero_fd = -1;
static __thread int t_canary = 1234;
static volatile long never = -1;

/* Hides a constant address from the compiler, which would turn a NULL store into ud2. */
static void *opaque(uintptr_t a)
{
	__asm__ volatile("" : "+r"(a));
	return (void *)a;
}

static void report(int good, long ret, int err, const char *what)
{
	ntests++;
	if (good) {
		say("ok %d - %s\n", ntests, what);
		return;
	}
	nfailed++;
	say("not ok %d - %s (got %ld, errno %d)\n", ntests, what, ret, ret == -1 ? err : 0);
}

/* The call must fail with want (any errno if 0). errno is read first, before anything else. */
static void expect(long ret, int want, const char *fmt, ...)
{
	int err = errno;
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	report(ret == -1 && (!want || err == want), ret, err, what);
}

static void load_maps(void)
{
	unsigned long start, end;
	char *line, *next, *path;
	ssize_t n;
	size_t len = 0, plen;
	int fd = open("/proc/self/maps", O_RDONLY), off;

	if (fd < 0)
		return;
	while (len < sizeof(maps) - 1 && (n = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0)
		len += n;
	close(fd);
	for (line = maps; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		off = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &start, &end, &off) < 2 || !off)
			continue;
		path = line + off;
		/* hostcall-run and what it is made of; the program's memory is unlabeled */
		if (!strstr(path, "hostcall-run") && !strstr(path, "libhostcall") &&
		    !strstr(path, "anon_inode:kvm") && strcmp(path, "[heap]") &&
		    strcmp(path, "[stack]"))
			continue;
		if (strstr(path, "hostcall-run"))
			under_sandbox = 1;
		if (ntargets == ARRAY_SIZE(targets))
			continue;
		targets[ntargets] = (struct mapping){ start, end, "" };
		snprintf(targets[ntargets].path, sizeof(targets[0].path), "%s", path);
		plen = strlen(path);
		if (!ring0 && plen >= 12 && !strcmp(path + plen - 12, "hostcall-run"))
			ring0 = &targets[ntargets];
		ntargets++;
	}
}

static int holds(const struct mapping *m, const void *p)
{
	return (uintptr_t)p >= m->start && (uintptr_t)p < m->end;
}

/*
 * Each call must fail with EFAULT, and before it reaches the host. Natively
 * a private futex at an address nothing maps is not an error (its key is
 * the address): hostcall-run checks futex words as any pointer, once they
 * are aligned (an unaligned one is EINVAL first, natively too). Should a
 * futex call reach the host all the same, a 1 ms timeout bounds its wait,
 * the wait whose timeout is bad expects another value than the word's,
 * and the wake-op adds 0.
 */
static void attack(uintptr_t a, size_t len, const char *in)
{
	static uint32_t word;
	struct timespec ms = { 0, 1000000 };
	void *p = (void *)a;

	expect(syscall(SYS_write, null_fd, p, len), EFAULT, "write from %s %#lx", in, a);
	expect(syscall(SYS_read, zero_fd, p, len), EFAULT, "read into %s %#lx", in, a);
	expect(syscall(SYS_openat, AT_FDCWD, p, O_RDONLY), EFAULT, "openat path %s %#lx", in, a);
	expect(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p), EFAULT,
	       "clock_gettime into %s %#lx", in, a);
	if (a % sizeof(word))
		return;
	expect(syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, 0, &ms, NULL, 0), EFAULT,
	       "futex wait at %s %#lx", in, a);
	expect(syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), EFAULT,
	       "futex wake at %s %#lx", in, a);
	if (a)	/* NULL is no timeout: the wait then fails with EAGAIN */
		expect(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, p, NULL, 0), EFAULT,
		       "futex wait, its timeout at %s %#lx", in, a);
	expect(syscall(SYS_futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, p, 0), EFAULT,
	       "futex requeue to %s %#lx", in, a);
	expect(syscall(SYS_futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, 1, p,
		       FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0)), EFAULT,
	       "futex wake-op at %s %#lx", in, a);
}

/*
 * Bad pointers, huge lengths and pointers into the ring-0 part give EFAULT;
 * fds the program did not open give EBADF; mmap, munmap and mprotect of the
 * ring-0 part fail; calls outside the policy and unknown numbers give
 * ENOSYS; ARCH_SET_FS to a kernel address gives EPERM, as natively.
 */
static int case_pointers(void)
{
	/* kernel, non-canonical, just past user space, NULL, not NULL but still page 0 */
	static const uintptr_t bad[] = { KERNEL_ADDR, 1UL << 63, 1UL << 47, 0, 1 };
	static const uintptr_t bad_fs[] = { KERNEL_ADDR, 1UL << 63 };
	int spare = open("/dev/null", O_RDONLY);	/* only a dup2 target: may be clobbered */
	char local[64], *heap = malloc(64);
	struct stat st;
	unsigned int i;
	int fd;

	null_fd = open("/dev/null", O_WRONLY);
	zero_fd = open("/dev/zero", O_RDONLY);
	if (null_fd < 0 || zero_fd < 0 || spare < 0 || !heap) {
		say("# cannot open /dev/null or /dev/zero, or malloc failed\n");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		attack(bad[i], 16, "address");
	/* Valid starts, lengths that run far past the program's memory. */
	expect(syscall(SYS_write, null_fd, local, 1UL << 62), EFAULT, "write 2^62 from stack");
	expect(syscall(SYS_write, null_fd, heap, SIZE_MAX), EFAULT, "write SIZE_MAX from heap");
	expect(syscall(SYS_read, zero_fd, local, 1UL << 40), EFAULT, "read 2^40 into stack");

	/*
	 * Where a mapping is read-only on the host, a forwarded call would get
	 * EFAULT from the host too; the writable ones ([heap], data, the vCPU's
	 * kvm_run) are those where a leak would show as a success.
	 */
	for (i = 0; i < (unsigned int)ntargets; i++) {
		struct mapping *m = &targets[i];

		if (holds(m, local) || holds(m, heap) || holds(m, (void *)case_pointers)) {
			say("# skip %s %#lx: holds the program's own memory\n", m->path, m->start);
			continue;
		}
		attack(m->start, 1, m->path);
	}

	/* The host's fds (KVM's among them) must not show through; harmless calls first. */
	for (fd = 3; fd < 64; fd++) {
		if (fd == null_fd || fd == zero_fd || fd == spare)
			continue;
		expect(syscall(SYS_fstat, fd, &st), EBADF, "fstat(%d)", fd);
		expect(syscall(SYS_dup2, fd, spare), EBADF, "dup2(%d, spare)", fd);
		expect(syscall(SYS_close, fd), EBADF, "close(%d)", fd);
	}

	if (ring0) {
		void *p = (void *)ring0->start;

		expect(syscall(SYS_mmap, p, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
		       0, "mmap MAP_FIXED over %s at %#lx", ring0->path, ring0->start);
		expect(syscall(SYS_munmap, p, 4096), 0, "munmap of %s at %#lx",
		       ring0->path, ring0->start);
		expect(syscall(SYS_mprotect, p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC), 0,
		       "mprotect of %s at %#lx", ring0->path, ring0->start);
		expect(syscall(SYS_write, null_fd, p, 1), EFAULT, "%s still out of reach",
		       ring0->path);
	}

	/* The route around every check: hostcall-run's memory as a file. */
	expect(syscall(SYS_openat, AT_FDCWD, "/proc/self/mem", O_RDWR), EACCES,
	       "open /proc/self/mem for writing");
	expect(syscall(SYS_open, "/proc/self/task/../mem", O_WRONLY), EACCES,
	       "open /proc/self/task/../mem for writing");
	expect(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0), ENOSYS, "ptrace(PTRACE_TRACEME)");
	expect(syscall(SYS_kill, getppid(), 0), EPERM, "kill(getppid(), 0): not the sandbox's");
	expect(syscall(-1), ENOSYS, "syscall -1");
	expect(syscall(100000), ENOSYS, "syscall 100000");
	expect(syscall(0x40000000 | SYS_getpid), ENOSYS, "x32 getpid");

	for (i = 0; i < ARRAY_SIZE(bad_fs); i++)
		expect(syscall(SYS_arch_prctl, ARCH_SET_FS, bad_fs[i]), EPERM,
		       "arch_prctl(ARCH_SET_FS, %#lx)", bad_fs[i]);
	t_canary++;
	report(t_canary == 1235, t_canary, 0, "TLS still works after that");

	say("# %d tests, %d failed\n", ntests, nfailed);
	return nfailed || failures ? 1 : 0;
}

static long recurse(long depth)
{
	volatile char frame[4096];

	if (depth == never)
		return 0;
	frame[depth % sizeof(frame)] = (char)depth;
	return recurse(depth + 1) + frame[(depth * 7) % sizeof(frame)];
}

/* A ret instruction in data: never executable. */
static unsigned char ret_in_data[16] = { 0xc3 };

static void exec_stack(void)
{
	unsigned char ret[16] = { 0xc3 };

	((void (*)(void))opaque((uintptr_t)ret))();
}

static void exec_unprotected(void)
{
	unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED) {
		say("# mmap: %s\n", strerror(errno));
		return;
	}
	page[0] = 0xc3;
	((void (*)(void))opaque((uintptr_t)page))();
	if (mprotect(page, 4096, PROT_READ | PROT_WRITE)) {
		say("# mprotect: %s\n", strerror(errno));
		return;
	}
	((void (*)(void))opaque((uintptr_t)page))();
}

/* Where a forged frame sends the program if it is taken: it must not be. */
static void survived_sigreturn(void)
{
	say("# survived a forged rt_sigreturn\n");
	_exit(1);
}

/*
 * rt_sigreturn with a frame of our making at rsp - 8: its sigcontext (at
 * 48 in the frame) with rip @rip, a stack, and the vector state at @fpstate.
 */
static void forged_sigreturn(uintptr_t rip, const void *fpstate, int garbage)
{
	static uint64_t stack[2048] __attribute__((aligned(64)));
	uint64_t *frame = &stack[1024], *sc = frame + 6;

	memset(frame, garbage ? 0xff : 0, 1024 * sizeof(*frame));
	if (!garbage) {
		sc[16] = rip;				/* rip */
		sc[15] = (uintptr_t)&stack[512];	/* rsp */
		sc[17] = 0x202;				/* eflags */
		sc[18] = 0x2b000000000033;		/* cs, gs, fs, ss */
		sc[23] = (uintptr_t)fpstate;
	}
	__asm__ volatile("mov %0, %%rsp; mov $15, %%eax; syscall"
			 : : "r"(frame + 1) : "rax", "rcx", "r11", "memory");
}

static void *read_in_thread(void *a)
{
	(void)*(volatile char *)a;
	return NULL;
}

/* A thread's fault ends every thread: main waits in pthread_join meanwhile. */
static void die_in_thread(uintptr_t a)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, read_in_thread, opaque(a));

	if (err) {
		say("# pthread_create: %s\n", strerror(err));
		return;
	}
	pthread_join(t, NULL);
}

/*
 * A thread as clone() makes it, its stack at @sp: the child comes back from
 * the call there and pushes, which must fault. The parent sleeps meanwhile.
 */
static void clone_onto(uintptr_t sp)
{
	unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			      CLONE_THREAD | CLONE_SYSVSEM;
	register long child_tid __asm__("r10") = 0, tls __asm__("r8") = 0;
	long ret;

	__asm__ volatile("syscall; test %%rax, %%rax; jnz 1f; push %%rax; ud2; 1:"
			 : "=a"(ret)
			 : "a"((long)SYS_clone), "D"(flags), "S"(sp), "d"(0L), "r"(child_tid),
			   "r"(tls)
			 : "rcx", "r11", "memory");
	if (ret < 0) {
		say("# clone: %s\n", strerror(-ret));
		return;
	}
	sleep(30);
}

/* Does what the case says; it should not come back. */
static void die(const char *c, uintptr_t a)
{
	if (a || !strcmp(c, "null"))
		say("# about to %s: a byte at %#lx\n", c, a);
	else
		say("# about to %s\n", c);
	if (!strcmp(c, "read-ring0") || !strcmp(c, "read-kernel"))
		(void)*(volatile char *)opaque(a);
	else if (!strcmp(c, "write-ring0") || !strcmp(c, "null"))
		*(volatile char *)opaque(a) = 0;
	else if (!strcmp(c, "jump-ring0"))
		((void (*)(void))opaque(a))();
	else if (!strcmp(c, "hlt"))
		__asm__ volatile("hlt");
	else if (!strcmp(c, "out"))
		__asm__ volatile("outb %%al, $0x10" : : "a"(0));
	else if (!strcmp(c, "int-pf"))
		__asm__ volatile("int $14");
	else if (!strcmp(c, "ud2"))
		__asm__ volatile("ud2");
	else if (!strcmp(c, "stack-overflow"))
		say("# recursed %ld\n", recurse(0));
	else if (!strcmp(c, "exec-data"))
		((void (*)(void))opaque((uintptr_t)ret_in_data))();
	else if (!strcmp(c, "exec-stack"))
		exec_stack();
	else if (!strcmp(c, "exec-unprotected"))
		exec_unprotected();
	else if (!strcmp(c, "sigreturn-garbage"))
		forged_sigreturn(0, NULL, 1);
	else if (!strcmp(c, "sigreturn-xstate")) {
		/* an XSAVE area whose MXCSR has reserved bits: XRSTOR's #GP, a bad frame */
		static unsigned char xstate[4096] __attribute__((aligned(64)));

		memset(xstate + 24, 0xff, 4);
		forged_sigreturn((uintptr_t)survived_sigreturn, xstate, 0);
	} else if (!strcmp(c, "sigreturn-ring0"))
		forged_sigreturn(a, NULL, 0);
	else if (!strcmp(c, "thread-read-ring0"))
		die_in_thread(a);
	else if (!strncmp(c, "clone-stack-", 12))
		clone_onto(a);
}

/* The address a deadly case aims at. */
static uintptr_t aim(const char *c)
{
	if (!strcmp(c, "clone-stack-ring0"))
		return ring0->end;	/* the push writes the mapping's last bytes */
	if (strstr(c, "-ring0"))
		return ring0->start;
	if (!strcmp(c, "read-kernel"))
		return KERNEL_ADDR;
	if (!strcmp(c, "clone-stack-noncanonical"))
		return 1UL << 63;
	return 0;
}

/*
 * KVM's emulator refuses vmcall at CPL 3 with #GP on AMD (its #UD path marks
 * vmcall privileged), so there the hypercall instruction is vmmcall, which
 * does reach the hypercall code and its CPL check, as vmcall does on Intel.
 */
static int case_vmcall(void)
{
	unsigned char regs[168] = { 0 }, copy[168];
	unsigned int eax, ebx, ecx, edx;
	uint64_t nr = SYS_getpid;
	long rax = 13;		/* the host-syscall hypercall; regs is its register block */
	int amd, untouched;

	__cpuid(0, eax, ebx, ecx, edx);
	amd = ebx == 0x68747541 || ebx == 0x6f677948;	/* "Auth"enticAMD, "Hygo"nGenuine */
	memcpy(regs + 80, &nr, sizeof(nr));
	memcpy(copy, regs, sizeof(regs));
	say("# about to execute %s from ring 3\n", amd ? "vmmcall" : "vmcall");
	__asm__ volatile("test %[amd], %[amd]; jnz 1f; vmcall; jmp 2f; 1: vmmcall; 2:"
			 : "+a"(rax)
			 : "b"(regs), [amd] "r"(amd)
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
	untouched = !memcmp(regs, copy, sizeof(regs));
	say("vmcall: rax=%ld, struct untouched: %s\n", rax, untouched ? "yes" : "no");
	return rax == -KVM_EPERM && untouched ? 0 : 1;
}

/*
 * A fork bomb, run with a low RLIMIT_NPROC by a user it binds: forks until
 * fork fails, each child waiting to be killed; then kills and reaps them.
 * The host's limit holds for hostcall-run's processes as for the program's.
 */
static int case_forkbomb(void)
{
	static pid_t children[4096];
	int n = 0, err = 0;

	while (n < (int)ARRAY_SIZE(children)) {
		pid_t pid = fork();

		if (pid < 0) {
			err = errno;
			break;
		}
		if (!pid) {
			pause();
			_exit(0);
		}
		children[n++] = pid;
	}
	for (int i = 0; i < n; i++)
		kill(children[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(children[i], NULL, 0);
	say("forkbomb: fork failed with %s after %d children, all reaped\n",
	    err ? strerror(err) : "nothing", n);
	return err == EAGAIN ? 0 : 1;
}

/* A robust list's entry as glibc lays it out: the futex word after the link. */
struct robust_entry {
	struct robust_list list;
	uint32_t futex;
};

struct robust_case {
	struct robust_list_head *head;
	struct robust_entry *good;	/* holds this thread's tid, if not NULL */
};

static void *exit_robustly(void *arg)
{
	struct robust_case *rc = arg;

	if (rc->good)
		rc->good->futex = gettid();
	syscall(SYS_set_robust_list, rc->head, sizeof(*rc->head));
	syscall(SYS_exit, 0);
	__builtin_unreachable();
}

/*
 * The robust list is the program's to make: its walk at a thread's exit
 * must mark a good entry's futex FUTEX_OWNER_DIED and stop, as Linux does,
 * where the list leads out of the program's memory, and stop after Linux's
 * ROBUST_LIST_LIMIT (2048) entries in a circle; under hostcall-run, reading
 * nothing of hostcall-run's and writing nothing there.
 */
static int case_robust_list(void)
{
	static struct robust_list_head heads[4], circle;
	static struct robust_entry good[4], loop;
	/* a page of the program's it may not read, the kernel, non-canonical, hostcall-run */
	uintptr_t bad[4] = { 0, KERNEL_ADDR, 1UL << 63, ring0 ? ring0->start : 0 };
	struct robust_case rc[2 * ARRAY_SIZE(bad) + 1];
	long offset = offsetof(struct robust_entry, futex);
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int i, n = 0;
	int failed = 0;

	if (none == MAP_FAILED) {
		say("# mmap: %s\n", strerror(errno));
		return 1;
	}
	bad[0] = (uintptr_t)none;
	for (i = 0; i < ARRAY_SIZE(bad) && bad[i]; i++) {
		rc[n++] = (struct robust_case){ opaque(bad[i]), NULL };
		heads[i] = (struct robust_list_head){ { &good[i].list }, offset, opaque(bad[i]) };
		good[i].list.next = opaque(bad[i]);
		rc[n++] = (struct robust_case){ &heads[i], &good[i] };
	}
	/* the walk stops in the circle, then takes the pending entry, the last bad one */
	circle = (struct robust_list_head){ { &loop.list }, offset, opaque(bad[i - 1]) };
	loop.list.next = &loop.list;
	rc[n++] = (struct robust_case){ &circle, &loop };

	say("# about to exit %u threads with robust lists that lead out of the program's "
	    "memory, or in a circle\n", n);
	for (i = 0; i < n; i++) {
		pthread_t t;
		int err = pthread_create(&t, NULL, exit_robustly, &rc[i]);

		if (err) {
			say("# pthread_create: %s\n", strerror(err));
			return 1;
		}
		pthread_join(t, NULL);
		if (rc[i].good && rc[i].good->futex != FUTEX_OWNER_DIED) {
			say("# thread %u: its good entry's futex is %#x\n", i, rc[i].good->futex);
			failed++;
		}
	}
	return failed ? 1 : 0;
}

/*
 * The fd table filled (open() until it fails): then neither pipe() nor
 * dup() may give the program an fd, as ours are above it all; fork() works
 * as natively. Exit 0 if each did so.
 */
static int case_fds_full(void)
{
	int n = 0, fds[2], failed = 0, status;
	pid_t child;

	while (open("/dev/null", O_RDONLY) >= 0)
		n++;
	if (errno != EMFILE) {
		say("# open: %s after %d\n", strerror(errno), n);
		failed++;
	}
	if (pipe(fds) == 0 || errno != EMFILE) {
		say("# pipe: %s\n", failed ? strerror(errno) : "made, at the top of the table");
		failed++;
	}
	if (dup(0) >= 0 || errno != EMFILE) {
		say("# dup: not EMFILE\n");
		failed++;
	}
	child = fork();
	if (child == 0)
		_exit(7);
	if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 7) {
		say("# fork: %s\n", child < 0 ? strerror(errno) : "not the child's status");
		failed++;
	}
	return failed ? 1 : 0;
}

/*
 * mmap(MAP_SHARED) of fd @argv[2], a KVM vCPU's that the program was given
 * (tests/sandbox/check): a kvm_run in the program's memory would let it
 * steer a vCPU. Exit 0 if mmap refused it (ENODEV).
 */
static int case_mmap_vcpu(const char *fd)
{
	void *run = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(fd), 0);

	if (run != MAP_FAILED || errno != ENODEV) {
		say("# mmap of the vCPU's fd: %s\n", run != MAP_FAILED ? "mapped" : strerror(errno));
		return 1;
	}
	return 0;
}

static const char *const cases[] = {
	"pointers", "vmcall", "read-ring0", "write-ring0", "jump-ring0", "read-kernel", "null",
	"hlt", "out", "int-pf", "stack-overflow", "ud2", "abort", "exec-data", "exec-stack", "exec-unprotected",
	"sigreturn-garbage", "sigreturn-xstate", "sigreturn-ring0", "forkbomb",
	"thread-read-ring0", "clone-stack-noncanonical", "clone-stack-ring0", "robust-list",
	"fds-full", "mmap-vcpu",
};

int main(int argc, char **argv)
{
	const char *c = argc >= 2 ? argv[1] : "";
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases) && strcmp(c, cases[i]); i++)
		;
	if (i == ARRAY_SIZE(cases)) {
		say("usage: hostile CASE, one of");
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			say(" %s", cases[i]);
		say("\n");
		return 2;
	}
	if (!strcmp(c, "vmcall"))
		return case_vmcall();
	if (!strcmp(c, "forkbomb"))
		return case_forkbomb();
	if (!strcmp(c, "fds-full"))
		return case_fds_full();
	if (!strcmp(c, "mmap-vcpu") && argc == 3)
		return case_mmap_vcpu(argv[2]);
	if (!strcmp(c, "abort"))
		abort();
	load_maps();
	if ((!strcmp(c, "pointers") && !under_sandbox) || (strstr(c, "-ring0") && !ring0)) {
		say("# not under hostcall-run\n");
		return 77;
	}
	if (!strcmp(c, "pointers"))
		return case_pointers();
	if (!strcmp(c, "robust-list"))
		return case_robust_list();
	die(c, aim(c));
	say("# survived %s\n", c);
	return 1;
}
