// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The program's signals, as Linux delivers them to a process.
 *
 * The host kernel keeps what it can: this process's dispositions mirror the
 * program's, and each host thread's mask its thread's (struct task), so
 * that an ignored signal is ignored, a blocked one stays pending, a
 * process-directed one goes to a thread that lets it in, a fatal one kills
 * (hostcall-run dies of it, as the program), and execve() and fork() pass
 * them on. Where the program has a handler, ours (caught()) takes the
 * signal, notes it for the thread it came to, and stops its ring 3
 * (hc_user_interrupt()); a call it interrupted returns -EINTR to ring 0
 * (HC_EINTR, and no SA_RESTART on our side). Ring 0 then delivers it before
 * ring 3 runs again: a frame on the program's stack as Linux builds it,
 * the handler entered, rt_sigreturn() to come back, and the interrupted
 * call restarted if the handler asked for SA_RESTART and Linux would.
 *
 * Synchronous signals (faults in ring 3) never reach the host: ring 0 sends
 * them to the program's handler, or ends the program by them. The host
 * keeps its own default for those, so that a fault of hostcall-run itself
 * is never taken for the program's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#define SIG_BIT(sig)	(1ULL << ((sig) - 1))
#define UNBLOCKABLE	(SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP))
/* Synchronous: the program's handlers of these see ring 3's faults only. */
#define SYNCHRONOUS	(SIG_BIT(SIGSEGV) | SIG_BIT(SIGBUS) | SIG_BIT(SIGILL) | \
			 SIG_BIT(SIGFPE) | SIG_BIT(SIGTRAP) | SIG_BIT(SIGSYS))
/* Ignored by default, and stopping by default (which we ignore too). */
#define IGNORED		(SIG_BIT(SIGCHLD) | SIG_BIT(SIGCONT) | SIG_BIT(SIGURG) | SIG_BIT(SIGWINCH))
#define STOPPING	(SIG_BIT(SIGTSTP) | SIG_BIT(SIGTTIN) | SIG_BIT(SIGTTOU))
#define SYSCALL_INSN_SIZE	2

/*
 * The thread of the program that this host thread runs, for our handler: a
 * signal the host gives this thread is that one's, as their masks agree.
 */
__thread struct task *current_task;

/* The host's handler, for the signals the program handles. */
static void caught(int sig, siginfo_t *info, void *context)
{
	struct task *t = current_task;

	(void)context;
	t->caught_info[sig] = *info;
	__atomic_fetch_or(&t->caught, SIG_BIT(sig), __ATOMIC_SEQ_CST);
	/* -EINVAL outside hc_vm_call(): the next delivery point comes anyway */
	hc_user_interrupt(t->p->vm);
}

/* The host's disposition of @sig for the program's @act (ring 0 or host side). */
static int mirror_action(int sig, const struct kernel_sigaction *act)
{
	struct sigaction host = { .sa_handler = (void (*)(int))(uintptr_t)act->handler };

	if (sig == SIGKILL || sig == SIGSTOP)
		return 0;
	if (act->handler != (uintptr_t)SIG_DFL && act->handler != (uintptr_t)SIG_IGN) {
		if (SIG_BIT(sig) & SYNCHRONOUS)
			host.sa_handler = SIG_DFL;
		else
			host = (struct sigaction){ .sa_sigaction = caught, .sa_flags = SA_SIGINFO };
		sigfillset(&host.sa_mask);
	}
	/* they change what the host kernel does with children */
	if (sig == SIGCHLD)
		host.sa_flags |= act->flags & (SA_NOCLDSTOP | SA_NOCLDWAIT);
	return sigaction(sig, &host, NULL) < 0 ? -errno : 0;
}

static int mirror_mask(const struct task *t)
{
	return hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &t->sigmask, NULL, 8);
}

/*
 * Host side, before the program runs: what this process inherited (ignored
 * signals, a mask: from its parent, or from the hostcall-run that executed
 * it) is the program's too.
 */
void signals_start(struct task *t)
{
	struct program *p = t->p;
	sigset_t mask;

	current_task = t;
	for (int sig = 1; sig <= NR_SIGNALS; sig++) {
		struct sigaction old;

		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			p->actions[sig].handler = (uintptr_t)SIG_IGN;
	}
	if (sigprocmask(SIG_SETMASK, NULL, &mask) == 0)
		memcpy(&t->sigmask, &mask, sizeof(t->sigmask));
}

/*
 * After execve: what caught() had noted and ring 0 not yet delivered is
 * pending for the new program, as Linux keeps it across execve.
 */
void resend_signals(struct task *t)
{
	uint64_t caught = t->caught;

	t->caught = 0;
	for (int sig = 1; sig <= NR_SIGNALS; sig++) {
		if (caught & SIG_BIT(sig))
			syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
	}
}

long sig_action(struct task *t, const uint64_t *arg)
{
	struct program *p = t->p;
	long sig = (int)arg[0], ret = 0;
	struct kernel_sigaction act, old;

	if (arg[3] != 8 || sig < 1 || sig > NR_SIGNALS ||
	    (arg[1] && (sig == SIGKILL || sig == SIGSTOP)))
		return -EINVAL;
	if (arg[1])
		ret = copy_from_program(t, &act, arg[1], sizeof(act));
	if (ret)
		return ret;
	act.mask &= ~UNBLOCKABLE;
	pthread_mutex_lock(&p->lock);
	old = p->actions[sig];
	if (arg[1])
		ret = mirror_action(sig, &act);
	if (arg[1] && !ret)
		p->actions[sig] = act;
	pthread_mutex_unlock(&p->lock);
	if (!ret && arg[2])
		ret = copy_to_program(t, arg[2], &old, sizeof(old));
	return ret;
}

/* What the program set for @sig, as one thread may change it while another reads. */
static struct kernel_sigaction action_of(struct program *p, int sig)
{
	struct kernel_sigaction act;

	pthread_mutex_lock(&p->lock);
	act = p->actions[sig];
	pthread_mutex_unlock(&p->lock);
	return act;
}

void sig_set_mask(struct task *t, uint64_t mask)
{
	t->sigmask = mask & ~UNBLOCKABLE;
	mirror_mask(t);
}

long sig_procmask(struct task *t, const uint64_t *arg)
{
	uint64_t set = 0;
	long ret = 0;

	if (arg[3] != 8)
		return -EINVAL;
	if (arg[1]) {
		if ((int)arg[0] != SIG_BLOCK && (int)arg[0] != SIG_UNBLOCK &&
		    (int)arg[0] != SIG_SETMASK)
			return -EINVAL;
		ret = copy_from_program(t, &set, arg[1], sizeof(set));
	}
	if (!ret && arg[2])
		ret = copy_to_program(t, arg[2], &t->sigmask, sizeof(set));
	if (ret || !arg[1])
		return ret;
	if ((int)arg[0] == SIG_BLOCK)
		set |= t->sigmask;
	else if ((int)arg[0] == SIG_UNBLOCK)
		set = t->sigmask & ~set;
	sig_set_mask(t, set);
	return 0;
}

/* Pending: blocked at the host, or noted by caught() and not yet delivered. */
long sig_pending(struct task *t, const uint64_t *arg)
{
	uint64_t set = 0;
	long ret;

	if (arg[1] > 8)
		return -EINVAL;
	ret = hc_syscall(SYS_rt_sigpending, &set, 8);
	set |= __atomic_load_n(&t->caught, __ATOMIC_SEQ_CST);
	return ret ?: copy_to_program(t, arg[0], &set, arg[1]);
}

/*
 * Until caught() noted a signal the mask lets through: its handler comes
 * next. The host's sigsuspend lets them in only while it waits, so that
 * none comes between the look and the wait.
 */
static long wait_for_signal(struct task *t)
{
	uint64_t all = ~0ULL, old;

	hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
	while (!(__atomic_load_n(&t->caught, __ATOMIC_SEQ_CST) & ~t->sigmask))
		hc_syscall(SYS_rt_sigsuspend, &t->sigmask, 8);
	hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	return -EINTR;
}

long sig_pause(struct task *t)
{
	return wait_for_signal(t);
}

/* rt_sigsuspend(): wait with @arg[0]'s mask; the handler's frame keeps the old one. */
long sig_suspend(struct task *t, const uint64_t *arg)
{
	uint64_t mask;
	long ret;

	if (arg[1] != 8)
		return -EINVAL;
	ret = copy_from_program(t, &mask, arg[0], sizeof(mask));
	if (ret)
		return ret;
	t->saved_mask = t->sigmask;
	t->restore_mask = true;
	sig_set_mask(t, mask);
	return wait_for_signal(t);
}

/*
 * The calls Linux restarts after a handler with SA_RESTART (signal(7));
 * the others, such as sleeps, poll and pause, fail with EINTR.
 */
static bool restartable(int nr)
{
	switch (nr) {
	case SYS_read: case SYS_write: case SYS_readv: case SYS_writev: case SYS_pread64:
	case SYS_pwrite64: case SYS_preadv: case SYS_pwritev: case SYS_open: case SYS_openat:
	case SYS_wait4: case SYS_waitid: case SYS_flock: case SYS_fcntl: case SYS_sendfile:
	case SYS_getrandom: case SYS_copy_file_range: case SYS_futex:
		return true;
	}
	return false;
}

/* Linux cannot build the frame, or a handler cannot run: the program dies of @sig. */
static void die_of(struct task *t, int sig)
{
	struct program *p = t->p;

	p->signal = sig;
	p->ended = true;
}

/* Enter @sig's handler, with its mask, as Linux's handle_signal(). */
static void enter_handler(struct task *t, int sig, const struct kernel_sigaction *act,
			  const siginfo_t *info)
{
	struct program *p = t->p;
	uint64_t mask = t->restore_mask ? t->saved_mask : t->sigmask;

	if (push_frame(t, sig, act, info)) {
		die_of(t, SIGSEGV);
		return;
	}
	mask |= act->mask;
	if (!(act->flags & SA_NODEFER))
		mask |= SIG_BIT(sig);
	t->restore_mask = false;
	sig_set_mask(t, mask);
	if (act->flags & SA_RESETHAND) {
		pthread_mutex_lock(&p->lock);
		p->actions[sig] = (struct kernel_sigaction){ .handler = (uintptr_t)SIG_DFL };
		mirror_action(sig, &p->actions[sig]);
		pthread_mutex_unlock(&p->lock);
	}
}

/* What Linux does with @sig once it is the program's to take. */
static void take(struct task *t, int sig, const siginfo_t *info)
{
	struct kernel_sigaction act = action_of(t->p, sig);
	uint64_t handler = act.handler;

	if (handler == (uintptr_t)SIG_IGN)
		return;
	if (handler != (uintptr_t)SIG_DFL) {
		/* the call it interrupted: again after the handler, or EINTR */
		if (t->interrupted_nr >= 0 && act.flags & SA_RESTART &&
		    restartable(t->interrupted_nr)) {
			t->regs.rax = t->interrupted_nr;
			t->regs.rip -= SYSCALL_INSN_SIZE;
		}
		t->interrupted_nr = -1;
		enter_handler(t, sig, &act, info);
		return;
	}
	if (SIG_BIT(sig) & (IGNORED | STOPPING))
		return;
	die_of(t, sig);
}

/*
 * Before ring 3 runs again: the signals caught() noted that the mask lets
 * through, lowest first, each with its frame over the last one, as Linux
 * delivers them on a return to user mode.
 */
void deliver_signals(struct task *t)
{
	struct program *p = t->p;
	uint64_t all = ~0ULL, old;

	while (!p->ended) {
		uint64_t ready = __atomic_load_n(&t->caught, __ATOMIC_SEQ_CST) & ~t->sigmask;
		siginfo_t info;
		int sig;

		if (!ready)
			break;
		sig = __builtin_ctzll(ready) + 1;
		/* caught() must not rewrite the siginfo while it is read */
		hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
		info = t->caught_info[sig];
		__atomic_fetch_and(&t->caught, ~SIG_BIT(sig), __ATOMIC_SEQ_CST);
		hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
		take(t, sig, &info);
	}
	t->interrupted_nr = -1;
	if (t->restore_mask) {	/* sigsuspend() with nothing delivered */
		t->restore_mask = false;
		sig_set_mask(t, t->saved_mask);
	}
}

/* The signal and siginfo Linux gives for an exception in user mode. */
static int fault_signal(const struct hc_fault *f, siginfo_t *info)
{
	memset(info, 0, sizeof(*info));
	info->si_code = SI_KERNEL;
	switch (f->vector) {
	case 0:
		info->si_signo = SIGFPE;
		info->si_code = FPE_INTDIV;
		info->si_addr = (void *)f->rip;
		break;
	case 7: case 16: case 19:
		info->si_signo = SIGFPE;
		info->si_addr = (void *)f->rip;
		break;
	case 1: case 3:
		info->si_signo = SIGTRAP;
		break;
	case 6:
		info->si_signo = SIGILL;
		info->si_code = ILL_ILLOPN;
		info->si_addr = (void *)f->rip;
		break;
	case 12: case 17:
		info->si_signo = SIGBUS;
		break;
	case 14:
		info->si_signo = SIGSEGV;
		info->si_code = f->error_code & 1 ? SEGV_ACCERR : SEGV_MAPERR;
		info->si_addr = (void *)f->addr;
		break;
	default:
		info->si_signo = SIGSEGV;
	}
	return info->si_signo;
}

/*
 * Ring 3 faulted: its handler runs, unless the signal is blocked or not
 * handled; then, as Linux's force_sig(), the program dies of it.
 */
void sig_fault(struct task *t, const struct hc_fault *f)
{
	struct program *p = t->p;
	siginfo_t info;
	int sig = fault_signal(f, &info);
	struct kernel_sigaction act = action_of(p, sig);
	uint64_t handler = act.handler;

	t->fault_vector = f->vector;
	t->fault_error = f->error_code;
	t->fault_addr = f->vector == 14 ? f->addr : 0;
	if (t->sigmask & SIG_BIT(sig) || handler == (uintptr_t)SIG_DFL ||
	    handler == (uintptr_t)SIG_IGN) {
		p->faulted = true;
		p->fault = *f;
		die_of(t, sig);
		return;
	}
	enter_handler(t, sig, &act, &info);
	t->fault_vector = t->fault_error = t->fault_addr = 0;
}

/*
 * A process the program may signal: one of the sandbox, which its first
 * process started (the parent chain, in /proc/PID/stat, leads there).
 * Nothing else outside the sandbox.
 */
static bool in_sandbox(const struct program *p, long pid)
{
	for (int depth = 0; depth < 64 && pid > 1; depth++) {
		char path[32], stat[512], *end;
		long fd, n;

		if (pid == p->root_pid)
			return true;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		fd = hc_syscall(SYS_open, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		n = hc_syscall(SYS_read, fd, stat, sizeof(stat) - 1);
		hc_syscall(SYS_close, fd);
		if (n <= 0)
			return false;
		stat[n] = '\0';
		end = strrchr(stat, ')');
		/* ") S PPID ..." */
		if (!end || sscanf(end + 1, " %*c %ld", &pid) != 1)
			return false;
	}
	return false;
}

/*
 * kill(), tkill(), tgkill(): made by the host, to a process of the
 * sandbox, or to a thread of this one (the host's tgkill() finds no other
 * with our pid); another process is out of reach (EPERM), as is a process
 * group, which may hold processes outside it.
 */
long sig_kill(struct task *t, int nr, const uint64_t *arg)
{
	struct program *p = t->p;
	long pid = (int)arg[0], sig = (int)(nr == SYS_tgkill ? arg[2] : arg[1]);

	if (sig < 0 || sig > NR_SIGNALS)
		return -EINVAL;
	switch (nr) {
	case SYS_kill:	/* a process group may hold others: none */
		if (pid <= 0 || !in_sandbox(p, pid))
			return -EPERM;
		return hc_syscall(SYS_kill, pid, sig);
	case SYS_tkill:
		return pid <= 0 ? -EINVAL : hc_syscall(SYS_tgkill, p->pid, pid, sig);
	}
	if (pid <= 0 || (int)arg[1] <= 0)
		return -EINVAL;
	return pid == p->pid ? hc_syscall(SYS_tgkill, pid, (int)arg[1], sig) : -EPERM;
}
