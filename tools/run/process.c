// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The host side of the calls that make a process or load a program, which
 * ring 0 cannot serve: KVM serves a VM only to the process that made it,
 * and nothing forks or executes inside hc_vm_call(). kernel_main() returns
 * for them (p->request); main() calls serve_request() and goes back in.
 *
 * clone3 is clone with its arguments in a struct.
 *
 * fork, clone without CLONE_VM: this process forks. The child has a copy of
 * the program's areas, at the same addresses, and of this process; it makes
 * a VM of its own over them and goes on where the parent was, with rax 0,
 * under the same policy.
 *
 * vfork, clone with CLONE_VM | CLONE_VFORK (posix_spawn()): the child is a
 * task that shares this process's memory, as natively the program's, while
 * the parent waits until it executes or ends. KVM serves a VM to any task of
 * the process that made it, so the child runs on the waiting thread's vCPU,
 * on a stack of its own here; the parent then takes back its state.
 *
 * execve, execveat: this process executes hostcall-run again, which loads
 * the new program in a sandbox of its own with the same policy, mode and
 * statistics (the signal mask and ignored signals that execve keeps are
 * this process's own too: signal.c).
 * That state goes in a memfd (exec_from() reads it), not in argv or the
 * environment, which are the program's. What execve would refuse (a file
 * missing, not executable, no program) is found first, so that the program
 * gets its error, as natively.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

/* What a new process may ask of clone(); CLONE_VM only with CLONE_VFORK. */
#define PROCESS_CLONE_FLAGS	(CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID | \
				 CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_SETTLS)
/* Those the host's clone() takes as the program gave them, for a vfork() child */
#define SHARED_CLONE_FLAGS	(CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID | \
				 CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)
#define VFORK_STACK_SIZE	(1UL << 20)
/* argv and envp, strings and pointers, as Linux's limit for one string */
#define MAX_ARGS_SIZE	(32 * PAGE_SIZE * 64)
#define EXEC_MAGIC	0x68637278	/* "hcrx" */

/* What the vfork() child starts from: a program and a task of its own. */
struct vfork_start {
	struct task *t;
	uint64_t flags, stack, ctid, tls;
};

/*
 * What clone() checks of the TLS and the tid words it is given, for a
 * process or a thread: 0, -EPERM or -EFAULT.
 */
long clone_checks(const struct program *p, uint64_t flags, uint64_t ptid, uint64_t ctid,
		  uint64_t tls)
{
	if (flags & CLONE_SETTLS && tls >= USER_END)	/* as Linux */
		return -EPERM;
	if ((flags & CLONE_PARENT_SETTID && !inside(p, ptid, sizeof(int))) ||
	    (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID) && !inside(p, ctid, sizeof(int))))
		return -EFAULT;
	return 0;
}

/*
 * What clone() gives a new task, a process's or a thread's, as Linux's
 * copy_process(): the stack and TLS, the CLONE_CHILD_CLEARTID word, and no
 * robust list until it sets one.
 */
void clone_task(struct task *t, uint64_t flags, uint64_t stack, uint64_t ctid, uint64_t tls)
{
	if (stack)
		t->regs.rsp = stack;
	if (flags & CLONE_SETTLS)
		t->regs.fs_base = tls;
	t->clear_child_tid = flags & CLONE_CHILD_CLEARTID ? ctid : 0;
	t->robust_list = 0;
}

/*
 * A new process's own state, in the child: one thread, nothing pending, its
 * own figures from its start, and what clone() gave.
 */
static void child_state(struct task *t, uint64_t flags, uint64_t stack, uint64_t ctid,
			uint64_t tls)
{
	struct program *p = t->p;

	p->nr_tasks = 1;
	t->tid = p->pid;
	t->caught = 0;
	if (p->count)
		memset(p->count, 0, (NR_SYSCALLS + 1) * sizeof(*p->count));
	clone_task(t, flags, stack, ctid, tls);
}

static int vfork_child(void *arg)
{
	struct vfork_start *start = arg;
	struct task *t = start->t;

	/* our TLS is the parent's thread's, which sets it back */
	current_task = t;
	t->p->pid = getpid();
	t->request = 0;
	t->regs.rax = 0;
	child_state(t, start->flags, start->stack, start->ctid, start->tls);
	/* the program's mask: the parent blocked all */
	hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &t->sigmask, NULL, 8);
	run_task(t);
}

/*
 * A vfork() child killed by a signal may have died in the middle of a copy
 * through the pipe: a new one, at the same fds. (libhostcall resets the
 * vCPU it left, on the next call.)
 */
static void after_shared_child(struct task *t, long pid)
{
	siginfo_t info = { 0 };
	int fds[2];

	if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    (info.si_pid != pid || info.si_code == CLD_EXITED))
		return;	/* alive (it executed), or ended by _exit() */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	dup3(fds[0], t->pipe[0], O_CLOEXEC);
	dup3(fds[1], t->pipe[1], O_CLOEXEC);
	close(fds[0]);
	close(fds[1]);
}

/*
 * The vfork() child's program and task: copies of the parent's, with the
 * same memory (struct memory), vCPU and pipe, which the parent's thread
 * does not use until the child executes or ends.
 */
static struct task *shared_child_task(struct task *parent)
{
	struct program *p = parent->p, *child_p = malloc(sizeof(*child_p));
	struct task *t = aligned_alloc(64, sizeof(*t));

	if (child_p && t) {
		pthread_mutex_lock(&p->lock);
		*child_p = *p;
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_init(&child_p->lock, NULL);
		child_p->in_vfork = true;
		child_p->count = NULL;
		if (p->count)
			child_p->count = malloc((NR_SYSCALLS + 1) * sizeof(*p->count));
		memcpy(t, parent, sizeof(*t));
		t->p = child_p;
		if (!p->count || child_p->count)
			return t;
	}
	if (child_p)
		free(child_p->count);
	free(child_p);
	free(t);
	return NULL;
}

static long shared_child(struct task *t, uint64_t flags, uint64_t stack, uint64_t ptid,
			 uint64_t ctid, uint64_t tls)
{
	struct vfork_start start = { .flags = flags, .stack = stack, .ctid = ctid, .tls = tls };
	sigset_t all, old;
	char *host_stack;
	long pid;

	host_stack = mmap(NULL, VFORK_STACK_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (host_stack == MAP_FAILED)
		return -ENOMEM;
	start.t = shared_child_task(t);
	if (!start.t) {
		munmap(host_stack, VFORK_STACK_SIZE);
		return -ENOMEM;
	}
	/*
	 * Signals for the parent wait until its TLS is back: caught() would
	 * note them in the child's task. Returns once the child executed or
	 * ended.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = clone(vfork_child, host_stack + VFORK_STACK_SIZE, flags & SHARED_CLONE_FLAGS, &start,
		    (pid_t *)(uintptr_t)ptid, NULL, (pid_t *)(uintptr_t)ctid);
	if (pid < 0)
		pid = -errno;
	current_task = t;
	munmap(host_stack, VFORK_STACK_SIZE);
	if (pid > 0)
		after_shared_child(t, pid);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(start.t->p->count);
	free(start.t->p);
	free(start.t);
	return pid;
}

/*
 * The parent of a fork() returns once the child has its VM: a child that
 * cannot make one (seen under a low RLIMIT_NPROC: the VM's first KVM_RUN
 * fails with EAGAIN) is reaped, and fork() fails with EAGAIN, as when the
 * host's fork does.
 */
static long child_started(pid_t pid, int ready)
{
	char c;
	ssize_t n;

	while ((n = read(ready, &c, 1)) < 0 && errno == EINTR)
		;
	close(ready);
	if (n == 1)
		return pid;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return -EAGAIN;
}

static long copied_child(struct task *t, uint64_t flags, uint64_t stack, uint64_t ptid,
			 uint64_t ctid, uint64_t tls)
{
	struct program *p = t->p;
	int ready[2];
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	/* The child's copies of our locks must not be held by a thread it lacks. */
	pthread_mutex_lock(&p->mem->lock);
	pthread_mutex_lock(&p->lock);
	pid = fork();
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&p->mem->lock);
	if (pid < 0) {
		pid = -errno;
		close(ready[0]);
		close(ready[1]);
		return pid;
	}
	if (pid) {
		close(ready[1]);
		pid = child_started(pid, ready[0]);
		if (pid > 0 && flags & CLONE_PARENT_SETTID)
			copy_to_program(t, ptid, &pid, sizeof(pid));
		return pid;
	}

	/*
	 * The child: the parent's VM is of no use here (KVM says -EIO), nor
	 * are the fds of its other threads: all of ours, at or above the
	 * floor (fd_private()), but for ready[1], up there too when the
	 * program's own fds fill the table below.
	 */
	close(ready[0]);
	hc_vm_destroy(p->vm);
	if (ready[1] > p->fd_floor)
		close_range(p->fd_floor, ready[1] - 1, 0);
	close_range(ready[1] >= p->fd_floor ? ready[1] + 1 : p->fd_floor, MAX_FD - 1, 0);
	fail_quietly = true;
	make_vm(p);
	if (task_pipe(t))
		_exit(EXIT_FAILURE);
	fail_quietly = false;
	if (write(ready[1], "", 1) != 1 || close(ready[1]) < 0)
		_exit(EXIT_FAILURE);
	child_state(t, flags, stack, ctid, tls);
	pid = getpid();
	if (flags & CLONE_CHILD_SETTID)
		copy_to_program(t, ctid, &pid, sizeof(pid));
	return 0;
}

static long new_process(struct task *t, uint64_t flags, uint64_t stack, uint64_t ptid,
			uint64_t ctid, uint64_t tls)
{
	long ret;

	if (flags & CLONE_THREAD)
		return new_thread(t, flags, stack, ptid, ctid, tls);
	if (flags & ~PROCESS_CLONE_FLAGS || (flags & CSIGNAL) != SIGCHLD ||
	    (flags & (CLONE_VM | CLONE_VFORK)) == CLONE_VM)
		return -EINVAL;
	ret = clone_checks(t->p, flags, ptid, ctid, tls);
	if (ret)
		return ret;
	if (flags & CLONE_VM)
		return shared_child(t, flags, stack, ptid, ctid, tls);
	return copied_child(t, flags, stack, ptid, ctid, tls);
}

/*
 * clone3(args, size): struct clone_args as clone() takes it, the stack's
 * top from its base and size. What Linux adds to clone3 (CLONE_PIDFD,
 * set_tid, CLONE_INTO_CGROUP, CLONE_CLEAR_SIGHAND) is -EINVAL here; a field
 * this version does not know must be 0 (Linux's -E2BIG).
 */
static long clone3(struct task *t, uint64_t addr, uint64_t size)
{
	struct clone_args args = { 0 };
	uint64_t known = sizeof(args), word;

	if (size < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	if (size > PAGE_SIZE)
		return -E2BIG;
	if (copy_from_program(t, &args, addr, size < known ? size : known))
		return -EFAULT;
	for (uint64_t at = known; at < size; at += sizeof(word)) {
		uint64_t n = size - at < sizeof(word) ? size - at : sizeof(word);

		word = 0;
		if (copy_from_program(t, &word, addr + at, n))
			return -EFAULT;
		if (word)
			return -E2BIG;
	}
	/* pidfd and cgroup count only with their flags, which new_process() refuses */
	if (args.flags & (CSIGNAL | CLONE_DETACHED) || args.exit_signal > NR_SIGNALS ||
	    args.set_tid || args.set_tid_size || (!args.stack != !args.stack_size) ||
	    (args.flags & (CLONE_THREAD | CLONE_PARENT) && args.exit_signal))
		return -EINVAL;
	return new_process(t, args.flags | args.exit_signal,
			   args.stack ? args.stack + args.stack_size : 0, args.parent_tid,
			   args.child_tid, args.tls);
}

/* What the hostcall-run that runs the new program starts from. */
struct exec_state {
	uint32_t magic;
	uint32_t vm_flags;
	bool want_hypercall, stats;
	int32_t root_pid;
	uint64_t caught;	/* signals noted and not yet delivered: pending across execve */
	uint32_t argc, envc;
	unsigned char allowed[NR_SYSCALLS];
	/* then --stats' counts, the path, argv's strings, envp's */
};

/* A growing buffer of what goes in the memfd. */
struct state_buffer {
	char *data;
	size_t len, size;
};

static int append(struct state_buffer *b, const void *data, size_t len)
{
	if (b->len + len > b->size)
		return -E2BIG;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

/* The strings of the program's NULL-terminated array at @addr: their number. */
static long append_strings(struct task *t, struct state_buffer *b, uint64_t addr)
{
	long n;

	for (n = 0; addr; n++) {
		uint64_t str;
		long len;

		if (copy_from_program(t, &str, addr + n * sizeof(str), sizeof(str)))
			return -EFAULT;
		if (!str)
			break;
		len = string_from_program(t, b->data + b->len, str, b->size - b->len);
		if (len < 0)
			return len;
		b->len += len + 1;
	}
	return n;
}

/*
 * @name under directory @dirfd, as a path that stays good once hostcall-run
 * executed itself again and a close-on-exec @dirfd is gone: where the fd
 * leads, if it is a path, else through /proc (a memfd, say).
 */
static int fd_path(int dirfd, const char *name, char *path, size_t size)
{
	char link[32];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, path, size - 1);
	if (n <= 0 || path[0] != '/' || access(path, F_OK) < 0)
		return snprintf(path, size, "%s%s%s", link, name[0] ? "/" : "", name);
	path[n] = '\0';
	if (!name[0])
		return n;
	return n + snprintf(path + n, size - n, "/%s", name);
}

/* The file that execveat(@dirfd, @name, @flags) names, as a path of ours. */
static long exec_path(struct program *p, int dirfd, const char *name, int flags, char *path,
		      size_t size)
{
	struct stat st;
	int n;

	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	if (!name[0] && !(flags & AT_EMPTY_PATH))
		return -ENOENT;
	if (name[0] == '/' || dirfd == AT_FDCWD)
		n = snprintf(path, size, "%s", name);
	else if (fd_private(p, dirfd) || fcntl(dirfd, F_GETFD) < 0)
		return -EBADF;
	else
		n = fd_path(dirfd, name, path, size);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* the program's own file (busybox runs its applets so), not ours */
	if (is_own_exe(p, path))
		snprintf(path, size, "%s", p->exe);
	if (flags & AT_SYMLINK_NOFOLLOW && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return -ELOOP;
	return 0;
}

/*
 * The memfd made final: sealed, then read back. Until the seals, another
 * thread of the program may have written to it, having caught its fd at
 * the number memfd_create() gave (the lowest free one, which is the
 * program's to use); what it holds must be what we wrote.
 */
static int seal(int fd, const char *data, size_t len)
{
	char buf[4096];
	struct stat st;

	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0 ||
	    fstat(fd, &st) < 0 || (size_t)st.st_size != len)
		return -EAGAIN;
	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		if (pread(fd, buf, n, done) != (ssize_t)n || memcmp(buf, data + done, n))
			return -EAGAIN;
		done += n;
	}
	return 0;
}

static long execute(struct task *t, int dirfd, uint64_t name_addr, uint64_t argv,
		    uint64_t envp, int flags)
{
	struct program *p = t->p;
	struct exec_state state = {
		.magic = EXEC_MAGIC, .vm_flags = p->vm_flags, .want_hypercall = p->want_hypercall,
		.stats = p->count != NULL, .root_pid = p->root_pid, .caught = t->caught,
	};
	struct state_buffer b = { .size = sizeof(state) + MAX_ARGS_SIZE };
	char name[PATH_MAX], path[PATH_MAX + 32], fd_arg[16];
	char *args[] = { "hostcall-run", EXEC_FROM, fd_arg, NULL }, *no_env[] = { NULL };
	long ret = string_from_program(t, name, name_addr, sizeof(name)), argc, envc;
	int fd;

	if (ret < 0)
		return ret == -E2BIG ? -ENAMETOOLONG : ret;
	ret = exec_path(p, dirfd, name, flags, path, sizeof(path));
	if (!ret)
		ret = check_executable(path);
	if (ret)
		return ret;

	b.data = malloc(b.size);
	if (!b.data)
		return -ENOMEM;
	b.len = sizeof(state);
	if (state.stats)
		append(&b, p->count, (NR_SYSCALLS + 1) * sizeof(*p->count));
	append(&b, path, strlen(path) + 1);
	argc = append_strings(t, &b, argv);
	/* as Linux since 5.18: argv[0] is "" if argv is empty */
	if (!argc && append(&b, "", 1) == 0)
		argc = 1;
	envc = argc < 0 ? 0 : append_strings(t, &b, envp);
	if (argc < 0 || envc < 0) {
		free(b.data);
		return argc < 0 ? argc : envc;
	}
	state.argc = argc;
	state.envc = envc;
	memcpy(state.allowed, p->allowed, sizeof(state.allowed));
	memcpy(b.data, &state, sizeof(state));

	fd = memfd_create("hostcall-run execve", MFD_ALLOW_SEALING);
	ret = fd < 0 ? -errno : 0;
	for (size_t done = 0; !ret && done < b.len;) {
		ssize_t n = write(fd, b.data + done, b.len - done);

		if (n < 0)
			ret = -errno;
		done += n > 0 ? n : 0;
	}
	if (!ret)
		ret = seal(fd, b.data, b.len);
	free(b.data);
	if (!ret) {
		snprintf(fd_arg, sizeof(fd_arg), "%d", fd);
		execve("/proc/self/exe", args, no_env);
		ret = -errno;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

long serve_request(struct task *t)
{
	const uint64_t *arg = t->request_arg;

	switch (t->request) {
	case SYS_fork:
		return new_process(t, SIGCHLD, 0, 0, 0, 0);
	case SYS_vfork:
		return new_process(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
	case SYS_clone:		/* flags, stack, parent_tid, child_tid, tls */
		return new_process(t, arg[0], arg[1], arg[2], arg[3], arg[4]);
	case SYS_clone3:
		return clone3(t, arg[0], arg[1]);
	case SYS_execve:
		return execute(t, AT_FDCWD, arg[0], arg[1], arg[2], 0);
	case SYS_execveat:
		return execute(t, arg[0], arg[1], arg[2], arg[3], arg[4]);
	}
	return -ENOSYS;
}

/* Take what execute() left in @fd: the new program's name, argv, envp. */
int exec_from(struct program *p, struct task *t, int fd, char ***argv, char ***envp)
{
	struct exec_state state;
	struct stat st;
	char *data, *s, *end;
	char **v;

	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(state))
		return -EINVAL;
	data = malloc(st.st_size + 1);
	if (!data || pread(fd, data, st.st_size, 0) != st.st_size)
		return -EIO;
	close(fd);
	memcpy(&state, data, sizeof(state));
	if (state.magic != EXEC_MAGIC)
		return -EINVAL;
	end = data + st.st_size;
	*end = '\0';
	s = data + sizeof(state);
	p->vm_flags = state.vm_flags;
	p->want_hypercall = state.want_hypercall;
	p->root_pid = state.root_pid;
	t->caught = state.caught;
	memcpy(p->allowed, state.allowed, sizeof(p->allowed));
	if (state.stats) {
		size_t size = (NR_SYSCALLS + 1) * sizeof(*p->count);

		p->count = malloc(size);
		if (!p->count || end - s < (long)size)
			return -EINVAL;
		memcpy(p->count, s, size);
		s += size;
	}
	v = calloc((size_t)state.argc + state.envc + 2, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->name = s;
	s += strlen(s) + 1;
	for (uint64_t i = 0; i < (uint64_t)state.argc + state.envc; i++) {
		if (s >= end)
			return -EINVAL;
		v[i + (i >= state.argc)] = s;	/* a NULL between argv and envp */
		s += strlen(s) + 1;
	}
	*argv = v;
	*envp = v + state.argc + 1;
	return 0;
}
