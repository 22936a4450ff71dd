/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * What the files of hostcall-lib-test share: the TAP point machinery, the VM
 * that the points use, the guest functions they all call, and the points that
 * the table in hostcall-lib-test.c names (GUEST: see ../guest.h).
 */
#ifndef HOSTCALL_LIB_TEST_H
#define HOSTCALL_LIB_TEST_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "hostcall.h"
#include "../guest.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define UNUSED		__attribute__((unused))
#define PAGE		4096L
#define SECOND		1000000000L

extern struct hc_vm *vm;
extern int mode;		/* hc_vm_mode(vm) */
extern pid_t main_tid;
extern char sse_skip[96];	/* why the libc points are skipped, if they are */

/* TAP: a point passes if all its EXPECTs hold; a failed one says which, why. */
extern bool point_failed;
extern const char *point_skip;

void expect_eq(int line, const char *what, long got, long want);

#define EXPECT_EQ(got, want)	expect_eq(__LINE__, #got, (long)(got), (long)(want))
#define EXPECT(cond)		expect_eq(__LINE__, #cond, !!(cond), 1)

long ns(const struct timespec *ts);

/* ---- Guest functions ---- */

GUEST long ret_arg(void *arg);

#define GUEST_SYS(...)	hc_vm_call(vm, guest_syscall, (long[7]){ __VA_ARGS__ })
#define NATIVE_SYS(...)	guest_syscall((long[7]){ __VA_ARGS__ })

/* In assembly, for exact RIPs: each *_insn label is the faulting instruction. */
long read_at(void *p), write_at(void *p), divide(void *divisor), do_ud2(void *);
long fs_word(void *), gs_word(void *), frame(void *);
long port_out(void *), port_in(void *), port_outsb(void *), port_insb(void *), do_hlt(void *);
extern const char read_insn[], write_insn[], div_insn[], ud2_insn[];

/* hc_vm_call(v) in a guest function of vm: fn runs in the guest, on the caller's stack. */
void expect_nested(struct hc_vm *v);

/* ---- The points, in syscalls.c, faults.c and user.c ---- */

/* syscalls.c */
void test_mode_auto(void), test_mode_env(void), test_force_exit(void),
	test_bad_flags(void), test_bogus_env(void), test_in_guest(void),
	test_return_values(void), test_nested(void), test_ids(void), test_pipe(void),
	test_file(void), test_errors(void), test_uname(void), test_clock_syscall(void),
	test_mmap(void), test_brk(void), test_arch_prctl(void), test_refused(void),
	test_unknown(void), test_traced(void), test_sse_probe(void), test_printf(void), test_malloc(void),
	test_fread(void), test_libc_clock(void);

/* faults.c */
void test_fault_unmapped(void), test_fault_read_only(void), test_fault_stale_unmap(void),
	test_fault_stale_protect(void), test_fault_addresses(void), test_fault_ud2(void),
	test_fault_divide(void), test_kvm_stops(void), test_signal_timer(void),
	test_signal_thread(void), test_read_restart(void), test_read_no_restart(void),
	test_read_hc_eintr(void), test_pause(void), test_threads(void), test_thread_reuse(void),
	test_vcpu_fd(void),
	test_destroy_create(void), test_two_vms(void), test_nested_other(void);

/* user.c */
void test_user_host(void), test_user_set(void), test_user_probe(void), test_user_syscall(void),
	test_user_resume(void), test_user_ud2(void), test_user_outside(void),
	test_user_privileged(void), test_user_read_only(void), test_user_fresh_page(void),
	test_user_bases(void), test_user_xstate(void), test_user_noncanonical(void),
	test_user_nx(void), test_user_nx_remapped(void), test_user_nx_other_vcpu(void),
	test_user_interrupt(void);

#endif /* HOSTCALL_LIB_TEST_H */
