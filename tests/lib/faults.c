// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-lib-test's points on faults, which make hc_vm_call -EFAULT with
 * hc_vm_last_fault() exact and leave the VM working; on signals, whose
 * handlers run on the host while the guest continues; on threads that share
 * one VM; and on the lifetime of VMs: destroyed, made anew, two at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define THREADS		4
#define THREAD_CALLS	10000

/* ---- Guest functions ---- */

/* Signals: the handler sets sig_seen; guest functions set started first. */
static int sig_seen, started, sig_pipe[2] = { -1, -1 };
static long deadline;

GUEST static long now_ns(void)
{
	struct timespec ts;

	hc_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * SECOND + ts.tv_nsec;
}

/* Spin until a handler ran: no system call but a clock look every 2^22 rounds. */
GUEST static long spin(void *arg UNUSED)
{
	__atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
	for (unsigned long n = 1; !__atomic_load_n(&sig_seen, __ATOMIC_SEQ_CST); n++) {
		if (n % (1 << 22) == 0 && now_ns() > deadline)
			return -ETIMEDOUT;
	}
	return 42;
}

GUEST static long blocking_read(void *arg)
{
	__atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
	return hc_syscall(SYS_read, sig_pipe[0], (long)arg, 8);
}

GUEST static long do_pause(void *arg UNUSED)
{
	__atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
	return hc_syscall(SYS_pause);
}

GUEST static long tid_and_count(void *arg)
{
	return hc_syscall(SYS_gettid) << 32 | (long)arg;
}

/* ---- Faults: -EFAULT, hc_vm_last_fault() exact, and the VM still works ---- */

#define MMIO_SKIP "this machine's KVM reports a guest access to unmapped host memory " \
		  "as MMIO (exit reason 6), not EFAULT"

/* fn(arg) in v faults as said; an HC_FAULT_KVM for MMIO skips if may_skip. */
static void expect_fault(struct hc_vm *v, long (*fn)(void *), const void *arg, int vector,
			 const char *rip, const void *addr, unsigned int error_bits, bool may_skip)
{
	struct hc_fault fault = { .vector = 99 };

	EXPECT_EQ(hc_vm_call(v, fn, (void *)arg), -EFAULT);
	EXPECT_EQ(hc_vm_last_fault(v, &fault), 0);
	if (may_skip && fault.vector == HC_FAULT_KVM && fault.error_code == KVM_EXIT_MMIO) {
		point_skip = MMIO_SKIP;
		return;
	}
	EXPECT_EQ(fault.vector, vector);
	EXPECT_EQ(fault.rip, rip);
	EXPECT_EQ(fault.addr, addr);
	EXPECT_EQ(fault.error_code & error_bits, error_bits);
	EXPECT_EQ(hc_vm_call(v, ret_arg, (void *)11), 11);
	EXPECT_EQ(hc_vm_last_fault(v, &fault), -ENOENT);
}

/* A page holding 0x42 at 8, alone in 2 MiB that no VM has seen. */
static char *fresh_page(int prot)
{
	static long next = 0x200000000000L;
	char *p = mmap((void *)next, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	next += 2 << 20;
	p[8] = 0x42;
	mprotect(p, PAGE, prot);
	return p;
}

void test_fault_unmapped(void)
{
	char *p = fresh_page(PROT_READ);

	munmap(p, PAGE);
	expect_fault(vm, read_at, p + 8, 14, read_insn, p + 8, 0, false);
}

void test_fault_read_only(void)
{
	char *p = fresh_page(PROT_READ);

	EXPECT_EQ(hc_vm_call(vm, read_at, p + 8), 0x42);
	expect_fault(vm, write_at, p + 16, 14, write_insn, p + 16, 2, false);
	EXPECT_EQ(p[16], 0);
	munmap(p, PAGE);
}

/* A scratch VM: this machine's KVM leaves one after MMIO unusable (see test_kvm_stops). */
void test_fault_stale_unmap(void)
{
	struct hc_vm *v = hc_vm_create(0);
	char *p = fresh_page(PROT_READ | PROT_WRITE);

	EXPECT_EQ(hc_vm_call(v, read_at, p + 8), 0x42);
	munmap(p, PAGE);
	expect_fault(v, read_at, p + 8, 14, read_insn, p + 8, 0, true);
	hc_vm_destroy(v);
}

void test_fault_stale_protect(void)
{
	struct hc_vm *v = hc_vm_create(0);
	unsigned char *p = (unsigned char *)fresh_page(PROT_READ | PROT_WRITE);

	EXPECT_EQ(hc_vm_call(v, write_at, p + 24), 0);
	EXPECT_EQ(p[24], 0x99);
	mprotect(p, PAGE, PROT_READ);
	expect_fault(v, write_at, p + 32, 14, write_insn, p + 32, 2, true);
	if (!point_skip)
		EXPECT_EQ(hc_vm_call(v, read_at, p + 24), 0x99);
	munmap(p, PAGE);
	hc_vm_destroy(v);
}

void test_fault_addresses(void)
{
	expect_fault(vm, read_at, NULL, 14, read_insn, NULL, 0, false);
	expect_fault(vm, read_at, (void *)0xffffffff81000000UL, 14, read_insn,
		     (void *)0xffffffff81000000UL, 0, false);
	/* non-canonical: #GP, no address */
	expect_fault(vm, read_at, (void *)(1UL << 63), 13, read_insn, NULL, 0, false);
}

void test_fault_ud2(void)
{
	expect_fault(vm, do_ud2, NULL, 6, ud2_insn, NULL, 0, false);
}

void test_fault_divide(void)
{
	EXPECT_EQ(hc_vm_call(vm, divide, (void *)1), 1);
	expect_fault(vm, divide, NULL, 0, div_insn, NULL, 0, false);
}

/* Exits that hc_vm_call does not serve stop the call; the next one starts anew. */
void test_kvm_stops(void)
{
	static const struct {
		long (*fn)(void *);
		unsigned int exit_reason;
	} stops[] = {
		{ port_out, KVM_EXIT_IO }, { port_in, KVM_EXIT_IO }, { port_outsb, KVM_EXIT_IO },
		{ port_insb, KVM_EXIT_IO }, { do_hlt, KVM_EXIT_HLT },
	};
	char byte = 'b';

	for (size_t i = 0; i < ARRAY_SIZE(stops); i++) {
		struct hc_fault fault = { 0 };

		EXPECT_EQ(hc_vm_call(vm, stops[i].fn, &byte), -EFAULT);
		EXPECT_EQ(hc_vm_last_fault(vm, &fault), 0);
		EXPECT_EQ(fault.vector, HC_FAULT_KVM);
		EXPECT_EQ(fault.error_code, stops[i].exit_reason);
		if (hc_vm_call(vm, ret_arg, (void *)i) != (long)i) {
			hc_vm_last_fault(vm, &fault);
			printf("#   after stop %zu, the next call faulted: vector %d rip %#lx addr %#lx\n",
			       i, fault.vector, fault.rip, fault.addr);
			point_failed = true;
		}
	}
}

/* ---- Signals: handlers run on the host, the guest continues ---- */

static int handler_in_guest;
static pid_t handler_tid;
static long handler_call;

static void on_signal(int sig)
{
	handler_in_guest = hc_in_guest();
	handler_tid = gettid();
	handler_call = hc_vm_call(vm, ret_arg, (void *)7);
	if (sig_pipe[1] >= 0)
		hc_syscall(SYS_write, sig_pipe[1], "x", 1);
	__atomic_store_n(&sig_seen, sig, __ATOMIC_SEQ_CST);
}

static void handle(int sig, int sa_flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = sa_flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sig_seen = started = handler_tid = handler_call = 0;
	handler_in_guest = -1;
}

static void expect_handled(int sig)
{
	EXPECT_EQ(sig_seen, sig);
	EXPECT_EQ(handler_in_guest, 0);
	EXPECT_EQ(handler_tid, main_tid);
	/* the handler's thread is in a call of vm already */
	EXPECT_EQ(handler_call, -EBUSY);
}

void test_signal_timer(void)
{
	struct itimerval t = { .it_value.tv_usec = 20000 };

	handle(SIGALRM, SA_RESTART);
	deadline = now_ns() + 10 * SECOND;
	EXPECT_EQ(setitimer(ITIMER_REAL, &t, NULL), 0);
	EXPECT_EQ(hc_vm_call(vm, spin, NULL), 42);
	expect_handled(SIGALRM);
}

/* The main thread sleeps in the kernel: blocked in a system call. */
static bool main_sleeps(void)
{
	char path[64], buf[512] = "", *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", main_tid);
	fd = open(path, O_RDONLY);
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
	p = strrchr(buf, ')');
	return p && !strncmp(p, ") S", 3);
}

/* SIGUSR1 to the main thread once fn started, and (if arg) sleeps. */
static void *kicker(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		if (__atomic_load_n(&started, __ATOMIC_SEQ_CST) && (!arg || main_sleeps()))
			break;
		usleep(1000);
	}
	syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
	return NULL;
}

void test_signal_thread(void)
{
	pthread_t t;

	handle(SIGUSR1, SA_RESTART);
	deadline = now_ns() + 10 * SECOND;
	pthread_create(&t, NULL, kicker, NULL);
	EXPECT_EQ(hc_vm_call(vm, spin, NULL), 42);
	pthread_join(t, NULL);
	expect_handled(SIGUSR1);
}

/*
 * A read of an empty pipe in v's guest (natively if v is NULL) that SIGUSR1
 * interrupts, whose handler writes a byte to the pipe: 1 if the read
 * restarted and got that byte, or its error.
 */
static long interrupted_read(struct hc_vm *v, int sa_flags)
{
	struct hc_fault fault = { 0 };
	char buf[8] = "";
	pthread_t t;
	long ret;

	EXPECT_EQ(pipe(sig_pipe), 0);
	handle(SIGUSR1, sa_flags);
	pthread_create(&t, NULL, kicker, (void *)1);
	ret = v ? hc_vm_call(v, blocking_read, buf) : blocking_read(buf);
	pthread_join(t, NULL);
	if (ret == -EFAULT && v)
		printf("#   -EFAULT: hc_vm_last_fault() %d: vector %d error %#x rip %#lx addr %#lx\n",
		       hc_vm_last_fault(v, &fault), fault.vector, fault.error_code, fault.rip,
		       fault.addr);
	EXPECT_EQ(sig_seen, SIGUSR1);
	EXPECT_EQ(handler_in_guest, 0);
	if (ret == 1)
		EXPECT_EQ(buf[0], 'x');
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
	return ret;
}

void test_read_restart(void)
{
	EXPECT_EQ(interrupted_read(NULL, SA_RESTART), 1);
	EXPECT_EQ(interrupted_read(vm, SA_RESTART), 1);
}

void test_read_no_restart(void)
{
	long native = interrupted_read(NULL, 0);

	EXPECT_EQ(native, -EINTR);
	/* the hypercall restarts it; the exit path makes the native call */
	EXPECT_EQ(interrupted_read(vm, 0), mode == HC_MODE_HYPERCALL ? 1 : native);
}

void test_read_hc_eintr(void)
{
	struct hc_vm *v = hc_vm_create(HC_EINTR);

	EXPECT(v && hc_vm_mode(v) == mode);
	if (!v)
		return;
	EXPECT_EQ(interrupted_read(v, SA_RESTART), mode == HC_MODE_HYPERCALL ? -EINTR : 1);
	EXPECT_EQ(interrupted_read(v, 0), -EINTR);
	hc_vm_destroy(v);
}

void test_pause(void)
{
	pthread_t t;

	handle(SIGUSR1, SA_RESTART);
	pthread_create(&t, NULL, kicker, (void *)1);
	EXPECT_EQ(hc_vm_call(vm, do_pause, NULL), -EINTR);
	pthread_join(t, NULL);
	EXPECT_EQ(sig_seen, SIGUSR1);
	EXPECT_EQ(handler_in_guest, 0);
}

/* ---- Threads ---- */

static pthread_barrier_t barrier;

static void *worker(void *arg)
{
	long tid = gettid(), *wrong = arg;

	pthread_barrier_wait(&barrier);
	for (long i = 0; i < THREAD_CALLS; i++)
		*wrong += hc_vm_call(vm, tid_and_count, (void *)i) != (tid << 32 | i);
	return NULL;
}

void test_threads(void)
{
	pthread_t t[THREADS];
	long wrong[THREADS] = { 0 };
	struct timespec start, end;

	pthread_barrier_init(&barrier, NULL, THREADS);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, &wrong[i]);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(wrong[i], 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	pthread_barrier_destroy(&barrier);
	printf("# %d calls in %.2f s\n", THREADS * THREAD_CALLS, (double)(ns(&end) - ns(&start)) / SECOND);
}

/* A thread's TLS in fn, against its own: fs_word() reads the TCB's self-pointer. */
static void *tls_in_guest(void *ok)
{
	*(bool *)ok = hc_vm_call(vm, fs_word, NULL) == fs_word(NULL);
	return NULL;
}

void test_thread_reuse(void)
{
	bool ok[3] = { false };
	pthread_t t;

	/* One after the other: each takes the vCPU the one before gave back. */
	for (int i = 0; i < 3; i++) {
		pthread_create(&t, NULL, tls_in_guest, &ok[i]);
		pthread_join(t, NULL);
		EXPECT(ok[i]);
	}
}

#define MAX_FDS	256

/* The fds whose /proc/self/fd link starts with @prefix: named[fd]. */
static void fds_named(const char *prefix, bool named[MAX_FDS])
{
	char path[32], link[64];

	for (int fd = 0; fd < MAX_FDS; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		named[fd] = n > 0 && !strncmp(link, prefix, strlen(prefix));
	}
}

/* The lowest fd named @prefix that was not before, or -1. */
static int new_fd(const char *prefix, const bool before[MAX_FDS])
{
	bool now[MAX_FDS];

	fds_named(prefix, now);
	for (int fd = 0; fd < MAX_FDS; fd++) {
		if (now[fd] && !before[fd])
			return fd;
	}
	return -1;
}

static void *call_ret_arg(void *v)
{
	return (void *)hc_vm_call(v, ret_arg, (void *)7);
}

void test_vcpu_fd(void)
{
	bool vms[MAX_FDS], vcpus[MAX_FDS];
	int hole = dup(0), vm_fd, vcpu_fd, fd;
	struct hc_vm *v;
	void *ret = NULL;
	pthread_t t;

	fds_named("anon_inode:kvm-vm", vms);
	v = hc_vm_create(0);
	EXPECT(v != NULL);
	if (!v)
		return;
	vm_fd = new_fd("anon_inode:kvm-vm", vms);
	/* a free fd below the VM's, which KVM would give the vCPU */
	close(hole);
	fds_named("anon_inode:kvm-vcpu:", vcpus);
	pthread_create(&t, NULL, call_ret_arg, v);
	pthread_join(t, &ret);
	EXPECT_EQ(ret, 7);
	vcpu_fd = new_fd("anon_inode:kvm-vcpu:", vcpus);
	EXPECT(hole < vm_fd);
	EXPECT(vcpu_fd > vm_fd);
	EXPECT_EQ(fcntl(vcpu_fd, F_GETFD), FD_CLOEXEC);
	fd = open("/dev/null", O_RDONLY);
	EXPECT_EQ(fd, hole);
	close(fd);
	hc_vm_destroy(v);
}

/* ---- Lifetime ---- */

void test_destroy_create(void)
{
	struct hc_vm *v = hc_vm_create(0);
	struct hc_fault fault;

	EXPECT_EQ(hc_vm_call(v, ret_arg, (void *)1), 1);
	hc_vm_destroy(v);
	hc_vm_destroy(NULL);
	v = hc_vm_create(0);
	EXPECT(v != NULL);
	EXPECT_EQ(hc_vm_call(v, guest_syscall, (long[7]){ SYS_gettid }), main_tid);
	EXPECT_EQ(hc_vm_last_fault(v, &fault), -ENOENT);
	hc_vm_destroy(v);
}

void test_two_vms(void)
{
	struct hc_vm *v = hc_vm_create(0);
	struct hc_fault fault;

	EXPECT_EQ(hc_vm_call(v, ret_arg, (void *)1), 1);
	EXPECT_EQ(hc_vm_call(vm, ret_arg, (void *)2), 2);
	EXPECT_EQ(hc_vm_call(v, do_ud2, NULL), -EFAULT);
	EXPECT_EQ(hc_vm_last_fault(vm, &fault), -ENOENT);
	EXPECT_EQ(hc_vm_last_fault(v, &fault), 0);
	EXPECT_EQ(fault.vector, 6);
	EXPECT_EQ(GUEST_SYS(SYS_getpid), getpid());
	EXPECT_EQ(hc_vm_call(v, guest_syscall, (long[7]){ SYS_getpid }), getpid());
	hc_vm_destroy(v);
	EXPECT_EQ(hc_vm_call(vm, ret_arg, (void *)3), 3);
}

void test_nested_other(void)
{
	struct hc_vm *v = hc_vm_create(0);

	expect_nested(v);
	hc_vm_destroy(v);
}
