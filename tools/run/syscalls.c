// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Ring 0 of hostcall-run: the loop that runs the program in ring 3 and
 * answers each of its system calls.
 *
 * A call is served here if it is about the program's own state (memory,
 * FS base, signal dispositions, its end); else it is forwarded to the host,
 * by KVM_HC_HOST_SYSCALL in hypercall mode, if the policy allows it and
 * every argument passes the checks of its rule below: a pointer must lie
 * inside the program's areas (-EFAULT), a file descriptor must not be one
 * of this process's own (-EBADF). Calls without a rule are never forwarded:
 * their arguments could not be checked.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/futex.h>
#include <linux/magic.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "sandbox.h"

enum arg_kind {
	ARG_INT,	/* not checked */
	ARG_FD,		/* not one of ours */
	ARG_DIRFD,	/* AT_FDCWD or ARG_FD */
	ARG_BUF,	/* @size bytes times argument @len */
	ARG_OBJ,	/* @size bytes */
	ARG_OPT,	/* @size bytes, or NULL */
	ARG_STR,	/* a NUL-terminated string */
	ARG_OPTSTR,	/* a string, or NULL */
	ARG_IOV,	/* struct iovec[argument @len], and the memory they describe */
};

struct arg_rule {
	unsigned char kind, len;
	unsigned short size;
};

struct rule {
	bool forward;		/* a call that may be forwarded: this rule checks it */
	struct arg_rule arg[6];
};

#define RULE(name, ...)	[SYS_##name] = { .forward = true, .arg = { __VA_ARGS__ } }

#define FD	{ .kind = ARG_FD }
#define DIRFD	{ .kind = ARG_DIRFD }
#define INT	{ .kind = ARG_INT }
#define BUF(n)	{ .kind = ARG_BUF, .len = n, .size = 1 }
#define ARRAY(n, bytes)	{ .kind = ARG_BUF, .len = n, .size = bytes }
#define OBJ(bytes)	{ .kind = ARG_OBJ, .size = bytes }
#define OPT(bytes)	{ .kind = ARG_OPT, .size = bytes }
#define STR	{ .kind = ARG_STR }
#define OPTSTR	{ .kind = ARG_OPTSTR }
#define IOV(n)	{ .kind = ARG_IOV, .len = n }

#define STAT	144	/* struct stat */
#define FD_SET_SIZE	128	/* fd_set, as libc has it: 1024 bits */
#define TIMESPEC	16

/* The calls that can be forwarded: files, time, identity. */
static const struct rule rules[NR_SYSCALLS] = {
	RULE(read, FD, BUF(2)),
	RULE(write, FD, BUF(2)),
	RULE(open, STR),
	RULE(close, FD),
	RULE(stat, STR, OBJ(STAT)),
	RULE(fstat, FD, OBJ(STAT)),
	RULE(lstat, STR, OBJ(STAT)),
	RULE(poll, ARRAY(1, 8)),
	RULE(lseek, FD),
	RULE(pread64, FD, BUF(2)),
	RULE(pwrite64, FD, BUF(2)),
	RULE(readv, FD, IOV(2)),
	RULE(writev, FD, IOV(2)),
	RULE(preadv, FD, IOV(2)),
	RULE(pwritev, FD, IOV(2)),
	RULE(access, STR),
	RULE(pipe, OBJ(8)),
	RULE(pipe2, OBJ(8)),
	RULE(sched_yield, INT),
	RULE(madvise, BUF(1)),
	RULE(dup, FD),
	RULE(dup2, FD, FD),
	RULE(dup3, FD, FD),
	RULE(nanosleep, OBJ(TIMESPEC), OPT(TIMESPEC)),
	RULE(getpid, INT),
	RULE(sendfile, FD, FD, OPT(8)),
	RULE(uname, OBJ(390)),
	RULE(fcntl, FD),	/* and its command: see fcntl_arg() */
	RULE(flock, FD),
	RULE(fsync, FD),
	RULE(fdatasync, FD),
	RULE(truncate, STR),
	RULE(ftruncate, FD),
	RULE(getcwd, BUF(1)),
	RULE(chdir, STR),
	RULE(fchdir, FD),
	RULE(rename, STR, STR),
	RULE(mkdir, STR),
	RULE(rmdir, STR),
	RULE(link, STR, STR),
	RULE(unlink, STR),
	RULE(symlink, STR, STR),
	RULE(readlink, STR, BUF(2)),
	RULE(chmod, STR),
	RULE(fchmod, FD),
	RULE(chown, STR),
	RULE(fchown, FD),
	RULE(lchown, STR),
	RULE(umask, INT),
	RULE(gettimeofday, OPT(16), OPT(8)),
	RULE(getrusage, INT, OBJ(144)),
	RULE(sysinfo, OBJ(112)),
	RULE(times, OPT(32)),
	RULE(getuid, INT),
	RULE(getgid, INT),
	RULE(geteuid, INT),
	RULE(getegid, INT),
	RULE(getppid, INT),
	RULE(getpgrp, INT),
	RULE(getgroups, INT, ARRAY(0, 4)),
	RULE(getpgid, INT),
	RULE(getsid, INT),
	RULE(statfs, STR, OBJ(120)),
	RULE(fstatfs, FD, OBJ(120)),
	RULE(gettid, INT),
	RULE(time, OPT(8)),
	RULE(sched_getaffinity, INT, INT, BUF(1)),
	RULE(getdents64, FD, BUF(2)),
	RULE(fadvise64, FD),
	RULE(clock_gettime, INT, OBJ(TIMESPEC)),
	RULE(clock_getres, INT, OPT(TIMESPEC)),
	RULE(clock_nanosleep, INT, INT, OBJ(TIMESPEC), OPT(TIMESPEC)),
	RULE(openat, DIRFD, STR),
	RULE(mkdirat, DIRFD, STR),
	RULE(fchownat, DIRFD, STR),
	RULE(newfstatat, DIRFD, STR, OBJ(STAT)),
	RULE(unlinkat, DIRFD, STR),
	RULE(renameat, DIRFD, STR, DIRFD, STR),
	RULE(linkat, DIRFD, STR, DIRFD, STR),
	RULE(symlinkat, STR, DIRFD, STR),
	RULE(readlinkat, DIRFD, STR, BUF(3)),
	RULE(fchmodat, DIRFD, STR),
	RULE(faccessat, DIRFD, STR),
	RULE(utimensat, DIRFD, OPTSTR, OPT(2 * TIMESPEC)),
	RULE(fallocate, FD),
	RULE(prlimit64, INT, INT, OPT(16), OPT(16)),
	RULE(renameat2, DIRFD, STR, DIRFD, STR),
	RULE(getrandom, BUF(1)),
	RULE(copy_file_range, FD, OPT(8), FD, OPT(8)),
	RULE(statx, DIRFD, STR, INT, INT, OBJ(256)),
	RULE(faccessat2, DIRFD, STR),
	RULE(wait4, INT, OPT(4), INT, OPT(144)),
	RULE(waitid, INT, INT, OPT(128), INT, OPT(144)),
	RULE(setpgid, INT, INT),
	RULE(setsid, INT),
	RULE(alarm, INT),
	RULE(setitimer, INT, OPT(32), OPT(32)),
	RULE(getitimer, INT, OBJ(32)),
	RULE(rt_sigtimedwait, OBJ(8), OPT(128), OPT(TIMESPEC), INT),
	RULE(creat, STR),
	RULE(getxattr, STR, STR, BUF(3)),
	RULE(lgetxattr, STR, STR, BUF(3)),
	RULE(fgetxattr, FD, STR, BUF(3)),
	RULE(listxattr, STR, BUF(2)),
	RULE(llistxattr, STR, BUF(2)),
	RULE(flistxattr, FD, BUF(2)),
	RULE(utime, STR, OPT(16)),
	RULE(utimes, STR, OPT(2 * 16)),
	RULE(futimesat, DIRFD, OPTSTR, OPT(2 * 16)),
	RULE(select, INT, OPT(FD_SET_SIZE), OPT(FD_SET_SIZE), OPT(FD_SET_SIZE), OPT(16)),
	RULE(ppoll, ARRAY(1, 8), INT, OPT(TIMESPEC), OPT(8), INT),
	RULE(getresuid, OBJ(4), OBJ(4), OBJ(4)),
	RULE(getresgid, OBJ(4), OBJ(4), OBJ(4)),
	RULE(sync, INT),
	RULE(syncfs, FD),
	RULE(futex, OBJ(4)),	/* and what its operation takes: futex_args() */
};

/* The calls served here, whatever the policy. */
static const int served[] = {
	SYS_mmap, SYS_mprotect, SYS_munmap, SYS_brk, SYS_rt_sigaction, SYS_rt_sigprocmask,
	SYS_rt_sigreturn, SYS_exit, SYS_kill, SYS_arch_prctl, SYS_tkill, SYS_set_tid_address,
	SYS_exit_group, SYS_tgkill, SYS_sigaltstack, SYS_rt_sigsuspend, SYS_pause, SYS_rt_sigpending,
	SYS_set_robust_list, SYS_get_robust_list, SYS_mremap,
};

/*
 * The calls served by the host side (process.c), if the policy allows them:
 * a new process or program stays in the sandbox, but a policy may forbid
 * making one.
 */
static const int requested[] = {
	SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat,
};

static bool listed(const int *list, size_t n, int nr)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i] == nr)
			return true;
	}
	return false;
}

static bool served_here(int nr)
{
	return listed(served, sizeof(served) / sizeof(served[0]), nr);
}

static bool served_by_host(int nr)
{
	return listed(requested, sizeof(requested) / sizeof(requested[0]), nr);
}

static const struct rule *find_rule(int nr)
{
	return nr >= 0 && nr < NR_SYSCALLS && rules[nr].forward ? &rules[nr] : NULL;
}

static const char *const names[NR_SYSCALLS] = {
#include "syscall-names.h"
};

/*
 * The number of a call that hostcall-run serves or can forward; -ENOSYS for
 * a call it cannot check, -ENOENT for a name that is no call.
 */
int syscall_number(const char *name)
{
	for (int nr = 0; nr < NR_SYSCALLS; nr++) {
		if (names[nr] && !strcmp(names[nr], name))
			return find_rule(nr) || served_here(nr) || served_by_host(nr) ? nr : -ENOSYS;
	}
	return -ENOENT;
}

const char *syscall_name(int nr)
{
	return nr >= 0 && nr < NR_SYSCALLS ? names[nr] : NULL;
}

/* The default policy: every call with a rule, and new processes and programs. */
bool default_allowed(int nr)
{
	return find_rule(nr) || served_by_host(nr);
}

/* A call that gets -ENOSYS: not served here, and no rule or not in the policy. */
bool refused(const struct program *p, int nr)
{
	return !served_here(nr) && ((!find_rule(nr) && !served_by_host(nr)) || !p->allowed[nr]);
}

/*
 * One of this process's own fds: at or above the floor. One the program
 * inherited up there is out of its reach too: were it closed, one of ours
 * could take its number.
 */
bool fd_private(const struct program *p, long fd)
{
	return (unsigned long)fd >= (unsigned long)p->fd_floor;
}

/*
 * A new fd of the program's: where the program's fds would reach ours, it
 * has as many as it may (ours are the table's top).
 */
static long new_fd(const struct program *p, long fd)
{
	if (fd < 0 || !fd_private(p, fd))
		return fd;
	hc_syscall(SYS_close, fd);
	return -EMFILE;
}

/*
 * pipe(), pipe2(): made into our own array, so that the program cannot
 * change which fds we look at; as new_fd(), both ends or neither.
 */
static long new_pipe(struct task *t, uint64_t fds, long flags)
{
	int fd[2];
	long ret = hc_syscall(SYS_pipe2, fd, flags);

	if (ret)
		return ret;
	ret = fd_private(t->p, fd[0]) || fd_private(t->p, fd[1]) ? -EMFILE :
	      copy_to_program(t, fds, fd, sizeof(fd));
	if (ret) {
		hc_syscall(SYS_close, fd[0]);
		hc_syscall(SYS_close, fd[1]);
	}
	return ret;
}

/* The iovecs, and the memory they describe, are the program's. */
static long check_iov(struct task *t, uint64_t addr, uint64_t count)
{
	struct program *p = t->p;
	struct iovec iov[64];

	if (count > 1024)	/* UIO_MAXIOV */
		return -EINVAL;
	for (uint64_t done = 0; done < count; done += 64) {
		uint64_t n = count - done < 64 ? count - done : 64;
		long ret = copy_from_program(t, iov, addr + done * sizeof(iov[0]), n * sizeof(iov[0]));

		if (ret)
			return ret;
		for (uint64_t i = 0; i < n; i++) {
			if (!inside(p, (uintptr_t)iov[i].iov_base, iov[i].iov_len))
				return -EFAULT;
		}
	}
	return 0;
}

/* fcntl()'s third argument depends on its command. */
static long fcntl_arg(struct program *p, const uint64_t *arg)
{
	switch ((int)arg[1]) {
	case F_DUPFD: case F_DUPFD_CLOEXEC: case F_GETFD: case F_SETFD: case F_GETFL:
	case F_SETFL: case F_GETPIPE_SZ: case F_SETPIPE_SZ: case F_ADD_SEALS: case F_GET_SEALS:
		return 0;
	case F_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_GETLK: case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return inside(p, arg[2], sizeof(struct flock)) ? 0 : -EFAULT;
	}
	return -EINVAL;
}

/*
 * futex()'s other arguments, by operation: a timeout (a pointer, or NULL) or
 * a count in the fourth, a second futex in the fifth.
 */
static long futex_args(const struct program *p, const uint64_t *arg)
{
	bool timeout = false, second = false;

	switch ((int)arg[1] & FUTEX_CMD_MASK) {
	case FUTEX_WAIT: case FUTEX_WAIT_BITSET: case FUTEX_LOCK_PI: case FUTEX_LOCK_PI2:
		timeout = true;
		break;
	case FUTEX_WAKE: case FUTEX_WAKE_BITSET: case FUTEX_UNLOCK_PI: case FUTEX_TRYLOCK_PI:
		break;
	case FUTEX_REQUEUE: case FUTEX_CMP_REQUEUE: case FUTEX_WAKE_OP: case FUTEX_CMP_REQUEUE_PI:
		second = true;
		break;
	case FUTEX_WAIT_REQUEUE_PI:
		timeout = second = true;
		break;
	default:
		return -ENOSYS;
	}
	if ((timeout && arg[3] && !inside(p, arg[3], TIMESPEC)) ||
	    (second && !inside(p, arg[4], sizeof(uint32_t))))
		return -EFAULT;
	return 0;
}

static long check_args(struct task *t, int nr, const struct rule *rule, const uint64_t *arg)
{
	struct program *p = t->p;

	for (int i = 0; i < 6; i++) {
		const struct arg_rule *a = &rule->arg[i];
		long ret = 0;

		switch (a->kind) {
		case ARG_DIRFD:
			if ((int)arg[i] == AT_FDCWD)
				break;
			/* fall through */
		case ARG_FD:
			if (fd_private(p, arg[i]))
				return -EBADF;
			break;
		case ARG_BUF:	/* of length 0: not touched, NULL often (getxattr's size query) */
			if (arg[a->len] && (arg[a->len] > UINT64_MAX / a->size ||
					    !inside(p, arg[i], arg[a->len] * a->size)))
				return -EFAULT;
			break;
		case ARG_OPT:
			if (!arg[i])
				break;
			/* fall through */
		case ARG_OBJ:
			if (!inside(p, arg[i], a->size))
				return -EFAULT;
			break;
		case ARG_OPTSTR:
			if (!arg[i])
				break;
			/* fall through */
		case ARG_STR:
			if (!string_inside(p, arg[i]))
				return -EFAULT;
			break;
		case ARG_IOV:
			ret = check_iov(t, arg[i], arg[a->len]);
			break;
		}
		if (ret)
			return ret;
	}
	switch (nr) {
	case SYS_fcntl:
		return fcntl_arg(p, arg);
	case SYS_futex:
		return futex_args(p, arg);
	case SYS_select:	/* the sets are checked for 1024 descriptors */
		return arg[0] <= FD_SET_SIZE * 8 ? 0 : -EINVAL;
	case SYS_prlimit64:	/* the program's limits, not another process's */
		return !(int)arg[0] || (int)arg[0] == p->pid ? 0 : -EPERM;
	}
	return 0;
}

/*
 * A file of procfs opened for writing: /proc/self/mem would write this
 * process's memory, past every check, and other files there set what is
 * this process's, not the program's. Refused after the fact, as only the
 * opened file says where a path led.
 */
static long opened(long fd, int flags)
{
	struct statfs fs;

	if (fd < 0 || (flags & O_ACCMODE) == O_RDONLY ||
	    hc_syscall(SYS_fstatfs, fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)
		return fd;
	hc_syscall(SYS_close, fd);
	return -EACCES;
}

/* A path that names this process's file, /proc/self/exe: the program's is meant. */
bool is_own_exe(const struct program *p, const char *path)
{
	char pid_exe[32];

	snprintf(pid_exe, sizeof(pid_exe), "/proc/%d/exe", p->pid);
	return !strcmp(path, "/proc/self/exe") || !strcmp(path, "/proc/thread-self/exe") ||
	       !strcmp(path, pid_exe);
}

/*
 * readlink(@a[0], @a[1], @a[2]) of /proc/self/exe: true, and *ret the
 * program's file, cut to the buffer's size as Linux does.
 */
static bool read_exe_link(struct task *t, const uint64_t *a, long *ret)
{
	struct program *p = t->p;
	char name[32];
	size_t len = strlen(p->exe);

	if (string_from_program(t, name, a[0], sizeof(name)) < 0 || !is_own_exe(p, name))
		return false;
	if (len > a[2])
		len = a[2];
	*ret = (long)a[2] <= 0 ? -EINVAL : copy_to_program(t, a[1], p->exe, len) ?: (long)len;
	return true;
}

static long forward(struct task *t, int nr, const uint64_t *arg)
{
	struct program *p = t->p;
	const struct rule *rule = find_rule(nr);
	long ret;

	if (!rule || !p->allowed[nr])
		return -ENOSYS;
	ret = check_args(t, nr, rule, arg);
	if (ret)
		return ret;
	if ((nr == SYS_readlink && read_exe_link(t, arg, &ret)) ||
	    (nr == SYS_readlinkat && read_exe_link(t, arg + 1, &ret)))
		return ret;
	if (nr == SYS_pipe || nr == SYS_pipe2)
		return new_pipe(t, arg[0], nr == SYS_pipe ? 0 : arg[1]);
	ret = hc_syscall(nr, arg[0], arg[1], arg[2], arg[3], arg[4], arg[5]);
	switch (nr) {
	case SYS_open:
		return new_fd(p, opened(ret, arg[1]));
	case SYS_creat:
		return new_fd(p, opened(ret, O_WRONLY));
	case SYS_openat:
		return new_fd(p, opened(ret, arg[2]));
	case SYS_dup:
		return new_fd(p, ret);
	case SYS_fcntl:
		return (int)arg[1] == F_DUPFD || (int)arg[1] == F_DUPFD_CLOEXEC ? new_fd(p, ret) : ret;
	}
	return ret;
}

static long set_arch_prctl(struct task *t, const uint64_t *arg)
{
	unsigned long *base = (int)arg[0] == ARCH_SET_FS || (int)arg[0] == ARCH_GET_FS ?
			      &t->regs.fs_base : &t->regs.gs_base;

	switch ((int)arg[0]) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (arg[1] >= USER_END)	/* as Linux: not above user space */
			return -EPERM;
		*base = arg[1];
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS:
		return copy_to_program(t, arg[1], base, sizeof(*base));
	}
	return -EINVAL;
}

static long serve(struct task *t, int nr, const uint64_t *arg)
{
	struct program *p = t->p;

	switch (nr) {
	case SYS_brk:
	case SYS_mmap:
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_mremap:
		return mem_call(p, nr, arg);
	case SYS_arch_prctl:
		return set_arch_prctl(t, arg);
	case SYS_set_tid_address:
		t->clear_child_tid = arg[0];
		return t->tid;
	case SYS_set_robust_list:
		return set_robust_list(t, arg);
	case SYS_get_robust_list:
		return get_robust_list(t, arg);
	case SYS_exit:
		t->exit_status = arg[0] & 0xff;
		t->exited = true;
		return 0;
	case SYS_exit_group:
		p->exit_status = arg[0] & 0xff;
		p->ended = true;
		return 0;
	case SYS_rt_sigaction:
		return sig_action(t, arg);
	case SYS_rt_sigprocmask:
		return sig_procmask(t, arg);
	case SYS_rt_sigreturn:
		return sig_return(t);
	case SYS_rt_sigpending:
		return sig_pending(t, arg);
	case SYS_rt_sigsuspend:
		return sig_suspend(t, arg);
	case SYS_pause:
		return sig_pause(t);
	case SYS_sigaltstack:
		return sig_altstack(t, arg);
	case SYS_kill:
	case SYS_tkill:
	case SYS_tgkill:
		return sig_kill(t, nr, arg);
	}
	if (served_by_host(nr)) {
		if (!p->allowed[nr])
			return -ENOSYS;
		/* kernel_main() returns; the host side sets rax */
		t->request = nr;
		memcpy(t->request_arg, arg, sizeof(t->request_arg));
		return 0;
	}
	return forward(t, nr, arg);
}

/*
 * Runs in guest ring 0 until the thread ends, the program ends, or the
 * thread needs the host side.
 */
long kernel_main(void *task)
{
	struct task *t = task;
	struct program *p = t->p;

	while (!p->ended && !t->exited && !t->request) {
		struct hc_user_regs *r = &t->regs;
		struct hc_fault fault;
		uint64_t arg[6];
		int nr, ret;

		deliver_signals(t);
		if (p->ended)
			break;
		ret = hc_user_run(p->vm, r, &fault);
		if (ret == HC_USER_INTERRUPT)	/* a signal to deliver */
			continue;
		/*
		 * A non-canonical rip or rsp (a handler's address, a clone's
		 * stack): where Linux's return to user mode faults, a SIGSEGV.
		 */
		if (ret == -EINVAL)
			fault = (struct hc_fault){ .vector = 13, .rip = r->rip };
		if (ret == -EINVAL || ret == HC_USER_EXCEPTION) {
			sig_fault(t, &fault);
			continue;
		}
		if (ret != HC_USER_SYSCALL) {
			p->error = ret;
			p->ended = true;
			continue;
		}
		nr = (int)r->rax;
		arg[0] = r->rdi, arg[1] = r->rsi, arg[2] = r->rdx;
		arg[3] = r->r10, arg[4] = r->r8, arg[5] = r->r9;
		if (nr < 0 || nr >= NR_SYSCALLS)
			nr = NR_SYSCALLS;
		if (p->count)
			__atomic_fetch_add(&p->count[nr], 1, __ATOMIC_RELAXED);
		r->rax = nr == NR_SYSCALLS ? -ENOSYS : serve(t, nr, arg);
		/* a handler's signal may restart it: signal.c */
		t->interrupted_nr = (long)r->rax == -EINTR ? nr : -1;
	}
	return 0;
}
