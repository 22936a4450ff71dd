/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * hostcall-fuzz's shared declarations. The files, by concern:
 *   hostcall-fuzz.c  the parent: options, the arena, batches, the watch
 *                    over each child, the counts
 *   syscalls.c       every x86-64 number of Linux 6.12 with its argument kinds
 *   args.c           the generators: numbers, fds, pointers, sizes, flags, ...
 *   shape.c          the few arguments made harmless, each with its reason
 *   flags.c          each flag argument's valid values
 *   place.c          where each struct goes, by its target
 *   neighbour.c      another process's VM and struct
 *   expect.c         what the ABI promises and the checks of one hypercall
 *   child.c          the throwaway VMM process that makes one batch
 *   minivm.c         its small VMs: a ring-0 loop of hypercalls, ring 3
 *
 * The parent makes each batch's structs and buffers in the arena, memory it
 * shares with the child, so that it can check them whatever the child did
 * or however it ended; the child only makes the hypercalls, in its own
 * namespaces, and says over a pipe what only it can see (native results,
 * which file an fd was, how it ended).
 */
#ifndef HOSTCALL_FUZZ_H
#define HOSTCALL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <asm/ptrace.h>

#include "minivm.h"

#define PAGE		4096UL
#define BATCH_MAX	G_ENTRIES
#define STRUCT_SIZE	sizeof(struct pt_regs)
#define AX		offsetof(struct pt_regs, rax)
#define CANARY		0xa5
#define KERNEL_BASE	0xffff888000000000ULL	/* the direct map */
#define NONCANONICAL	0x0000800000000000ULL
#define USER_END	0x7ffffffff000ULL	/* TASK_SIZE_MAX with 4-level paging */

/* One op's pages in the arena: two for its struct, its buffer, a guard. */
#define UNIT_PAGES	4
#define S_AREA_BEFORE	256	/* checked bytes of page 0 before the boundary */
#define S_AREA_AFTER	512	/* and of page 1 after it */
#define BUF_HEAD	64	/* canaries at the start of the buffer page */

/* The child's fds: targets at fixed numbers, its own machinery far above. */
#define FD_TARGET_BASE	3
#define FD_INFRA_BASE	1000	/* report pipe, /dev/kvm, VMs, vCPUs */
#define FD_INFRA_END	1012
#define FD_OWN_VM_FIRST	(FD_INFRA_BASE + 2)	/* its VM, then its two vCPUs */
#define FD_LIMIT	1024	/* the child's RLIMIT_NOFILE */

/*
 * Batches: one in this many has a VM without the capability too (making and
 * destroying a VM costs a fifth of a child's life under the debug kernel).
 */
#define INCAPABLE_EVERY	2

/* The child's scratch memory: SCRATCH_PAGES, one of them unmapped. */
#define SCRATCH_PAGES	64
#define SCRATCH_HOLE	(32 * PAGE)

/* Where rbx points. */
enum target {
	T_VALID, T_NULL, T_KERNEL, T_NONCANONICAL, T_READ_ONLY, T_UNMAPPED,
	T_STRADDLE, T_END_OF_USER, T_GUEST_PHYSICAL, T_OTHER_VM, T_COUNT
};

/* Which vCPU makes the hypercall. */
enum vm_kind { VM_CAPABLE, VM_INCAPABLE, VM_RING3, VM_COUNT };

/* What the number is. */
enum num_class {
	N_CALL, N_HIGH_BITS, N_REFUSED, N_GAP, N_PAST_END, N_NEGATIVE, N_X32, N_COUNT
};

/* Pointer arguments. */
enum ptr_class {
	P_BUFFER, P_BUFFER_END, P_NULL, P_KERNEL, P_NONCANONICAL, P_READ_ONLY,
	P_UNMAPPED, P_VMM_ONLY, P_GUEST_ONLY, P_COUNT
};

/* Fd arguments: the classes the child makes at FD_TARGET_BASE + class, then the rest. */
enum fd_class {
	FD_KVM, FD_VM, FD_VCPU, FD_IO_URING, FD_PERF, FD_USERFAULTFD, FD_PIDFD,
	FD_EVENTFD, FD_TIMERFD, FD_SIGNALFD, FD_EPOLL, FD_PIPE_READ, FD_PIPE_WRITE,
	FD_UNIX, FD_INET, FD_MEMFD, FD_FILE, FD_DIR, FD_DEVNULL, FD_DEVZERO,
	FD_INOTIFY, FD_MADE,	/* the last made: FD_MADE and up are not opened */
	FD_STDIO = FD_MADE, FD_CLOSED, FD_HUGE, FD_NEGATIVE, FD_OWN_VM, FD_COUNT
};

/* Argument kinds of the syscall table; A_FLAGS + set for flag arguments. */
enum arg_kind {
	A_NONE, A_INT, A_FD, A_DIRFD, A_PATH, A_BUF, A_LEN, A_ADDR, A_ALEN, A_PID,
	A_SIG, A_UID, A_MODE, A_OFF, A_TIME, A_SIGSET, A_SIGSET_PACK, A_SIGSETSIZE,
	A_IOV, A_IOVCNT, A_SIGACT, A_PERF_ATTR, A_CLOCK, A_MSEC, A_ANY, A_XNAME,
	A_FSTYPE, A_FLAGS,
};

/* Flag and command sets: each call's valid values (args.c has them). */
enum flag_set {
	FS_OPEN, FS_AT, FS_PROT, FS_MAP, FS_MADV, FS_MREMAP, FS_MSYNC, FS_MCL,
	FS_MLOCK2, FS_SEEK, FS_FCNTL, FS_IOCTL, FS_PRCTL, FS_SOCK_DOMAIN,
	FS_SOCK_TYPE, FS_MSG, FS_SHUT, FS_SOCKLEVEL, FS_SOCKOPT, FS_WAIT, FS_RLIMIT,
	FS_PRIO_WHICH, FS_SCHED_POLICY, FS_FUTEX, FS_FUTEX2, FS_EPOLL_OP,
	FS_CLOEXEC_NONBLOCK, FS_EFD, FS_IN_MASK, FS_FAN_INIT, FS_FAN_MARK,
	FS_FAN_MASK, FS_MOUNT, FS_UMOUNT, FS_RENAME, FS_XATTR, FS_FALLOC, FS_SPLICE,
	FS_MEMFD, FS_PERF, FS_SECCOMP_OP, FS_BPF_CMD, FS_IPC_CMD, FS_IPC_FLAGS,
	FS_SHM, FS_CLONE, FS_PTRACE, FS_SIGHOW, FS_IOPRIO_WHICH, FS_MEMBARRIER,
	FS_URING_ENTER, FS_URING_REGISTER, FS_GETRANDOM, FS_STATX, FS_MOUNT_API,
	FS_FSCONFIG, FS_PIDFD, FS_CLOSE_RANGE, FS_MPOL, FS_KCMP, FS_ITIMER,
	FS_TIMER, FS_TFD_SETTIME, FS_ACCESS, FS_FLOCK, FS_SYSLOG, FS_PERSONALITY,
	FS_UFFD, FS_SYNC_FILE_RANGE, FS_FADVISE, FS_RWF, FS_REBOOT, FS_COUNT
};

#define FL(set)	(A_FLAGS + FS_##set)

struct syscall {
	const char *name;
	short nr;
	unsigned short args[6];	/* enum arg_kind, or A_FLAGS + flag set */
	unsigned char cmp;	/* CMP_*: the result can be compared with a native call */
};

#define CMP_RESULT	1	/* the result alone */
#define CMP_BUFFER	2	/* and the bytes it stored in its buffer */

/* syscalls.c */
extern const struct syscall syscalls[];
extern const int nr_syscalls;
int syscall_table_check(void);

/* One hypercall: made by the parent, read by the child (its copy), checked. */
struct op {
	const struct syscall *sc;	/* NULL for a number that is no call */
	long nr;		/* as put in the struct's rax */
	long args[6];
	uint64_t rbx;
	uint8_t *placed;	/* the struct's bytes in memory the parent can read, or NULL */
	uint8_t *area;		/* the checked bytes around it: canaries and the struct */
	int area_size;
	uint8_t *buf;		/* the unit's buffer page, or NULL */
	uint8_t *ptr;		/* where the buffer argument points */
	int buf_len;		/* CMP_BUFFER: bytes the call may store at ptr */
	int8_t fd_cls[6], ptr_cls[6];	/* each argument's class, or -1 */
	uint8_t vm, target, nclass, exit_after;
	uint8_t prot[2];	/* straddle: protection of the struct's two pages */
	int split;		/* straddle: the struct's bytes on the first page */
	uint8_t image[STRUCT_SIZE];	/* the struct as made */
};

/* Protections of the struct pages. */
enum { PROT_RW_, PROT_RO_, PROT_NONE_ };

/* The special pages: a pattern of SPECIAL_PERIOD protections, repeated. */
#define SPECIAL_PERIOD	9
#define SPECIAL_REPEAT	32
#define SPECIAL_PAGES	(SPECIAL_PERIOD * SPECIAL_REPEAT)
#define SLOTS_INSIDE	8	/* structs in the middle of a page, 256 bytes apart */

/* The memory both processes see, and where things are. */
struct arena {
	uint8_t *guest;		/* the VMs' guest memory (minivm.h's layout) */
	uint8_t *read_only;	/* a page of canaries, read-only */
	uint8_t *hole;		/* an unmapped page */
	uint8_t *units;		/* BATCH_MAX units of UNIT_PAGES, read-write but for the guards */
	uint8_t *special;	/* SPECIAL_PAGES pages, read-write, read-only or unmapped */
	uint8_t *special_rw;	/* the same memory, read-write, for the parent */
	uint8_t *scratch;	/* the child's own memory: private, copied at clone */
	size_t scratch_size;
	uint8_t *neighbour;	/* another process's page, mapped only there */
	uint8_t *native;	/* the child's page for native calls, a guard after it */
	uint64_t restorer;	/* libc's signal restorer, for a handler of ours */
	uint64_t noop_handler;
};

/* Counts by class, printed at the end. */
#define ERRNO_MAX	134	/* EHWPOISON + 1 */
struct counts {
	long per_nclass[N_COUNT], per_target[T_COUNT], per_vm[VM_COUNT];
	long per_fd[FD_COUNT], per_fd_ok[FD_COUNT], per_ptr[P_COUNT], per_nr[512];	/* fd_ok: the call succeeded */
	long ran, efault, eperm, enosys, eopnotsupp;
	long errors[ERRNO_MAX], odd_results;	/* results of calls that ran: [0] >= 0, [e] -e, else odd */
	long compared, kvm_ioctl[4], interrupted;	/* kvm_ioctl: by enum fd_kind */
	long batches, batches_short, hangs, reached;
	long ended_by_signal[65];
};

/* The run's state: the parent's, and the child's copy of it. */
struct fuzz {
	uint64_t seed, state;
	bool amd, verbose;
	int clone_flags;	/* the namespaces the child gets */
	const char *missing_ns;	/* a note: those it does not */
	struct arena a;
	int kvm_fd;		/* /dev/kvm, opened here: the child cannot open it */
	struct minivm_host host;
	int nr_ops, nr_ring3;
	struct op ops[BATCH_MAX];
	uint8_t shadow[BATCH_MAX][PAGE];	/* the ops' buffer pages as made */
	long batch, failures;
	struct counts n;
};

extern struct fuzz f;

/* Rounds of the splitmix64 generator: the same seed makes the same batches. */
static inline uint64_t next(void)
{
	uint64_t z = (f.state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t below(uint64_t n)
{
	return next() % n;
}

static inline uint8_t *unit(int i)
{
	return f.a.units + (size_t)i * UNIT_PAGES * PAGE;
}

/* args.c */
void make_op(int i);

/* shape.c */
void shape(struct op *op);

/* place.c */
void place_reset(void);
void place(struct op *op, int i);
extern const uint8_t special_pattern[];
/* flags.c */
long flag_value(int set);

/* What the parent learnt of one op once its child ended. */
struct outcome {
	long status;		/* from guest memory; STATUS_NOT_RUN if not reached */
	bool in_flight;		/* the op the child was in when it died */
	bool native, native_same_bytes, eintr, has_fd_kind;
	long native_result;
	int fd_kind;		/* enum fd_kind: the ioctl's fd when the call returned */
};

/* expect.c */
extern const char *const target_names[], *const vm_names[], *const nclass_names[];
extern const char *const ptr_names[], *const fd_names[];
bool abi_allowed(long nr);
bool check_op(int i, const struct outcome *out, bool *watched);
void fail(const struct op *op, const char *what, long got, long want);

/* child.c: the child's records to the parent, over a pipe. */
enum record_kind { R_READY, R_NATIVE, R_FD_KIND, R_EINTR, R_END, R_SETUP };

/* How the child's run ended (R_END's value). */
enum end_reason { END_DONE, END_KVM_RUN, END_EXIT, END_SETUP };

/* R_FD_KIND's value: what the ioctl's fd was when the call returned. */
enum fd_kind { KIND_UNKNOWN = -1, KIND_OTHER, KIND_KVM, KIND_KVM_VM, KIND_KVM_VCPU };

struct record {
	uint32_t magic;
	uint16_t kind, op;
	int64_t value, value2;
};

#define RECORD_MAGIC	0x68637a66	/* "fzch" */

void child_main(int report_fd, int go_fd);
void child_noop_handler(int sig);

/* neighbour.c */
int neighbour_start(void);
void neighbour_check(void);

#endif
