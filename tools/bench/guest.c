// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The mechanisms of a process whose code runs in guest ring 0 (libhostcall),
 * and the native one they are measured against: the same loop of op_once()
 * runs natively, in a VM in hypercall mode, and in a VM forced to the exit
 * path. Each run is timed on the host around hc_vm_call(), which adds one
 * entry and exit of the guest per run of thousands of calls. The loops are
 * also run by other means than libhostcall (slimvm.c), through
 * guest_op_timed() and guest_hypercalls_timed(), so that every mechanism
 * measures the same guest code.
 */
#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>

#include <asm/ptrace.h>

#include "hostcall.h"
#include "bench.h"
#include "hypercall.h"

/* A hypercall number KVM does not know: it answers -KVM_ENOSYS and returns. */
#define NOOP_HYPERCALL		0x7fffffff

/*
 * A number the 64-bit table has but no call (tuxcall, sys_ni_syscall): the
 * call runs and answers -ENOSYS. Numbers beyond the table are refused since
 * the series' v2, before seccomp.
 */
#define UNKNOWN_SYSCALL		184

struct loop {
	enum op op;
	const struct op_env *env;
	long count;
	/* hypercall_loop(): rax, rbx (a struct pt_regs or NULL), its ax, the status */
	unsigned long nr;
	struct pt_regs *regs;
	long syscall_nr, status;
	bool marked;		/* one more call after the loop, between trace marks */
};

bool trace_marks;
long trace_marked_runs;

/*
 * Bochs's magic breakpoint, xchg %bx,%bx (elsewhere an instruction that
 * changes nothing): lab/run --trace records every instruction that the
 * emulated CPU, guest and host, runs between two of them.
 */
static inline __attribute__((target("general-regs-only"), always_inline))
void trace_mark(void)
{
	__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
}

void trace_marks_empty(void)
{
	trace_mark();
	trace_mark();
}

GUEST static long op_loop(void *arg)
{
	const struct loop *l = arg;
	long ret;

	for (long i = 0; i < l->count; i++) {
		ret = op_once(l->op, l->env);
		if (ret < 0)
			return ret;
	}
	if (!l->marked)
		return 0;
	trace_mark();
	ret = op_once(l->op, l->env);
	trace_mark();
	return ret < 0 ? ret : 0;
}

static bool amd;

/* One hypercall as @l says: false unless it answers l->status. */
static inline __attribute__((target("general-regs-only"), always_inline))
bool hypercall_once(const struct loop *l)
{
	if (l->regs)
		l->regs->rax = l->syscall_nr;
	return kvm_hypercall(amd, l->nr, l->regs) == l->status;
}

/* l->count hypercalls as l says, each of which must answer l->status. */
GUEST static long hypercall_loop(void *arg)
{
	const struct loop *l = arg;
	bool answered;

	for (long i = 0; i < l->count; i++) {
		if (!hypercall_once(l))
			return -EPROTO;
	}
	if (!l->marked)
		return 0;
	trace_mark();
	answered = hypercall_once(l);
	trace_mark();
	return answered ? 0 : -EPROTO;
}

/* libhostcall's guest_run_fn: fn(arg) in @vm, a struct hc_vm (NULL: natively). */
static long hc_run(void *vm, long (*fn)(void *), void *arg)
{
	return vm ? hc_vm_call(vm, fn, arg) : fn(arg);
}

/* @fn's loop *@l run @warmup times untimed, then @calls times timed, by @run in @vm. */
static long timed(guest_run_fn run, void *vm, long (*fn)(void *), struct loop *l, long warmup,
		  long calls)
{
	long start, ns, ret;

	l->count = warmup;
	ret = run(vm, fn, l);
	if (ret < 0)
		return ret;
	l->count = calls;
	start = now_ns();
	ret = run(vm, fn, l);
	ns = now_ns() - start;
	if (ret >= 0 && trace_marks) {
		/* untimed: a call, then the traced one */
		l->count = 1;
		l->marked = true;
		trace_marked_runs++;
		ret = run(vm, fn, l);
	}
	return ret < 0 ? ret : ns;
}

long guest_op_timed(guest_run_fn run, void *vm, enum op op, const struct op_env *env, long warmup,
		    long calls)
{
	struct loop l = { .op = op, .env = env };

	return timed(run, vm, op_loop, &l, warmup, calls);
}

long guest_hypercalls_timed(guest_run_fn run, void *vm, unsigned long nr, long status, long warmup,
			    long calls)
{
	struct loop l = { .nr = nr, .status = status };

	amd = cpu_is_amd();	/* which instruction hypercall_loop() makes */
	return timed(run, vm, hypercall_loop, &l, warmup, calls);
}

/* The VM of each mode, made on first use; NULL if this kernel lacks the mode. */
static struct hc_vm *vm_of(int mode)
{
	static struct hc_vm *vms[3];
	static bool tried[3];

	if (!tried[mode]) {
		tried[mode] = true;
		vms[mode] = hc_vm_create(mode == HC_MODE_EXIT ? HC_FORCE_EXIT : 0);
		amd = cpu_is_amd();
		if (vms[mode] && hc_vm_mode(vms[mode]) != mode) {
			hc_vm_destroy(vms[mode]);
			vms[mode] = NULL;
		}
	}
	return vms[mode];
}

long mech_native(enum op op, const struct op_env *env, long warmup, long calls)
{
	return guest_op_timed(hc_run, NULL, op, env, warmup, calls);
}

long mech_hypercall(enum op op, const struct op_env *env, long warmup, long calls)
{
	struct hc_vm *vm = vm_of(HC_MODE_HYPERCALL);

	return vm ? guest_op_timed(hc_run, vm, op, env, warmup, calls) : -ENODEV;
}

long mech_exit(enum op op, const struct op_env *env, long warmup, long calls)
{
	struct hc_vm *vm = vm_of(HC_MODE_EXIT);

	return vm ? guest_op_timed(hc_run, vm, op, env, warmup, calls) : -ENODEV;
}

/*
 * The floor under every hypercall: one that KVM answers at once. Only where
 * the capability exists, which says this KVM handles hypercalls at all (a
 * KVM without it may hang the vCPU on one).
 */
long mech_noop_hypercall(enum op op, const struct op_env *env, long warmup, long calls)
{
	struct hc_vm *vm = vm_of(HC_MODE_HYPERCALL);

	(void)env;
	if (!ops[op].per_call)
		return -EOPNOTSUPP;
	return vm ? guest_hypercalls_timed(hc_run, vm, NOOP_HYPERCALL, -KVM_ENOSYS, warmup, calls) :
		    -ENODEV;
}

/* KVM's count of instructions it emulated, over every VM (debugfs), or -1. */
static long emulations(void)
{
	glob_t g;
	long total = -1;

	if (glob("/sys/kernel/debug/kvm/*-*/insn_emulation", 0, NULL, &g))
		return -1;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		long n;

		if (f && fscanf(f, "%ld", &n) == 1)
			total = (total < 0 ? 0 : total) + n;
		if (f)
			fclose(f);
	}
	globfree(&g);
	return total;
}

/*
 * How many instructions KVM emulates per no-op hypercall: one where the CPU
 * does not report the next RIP on a VM exit (no NRIP save), as QEMU's SVM.
 */
void report_emulation(void)
{
	struct hc_vm *vm = vm_of(HC_MODE_HYPERCALL);
	struct loop l = { .count = 1000, .nr = NOOP_HYPERCALL, .status = -KVM_ENOSYS };
	long before = emulations(), after;

	if (!vm || before < 0 || hc_vm_call(vm, hypercall_loop, &l) < 0 ||
	    (after = emulations()) < 0)
		return;
	printf("KVM emulated %.2f instructions per no-op hypercall (insn_emulation, %ld calls)\n",
	       (double)(after - before) / l.count, l.count);
}

/*
 * Where a hostcall's time goes: the same hypercall, stopped at each of the
 * handler's steps in turn by what it is given, each step's cost the
 * difference to the one before.
 */
void report_breakdown(long calls)
{
	static struct pt_regs regs;
	static const struct step {
		const char *what;
		struct loop l;
	} steps[] = {
		{ "a hypercall KVM does not know: exit, dispatch, entry",
		  { .nr = NOOP_HYPERCALL, .status = -KVM_ENOSYS } },
		{ "KVM_HC_HOST_SYSCALL: struct read and probed, call refused (fork)",
		  { .nr = KVM_HC_HOST_SYSCALL, .regs = &regs, .syscall_nr = SYS_fork,
		    .status = -KVM_EPERM } },
		{ "call made: tuxcall, -ENOSYS (seccomp, dispatch, result, stat, trace)",
		  { .nr = KVM_HC_HOST_SYSCALL, .regs = &regs, .syscall_nr = UNKNOWN_SYSCALL } },
		{ "call made: getpid",
		  { .nr = KVM_HC_HOST_SYSCALL, .regs = &regs, .syscall_nr = SYS_getpid } },
	};
	struct hc_vm *vm = vm_of(HC_MODE_HYPERCALL);
	long last = 0;

	if (!vm)
		return;
	printf("\nhypercall path, per call: ns, and the step's own ns\n");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct loop l = steps[i].l;
		long ns = timed(hc_run, vm, hypercall_loop, &l, calls / 10, calls);

		if (ns < 0) {
			printf("%-70s failed: %ld\n", steps[i].what, ns);
			return;
		}
		printf("%-70s %7ld %+7ld\n", steps[i].what, ns / calls, ns / calls - last);
		last = ns / calls;
	}
}
