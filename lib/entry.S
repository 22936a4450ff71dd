/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The code libhostcall runs in guest ring 0 besides the caller's own: the
 * trampoline that calls fn, the entry of the syscall instruction (MSR_LSTAR)
 * and the exception stubs (IDT). The host maps these pages into the guest
 * before anything runs, so none of this can page-fault.
 */
#include "guest.h"
#include "hostcall-kvm.h"

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
 * syscall instruction left them, everything else preserved. A call from
 * ring 3 (IF set in the flags it left in r11) goes to hc_user_run()'s
 * caller instead.
 */
.macro SYSCALL_ENTRY name, insn
	.globl \name
	.hidden \name
\name:
	test $HC_RFLAGS_IF, %r11d
	jnz user_syscall
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
	mov $KVM_HC_HOST_SYSCALL, %eax
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
	.rept HC_IDT_VECTORS
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
	/* rax 0: resolved; else ring 3's, for hc_user_run()'s caller. */
	test %rax, %rax
	jnz user_exception
	/* The entry may have been cached while it was not present. */
	mov (%rsp), %rax
	invlpg (%rax)
	add $8, %rsp
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

/*
 * int hc_guest_user_run(struct hc_user_frame *frame): ring 0's side of
 * hc_user_run(). Ring 3 runs with its own FS and GS bases, its vector
 * registers, IF set, and KERNEL_GS_BASE holding @frame, so that the syscall
 * entry and the exception stubs find it with swapgs, whatever ring 3 did to
 * its GS base. Returns HC_USER_SYSCALL or HC_USER_EXCEPTION, with ring 3's
 * registers in the frame.
 */
	.globl hc_guest_user_run
	.hidden hc_guest_user_run
hc_guest_user_run:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, HC_UF_KERNEL_RSP(%rdi)
	rdfsbase %rax
	mov %rax, HC_UF_KERNEL_FS(%rdi)
	rdgsbase %rax
	mov %rax, HC_UF_KERNEL_GS(%rdi)
	wrgsbase %rdi
	swapgs
	mov HC_UF_GS(%rdi), %rax
	wrgsbase %rax
	mov HC_UF_FS(%rdi), %rax
	wrfsbase %rax
	stmxcsr HC_UF_KERNEL_MXCSR(%rdi)
	fnstcw HC_UF_KERNEL_FCW(%rdi)
	mov HC_UF_XSTATE(%rdi), %rcx
	mov $HC_USER_XSTATE_MASK, %eax
	xor %edx, %edx
	xrstor (%rcx)

	pushq $(HC_SEL_USER_DATA | 3)
	pushq HC_UF_RSP(%rdi)
	mov HC_UF_RFLAGS(%rdi), %rax
	and $HC_USER_RFLAGS, %rax
	or $(HC_RFLAGS_IF | 2), %rax
	push %rax
	pushq $(HC_SEL_USER_CODE | 3)
	pushq HC_UF_RIP(%rdi)
	mov HC_UF_RAX(%rdi), %rax
	mov HC_UF_RBX(%rdi), %rbx
	mov HC_UF_RCX(%rdi), %rcx
	mov HC_UF_RDX(%rdi), %rdx
	mov HC_UF_RSI(%rdi), %rsi
	mov HC_UF_RBP(%rdi), %rbp
	mov HC_UF_R8(%rdi), %r8
	mov HC_UF_R9(%rdi), %r9
	mov HC_UF_R10(%rdi), %r10
	mov HC_UF_R11(%rdi), %r11
	mov HC_UF_R12(%rdi), %r12
	mov HC_UF_R13(%rdi), %r13
	mov HC_UF_R14(%rdi), %r14
	mov HC_UF_R15(%rdi), %r15
	mov HC_UF_RDI(%rdi), %rdi
	iretq

/* The registers ring 3 left, but for rax, rbx, rip, rflags and rsp. */
.macro SAVE_USER_REGS
	mov %rcx, %gs:HC_UF_RCX
	mov %rdx, %gs:HC_UF_RDX
	mov %rsi, %gs:HC_UF_RSI
	mov %rdi, %gs:HC_UF_RDI
	mov %rbp, %gs:HC_UF_RBP
	mov %r8, %gs:HC_UF_R8
	mov %r9, %gs:HC_UF_R9
	mov %r10, %gs:HC_UF_R10
	mov %r11, %gs:HC_UF_R11
	mov %r12, %gs:HC_UF_R12
	mov %r13, %gs:HC_UF_R13
	mov %r14, %gs:HC_UF_R14
	mov %r15, %gs:HC_UF_R15
.endm

/* From ring 3's syscall instruction: rcx = its rip, r11 = its flags. */
user_syscall:
	swapgs
	SAVE_USER_REGS
	mov %rax, %gs:HC_UF_RAX
	mov %rbx, %gs:HC_UF_RBX
	mov %rcx, %gs:HC_UF_RIP
	mov %r11, %gs:HC_UF_RFLAGS
	mov %rsp, %gs:HC_UF_RSP
	mov $HC_USER_SYSCALL, %eax
	jmp user_return

/* From an exception stub, on the IST stack: struct hc_exception_frame. */
user_exception:
	swapgs
	SAVE_USER_REGS
	mov 8(%rsp), %rax
	mov %rax, %gs:HC_UF_RBX
	mov 16(%rsp), %rax
	mov %rax, %gs:HC_UF_RAX
	mov (%rsp), %rax
	mov %rax, %gs:HC_UF_CR2
	mov 24(%rsp), %rax
	mov %rax, %gs:HC_UF_VECTOR
	mov 32(%rsp), %rax
	mov %rax, %gs:HC_UF_ERROR
	mov 40(%rsp), %rax
	mov %rax, %gs:HC_UF_RIP
	mov 56(%rsp), %rax
	mov %rax, %gs:HC_UF_RFLAGS
	mov 64(%rsp), %rax
	mov %rax, %gs:HC_UF_RSP
	mov $HC_USER_EXCEPTION, %eax
	jmp user_return

/* GS base = the frame: back to hc_guest_user_run()'s caller with eax. */
user_return:
	mov %eax, %esi
	rdgsbase %rdi
	mov HC_UF_XSTATE(%rdi), %rcx
	mov $HC_USER_XSTATE_MASK, %eax
	xor %edx, %edx
	xsave (%rcx)
	ldmxcsr HC_UF_KERNEL_MXCSR(%rdi)
	fldcw HC_UF_KERNEL_FCW(%rdi)
	mov %esi, %eax
	rdfsbase %rcx
	mov %rcx, HC_UF_FS(%rdi)
	swapgs
	rdgsbase %rcx
	mov %rcx, HC_UF_GS(%rdi)
	mov HC_UF_KERNEL_FS(%rdi), %rcx
	wrfsbase %rcx
	mov HC_UF_KERNEL_GS(%rdi), %rcx
	wrgsbase %rcx
	mov HC_UF_KERNEL_RSP(%rdi), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.globl hc_guest_text_end
	.hidden hc_guest_text_end
hc_guest_text_end:
