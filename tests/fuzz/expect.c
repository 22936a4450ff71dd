// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * What KVM_HC_HOST_SYSCALL promises for one hypercall (its ABI text:
 * Documentation/virt/kvm/x86/hypercalls.rst), and the checks that it kept
 * the promise. The status, in the ABI's order:
 *
 *   1. -KVM_EPERM       from guest CPL 3, whatever else is wrong
 *   2. -KVM_ENOSYS      the VM did not enable KVM_CAP_X86_HOST_SYSCALL
 *   3. -KVM_EPERM       not 64-bit, nested, protected state (not made here)
 *   4. -KVM_EFAULT      a field KVM reads (r10 to rip, bytes 56 to 135)
 *                       cannot be read, or rax (80 to 87) cannot be written
 *   5. -KVM_EPERM       the number is not one of 0..335, 424..462 but the
 *                       25 refused calls
 *   6. -KVM_EOPNOTSUPP  the thread's system calls are watched (here: once
 *                       a call of the batch turned syscall user dispatch on)
 *   7. 0                the call ran: its result in the struct's rax
 *
 * Checked besides the status: no byte changed around the struct, nor in it
 * but its rax and only once the call ran; nothing in the op's buffer page
 * unless the call ran, then only from where its pointers point; the result
 * of calls that can be compared with the same call made natively by the
 * child right after (with the bytes they stored); and, for an ioctl on a
 * KVM fd that reaches KVM, -EBUSY (the thread has a vCPU loaded).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "fuzz.h"
#include "hypercall.h"
#include "minivm.h"

#include <linux/kvm.h>

#ifndef KVM_EOPNOTSUPP
#define KVM_EOPNOTSUPP	95
#endif

#define PR_SET_SYSCALL_USER_DISPATCH	59
#define PR_SYS_DISPATCH_ON		1

/* The classes, by name: for the counts and the failures. */
const char *const target_names[T_COUNT] = {
	"valid", "NULL", "kernel", "non-canonical", "read-only", "unmapped",
	"straddling", "end of user space", "guest-physical", "another VM's",
};
const char *const vm_names[VM_COUNT] = { "capable", "incapable", "ring 3" };
const char *const nclass_names[N_COUNT] = {
	"call", "call with high bits", "refused", "336..423", "past 462", "negative", "x32",
};
const char *const ptr_names[P_COUNT] = {
	"buffer", "buffer end", "NULL", "kernel", "non-canonical", "read-only",
	"unmapped", "VMM-only", "guest-only",
};
const char *const fd_names[FD_COUNT] = {
	"/dev/kvm", "VM", "vCPU of another VM", "io_uring", "perf event", "userfaultfd",
	"pidfd", "eventfd", "timerfd", "signalfd", "epoll", "pipe read", "pipe write",
	"unix socket", "inet socket", "memfd", "file", "directory", "/dev/null",
	"/dev/zero", "inotify", "stdio", "closed", "huge", "negative", "own VM",
};

/* The refused calls: they act on the user-mode return path, the thread's life, the machine. */
static bool refused(int nr)
{
	switch (nr) {
	case __NR_clone: case __NR_clone3: case __NR_fork: case __NR_vfork:
	case __NR_execve: case __NR_execveat: case __NR_exit: case __NR_exit_group:
	case __NR_rt_sigreturn: case __NR_restart_syscall: case __NR_pause:
	case __NR_rt_sigsuspend: case __NR_sigaltstack: case __NR_arch_prctl:
	case __NR_iopl: case __NR_ioperm: case __NR_modify_ldt:
	case __NR_set_thread_area: case 335 /* uretprobe */: case __NR_reboot:
	case __NR_kexec_load: case __NR_kexec_file_load: case __NR_init_module:
	case __NR_finit_module: case __NR_delete_module:
		return true;
	}
	return false;
}

/* The number is the low 32 bits of rax, as a signed int. */
bool abi_allowed(long rax)
{
	int nr = (int)rax;

	return ((nr >= 0 && nr <= 335) || (nr >= 424 && nr <= 462)) && !refused(nr);
}

static bool page_readable(int prot)
{
	return prot != PROT_NONE_;
}

/* Byte @k of the struct, on the first of its two pages or the second. */
static int prot_at(const struct op *op, size_t k)
{
	return (int)k < op->split ? op->prot[0] : op->prot[1];
}

/* Step 4: the struct cannot be used as it is placed. */
static bool struct_faults(const struct op *op)
{
	switch (op->target) {
	case T_VALID:
		return false;
	case T_READ_ONLY:
	case T_UNMAPPED:
	case T_STRADDLE:
		break;
	default:
		return true;	/* not user memory, or not this process's */
	}
	for (size_t k = 0; k < STRUCT_SIZE; k++) {
		bool read = k >= offsetof(struct pt_regs, r10) && k < offsetof(struct pt_regs, cs);
		bool write = k >= AX && k < AX + 8;

		if ((read && !page_readable(prot_at(op, k))) || (write && prot_at(op, k) != PROT_RW_))
			return true;
	}
	return false;
}

static long expected_status(const struct op *op, bool watched)
{
	if (op->vm == VM_RING3)
		return -KVM_EPERM;
	if (op->vm == VM_INCAPABLE)
		return -KVM_ENOSYS;
	if (struct_faults(op))
		return -KVM_EFAULT;
	if (!abi_allowed(op->nr))
		return -KVM_EPERM;
	if (watched)
		return -KVM_EOPNOTSUPP;
	return 0;
}

/* The call turned syscall user dispatch on: the thread's later calls are watched. */
static bool turns_watching_on(const struct op *op, long result)
{
	return (int)op->nr == __NR_prctl && op->args[0] == PR_SET_SYSCALL_USER_DISPATCH &&
	       op->args[1] == PR_SYS_DISPATCH_ON && result == 0;
}

/*
 * The commands the VFS answers itself for a KVM fd (a character device or
 * an anonymous inode), before KVM's handler: fs/ioctl.c's do_vfs_ioctl().
 * FS_IOC_GETFLAGS, SETFLAGS, FSGETXATTR and FSSETXATTR go on to the
 * handler only if the file system has no file attributes and their
 * argument could be read: left out too.
 */
static bool vfs_ioctl_cmd(unsigned int cmd)
{
	switch (cmd) {
	case 0x5451: /* FIOCLEX */ case 0x5450: /* FIONCLEX */ case 0x5421: /* FIONBIO */
	case 0x5452: /* FIOASYNC */ case 0x5460: /* FIOQSIZE */ case 0xc0045877: /* FIFREEZE */
	case 0xc0045878: /* FITHAW */ case 0xc020660b: /* FS_IOC_FIEMAP */ case 2: /* FIGETBSZ */
	case 0x40049409: /* FICLONE */ case 0x4020940d: /* FICLONERANGE */
	case 0xc0189436: /* FIDEDUPERANGE */ case 0x80111500: /* FS_IOC_GETFSUUID */
	case 0x80811501: /* FS_IOC_GETFSSYSFSPATH */ case 0x80086601: /* FS_IOC_GETFLAGS */
	case 0x40086602: /* FS_IOC_SETFLAGS */ case 0x801c581f: /* FS_IOC_FSGETXATTR */
	case 0x401c5820: /* FS_IOC_FSSETXATTR */
		return true;
	}
	return false;
}

/*
 * What an ioctl on a KVM fd must return from a thread with a vCPU loaded,
 * once it reaches KVM's handler: -EBUSY; a vCPU fd refuses a command of
 * another type than KVM's first (-EINVAL). 1 if the VFS answers it.
 */
static long kvm_ioctl_result(int fd_kind, unsigned int cmd)
{
	if (vfs_ioctl_cmd(cmd))
		return 1;
	if (fd_kind == KIND_KVM_VCPU && ((cmd >> 8) & 0xff) != KVMIO)
		return -EINVAL;
	return -EBUSY;
}

static const char *status_name(long status)
{
	switch (status) {
	case 0: return "ran";
	case -KVM_EPERM: return "-KVM_EPERM";
	case -KVM_ENOSYS: return "-KVM_ENOSYS";
	case -KVM_EFAULT: return "-KVM_EFAULT";
	case -KVM_EOPNOTSUPP: return "-KVM_EOPNOTSUPP";
	}
	return "?";
}

void fail(const struct op *op, const char *what, long got, long want)
{
	int i = op - f.ops;

	f.failures++;
	fprintf(stderr, "FAIL seed %" PRIu64 " batch %ld op %d: %s: got %ld (%#lx), want %ld (%#lx);"
		" %s (nr %#lx) (%#lx, %#lx, %#lx, %#lx, %#lx, %#lx), rbx %s %#" PRIx64 ", %s VM\n",
		f.seed, f.batch, i, what, got, got, want, want, op->sc ? op->sc->name : "no call",
		op->nr, op->args[0], op->args[1], op->args[2], op->args[3], op->args[4], op->args[5],
		target_names[op->target], op->rbx, vm_names[op->vm]);
}

/* CMP_BUFFER calls: where and how many bytes the call stores. */
static void stored_span(const struct op *op, const uint8_t **at, long *len)
{
	int which = (int)op->nr == __NR_uname || (int)op->nr == __NR_getcwd ? 0 : 1;
	const uint8_t *p = (const uint8_t *)op->args[which];

	long most = 16;		/* getrlimit's rlimit, clock_getres's timespec */

	*at = NULL;
	*len = 0;
	if (op->ptr_cls[which] != P_BUFFER && op->ptr_cls[which] != P_BUFFER_END)
		return;
	if ((int)op->nr == __NR_uname)
		most = sizeof(struct utsname);
	else if ((int)op->nr == __NR_getcwd)
		most = op->args[1];
	*at = p;
	*len = op->buf + PAGE - p;	/* the guard page stops the call there */
	if ((unsigned long)most < (unsigned long)*len)
		*len = most;
}

/* The struct's area: canaries, and the struct as made but its rax once it ran. */
static void check_area(const struct op *op, bool rax_may_change)
{
	size_t at = op->placed - op->area;

	for (int k = 0; k < op->area_size; k++) {
		bool in_struct = (size_t)k >= at && (size_t)k < at + STRUCT_SIZE;
		uint8_t want = in_struct ? op->image[k - at] : CANARY;
		bool rax = in_struct && k - at >= AX && k - at < AX + 8;

		if (op->area[k] != want && !(rax && rax_may_change)) {
			fail(op, in_struct ? "struct byte changed at offset" : "byte changed near the struct, offset",
			     in_struct ? (long)(k - at) : (long)k - (long)at, want);
			return;
		}
	}
}

/*
 * The buffer page against its copy as made: changed at most in [from, to),
 * where the call may store (nowhere if it did not run).
 */
static void check_buffer(const struct op *op, const uint8_t *from, const uint8_t *to)
{
	const uint8_t *made = f.shadow[op - f.ops];

	for (size_t k = 0; k < PAGE; k++) {
		char what[64];

		if ((op->buf + k >= from && op->buf + k < to) || op->buf[k] == made[k])
			continue;
		snprintf(what, sizeof(what), "buffer byte changed at offset %zu", k);
		fail(op, what, op->buf[k], made[k]);
		return;
	}
}

static void check_result(const struct op *op, const struct outcome *out, long result)
{
	if (out->native && !out->eintr) {
		f.n.compared++;
		if (result != out->native_result)
			fail(op, "result against native", result, out->native_result);
		else if (!out->native_same_bytes)
			fail(op, "bytes stored against native's", 0, 0);
	}
	if (out->has_fd_kind && out->fd_kind > KIND_OTHER && !out->eintr) {
		long want = kvm_ioctl_result(out->fd_kind, op->args[1]);

		if (want == 1)
			return;
		f.n.kvm_ioctl[out->fd_kind]++;
		if (result != want)
			fail(op, "ioctl on a KVM fd", result, want);
	}
}

static void count(const struct op *op, long status)
{
	struct counts *n = &f.n;

	n->reached++;
	n->per_nclass[op->nclass]++;
	n->per_target[op->target]++;
	n->per_vm[op->vm]++;
	if (op->sc)
		n->per_nr[op->sc->nr]++;
	for (int k = 0; k < 6; k++) {
		if (op->fd_cls[k] >= 0)
			n->per_fd[op->fd_cls[k]]++;
		if (op->ptr_cls[k] >= 0)
			n->per_ptr[op->ptr_cls[k]]++;
	}
	n->ran += status == 0;
	n->efault += status == -KVM_EFAULT;
	n->eperm += status == -KVM_EPERM;
	n->enosys += status == -KVM_ENOSYS;
	n->eopnotsupp += status == -KVM_EOPNOTSUPP;
}

/*
 * Op @i as its child left it; *@watched says whether an earlier call of
 * the batch watches the thread's calls, and is updated. False if the op
 * was not reached.
 */
bool check_op(int i, const struct outcome *out, bool *watched)
{
	const struct op *op = &f.ops[i];
	long want = expected_status(op, *watched), result = 0;
	bool ran = out->status == 0 && want == 0;

	if (out->status == (long)STATUS_NOT_RUN) {
		/* In flight when the child died, it may have run in part; else it did not. */
		if (op->placed)
			check_area(op, out->in_flight);
		check_buffer(op, op->buf + (out->in_flight ? BUF_HEAD : PAGE), op->buf + PAGE);
		return false;
	}
	count(op, out->status);
	if (out->status != want) {
		char what[64];

		snprintf(what, sizeof(what), "status (%s, want %s)", status_name(out->status),
			 status_name(want));
		fail(op, what, out->status, want);
	}
	if (op->placed)
		check_area(op, ran);
	if (!ran) {
		check_buffer(op, op->buf, op->buf);
		return true;
	}
	memcpy(&result, op->placed + AX, 8);
	if (op->sc && op->sc->cmp == CMP_BUFFER) {
		const uint8_t *at;
		long len;

		stored_span(op, &at, &len);
		check_buffer(op, at, at + len);
	} else {
		check_buffer(op, op->buf + BUF_HEAD, op->buf + PAGE);
	}
	/* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK: never the guest's */
	if (result == -512 || result == -513 || result == -514 || result == -516)
		fail(op, "a restart value reached the guest", result, 0);
	if (result >= 0 || result > -ERRNO_MAX)
		f.n.errors[result >= 0 ? 0 : -result]++;
	else
		f.n.odd_results++;
	for (int k = 0; k < 6 && result >= 0; k++) {
		if (op->fd_cls[k] >= 0)
			f.n.per_fd_ok[op->fd_cls[k]]++;
	}
	check_result(op, out, result);
	f.n.interrupted += out->eintr;
	if (turns_watching_on(op, result))
		*watched = true;
	return true;
}
