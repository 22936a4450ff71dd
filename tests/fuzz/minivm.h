/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * hostcall-fuzz's small VMs (minivm.c): one memslot of guest memory that
 * holds their page tables, their code and the lists they work through, so
 * that nothing the fuzzed calls do to the rest of the process stops them.
 */
#ifndef HOSTCALL_FUZZ_MINIVM_H
#define HOSTCALL_FUZZ_MINIVM_H

#include <stdbool.h>
#include <stdint.h>

#include "hostcall-kvm.h"

/*
 * Guest-physical layout. Every address is below 1 MiB, where the VMM
 * process maps nothing (its static text starts at 4 MiB, and its mappings
 * go top-down from the stack): a guest-physical address there is
 * guest-only memory.
 */
#define G_ENTRIES	2048	/* list entries, statuses: a batch's hypercalls */
#define G_PML4		0x0000
#define G_PDPT		0x1000
#define G_PD		0x2000
#define G_CODE		0x3000	/* the ring-0 loop */
#define G_RING3		0x3800	/* ring 3: the hypercall, then an OUT */
#define G_PROGRESS	0x4000	/* hypercalls made, counted by the guest */
#define G_POKED		0x4008	/* set by hostcall-fuzz when it pokes its child */
#define G_LIST		0x5000	/* entries: rbx, then the op's index | EXIT_AFTER */
#define G_STATUS	(G_LIST + 16 * G_ENTRIES)	/* the status of op i at 8 * i */
#define G_STRUCTS	(G_STATUS + 8 * G_ENTRIES)	/* guest-only copies of valid structs */
#define G_STRUCT_SLOT	512
#define G_STRUCT_SLOTS	64
#define G_ONLY		(G_STRUCTS + G_STRUCT_SLOT * G_STRUCT_SLOTS)	/* a page only the guest has */
#define G_SIZE		(G_ONLY + 0x1000)

#define ENTRY_EXIT_AFTER	(1ULL << 32)	/* an OUT to PORT_AFTER follows the hypercall */
#define PORT_DONE	0x10
#define PORT_AFTER	0x11
#define STATUS_NOT_RUN	0x7e57c0de7e57c0deULL

struct minivm {
	int vm_fd, vcpu_fd[2];
	struct kvm_run *run[2];
};

/* What every VM of the run shares: from /dev/kvm, read once. */
struct minivm_host {
	int kvm_fd;
	long run_size;
	struct kvm_cpuid2 *cpuid;
	bool amd;
};

int minivm_host_init(struct minivm_host *h, int kvm_fd, bool amd);

/* Page tables and code into @mem (G_SIZE bytes). */
void minivm_write_guest(uint8_t *mem, bool amd);

/*
 * A VM on @mem with the capability or not; vCPU 0 in 64-bit ring 0 and, if
 * @ring3, vCPU 1 in 64-bit ring 3. 0, or -1 with errno set.
 */
int minivm_create(struct minivm *m, const struct minivm_host *h, uint8_t *mem,
		  bool capable, bool ring3);

/* vCPU 0's registers to work through @count list entries from @first. */
int minivm_start_loop(struct minivm *m, int first, int count);

/*
 * The hypercall from ring 3 with @regs (rax, rip and rflags set here): 0
 * with the status in *@status; -errno if an ioctl failed; 1 if the vCPU
 * stopped anywhere but at its OUT.
 */
long minivm_ring3_hypercall(struct minivm *m, struct kvm_regs *regs, long *status);

void minivm_destroy(struct minivm *m);

#endif
