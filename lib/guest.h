/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * What the guest side (entry.S) and the host side of libhostcall agree on:
 * the I/O ports by which the guest stops, the selectors of the GDT, and the
 * layouts the guest builds on its stack. Included by C and assembly.
 */
#ifndef HOSTCALL_GUEST_H
#define HOSTCALL_GUEST_H

/*
 * OUT to these ports ends KVM_RUN; rbx then points to the data:
 *   DONE       fn returned; its result is in rax
 *   SYSCALL    a struct pt_regs holding a call the host thread must make;
 *              rax is the hypercall's status (KVM_HC_HOST_SYSCALL in exit mode)
 *   EXCEPTION  a struct hc_exception_frame; resumed only if it was resolved
 *   REMAPPED   hc_vm_remapped(): the page table entries of [rbx, rcx) go if
 *              rdx is the vCPU's VM; rax 0, or -EINVAL
 */
#define HC_PORT_DONE		0x10
#define HC_PORT_SYSCALL		0x11
#define HC_PORT_EXCEPTION	0x12
#define HC_PORT_REMAPPED	0x13

#define HC_SEL_CODE	0x08
#define HC_SEL_DATA	0x10
#define HC_SEL_TSS	0x18
/* Ring 3, for hc_user_run(): iretq loads them with RPL 3. */
#define HC_SEL_USER_DATA	0x30
#define HC_SEL_USER_CODE	0x38

/* x86-64 struct pt_regs (<asm/ptrace.h>): the fields the guest fills. */
#define HC_PT_BX	40
#define HC_PT_R10	56
#define HC_PT_R9	64
#define HC_PT_R8	72
#define HC_PT_AX	80
#define HC_PT_DX	96
#define HC_PT_SI	104
#define HC_PT_DI	112
#define HC_PT_IP	128
#define HC_PT_SIZE	168

/*
 * struct hc_user_frame: the registers of struct hc_user_regs (hostcall.h),
 * then what ring 0 keeps while ring 3 runs and what ring 3's exit leaves.
 */
#define HC_UF_RAX	0
#define HC_UF_RBX	8
#define HC_UF_RCX	16
#define HC_UF_RDX	24
#define HC_UF_RSI	32
#define HC_UF_RDI	40
#define HC_UF_RBP	48
#define HC_UF_RSP	56
#define HC_UF_R8	64
#define HC_UF_R9	72
#define HC_UF_R10	80
#define HC_UF_R11	88
#define HC_UF_R12	96
#define HC_UF_R13	104
#define HC_UF_R14	112
#define HC_UF_R15	120
#define HC_UF_RIP	128
#define HC_UF_RFLAGS	136
#define HC_UF_FS	144
#define HC_UF_GS	152
#define HC_UF_KERNEL_RSP	160
#define HC_UF_KERNEL_FS	168
#define HC_UF_KERNEL_GS	176
#define HC_UF_VECTOR	184
#define HC_UF_ERROR	192
#define HC_UF_CR2	200
#define HC_UF_XSTATE	208
#define HC_UF_KERNEL_MXCSR	216
#define HC_UF_KERNEL_FCW	220

/* XSAVE components ring 3 keeps: x87, SSE, AVX, AVX-512; at most 2.7 KiB. */
#define HC_USER_XSTATE_MASK	0xe7
#define HC_XSTATE_MXCSR		24
#define HC_XSTATE_BV		512

/* hc_user_run()'s results, as hostcall.h has them. */
#define HC_USER_SYSCALL		1
#define HC_USER_EXCEPTION	2
#define HC_USER_INTERRUPT	3

/* RFLAGS.IF: set in ring 3 only, which is how the syscall entry tells it. */
#define HC_RFLAGS_IF	0x200
/* What ring 3 may set in RFLAGS: the arithmetic flags, TF, DF, AC, ID. */
#define HC_USER_RFLAGS	0x240dd5

/* The x86-64 ABI lets a function use 128 bytes below its stack pointer. */
#define HC_RED_ZONE	128

/*
 * Exception stubs are this far apart, vector 0 first; after the 32
 * exceptions, the interrupt by which hc_user_interrupt() stops ring 3.
 */
#define HC_VECTOR_STUB_SIZE	16
#define HC_VECTOR_INTERRUPT	32
#define HC_IDT_VECTORS		33

#ifndef __ASSEMBLER__
#include <stdint.h>

#include "hostcall.h"

/* What the exception stub leaves on its IST stack, lowest address first. */
struct hc_exception_frame {
	uint64_t cr2, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

struct hc_user_frame {
	uint64_t regs[20];	/* struct hc_user_regs up to its xstate */
	uint64_t kernel_rsp, kernel_fs, kernel_gs;
	uint64_t vector, error_code, cr2;
	uint64_t xstate;	/* the regs' xstate: the frame copies the rest only */
	uint32_t kernel_mxcsr;
	uint16_t kernel_fcw;
};

int hc_guest_user_run(struct hc_user_frame *frame);

extern const char hc_guest_text_start[], hc_guest_text_end[];
extern const char hc_guest_call[];
extern const char hc_guest_syscall_vmcall[], hc_guest_syscall_vmmcall[];
extern const char hc_guest_syscall_exit[];
extern const char hc_guest_vector0[];
#endif

#endif /* HOSTCALL_GUEST_H */
