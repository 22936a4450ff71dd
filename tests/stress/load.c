// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Loads: vCPU threads ("workers") making hostcalls in a loop while other
 * threads ("churners") change what those calls depend on; then every result
 * must be one that a native call could give, and the counts must add up.
 *
 * Workers, each on a vCPU of its own, of the load's VM (a call a signal
 * interrupts restarts) or of its HC_EINTR VM (it may end with -EINTR):
 *   SPIN       batches of getpid and gettid: the calling thread's own
 *   READ       one byte at a time from a pipe the feeder fills with 0, 1,
 *              2, ...: each byte the next, none lost, none twice
 *   SLEEP      a 20 ms clock_nanosleep: 0, not before 20 ms have passed
 *   SLOT_READ  one byte from SLOT_FD, which the fd churner points at pipes,
 *              at /dev/null or at nothing: a pipe's byte, 0 or -EBADF
 *   SLOT_POLL  a 10 ms poll of SLOT_FD: 0, or POLLIN, POLLNVAL or POLLHUP
 *
 * Churners, a thread each:
 *   feeder      writes the READ workers' bytes; at the end their pipes
 *               close, and each worker must have read every byte written
 *   fd churner  dup2()s a pipe onto SLOT_FD and writes a byte into it,
 *               closes SLOT_FD, dup2()s /dev/null onto it; at the end the
 *               bytes the workers read plus those left equal those written
 *   signaller   queues SIGRTMIN to random workers: each handled once
 *   memslots    adds and deletes a memslot of its own in the load's VM
 *   mapper      maps 2 MiB in one of 16 fresh GiB windows (a new memslot
 *               each, the first time), has a guest fill it, mremap()s it, has
 *               a guest sum it, unmaps it and has a guest touch it (#PF)
 *   VM churner  creates a VM (hypercall, HC_EINTR, exit), makes getpid,
 *               gettid and a raw hypercall there, destroys it
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hypercall.h"
#include "stress.h"

enum role { SPIN, READ, SLEEP, SLOT_READ, SLOT_POLL };
#define ROLES		(SLOT_POLL + 1)

static const char *const role_names[] = {
	"getpid/gettid", "pipe read", "nanosleep", "churned-fd read", "churned-fd poll",
};

#define MAX_WORKERS	12
#define SLOT_FD		200
#define SLOT_PIPES	4
#define MAPPER_WINDOWS	16
/*
 * Long enough that a sleeper is asleep most of the time, so that signals
 * interrupt its calls even under the debug kernel, whose calls cost ms.
 */
#define SLEEP_NS	(20 * MSEC)

struct ids {
	long pid, tid;
};

struct worker {
	struct ids ids;		/* its own, which guest_ids() checks */
	enum role role;
	bool eintr;		/* on the HC_EINTR VM */
	struct hc_vm *vm;
	pthread_t thread;
	int pipe[2];		/* READ: the feeder writes into [1] */
	unsigned long fed;	/* READ: bytes the feeder wrote */
	unsigned long calls, interrupted, got, slot_bytes[SLOT_PIPES];
	unsigned long signals_sent, signals_handled;
	bool bad;		/* got a result no native call gives, and stopped */
};

/* What a load runs: workers per role on each VM, and churners. */
struct load {
	int workers[ROLES], eintr_workers[ROLES];
	bool fd_churn, memslots, mapper, signals, sa_restart;
	int vm_churners;
};

static struct {
	struct hc_vm *vm, *eintr_vm;
	int vm_fd;
	struct worker workers[MAX_WORKERS];
	int nr_workers;
	pthread_barrier_t start;
	int stop, stop_signals;
	int devnull;
	int slot_pipes[SLOT_PIPES][2];
	unsigned long slot_written[SLOT_PIPES];
	unsigned long fd_churns, memslot_changes, windows_mapped, vms_made;
} L;

static bool stopping(void)
{
	return __atomic_load_n(&L.stop, __ATOMIC_ACQUIRE);
}

GUEST static long guest_ids(void *arg)
{
	const struct ids *ids = arg;

	for (int i = 0; i < 32; i++) {
		if (hc_syscall(SYS_getpid) != ids->pid)
			return 1;
		if (hc_syscall(SYS_gettid) != ids->tid)
			return 2;
	}
	return 0;
}

/* ---- Workers ---- */

static __thread unsigned long signals_handled;

static void on_signal(int sig)
{
	(void)sig;
	signals_handled++;
}

static bool bad(struct worker *w, long ret, const char *why)
{
	struct hc_fault fault;

	fail("%s worker %d (%s VM): %ld: %s", role_names[w->role], (int)(w - L.workers),
	     w->eintr ? "HC_EINTR" : "restarting", ret, why);
	if (ret == -EFAULT && !hc_vm_last_fault(w->vm, &fault))
		fail("  the guest faulted: vector %d, error %#x, rip %#lx, addr %#lx",
		     fault.vector, fault.error_code, fault.rip, fault.addr);
	w->bad = true;
	return false;
}

/* One call of @w's role, checked; false once the worker is done. */
static bool work_once(struct worker *w)
{
	struct pollfd pfd = { .fd = SLOT_FD, .events = POLLIN };
	struct timespec sleep = { 0, SLEEP_NS };
	unsigned char byte;
	long ret = 0, start;

	switch (w->role) {
	case SPIN:
		ret = hc_vm_call(w->vm, guest_ids, &w->ids);
		if (ret)
			return bad(w, ret, "want 0: getpid and gettid the thread's own");
		return !stopping();
	case READ:
		ret = GUEST_SYS(w->vm, SYS_read, w->pipe[0], (long)&byte, 1);
		if (ret == 0)
			return false;	/* the feeder's end closed: the load is over */
		if (ret == 1 && byte != (unsigned char)w->got)
			return bad(w, byte, "a byte out of order: lost or read twice");
		if (ret == 1) {
			w->got++;
			return true;
		}
		break;
	case SLEEP:
		start = now_ns();
		ret = GUEST_SYS(w->vm, SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, (long)&sleep, 0);
		if (ret == 0 && now_ns() - start < SLEEP_NS)
			return bad(w, now_ns() - start, "ns slept, less than asked");
		if (ret == 0)
			return !stopping();
		break;
	case SLOT_READ:
		ret = GUEST_SYS(w->vm, SYS_read, SLOT_FD, (long)&byte, 1);
		if (ret == 1 && byte >= SLOT_PIPES)
			return bad(w, byte, "a byte no pipe had");
		if (ret == 1)
			w->slot_bytes[byte]++;
		if (ret == 1 || ret == 0 || ret == -EBADF)
			return !stopping();
		break;
	case SLOT_POLL:
		ret = GUEST_SYS(w->vm, SYS_poll, (long)&pfd, 1, 10);
		if (ret == 1 && (!pfd.revents || pfd.revents & ~(POLLIN | POLLNVAL | POLLHUP)))
			return bad(w, pfd.revents, "revents of poll");
		if (ret == 0 || ret == 1)
			return !stopping();
		break;
	}
	if (ret == -EINTR && w->eintr) {
		w->interrupted++;
		return w->role == READ || !stopping();
	}
	return bad(w, ret, w->eintr ? "not a native result" : "not a native result, nor restarted");
}

static void *work(void *arg)
{
	struct worker *w = arg;

	w->ids.pid = getpid();
	w->ids.tid = gettid();
	pthread_barrier_wait(&L.start);
	do
		w->calls++;
	while (work_once(w));
	/* The return of a system call delivers what the signaller queued last. */
	sched_yield();
	w->signals_handled = signals_handled;
	return NULL;
}

/* ---- Churners ---- */

static void *feed(void *arg)
{
	(void)arg;
	while (!stopping()) {
		for (int i = 0; i < L.nr_workers; i++) {
			struct worker *w = &L.workers[i];
			unsigned char byte = w->fed;

			/* non-blocking: a worker that stopped early must not stall the feeder */
			if (w->role == READ && write(w->pipe[1], &byte, 1) == 1)
				w->fed++;
		}
		sleep_ns(300 * 1000);
	}
	return NULL;
}

static void *churn_fds(void *arg)
{
	(void)arg;
	for (int k = 0; !stopping(); k = (k + 1) % SLOT_PIPES) {
		unsigned char byte = k;

		if (dup2(L.slot_pipes[k][0], SLOT_FD) != SLOT_FD)
			fail("dup2 of pipe %d: %s", k, strerror(errno));
		if (write(L.slot_pipes[k][1], &byte, 1) == 1)
			L.slot_written[k]++;
		sleep_ns(random_below(500) * 1000);
		if (close(SLOT_FD))
			fail("close of the churned fd: %s", strerror(errno));
		sleep_ns(random_below(200) * 1000);
		if (dup2(L.devnull, SLOT_FD) != SLOT_FD)
			fail("dup2 of /dev/null: %s", strerror(errno));
		sleep_ns(random_below(200) * 1000);
		L.fd_churns++;
	}
	return NULL;
}

static void *send_signals(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&L.start);
	while (!__atomic_load_n(&L.stop_signals, __ATOMIC_ACQUIRE)) {
		struct worker *w = &L.workers[random_below(L.nr_workers)];

		if (!w->bad && syscall(SYS_tgkill, w->ids.pid, w->ids.tid, SIGRTMIN) == 0)
			w->signals_sent++;
		sleep_ns(random_below(400) * 1000);
	}
	return NULL;
}

static void *churn_memslots(void *arg)
{
	void *mem = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	while (mem != MAP_FAILED && !stopping()) {
		set_spare_slot(L.vm_fd, mem);
		sleep_ns(random_below(500) * 1000);
		set_spare_slot(L.vm_fd, NULL);
		L.memslot_changes += 2;
		sleep_ns(random_below(500) * 1000);
	}
	munmap(mem, REGION_SIZE);
	return NULL;
}

static void *map_windows(void *arg)
{
	(void)arg;
	for (int n = 0; !stopping(); n++) {
		int window = n % MAPPER_WINDOWS;
		struct region r = fill_window(L.vm, window, n * 1000UL);
		void *moved;

		if (!r.words)
			break;
		/* elsewhere in the same window: the guest has no entry there yet, or a stale one */
		moved = mremap(r.words, REGION_SIZE, REGION_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED,
			       WINDOWS + window * GIB + 4 * REGION_SIZE);
		if (moved == MAP_FAILED) {
			fail("mremap: %s", strerror(errno));
			munmap(r.words, REGION_SIZE);
			break;
		}
		r.words = moved;
		CHECK_EQ(hc_vm_call(L.vm, guest_sum, &r), region_sum(r.first));
		munmap(moved, REGION_SIZE);
		expect_page_fault(L.vm, moved);
		L.windows_mapped++;
	}
	return NULL;
}

static void *churn_vms(void *arg)
{
	static const unsigned int flags[] = { 0, HC_EINTR, HC_FORCE_EXIT };
	struct ids ids = { getpid(), gettid() };

	for (int n = (int)(intptr_t)arg; !stopping(); n++) {
		unsigned int f = flags[n % ARRAY_SIZE(flags)];
		struct hc_vm *v = hc_vm_create(f);
		struct pt_regs regs;
		struct raw_call call = { .regs = &regs };
		long status;

		if (!v) {
			fail("hc_vm_create(%#x): %s", f, strerror(errno));
			break;
		}
		CHECK_EQ(hc_vm_mode(v), f & HC_FORCE_EXIT ? HC_MODE_EXIT : HC_MODE_HYPERCALL);
		CHECK_EQ(hc_vm_call(v, guest_ids, &ids), 0);
		fill_regs(&regs, SYS_getpid, 0, 0, 0);
		status = hc_vm_call(v, guest_raw_hostcall, &call);
		CHECK_EQ(status, f & HC_FORCE_EXIT ? -KVM_ENOSYS : 0);
		CHECK_EQ(regs.rax, f & HC_FORCE_EXIT ? SYS_getpid : ids.pid);
		hc_vm_destroy(v);
		__atomic_add_fetch(&L.vms_made, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---- Loads ---- */

static void add_workers(enum role role, int count, bool eintr)
{
	for (int i = 0; i < count && L.nr_workers < MAX_WORKERS; i++) {
		struct worker *w = &L.workers[L.nr_workers++];

		w->role = role;
		w->eintr = eintr;
		w->vm = eintr ? L.eintr_vm : L.vm;
		if (role == READ && (pipe(w->pipe) || fcntl(w->pipe[1], F_SETFL, O_NONBLOCK)))
			fail("pipe: %s", strerror(errno));
	}
}

/* The churned fd's pipes: every byte a worker read or left there was written, and none twice. */
static void check_slot_bytes(void)
{
	for (int k = 0; k < SLOT_PIPES; k++) {
		unsigned long read_by_workers = 0, left = 0;
		unsigned char byte;

		for (int i = 0; i < L.nr_workers; i++)
			read_by_workers += L.workers[i].slot_bytes[k];
		fcntl(L.slot_pipes[k][0], F_SETFL, O_NONBLOCK);
		while (read(L.slot_pipes[k][0], &byte, 1) == 1) {
			left++;
			CHECK_EQ(byte, k);
		}
		if (read_by_workers + left != L.slot_written[k])
			fail("pipe %d: %lu bytes written, %lu read by guests, %lu left", k,
			     L.slot_written[k], read_by_workers, left);
	}
}

static void check_workers(const struct load *cfg)
{
	unsigned long calls[ROLES] = { 0 }, interrupted = 0, sent = 0, eintr_workers = 0;

	for (int i = 0; i < L.nr_workers; i++) {
		struct worker *w = &L.workers[i];

		calls[w->role] += w->calls;
		interrupted += w->interrupted;
		sent += w->signals_sent;
		eintr_workers += w->eintr;
		if (w->role == READ && w->got != w->fed)
			fail("%s worker %d: %lu bytes fed, %lu read", role_names[w->role], i, w->fed,
			     w->got);
		if (w->signals_handled != w->signals_sent)
			fail("%s worker %d: %lu signals sent, %lu handled", role_names[w->role], i,
			     w->signals_sent, w->signals_handled);
	}
	/* Else the load did not test what it is for. */
	if (cfg->signals && eintr_workers && !interrupted)
		fail("no call of the HC_EINTR VM was interrupted, in %lu signals", sent);
	printf("#   calls: getpid/gettid batches %lu, reads %lu, sleeps %lu, churned-fd reads %lu, "
	       "polls %lu; -EINTR %lu; signals %lu\n", calls[SPIN], calls[READ], calls[SLEEP],
	       calls[SLOT_READ], calls[SLOT_POLL], interrupted, sent);
	printf("#   churn: fd %lu, memslot changes %lu, windows mapped %lu, VMs made %lu\n",
	       L.fd_churns, L.memslot_changes, L.windows_mapped, L.vms_made);
}

static void run_load(const struct load *cfg)
{
	pthread_t churners[8], signaller;
	int nr_churners = 0;

	set_step("creating the VMs");
	L.vm = hc_vm_create(0);
	L.vm_fd = only_vm_fd();
	L.eintr_vm = hc_vm_create(HC_EINTR);
	L.devnull = open("/dev/null", O_RDWR);
	if (!L.vm || !L.eintr_vm || L.vm_fd < 0 || L.devnull < 0) {
		fail("the load's VMs and /dev/null: %s", strerror(errno));
		return;
	}
	if (cfg->signals) {
		struct sigaction sa = {
			.sa_handler = on_signal, .sa_flags = cfg->sa_restart ? SA_RESTART : 0,
		};

		sigaction(SIGRTMIN, &sa, NULL);
	}
	for (int role = 0; role < ROLES; role++) {
		add_workers(role, cfg->workers[role], false);
		add_workers(role, cfg->eintr_workers[role], true);
	}
	for (int k = 0; cfg->fd_churn && k < SLOT_PIPES; k++) {
		if (pipe(L.slot_pipes[k]) || fcntl(L.slot_pipes[k][1], F_SETFL, O_NONBLOCK))
			fail("pipe: %s", strerror(errno));
	}
	if (cfg->fd_churn && dup2(L.devnull, SLOT_FD) != SLOT_FD)
		fail("dup2: %s", strerror(errno));

	set_step("starting the workers");
	pthread_barrier_init(&L.start, NULL, L.nr_workers + cfg->signals + 1);
	for (int i = 0; i < L.nr_workers; i++)
		pthread_create(&L.workers[i].thread, NULL, work, &L.workers[i]);
	if (cfg->signals)
		pthread_create(&signaller, NULL, send_signals, NULL);
	pthread_barrier_wait(&L.start);
	if (cfg->workers[READ] + cfg->eintr_workers[READ])
		pthread_create(&churners[nr_churners++], NULL, feed, NULL);
	if (cfg->fd_churn)
		pthread_create(&churners[nr_churners++], NULL, churn_fds, NULL);
	if (cfg->memslots)
		pthread_create(&churners[nr_churners++], NULL, churn_memslots, NULL);
	if (cfg->mapper)
		pthread_create(&churners[nr_churners++], NULL, map_windows, NULL);
	for (int i = 0; i < cfg->vm_churners; i++)
		pthread_create(&churners[nr_churners++], NULL, churn_vms, (void *)(intptr_t)i);

	set_step("the load running");
	sleep_ns((long)(load_seconds * 1e9));
	set_step("stopping the signaller");
	__atomic_store_n(&L.stop_signals, 1, __ATOMIC_RELEASE);
	if (cfg->signals)
		pthread_join(signaller, NULL);
	set_step("stopping the churners");
	__atomic_store_n(&L.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < nr_churners; i++)
		pthread_join(churners[i], NULL);
	/* EOF for every read still blocked, on a worker's pipe or a churned one */
	for (int i = 0; i < L.nr_workers; i++) {
		if (L.workers[i].role == READ)
			close(L.workers[i].pipe[1]);
	}
	for (int k = 0; cfg->fd_churn && k < SLOT_PIPES; k++)
		close(L.slot_pipes[k][1]);
	set_step("stopping the workers");
	for (int i = 0; i < L.nr_workers; i++)
		pthread_join(L.workers[i].thread, NULL);

	set_step("checking");
	check_workers(cfg);
	if (cfg->fd_churn)
		check_slot_bytes();
	hc_vm_destroy(L.vm);
	hc_vm_destroy(L.eintr_vm);
}

void case_memslot_churn(void)
{
	run_load(&(struct load){
		.workers = { [SPIN] = 2, [READ] = 2 }, .memslots = true, .mapper = true,
	});
}

void case_fd_churn(void)
{
	run_load(&(struct load){
		.workers = { [SPIN] = 1, [SLOT_READ] = 2, [SLOT_POLL] = 1 }, .fd_churn = true,
	});
}

void case_signals_restart(void)
{
	run_load(&(struct load){
		.workers = { [SPIN] = 1, [READ] = 1, [SLEEP] = 1 },
		.eintr_workers = { [READ] = 2, [SLEEP] = 1 }, .signals = true, .sa_restart = true,
	});
}

void case_signals_no_restart(void)
{
	run_load(&(struct load){
		.workers = { [SPIN] = 1, [READ] = 1, [SLEEP] = 1 },
		.eintr_workers = { [READ] = 2, [SLEEP] = 1 }, .signals = true,
	});
}

void case_vm_churn(void)
{
	run_load(&(struct load){
		.workers = { [SPIN] = 1, [READ] = 2 }, .eintr_workers = { [READ] = 1 },
		.vm_churners = 2,
	});
}

void case_everything(void)
{
	/*
	 * The HC_EINTR VM's sleeper is what makes -EINTR certain: its reads
	 * block only now and then, and 1 run in 25 saw no signal land in one.
	 */
	run_load(&(struct load){
		.workers = { [SPIN] = 1, [READ] = 1, [SLEEP] = 1, [SLOT_READ] = 1, [SLOT_POLL] = 1 },
		.eintr_workers = { [READ] = 1, [SLEEP] = 1, [SLOT_READ] = 1 },
		.fd_churn = true, .memslots = true, .mapper = true, .signals = true,
		.sa_restart = true, .vm_churners = 1,
	});
}
