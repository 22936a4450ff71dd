// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The program's threads: clone(CLONE_THREAD) and exit().
 *
 * Each thread of the program is a host thread of ours, which runs it in
 * ring 0 on a vCPU of its own (libhostcall makes one per host thread, at the
 * thread's first hc_vm_call()), with its own registers, signal mask and
 * pipe (struct task). Its tid is the host thread's: gettid(), futexes,
 * tgkill() and the kernel's PI futexes then need no translation, and the
 * host kernel gives a process-directed signal to a thread whose mask (ours
 * mirrors the program's) lets it in, as Linux does for the program.
 *
 * At a thread's exit, what Linux does for it is done here: the robust
 * futexes it holds are marked FUTEX_OWNER_DIED, and the tid that
 * CLONE_CHILD_CLEARTID or set_tid_address() named is cleared and woken
 * (pthread_join() waits on it). The host kernel cannot do either for the
 * program: it would follow the program's pointers into our memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

/* What a thread must share with its creator, as glibc's pthread_create() asks. */
#define THREAD_FLAGS	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define THREAD_OPTIONS	(CSIGNAL | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | \
			 CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED)
/* Linux's bound on a robust list's length (ROBUST_LIST_LIMIT). */
#define ROBUST_LIST_LIMIT	2048

struct task *task_new(struct program *p)
{
	struct task *t = aligned_alloc(64, sizeof(*t));

	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->pipe[0] = t->pipe[1] = -1;
	t->interrupted_nr = -1;
	return t;
}

void task_free(struct task *t)
{
	if (t->pipe[0] >= 0)
		close(t->pipe[0]);
	if (t->pipe[1] >= 0)
		close(t->pipe[1]);
	free(t);
}

/* The thread's pipe for copies (memory.c), among this process's own fds. */
int task_pipe(struct task *t)
{
	int fds[2], ret = 0;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		t->pipe[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, t->p->fd_floor);
		if (t->pipe[i] < 0)
			ret = -errno;
		close(fds[i]);
	}
	return ret;
}

struct thread_start {
	struct task *t;
	uint64_t flags, ptid, ctid;
	sem_t started;
	long ret;	/* the tid, or why the thread could not start */
};

static void *thread_main(void *arg)
{
	struct thread_start *start = arg;
	struct task *t = start->t;
	int tid = syscall(SYS_gettid);
	long ret;

	current_task = t;
	t->tid = tid;
	/* its vCPU now: a thread that cannot have one is clone()'s EAGAIN */
	ret = hc_vm_call(t->p->vm, first_call, NULL);
	if (!ret && start->flags & CLONE_CHILD_SETTID)
		ret = copy_to_program(t, start->ctid, &tid, sizeof(tid));
	if (!ret && start->flags & CLONE_PARENT_SETTID)
		ret = copy_to_program(t, start->ptid, &tid, sizeof(tid));
	start->ret = ret ? (ret == -EFAULT ? -EFAULT : -EAGAIN) : tid;
	sem_post(&start->started);	/* @start is gone from here on */
	if (ret) {
		task_free(t);	/* its creator, alive, gives its place back */
		return NULL;
	}
	/* the program's mask for it: its creator blocked all */
	hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &t->sigmask, NULL, 8);
	run_task(t);
}

/* clone(CLONE_THREAD): a thread that starts with its creator's registers, rax 0. */
long new_thread(struct task *parent, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid,
		uint64_t tls)
{
	struct program *p = parent->p;
	struct thread_start start = { .flags = flags, .ptid = ptid, .ctid = ctid };
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t thread;
	struct task *t;
	int ret;

	if ((flags & THREAD_FLAGS) != THREAD_FLAGS || flags & ~(THREAD_FLAGS | THREAD_OPTIONS))
		return -EINVAL;
	/*
	 * Not in a vfork() child, whose threads would share the parent's memory
	 * and libc (our TLS is its thread's) with the parent's threads.
	 */
	if (p->in_vfork)
		return -EAGAIN;
	ret = clone_checks(p, flags, ptid, ctid, tls);
	if (ret)
		return ret;
	if (__atomic_add_fetch(&p->nr_tasks, 1, __ATOMIC_SEQ_CST) > MAX_TASKS) {
		__atomic_fetch_sub(&p->nr_tasks, 1, __ATOMIC_SEQ_CST);
		return -EAGAIN;
	}
	t = task_new(p);
	ret = t ? task_pipe(t) : -ENOMEM;
	if (ret) {
		__atomic_fetch_sub(&p->nr_tasks, 1, __ATOMIC_SEQ_CST);
		if (t)
			task_free(t);
		return ret == -ENOMEM ? ret : -EAGAIN;
	}
	memcpy(&t->regs, &parent->regs, sizeof(t->regs));
	t->regs.rax = 0;
	clone_task(t, flags, stack, ctid, tls);
	t->sigmask = parent->sigmask;	/* and no altstack, as Linux for CLONE_VM */
	start.t = t;
	sem_init(&start.started, 0, 0);

	/* Signals wait until the thread runs as the program's, with its mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&thread, &attr, thread_main, &start);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		__atomic_fetch_sub(&p->nr_tasks, 1, __ATOMIC_SEQ_CST);
		task_free(t);
		return -EAGAIN;
	}
	while (sem_wait(&start.started) < 0 && errno == EINTR)
		;
	sem_destroy(&start.started);
	if (start.ret < 0)
		__atomic_fetch_sub(&p->nr_tasks, 1, __ATOMIC_SEQ_CST);
	return start.ret;
}

/* Ring 0: set_robust_list(head, len), get_robust_list(tid, head_ptr, len_ptr). */
long set_robust_list(struct task *t, const uint64_t *arg)
{
	if (arg[1] != sizeof(struct robust_list_head))
		return -EINVAL;
	t->robust_list = arg[0];
	return 0;
}

long get_robust_list(struct task *t, const uint64_t *arg)
{
	uint64_t len = sizeof(struct robust_list_head);

	/* another thread's is for ptrace's users: none here */
	if ((int)arg[0] && (int)arg[0] != t->tid)
		return -EPERM;
	return copy_to_program(t, arg[1], &t->robust_list, sizeof(t->robust_list)) ?:
	       copy_to_program(t, arg[2], &len, sizeof(len));
}

/*
 * The robust futex at @addr, if this thread holds it, becomes
 * FUTEX_OWNER_DIED and a waiter is woken, as Linux's handle_futex_death().
 * The host writes the word, atomically (FUTEX_WAKE_OP), and answers
 * -EFAULT where the program's memory is not. Linux keeps FUTEX_WAITERS in
 * the word; here a waiter is woken in any case (one that came since the
 * word was read, too), and glibc's takes the lock as one of many waiters.
 */
static void owner_died(struct task *t, uint64_t addr, bool pi)
{
	uint32_t word;

	if (addr & 3 || copy_from_program(t, &word, addr, sizeof(word)) ||
	    (word & FUTEX_TID_MASK) != (uint32_t)t->tid)
		return;
	/* a PI futex's waiters are the host's to hand it to, at our exit */
	hc_syscall(SYS_futex, addr, FUTEX_WAKE_OP, pi ? 0 : 1, 0, addr,
		   FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 30, FUTEX_OP_CMP_EQ, 0));
}

/* Every robust futex the thread holds, as Linux's exit_robust_list(). */
static void exit_robust_list(struct task *t)
{
	struct robust_list_head head;	/* <linux/futex.h>: the program's pointers */
	uint64_t entry, pending;

	if (!t->robust_list || copy_from_program(t, &head, t->robust_list, sizeof(head)))
		return;
	entry = (uintptr_t)head.list.next;
	pending = (uintptr_t)head.list_op_pending;
	/* bit 0 of an entry: a PI futex */
	for (int n = 0; entry != t->robust_list && n < ROBUST_LIST_LIMIT; n++) {
		uint64_t next;

		if (copy_from_program(t, &next, entry & ~1UL, sizeof(next)))
			return;
		if (entry != pending)
			owner_died(t, (entry & ~1UL) + head.futex_offset, entry & 1);
		entry = next;
	}
	if (pending)
		owner_died(t, (pending & ~1UL) + head.futex_offset, pending & 1);
}

/*
 * Host side: the thread called exit(). What Linux does at a thread's
 * exit is done; the last thread ends the program, with the status the
 * leader (the thread whose tid is the pid) gave exit(), as Linux reports
 * it. Returns for that.
 */
void task_exit(struct task *t)
{
	struct program *p = t->p;
	sigset_t all;
	int zero = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);	/* caught() uses @t */
	exit_robust_list(t);
	if (t->clear_child_tid && !copy_to_program(t, t->clear_child_tid, &zero, sizeof(zero)))
		hc_syscall(SYS_futex, t->clear_child_tid, FUTEX_WAKE, 1, 0, 0, 0);
	if (t->tid == p->pid)
		p->leader_status = t->exit_status;
	if (__atomic_sub_fetch(&p->nr_tasks, 1, __ATOMIC_SEQ_CST) == 0) {
		p->exit_status = p->leader_status;
		return;
	}
	/*
	 * The host thread ends too, the leader's as well (our pid goes on, as
	 * Linux keeps the leader), so that the host hands the PI futexes it
	 * holds to their waiters.
	 */
	task_free(t);
	pthread_exit(NULL);
}
