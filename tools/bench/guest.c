// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The mechanisms of a process whose code runs in guest ring 0 (libhostcall),
 * and the native one they are measured against: the same loop of op_once()
 * runs natively, in a VM in hypercall mode, and in a VM forced to the exit
 * path. Each run is timed on the host around hc_vm_call(), which adds one
 * entry and exit of the guest per run of thousands of calls.
 */
#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>

#include "hostcall.h"
#include "bench.h"

/* A hypercall number KVM does not know: it answers -KVM_ENOSYS and returns. */
#define NOOP_HYPERCALL	0x7fffffff

struct loop {
	enum op op;
	const struct op_env *env;
	long count;
};

GUEST static long op_loop(void *arg)
{
	const struct loop *l = arg;

	for (long i = 0; i < l->count; i++) {
		long ret = op_once(l->op, l->env);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static bool amd;

GUEST static long noop_loop(void *arg)
{
	const struct loop *l = arg;
	unsigned long ret = 0;

	for (long i = 0; i < l->count; i++) {
		if (amd)
			__asm__ volatile("vmmcall" : "=a"(ret) : "a"(NOOP_HYPERCALL) : "memory");
		else
			__asm__ volatile("vmcall" : "=a"(ret) : "a"(NOOP_HYPERCALL) : "memory");
	}
	return ret == (unsigned long)-1000 ? 0 : -EPROTO;	/* -KVM_ENOSYS */
}

/* The guest's vendor is the host's: vmmcall on AMD, vmcall on Intel. */
static bool cpu_is_amd(void)
{
	uint32_t eax, ebx, ecx, edx;

	__asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0));
	return ebx == 0x68747541;	/* "Auth"enticAMD */
}

/* @fn's loop run @warmup times untimed, then @calls times timed, in @vm (NULL: natively). */
static long timed(struct hc_vm *vm, long (*fn)(void *), enum op op, const struct op_env *env,
		  long warmup, long calls)
{
	struct loop l = { .op = op, .env = env, .count = warmup };
	long start, ret;

	ret = vm ? hc_vm_call(vm, fn, &l) : fn(&l);
	if (ret < 0)
		return ret;
	l.count = calls;
	start = now_ns();
	ret = vm ? hc_vm_call(vm, fn, &l) : fn(&l);
	return ret < 0 ? ret : now_ns() - start;
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
	return timed(NULL, op_loop, op, env, warmup, calls);
}

long mech_hypercall(enum op op, const struct op_env *env, long warmup, long calls)
{
	struct hc_vm *vm = vm_of(HC_MODE_HYPERCALL);

	return vm ? timed(vm, op_loop, op, env, warmup, calls) : -ENODEV;
}

long mech_exit(enum op op, const struct op_env *env, long warmup, long calls)
{
	struct hc_vm *vm = vm_of(HC_MODE_EXIT);

	return vm ? timed(vm, op_loop, op, env, warmup, calls) : -ENODEV;
}

/*
 * The floor under every hypercall: one that KVM answers at once. Only where
 * the capability exists, which says this KVM handles hypercalls at all (a
 * KVM without it may hang the vCPU on one).
 */
long mech_noop_hypercall(enum op op, const struct op_env *env, long warmup, long calls)
{
	struct hc_vm *vm = vm_of(HC_MODE_HYPERCALL);

	if (!ops[op].per_call)
		return -EOPNOTSUPP;
	return vm ? timed(vm, noop_loop, op, env, warmup, calls) : -ENODEV;
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
	struct loop l = { .count = 1000 };
	long before = emulations(), after;

	if (!vm || before < 0 || hc_vm_call(vm, noop_loop, &l) < 0 || (after = emulations()) < 0)
		return;
	printf("KVM emulated %.2f instructions per no-op hypercall (insn_emulation, %ld calls)\n",
	       (double)(after - before) / l.count, l.count);
}
