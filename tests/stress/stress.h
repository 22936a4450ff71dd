/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * What the files of hostcall-stress share: the checks a case makes, the
 * options every case reads, helpers on threads and KVM, and the guest
 * functions that more than one file calls. Each case runs in a child of its
 * own (hostcall-stress.c), so the globals a file keeps start fresh per case.
 *
 *   hostcall-stress.c  main, the cases' table and the child that bounds each
 *   memslots.c         regions in GiB windows of their own, a memslot of our
 *                      own; memslots changed while hostcalls block
 *   load.c             threads making hostcalls while others churn memslots,
 *                      fds, signals and VMs
 *   lifetime.c         a process killed in hostcalls; the struct unmapped or
 *                      made read-only while its call runs
 *   isolation.c        another process, two VMs, dropped privileges, a VM
 *                      without the capability
 */
#ifndef HOSTCALL_STRESS_H
#define HOSTCALL_STRESS_H

#include <asm/ptrace.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hostcall.h"
#include "../guest.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PAGE		4096L
#define MSEC		1000000L

/* Options: seconds each load runs; the seed of the random choices. */
extern double load_seconds;
extern uint64_t seed;

/* The CPU's vendor: which instruction a raw hypercall takes. */
extern bool amd;

/* A check of the running case: a failed one prints why and fails the case. */
extern bool case_failed;
void check_eq(int line, const char *what, long got, long want);
#define CHECK_EQ(got, want)	check_eq(__LINE__, #got, (long)(got), (long)(want))
#define CHECK(cond)		check_eq(__LINE__, #cond, !!(cond), 1)

/* Fail the case with a message (printed as a TAP comment). */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What the case is doing: printed if it is still at it at the deadline. */
void set_step(const char *step);

uint64_t random_below(uint64_t n);	/* thread-safe, seeded */
long now_ns(void);
void sleep_ns(long ns);

/* Thread @tid of process @pid sleeps in the kernel (state S or D). */
bool thread_sleeps(pid_t pid, pid_t tid);
/* Wait until it does; the case's deadline bounds the wait. */
void wait_sleeping(pid_t pid, pid_t tid);

/* The one KVM VM file descriptor of this process, or -1 (not exactly one). */
int only_vm_fd(void);

/* ---- Guest functions, also callable natively ---- */

#define GUEST_SYS(vm, ...)	hc_vm_call(vm, guest_syscall, (long[7]){ __VA_ARGS__ })
#define NATIVE_SYS(...)		guest_syscall((long[7]){ __VA_ARGS__ })

/*
 * KVM_HC_HOST_SYSCALL on the struct of a raw call, from the guest: its
 * status. @entered is set just before the hypercall, for a thread that waits
 * for the call to block.
 */
struct raw_call {
	struct pt_regs *regs;
	int entered;
};
GUEST long guest_raw_hostcall(void *call);

/* The word at @addr. */
GUEST long guest_read_word(void *addr);

/* A guest of @vm reading @addr, which this process has not mapped: a #PF there ends the call. */
void expect_page_fault(struct hc_vm *vm, const void *addr);

/* A struct pt_regs as the syscall instruction would leave it for @nr. */
void fill_regs(struct pt_regs *regs, long nr, long a0, long a1, long a2);

/* ---- memslots.c ---- */

/* GiB windows of addresses nothing else in the process uses; 2 MiB at the start of each. */
#define WINDOWS		((char *)0x300000000000UL)
#define GIB		(1UL << 30)
#define REGION_SIZE	(2UL << 20)

/* A region: word 0 of its page i holds first + i. */
struct region {
	unsigned long *words;
	unsigned long first;
};

/* Map window @window's region, have a guest of @vm fill it: its first touch adds a memslot. */
struct region fill_window(struct hc_vm *vm, int window, unsigned long first);
/* The sum of the region's words, read by a guest; what it must be. */
GUEST long guest_sum(void *region);
long region_sum(unsigned long first);

/* Add a memslot of our own over @mem (REGION_SIZE) to the VM of @vm_fd, or delete it (NULL). */
void set_spare_slot(int vm_fd, void *mem);

/* ---- The cases ---- */

/* memslots.c */
void case_memslots_while_blocked(void);

/* load.c */
void case_memslot_churn(void), case_fd_churn(void), case_signals_restart(void),
	case_signals_no_restart(void), case_vm_churn(void), case_everything(void);

/* lifetime.c */
void case_kill_in_hostcall(void), case_struct_unmapped(void), case_struct_read_only(void);

/* isolation.c */
void case_other_process_memory(void), case_other_process_fds(void), case_two_vms(void),
	case_dropped_privileges(void), case_incapable_vm(void);

#endif /* HOSTCALL_STRESS_H */
