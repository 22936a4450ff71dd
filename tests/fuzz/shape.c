// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The arguments args.c drew, made harmless where the child's namespaces
 * cannot make them so, or where they would only end its batch early. Each
 * case says why.
 *
 * Signals need none: in its PID namespace the child sees no other process,
 * and kill(-1) or a process group reaches only itself, its session's
 * leader; without one, it runs as its user namespace's root mapped to an
 * unprivileged uid, or as nobody without a user namespace, which may not
 * signal, trace, renice or reschedule the lab's processes. Likewise the
 * host name, mounts, swap, the clock and modules: in namespaces it owns,
 * or refused for want of the capability outside.
 */
#include <sched.h>
#include <string.h>

#include "fuzz.h"

static bool user_range(long start)
{
	return (uint64_t)start < USER_END;
}

void shape(struct op *op)
{
	const char *name = op->sc->name;
	uint8_t *end = f.a.scratch + f.a.scratch_size;
	uint64_t most = UINT64_MAX;
	long *a = op->args;

	/*
	 * A memory range in user space ends with the child's scratch memory,
	 * or a page after its start elsewhere: the child's text, stack,
	 * guest memory and the arena (the structs and buffers the parent
	 * checks) are never unmapped, remapped, protected or advised away.
	 */
	for (int k = 0; k < 6; k++) {
		uint8_t *at = (uint8_t *)a[k];

		if (op->sc->args[k] != A_ADDR || !user_range(a[k]))
			continue;
		if (at >= f.a.scratch && at < end && (uint64_t)(end - at) < most)
			most = end - at;
		else if (at < f.a.scratch || at >= end)
			most = most < PAGE ? most : PAGE;
	}
	for (int k = 0; k < 6; k++) {
		if (op->sc->args[k] == A_ALEN && (uint64_t)a[k] > most)
			a[k] = most;
	}
	/*
	 * The kernel walks the robust futex list when the child exits, after
	 * its batch, and writes where the list's entries and offset say: a
	 * list in the child's scratch memory, not in an op's buffer page.
	 */
	if (!strcmp(name, "set_robust_list"))
		a[0] = (long)(f.a.scratch + below(f.a.scratch_size / 2));
	/* Nor does shmat() replace them (SHM_REMAP): a segment may be larger than that. */
	if (!strcmp(name, "shmat"))
		a[2] &= ~0x4000L;
	/*
	 * The child's report pipe and /dev/kvm stay open, and its own VM and
	 * vCPUs unless drawn as such (their numbers follow).
	 */
	if (!strcmp(name, "close_range") && (unsigned int)a[1] >= FD_INFRA_BASE &&
	    (unsigned int)a[0] < FD_INFRA_END) {
		if (op->fd_cls[1] != FD_OWN_VM)
			a[1] = FD_INFRA_BASE - 1;
		else if ((unsigned int)a[0] < FD_OWN_VM_FIRST)
			a[0] = FD_OWN_VM_FIRST;
	}
	/*
	 * Without a user namespace the child runs as nobody, without
	 * capabilities; the clock is not handed to it all the same.
	 */
	if (!(f.clone_flags & CLONE_NEWUSER) &&
	    (!strcmp(name, "settimeofday") || !strcmp(name, "clock_settime")))
		a[name[0] == 's' ? 0 : 1] = 0;
	/*
	 * MS_MANDLOCK is ignored, with a notice that begins "WARNING:", as a
	 * kernel warning does: lab/run would take it for one.
	 */
	if (!strcmp(name, "mount"))
		a[3] &= ~0x40L;
	/*
	 * A protocol the lab's kernel lacks makes it run modprobe, a process,
	 * which costs as much as a batch: mostly the family's default.
	 */
	if ((!strcmp(name, "socket") || !strcmp(name, "socketpair")) && below(8))
		a[2] = 0;
}
