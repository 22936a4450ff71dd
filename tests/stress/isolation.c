// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Isolation: nothing a guest does through KVM_HC_HOST_SYSCALL reaches memory
 * or fds that its VMM thread could not reach itself, and a VMM that did not
 * enable the capability is unaffected by one that did. A hostcall that can be
 * made natively too is, and the two results must be equal and as expected:
 *
 *   other process  a child with a VM of its own makes hostcalls on a page and
 *                  a pipe fd that only it has. Its address gives -EFAULT
 *                  here (write from it, read into it, uname into it),
 *                  -KVM_EFAULT as a hypercall's struct and a #PF in the
 *                  guest; its fd gives -EBADF. Its /proc/PID/mem reads the
 *                  page as natively: that is the VMM's own reach (root). The
 *                  child then finds its page and pipe as it left them.
 *   two VMs        a file opened in one VM is the VMM's fd in the other and
 *                  natively, with one offset; ids and memory are the
 *                  thread's own
 *   privileges     a child that created its VM as root and then became
 *                  65534 gets what that user gets natively
 *   capability     a VM created with HC_FORCE_EXIT (capability not enabled),
 *                  here and in a child process, gets -KVM_ENOSYS with the
 *                  struct untouched and makes its calls by the exit path,
 *                  while a capable VM makes hypercalls on another thread
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypercall.h"
#include "stress.h"

/* Guest and native results of one call: both must be @want. */
#define EXPECT_CALL(vm, want, ...) \
	expect_call(__LINE__, vm, want, (long[7]){ __VA_ARGS__ })

static void expect_call(int line, struct hc_vm *vm, long want, long call[7])
{
	long guest = hc_vm_call(vm, guest_syscall, call), native = guest_syscall(call);

	check_eq(line, "the hostcall", guest, want);
	check_eq(line, "the native call", native, want);
}

/* ---- Another process ---- */

#define SECRET_ADDR	((unsigned char *)0x5e0000000000UL)
#define SECRET_FD	321
#define SECRET		0x5e
#define SECRET_LEN	64

struct other {
	pid_t pid;
	int done;		/* a byte there ends the other process */
};

struct busy {
	int pipe[2], done;
};

/* The other process's guest: its secret through a pipe and back, until told to stop. */
GUEST static long guest_busy_with_secret(void *arg)
{
	const struct busy *b = arg;

	for (;;) {
		struct pollfd done = { .fd = b->done, .events = POLLIN };
		long ret;

		if (hc_syscall(SYS_write, b->pipe[1], SECRET_ADDR, SECRET_LEN) != SECRET_LEN ||
		    hc_syscall(SYS_read, b->pipe[0], SECRET_ADDR + SECRET_LEN, SECRET_LEN) !=
		    SECRET_LEN)
			return 1;
		ret = hc_syscall(SYS_poll, &done, 1, 1);
		if (ret)
			return ret == 1 ? 0 : 2;
	}
}

/* Exit 0 iff its guest ran to the end and its page and pipe are as it made them. */
static void other_process(int ready, int done)
{
	unsigned char *secret = mmap(SECRET_ADDR, PAGE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	struct busy busy = { .done = done };
	struct hc_vm *vm = hc_vm_create(0);
	int p[2], unread = 0;

	if (secret != SECRET_ADDR || !vm || pipe(p) || dup2(p[0], SECRET_FD) != SECRET_FD ||
	    pipe(busy.pipe))
		_exit(2);
	memset(secret, SECRET, PAGE);
	if (write(p[1], secret, SECRET_LEN) != SECRET_LEN || write(ready, "r", 1) != 1)
		_exit(2);
	if (hc_vm_call(vm, guest_busy_with_secret, &busy))
		_exit(3);
	for (long i = 0; i < PAGE; i++) {
		if (secret[i] != SECRET)
			_exit(4);
	}
	if (ioctl(SECRET_FD, FIONREAD, &unread) || unread != SECRET_LEN)
		_exit(5);
	_exit(0);
}

static struct other start_other(void)
{
	struct other other = { .pid = -1 };
	int ready[2], done[2];
	char byte;

	if (pipe(ready) || pipe(done)) {
		fail("pipe: %s", strerror(errno));
		return other;
	}
	fflush(stdout);
	other.pid = fork();
	if (other.pid == 0) {
		close(ready[0]);
		close(done[1]);
		other_process(ready[1], done[0]);
	}
	close(ready[1]);
	close(done[0]);
	other.done = done[1];
	set_step("waiting for the other process");
	if (read(ready[0], &byte, 1) != 1)
		fail("the other process did not start");
	close(ready[0]);
	return other;
}

static void end_other(struct other *other)
{
	int status = 0;

	set_step("ending the other process");
	CHECK_EQ(write(other->done, "d", 1), 1);
	close(other->done);
	CHECK_EQ(waitpid(other->pid, &status, 0), other->pid);
	/* 4: its page changed; 5: its pipe was read */
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the other process: wait status %#x, want exit 0", status);
}

void case_other_process_memory(void)
{
	struct other other = start_other();
	struct hc_vm *vm = hc_vm_create(0);
	unsigned char guest_buf[SECRET_LEN] = { 0 }, native_buf[SECRET_LEN] = { 0 };
	int devzero = open("/dev/zero", O_RDONLY), pipe_fds[2], mem;
	struct pt_regs regs;
	struct raw_call call = { .regs = (struct pt_regs *)SECRET_ADDR };
	char path[64];

	if (other.pid < 0 || !vm || pipe(pipe_fds)) {
		fail("setup: %s", strerror(errno));
		return;
	}
	set_step("hostcalls on the other process's address");
	/* not ours: unmapped here */
	CHECK_EQ(msync(SECRET_ADDR, PAGE, MS_ASYNC), -1);
	EXPECT_CALL(vm, -EFAULT, SYS_write, pipe_fds[1], (long)SECRET_ADDR, SECRET_LEN);
	EXPECT_CALL(vm, -EFAULT, SYS_read, devzero, (long)SECRET_ADDR, SECRET_LEN);
	EXPECT_CALL(vm, -EFAULT, SYS_uname, (long)SECRET_ADDR);
	CHECK_EQ(hc_vm_call(vm, guest_raw_hostcall, &call), -KVM_EFAULT);
	expect_page_fault(vm, SECRET_ADDR);
	/* the struct of a call at an address of ours still works */
	fill_regs(&regs, SYS_getpid, 0, 0, 0);
	call.regs = &regs;
	CHECK_EQ(hc_vm_call(vm, guest_raw_hostcall, &call), 0);
	CHECK_EQ(regs.rax, getpid());
	/* what the VMM thread may do natively (root, the parent), the guest may too */
	snprintf(path, sizeof(path), "/proc/%d/mem", other.pid);
	mem = GUEST_SYS(vm, SYS_openat, AT_FDCWD, (long)path, O_RDONLY);
	CHECK(mem >= 0);
	CHECK_EQ(GUEST_SYS(vm, SYS_pread64, mem, (long)guest_buf, SECRET_LEN, (long)SECRET_ADDR),
		 SECRET_LEN);
	CHECK_EQ(pread(mem, native_buf, SECRET_LEN, (long)SECRET_ADDR), SECRET_LEN);
	CHECK_EQ(memcmp(guest_buf, native_buf, SECRET_LEN), 0);
	CHECK_EQ(guest_buf[0], SECRET);
	close(mem);
	end_other(&other);
	hc_vm_destroy(vm);
}

void case_other_process_fds(void)
{
	struct other other = start_other();
	struct hc_vm *vm = hc_vm_create(0);
	char buf[SECRET_LEN], path[64], guest_link[64] = "", native_link[64] = "";
	struct stat st;

	if (other.pid < 0 || !vm) {
		fail("setup: %s", strerror(errno));
		return;
	}
	set_step("hostcalls on the other process's fd");
	CHECK_EQ(fcntl(SECRET_FD, F_GETFD), -1);	/* not ours */
	EXPECT_CALL(vm, -EBADF, SYS_read, SECRET_FD, (long)buf, sizeof(buf));
	EXPECT_CALL(vm, -EBADF, SYS_write, SECRET_FD, (long)"x", 1);
	EXPECT_CALL(vm, -EBADF, SYS_fstat, SECRET_FD, (long)&st);
	EXPECT_CALL(vm, -EBADF, SYS_dup, SECRET_FD);
	EXPECT_CALL(vm, -EBADF, SYS_fcntl, SECRET_FD, F_GETFL);
	EXPECT_CALL(vm, -EBADF, SYS_close, SECRET_FD);
	/* its fd's name through /proc, as root may see it natively */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", other.pid, SECRET_FD);
	CHECK(GUEST_SYS(vm, SYS_readlink, (long)path, (long)guest_link, sizeof(guest_link) - 1) > 0);
	CHECK(NATIVE_SYS(SYS_readlink, (long)path, (long)native_link, sizeof(native_link) - 1) > 0);
	CHECK_EQ(strcmp(guest_link, native_link), 0);
	end_other(&other);
	hc_vm_destroy(vm);
}

/* ---- Two VMs in one process ---- */

struct on_thread {
	struct hc_vm *vm;
	int fd;
	char buf[8];
	long read, tid, guest_tid;
};

/* On a thread of its own: a read of the file opened in the other VM, and gettid. */
static void *read_in_second_vm(void *arg)
{
	struct on_thread *t = arg;

	t->read = GUEST_SYS(t->vm, SYS_read, t->fd, (long)t->buf, 4);
	t->guest_tid = GUEST_SYS(t->vm, SYS_gettid);
	t->tid = gettid();
	return NULL;
}

void case_two_vms(void)
{
	static const long ids[] = { SYS_getpid, SYS_gettid, SYS_getuid, SYS_getppid };
	struct hc_vm *first = hc_vm_create(0), *second = hc_vm_create(0);
	char path[64], buf[8] = "", link[2][64] = { "" }, proc[64];
	struct on_thread t = { .vm = second };
	struct stat st, guest_st;
	pthread_t thread;
	int fd, file, pipe_fds[2] = { -1, -1 };

	if (!first || !second) {
		fail("hc_vm_create: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "/tmp/hostcall-stress-two-vms.%d", getpid());
	file = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	CHECK_EQ(write(file, "0123456789abcdef", 16), 16);
	close(file);

	/* opened in the first VM: the VMM's fd, natively and in the second */
	fd = GUEST_SYS(first, SYS_openat, AT_FDCWD, (long)path, O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(fstat(fd, &st), 0);
	CHECK_EQ(GUEST_SYS(second, SYS_fstat, fd, (long)&guest_st), 0);
	CHECK_EQ(guest_st.st_ino, st.st_ino);
	t.fd = fd;
	pthread_create(&thread, NULL, read_in_second_vm, &t);
	pthread_join(thread, NULL);
	CHECK_EQ(t.read, 4);
	CHECK_EQ(memcmp(t.buf, "0123", 4), 0);
	CHECK_EQ(t.guest_tid, t.tid);
	/* one offset: natively after the second VM's read, then in the first */
	CHECK_EQ(read(fd, buf, 4), 4);
	CHECK_EQ(memcmp(buf, "4567", 4), 0);
	CHECK_EQ(GUEST_SYS(first, SYS_lseek, fd, 0, SEEK_CUR), 8);
	/* memory: the first VM's read lands where the VMM reads it */
	CHECK_EQ(GUEST_SYS(first, SYS_pread64, fd, (long)buf, 4, 12), 4);
	CHECK_EQ(memcmp(buf, "cdef", 4), 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK(GUEST_SYS(second, SYS_readlink, (long)proc, (long)link[0], 63) > 0);
	CHECK(NATIVE_SYS(SYS_readlink, (long)proc, (long)link[1], 63) > 0);
	CHECK_EQ(strcmp(link[0], path), 0);
	CHECK_EQ(strcmp(link[1], path), 0);
	/* a pipe made in the second VM, written natively, read in the first */
	CHECK_EQ(GUEST_SYS(second, SYS_pipe2, (long)pipe_fds, 0), 0);
	CHECK_EQ(write(pipe_fds[1], "hi", 2), 2);
	CHECK_EQ(GUEST_SYS(first, SYS_read, pipe_fds[0], (long)buf, 2), 2);
	CHECK_EQ(memcmp(buf, "hi", 2), 0);
	/* ids: the thread's own in both */
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		CHECK_EQ(GUEST_SYS(first, ids[i]), NATIVE_SYS(ids[i]));
		CHECK_EQ(GUEST_SYS(second, ids[i]), NATIVE_SYS(ids[i]));
	}
	/* closed in the second VM: gone for all */
	CHECK_EQ(GUEST_SYS(second, SYS_close, fd), 0);
	CHECK_EQ(fcntl(fd, F_GETFD), -1);
	CHECK_EQ(GUEST_SYS(first, SYS_fstat, fd, (long)&guest_st), -EBADF);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	unlink(path);
	hc_vm_destroy(first);
	hc_vm_destroy(second);
}

/* ---- Dropped privileges ---- */

#define NOBODY	65534

static void unprivileged(const char *secret)
{
	struct hc_vm *vm = hc_vm_create(0);	/* /dev/kvm is root's */
	char parent_mem[64];
	pid_t parent = getppid();

	if (!vm || setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY)) {
		fail("VM, setgroups, setresgid, setresuid: %s", strerror(errno));
		_exit(1);
	}
	EXPECT_CALL(vm, NOBODY, SYS_getuid);
	EXPECT_CALL(vm, NOBODY, SYS_geteuid);
	EXPECT_CALL(vm, -EACCES, SYS_openat, AT_FDCWD, (long)secret, O_RDONLY);
	EXPECT_CALL(vm, -EACCES, SYS_openat, AT_FDCWD, (long)secret, O_WRONLY);
	EXPECT_CALL(vm, -EACCES, SYS_openat, AT_FDCWD, (long)"/dev/kvm", O_RDWR);
	EXPECT_CALL(vm, -EPERM, SYS_chown, (long)secret, NOBODY, NOBODY);
	EXPECT_CALL(vm, -EPERM, SYS_kill, parent, 0);
	EXPECT_CALL(vm, -EPERM, SYS_kill, 1, 0);
	EXPECT_CALL(vm, -EPERM, SYS_setresuid, 0, 0, 0);
	snprintf(parent_mem, sizeof(parent_mem), "/proc/%d/mem", parent);
	EXPECT_CALL(vm, -EACCES, SYS_openat, AT_FDCWD, (long)parent_mem, O_RDONLY);
	fflush(stdout);
	_exit(case_failed);
}

void case_dropped_privileges(void)
{
	char secret[64];
	int fd, status = 0;
	pid_t pid;

	snprintf(secret, sizeof(secret), "/tmp/hostcall-stress-secret.%d", getpid());
	fd = open(secret, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0 || write(fd, "secret", 6) != 6 || fchown(fd, 0, 0)) {
		fail("%s: %s", secret, strerror(errno));
		return;
	}
	close(fd);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		unprivileged(secret);
	set_step("waiting for the unprivileged child");
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	unlink(secret);
}

/* ---- A VM without the capability ---- */

/* Raw hypercalls and exit-path calls in @vm until @until; how many rounds, or -1 if one failed. */
static long hypercall_rounds(struct hc_vm *vm, bool capable, long until)
{
	unsigned char page[PAGE], before[PAGE];
	struct pt_regs *regs = (struct pt_regs *)(page + 512);
	struct raw_call call = { .regs = regs };
	long rounds = 0;
	char byte = 0;
	int p[2];

	if (pipe(p))
		return -1;
	for (; now_ns() < until; rounds++) {
		memset(page, 0x77, sizeof(page));
		fill_regs(regs, SYS_getpid, 0, 0, 0);
		memcpy(before, page, sizeof(page));
		CHECK_EQ(hc_vm_call(vm, guest_raw_hostcall, &call), capable ? 0 : -KVM_ENOSYS);
		if (capable) {
			CHECK_EQ(regs->rax, getpid());
			regs->rax = SYS_getpid;
		}
		CHECK_EQ(memcmp(page, before, sizeof(page)), 0);
		CHECK_EQ(GUEST_SYS(vm, SYS_gettid), gettid());
		CHECK_EQ(GUEST_SYS(vm, SYS_write, p[1], (long)"e", 1), 1);
		CHECK_EQ(read(p[0], &byte, 1), 1);
		CHECK_EQ(byte, 'e');
		if (case_failed)
			return -1;
	}
	close(p[0]);
	close(p[1]);
	return rounds;
}

struct rounds {
	struct hc_vm *vm;
	long until, done;
};

static void *capable_rounds(void *arg)
{
	struct rounds *r = arg;

	r->done = hypercall_rounds(r->vm, true, r->until);
	return NULL;
}

void case_incapable_vm(void)
{
	long until = now_ns() + (long)(load_seconds * 1e9), incapable;
	struct rounds capable = { .until = until };
	struct hc_vm *vm;
	int status = 0;
	pthread_t thread;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* a VMM of its own, which never enabled the capability */
		vm = hc_vm_create(HC_FORCE_EXIT);
		_exit(vm && hypercall_rounds(vm, false, until) > 0 ? 0 : 1);
	}
	capable.vm = hc_vm_create(0);
	vm = hc_vm_create(HC_FORCE_EXIT);
	if (!capable.vm || !vm) {
		fail("hc_vm_create: %s", strerror(errno));
		return;
	}
	CHECK_EQ(hc_vm_mode(vm), HC_MODE_EXIT);
	set_step("hypercalls in capable and incapable VMs");
	pthread_create(&thread, NULL, capable_rounds, &capable);
	incapable = hypercall_rounds(vm, false, until);
	pthread_join(thread, NULL);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	CHECK(incapable > 0);
	CHECK(capable.done > 0);
	printf("#   rounds: capable %ld, incapable %ld\n", capable.done, incapable);
	hc_vm_destroy(capable.vm);
	hc_vm_destroy(vm);
}
