/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/* hostcall-fuzz's hypercalls from guest ring 3 (ring3.c). */
#ifndef HOSTCALL_FUZZ_RING3_H
#define HOSTCALL_FUZZ_RING3_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

/* A VM with the capability and one vCPU in ring 3. */
struct ring3 {
	int vm_fd, vcpu_fd;
	uint8_t *mem;
	struct kvm_run *run;
};

/* 0, or -1 with errno set. The vendor decides the hypercall instruction. */
int ring3_init(struct ring3 *r, bool amd);

/*
 * KVM_HC_HOST_SYSCALL from ring 3 with @regs (rax, rip and rflags are set
 * here): 0 with the status in *@status; -errno if an ioctl failed; 1 if the
 * vCPU stopped anywhere but at its OUT (r->run->exit_reason says why).
 */
long ring3_hypercall(struct ring3 *r, struct kvm_regs *regs, long *status);

#endif
