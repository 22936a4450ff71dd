// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The generators: one op's VM, number, arguments and struct address,
 * drawn by class, and its buffer page written (place.c writes the struct).
 *
 * An op's unit in the arena is four pages: two for a valid struct (in the
 * second, or across their boundary), the buffer page, whose bytes are the
 * op's own for the call to write, and a guard page, so that a call given a
 * huge length stops there. Pointer arguments of the buffer class point into
 * the buffer page; the objects some arguments point to (paths, timespecs,
 * signal sets, iovecs, a sigaction, a perf_event_attr) are written there
 * too, and its other words are lengths, fds and pointers, for the calls
 * that read structures with pointers in them.
 *
 * Those pointers, and the iovecs', point into the child's scratch memory,
 * never into an op's page: a call copies its buffer to a file, another
 * reads the file into the scratch memory, and a third, given the scratch
 * memory, writes where the words there point, into a page whose call may
 * not have run.
 *
 * Destructive calls are left to do their worst to the child, which is
 * thrown away after the batch; only where that would stop the child from
 * finishing its batch for nothing, or reach beyond it, are arguments
 * shaped, in shape.c, each with its reason.
 */
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>

#include "fuzz.h"
#include "minivm.h"

#define OBJECTS_AT	2048	/* where argument objects go in the buffer page */
#define PID_SELF	1	/* the child is its PID namespace's init */

static const char *const paths[] = {
	"file", "dir", "dir/sub", "link", "fifo", "new", "dir/new", "", ".", "..", "mnt",
	"file/", "dangling", "/q",
	/* absolute: the child's user namespace maps none of their owners */
	"/", "/proc", "/proc/self/status", "/dev/null", "/tmp", "/sys",
};
#define RELATIVE_PATHS	14

/* File systems the lab has but the last: another one makes the kernel run modprobe. */
static const char *const fstypes[] = {
	"tmpfs", "proc", "sysfs", "ramfs", "mqueue", "cgroup2", "bpf", "tracefs", "user",
	"tmpfs", "proc", "sysfs", "ramfs", "mqueue", "cgroup2", "bpf", "tracefs", "nosuchfs",
};
static const char *const xattr_names[] = {
	"user.a", "trusted.a", "security.capability", "system.posix_acl_access",
	"user.", "", "noprefix",
};

/* The op being made: its buffer page and where its next object goes. */
static struct {
	struct op *op;
	int object_at;
	int arg;		/* the argument being drawn */
} g;

static long pick(const long *v, size_t n)
{
	return v[below(n)];
}
#define PICK(...)	pick((const long[]){ __VA_ARGS__ }, sizeof((const long[]){ __VA_ARGS__ }) / sizeof(long))

/* Room for an object in the buffer page, or NULL. */
static uint8_t *object(int size)
{
	uint8_t *p;

	if (g.object_at + size > (int)PAGE)
		return NULL;
	p = g.op->buf + g.object_at;
	g.object_at += (size + 15) & ~15;
	return p;
}

static long pointer(void)
{
	struct op *op = g.op;
	int cls = below(4) ? P_BUFFER : (int)below(P_COUNT);
	long p = 0;

	switch (cls) {
	case P_BUFFER:
		p = (long)(op->buf + BUF_HEAD + (below(2) ? 0 : below(16)));
		break;
	case P_BUFFER_END:
		p = (long)(op->buf + PAGE - 1 - below(64));
		break;
	case P_NULL:
		break;
	case P_KERNEL:
		p = (long)(KERNEL_BASE + below(1 << 20));
		break;
	case P_NONCANONICAL:
		p = (long)(NONCANONICAL + below(1ULL << 40));
		break;
	case P_READ_ONLY:
		p = (long)(f.a.read_only + below(PAGE));
		break;
	case P_UNMAPPED:
		p = (long)(f.a.hole + below(PAGE));
		break;
	case P_VMM_ONLY:
		p = (long)(f.a.scratch + below(f.a.scratch_size));
		break;
	case P_GUEST_ONLY:
		p = (long)(G_ONLY + below(PAGE));
		break;
	}
	op->ptr_cls[g.arg] = cls;
	if (cls == P_BUFFER && !op->ptr)
		op->ptr = (uint8_t *)p;
	return p;
}

/* A pointer to @obj if it fit and most of the time, else a pointer of any class. */
static long object_pointer(const void *obj)
{
	if (!obj || !below(8))
		return pointer();
	g.op->ptr_cls[g.arg] = P_BUFFER;
	return (long)obj;
}

/*
 * The fd classes a call is for, which it gets as its first argument half
 * of the time: ioctl KVM's above all (/dev/kvm, a VM, a vCPU, this
 * thread's own VM and vCPUs), perf's and userfaultfd's; io_uring's calls
 * their ring; the pidfd calls a pidfd. -1 for the other calls.
 */
static int preferred_fd(void)
{
	switch (g.op->sc->nr) {
	case __NR_ioctl:
		return PICK(FD_KVM, FD_VM, FD_VCPU, FD_OWN_VM, FD_PERF, FD_USERFAULTFD);
	case __NR_io_uring_enter:
	case __NR_io_uring_register:
		return FD_IO_URING;
	case __NR_pidfd_send_signal:
	case __NR_pidfd_getfd:
	case __NR_process_madvise:
	case __NR_process_mrelease:
		return FD_PIDFD;
	}
	return -1;
}

static long fd(void)
{
	int cls = below(256) ? (int)below(FD_OWN_VM) : FD_OWN_VM, preferred = preferred_fd();
	long v;

	if (g.arg == 0 && preferred >= 0 && below(2))
		cls = preferred;

	switch (cls) {
	case FD_STDIO:
		v = below(3);
		break;
	case FD_CLOSED:
		v = FD_TARGET_BASE + FD_MADE + below(FD_INFRA_BASE - FD_TARGET_BASE - FD_MADE);
		break;
	case FD_HUGE:
		v = PICK(FD_LIMIT, FD_INFRA_END + 100, 1 << 20, 0x7fffffff, 1L << 32);
		break;
	case FD_NEGATIVE:
		v = PICK(-1, -100 /* AT_FDCWD */, -2, (long)0x80000000U, -(long)below(1 << 20));
		break;
	case FD_OWN_VM:
		v = FD_OWN_VM_FIRST + below(3);
		break;
	default:
		v = FD_TARGET_BASE + cls;
		break;
	}
	g.op->fd_cls[g.arg] = cls;
	return v;
}

static long size(void)
{
	switch (below(8)) {
	case 0:
		return PICK(0, 1, 2, 4, 8);
	case 1:
		return PICK(0x7fffffff, -1, 1L << 31, 1L << 62, 0x100000000L, -(long)below(4096));
	case 2:
		return PICK(PAGE, PAGE - BUF_HEAD, 16, 24, 64, 128, 144, 256);
	default:
		return below(PAGE);
	}
}

static long int_value(void)
{
	switch (below(6)) {
	case 0:
		return PICK(0, 1, -1, 2);
	case 1:
		return (long)next();
	case 2:
		return (int)next();
	default:
		return below(64);
	}
}

/* A path string in the buffer page, or a bad pointer. */
static long path(void)
{
	int n = f.clone_flags & CLONE_NEWNS ? (int)(sizeof(paths) / sizeof(paths[0])) : RELATIVE_PATHS;
	uint8_t *p;

	if (!below(12)) {
		p = object(300);
		if (p) {
			memset(p, 'a', 299);
			p[299] = 0;
		}
		return object_pointer(p);
	}
	p = object(32);
	if (p)
		strcpy((char *)p, paths[below(n)]);
	return object_pointer(p);
}

static long string_of(const char *const *list, size_t n)
{
	uint8_t *p = object(32);

	if (p)
		strcpy((char *)p, list[below(n)]);
	return object_pointer(p);
}

/* Two timespecs (or an itimerspec, itimerval): short times, a few long ones, some invalid. */
static long times(void)
{
	long *t = (long *)object(32);

	if (!t || !below(6))
		return below(2) ? pointer() : 0;
	/* mostly short: a long sleep only waits for the parent's poke */
	for (int k = 0; k < 4; k += 2) {
		t[k] = below(64) ? 0 : PICK(1, 1L << 40, -1);
		t[k + 1] = below(64) ? PICK(0, 1, 1000, 100000, 1000000000, -1) : 999999999;
	}
	return (long)t;
}

/* A signal set: random bits, or none. */
static long sigset(void)
{
	uint64_t *s = (uint64_t *)object(16);

	if (!s || !below(8))
		return below(2) ? pointer() : 0;
	s[0] = below(2) ? next() : 0;
	s[1] = next();
	return (long)s;
}

/* pselect6's and io_pgetevents' { sigset pointer, its size }. */
static long sigset_pack(void)
{
	long *pack = (long *)object(16);

	if (!pack)
		return pointer();
	pack[0] = sigset();
	pack[1] = below(8) ? 8 : size();
	return object_pointer(pack);
}

/* iovecs over the buffer page's own bytes. */
static long iovecs(void)
{
	uint64_t *v = (uint64_t *)object(8 * 16);

	if (!v)
		return pointer();
	for (int k = 0; k < 16; k += 2) {
		v[k] = (uint64_t)(f.a.scratch + below(f.a.scratch_size / 2));
		v[k + 1] = below(8) ? below(256) : (uint64_t)size();
	}
	return object_pointer(v);
}

static long count(void)
{
	return below(8) ? (long)below(16) : PICK(1024, 1025, 65536, -1, 0x7fffffff);
}

/*
 * A kernel sigaction: default, ignore, or a handler of the child's with
 * libc's restorer and SA_RESTORER. Another handler address would only kill
 * the child with SIGSEGV at the signal's delivery.
 */
static long sigaction_object(void)
{
	uint64_t *sa = (uint64_t *)object(32);

	if (!sa)
		return pointer();
	sa[0] = PICK(0 /* SIG_DFL */, 1 /* SIG_IGN */, (long)f.a.noop_handler);
	sa[1] = next() & (0x1 | 0x2 | 0x4 | 0x08000000 | 0x10000000 | 0x40000000 | 0x80000000);
	if (sa[0] > 1)
		sa[1] |= 0x04000000;	/* SA_RESTORER */
	sa[2] = f.a.restorer;
	sa[3] = next();
	return object_pointer(sa);
}

/* A perf_event_attr that the kernel may accept: a type, a size, exclude_kernel mostly. */
static long perf_attr(void)
{
	uint8_t *a = object(136);
	uint32_t type = PICK(0, 1, 1, 2, 4, 5, (long)below(16)), size = PICK(64, 112, 128, 136, 0);
	uint64_t config = below(16), flags = next() & 0x3ffffff;

	if (!a)
		return pointer();
	memset(a, 0, 136);
	if (below(4))
		flags |= 1 << 5;	/* exclude_kernel, needed unprivileged */
	memcpy(a, &type, 4);
	memcpy(a + 4, &size, 4);
	memcpy(a + 8, &config, 8);
	memcpy(a + 40, &flags, 8);
	if (type == 5) {	/* a breakpoint on the op's own buffer */
		uint32_t bp_type = PICK(1, 2, 3, 4);
		uint64_t addr = (uint64_t)(g.op->buf + BUF_HEAD), len = PICK(1, 2, 4, 8);

		memcpy(a + 52, &bp_type, 4);
		memcpy(a + 56, &addr, 8);
		memcpy(a + 64, &len, 8);
	}
	return object_pointer(a);
}

/*
 * A memory range's start: the child's scratch memory (its page in the
 * middle is unmapped), or no user memory.
 */
static long region(void)
{
	switch (below(8)) {
	case 0:
		return PICK(0, (long)KERNEL_BASE, (long)NONCANONICAL, (long)(USER_END - PAGE));
	case 1:
		return (long)(f.a.scratch + SCRATCH_HOLE);
	case 2:
		return (long)(f.a.scratch + below(f.a.scratch_size));	/* unaligned */
	default:
		return (long)(f.a.scratch + below(f.a.scratch_size / PAGE) * PAGE);
	}
}

static long region_length(void)
{
	switch (below(6)) {
	case 0:
		return PICK(0, 1, -1, 1L << 46, (long)PAGE - 1);
	case 1:
		return below(f.a.scratch_size);
	default:
		return (1 + below(f.a.scratch_size / PAGE)) * PAGE;
	}
}

static long any(void)
{
	switch (below(4)) {
	case 0:
		return fd();
	case 1:
		return pointer();
	default:
		return int_value();
	}
}

static long arg_value(int kind)
{
	if (kind >= A_FLAGS)
		return flag_value(kind - A_FLAGS);
	switch (kind) {
	case A_FD:
		return fd();
	case A_DIRFD:
		return below(2) ? -100 /* AT_FDCWD */ : fd();
	case A_PATH:
		return path();
	case A_FSTYPE:
		return string_of(fstypes, sizeof(fstypes) / sizeof(fstypes[0]));
	case A_XNAME:
		return string_of(xattr_names, sizeof(xattr_names) / sizeof(xattr_names[0]));
	case A_BUF:
		return pointer();
	case A_LEN:
	case A_OFF:
		return size();
	case A_ADDR:
		return region();
	case A_ALEN:
		return region_length();
	case A_PID:
		return below(8) ? PICK(0, PID_SELF, -1, 2, -PID_SELF, 300) : int_value();
	case A_SIG:
		return below(8) ? (long)below(65) : int_value();
	case A_UID:
		return PICK(0, 1, 65534, -1, 100000, (long)(uint32_t)next());
	case A_MODE:
		return (long)(next() & 07777) | PICK(0, 0, 0010000, 0020000, 0100000, 0140000);
	case A_TIME:
		return times();
	case A_SIGSET:
		return sigset();
	case A_SIGSET_PACK:
		return sigset_pack();
	case A_SIGSETSIZE:
		return below(8) ? 8 : size();
	case A_IOV:
		return iovecs();
	case A_IOVCNT:
		return count();
	case A_SIGACT:
		return sigaction_object();
	case A_PERF_ATTR:
		return perf_attr();
	case A_CLOCK:
		return below(8) ? (long)below(12) : int_value();
	case A_MSEC:
		return below(16) ? PICK(0, 0, 1, 2, 10) : PICK(-1, 1000, 3600);
	case A_ANY:
		return any();
	default:
		return (long)next();
	}
}

/*
 * A call of the table: any, or one time in four one that takes an fd
 * first, a third of those ioctl, so that each fd class, KVM's above all,
 * meets the calls that act on it.
 */
static const struct syscall *draw_call(void)
{
	static int fd_calls[512], nr_fd_calls;

	if (!nr_fd_calls) {
		for (int k = 0; k < nr_syscalls; k++) {
			if (syscalls[k].args[0] == A_FD)
				fd_calls[nr_fd_calls++] = k;
		}
	}
	switch (below(12)) {
	case 0:
		return &syscalls[__NR_ioctl];	/* the table's index is the number below 336 */
	case 1:
	case 2:
		return &syscalls[fd_calls[below(nr_fd_calls)]];
	default:
		return &syscalls[below(nr_syscalls)];
	}
}

/* The number: a call of the table most of the time, else one that is none. */
static void number(struct op *op)
{
	int n = below(100);

	op->nclass = n < 86 ? N_CALL : n < 90 ? N_HIGH_BITS : N_GAP + (n - 90) % 4;
	if (op->nclass == N_GAP + 3)
		op->nclass = below(2) ? N_X32 : N_GAP;
	op->sc = NULL;
	switch (op->nclass) {
	case N_CALL:
	case N_HIGH_BITS:
		op->sc = draw_call();
		op->nr = op->sc->nr;
		if (op->nclass == N_HIGH_BITS)
			op->nr |= (long)(next() << 32);
		else if (!abi_allowed(op->nr))
			op->nclass = N_REFUSED;
		break;
	case N_GAP:
		op->nr = 336 + below(424 - 336);
		break;
	case N_PAST_END:
		op->nr = 463 + below(100000);
		break;
	case N_NEGATIVE:
		op->nr = -1 - (long)below(1000);
		break;
	case N_X32:
		op->nr = 0x40000000 | (long)below(600);
		break;
	}
}

/*
 * The buffer page: canaries, then words a call may take for lengths, fds or
 * pointers, all of it made anew: what a call left there in an earlier batch
 * may point into another op's page, and a call that reads pointers from its
 * buffer (an iovec array, a msghdr) would write there.
 */
static void fill_buffer(struct op *op)
{
	uint64_t *w = (uint64_t *)(op->buf + BUF_HEAD);

	memset(op->buf, CANARY, BUF_HEAD);
	for (size_t k = 0; k < (PAGE - BUF_HEAD) / 8; k++) {
		switch (below(6)) {
		case 0:
			w[k] = below(64);
			break;
		case 1:
			w[k] = (uint64_t)(f.a.scratch + below(f.a.scratch_size - 64));
			break;
		case 2:
			w[k] = FD_TARGET_BASE + below(FD_MADE);
			break;
		case 3:
			w[k] = 0;
			break;
		default:
			w[k] = next();
			break;
		}
	}
}

void make_op(int i)
{
	struct op *op = &f.ops[i];
	int n;

	if (i == 0)
		place_reset();
	memset(op, 0, offsetof(struct op, image));
	memset(op->fd_cls, -1, sizeof(op->fd_cls));
	memset(op->ptr_cls, -1, sizeof(op->ptr_cls));
	g.op = op;
	g.object_at = OBJECTS_AT;
	n = below(144);
	op->vm = n < 18 ? VM_INCAPABLE : n < 26 ? VM_RING3 : VM_CAPABLE;
	if (op->vm == VM_INCAPABLE && f.batch % INCAPABLE_EVERY)
		op->vm = VM_CAPABLE;
	op->target = below(4) ? T_VALID : 1 + below(T_COUNT - 1);
	op->buf = unit(i) + 2 * PAGE;
	fill_buffer(op);
	number(op);
	for (g.arg = 0; g.arg < 6; g.arg++)
		op->args[g.arg] = op->sc ? arg_value(op->sc->args[g.arg]) : int_value();
	if (op->sc)
		shape(op);
	place(op, i);
}
