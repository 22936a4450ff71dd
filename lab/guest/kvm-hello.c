// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * kvm-hello: the smallest proof that /dev/kvm works inside the lab guest.
 * Runs a few real-mode instructions in a nested VM that print a greeting
 * through port 0xe9 (one KVM_EXIT_IO per byte) and halt.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_PHYS 0x1000
#define GREETING_PORT 0xe9

/* mov si, msg; l: lodsb; test al, al; jz done; out 0xe9, al; jmp l; done: hlt */
static const uint8_t guest_code[] = {
	0xbe, 0x0d, 0x10, 0xac, 0x84, 0xc0, 0x74, 0x04,
	0xe6, GREETING_PORT, 0xeb, 0xf7, 0xf4,
	'h', 'e', 'l', 'l', 'o', ' ', 'f', 'r', 'o', 'm', ' ', 'a', ' ',
	'n', 'e', 's', 't', 'e', 'd', ' ', 'K', 'V', 'M', ' ',
	'g', 'u', 'e', 's', 't', 0,
};

static int fail(const char *what)
{
	fprintf(stderr, "kvm-hello: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	struct kvm_userspace_memory_region region = {
		.guest_phys_addr = GUEST_PHYS,
		.memory_size = 0x1000,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = GUEST_PHYS, .rflags = 0x2 };
	struct kvm_run *run;
	char said[64];
	size_t len = 0;
	unsigned int exits = 0;
	int kvm, vm, vcpu, run_size;
	void *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	printf("KVM API version %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	memcpy(mem, guest_code, sizeof(guest_code));
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_SREGS/REGS");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			return fail("KVM_RUN");
		exits++;
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != GREETING_PORT ||
		    run->io.direction != KVM_EXIT_IO_OUT) {
			fprintf(stderr, "kvm-hello: unexpected exit reason %u\n", run->exit_reason);
			return 1;
		}
		if (len < sizeof(said) - 1)
			said[len++] = *((char *)run + run->io.data_offset);
	}
	said[len] = '\0';
	printf("guest said \"%s\" in %u exits, then halted\n", said, exits);
	return 0;
}
