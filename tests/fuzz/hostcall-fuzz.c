// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-fuzz [--seed N] [--count N]: KVM_HC_HOST_SYSCALL with random
 * registers from guest ring 0 (and ring 3), checked against what the ABI
 * promises.
 *
 * Each hypercall gets an rbx drawn from: a valid struct at any alignment,
 * NULL, kernel and non-canonical addresses, an unmapped page, a read-only
 * page, the last bytes before an unmapped page, a struct straddling into a
 * read-only page, the guest-physical address of a valid struct (memory the
 * guest has at that address and the VMM thread does not), a valid struct in
 * the VM of another process; a number drawn from the refused calls, unknown
 * numbers, numbers with high or x32 bits, and cheap calls that cannot hurt
 * the fuzzer (getpid, uname, read, write, close, clock_gettime, fstat,
 * getcwd) with arguments from the same kinds of pointers, fds and lengths.
 * One hypercall in eight goes to a VM without the capability, and one in
 * eighteen comes from guest ring 3 with every other register random.
 *
 * Checked for each: the status is the one the ABI gives for its rbx and
 * number; canary bytes around every struct and buffer are unchanged, so
 * that nothing but the struct's rax and the bytes the call itself stores is
 * ever written; and a call that ran returns what the same call made
 * natively returns. The same seed makes the same hypercalls.
 *
 * Exit status: 0 all held, 1 a check failed (each is printed), 4 the kernel
 * lacks KVM_CAP_X86_HOST_SYSCALL (nothing to fuzz).
 */
#include <errno.h>
#include <fcntl.h>
#include <hostcall.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <asm/ptrace.h>

#include "hypercall.h"
#include "../guest.h"
#include "ring3.h"
/* White-box: the guest-physical address of a struct, from the VM's memslots. */
#include "../../lib/internal.h"


#define PAGE		4096UL
#define BATCH		256
#define SLOT		1024		/* a struct, a buffer, canaries around both */
#define STRUCT_SIZE	sizeof(struct pt_regs)
#define BUF_AT		512		/* the buffer's offset in its slot */
#define BUF_SIZE	448		/* room for struct utsname, canaries after */
#define AX		offsetof(struct pt_regs, rax)
#define CANARY		0xa5
#define NEIGHBOUR_AT	64		/* the struct's offset in the neighbour's page */

/* Where rbx points. */
enum target {
	VALID, NULL_PTR, KERNEL, NONCANONICAL, UNMAPPED, READ_ONLY, BEFORE_HOLE,
	STRADDLE, GUEST_PHYSICAL, OTHER_VM, TARGETS
};

static const char *const target_names[] = {
	"valid", "NULL", "kernel", "non-canonical", "unmapped", "read-only",
	"before a hole", "straddling read-only", "guest-physical", "another VM's",
};

/* Calls a bug in the refusal would let loose on the fuzzer: expect -KVM_EPERM. */
static const long refused[] = {
	SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat,
	SYS_exit, SYS_exit_group, SYS_rt_sigreturn, SYS_restart_syscall, SYS_pause,
	SYS_rt_sigsuspend, SYS_sigaltstack, SYS_arch_prctl, SYS_iopl, SYS_ioperm,
	SYS_modify_ldt, SYS_set_thread_area, 335 /* uretprobe */,
};

struct op {
	uint64_t rbx;
	uint8_t *placed;	/* the struct in the slot (valid, guest-physical), or NULL */
	int target;
	bool capable;		/* the VM has the capability */
	bool ring3;		/* made from guest ring 3 (ring3.c) */
	bool refused;
	long nr;		/* as put in the struct's rax */
	long args[6];
	int buf_len;		/* bytes the call may store in the slot's buffer */
	long status;		/* from the guest */
};

static struct {
	uint64_t seed, state;
	bool amd;
	uint8_t *slots;		/* BATCH slots, rewritten per batch */
	uint8_t *read_only, *hole_before, *straddle;
	struct hc_vm *capable;
	struct ring3 ring3;
	uint8_t *neighbour;	/* a page of structs in another process's VM */
	pid_t neighbour_pid;
	int neighbour_done;	/* closed when the fuzzing ends */
	int devnull, devzero;
	struct op ops[BATCH];
	uint8_t expected[BATCH][STRUCT_SIZE];	/* each struct as made */
	long failures;
	long per_target[TARGETS], ran, efault, eperm, enosys, from_ring3;
} f;

static uint64_t next(void)
{
	/* splitmix64 */
	uint64_t z = (f.state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return next() % n;
}

/* In guest ring 0: the batch's hypercalls for one VM, in order. */
GUEST static long run_batch(void *capable)
{
	for (int i = 0; i < BATCH; i++) {
		if (f.ops[i].capable == (capable != NULL) && !f.ops[i].ring3)
			f.ops[i].status = kvm_hypercall(f.amd, KVM_HC_HOST_SYSCALL,
							(const void *)f.ops[i].rbx);
	}
	return 0;
}

/* The batch's hypercalls from ring 3, every other register random. */
static int run_ring3(void)
{
	for (int i = 0; i < BATCH; i++) {
		struct op *op = &f.ops[i];
		struct kvm_regs regs;
		uint64_t *words = (uint64_t *)&regs;

		if (!op->ring3)
			continue;
		for (size_t k = 0; k < sizeof(regs) / sizeof(*words); k++)
			words[k] = next();
		regs.rbx = op->rbx;
		if (ring3_hypercall(&f.ring3, &regs, &op->status)) {
			fprintf(stderr, "FAIL seed %" PRIu64 ": the ring-3 vCPU did not reach its OUT"
				" (exit reason %u)\n", f.seed, f.ring3.run->exit_reason);
			return -1;
		}
	}
	return 0;
}

static uint8_t *slot(int i)
{
	return f.slots + (size_t)i * SLOT;
}

/* A pointer argument: the slot's buffer, or one of the bad kinds. */
static long pointer(struct op *op, int i, int len)
{
	switch (below(6)) {
	case 0:
		return 0;
	case 1:
		return (long)0xffffffff81000000UL;
	case 2:
		return (long)f.read_only;
	case 3:
		return (long)f.hole_before + PAGE;	/* the hole itself */
	default:
		op->buf_len = len;
		return (long)(slot(i) + BUF_AT);
	}
}

static long fd_arg(void)
{
	static const long fds[] = { -1, 1000, 1 << 30, 0x7fffffff };

	switch (below(3)) {
	case 0:
		return f.devnull;
	case 1:
		return f.devzero;
	default:
		return fds[below(4)];
	}
}

/* A number and its arguments; buf_len set if the call may store into the buffer. */
static void make_call(struct op *op, int i)
{
	long *a = op->args;
	int len = (int)below(BUF_SIZE / 2);

	for (int k = 0; k < 6; k++)
		a[k] = (long)next();
	op->buf_len = 0;
	op->refused = false;
	switch (below(12)) {
	case 0:
		op->nr = refused[below(sizeof(refused) / sizeof(refused[0]))];
		op->refused = true;
		break;
	case 1:	/* unknown: past the table, negative, or x32 */
		op->nr = (long[]){ 1000 + (long)below(100000), -1 - (long)below(1000),
				   0x40000000 | (long)below(600) }[below(3)];
		op->refused = op->nr >= 0 && (op->nr & 0x40000000);
		break;
	case 2:
		op->nr = (long[]){ SYS_getpid, SYS_getppid, SYS_gettid }[below(3)];
		break;
	case 3:
		op->nr = SYS_uname;
		a[0] = pointer(op, i, sizeof(struct utsname));
		break;
	case 4:
		op->nr = SYS_read;
		a[0] = fd_arg();
		a[2] = len;
		a[1] = pointer(op, i, len);
		break;
	case 5:
		op->nr = SYS_write;
		a[0] = fd_arg();
		a[2] = len;
		a[1] = pointer(op, i, 0);
		break;
	case 6:
		op->nr = SYS_close;
		/* never an fd the fuzzer has (close takes an unsigned int) */
		a[0] = (long[]){ -1, 1000 + (long)below(1000), 0x7fffffff }[below(3)];
		break;
	case 7:
		op->nr = SYS_clock_gettime;
		a[0] = (long)below(14) - 2;
		a[1] = pointer(op, i, sizeof(struct timespec));
		break;
	case 8:
		op->nr = SYS_fstat;
		a[0] = fd_arg();
		a[1] = pointer(op, i, sizeof(struct stat));
		break;
	case 9:
		op->nr = SYS_getcwd;
		a[1] = len;
		a[0] = pointer(op, i, len);
		break;
	case 10:	/* a cheap call with the high 32 bits of the number set */
		op->nr = (long)(next() << 32) | SYS_getpid;
		break;
	default:
		op->nr = SYS_getpid;
		break;
	}
}

static void fail(const struct op *op, const char *what, long got, long want)
{
	f.failures++;
	fprintf(stderr, "FAIL seed %" PRIu64 ": %s: got %ld (%#lx), want %ld (%#lx); rbx %s %#" PRIx64
		", nr %#lx (%ld, %ld, %ld), %s VM\n", f.seed, what, got, got, want, want,
		target_names[op->target], op->rbx, op->nr, op->args[0], op->args[1], op->args[2],
		op->ring3 ? "ring 3, capable" : op->capable ? "capable" : "incapable");
}

/* True if any of the pages of [p, p + len) is mapped in this process. */
static bool mapped_here(uint64_t p, size_t len)
{
	for (uint64_t page = p & ~(PAGE - 1); page < p + len; page += PAGE) {
		if (msync((void *)page, PAGE, MS_ASYNC) == 0 || errno != ENOMEM)
			return true;
	}
	return false;
}

/* @p's address in the capable VM's guest-physical space (0 if none, or if it is mapped here). */
static uint64_t guest_physical(const uint8_t *p)
{
	uint64_t hva = (uint64_t)p, window = hva & ~(HC_WINDOW_SIZE - 1);

	for (int w = 0; w < f.capable->nr_windows; w++) {
		uint64_t gpa = f.capable->windows[w].gpa + (hva - window);

		if (f.capable->windows[w].hva == window)
			return mapped_here(gpa, STRUCT_SIZE) ? 0 : gpa;
	}
	return 0;
}

/* The struct for op i: in its slot at any offset that leaves canaries, or at a bad address. */
static void make_op(int i)
{
	struct op *op = &f.ops[i];
	uint8_t *s = slot(i);

	memset(s, CANARY, SLOT);
	op->capable = below(8) != 0;
	op->ring3 = op->capable && below(16) == 0;
	op->target = below(4) ? VALID : 1 + (int)below(TARGETS - 1);
	op->placed = NULL;
	make_call(op, i);
	switch (op->target) {
	case VALID:
	case GUEST_PHYSICAL:
		op->placed = s + 8 + below(BUF_AT - STRUCT_SIZE - 16);
		op->rbx = (uint64_t)op->placed;
		break;
	case NULL_PTR:
		op->rbx = 0;
		break;
	case KERNEL:
		op->rbx = 0xffff888000000000ULL + below(1 << 20);
		break;
	case NONCANONICAL:
		op->rbx = 0x0000800000000000ULL + below(1ULL << 40);
		break;
	case UNMAPPED:
		op->rbx = (uint64_t)f.hole_before + PAGE + below(PAGE - STRUCT_SIZE);
		break;
	case READ_ONLY:
		op->rbx = (uint64_t)f.read_only + below(PAGE - STRUCT_SIZE);
		break;
	case BEFORE_HOLE:
		op->rbx = (uint64_t)f.hole_before + PAGE - 1 - below(STRUCT_SIZE - 1);
		break;
	case STRADDLE:
		op->rbx = (uint64_t)f.straddle + PAGE - 1 - below(STRUCT_SIZE - 1);
		break;
	case OTHER_VM:
		op->rbx = (uint64_t)f.neighbour + NEIGHBOUR_AT;
		break;
	}
	if (op->placed) {
		/* Unaligned: byte copies into the struct's layout. */
		uint8_t *regs = op->placed;
		static const size_t at[6] = {
			offsetof(struct pt_regs, rdi), offsetof(struct pt_regs, rsi),
			offsetof(struct pt_regs, rdx), offsetof(struct pt_regs, r10),
			offsetof(struct pt_regs, r8), offsetof(struct pt_regs, r9),
		};

		memcpy(regs + AX, &op->nr, 8);
		for (int k = 0; k < 6; k++)
			memcpy(regs + at[k], &op->args[k], 8);
		memcpy(regs + offsetof(struct pt_regs, rip), &op->rbx, 8);
		memcpy(f.expected[i], regs, STRUCT_SIZE);
	}
	/* A valid struct there too, as if the hypercall translated addresses. */
	if (op->target == GUEST_PHYSICAL) {
		op->rbx = guest_physical(op->placed);
		if (!op->rbx)
			fail(op, "no guest-physical address unmapped here for the slot", 0, 0);
	}
}

/* What the call returns natively, with its buffer pointer moved to @scratch. */
static long native(const struct op *op, int i, uint8_t *scratch)
{
	long a[6];

	memcpy(a, op->args, sizeof(a));
	for (int k = 0; k < 6; k++) {
		if (a[k] == (long)(slot(i) + BUF_AT))
			a[k] = (long)scratch;
	}
	return syscall(op->nr & 0xffffffff, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static bool deterministic(long nr)
{
	/* Time, and fstat's times, differ between the two calls. */
	return nr != SYS_clock_gettime && nr != SYS_fstat;
}

static void check_op(int i)
{
	struct op *op = &f.ops[i];
	uint8_t *s = slot(i), *regs = op->placed;
	uint8_t scratch[BUF_SIZE];
	long want = 0, result;
	bool ran;

	if (op->ring3)
		want = -KVM_EPERM;	/* first of all, whatever else is wrong */
	else if (!op->capable)
		want = -KVM_ENOSYS;
	else if (op->target != VALID)
		want = -KVM_EFAULT;
	else if (op->refused)
		want = -KVM_EPERM;
	if (op->status != want)
		fail(op, "status", op->status, want);
	ran = op->status == 0 && want == 0;
	f.per_target[op->target]++;
	f.ran += op->status == 0;
	f.efault += op->status == -KVM_EFAULT;
	f.eperm += op->status == -KVM_EPERM;
	f.enosys += op->status == -KVM_ENOSYS;
	f.from_ring3 += op->ring3;

	/* Around the struct and the buffer: canaries only. */
	for (int k = 0; k < SLOT; k++) {
		bool in_struct = regs && s + k >= regs && s + k < regs + STRUCT_SIZE;
		bool in_buf = k >= BUF_AT && k < BUF_AT + op->buf_len;

		if (!in_struct && !in_buf && s[k] != CANARY) {
			fail(op, "canary byte changed at slot offset", k, CANARY);
			break;
		}
	}
	/* In the struct: what make_op() put there, but rax if the call ran. */
	if (regs && memcmp(regs, f.expected[i], STRUCT_SIZE)) {
		for (size_t k = 0; k < STRUCT_SIZE; k++) {
			if (regs[k] != f.expected[i][k] && (!ran || k < AX || k >= AX + 8)) {
				fail(op, "struct byte changed at offset", (long)k, f.expected[i][k]);
				break;
			}
		}
	}
	if (!ran || !deterministic(op->nr & 0xffffffff))
		return;
	memcpy(&result, regs + AX, 8);
	memset(scratch, CANARY, sizeof(scratch));
	want = native(op, i, scratch);
	if (want < 0)
		want = -errno;
	if (result != want)
		fail(op, "result against native", result, want);
	else if (memcmp(s + BUF_AT, scratch, op->buf_len))
		fail(op, "bytes stored against native's", 0, 0);
}

/* The bad places, filled with canaries: a read-only page, and pages before a hole. */
static int setup(void)
{
	uint8_t *m = mmap(NULL, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	f.slots = mmap(NULL, BATCH * SLOT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || f.slots == MAP_FAILED)
		return -1;
	memset(m, CANARY, 6 * PAGE);
	f.read_only = m;			/* page 0 */
	f.hole_before = m + 2 * PAGE;		/* page 2; page 3 is the hole */
	f.straddle = m + 4 * PAGE;		/* page 4, read-only page 5 */
	if (mprotect(f.read_only, PAGE, PROT_READ) || munmap(m + PAGE, PAGE) ||
	    munmap(m + 3 * PAGE, PAGE) || mprotect(m + 5 * PAGE, PAGE, PROT_READ))
		return -1;
	f.devnull = open("/dev/null", O_RDWR);
	f.devzero = open("/dev/zero", O_RDONLY);
	return f.devnull < 0 || f.devzero < 0 ? -1 : 0;
}

/* The bad places are never written: each must still hold canaries only. */
static void check_places(void)
{
	uint8_t *places[] = { f.read_only, f.hole_before, f.straddle, f.straddle + PAGE };

	for (size_t p = 0; p < sizeof(places) / sizeof(places[0]); p++) {
		for (size_t k = 0; k < PAGE; k++) {
			if (places[p][k] != CANARY) {
				f.failures++;
				fprintf(stderr, "FAIL seed %" PRIu64 ": byte %zu of bad place %zu written\n",
					f.seed, k, p);
				return;
			}
		}
	}
}

/* In guest ring 0: one hypercall on @regs. */
GUEST static long hypercall_on(void *regs)
{
	return kvm_hypercall(f.amd, KVM_HC_HOST_SYSCALL, regs);
}

/* In guest ring 0: a read of each page, so that the VM maps them. */
GUEST static long touch(void *pages)
{
	for (size_t k = 0; k < BATCH * SLOT; k += PAGE)
		(void)*(volatile uint8_t *)((uint8_t *)pages + k);
	return 0;
}

/*
 * The neighbour: a process with its own VM and, at @at, a page this process
 * does not map, holding a getpid struct that its own guest has run. It
 * waits for @done to close, then exits 0 iff no byte of the page changed.
 */
static int neighbour(uint8_t *at, int ready, int done)
{
	uint8_t *page = mmap(at, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	struct pt_regs *regs = (struct pt_regs *)(page + NEIGHBOUR_AT);
	struct hc_vm *vm = hc_vm_create(0);
	uint8_t before[PAGE];
	char c;

	if (page != at || !vm || hc_vm_mode(vm) != HC_MODE_HYPERCALL)
		return 2;
	memset(page, CANARY, PAGE);
	regs->orig_rax = regs->rax = SYS_getpid;
	if (hc_vm_call(vm, hypercall_on, regs) != 0 || (pid_t)regs->rax != getpid())
		return 3;
	memcpy(before, page, PAGE);
	if (write(ready, "y", 1) != 1)
		return 4;
	while (read(done, &c, 1) > 0)
		;
	return memcmp(before, page, PAGE) ? 1 : 0;
}

/* Start the neighbour at a random address that nothing here maps. */
static int neighbour_start(void)
{
	uint8_t *at = (uint8_t *)0x500000000000ULL + below(1 << 20) * PAGE;
	int ready[2], done[2];
	char c;

	if (mapped_here((uint64_t)at, PAGE) || pipe(ready) || pipe(done))
		return -1;
	f.neighbour_pid = fork();
	if (f.neighbour_pid < 0)
		return -1;
	if (f.neighbour_pid == 0) {
		close(ready[0]);
		close(done[1]);
		_exit(neighbour(at, ready[1], done[0]));
	}
	close(ready[1]);
	close(done[0]);
	if (read(ready[0], &c, 1) != 1)
		return -1;
	close(ready[0]);
	f.neighbour = at;
	f.neighbour_done = done[1];
	return 0;
}

/* The neighbour's verdict on its page: 0 if unchanged. */
static void neighbour_check(void)
{
	int status;

	close(f.neighbour_done);
	if (waitpid(f.neighbour_pid, &status, 0) != f.neighbour_pid || status != 0) {
		f.failures++;
		fprintf(stderr, "FAIL seed %" PRIu64 ": another VM's page changed, or its process"
			" failed (wait status %#x)\n", f.seed, status);
	}
}

int main(int argc, char **argv)
{
	struct hc_vm *capable, *incapable;
	long count = 100000, done = 0;
	struct timespec t0, t1;

	f.seed = (uint64_t)time(NULL);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			f.seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtol(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "usage: hostcall-fuzz [--seed N] [--count N]\n");
			return 2;
		}
	}
	f.state = f.seed;
	capable = hc_vm_create(0);
	incapable = hc_vm_create(HC_FORCE_EXIT);
	if (!capable || !incapable) {
		perror("hostcall-fuzz: hc_vm_create");
		return 1;
	}
	if (hc_vm_mode(capable) != HC_MODE_HYPERCALL) {
		printf("hostcall-fuzz: skipped: this kernel has no KVM_CAP_X86_HOST_SYSCALL\n");
		return 4;
	}
	f.amd = cpu_is_amd();
	f.capable = capable;
	if (setup() || hc_vm_call(capable, touch, f.slots) || neighbour_start() ||
	    ring3_init(&f.ring3, f.amd)) {
		perror("hostcall-fuzz: setup");
		return 1;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < count && f.failures < 20) {
		for (int i = 0; i < BATCH; i++)
			make_op(i);
		if (hc_vm_call(capable, run_batch, (void *)1) || hc_vm_call(incapable, run_batch, NULL) ||
		    run_ring3()) {
			fprintf(stderr, "FAIL seed %" PRIu64 ": the guest faulted\n", f.seed);
			return 1;
		}
		for (int i = 0; i < BATCH; i++)
			check_op(i);
		check_places();
		done += BATCH;
	}
	neighbour_check();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("hostcall-fuzz: seed %" PRIu64 ": %ld hypercalls, %ld failed checks, %.1f s\n",
	       f.seed, done, f.failures,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("status: ran %ld, -KVM_EFAULT %ld, -KVM_EPERM %ld, -KVM_ENOSYS %ld; from ring 3 %ld; rbx:",
	       f.ran, f.efault, f.eperm, f.enosys, f.from_ring3);
	for (int t = 0; t < TARGETS; t++)
		printf(" %s %ld%s", target_names[t], f.per_target[t], t + 1 < TARGETS ? "," : "\n");
	hc_vm_destroy(capable);
	hc_vm_destroy(incapable);
	return f.failures ? 1 : 0;
}
