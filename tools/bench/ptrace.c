// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * ptrace: gVisor's ptrace platform in miniature. A child stops at every
 * system call with PTRACE_SYSEMU, which skips the call, and the tracer serves
 * it: the op's call and clock_gettime on a system-wide clock are emulated in
 * the tracer; anything else is rewound and run for real, so that the child's
 * libc (raise()'s mask restore, now_ns()'s vDSO fallback, exit) still works.
 *
 * The child times its own calls and leaves the result in memory it shares
 * with us, because only it knows where the timed window starts and ends.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define SYSCALL_INSN_LEN	2	/* syscall is 0f 05 */

static __attribute__((noreturn))
void tracee(enum op op, const struct op_env *env, long warmup, long calls,
	    volatile long *report)
{
	long i, t0, ret = 0;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
		*report = -errno;
		_exit(0);
	}
	/* Wait for the tracer to set its options before the first call. */
	raise(SIGSTOP);

	for (i = 0; i < warmup && ret >= 0; i++)
		ret = op_once(op, env);
	t0 = now_ns();
	for (i = 0; i < calls && ret >= 0; i++)
		ret = op_once(op, env);
	*report = ret < 0 ? ret : now_ns() - t0;
	_exit(0);
}

/*
 * Write into the tracee's memory. The lab kernel has no
 * CONFIG_CROSS_MEMORY_ATTACH, so process_vm_writev() may be ENOSYS: then
 * fall back to PTRACE_POKEDATA a word at a time, which is slower; the
 * figures of the two are not comparable for read1 and clock_gettime.
 */
static long poke(pid_t pid, unsigned long addr, const void *src, size_t len)
{
	static bool no_vm_writev;
	const char *p = src;

	if (!no_vm_writev) {
		struct iovec local = { (void *)src, len };
		struct iovec remote = { (void *)addr, len };
		ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EFAULT;
		if (errno != ENOSYS)
			return -errno;
		no_vm_writev = true;
	}
	while (len) {
		unsigned long base = addr & ~(sizeof(long) - 1);
		size_t off = addr - base, n = sizeof(long) - off;
		long word = 0;

		if (n > len)
			n = len;
		if (n < sizeof(long)) {
			/* PEEKDATA returns the word: -1 is valid, errno tells */
			errno = 0;
			word = ptrace(PTRACE_PEEKDATA, pid, base, NULL);
			if (errno)
				return -errno;
		}
		memcpy((char *)&word + off, p, n);
		if (ptrace(PTRACE_POKEDATA, pid, base, word) < 0)
			return -errno;
		addr += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* Clocks that read the same in the tracer as in the tracee: not the CPU-time
 * ones, which would measure the tracer. */
static bool system_clock(long id)
{
	switch (id) {
	case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME: case CLOCK_TAI:
		return true;
	}
	return false;
}

/*
 * Serve the call the tracee is stopped at, in @r; false if it must run for
 * real. *@is_op tells whether it was the operation being measured.
 */
static bool emulate(enum op op, const struct op_env *env, pid_t pid,
		    struct user_regs_struct *r, bool *is_op)
{
	long nr = r->orig_rax;

	*is_op = false;
	if (nr == SYS_getpid && op == OP_GETPID) {
		r->rax = pid;
		*is_op = true;
	} else if (nr == SYS_read && op == OP_READ1 && (int)r->rdi == env->pipe_fd) {
		char buf[64];
		size_t len = r->rdx < sizeof(buf) ? r->rdx : sizeof(buf);
		/* Same pipe as the tracee's: the bytes it would have read */
		ssize_t n = read(env->pipe_fd, buf, len);
		long err = n > 0 ? poke(pid, r->rsi, buf, n) : 0;

		r->rax = n < 0 ? -errno : err < 0 ? err : n;
		*is_op = true;
	} else if (nr == SYS_clock_gettime && system_clock(r->rdi)) {
		struct timespec ts;
		long err = 0;

		/* Also the vDSO's fallback for now_ns(), which SYSEMU skips */
		if (clock_gettime(r->rdi, &ts) < 0)
			err = -errno;
		else
			err = poke(pid, r->rsi, &ts, sizeof(ts));
		r->rax = err;
		*is_op = op == OP_CLOCK_GETTIME && r->rdi == CLOCK_REALTIME;
	} else {
		return false;
	}
	return true;
}

/*
 * Trace @pid until it has made @total operations, then detach. Returns 0 or
 * -errno; *@exited is set, with *@status, if the child was reaped here.
 */
static long trace(pid_t pid, enum op op, const struct op_env *env, long total,
		  bool *exited, int *status)
{
	/* The request the tracee was last resumed with: SYSEMU stops are
	 * entries only; after a rewind, SYSCALL stops come in pairs. */
	long req = PTRACE_SYSEMU, emulated = 0;
	bool started = false, running_real = false;
	int sig = 0;

	for (;;) {
		struct user_regs_struct r;
		struct __ptrace_syscall_info info;
		bool is_op;
		int st;

		if (waitpid(pid, &st, 0) < 0) {
			if (errno == EINTR)
				continue;
			/* ECHILD: gone already, nothing to kill */
			*exited = true;
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			/* Before all its calls: the child's report says why */
			*exited = true;
			*status = st;
			return 0;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		if (!started) {
			/* raise(SIGSTOP) in tracee(): take over */
			started = true;
			if (!total)
				return ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0 ? -errno : 0;
			if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
				   PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
				return -errno;
			sig = 0;
		} else if (sig != (SIGTRAP | 0x80)) {
			/* A signal for the tracee: deliver it */
		} else if (req == PTRACE_SYSCALL) {
			/* The exit of the skipped call (if the kernel reports
			 * it), the rerun's entry, the rerun's exit */
			if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info) < 0)
				return -errno;
			if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
				running_real = true;
			} else if (running_real) {
				running_real = false;
				req = PTRACE_SYSEMU;
			}
			sig = 0;
		} else {
			if (ptrace(PTRACE_GETREGS, pid, NULL, &r) < 0)
				return -errno;
			if (!emulate(op, env, pid, &r, &is_op)) {
				/* Back over the syscall instruction, to make
				 * the call again under PTRACE_SYSCALL. */
				r.rip -= SYSCALL_INSN_LEN;
				r.rax = r.orig_rax;
				req = PTRACE_SYSCALL;
			}
			if (ptrace(PTRACE_SETREGS, pid, NULL, &r) < 0)
				return -errno;
			/* SYSEMU skipped the call: detaching now runs nothing */
			if (is_op && ++emulated == total)
				return ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0 ? -errno : 0;
			sig = 0;
		}
		if (ptrace(req, pid, NULL, (void *)(long)sig) < 0)
			return -errno;
	}
}

long mech_ptrace(enum op op, const struct op_env *env, long warmup, long calls)
{
	volatile long *report;
	bool exited = false, early;
	int status = 0;
	long ret;
	pid_t pid;

	pid = fork_reporting(op, &report);
	if (pid < 0)
		return pid;
	if (!pid)
		tracee(op, env, warmup, calls, report);

	ret = trace(pid, op, env, warmup + calls, &exited, &status);
	early = exited;
	if (ret < 0 && !exited)
		kill(pid, SIGKILL);	/* also ends a stopped tracee */
	while (!exited) {
		if (waitpid(pid, &status, 0) == pid)
			exited = WIFEXITED(status) || WIFSIGNALED(status);
		else if (errno != EINTR)
			break;	/* not ours to wait for any more: cannot be */
	}
	if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status)))
		ret = -EIO;
	else if (!ret)
		/* A success before all calls were ours: some ran natively */
		ret = early && *report >= 0 ? -EPROTO : *report;
	child_report_unmap(report);
	return ret;
}
