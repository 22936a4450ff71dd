/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * hostcall-bench: what each mechanism costs per system call, and on two
 * workloads. Each mechanism is a function that makes @warmup untimed, then
 * @calls timed operations and returns the nanoseconds the timed ones took,
 * or a negative errno: -EOPNOTSUPP if it cannot do that operation, another
 * if it failed (the caller reports and skips it).
 */
#ifndef HOSTCALL_BENCH_H
#define HOSTCALL_BENCH_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

/* Functions that run in guest ring 0: general registers only, so that they
 * also run on a KVM that cannot execute vector instructions in a guest. */
#define GUEST	__attribute__((target("general-regs-only"), noipa))

enum op {
	OP_GETPID,		/* getpid() */
	OP_READ1,		/* read(fd, buf, 1) from a pipe that always has data */
	OP_CLOCK_GETTIME,	/* the clock_gettime system call, not the vDSO */
	OP_UDP_RR,		/* a 1-byte UDP request and its response, over loopback */
	OP_READ64,		/* a 64-byte read of a 16 MiB file, checksummed */
	NR_OPS,
};

struct op_info {
	const char *name;
	bool per_call;		/* one system call (else a workload) */
};

extern const struct op_info ops[NR_OPS];

/* What a run of an operation needs, set up untimed by bench.c. */
struct op_env {
	int pipe_fd;		/* OP_READ1: holds at least warmup + calls bytes */
	int udp_fd;		/* OP_UDP_RR: connected to the echo peer */
	int file_fd;		/* OP_READ64: the 16 MiB file, read from its start */
};

typedef long (*mechanism_fn)(enum op op, const struct op_env *env, long warmup, long calls);

/*
 * How a mechanism runs fn(arg) in guest ring 0 of its VM @vm: fn's result,
 * or -errno if the VM failed (hc_vm_call() for libhostcall's).
 */
typedef long (*guest_run_fn)(void *vm, long (*fn)(void *), void *arg);

/*
 * guest.c: the guest loops every such mechanism times, run by @run, @warmup
 * times untimed then @calls times; the ns the timed ones took, or -errno.
 * guest_op_timed(): @op by op_once(), whose system calls go through the
 * guest's syscall entry. guest_hypercalls_timed(): the hypercall instruction
 * of the CPU's vendor with rax = @nr, each of which must leave rax = @status.
 */
long guest_op_timed(guest_run_fn run, void *vm, enum op op, const struct op_env *env, long warmup,
		    long calls);
long guest_hypercalls_timed(guest_run_fn run, void *vm, unsigned long nr, long status, long warmup,
			    long calls);

/*
 * guest.c, for --trace: with trace_marks set, each guest_*_timed() makes one
 * more call, untimed, between two trace marks (Bochs's magic breakpoints:
 * lab/run --trace), and counts it in trace_marked_runs.
 * trace_marks_empty() makes a pair with nothing between, for a mechanism
 * that could not run, so that the lab's count of pairs still holds.
 */
extern bool trace_marks;
extern long trace_marked_runs;
void trace_marks_empty(void);

/* guest.c: libhostcall; -ENODEV where the mode is not available here. */
long mech_native(enum op op, const struct op_env *env, long warmup, long calls);
long mech_hypercall(enum op op, const struct op_env *env, long warmup, long calls);
long mech_exit(enum op op, const struct op_env *env, long warmup, long calls);
long mech_noop_hypercall(enum op op, const struct op_env *env, long warmup, long calls);
void report_emulation(void);
void report_breakdown(long calls);
/* ptrace.c */
long mech_ptrace(enum op op, const struct op_env *env, long warmup, long calls);
/* seccomp.c */
long mech_seccomp_trap(enum op op, const struct op_env *env, long warmup, long calls);
long mech_seccomp_unotify(enum op op, const struct op_env *env, long warmup, long calls);
long mech_seccomp_unotify_sync(enum op op, const struct op_env *env, long warmup, long calls);
/* slimvm.c: the peer SlimVM's module (issue 17); -ENODEV without /dev/slimvm. */
long mech_slimvm(enum op op, const struct op_env *env, long warmup, long calls);
long mech_slimvm_noop(enum op op, const struct op_env *env, long warmup, long calls);

/*
 * Fork a child for a mechanism that needs a process of its own, with
 * *report mapped in both, preset to -EIO, for the child's result: the
 * child's pid (0 in the child), or -errno. -EOPNOTSUPP for a workload.
 * child_report_unmap() once the child is gone.
 */
pid_t fork_reporting(enum op op, volatile long **report);
void child_report_unmap(volatile long *report);

/*
 * One operation, by raw system calls (hc_syscall(): in the guest they go to
 * the host): its result, -errno on failure. OP_READ64 adds what it read to
 * read64_checksum, so that every mechanism can be checked to read the same.
 */
GUEST long op_once(enum op op, const struct op_env *env);
extern unsigned long read64_checksum;

static inline long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

#endif /* HOSTCALL_BENCH_H */
