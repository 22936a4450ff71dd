// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The mechanisms of a process whose code runs in guest ring 0 (libhostcall),
 * and the native one they are measured against: the same loop of op_once()
 * runs natively, in a VM in hypercall mode, and in a VM forced to the exit
 * path. Each run is timed on the host around hc_vm_call(), which adds one
 * entry and exit of the guest per run of thousands of calls.
 */
#include <errno.h>
#include <stdint.h>

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
	uint32_t ebx, ecx, edx, max;

	if (!ops[op].per_call)
		return -EOPNOTSUPP;
	if (!vm)
		return -ENODEV;
	__asm__("cpuid" : "=a"(max), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0));
	amd = ebx == 0x68747541;	/* "Auth"enticAMD */
	return timed(vm, noop_loop, op, env, warmup, calls);
}
