// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The program's signals, as Linux delivers them to a process.
 *
 * The host kernel keeps what it can: this process's dispositions and mask
 * mirror the program's, so that an ignored signal is ignored, a blocked one
 * stays pending, a fatal one kills (hostcall-run dies of it, as the
 * program), and execve() and fork() pass them on. Where the program has a
 * handler, ours (caught()) takes the signal, notes it, and stops ring 3
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
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
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

/* What rt_sigreturn() takes from the frame: Linux's FIX_EFLAGS. */
#define FIX_EFLAGS	0x50dd5UL
/* Cleared for the handler: TF, DF, RF. */
#define HANDLER_CLEARS	0x10500UL
#define SYSCALL_INSN_SIZE	2
#define RED_ZONE	128
#define MIN_SIGSTKSZ	2048
/* Linux's, which libc's headers keep to themselves */
#define SA_RESTORER	0x04000000
#define SS_AUTODISARM	(1U << 31)
/* The XSAVE components hc_user_run() keeps for ring 3: x87, SSE, AVX, AVX-512. */
#define USER_XSTATE_MASK	0xe7

/* Linux's frame, <asm/sigcontext.h> and <asm/ucontext.h> for x86-64. */
struct frame_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved[8];
};

struct frame_ucontext {
	uint64_t flags, link;
	struct signal_stack stack;
	struct frame_sigcontext mcontext;
	uint64_t sigmask;
};

struct rt_sigframe {
	uint64_t restorer;	/* the handler's return address */
	struct frame_ucontext uc;
	siginfo_t info;
};

#define UC_FP_XSTATE		1
#define UC_SIGCONTEXT_SS	2
#define UC_STRICT_RESTORE_SS	4
#define USER_CS	0x33
#define USER_SS	0x2b

/* The XSAVE area in a frame: software bytes in the legacy area, a magic after. */
#define FP_XSTATE_MAGIC1	0x46505853U
#define FP_XSTATE_MAGIC2	0x46505845U
#define FPX_SW_BYTES		464
#define XSAVE_LEGACY		512
#define XSAVE_HEADER		64
#define XSTATE_MXCSR		24
#define XSTATE_MXCSR_MASK	28

struct fpx_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};

/* Which program our handler notes signals for: one per process. */
static struct program *signal_program;

/* The host's handler, for the signals the program handles. */
static void caught(int sig, siginfo_t *info, void *context)
{
	struct program *p = signal_program;

	(void)context;
	p->caught_info[sig] = *info;
	__atomic_fetch_or(&p->caught, SIG_BIT(sig), __ATOMIC_SEQ_CST);
	/* -EINVAL outside hc_vm_call(): the next delivery point comes anyway */
	hc_user_interrupt(p->vm);
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

static int mirror_mask(const struct program *p)
{
	return hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &p->sigmask, NULL, 8);
}

/*
 * Host side, before the program runs: what this process inherited (ignored
 * signals, a mask: from its parent, or from the hostcall-run that executed
 * it) is the program's too.
 */
void signals_start(struct program *p)
{
	sigset_t mask;

	signal_program = p;
	for (int sig = 1; sig <= NR_SIGNALS; sig++) {
		struct sigaction old;

		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			p->actions[sig].handler = (uintptr_t)SIG_IGN;
	}
	if (sigprocmask(SIG_SETMASK, NULL, &mask) == 0)
		memcpy(&p->sigmask, &mask, sizeof(p->sigmask));
}

/*
 * After execve: what caught() had noted and ring 0 not yet delivered is
 * pending for the new program, as Linux keeps it across execve.
 */
void resend_signals(struct program *p)
{
	uint64_t caught = p->caught;

	p->caught = 0;
	for (int sig = 1; sig <= NR_SIGNALS; sig++) {
		if (caught & SIG_BIT(sig))
			syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
	}
}

long sig_action(struct program *p, const uint64_t *arg)
{
	long sig = (int)arg[0], ret = 0;
	struct kernel_sigaction act;

	if (arg[3] != 8 || sig < 1 || sig > NR_SIGNALS ||
	    (arg[1] && (sig == SIGKILL || sig == SIGSTOP)))
		return -EINVAL;
	if (arg[1])
		ret = copy_from_program(p, &act, arg[1], sizeof(act));
	if (!ret && arg[2])
		ret = copy_to_program(p, arg[2], &p->actions[sig], sizeof(act));
	if (ret || !arg[1])
		return ret;
	act.mask &= ~UNBLOCKABLE;
	ret = mirror_action(sig, &act);
	if (!ret)
		p->actions[sig] = act;
	return ret;
}

static void set_mask(struct program *p, uint64_t mask)
{
	p->sigmask = mask & ~UNBLOCKABLE;
	mirror_mask(p);
}

long sig_procmask(struct program *p, const uint64_t *arg)
{
	uint64_t set = 0;
	long ret = 0;

	if (arg[3] != 8)
		return -EINVAL;
	if (arg[1]) {
		if ((int)arg[0] != SIG_BLOCK && (int)arg[0] != SIG_UNBLOCK &&
		    (int)arg[0] != SIG_SETMASK)
			return -EINVAL;
		ret = copy_from_program(p, &set, arg[1], sizeof(set));
	}
	if (!ret && arg[2])
		ret = copy_to_program(p, arg[2], &p->sigmask, sizeof(set));
	if (ret || !arg[1])
		return ret;
	if ((int)arg[0] == SIG_BLOCK)
		set |= p->sigmask;
	else if ((int)arg[0] == SIG_UNBLOCK)
		set = p->sigmask & ~set;
	set_mask(p, set);
	return 0;
}

/* Pending: blocked at the host, or noted by caught() and not yet delivered. */
long sig_pending(struct program *p, const uint64_t *arg)
{
	uint64_t set = 0;
	long ret;

	if (arg[1] > 8)
		return -EINVAL;
	ret = hc_syscall(SYS_rt_sigpending, &set, 8);
	set |= __atomic_load_n(&p->caught, __ATOMIC_SEQ_CST);
	return ret ?: copy_to_program(p, arg[0], &set, arg[1]);
}

/*
 * Until caught() noted a signal the mask lets through: its handler comes
 * next. The host's sigsuspend lets them in only while it waits, so that
 * none comes between the look and the wait.
 */
static long wait_for_signal(struct program *p)
{
	uint64_t all = ~0ULL, old;

	hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
	while (!(__atomic_load_n(&p->caught, __ATOMIC_SEQ_CST) & ~p->sigmask))
		hc_syscall(SYS_rt_sigsuspend, &p->sigmask, 8);
	hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	return -EINTR;
}

long sig_pause(struct program *p)
{
	return wait_for_signal(p);
}

/* rt_sigsuspend(): wait with @arg[0]'s mask; the handler's frame keeps the old one. */
long sig_suspend(struct program *p, const uint64_t *arg)
{
	uint64_t mask;
	long ret;

	if (arg[1] != 8)
		return -EINVAL;
	ret = copy_from_program(p, &mask, arg[0], sizeof(mask));
	if (ret)
		return ret;
	p->saved_mask = p->sigmask;
	p->restore_mask = true;
	set_mask(p, mask);
	return wait_for_signal(p);
}

static bool on_altstack(const struct program *p, uint64_t sp)
{
	return p->altstack.size && sp > p->altstack.sp && sp - p->altstack.sp <= p->altstack.size;
}

static struct signal_stack altstack_of(const struct program *p)
{
	struct signal_stack s = p->altstack;

	if (!s.size)
		s.flags = SS_DISABLE;
	else if (on_altstack(p, p->regs.rsp))
		s.flags = SS_ONSTACK;
	return s;
}

static long set_altstack(struct program *p, const struct signal_stack *s)
{
	if (on_altstack(p, p->regs.rsp))
		return -EPERM;
	/* as Linux: SS_ONSTACK is taken for 0; SS_AUTODISARM is not kept */
	if (s->flags & ~(SS_DISABLE | SS_ONSTACK | SS_AUTODISARM))
		return -EINVAL;
	if (s->flags & SS_DISABLE) {
		p->altstack = (struct signal_stack){ 0 };
		return 0;
	}
	if (s->size < MIN_SIGSTKSZ)
		return -ENOMEM;
	p->altstack = (struct signal_stack){ .sp = s->sp, .size = s->size };
	return 0;
}

long sig_altstack(struct program *p, const uint64_t *arg)
{
	struct signal_stack new, old = altstack_of(p);
	long ret = 0;

	if (arg[0])
		ret = copy_from_program(p, &new, arg[0], sizeof(new));
	if (!ret && arg[0])
		ret = set_altstack(p, &new);
	if (!ret && arg[1])
		ret = copy_to_program(p, arg[1], &old, sizeof(old));
	return ret;
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

/* The size and features of ring 3's XSAVE area, as the guest CPU has them. */
static void xstate_layout(struct program *p)
{
	unsigned int eax, ebx, ecx, edx, lo, hi;
	unsigned char fx[512] __attribute__((aligned(16)));

	if (p->xstate_size)
		return;
	__cpuid_count(0xd, 0, eax, ebx, ecx, edx);
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	__asm__ volatile("fxsave %0" : "=m"(fx));
	p->xstate_size = ebx < sizeof(p->regs.xstate) ? ebx : sizeof(p->regs.xstate);
	p->xfeatures = ((uint64_t)hi << 32 | lo) & USER_XSTATE_MASK;
	memcpy(&p->mxcsr_mask, fx + XSTATE_MXCSR_MASK, sizeof(p->mxcsr_mask));
	if (!p->mxcsr_mask)
		p->mxcsr_mask = 0xffbf;	/* the architecture's default */
}

/* Ring 3's vector state as at exec: a handler starts with it. */
static void xstate_init(struct program *p)
{
	uint32_t mxcsr = 0x1f80;

	memset(p->regs.xstate, 0, XSAVE_LEGACY + XSAVE_HEADER);
	memcpy(p->regs.xstate + XSTATE_MXCSR, &mxcsr, sizeof(mxcsr));
}

/* Linux cannot build the frame, or a handler cannot run: the program dies of @sig. */
static void die_of(struct program *p, int sig)
{
	p->signal = sig;
	p->ended = true;
}

/* Build @sig's frame and enter its handler, as Linux's setup_rt_frame(). */
static void enter_handler(struct program *p, int sig, const siginfo_t *info)
{
	struct kernel_sigaction *act = &p->actions[sig];
	uint64_t handler = act->handler;
	struct hc_user_regs *r = &p->regs;
	struct rt_sigframe frame = { .restorer = act->restorer };
	struct frame_sigcontext *sc = &frame.uc.mcontext;
	struct fpx_sw_bytes sw;
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	uint64_t sp = r->rsp - RED_ZONE, fpstate, mask;

	xstate_layout(p);
	if (act->flags & SA_ONSTACK && p->altstack.size && !on_altstack(p, r->rsp))
		sp = p->altstack.sp + p->altstack.size;
	fpstate = (sp - p->xstate_size - sizeof(magic2)) & ~63UL;
	sp = ((fpstate - sizeof(frame)) & ~15UL) - 8;

	frame.uc.flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	frame.uc.stack = altstack_of(p);
	frame.uc.sigmask = p->restore_mask ? p->saved_mask : p->sigmask;
	*sc = (struct frame_sigcontext){
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11, .r12 = r->r12,
		.r13 = r->r13, .r14 = r->r14, .r15 = r->r15, .rdi = r->rdi, .rsi = r->rsi,
		.rbp = r->rbp, .rbx = r->rbx, .rdx = r->rdx, .rax = r->rax, .rcx = r->rcx,
		.rsp = r->rsp, .rip = r->rip, .eflags = r->rflags, .cs = USER_CS, .ss = USER_SS,
		.err = p->fault_error, .trapno = p->fault_vector, .oldmask = frame.uc.sigmask,
		.cr2 = p->fault_addr, .fpstate = fpstate,
	};
	frame.info = *info;
	sw = (struct fpx_sw_bytes){
		.magic1 = FP_XSTATE_MAGIC1, .extended_size = p->xstate_size + sizeof(magic2),
		.xfeatures = p->xfeatures, .xstate_size = p->xstate_size,
	};
	memcpy(r->xstate + FPX_SW_BYTES, &sw, sizeof(sw));

	/* SA_RESTORER is the only way back on x86-64, as in Linux */
	if (!(act->flags & SA_RESTORER) ||
	    copy_to_program(p, fpstate, r->xstate, p->xstate_size) ||
	    copy_to_program(p, fpstate + p->xstate_size, &magic2, sizeof(magic2)) ||
	    copy_to_program(p, sp, &frame, sizeof(frame))) {
		die_of(p, SIGSEGV);
		return;
	}
	mask = frame.uc.sigmask | act->mask;
	if (!(act->flags & SA_NODEFER))
		mask |= SIG_BIT(sig);
	p->restore_mask = false;
	set_mask(p, mask);
	if (act->flags & SA_RESETHAND) {
		*act = (struct kernel_sigaction){ .handler = (uintptr_t)SIG_DFL };
		mirror_action(sig, act);
	}
	r->rdi = sig;
	r->rsi = sp + offsetof(struct rt_sigframe, info);
	r->rdx = sp + offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	r->rsp = sp;
	r->rip = handler;
	r->rflags &= ~HANDLER_CLEARS;
	xstate_init(p);
}

/* What Linux does with @sig once it is the program's to take. */
static void take(struct program *p, int sig, const siginfo_t *info)
{
	uint64_t handler = p->actions[sig].handler;

	if (handler == (uintptr_t)SIG_IGN)
		return;
	if (handler != (uintptr_t)SIG_DFL) {
		/* the call it interrupted: again after the handler, or EINTR */
		if (p->interrupted_nr >= 0 && p->actions[sig].flags & SA_RESTART &&
		    restartable(p->interrupted_nr)) {
			p->regs.rax = p->interrupted_nr;
			p->regs.rip -= SYSCALL_INSN_SIZE;
		}
		p->interrupted_nr = -1;
		enter_handler(p, sig, info);
		return;
	}
	if (SIG_BIT(sig) & (IGNORED | STOPPING))
		return;
	die_of(p, sig);
}

/*
 * Before ring 3 runs again: the signals caught() noted that the mask lets
 * through, lowest first, each with its frame over the last one, as Linux
 * delivers them on a return to user mode.
 */
void deliver_signals(struct program *p)
{
	uint64_t all = ~0ULL, old;

	while (!p->ended) {
		uint64_t ready = __atomic_load_n(&p->caught, __ATOMIC_SEQ_CST) & ~p->sigmask;
		siginfo_t info;
		int sig;

		if (!ready)
			break;
		sig = __builtin_ctzll(ready) + 1;
		/* caught() must not rewrite the siginfo while it is read */
		hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
		info = p->caught_info[sig];
		__atomic_fetch_and(&p->caught, ~SIG_BIT(sig), __ATOMIC_SEQ_CST);
		hc_syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
		take(p, sig, &info);
	}
	p->interrupted_nr = -1;
	if (p->restore_mask) {	/* sigsuspend() with nothing delivered */
		p->restore_mask = false;
		set_mask(p, p->saved_mask);
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
void sig_fault(struct program *p, const struct hc_fault *f)
{
	siginfo_t info;
	int sig = fault_signal(f, &info);
	uint64_t handler = p->actions[sig].handler;

	p->fault_vector = f->vector;
	p->fault_error = f->error_code;
	p->fault_addr = f->vector == 14 ? f->addr : 0;
	if (p->sigmask & SIG_BIT(sig) || handler == (uintptr_t)SIG_DFL ||
	    handler == (uintptr_t)SIG_IGN) {
		p->faulted = true;
		p->fault = *f;
		die_of(p, sig);
		return;
	}
	enter_handler(p, sig, &info);
	p->fault_vector = p->fault_error = p->fault_addr = 0;
}

static bool canonical(uint64_t addr)
{
	return (uint64_t)((int64_t)(addr << 16) >> 16) == addr;
}

/* The vector state at @fpstate, checked as XRSTOR would take it; else false. */
static bool restore_xstate(struct program *p, uint64_t fpstate)
{
	unsigned char *x = p->regs.xstate;
	struct fpx_sw_bytes sw;
	uint64_t header[8];
	uint32_t mxcsr;

	xstate_layout(p);
	if (!fpstate) {
		xstate_init(p);
		return true;
	}
	if (fpstate & 63 || copy_from_program(p, x, fpstate, XSAVE_LEGACY))
		return false;
	memcpy(&sw, x + FPX_SW_BYTES, sizeof(sw));
	if (sw.magic1 == FP_XSTATE_MAGIC1 && sw.xstate_size == p->xstate_size) {
		if (copy_from_program(p, x + XSAVE_LEGACY, fpstate + XSAVE_LEGACY,
				      p->xstate_size - XSAVE_LEGACY))
			return false;
	} else {	/* a legacy (FXSAVE) frame: x87 and SSE only */
		memset(x + XSAVE_LEGACY, 0, XSAVE_HEADER);
		header[0] = 3;
		memcpy(x + XSAVE_LEGACY, header, sizeof(header[0]));
	}
	memcpy(header, x + XSAVE_LEGACY, sizeof(header));
	memcpy(&mxcsr, x + XSTATE_MXCSR, sizeof(mxcsr));
	/* features the guest lacks, a compacted form, reserved bits: XRSTOR's #GP */
	return !(header[0] & ~p->xfeatures) && !header[1] && !header[2] &&
	       !(mxcsr & ~p->mxcsr_mask);
}

/* rt_sigreturn(): the registers, mask and stack the frame at rsp - 8 holds. */
long sig_return(struct program *p)
{
	struct hc_user_regs *r = &p->regs;
	struct frame_ucontext uc;
	struct frame_sigcontext *sc = &uc.mcontext;
	uint64_t frame = r->rsp - 8;

	if (copy_from_program(p, &uc, frame + offsetof(struct rt_sigframe, uc), sizeof(uc)) ||
	    !canonical(sc->rip) || !canonical(sc->rsp) || !restore_xstate(p, sc->fpstate)) {
		/* as Linux: a frame it cannot take is a SIGSEGV */
		xstate_init(p);
		sig_fault(p, &(struct hc_fault){ .vector = 13, .rip = r->rip });
		return r->rax;
	}
	r->r8 = sc->r8, r->r9 = sc->r9, r->r10 = sc->r10, r->r11 = sc->r11;
	r->r12 = sc->r12, r->r13 = sc->r13, r->r14 = sc->r14, r->r15 = sc->r15;
	r->rdi = sc->rdi, r->rsi = sc->rsi, r->rbp = sc->rbp, r->rbx = sc->rbx;
	r->rdx = sc->rdx, r->rcx = sc->rcx, r->rsp = sc->rsp, r->rip = sc->rip;
	r->rflags = (r->rflags & ~FIX_EFLAGS) | (sc->eflags & FIX_EFLAGS);
	set_mask(p, uc.sigmask);
	set_altstack(p, &uc.stack);
	return sc->rax;
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
 * sandbox; another process is out of reach (EPERM), as is a process group,
 * which may hold processes outside it.
 */
long sig_kill(struct program *p, int nr, const uint64_t *arg)
{
	long pid = (int)arg[0], sig = (int)(nr == SYS_tgkill ? arg[2] : arg[1]);

	if (sig < 0 || sig > NR_SIGNALS)
		return -EINVAL;
	switch (nr) {
	case SYS_kill:	/* a process group may hold others: none */
		if (pid <= 0 || !in_sandbox(p, pid))
			return -EPERM;
		return hc_syscall(SYS_kill, pid, sig);
	case SYS_tkill:
		return pid == p->pid ? hc_syscall(SYS_tgkill, p->pid, pid, sig) : -EPERM;
	}
	return pid == p->pid && (int)arg[1] == p->pid ?
	       hc_syscall(SYS_tgkill, pid, (int)arg[1], sig) : -EPERM;
}
