// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-lib-test's points on the modes hc_vm_create picks, on hc_vm_call
 * itself and on system calls, whose results in the guest are the native ones;
 * and the points that run libc in the guest (SSE), skipped where a probe shows
 * that this machine's KVM cannot.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostcall-kvm.h"
#include "test.h"

/* ---- Guest functions ---- */

GUEST static long in_guest(void *arg UNUSED)
{
	return hc_in_guest();
}

/* hc_vm_call(n->vm) in the guest: fn's results, and its stack's distance from ours. */
struct nested {
	struct hc_vm *vm;
	long in_guest, ret;
};

GUEST static long nest(void *arg)
{
	struct nested *n = arg;

	n->in_guest = hc_vm_call(n->vm, in_guest, NULL);
	n->ret = hc_vm_call(n->vm, ret_arg, (void *)-77L);
	return (long)__builtin_frame_address(0) - hc_vm_call(n->vm, frame, NULL);
}

GUEST static long mmap_and_touch(void *arg)
{
	long pages = (long)arg;
	long p = hc_syscall(SYS_mmap, 0, pages * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (long i = 0; p > 0 && i < pages; i++)
		((long *)(p + i * PAGE))[1] = i + 1;
	return p;
}

GUEST static long touch_pages(void *arg)
{
	const long *range = arg;
	long n = 0;

	for (long a = range[0]; a < range[1]; a += PAGE, n++)
		*(volatile char *)a = 1;
	return n;
}

/* openat, read, close: the count read, or the first error. */
struct file_read {
	const char *path;
	char buf[256];
	long close_ret;
};

GUEST static long read_file(void *arg)
{
	struct file_read *f = arg;
	long fd = hc_syscall(SYS_openat, AT_FDCWD, (long)f->path, O_RDONLY | O_CLOEXEC), n;

	if (fd < 0)
		return fd;
	n = hc_syscall(SYS_read, fd, (long)f->buf, sizeof(f->buf));
	f->close_ret = hc_syscall(SYS_close, fd);
	return n;
}

/* ---- Modes ---- */

static int kvm_cap(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
	int cap = ioctl(vmfd, KVM_CHECK_EXTENSION, KVM_CAP_X86_HOST_SYSCALL);

	close(vmfd);
	close(kvm);
	return cap;
}

/* The mode of hc_vm_create(flags) under HOSTCALL_MODE=env (NULL: unset), or -errno. */
static long mode_with(const char *env, unsigned int flags)
{
	char *saved = getenv("HOSTCALL_MODE") ? strdup(getenv("HOSTCALL_MODE")) : NULL;
	struct hc_vm *v;
	long ret;

	env ? setenv("HOSTCALL_MODE", env, 1) : unsetenv("HOSTCALL_MODE");
	errno = 0;
	v = hc_vm_create(flags);
	ret = v ? hc_vm_mode(v) : -errno;
	if (v && hc_vm_call(v, guest_syscall, (long[7]){ SYS_getpid }) != getpid())
		ret = -1000;	/* made, but does not work */
	hc_vm_destroy(v);
	saved ? setenv("HOSTCALL_MODE", saved, 1) : unsetenv("HOSTCALL_MODE");
	free(saved);
	return ret;
}

void test_mode_auto(void)
{
	const char *env = getenv("HOSTCALL_MODE");
	int cap = kvm_cap();

	printf("# KVM_CHECK_EXTENSION(KVM_CAP_X86_HOST_SYSCALL) = %d\n", cap);
	EXPECT(cap == 0 || cap == 1);
	EXPECT_EQ(mode, cap == 1 && !(env && !strcmp(env, "exit")) ?
		  HC_MODE_HYPERCALL : HC_MODE_EXIT);
}

void test_mode_env(void)
{
	int has = kvm_cap() == 1;

	EXPECT_EQ(mode_with(NULL, 0), has ? HC_MODE_HYPERCALL : HC_MODE_EXIT);
	EXPECT_EQ(mode_with("", 0), has ? HC_MODE_HYPERCALL : HC_MODE_EXIT);
	EXPECT_EQ(mode_with("auto", 0), has ? HC_MODE_HYPERCALL : HC_MODE_EXIT);
	EXPECT_EQ(mode_with("exit", 0), HC_MODE_EXIT);
	EXPECT_EQ(mode_with("hypercall", 0), has ? HC_MODE_HYPERCALL : -ENOTSUP);
}

void test_force_exit(void)
{
	EXPECT_EQ(mode_with(NULL, HC_FORCE_EXIT), HC_MODE_EXIT);
	EXPECT_EQ(mode_with("auto", HC_FORCE_EXIT), HC_MODE_EXIT);
	EXPECT_EQ(mode_with("hypercall", HC_FORCE_EXIT | HC_EINTR), HC_MODE_EXIT);
	EXPECT_EQ(mode_with("bogus", HC_FORCE_EXIT), HC_MODE_EXIT);
}

void test_bad_flags(void)
{
	EXPECT_EQ(mode_with(NULL, 1u << 2), -EINVAL);
	EXPECT_EQ(mode_with("exit", ~0u), -EINVAL);
}

void test_bogus_env(void)
{
	EXPECT_EQ(mode_with("bogus", 0), -EINVAL);
	EXPECT_EQ(mode_with("exit ", HC_EINTR), -EINVAL);
}

/* ---- hc_vm_call ---- */

void test_in_guest(void)
{
	EXPECT_EQ(hc_in_guest(), 0);
	EXPECT_EQ(hc_vm_call(vm, in_guest, NULL), 1);
}

void test_return_values(void)
{
	static const long values[] = {
		0, 1, -1, -EFAULT, -4095, -4096, LONG_MIN, LONG_MAX,
		(long)0x8000000000000001UL, (long)0xdeadbeefcafef00dUL,
	};
	struct hc_fault fault;
	long out[2] = { 0, 0 };

	for (size_t i = 0; i < ARRAY_SIZE(values); i++)
		EXPECT_EQ(hc_vm_call(vm, ret_arg, (void *)values[i]), values[i]);
	/* fn's own -EFAULT is not a fault */
	EXPECT_EQ(hc_vm_last_fault(vm, &fault), -ENOENT);
	EXPECT_EQ(hc_vm_call(vm, write_at, &out[1]), 0);
	EXPECT_EQ(out[1], 0x99);
}

void expect_nested(struct hc_vm *v)
{
	struct nested n = { .vm = v };
	long distance = hc_vm_call(vm, nest, &n);

	EXPECT_EQ(n.in_guest, 1);
	EXPECT_EQ(n.ret, -77);
	/* fn ran on the caller's stack, just below its frame: no new entry */
	EXPECT(distance > 0 && distance < 256);
}

void test_nested(void)
{
	expect_nested(vm);
}

/* ---- System calls: the guest's results are the native ones ---- */

void test_ids(void)
{
	EXPECT_EQ(GUEST_SYS(SYS_getpid), getpid());
	EXPECT_EQ(GUEST_SYS(SYS_getppid), getppid());
	EXPECT_EQ(GUEST_SYS(SYS_gettid), main_tid);
	EXPECT_EQ(NATIVE_SYS(SYS_gettid), main_tid);
}

void test_pipe(void)
{
	char buf[16] = "", guest[8] = "";
	int p[2];

	EXPECT_EQ(pipe(p), 0);
	EXPECT_EQ(GUEST_SYS(SYS_write, p[1], (long)"guest\0\n", 7), 7);
	EXPECT_EQ(NATIVE_SYS(SYS_write, p[1], (long)"native", 6), 6);
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 13);
	EXPECT_EQ(memcmp(buf, "guest\0\nnative", 13), 0);
	EXPECT_EQ(write(p[1], "from host", 9), 9);
	EXPECT_EQ(GUEST_SYS(SYS_read, p[0], (long)guest, 5), 5);
	EXPECT_EQ(NATIVE_SYS(SYS_read, p[0], (long)buf, 16), 4);
	EXPECT_EQ(memcmp(guest, "from \0", 6), 0);
	EXPECT_EQ(memcmp(buf, "host", 4), 0);
	close(p[0]);
	close(p[1]);
}

void test_file(void)
{
	struct file_read guest = { .path = "/proc/version" }, native = guest;
	long n = hc_vm_call(vm, read_file, &guest);

	EXPECT(n > 14);
	EXPECT_EQ(n, read_file(&native));
	EXPECT_EQ(memcmp(guest.buf, native.buf, sizeof(guest.buf)), 0);
	EXPECT_EQ(memcmp(guest.buf, "Linux version ", 14), 0);
	EXPECT_EQ(guest.close_ret, 0);
	guest.path = "/nonexistent";
	EXPECT_EQ(hc_vm_call(vm, read_file, &guest), -ENOENT);
}

void test_errors(void)
{
	EXPECT_EQ(GUEST_SYS(SYS_close, -1), -EBADF);
	EXPECT_EQ(NATIVE_SYS(SYS_close, -1), -EBADF);
	EXPECT_EQ(GUEST_SYS(SYS_write, 1, 1, 1), -EFAULT);
	EXPECT_EQ(NATIVE_SYS(SYS_write, 1, 1, 1), -EFAULT);
}

void test_uname(void)
{
	struct utsname guest, native;

	memset(&guest, 0xff, sizeof(guest));
	EXPECT_EQ(GUEST_SYS(SYS_uname, (long)&guest), 0);
	EXPECT_EQ(uname(&native), 0);
	EXPECT_EQ(memcmp(&guest, &native, sizeof(guest)), 0);
}

void test_clock_syscall(void)
{
	for (clockid_t c = CLOCK_REALTIME; c <= CLOCK_MONOTONIC; c++) {
		struct timespec before, guest = { 0 }, after;

		clock_gettime(c, &before);
		EXPECT_EQ(GUEST_SYS(SYS_clock_gettime, c, (long)&guest), 0);
		clock_gettime(c, &after);
		EXPECT(ns(&before) <= ns(&guest) && ns(&guest) <= ns(&after));
	}
}

void test_mmap(void)
{
	long pages = 16, p = hc_vm_call(vm, mmap_and_touch, (void *)pages);
	unsigned char vec;

	EXPECT(p > 0 && p % PAGE == 0);
	for (long i = 0; p > 0 && i < pages; i++)
		EXPECT_EQ(((long *)(p + i * PAGE))[1], i + 1);
	EXPECT_EQ(GUEST_SYS(SYS_munmap, p, pages * PAGE), 0);
	EXPECT_EQ(mincore((void *)p, PAGE, &vec), -1);
	EXPECT_EQ(errno, ENOMEM);
}

void test_brk(void)
{
	long cur = NATIVE_SYS(SYS_brk, 0), range[2] = { cur, cur + 16 * PAGE };

	EXPECT_EQ(GUEST_SYS(SYS_brk, 0), cur);
	EXPECT_EQ(GUEST_SYS(SYS_brk, cur + 16 * PAGE), cur + 16 * PAGE);
	EXPECT_EQ(NATIVE_SYS(SYS_brk, 0), cur + 16 * PAGE);
	EXPECT_EQ(hc_vm_call(vm, touch_pages, range), 16);
	EXPECT_EQ(*(char *)(cur + 15 * PAGE), 1);
	EXPECT_EQ(GUEST_SYS(SYS_brk, cur), cur);
}

void test_arch_prctl(void)
{
	static long word = 0x600d6005;
	unsigned long guest = 0, native = 0, gs = 0, now = 0;

	EXPECT_EQ(GUEST_SYS(SYS_arch_prctl, ARCH_GET_FS, (long)&guest), 0);
	EXPECT_EQ(NATIVE_SYS(SYS_arch_prctl, ARCH_GET_FS, (long)&native), 0);
	EXPECT_EQ(guest, native);
	/* glibc's TCB starts with its own address: the vCPU's FS is the thread's */
	EXPECT_EQ(hc_vm_call(vm, fs_word, NULL), native);
	/* a GS base set in the guest is the thread's and the vCPU's */
	EXPECT_EQ(NATIVE_SYS(SYS_arch_prctl, ARCH_GET_GS, (long)&gs), 0);
	EXPECT_EQ(GUEST_SYS(SYS_arch_prctl, ARCH_SET_GS, (long)&word), 0);
	EXPECT_EQ(NATIVE_SYS(SYS_arch_prctl, ARCH_GET_GS, (long)&now), 0);
	EXPECT_EQ(now, &word);
	EXPECT_EQ(hc_vm_call(vm, gs_word, NULL), word);
	EXPECT_EQ(GUEST_SYS(SYS_arch_prctl, ARCH_SET_GS, gs), 0);
}

void test_refused(void)
{
	pid_t pid = getpid();
	long ret[] = {
		GUEST_SYS(SYS_clone, SIGCHLD, 0, 0, 0, 0), GUEST_SYS(SYS_fork),
		GUEST_SYS(SYS_vfork), GUEST_SYS(SYS_clone3, 0, 0), GUEST_SYS(SYS_rt_sigreturn),
		GUEST_SYS(SYS_iopl, 3), GUEST_SYS(0x40000000 | SYS_getpid),	/* x32 */
	};

	if (getpid() != pid)
		_exit(99);	/* a child the library should not have made */
	for (size_t i = 0; i < ARRAY_SIZE(ret); i++) {
		EXPECT_EQ(ret[i], -ENOSYS);
		if (ret[i] > 0)
			waitpid(ret[i], NULL, 0);
	}
}

void test_unknown(void)
{
	EXPECT_EQ(GUEST_SYS(1000), -ENOSYS);
	EXPECT_EQ(NATIVE_SYS(1000), -ENOSYS);
	EXPECT_EQ(GUEST_SYS(-1), -ENOSYS);
	EXPECT_EQ(NATIVE_SYS(-1), -ENOSYS);
}

/*
 * A VMM traced as by strace -f: its tracer sees the guest's write at a
 * syscall stop, in either mode. By hypercall, KVM declines a call it would
 * otherwise make out of the tracer's sight, and the exit path makes it.
 */
static int traced_pipe[2];

static void traced_vmm(void)
{
	struct hc_vm *own;

	if (ptrace(PTRACE_TRACEME, 0, 0, 0) || raise(SIGSTOP))
		_exit(2);
	own = hc_vm_create(0);
	_exit(!own || hc_vm_call(own, guest_syscall,
				 (long[7]){ SYS_write, traced_pipe[1], (long)"t", 1 }) != 1);
}

void test_traced(void)
{
	struct user_regs_struct regs;
	int status, writes = 0;
	bool entry = true;
	char byte;
	pid_t pid;

	EXPECT_EQ(pipe(traced_pipe), 0);
	pid = fork();
	if (pid == 0)
		traced_vmm();
	EXPECT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL), 0);
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, 0, 0) || waitpid(pid, &status, 0) != pid ||
		    !WIFSTOPPED(status))
			break;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80) || ptrace(PTRACE_GETREGS, pid, 0, &regs))
			continue;
		if (entry && regs.orig_rax == SYS_write && regs.rdi == (unsigned long)traced_pipe[1])
			writes++;
		entry = !entry;
	}
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(writes, 1);
	EXPECT_EQ(read(traced_pipe[0], &byte, 1), 1);
	close(traced_pipe[0]);
	close(traced_pipe[1]);
}

/* ---- libc in the guest: it uses SSE ---- */

static long sse(void *arg UNUSED)
{
	__asm__ volatile("pxor %%xmm0, %%xmm0" ::: "xmm0");
	return 1;
}

void test_sse_probe(void)
{
	struct hc_fault fault;
	long ret = hc_vm_call(vm, sse, NULL);

	if (ret == -EFAULT && hc_vm_last_fault(vm, &fault) == 0 && fault.vector == HC_FAULT_KVM)
		snprintf(sse_skip, sizeof(sse_skip),
			 "this machine's KVM cannot run SSE in the guest (exit reason %u)",
			 fault.error_code);
	else
		EXPECT_EQ(ret, 1);
	EXPECT_EQ(hc_vm_call(vm, ret_arg, (void *)3), 3);
}

static long libc_printf(void *arg UNUSED)
{
	long n = printf("%s %d %.2f\n", "printf", 42, 0.5);

	return fflush(stdout) ? -1 : n;
}

void test_printf(void)
{
	int p[2], saved = dup(1);
	char buf[32] = "";

	EXPECT_EQ(pipe(p), 0);
	fflush(stdout);
	dup2(p[1], 1);
	EXPECT_EQ(hc_vm_call(vm, libc_printf, NULL), 15);
	dup2(saved, 1);
	close(saved);
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 15);
	EXPECT_EQ(strcmp(buf, "printf 42 0.50\n"), 0);
	close(p[0]);
	close(p[1]);
}

static long libc_malloc(void *arg UNUSED)
{
	size_t size = 1 << 20, good = 0;
	unsigned char *p = malloc(size);

	if (!p)
		return -ENOMEM;
	memset(p, 0x5a, size);
	for (size_t i = 0; i < size; i++)
		good += p[i] == 0x5a;
	free(p);
	return good;
}

void test_malloc(void)
{
	EXPECT_EQ(hc_vm_call(vm, libc_malloc, NULL), 1 << 20);
}

static long libc_fread(void *arg)
{
	FILE *f = fopen("/proc/version", "r");
	long n;

	if (!f)
		return -errno;
	n = fread(arg, 1, 256, f);
	return fclose(f) ? -1 : n;
}

void test_fread(void)
{
	char guest[256] = "", native[256] = "";
	long n = hc_vm_call(vm, libc_fread, guest);

	EXPECT(n > 14);
	EXPECT_EQ(n, libc_fread(native));
	EXPECT_EQ(memcmp(guest, native, sizeof(guest)), 0);
}

static long libc_clock(void *arg)
{
	return clock_gettime(CLOCK_MONOTONIC, arg);
}

void test_libc_clock(void)
{
	struct timespec before, guest = { 0 }, after;

	clock_gettime(CLOCK_MONOTONIC, &before);
	EXPECT_EQ(hc_vm_call(vm, libc_clock, &guest), 0);
	clock_gettime(CLOCK_MONOTONIC, &after);
	EXPECT(ns(&before) <= ns(&guest) && ns(&guest) <= ns(&after));
}
