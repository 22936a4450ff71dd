// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * A signal handler's frame, as Linux's x86-64 builds it and rt_sigreturn()
 * takes it back, and the alternate stack it may go on (signal.c decides
 * which signal is delivered, and when).
 *
 * The frame is what programs and their debuggers read: the return address
 * (SA_RESTORER), a ucontext with the registers, the mask and the alternate
 * stack, the siginfo, and ring 3's XSAVE area with Linux's magic words. What
 * comes back is checked as the CPU would take it, so that a forged frame is
 * the program's SIGSEGV, never a fault of ring 0's XRSTOR.
 */
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "sandbox.h"

/* What rt_sigreturn() takes from the frame: Linux's FIX_EFLAGS. */
#define FIX_EFLAGS	0x50dd5UL
/* Cleared for the handler: TF, DF, RF. */
#define HANDLER_CLEARS	0x10500UL
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

static bool on_altstack(const struct task *t, uint64_t sp)
{
	return t->altstack.size && sp > t->altstack.sp && sp - t->altstack.sp <= t->altstack.size;
}

static struct signal_stack altstack_of(const struct task *t)
{
	struct signal_stack s = t->altstack;

	if (!s.size)
		s.flags = SS_DISABLE;
	else if (on_altstack(t, t->regs.rsp))
		s.flags = SS_ONSTACK;
	return s;
}

static long set_altstack(struct task *t, const struct signal_stack *s)
{
	if (on_altstack(t, t->regs.rsp))
		return -EPERM;
	/* as Linux: SS_ONSTACK is taken for 0; SS_AUTODISARM is not kept */
	if (s->flags & ~(SS_DISABLE | SS_ONSTACK | SS_AUTODISARM))
		return -EINVAL;
	if (s->flags & SS_DISABLE) {
		t->altstack = (struct signal_stack){ 0 };
		return 0;
	}
	if (s->size < MIN_SIGSTKSZ)
		return -ENOMEM;
	t->altstack = (struct signal_stack){ .sp = s->sp, .size = s->size };
	return 0;
}

long sig_altstack(struct task *t, const uint64_t *arg)
{
	struct signal_stack new, old = altstack_of(t);
	long ret = 0;

	if (arg[0])
		ret = copy_from_program(t, &new, arg[0], sizeof(new));
	if (!ret && arg[0])
		ret = set_altstack(t, &new);
	if (!ret && arg[1])
		ret = copy_to_program(t, arg[1], &old, sizeof(old));
	return ret;
}

/* The size and features of ring 3's XSAVE area, as the guest CPU has them. */
static void xstate_layout(struct task *t)
{
	struct program *p = t->p;
	unsigned int eax, ebx, ecx, edx, lo, hi;
	unsigned char fx[512] __attribute__((aligned(16)));

	if (p->xstate_size)
		return;
	__cpuid_count(0xd, 0, eax, ebx, ecx, edx);
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	__asm__ volatile("fxsave %0" : "=m"(fx));
	p->xstate_size = ebx < sizeof(t->regs.xstate) ? ebx : sizeof(t->regs.xstate);
	p->xfeatures = ((uint64_t)hi << 32 | lo) & USER_XSTATE_MASK;
	memcpy(&p->mxcsr_mask, fx + XSTATE_MXCSR_MASK, sizeof(p->mxcsr_mask));
	if (!p->mxcsr_mask)
		p->mxcsr_mask = 0xffbf;	/* the architecture's default */
}

/* Ring 3's vector state as at exec: a handler starts with it. */
static void xstate_init(struct task *t)
{
	uint32_t mxcsr = 0x1f80;

	memset(t->regs.xstate, 0, XSAVE_LEGACY + XSAVE_HEADER);
	memcpy(t->regs.xstate + XSTATE_MXCSR, &mxcsr, sizeof(mxcsr));
}

/*
 * Build @sig's frame and point the registers at its handler, as Linux's
 * setup_rt_frame(): 0, or -EFAULT where the frame cannot be written. The
 * mask the frame keeps is the caller's to change next.
 */
int push_frame(struct task *t, int sig, const struct kernel_sigaction *act, const siginfo_t *info)
{
	struct program *p = t->p;
	uint64_t handler = act->handler;
	struct hc_user_regs *r = &t->regs;
	struct rt_sigframe frame = { .restorer = act->restorer };
	struct frame_sigcontext *sc = &frame.uc.mcontext;
	struct fpx_sw_bytes sw;
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	uint64_t sp = r->rsp - RED_ZONE, fpstate;

	xstate_layout(t);
	if (act->flags & SA_ONSTACK && t->altstack.size && !on_altstack(t, r->rsp))
		sp = t->altstack.sp + t->altstack.size;
	fpstate = (sp - p->xstate_size - sizeof(magic2)) & ~63UL;
	sp = ((fpstate - sizeof(frame)) & ~15UL) - 8;

	frame.uc.flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	frame.uc.stack = altstack_of(t);
	frame.uc.sigmask = t->restore_mask ? t->saved_mask : t->sigmask;
	*sc = (struct frame_sigcontext){
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11, .r12 = r->r12,
		.r13 = r->r13, .r14 = r->r14, .r15 = r->r15, .rdi = r->rdi, .rsi = r->rsi,
		.rbp = r->rbp, .rbx = r->rbx, .rdx = r->rdx, .rax = r->rax, .rcx = r->rcx,
		.rsp = r->rsp, .rip = r->rip, .eflags = r->rflags, .cs = USER_CS, .ss = USER_SS,
		.err = t->fault_error, .trapno = t->fault_vector, .oldmask = frame.uc.sigmask,
		.cr2 = t->fault_addr, .fpstate = fpstate,
	};
	frame.info = *info;
	sw = (struct fpx_sw_bytes){
		.magic1 = FP_XSTATE_MAGIC1, .extended_size = p->xstate_size + sizeof(magic2),
		.xfeatures = p->xfeatures, .xstate_size = p->xstate_size,
	};
	memcpy(r->xstate + FPX_SW_BYTES, &sw, sizeof(sw));

	/* SA_RESTORER is the only way back on x86-64, as in Linux */
	if (!(act->flags & SA_RESTORER) ||
	    copy_to_program(t, fpstate, r->xstate, p->xstate_size) ||
	    copy_to_program(t, fpstate + p->xstate_size, &magic2, sizeof(magic2)) ||
	    copy_to_program(t, sp, &frame, sizeof(frame)))
		return -EFAULT;
	r->rdi = sig;
	r->rsi = sp + offsetof(struct rt_sigframe, info);
	r->rdx = sp + offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	r->rsp = sp;
	r->rip = handler;
	r->rflags &= ~HANDLER_CLEARS;
	xstate_init(t);
	return 0;
}

static bool canonical(uint64_t addr)
{
	return (uint64_t)((int64_t)(addr << 16) >> 16) == addr;
}

/* The vector state at @fpstate, checked as XRSTOR would take it; else false. */
static bool restore_xstate(struct task *t, uint64_t fpstate)
{
	struct program *p = t->p;
	unsigned char *x = t->regs.xstate;
	struct fpx_sw_bytes sw;
	uint64_t header[8];
	uint32_t mxcsr;

	xstate_layout(t);
	if (!fpstate) {
		xstate_init(t);
		return true;
	}
	if (fpstate & 63 || copy_from_program(t, x, fpstate, XSAVE_LEGACY))
		return false;
	memcpy(&sw, x + FPX_SW_BYTES, sizeof(sw));
	if (sw.magic1 == FP_XSTATE_MAGIC1 && sw.xstate_size == p->xstate_size) {
		if (copy_from_program(t, x + XSAVE_LEGACY, fpstate + XSAVE_LEGACY,
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
long sig_return(struct task *t)
{
	struct hc_user_regs *r = &t->regs;
	struct frame_ucontext uc;
	struct frame_sigcontext *sc = &uc.mcontext;
	uint64_t frame = r->rsp - 8;

	if (copy_from_program(t, &uc, frame + offsetof(struct rt_sigframe, uc), sizeof(uc)) ||
	    !canonical(sc->rip) || !canonical(sc->rsp) || !restore_xstate(t, sc->fpstate)) {
		/* as Linux: a frame it cannot take is a SIGSEGV */
		xstate_init(t);
		sig_fault(t, &(struct hc_fault){ .vector = 13, .rip = r->rip });
		return r->rax;
	}
	r->r8 = sc->r8, r->r9 = sc->r9, r->r10 = sc->r10, r->r11 = sc->r11;
	r->r12 = sc->r12, r->r13 = sc->r13, r->r14 = sc->r14, r->r15 = sc->r15;
	r->rdi = sc->rdi, r->rsi = sc->rsi, r->rbp = sc->rbp, r->rbx = sc->rbx;
	r->rdx = sc->rdx, r->rcx = sc->rcx, r->rsp = sc->rsp, r->rip = sc->rip;
	r->rflags = (r->rflags & ~FIX_EFLAGS) | (sc->eflags & FIX_EFLAGS);
	sig_set_mask(t, uc.sigmask);
	set_altstack(t, &uc.stack);
	return sc->rax;
}
