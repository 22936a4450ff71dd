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
 */
#define HC_PORT_DONE		0x10
#define HC_PORT_SYSCALL		0x11
#define HC_PORT_EXCEPTION	0x12

#define HC_SEL_CODE	0x08
#define HC_SEL_DATA	0x10
#define HC_SEL_TSS	0x18

#define HC_KVM_HC_HOST_SYSCALL	13

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

/* The x86-64 ABI lets a function use 128 bytes below its stack pointer. */
#define HC_RED_ZONE	128

/* Exception stubs are this far apart, vector 0 first. */
#define HC_VECTOR_STUB_SIZE	16
#define HC_EXCEPTION_VECTORS	32

#ifndef __ASSEMBLER__
#include <stdint.h>

/* What the exception stub leaves on its IST stack, lowest address first. */
struct hc_exception_frame {
	uint64_t cr2, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

extern const char hc_guest_text_start[], hc_guest_text_end[];
extern const char hc_guest_call[];
extern const char hc_guest_syscall_vmcall[], hc_guest_syscall_vmmcall[];
extern const char hc_guest_syscall_exit[];
extern const char hc_guest_vector0[];
#endif

#endif /* HOSTCALL_GUEST_H */
