// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hc_vm_create(): a VM whose guest sees the process's address space, with
 * KVM_HC_HOST_SYSCALL enabled where the kernel offers it.
 *
 * The capability must be enabled before the first vCPU exists, and the mode
 * decides the vCPUs' syscall entry, so it is settled here once: hypercall if
 * KVM_CHECK_EXTENSION reports the capability and nothing forces the exit path
 * (HC_FORCE_EXIT, HOSTCALL_MODE=exit). Without the capability the guest never
 * executes the hypercall: a kernel without it may not even answer it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define KNOWN_FLAGS	(HC_FORCE_EXIT | HC_EINTR)

/* HOSTCALL_MODE: unset, empty or "auto"; "exit"; "hypercall" (fail without it). */
static int wanted_mode(unsigned int flags, int *mode)
{
	const char *env = getenv("HOSTCALL_MODE");

	*mode = 0;
	if (flags & HC_FORCE_EXIT)
		*mode = HC_MODE_EXIT;
	else if (!env || !*env || !strcmp(env, "auto"))
		;
	else if (!strcmp(env, "exit"))
		*mode = HC_MODE_EXIT;
	else if (!strcmp(env, "hypercall"))
		*mode = HC_MODE_HYPERCALL;
	else
		return -EINVAL;
	return 0;
}

static int open_kvm(struct hc_vm *vm, int wanted)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_HOST_SYSCALL };
	int has_cap;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return -errno;
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION ||
	    !(ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS))
		return -ENOTSUP;
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return -errno;
	has_cap = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_HOST_SYSCALL) == 1;
	if (wanted == HC_MODE_HYPERCALL && !has_cap)
		return -ENOTSUP;
	vm->mode = has_cap && wanted != HC_MODE_EXIT ? HC_MODE_HYPERCALL : HC_MODE_EXIT;
	if (vm->mode == HC_MODE_HYPERCALL && ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return -errno;
	return 0;
}

struct hc_vm *hc_vm_create(unsigned int flags)
{
	static uint64_t last_id;
	struct hc_vm *vm;
	int wanted, ret;

	if (flags & ~KNOWN_FLAGS || wanted_mode(flags, &wanted) < 0) {
		errno = EINVAL;
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->id = __atomic_add_fetch(&last_id, 1, __ATOMIC_RELAXED);
	vm->flags = flags;
	vm->vm_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	ret = open_kvm(vm, wanted);
	if (!ret)
		ret = hc_paging_init(vm);
	if (!ret)
		ret = hc_cpu_init_vm(vm);
	if (!ret)
		ret = hc_paging_pin(vm, hc_guest_text_start,
				    hc_guest_text_end - hc_guest_text_start, PROT_EXEC);
	if (ret) {
		hc_vm_destroy(vm);
		errno = -ret;
		return NULL;
	}
	hc_thread_add_vm(vm);
	return vm;
}

void hc_vm_destroy(struct hc_vm *vm)
{
	int saved_errno = errno;

	if (!vm)
		return;
	hc_thread_remove_vm(vm);
	while (vm->vcpus) {
		struct hc_vcpu *next = vm->vcpus->next;

		hc_vcpu_free(vm->vcpus);
		vm->vcpus = next;
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	hc_paging_free(vm);
	if (vm->sys)
		munmap(vm->sys, HC_PAGE_SIZE);
	free(vm->cpuid);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
	errno = saved_errno;
}

int hc_vm_mode(const struct hc_vm *vm)
{
	return vm->mode;
}
