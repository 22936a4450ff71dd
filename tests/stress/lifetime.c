// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Lifetimes that end while a hostcall runs:
 *
 *   killed     a child process whose threads are in hostcalls, blocked
 *              (read, nanosleep, futex, poll) or looping (getpid), on one
 *              VM or two, single- or multi-threaded, is SIGKILLed: it must
 *              die of SIGKILL, promptly, each time. One victim is single-
 *              threaded: there fdget() takes no reference to the vCPU file
 *              for KVM_RUN, which takes its own (patch 4 of the series).
 *   the struct another thread munmap()s or makes read-only while the call
 *              (a read of an empty pipe) blocks, and then writes the byte
 *              the read waits for; or that the call itself unmaps or
 *              protects. The status must be -KVM_EFAULT although the call
 *              ran (the byte consumed, the buffer filled), and nothing but
 *              the call's own buffer written: a read-only struct unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hypercall.h"
#include "stress.h"

/* ---- A process killed in hostcalls ---- */

enum block { READ_PIPE, NANOSLEEP, FUTEX_WAIT_FOREVER, POLL_FOREVER, GETPID_LOOP };

/* What a thread of the victim runs in its guest, and tells the parent through @ready. */
struct victim_thread {
	struct hc_vm *vm;
	enum block block;
	int ready;
	int pipe[2];
	int futex;
};

/* The record a victim's thread writes from its guest just before the call that must not return. */
struct ready {
	int tid, block;
};

GUEST static long guest_block(void *arg)
{
	struct victim_thread *t = arg;
	struct timespec minute = { 60, 0 };
	struct ready ready = { (int)hc_syscall(SYS_gettid), t->block };
	char byte;

	if (hc_syscall(SYS_write, t->ready, &ready, sizeof(ready)) != sizeof(ready))
		return -1;
	switch (t->block) {
	case READ_PIPE:
		return hc_syscall(SYS_read, t->pipe[0], &byte, 1);
	case NANOSLEEP:
		return hc_syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &minute, 0);
	case FUTEX_WAIT_FOREVER:
		return hc_syscall(SYS_futex, &t->futex, FUTEX_WAIT, 0, 0, 0, 0);
	case POLL_FOREVER:
		return hc_syscall(SYS_poll, 0, 0, -1);
	case GETPID_LOOP:
		for (;;)
			hc_syscall(SYS_getpid);
	}
	return -1;
}

static void *victim_thread(void *arg)
{
	hc_vm_call(((struct victim_thread *)arg)->vm, guest_block, arg);
	_exit(3);	/* no call of these returns */
}

/*
 * The victims: 0 one thread in read(); 1 five threads, one per kind; 2 the
 * same on an HC_EINTR VM, and a read on a second VM; 3 one thread in a
 * getpid loop, killed at a random moment.
 */
#define VARIANTS	4

static int victim_threads(int variant)
{
	return (int[VARIANTS]){ 1, 5, 6, 1 }[variant];
}

static void victim(int variant, int ready)
{
	struct hc_vm *vm = hc_vm_create(variant == 2 ? HC_EINTR : 0);
	struct hc_vm *second = variant == 2 ? hc_vm_create(0) : vm;
	struct victim_thread t[6];
	pthread_t thread;
	int n = victim_threads(variant);

	if (!vm || !second)
		_exit(4);
	for (int i = 0; i < n; i++) {
		t[i] = (struct victim_thread){
			.vm = i == 5 ? second : vm, .ready = ready,
			.block = variant == 3 ? GETPID_LOOP : i == 5 ? READ_PIPE : (enum block)i,
		};
		if (pipe(t[i].pipe))
			_exit(4);
	}
	/* thread 0, whose block is read (or the getpid loop), is the main thread */
	for (int i = 1; i < n; i++)
		pthread_create(&thread, NULL, victim_thread, &t[i]);
	victim_thread(&t[0]);
}

static void kill_victim(int round, int variant)
{
	int ready[2], status = 0, n = victim_threads(variant);
	struct ready records[6];
	long deadline;
	pid_t pid;

	if (pipe(ready)) {
		fail("pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		victim(variant, ready[1]);
	}
	close(ready[1]);
	set_step("waiting for the victim's threads to enter their hostcalls");
	for (int i = 0; i < n; i++) {
		if (read(ready[0], &records[i], sizeof(records[i])) != sizeof(records[i])) {
			fail("round %d: the victim ended before all its threads were in hostcalls",
			     round);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(ready[0]);
			return;
		}
	}
	close(ready[0]);
	set_step("waiting for the victim's calls to block");
	for (int i = 0; i < n; i++) {
		if (records[i].block != GETPID_LOOP)
			wait_sleeping(pid, records[i].tid);
	}
	if (variant == 3)
		sleep_ns(random_below(5 * MSEC));
	set_step("waiting for the killed victim");
	kill(pid, SIGKILL);
	deadline = now_ns() + 20000 * MSEC;
	while (waitpid(pid, &status, WNOHANG) == 0 && now_ns() < deadline)
		sleep_ns(MSEC);
	if (now_ns() >= deadline) {
		fail("round %d (victim %d): still there 20 s after SIGKILL", round, variant);
		return;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail("round %d (victim %d): wait status %#x, want death by SIGKILL", round, variant,
		     status);
}

void case_kill_in_hostcall(void)
{
	for (int round = 0; round < 2 * VARIANTS; round++)
		kill_victim(round, round % VARIANTS);
}

/* ---- The struct made unwritable while its call runs ---- */

enum change { UNMAP, READ_ONLY };

#define FILL		0x5a
#define CANARY		0xc3
#define BYTE_AT		100

/* The struct's page, the call's buffer and pipe, and the thread that changes the page. */
struct victim_struct {
	enum change change;
	unsigned char *page, *buf;
	unsigned char before[PAGE];
	struct raw_call call;
	int pipe[2];
	pid_t vcpu_tid;
};

static void *change_while_blocked(void *arg)
{
	struct victim_struct *s = arg;

	set_step("waiting for the raw read to block");
	while (!__atomic_load_n(&s->call.entered, __ATOMIC_SEQ_CST))
		sleep_ns(MSEC);
	/* twice: asleep for a moment before the read (a lock) would not be asleep 10 ms later */
	wait_sleeping(getpid(), s->vcpu_tid);
	sleep_ns(10 * MSEC);
	wait_sleeping(getpid(), s->vcpu_tid);
	if (s->change == UNMAP)
		CHECK_EQ(munmap(s->page, PAGE), 0);
	else
		CHECK_EQ(mprotect(s->page, PAGE, PROT_READ), 0);
	CHECK_EQ(write(s->pipe[1], "x", 1), 1);
	return NULL;
}

/* A page filled with FILL holding the struct at @offset; a buffer page of canaries. */
static bool prepare(struct victim_struct *s, enum change change, long offset)
{
	*s = (struct victim_struct){ .change = change, .vcpu_tid = gettid() };
	s->page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	s->buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->page == MAP_FAILED || s->buf == MAP_FAILED || pipe(s->pipe)) {
		fail("mmap, pipe: %s", strerror(errno));
		return false;
	}
	memset(s->page, FILL, PAGE);
	memset(s->buf, CANARY, PAGE);
	s->call.regs = (struct pt_regs *)(s->page + offset);
	return true;
}

/* After the call: its status, its buffer, and the struct's page. */
static void check_changed(struct victim_struct *s, long status, bool read_ran)
{
	int unread = -1, devzero = open("/dev/zero", O_RDONLY);

	CHECK_EQ(status, -KVM_EFAULT);
	for (long i = 0; i < PAGE; i++) {
		if (s->buf[i] != (i == BYTE_AT && read_ran ? 'x' : CANARY)) {
			fail("buffer byte %ld is %#x: the read did not store its byte there", i,
			     s->buf[i]);
			break;
		}
	}
	if (read_ran) {
		CHECK_EQ(ioctl(s->pipe[0], FIONREAD, &unread), 0);
		CHECK_EQ(unread, 0);	/* the call ran: it consumed the byte */
	}
	if (s->change == UNMAP) {
		CHECK_EQ(msync(s->page, PAGE, MS_ASYNC), -1);
		CHECK_EQ(errno, ENOMEM);
	} else {
		CHECK_EQ(memcmp(s->page, s->before, PAGE), 0);
		/* still read-only: a native read into it faults */
		CHECK_EQ(read(devzero, s->page, 1), -1);
		CHECK_EQ(errno, EFAULT);
		munmap(s->page, PAGE);
	}
	close(devzero);
	close(s->pipe[0]);
	close(s->pipe[1]);
	munmap(s->buf, PAGE);
}

static void struct_changed(enum change change)
{
	struct hc_vm *vm = hc_vm_create(0);
	struct victim_struct s;
	pthread_t changer;
	long status;

	if (!vm) {
		fail("hc_vm_create: %s", strerror(errno));
		return;
	}
	/* Another thread changes the page while the read blocks; the struct at its start, middle, end. */
	for (int round = 0; round < 6; round++) {
		long offset = (long[]){ 0, 1000, PAGE - (long)sizeof(struct pt_regs) }[round % 3];

		if (!prepare(&s, change, offset))
			break;
		fill_regs(s.call.regs, SYS_read, s.pipe[0], (long)(s.buf + BYTE_AT), 1);
		memcpy(s.before, s.page, PAGE);
		pthread_create(&changer, NULL, change_while_blocked, &s);
		set_step("the raw read blocking");
		status = hc_vm_call(vm, guest_raw_hostcall, &s.call);
		pthread_join(changer, NULL);
		check_changed(&s, status, true);
	}
	/* The call itself unmaps or protects its struct's page. */
	set_step("a call that changes its own struct's page");
	if (prepare(&s, change, 2000)) {
		fill_regs(s.call.regs, change == UNMAP ? SYS_munmap : SYS_mprotect, (long)s.page,
			  PAGE, PROT_READ);
		memcpy(s.before, s.page, PAGE);
		status = hc_vm_call(vm, guest_raw_hostcall, &s.call);
		check_changed(&s, status, false);
	}
	hc_vm_destroy(vm);
}

void case_struct_unmapped(void)
{
	struct_changed(UNMAP);
}

void case_struct_read_only(void)
{
	struct_changed(READ_ONLY);
}
