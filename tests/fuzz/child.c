// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The throwaway VMM process of one batch. The parent clones it into new
 * user, PID, mount, network, UTS and IPC namespaces (those the kernel has),
 * maps its root to an unprivileged uid and lets it go. It then:
 *
 *  - starts its own session (a kill of its process group reaches nobody
 *    else) and, as init of its PID namespace, ignores the signals it sends
 *    itself unless it handles them: it handles the asynchronous ones with a
 *    handler that does nothing, so that a kill of its own pid interrupts
 *    KVM_RUN as the ABI describes;
 *  - mounts a small tmpfs over /tmp, in its own mount namespace, and works
 *    in it: files, a directory, links, a fifo;
 *  - makes an fd of each class at a fixed number (fuzz.h), its VMs and
 *    vCPUs far above them, and lowers its rlimits;
 *  - makes the batch: the VM without the capability walks its list, then
 *    ring 3 makes its hypercalls one by one, then the VM with the
 *    capability walks its list. After an op the parent marked, the guest
 *    stops at an OUT and the child makes the same call natively, or reads
 *    which file an ioctl's fd is, and reports it.
 *
 * A blocking call stops the guest: when it makes no progress the parent
 * pokes the child, a word in guest memory then SIGSTOP (which no mask or
 * disposition a call sets can keep out), and continues it; KVM_RUN
 * returns for the signal, and a call it interrupted and left to run again
 * is completed with -EINTR, as the ABI lets the VMM do, and reported.
 * Whatever the batch's calls do to the child (close its fds, unmap its
 * memory, kill it, change its credentials), the parent still has the
 * structs and the statuses, in the memory they share.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <linux/perf_event.h>

#include "fuzz.h"
#include "minivm.h"

/* Its own fds, far above the targets: the report pipe, then KVM's. */
enum { INFRA_REPORT, INFRA_KVM, INFRA_VM, INFRA_VCPU, INFRA_VCPU_RING3, INFRA_INCAPABLE_VM,
       INFRA_INCAPABLE_VCPU, INFRA_VCPU_KEPT, INFRA_INCAPABLE_VCPU_KEPT, INFRA_COUNT };

_Static_assert(FD_INFRA_BASE + INFRA_VM == FD_OWN_VM_FIRST &&
	       INFRA_VCPU_RING3 == INFRA_VM + 2, "fuzz.h's own-VM fd class");

static struct {
	struct minivm capable, incapable;
	struct minivm_host host;	/* the parent's, on our /dev/kvm fd */
	int temp[FD_MADE];	/* the targets until they move to their numbers */
} c;

static void report(int kind, int op, long value, long value2)
{
	struct record r = { .magic = RECORD_MAGIC, .kind = kind, .op = op,
			    .value = value, .value2 = value2 };

	if (write(FD_INFRA_BASE + INFRA_REPORT, &r, sizeof(r)) != sizeof(r))
		_exit(5);
}

static void setup_failed(int step)
{
	report(R_SETUP, step, errno, 0);
	_exit(3);
}

/* The handler a fuzzed rt_sigaction may install (args.c): it does nothing. */
void child_noop_handler(int sig)
{
	(void)sig;
}

static void handle(int sig, void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };

	sigaction(sig, &sa, NULL);
}

static void signals(void)
{
	static const int async[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM,
				     SIGURG, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSTKFLT };

	for (size_t k = 0; k < sizeof(async) / sizeof(async[0]); k++)
		handle(async[k], child_noop_handler);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		handle(sig, child_noop_handler);
	handle(SIGXFSZ, SIG_IGN);	/* RLIMIT_FSIZE: EFBIG rather than a signal */
	handle(SIGPIPE, SIG_IGN);
}

/* Move @fd to the infrastructure number @which. */
static void infra(int fd, int which)
{
	if (fd < 0 || dup2(fd, FD_INFRA_BASE + which) < 0)
		setup_failed(100 + which);
	if (fd != FD_INFRA_BASE + which)
		close(fd);
}

/*
 * Keep @fd for class @cls until all are made (a pipe's second end must not
 * be overwritten); -1: say that the class could not be made; -2: not in
 * this batch.
 */
static void target(int cls, int fd)
{
	c.temp[cls] = fd < 0 ? -1 : fcntl(fd, F_DUPFD, 900);
	if (fd == -1)
		report(R_SETUP, cls, errno, 1);
	if (fd >= 0)
		close(fd);
}

static void scratch_dir(void)
{
	if (f.clone_flags & CLONE_NEWNS) {
		/* Nothing mounted here propagates out, nor the reverse. */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", "/tmp", "tmpfs", 0, "size=4m,nr_inodes=256,mode=0777"))
			setup_failed(1);
	} else {
		mkdir("/tmp/hostcall-fuzz", 0777);
	}
	if (chdir(f.clone_flags & CLONE_NEWNS ? "/tmp" : "/tmp/hostcall-fuzz"))
		setup_failed(2);
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0666);

	if (fd < 0 || write(fd, f.a.native, PAGE) != PAGE)
		setup_failed(3);
	close(fd);
	mkdir("dir", 0777);
	mkdir("mnt", 0777);
	close(open("dir/sub", O_RDWR | O_CREAT, 0666));
	symlink("file", "link");
	symlink("nothere", "dangling");
	mkfifo("fifo", 0666);
}

static int perf_fd(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(attr),
		.config = PERF_COUNT_SW_TASK_CLOCK, .disabled = 1,
		.exclude_kernel = 1, .exclude_hv = 1,
	};

	return syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
}

/*
 * An io_uring with work queued, so that an io_uring_enter() made by
 * hypercall runs it, inside the call: closing the last fds of the VM
 * without the capability (its VM and vCPU target fds: their release runs
 * as task work, inside the call, with this thread's vCPU loaded), a read
 * of the file into the scratch memory, and a no-op.
 */
static int uring_fd(void)
{
	static const struct { int op, cls; } work[] = {
		{ IORING_OP_CLOSE, FD_VCPU }, { IORING_OP_CLOSE, FD_VM },
		{ IORING_OP_READ, FD_FILE }, { IORING_OP_NOP, FD_MADE },
	};
	const int n = sizeof(work) / sizeof(work[0]);
	struct io_uring_params params = { 0 };
	int fd = syscall(__NR_io_uring_setup, n, &params);
	size_t ring_size = params.sq_off.array + n * sizeof(uint32_t);
	uint8_t *ring;
	struct io_uring_sqe *sqe;

	if (fd < 0)
		return fd;
	ring = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, IORING_OFF_SQ_RING);
	sqe = mmap(NULL, n * sizeof(*sqe), PROT_READ | PROT_WRITE, MAP_SHARED, fd, IORING_OFF_SQES);
	if (ring == MAP_FAILED || sqe == MAP_FAILED)
		return fd;	/* an io_uring all the same, with nothing queued */
	for (int k = 0; k < n; k++) {
		bool read = work[k].op == IORING_OP_READ;	/* the others refuse an address */

		sqe[k] = (struct io_uring_sqe){
			.opcode = work[k].op, .fd = FD_TARGET_BASE + work[k].cls,
			.addr = read ? (uint64_t)f.a.scratch : 0, .len = read ? PAGE : 0,
		};
		((uint32_t *)(ring + params.sq_off.array))[k] = k;
	}
	__atomic_store_n((uint32_t *)(ring + params.sq_off.tail), n, __ATOMIC_RELEASE);
	return fd;
}

static void targets(void)
{
	sigset_t usr1;
	int p[2], s[2];

	target(FD_KVM, dup(FD_INFRA_BASE + INFRA_KVM));
	target(FD_VM, c.incapable.vm_fd < 0 ? -2 : dup(c.incapable.vm_fd));
	target(FD_VCPU, c.incapable.vm_fd < 0 ? -2 : dup(c.incapable.vcpu_fd[0]));
	target(FD_IO_URING, uring_fd());
	target(FD_PERF, perf_fd());
	/* Kernel-mode faults need privilege: this one takes user-mode faults only. */
	target(FD_USERFAULTFD, syscall(__NR_userfaultfd, O_NONBLOCK | 1 /* UFFD_USER_MODE_ONLY */));
	target(FD_PIDFD, syscall(__NR_pidfd_open, getpid(), 0));
	target(FD_EVENTFD, eventfd(0, EFD_NONBLOCK));
	target(FD_TIMERFD, timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	target(FD_SIGNALFD, signalfd(-1, &usr1, SFD_NONBLOCK));
	target(FD_EPOLL, epoll_create1(0));
	epoll_ctl(c.temp[FD_EPOLL], EPOLL_CTL_ADD, c.temp[FD_EVENTFD],
		  &(struct epoll_event){ .events = EPOLLIN });
	if (pipe2(p, O_NONBLOCK))
		p[0] = p[1] = -1;
	target(FD_PIPE_READ, p[0]);
	target(FD_PIPE_WRITE, p[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s))
		s[0] = s[1] = -1;
	target(FD_UNIX, s[0]);
	target(FD_INET, socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	target(FD_MEMFD, syscall(__NR_memfd_create, "hostcall-fuzz", 2 /* MFD_ALLOW_SEALING */));
	if (c.temp[FD_MEMFD] >= 0 && ftruncate(c.temp[FD_MEMFD], PAGE))
		setup_failed(4);
	target(FD_FILE, open("file", O_RDWR));
	target(FD_DIR, open(".", O_RDONLY | O_DIRECTORY));
	target(FD_DEVNULL, open("/dev/null", O_RDWR));
	target(FD_DEVZERO, open("/dev/zero", O_RDWR));
	target(FD_INOTIFY, inotify_init1(IN_NONBLOCK));
	inotify_add_watch(c.temp[FD_INOTIFY], ".", IN_ALL_EVENTS);
	for (int cls = 0; cls < FD_MADE; cls++) {
		if (c.temp[cls] >= 0 && dup2(c.temp[cls], FD_TARGET_BASE + cls) < 0)
			setup_failed(5);
		close(c.temp[cls]);
	}
	/* The socket's peer, at the first number of the closed class: it may be, or not. */
	if (s[1] >= 0 && dup2(s[1], FD_TARGET_BASE + FD_MADE) >= 0)
		close(s[1]);
}

static void limit(int resource, rlim_t value)
{
	setrlimit(resource, &(struct rlimit){ value, value });
}

static void limits(void)
{
	long pages = 0;
	FILE *statm = fopen("/proc/self/statm", "r");

	if (statm && fscanf(statm, "%ld", &pages) != 1)
		pages = 0;
	if (statm)
		fclose(statm);
	limit(RLIMIT_NOFILE, FD_LIMIT);
	limit(RLIMIT_FSIZE, 1 << 20);
	limit(RLIMIT_CPU, 60);
	limit(RLIMIT_MEMLOCK, 1 << 20);
	limit(RLIMIT_RTPRIO, 0);	/* with no capability outside: no real-time policy */
	limit(RLIMIT_MSGQUEUE, 1 << 16);
	limit(RLIMIT_SIGPENDING, 256);
	limit(RLIMIT_CORE, 0);
	if (pages)	/* room for what the calls map, not for all of the lab's memory */
		limit(RLIMIT_AS, pages * PAGE + (256 << 20));
}

/*
 * Become the user namespace's root, which the parent mapped to an
 * unprivileged uid outside (until now the child is the unmapped uid 0).
 */
static void become_root(void)
{
	if (!(f.clone_flags & CLONE_NEWUSER))
		return;
	if (setgroups(0, NULL) || setresgid(0, 0, 0) || setresuid(0, 0, 0))
		setup_failed(8);
}

/* Without a user namespace the child gives its root up for nobody's uid. */
static void drop_root(void)
{
	if (f.clone_flags & CLONE_NEWUSER)
		return;
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		setup_failed(6);
}

static long raw_syscall(long nr, const long *a)
{
	register long r10 __asm__("r10") = a[3];
	register long r8 __asm__("r8") = a[4];
	register long r9 __asm__("r9") = a[5];
	long ret;

	__asm__ volatile("syscall" : "=a"(ret)
			 : "0"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* The same call natively, its buffer in f.a.native as the op's was made. */
static void native(int i)
{
	const struct op *op = &f.ops[i];
	long a[6], result;

	memcpy(f.a.native, f.shadow[i], PAGE);
	for (int k = 0; k < 6; k++) {
		a[k] = op->args[k];
		if ((uint8_t *)a[k] >= op->buf && (uint8_t *)a[k] < op->buf + PAGE)
			a[k] = (long)(f.a.native + ((uint8_t *)a[k] - op->buf));
	}
	result = raw_syscall(op->nr & 0xffffffff, a);
	report(R_NATIVE, i, result, op->sc->cmp != CMP_BUFFER || !memcmp(f.a.native, op->buf, PAGE));
}

/* What an ioctl's fd is, from its /proc link: KVM's own, another file, or unknown. */
static void fd_kind(int i)
{
	char link[64], name[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", (int)f.ops[i].args[0]);
	n = readlink(link, name, sizeof(name) - 1);
	if (n < 0) {
		report(R_FD_KIND, i, errno == ENOENT ? KIND_OTHER : KIND_UNKNOWN, 0);
		return;
	}
	name[n] = 0;
	if (!strcmp(name, "/dev/kvm"))
		report(R_FD_KIND, i, KIND_KVM, 0);
	else if (!strcmp(name, "anon_inode:kvm-vm"))
		report(R_FD_KIND, i, KIND_KVM_VM, 0);
	else if (!strncmp(name, "anon_inode:kvm-vcpu:", 20))
		report(R_FD_KIND, i, KIND_KVM_VCPU, 0);
	else
		report(R_FD_KIND, i, strstr(name, "kvm") ? KIND_UNKNOWN : KIND_OTHER, 0);
}

static long status_of(int i)
{
	return *(long *)(f.a.guest + G_STATUS + 8 * i);
}

/* The guest stopped after op i, as marked: look at it, then let the guest go on. */
static void after(struct minivm *m)
{
	struct kvm_regs regs;
	int i;

	if (ioctl(m->vcpu_fd[0], KVM_GET_REGS, &regs) < 0)
		return;
	i = (int)(uint32_t)regs.r11;
	if (i >= f.nr_ops || status_of(i) != 0 || !f.ops[i].sc)
		return;
	if (f.ops[i].sc->cmp)
		native(i);
	else
		fd_kind(i);
}

/*
 * KVM_RUN returned for a signal. If it left a hypercall to run again and
 * the parent poked us, the call blocked: complete it with -EINTR.
 */
static void interrupted(struct minivm *m)
{
	volatile uint64_t *poked = (volatile uint64_t *)(f.a.guest + G_POKED);
	bool blocked = *poked;
	struct kvm_regs regs;
	long eintr = -EINTR;

	*poked = 0;
	if (!(m->run[0]->flags & KVM_RUN_X86_HOST_SYSCALL) || !blocked)
		return;
	if (ioctl(m->vcpu_fd[0], KVM_GET_REGS, &regs) < 0)
		return;
	memcpy((uint8_t *)regs.rbx + AX, &eintr, 8);
	regs.rax = 0;
	regs.rip += 3;
	if (ioctl(m->vcpu_fd[0], KVM_SET_REGS, &regs) == 0)
		report(R_EINTR, (int)(uint32_t)regs.rdx, 0, 0);
}

/*
 * The vCPU stopped for good: because a call closed or replaced its fd (the
 * own-VM fd class), reported as EBADF, or for a reason of KVM's.
 */
static void ended(struct minivm *m, int why, long detail)
{
	int kept = FD_INFRA_BASE + (m == &c.capable ? INFRA_VCPU_KEPT : INFRA_INCAPABLE_VCPU_KEPT);

	if (syscall(__NR_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, m->vcpu_fd[0], kept))
		report(R_END, 0, END_KVM_RUN, EBADF);
	else
		report(R_END, 0, why, detail);
}

/* vCPU 0 of @m through @count list entries from @first; 0 when it reached its end. */
static int walk(struct minivm *m, int first, int count)
{
	struct kvm_run *run = m->run[0];

	if (!count)
		return 0;
	if (minivm_start_loop(m, first, count))
		return -1;
	for (;;) {
		if (ioctl(m->vcpu_fd[0], KVM_RUN, 0) < 0) {
			if (errno == EINTR) {
				interrupted(m);
				continue;
			}
			ended(m, END_KVM_RUN, errno);
			return -1;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == PORT_DONE)
			return 0;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == PORT_AFTER)
			after(m);
		else if (run->exit_reason != KVM_EXIT_INTR) {
			ended(m, END_EXIT, run->exit_reason);
			return -1;
		}
	}
}

/* Ring 3's hypercalls, every register random but rbx. */
static int ring3(void)
{
	for (int i = 0; i < f.nr_ops; i++) {
		struct kvm_regs regs;
		uint64_t *words = (uint64_t *)&regs;
		long status;

		if (f.ops[i].vm != VM_RING3)
			continue;
		for (size_t k = 0; k < sizeof(regs) / sizeof(*words); k++)
			words[k] = next();
		regs.rbx = f.ops[i].rbx;
		if (minivm_ring3_hypercall(&c.capable, &regs, &status)) {
			report(R_END, i, END_EXIT, c.capable.run[1]->exit_reason);
			return -1;
		}
		*(long *)(f.a.guest + G_STATUS + 8 * i) = status;
		(*(volatile uint64_t *)(f.a.guest + G_PROGRESS))++;
	}
	return 0;
}

void child_main(int report_fd, int go_fd)
{
	int incapable = 0;
	char go;

	infra(report_fd, INFRA_REPORT);
	if (read(go_fd, &go, 1) != 1)	/* the parent wrote our uid and gid maps */
		_exit(3);
	infra(f.kvm_fd, INFRA_KVM);
	close_range(3, FD_INFRA_BASE - 1, 0);
	infra(open("/dev/null", O_RDWR), INFRA_COUNT);	/* stdio: nothing reaches the console */
	for (int k = 0; k < 3; k++)
		dup2(FD_INFRA_BASE + INFRA_COUNT, k);
	close(FD_INFRA_BASE + INFRA_COUNT);
	become_root();
	setsid();
	signals();
	scratch_dir();

	c.host = f.host;
	c.host.kvm_fd = FD_INFRA_BASE + INFRA_KVM;
	c.incapable.vm_fd = -1;
	if ((f.batch % INCAPABLE_EVERY == 0 &&
	     minivm_create(&c.incapable, &c.host, f.a.guest, false, false)) ||
	    minivm_create(&c.capable, &c.host, f.a.guest, true, true))
		setup_failed(7);
	infra(c.capable.vm_fd, INFRA_VM);
	infra(c.capable.vcpu_fd[0], INFRA_VCPU);
	infra(c.capable.vcpu_fd[1], INFRA_VCPU_RING3);
	infra(dup(FD_INFRA_BASE + INFRA_VCPU), INFRA_VCPU_KEPT);	/* to tell whether a call replaced it */
	c.capable.vm_fd = FD_INFRA_BASE + INFRA_VM;
	c.capable.vcpu_fd[0] = FD_INFRA_BASE + INFRA_VCPU;
	c.capable.vcpu_fd[1] = FD_INFRA_BASE + INFRA_VCPU_RING3;
	if (c.incapable.vm_fd >= 0) {
		infra(c.incapable.vm_fd, INFRA_INCAPABLE_VM);
		infra(c.incapable.vcpu_fd[0], INFRA_INCAPABLE_VCPU);
		infra(dup(FD_INFRA_BASE + INFRA_INCAPABLE_VCPU), INFRA_INCAPABLE_VCPU_KEPT);
		c.incapable.vm_fd = FD_INFRA_BASE + INFRA_INCAPABLE_VM;
		c.incapable.vcpu_fd[0] = FD_INFRA_BASE + INFRA_INCAPABLE_VCPU;
	}
	targets();
	limits();
	drop_root();
	report(R_READY, 0, 0, 0);

	for (int i = 0; i < f.nr_ops; i++)
		incapable += f.ops[i].vm == VM_INCAPABLE;
	if (walk(&c.incapable, 0, incapable))
		_exit(0);
	/*
	 * Its work done, the VM without the capability is left to its target
	 * fds (the VM and vCPU classes): a call that closes both releases
	 * another VM's last fds from within a hypercall.
	 */
	if (c.incapable.vm_fd >= 0) {
		munmap(c.incapable.run[0], c.host.run_size);	/* it holds the vCPU file too */
		close_range(FD_INFRA_BASE + INFRA_INCAPABLE_VM, FD_INFRA_BASE + INFRA_INCAPABLE_VCPU, 0);
	}
	close(FD_INFRA_BASE + INFRA_INCAPABLE_VCPU_KEPT);
	if (ring3() || walk(&c.capable, incapable, f.nr_ops - incapable - f.nr_ring3))
		_exit(0);
	report(R_END, 0, END_DONE, 0);
	_exit(0);
}
