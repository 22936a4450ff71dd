// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * seccomp: two ways a sandbox takes a process's system calls without
 * ptrace. seccomp_trap: SECCOMP_RET_TRAP raises SIGSYS in the caller, whose
 * handler emulates the call (gVisor's signal-based mode). seccomp_unotify:
 * SECCOMP_RET_USER_NOTIF blocks the caller until a supervisor thread answers.
 * seccomp_unotify_sync: the same, with the listener in the synchronous
 * wake-up mode of Linux 6.6 (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: caller and
 * supervisor hand the CPU to each other), gVisor's fastest seccomp path.
 *
 * A filter cannot be removed, so each runs in a forked child that leaves its
 * result in memory shared with us. The filter takes the op's call only, with
 * the op's argument where there is one, so that the rest of the child (libc,
 * now_ns()'s vDSO fallback, exit) runs untouched.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench.h"

#define FILTER_MAX	11

/* Linux 6.6's, which Debian 12's uapi headers predate. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS	SECCOMP_IOW(4, __u64)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP	(1UL << 0)
#endif

/* A filter returning @action for the op's call, ALLOW for any other, and
 * KILL for a call from another ABI, whose numbers would mean other calls. */
static int make_filter(enum op op, const struct op_env *env, __u32 action,
		       struct sock_filter *f, struct sock_fprog *prog)
{
	unsigned char t;	/* index of the RET action */
	long nr, arg = -1;
	int n = 0;

	switch (op) {
	case OP_GETPID:
		nr = SYS_getpid;
		break;
	case OP_READ1:
		nr = SYS_read;
		arg = env->pipe_fd;
		break;
	case OP_CLOCK_GETTIME:
		nr = SYS_clock_gettime;
		arg = CLOCK_REALTIME;
		break;
	default:
		return -EOPNOTSUPP;
	}
	/* Jumps count from the next instruction: to ALLOW at t + 1, KILL at t + 2 */
	t = arg < 0 ? 4 : 8;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					      AUDIT_ARCH_X86_64, 0, t + 2 - 2);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, t + 1 - 4);
	if (arg >= 0) {
		/* args[0] is 64 bits: both halves, little-endian */
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, args[0]));
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arg, 0, t + 1 - 6);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, args[0]) + 4);
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, t + 1 - 8);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog->len = n;
	prog->filter = f;
	return 0;
}

static long timed_calls(enum op op, const struct op_env *env, long warmup, long calls)
{
	long i, t0, ret = 0;

	for (i = 0; i < warmup && ret >= 0; i++)
		ret = op_once(op, env);
	t0 = now_ns();
	for (i = 0; i < calls && ret >= 0; i++)
		ret = op_once(op, env);
	return ret < 0 ? ret : now_ns() - t0;
}

typedef long (*child_fn)(enum op op, const struct op_env *env, long warmup, long calls);

/* Run @fn in a child and return what it returned, or -EIO if it died. */
static long in_child(child_fn fn, enum op op, const struct op_env *env,
		     long warmup, long calls)
{
	volatile long *report;
	int status;
	long ret;
	pid_t pid;

	pid = fork_reporting(op, &report);
	if (pid < 0)
		return pid;
	if (!pid) {
		*report = fn(op, env, warmup, calls);
		/* exit_group: also ends unotify's supervisor thread */
		_exit(0);
	}
	while ((ret = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	/* ECHILD, the only other error, means it is gone already */
	if (ret < 0)
		ret = -errno;
	else
		ret = WIFEXITED(status) && !WEXITSTATUS(status) ? *report : -EIO;
	child_report_unmap(report);
	return ret;
}

/* --- SECCOMP_RET_TRAP ---------------------------------------------------- */

static pid_t trap_pid;
static int trap_fd;		/* a dup of env->pipe_fd: not trapped */
static time_t tai_offset;	/* CLOCK_TAI - CLOCK_REALTIME, whole seconds */

static void sigsys(int sig, siginfo_t *si, void *ctx)
{
	greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	int saved_errno = errno;
	long ret;

	(void)sig;
	switch (si->si_syscall) {
	case SYS_getpid:
		ret = trap_pid;
		break;
	case SYS_read:
		ret = read(trap_fd, (void *)g[REG_RSI], g[REG_RDX]);
		if (ret < 0)
			ret = -errno;
		break;
	case SYS_clock_gettime:
		/*
		 * Not CLOCK_REALTIME: where the vDSO falls back to the system
		 * call, that would trap again, with SIGSYS blocked here, and
		 * kill us. TAI is REALTIME plus whole seconds that change only
		 * with leap seconds; only the cost matters here anyway.
		 */
		if (clock_gettime(CLOCK_TAI, (struct timespec *)g[REG_RSI]) < 0) {
			ret = -errno;
		} else {
			((struct timespec *)g[REG_RSI])->tv_sec -= tai_offset;
			ret = 0;
		}
		break;
	default:
		ret = -ENOSYS;
	}
	g[REG_RAX] = ret;
	errno = saved_errno;
}

static long trap_child(enum op op, const struct op_env *env, long warmup, long calls)
{
	struct sigaction sa = { .sa_sigaction = sigsys, .sa_flags = SA_SIGINFO };
	struct sock_filter f[FILTER_MAX];
	struct sock_fprog prog;
	struct timespec rt, tai;
	long ret;

	ret = make_filter(op, env, SECCOMP_RET_TRAP, f, &prog);
	if (ret < 0)
		return ret;
	trap_pid = getpid();
	trap_fd = dup(env->pipe_fd);
	if (trap_fd < 0)
		return -errno;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_TAI, &tai);
	tai_offset = ((tai.tv_sec - rt.tv_sec) * 1000000000L + tai.tv_nsec - rt.tv_nsec +
		      500000000L) / 1000000000L;
	if (sigaction(SIGSYS, &sa, NULL) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return timed_calls(op, env, warmup, calls);
}

long mech_seccomp_trap(enum op op, const struct op_env *env, long warmup, long calls)
{
	return in_child(trap_child, op, env, warmup, calls);
}

/* --- SECCOMP_RET_USER_NOTIF ---------------------------------------------- */

struct supervisor {
	int handoff[2];		/* the listener fd, once there is one */
	pid_t pid;
	__u64 listener_flags;	/* for SECCOMP_IOCTL_NOTIF_SET_FLAGS */
};

static struct supervisor sup;

/*
 * getpid is answered here; read1 and clock_gettime are let through with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE, so their figure is the round trip plus
 * the native call, which a supervisor emulating them (as gVisor does) would
 * replace with its own work: a lower bound for such a sandbox.
 */
static void *supervise(void *arg)
{
	struct supervisor *sup = arg;
	int fd;

	while (read(sup->handoff[0], &fd, sizeof(fd)) != sizeof(fd))
		if (errno != EINTR)
			return NULL;
	for (;;) {
		struct seccomp_notif req;
		struct seccomp_notif_resp resp = { 0 };

		memset(&req, 0, sizeof(req));	/* RECV wants it zeroed */
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		resp.id = req.id;
		if (req.data.nr == SYS_getpid)
			resp.val = sup->pid;
		else
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		/* ENOENT: the caller was interrupted, and will call again */
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
			break;
	}
	/* Calls pending and to come now fail with ENOSYS, rather than hang */
	close(fd);
	return NULL;
}

static long unotify_child(enum op op, const struct op_env *env, long warmup, long calls)
{
	struct sock_filter f[FILTER_MAX];
	struct sock_fprog prog;
	pthread_t thread;
	long ret;
	int fd;

	ret = make_filter(op, env, SECCOMP_RET_USER_NOTIF, f, &prog);
	if (ret < 0)
		return ret;
	sup.pid = getpid();
	if (pipe(sup.handoff) < 0)
		return -errno;
	/* Before the filter: without TSYNC it applies to this thread only */
	ret = pthread_create(&thread, NULL, supervise, &sup);
	if (ret)
		return -ret;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		return -errno;
	/* A kernel before 6.6 refuses the ioctl: the mechanism is left out. */
	if (sup.listener_flags &&
	    ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, sup.listener_flags) < 0)
		return errno == EINVAL || errno == ENOTTY ? -ENODEV : -errno;
	if (write(sup.handoff[1], &fd, sizeof(fd)) != sizeof(fd))
		return -EIO;
	/* The child's exit ends the supervisor, blocked in RECV */
	return timed_calls(op, env, warmup, calls);
}

long mech_seccomp_unotify(enum op op, const struct op_env *env, long warmup, long calls)
{
	sup.listener_flags = 0;
	return in_child(unotify_child, op, env, warmup, calls);
}

long mech_seccomp_unotify_sync(enum op op, const struct op_env *env, long warmup, long calls)
{
	sup.listener_flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
	return in_child(unotify_child, op, env, warmup, calls);
}
