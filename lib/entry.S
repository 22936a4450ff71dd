/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The code libhostcall runs in guest ring 0 besides the caller's own: the
 * trampoline that calls fn, the entry of the syscall instruction (MSR_LSTAR)
 * and the exception stubs (IDT). The host maps these pages into the guest
 * before anything runs, so none of this can page-fault.
 */
#include "guest.h"

	.section .note.GNU-stack, "", @progbits

	.text
	.balign 4096
	.globl hc_guest_text_start
	.hidden hc_guest_text_start
hc_guest_text_start:

/* hc_vm_call() starts the vCPU here: rsi = fn, rdi = arg, rsp = its stack. */
	.globl hc_guest_call
	.hidden hc_guest_call
hc_guest_call:
	call *%rsi
	out %al, $HC_PORT_DONE
	ud2

/*
 * The syscall instruction in guest ring 0 lands here with the return address
 * in rcx and the flags in r11, on the caller's stack. The call goes into a
 * struct pt_regs below the caller's red zone; then \insn asks KVM to make it
 * (status 0: done, result in the struct). Without \insn (exit mode), or if
 * KVM refused it, the host thread makes it on the exit that the OUT causes.
 * Returns as sysret would, but to ring 0: rax = result, rcx and r11 as the
 * syscall instruction left them, everything else preserved.
 */
.macro SYSCALL_ENTRY name, insn
	.globl \name
	.hidden \name
\name:
	sub $(HC_RED_ZONE + HC_PT_SIZE), %rsp
	mov %rax, HC_PT_AX(%rsp)
	mov %rdi, HC_PT_DI(%rsp)
	mov %rsi, HC_PT_SI(%rsp)
	mov %rdx, HC_PT_DX(%rsp)
	mov %r10, HC_PT_R10(%rsp)
	mov %r8, HC_PT_R8(%rsp)
	mov %r9, HC_PT_R9(%rsp)
	mov %rcx, HC_PT_IP(%rsp)
	mov %rbx, HC_PT_BX(%rsp)
	mov %rsp, %rbx
	mov $HC_KVM_HC_HOST_SYSCALL, %eax
	\insn
	test %rax, %rax
	jz 1f
	out %al, $HC_PORT_SYSCALL
1:	mov HC_PT_AX(%rsp), %rax
	mov HC_PT_BX(%rsp), %rbx
	/* The flags are in r11 still: KVM writes rax only. */
	push %r11
	popfq
	lea (HC_RED_ZONE + HC_PT_SIZE)(%rsp), %rsp
	jmp *%rcx
.endm

	SYSCALL_ENTRY hc_guest_syscall_vmcall, vmcall
	SYSCALL_ENTRY hc_guest_syscall_vmmcall, vmmcall
	SYSCALL_ENTRY hc_guest_syscall_exit

/*
 * Exceptions, on the vCPU's IST stack: one stub per vector, each pushing an
 * error code where the CPU does not, then the vector. The host resolves a
 * page fault on memory the process has (and resumes here) or ends the call.
 */
	.balign HC_VECTOR_STUB_SIZE
	.globl hc_guest_vector0
	.hidden hc_guest_vector0
hc_guest_vector0:
	vector = 0
	.rept HC_EXCEPTION_VECTORS
	.balign HC_VECTOR_STUB_SIZE
	.if vector != 8 && (vector < 10 || vector > 14) && vector != 17 && vector != 21 && vector != 29 && vector != 30
	pushq $0
	.endif
	pushq $vector
	jmp exception_common
	vector = vector + 1
	.endr

exception_common:
	push %rax
	push %rbx
	mov %cr2, %rax
	push %rax
	mov %rsp, %rbx
	out %al, $HC_PORT_EXCEPTION
	/* Resolved: the entry may have been cached while it was not present. */
	invlpg (%rax)
	add $8, %rsp
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

	.globl hc_guest_text_end
	.hidden hc_guest_text_end
hc_guest_text_end:
