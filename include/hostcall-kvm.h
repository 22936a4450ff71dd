/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The KVM ABI that the kernel series (kernel/patches) adds, for the
 * project's programs built against system headers that predate it: the
 * hypercall's number, the capability that enables it, and the flag of
 * kvm_run that says a signal interrupted a call left to run again. The
 * values are the series' own (include/uapi/linux/kvm_para.h,
 * include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h); a system
 * header that has them wins. Not installed: libhostcall's users need none
 * of it. Also for assembly.
 */
#ifndef HOSTCALL_KVM_H
#define HOSTCALL_KVM_H

#ifndef __ASSEMBLER__
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#endif

#ifndef KVM_HC_HOST_SYSCALL
#define KVM_HC_HOST_SYSCALL		13
#endif
#ifndef KVM_CAP_X86_HOST_SYSCALL
#define KVM_CAP_X86_HOST_SYSCALL	239
#endif
#ifndef KVM_RUN_X86_HOST_SYSCALL
#define KVM_RUN_X86_HOST_SYSCALL	(1 << 3)
#endif

#endif
