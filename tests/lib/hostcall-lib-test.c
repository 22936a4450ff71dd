// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-lib-test: libhostcall against what include/hostcall.h and
 * lib/syscall.c promise, in the mode hc_vm_create(0) picks (HOSTCALL_MODE=exit
 * tests the exit path). TAP on stdout; exit status 0 iff no point failed.
 * This file runs the points in the order of its table and holds what they
 * all use; syscalls.c, faults.c and user.c (ring 3) hold the points, test.h what is shared.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

struct hc_vm *vm;
int mode;
pid_t main_tid;
char sse_skip[96];

bool point_failed;
const char *point_skip;

void expect_eq(int line, const char *what, long got, long want)
{
	if (got == want)
		return;
	printf("#   line %d: %s is %ld (%#lx), want %ld (%#lx)\n",
	       line, what, got, (unsigned long)got, want, (unsigned long)want);
	point_failed = true;
}

long ns(const struct timespec *ts)
{
	return ts->tv_sec * SECOND + ts->tv_nsec;
}

/* ---- Guest functions ---- */

GUEST long ret_arg(void *arg)
{
	return (long)arg;
}

/* The assembly functions that test.h declares. */
__asm__(".pushsection .text\n"
	".globl read_at, read_insn\n read_at:\n read_insn: mov (%rdi), %rax\n ret\n"
	".globl write_at, write_insn\n write_at:\n write_insn: movq $0x99, (%rdi)\n"
	"	xor %eax, %eax\n ret\n"
	".globl divide, div_insn\n divide: mov $1, %eax\n xor %edx, %edx\n"
	" div_insn: div %rdi\n ret\n"
	".globl do_ud2, ud2_insn\n do_ud2:\n ud2_insn: ud2\n"
	".globl fs_word\n fs_word: mov %fs:0, %rax\n ret\n"
	".globl gs_word\n gs_word: mov %gs:0, %rax\n ret\n"
	".globl frame\n frame: lea 8(%rsp), %rax\n ret\n"
	".globl port_out\n port_out: out %al, $0x99\n ret\n"
	".globl port_in\n port_in: in $0x99, %al\n ret\n"
	".globl port_outsb\n port_outsb: mov %rdi, %rsi\n mov $0x99, %edx\n outsb\n ret\n"
	".globl port_insb\n port_insb: mov $0x99, %edx\n insb\n ret\n"
	".globl do_hlt\n do_hlt: hlt\n ret\n"
	".popsection\n");

#define POINT(fn, desc)	{ fn, desc, false }
#define LIBC(fn, desc)	{ fn, desc, true }

static const struct point {
	void (*run)(void);
	const char *desc;
	bool libc;		/* runs libc in the guest */
} points[] = {
	POINT(test_mode_auto, "auto mode is HYPERCALL iff KVM_CAP_X86_HOST_SYSCALL and not HOSTCALL_MODE=exit"),
	POINT(test_mode_env, "HOSTCALL_MODE unset, empty, auto, exit, hypercall"),
	POINT(test_force_exit, "HC_FORCE_EXIT gives EXIT whatever HOSTCALL_MODE says"),
	POINT(test_bad_flags, "unknown flags: NULL, errno EINVAL"),
	POINT(test_bogus_env, "HOSTCALL_MODE=bogus: NULL, errno EINVAL"),
	POINT(test_in_guest, "hc_in_guest() is 0 on the host, 1 in fn"),
	POINT(test_return_values, "hc_vm_call returns fn's 64-bit value; arg reaches fn"),
	POINT(test_nested, "hc_vm_call in the guest calls fn on the same stack"),
	POINT(test_ids, "getpid, getppid as native; gettid is the calling thread's"),
	POINT(test_pipe, "write to and read from a pipe: counts and bytes"),
	POINT(test_file, "openat, read, close of /proc/version as native; -ENOENT"),
	POINT(test_errors, "close(-1) -EBADF, write from a bad pointer -EFAULT, as native"),
	POINT(test_uname, "uname as native"),
	POINT(test_clock_syscall, "clock_gettime system call within the host's readings"),
	POINT(test_mmap, "mmap in fn, pages touched in fn and read by the host, munmap in fn"),
	POINT(test_brk, "brk grows the host's heap, fn touches it, brk shrinks it"),
	POINT(test_arch_prctl, "arch_prctl: FS base and %fs:0 are the thread's; ARCH_SET_GS is the vCPU's too"),
	POINT(test_refused, "clone, fork, vfork, clone3, rt_sigreturn, iopl, x32: -ENOSYS"),
	POINT(test_unknown, "unknown system call numbers: -ENOSYS as native"),
	POINT(test_traced, "a PTRACE_SYSCALL tracer of the VMM sees the guest's write, as strace -f"),
	POINT(test_sse_probe, "an SSE instruction in fn runs, or KVM stops it and the next call works"),
	LIBC(test_printf, "libc: printf to a dup'd stdout"),
	LIBC(test_malloc, "libc: malloc of 1 MiB, memset, free"),
	LIBC(test_fread, "libc: fopen, fread of /proc/version as native"),
	LIBC(test_libc_clock, "libc: clock_gettime within the host's readings"),
	POINT(test_fault_unmapped, "read of an unmapped page: #PF, exact address and rip"),
	POINT(test_fault_read_only, "write to a PROT_READ page: #PF with W in the error code"),
	POINT(test_fault_stale_unmap, "a page the guest read, unmapped by the host, read again: #PF"),
	POINT(test_fault_stale_protect, "a page the guest wrote, made PROT_READ by the host, written: #PF"),
	POINT(test_fault_addresses, "NULL and kernel address: #PF with it; non-canonical: #GP"),
	POINT(test_fault_ud2, "ud2: #UD at its rip"),
	POINT(test_fault_divide, "divide by zero: #DE at its rip"),
	POINT(test_kvm_stops, "in, out, ins, outs to an unknown port, hlt: HC_FAULT_KVM; the next call works"),
	POINT(test_signal_timer, "SIGALRM while fn spins: handler on the host, fn returns"),
	POINT(test_signal_thread, "SIGUSR1 by tgkill from a thread while fn spins"),
	POINT(test_read_restart, "blocking read, SA_RESTART handler writes the pipe: restarts"),
	POINT(test_read_no_restart, "blocking read, handler without SA_RESTART"),
	POINT(test_read_hc_eintr, "blocking read in a HC_EINTR VM: -EINTR by hypercall, as native by exit"),
	POINT(test_pause, "pause in fn returns -EINTR once a handler ran"),
	POINT(test_threads, "4 threads x 10000 calls on one VM: each sees its own tid"),
	POINT(test_thread_reuse, "threads one after another: each sees its own TLS in fn"),
	POINT(test_vcpu_fd, "a thread's new vCPU: its fd above the VM's, not a lower free one"),
	POINT(test_destroy_create, "hc_vm_destroy, then a new VM works"),
	POINT(test_two_vms, "two VMs in one thread, faults kept apart"),
	POINT(test_nested_other, "hc_vm_call of another VM in the guest calls fn"),
	POINT(test_user_host, "hc_user_run, hc_vm_remapped outside the guest: -EPERM"),
	POINT(test_user_set, "hc_vm_set_user: -EINVAL unaligned, -ENOENT unknown, -ENOSPC 17th range, -EBUSY once the VM has a vCPU"),
	POINT(test_user_probe, "ring 3 makes a system call, or hc_user_run is -ENOTSUP and the ring-3 points skip"),
	POINT(test_user_syscall, "ring 3's syscall: HC_USER_SYSCALL, rax its number, rip past it, rcx = rip, r11 = rflags, the rest as given"),
	POINT(test_user_resume, "resumed with rax the result: ring 3 gets it and makes its next syscall"),
	POINT(test_user_ud2, "ring 3's ud2: #UD at its rip, every register as ring 3 had it"),
	POINT(test_user_outside, "ring 3 reads the test's data or libhostcall's code: #PF with the address, U; ring 3 goes on"),
	POINT(test_user_privileged, "ring 3's hlt: #GP; int $14: #GP for the gate, which is ring 0's, error code as native"),
	POINT(test_user_read_only, "ring 3 writes a PROT_READ page of its range: #PF with W, P and U, the page unchanged"),
	POINT(test_user_fresh_page, "ring 3's first touch of a page nothing touched is resolved: its syscall comes next"),
	POINT(test_user_bases, "fs_base, gs_base: ring 3 reads through them and sets them; ring 0's TLS, errno, GS base kept"),
	POINT(test_user_xstate, "ring 3's xmm0 and MXCSR: in regs.xstate, kept across ring 0's vector code"),
	POINT(test_user_noncanonical, "non-canonical rip, rsp, fs_base or gs_base: -EINVAL"),
	POINT(test_user_nx, "ring 3 jumps into its data page (no PROT_EXEC): #PF with I and U, nothing run"),
	POINT(test_user_nx_remapped, "a page ring 3 ran loses PROT_EXEC (mprotect, hc_vm_remapped in ring 0): its next fetch there is a #PF; hc_vm_remapped of another VM or unaligned: -EINVAL"),
	POINT(test_user_nx_other_vcpu, "another thread's vCPU, in ring 0, takes PROT_EXEC from a page ring 3 ran on this one (mprotect, hc_vm_remapped): ring 3's next fetch there is a #PF"),
	POINT(test_user_interrupt, "hc_user_interrupt from a signal handler: ring 3 spinning, or entered after, stops with HC_USER_INTERRUPT; outside hc_vm_call: -EINVAL"),
};

int main(void)
{
	bool failed = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	main_tid = gettid();
	printf("TAP version 13\n1..%zu\n", ARRAY_SIZE(points));
	vm = hc_vm_create(0);
	if (!vm) {
		printf("Bail out! hc_vm_create(0): %s\n", strerror(errno));
		return 1;
	}
	mode = hc_vm_mode(vm);
	printf("# mode: %s\n", mode == HC_MODE_HYPERCALL ? "hypercall" : "exit");
	for (size_t i = 0; i < ARRAY_SIZE(points); i++) {
		const struct point *p = &points[i];

		point_failed = false;
		point_skip = p->libc && sse_skip[0] ? sse_skip : NULL;
		if (!point_skip)
			p->run();
		failed |= point_failed;
		printf("%sok %zu - %s%s%s\n", point_failed ? "not " : "", i + 1, p->desc,
		       point_skip && !point_failed ? " # SKIP " : "",
		       point_skip && !point_failed ? point_skip : "");
	}
	hc_vm_destroy(vm);
	return failed;
}
