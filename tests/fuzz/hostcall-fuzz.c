// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-fuzz [--seed N] [--count N] [--batch N] [--hang S] [--poke S] [--verbose]:
 * KVM_HC_HOST_SYSCALL with random registers, checked against what the ABI
 * promises (expect.c), reaching every system call of Linux 6.12.
 *
 * Each batch of hypercalls is made by a throwaway child process (child.c)
 * in namespaces of its own, so that the calls may do their worst to it;
 * this process makes the batch, watches the child (a child that makes no
 * progress is poked with SIGSTOP, and killed after --hang seconds: a
 * finding) and checks every hypercall the child made, in the memory the
 * two share. It survives whatever the child does: the child cannot signal,
 * trace or reach it, and a tracer's stop or a group stop of the child is
 * undone here.
 *
 * The same seed makes the same batches. Exit status: 0 all held, 1 a
 * check failed (each is printed), 4 the kernel lacks
 * KVM_CAP_X86_HOST_SYSCALL (nothing to fuzz).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "hypercall.h"

#define CHILD_ROOT	100000	/* the uid and gid the child's root is outside */
#define NEW_NET_EVERY	8	/* batches: one in this many has a network namespace of its own */

struct fuzz f;

static struct {
	struct outcome out[BATCH_MAX];
	int order[BATCH_MAX];	/* the ops in the order the child makes them */
	double hang;		/* seconds without progress, pokes notwithstanding */
	double poke;		/* seconds without progress before a poke */
	int batch_size;
	unsigned int fd_notes;	/* fd classes a child could not make, said once */
	long garbage;		/* report bytes that were not records */
	double ready_at;	/* when the child said it was ready */
	double time[4];		/* in making batches, children's setup, their runs, checks */
} p = { .hang = 20, .poke = 0.02, .batch_size = BATCH_MAX };

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static volatile uint64_t *progress(void)
{
	return (volatile uint64_t *)(f.a.guest + G_PROGRESS);
}

static long *status_slot(int i)
{
	return (long *)(f.a.guest + G_STATUS + 8 * i);
}

/*
 * The special pages, where structs are read-only, unmapped, or straddle
 * two pages of different protections: set once, since an mprotect() per
 * batch costs more than the batch under the debug kernel. The parent
 * writes and checks them through a second, read-write mapping.
 */
static int setup_special(uint8_t *at)
{
	size_t size = SPECIAL_PAGES * PAGE;
	int fd = memfd_create("hostcall-fuzz", 0);

	if (fd < 0 || ftruncate(fd, size))
		return -1;
	f.a.special = mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
	f.a.special_rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (f.a.special == MAP_FAILED || f.a.special_rw == MAP_FAILED)
		return -1;
	for (int k = 0; k < SPECIAL_PAGES; k++) {
		uint8_t *page = f.a.special + (size_t)k * PAGE;
		int prot = special_pattern[k % SPECIAL_PERIOD];

		if ((prot == PROT_RO_ && mprotect(page, PAGE, PROT_READ)) ||
		    (prot == PROT_NONE_ && munmap(page, PAGE)))
			return -1;
	}
	return 0;
}

/*
 * The arena, shared with every child: guest memory, a read-only page, an
 * unmapped page, and the units, each with its guard page; the special
 * pages follow it. The scratch memory is private: each child gets a copy of
 * it as it is here, untouched.
 *
 * The arena and the special pages are at ARENA_AT, far below the mappings
 * whose address the kernel chooses (top-down from under the stack) and far
 * above the heap: a child's mmap() never lands in their unmapped pages, or
 * a call given an unmapped address there would reach the memory after it.
 */
#define ARENA_AT	0x200000000000ULL

static int setup_arena(void)
{
	size_t guest = (G_SIZE + PAGE - 1) & ~(PAGE - 1);
	size_t size = guest + 2 * PAGE + (size_t)BATCH_MAX * UNIT_PAGES * PAGE;
	uint8_t *m = mmap((void *)ARENA_AT, size, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	f.a.native = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f.a.native == MAP_FAILED || mprotect(f.a.native + PAGE, PAGE, PROT_NONE))
		return -1;
	f.a.scratch_size = SCRATCH_PAGES * PAGE;
	f.a.scratch = mmap(NULL, f.a.scratch_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || f.a.scratch == MAP_FAILED)
		return -1;
	f.a.guest = m;
	f.a.read_only = m + guest;
	f.a.hole = m + guest + PAGE;
	f.a.units = m + guest + 2 * PAGE;
	memset(f.a.read_only, CANARY, PAGE);
	memset(f.a.scratch, CANARY, f.a.scratch_size);
	if (munmap(f.a.scratch + SCRATCH_HOLE, PAGE))
		return -1;
	minivm_write_guest(f.a.guest, f.amd);
	if (mprotect(f.a.read_only, PAGE, PROT_READ) || munmap(f.a.hole, PAGE))
		return -1;
	for (int i = 0; i < BATCH_MAX; i++) {
		if (mprotect(unit(i) + 3 * PAGE, PAGE, PROT_NONE))
			return -1;
	}
	return setup_special(m + size);
}

/* libc's signal restorer, which a handler installed by a fuzzed rt_sigaction needs. */
static void find_restorer(void)
{
	struct { uint64_t handler, flags, restorer, mask; } old;
	struct sigaction sa = { .sa_handler = SIG_IGN };

	sigaction(SIGURG, &sa, NULL);
	syscall(SYS_rt_sigaction, SIGURG, NULL, &old, 8);
	f.a.restorer = old.restorer;
	f.a.noop_handler = (uint64_t)child_noop_handler;
	signal(SIGURG, SIG_DFL);
}

static pid_t clone_child(int flags)
{
	/* fork()'s semantics with namespaces: the child returns here on a copy of the stack */
	return syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
}

/* The namespaces this kernel gives the child; a note for those it lacks. */
static void probe_namespaces(void)
{
	static const struct { int flag; const char *name; } ns[] = {
		{ CLONE_NEWUSER, "user" }, { CLONE_NEWPID, "PID" }, { CLONE_NEWNS, "mount" },
		{ CLONE_NEWNET, "net" }, { CLONE_NEWUTS, "UTS" }, { CLONE_NEWIPC, "IPC" },
	};
	static char missing[128];

	f.clone_flags = 0;
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		pid_t pid = clone_child(ns[k].flag);

		if (pid == 0)
			_exit(0);
		if (pid > 0 && waitpid(pid, NULL, 0) == pid) {
			f.clone_flags |= ns[k].flag;
			continue;
		}
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s", ns[k].name);
	}
	if (missing[0])
		printf("hostcall-fuzz: note: no%s namespace here: the child %s\n", missing,
		       f.clone_flags & CLONE_NEWUSER ? "goes without" :
		       "runs as nobody, and the clock-setting calls are shaped");
	/*
	 * A network namespace costs more to make and tear down than all the
	 * rest of a child's setup (0.4 s under the debug lab kernel): most
	 * children share this process's own, made now so that nothing they do
	 * reaches the lab's; one in NEW_NET_EVERY gets one of its own, owned
	 * by its user namespace, where it may configure the network too.
	 */
	if ((f.clone_flags & CLONE_NEWNET) && unshare(CLONE_NEWNET))
		f.clone_flags &= ~CLONE_NEWNET;
}

/* The ops, their copies, and the lists the guests walk: the incapable VM's, then the capable one's. */
static void prepare_batch(void)
{
	uint64_t *entry = (uint64_t *)(f.a.guest + G_LIST);
	int n = 0;

	f.nr_ops = p.batch_size;
	f.nr_ring3 = 0;
	for (int i = 0; i < f.nr_ops; i++) {
		struct op *op = &f.ops[i];

		make_op(i);
		memcpy(f.shadow[i], op->buf, PAGE);
		op->exit_after = op->vm == VM_CAPABLE && op->sc &&
				 (op->sc->cmp || op->sc->nr == SYS_ioctl);
		f.nr_ring3 += op->vm == VM_RING3;
		*status_slot(i) = (long)STATUS_NOT_RUN;
	}
	for (int pass = 0; pass < 3; pass++) {
		static const int vm[3] = { VM_INCAPABLE, VM_RING3, VM_CAPABLE };

		for (int i = 0; i < f.nr_ops; i++) {
			if (f.ops[i].vm != vm[pass])
				continue;
			p.order[n++] = i;
			if (vm[pass] == VM_RING3)
				continue;
			*entry++ = f.ops[i].rbx;
			*entry++ = (uint64_t)i | (f.ops[i].exit_after ? ENTRY_EXIT_AFTER : 0);
		}
	}
	*progress() = 0;
}

static void write_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fprintf(stderr, "hostcall-fuzz: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

/* The child's vCPU stopped for good: after which op (the last that has a status). */
static void stopped(long why, long detail)
{
	uint64_t done = *progress();
	int last = done > 0 && done <= (uint64_t)f.nr_ops ? p.order[done - 1] : 0;

	fail(&f.ops[last], why == END_KVM_RUN ? "KVM_RUN failed after this op, errno" :
	     "the guest stopped after this op, exit reason", detail, 0);
}

static void take_record(const struct record *r)
{
	struct outcome *out = &p.out[r->op < BATCH_MAX ? r->op : 0];

	if (r->magic != RECORD_MAGIC || r->op >= f.nr_ops) {
		p.garbage++;
		return;
	}
	switch (r->kind) {
	case R_READY:
		p.ready_at = now();
		break;
	case R_NATIVE:
		out->native = true;
		out->native_result = r->value;
		out->native_same_bytes = r->value2;
		break;
	case R_FD_KIND:
		out->has_fd_kind = true;
		out->fd_kind = r->value;
		break;
	case R_EINTR:
		out->eintr = true;
		break;
	case R_END:
		/* EBADF: a call closed the child's own vCPU (the FD_OWN_VM class) */
		if (r->value != END_DONE && !(r->value == END_KVM_RUN && r->value2 == EBADF))
			stopped(r->value, r->value2);
		break;
	case R_SETUP:
		if (r->value2 == 1) {	/* an fd class the child could not make */
			if (!(p.fd_notes & (1u << r->op)))
				printf("hostcall-fuzz: note: no %s fd here: %s\n", fd_names[r->op],
				       strerror(r->value));
			p.fd_notes |= 1u << r->op;
			break;
		}
		fprintf(stderr, "hostcall-fuzz: the child's setup failed at step %d: %s\n", r->op,
			strerror(r->value));
		exit(1);
	}
}

/* The child stopped: for its tracer (us, after a PTRACE_TRACEME), or all of it. */
static void resume(pid_t pid, int status)
{
	if (ptrace(PTRACE_DETACH, pid, 0, WSTOPSIG(status)) < 0)
		kill(pid, SIGCONT);
}

/*
 * Make a stalled child's KVM_RUN return, whatever its signal mask and
 * dispositions: SIGSTOP, then SIGCONT once it stopped (resume() above). The
 * word tells the child that a call interrupted then had blocked.
 */
static void poke(pid_t pid)
{
	*(volatile uint64_t *)(f.a.guest + G_POKED) = 1;
	kill(pid, SIGSTOP);
}

/* The first op of the batch, in the child's order, that has no status. */
static int in_flight(void)
{
	for (int n = 0; n < f.nr_ops; n++) {
		if (*status_slot(p.order[n]) == (long)STATUS_NOT_RUN)
			return p.order[n];
	}
	return -1;
}

static void hang(pid_t pid, double idle)
{
	int i = in_flight();

	f.n.hangs++;
	if (i >= 0)
		fail(&f.ops[i], "hang: no progress despite pokes for seconds", (long)idle, 0);
	kill(pid, SIGKILL);
}

/* Run the batch in a new child; its records into p.out; its wait status. */
static int run_child(void)
{
	int go[2], rep[2], status = 0, got = 0, pidfd;
	double last = now(), poked = 0;
	uint64_t seen = 0;
	bool open_rep = true, exited = false;
	struct record buf[64];
	pid_t pid;

	memset(p.out, 0, sizeof(p.out[0]) * f.nr_ops);
	if (pipe(go) || pipe(rep))
		return -1;
	pid = clone_child(f.batch % NEW_NET_EVERY ? f.clone_flags & ~CLONE_NEWNET : f.clone_flags);
	if (pid == 0) {
		close(go[1]);
		close(rep[0]);
		child_main(rep[1], go[0]);
	}
	close(go[0]);
	close(rep[1]);
	if (pid < 0)
		return -1;
	if (f.clone_flags & CLONE_NEWUSER) {
		char map[32];

		snprintf(map, sizeof(map), "0 %d 1\n", CHILD_ROOT);
		write_file(pid, "uid_map", map);
		write_file(pid, "gid_map", map);
	}
	if (write(go[1], "g", 1) != 1)
		return -1;
	close(go[1]);
	pidfd = syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		struct pollfd fds[2] = { { .fd = open_rep ? rep[0] : -1, .events = POLLIN },
					 { .fd = pidfd, .events = POLLIN } };
		pid_t w;

		poll(fds, 2, 10);
		if (fds[0].revents) {
			ssize_t n = read(rep[0], (char *)buf + got, sizeof(buf) - got);

			if (n <= 0)
				open_rep = false;
			got += n > 0 ? n : 0;
			for (int k = 0; k < got / (int)sizeof(buf[0]); k++)
				take_record(&buf[k]);
			memmove(buf, (char *)buf + got / sizeof(buf[0]) * sizeof(buf[0]),
				got % sizeof(buf[0]));
			got %= sizeof(buf[0]);
			continue;
		}
		w = waitpid(pid, &status, WNOHANG | WUNTRACED | __WALL);
		if (w == pid && WIFSTOPPED(status)) {
			resume(pid, status);
			continue;
		}
		exited |= w == pid;
		if (exited && !open_rep)
			break;
		if (*progress() != seen) {
			seen = *progress();
			last = poked = now();
		} else if (now() - last > p.hang) {
			hang(pid, now() - last);
			last = now();
		} else if (p.ready_at > 0 && now() - poked > p.poke) {	/* not in its setup */
			poke(pid);
			poked = now();
		}
	}
	close(rep[0]);
	close(pidfd);
	p.garbage += got;
	return status;
}

/* Every op the child reached, in its order, and how the batch ended. */
static void check_batch(int status)
{
	bool watched = false, short_batch = false;
	int flying = WIFSIGNALED(status) || WEXITSTATUS(status) ? in_flight() : -1, last = -1;

	for (int n = 0; n < f.nr_ops; n++) {
		int i = p.order[n];

		p.out[i].status = *status_slot(i);
		p.out[i].in_flight = i == flying;
		if (check_op(i, &p.out[i], &watched))
			last = i;
		else
			short_batch = true;
	}
	f.n.batches++;
	f.n.batches_short += short_batch;
	if (WIFSIGNALED(status))
		f.n.ended_by_signal[WTERMSIG(status) & 63]++;
	if (f.verbose && short_batch)
		printf("batch %ld ended early (%s %d), in %s, after %s\n", f.batch,
		       WIFSIGNALED(status) ? "signal" : "exit", WIFSIGNALED(status) ?
		       WTERMSIG(status) : WEXITSTATUS(status),
		       flying >= 0 && f.ops[flying].sc ? f.ops[flying].sc->name : "-",
		       last >= 0 && f.ops[last].sc ? f.ops[last].sc->name : "-");
}

static void print_classes(const char *what, const long *n, const char *const *names, int count)
{
	printf("%s:", what);
	for (int k = 0; k < count; k++)
		printf(" %s %ld%s", names[k], n[k], k + 1 < count ? "," : "\n");
}

/* The results of the calls that ran: how many succeeded, then each error, most frequent first. */
static void print_results(void)
{
	long e[ERRNO_MAX];

	memcpy(e, f.n.errors, sizeof(e));
	printf("results: >= 0 %ld", e[0]);
	for (;;) {
		int most = 1;

		for (int err = 2; err < ERRNO_MAX; err++)
			most = e[err] > e[most] ? err : most;
		if (!e[most])
			break;
		printf(", %s %ld", strerrorname_np(most), e[most]);
		e[most] = 0;
	}
	printf(", other %ld\n", f.n.odd_results);
}

static void print_counts(double seconds)
{
	struct counts *n = &f.n;
	int least = 0, never = 0;

	printf("hostcall-fuzz: seed %" PRIu64 ": %ld hypercalls, %ld failed checks, %.1f s\n",
	       f.seed, n->reached, f.failures, seconds);
	printf("status: ran %ld, -KVM_EFAULT %ld, -KVM_EPERM %ld, -KVM_ENOSYS %ld,"
	       " -KVM_EOPNOTSUPP %ld\n", n->ran, n->efault, n->eperm, n->enosys, n->eopnotsupp);
	print_results();
	printf("checked: results against native %ld, ioctls on /dev/kvm %ld, on a VM %ld,"
	       " on a vCPU %ld, completed with -EINTR %ld\n", n->compared, n->kvm_ioctl[KIND_KVM],
	       n->kvm_ioctl[KIND_KVM_VM], n->kvm_ioctl[KIND_KVM_VCPU], n->interrupted);
	print_classes("number", n->per_nclass, nclass_names, N_COUNT);
	print_classes("rbx", n->per_target, target_names, T_COUNT);
	print_classes("VM", n->per_vm, vm_names, VM_COUNT);
	print_classes("fd", n->per_fd, fd_names, FD_COUNT);
	print_classes("fd ok", n->per_fd_ok, fd_names, FD_COUNT);	/* the calls that succeeded */
	print_classes("pointer", n->per_ptr, ptr_names, P_COUNT);
	for (int k = 0; k < nr_syscalls; k++) {
		long c = n->per_nr[syscalls[k].nr];

		never += c == 0;
		if (c < n->per_nr[syscalls[least].nr])
			least = k;
	}
	printf("calls: %d of %d numbers reached, the least %s (%ld times)\n", nr_syscalls - never,
	       nr_syscalls, syscalls[least].name, n->per_nr[syscalls[least].nr]);
	printf("batches: %ld, %ld ended early (by signal:", n->batches, n->batches_short);
	for (int s = 1; s < 65; s++) {
		if (n->ended_by_signal[s])
			printf(" %d x%ld", s, n->ended_by_signal[s]);
	}
	printf("), hangs %ld\n", n->hangs);
	printf("time: making batches %.1f s, children's setup %.1f s, their hypercalls %.1f s,"
	       " checks %.1f s\n", p.time[0], p.time[1], p.time[2], p.time[3]);
	if (p.garbage)
		printf("hostcall-fuzz: note: %ld bytes on the report pipe were not records\n", p.garbage);
}

static void usage(void)
{
	fprintf(stderr, "usage: hostcall-fuzz [--seed N] [--count N] [--batch N] [--hang SECONDS]"
		" [--poke SECONDS] [--verbose]\n");
	exit(2);
}

static void options(int argc, char **argv, long *count)
{
	f.seed = (uint64_t)time(NULL);
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--verbose")) {
			f.verbose = true;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(argv[i], "--seed"))
			f.seed = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "--count"))
			*count = strtol(v, NULL, 0);
		else if (!strcmp(argv[i], "--batch"))
			p.batch_size = atoi(v);
		else if (!strcmp(argv[i], "--hang"))
			p.hang = atof(v);
		else if (!strcmp(argv[i], "--poke"))
			p.poke = atof(v);
		else
			usage();
		i++;
	}
	if (p.batch_size < 1 || p.batch_size > BATCH_MAX || p.hang <= 0)
		usage();
}

int main(int argc, char **argv)
{
	long count = 100000;
	double t0;

	options(argc, argv, &count);
	setvbuf(stdout, NULL, _IOLBF, 0);
	f.state = f.seed;
	if (syscall_table_check())
		return 1;
	f.amd = cpu_is_amd();
	f.kvm_fd = open("/dev/kvm", O_RDWR);
	if (f.kvm_fd < 0) {
		perror("hostcall-fuzz: /dev/kvm");
		return 1;
	}
	if (ioctl(f.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_HOST_SYSCALL) != 1) {
		printf("hostcall-fuzz: skipped: this kernel has no KVM_CAP_X86_HOST_SYSCALL\n");
		return 4;
	}
	if (minivm_host_init(&f.host, f.kvm_fd, f.amd) || setup_arena() || neighbour_start()) {
		perror("hostcall-fuzz: setup");
		return 1;
	}
	find_restorer();
	probe_namespaces();

	t0 = now();
	while (f.n.reached < count && f.failures < 20) {
		double t1, t2, t3;
		int status;

		t1 = now();
		prepare_batch();
		t2 = now();
		p.ready_at = 0;
		status = run_child();
		t3 = now();
		if (status == -1) {
			perror("hostcall-fuzz: a child for the batch");
			return 1;
		}
		check_batch(status);
		p.time[0] += t2 - t1;
		p.time[1] += p.ready_at - t2;
		p.time[2] += t3 - p.ready_at;
		p.time[3] += now() - t3;
		f.batch++;
	}
	neighbour_check();
	print_counts(now() - t0);
	return f.failures ? 1 : 0;
}
