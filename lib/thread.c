// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Which vCPU a thread runs on. A vCPU carries its thread's FS and GS bases
 * (TLS), so it is owned by one thread: made on the thread's first call on a
 * VM, given back when the thread exits, and then taken by the next new
 * thread, which loads its own bases. Owners are numbered with a counter
 * that never repeats, unlike thread ids, so a new thread that got a dead
 * thread's id does not get its vCPU with the dead thread's TLS.
 */
#include <errno.h>
#include <pthread.h>

#include "internal.h"

static pthread_mutex_t vms_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hc_vm *vms;		/* every VM, for the threads' exit */
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

#define BROKEN	UINT64_MAX

static __thread uint64_t thread_owner;
static __thread struct {
	uint64_t vm_id;		/* 0 while vcpu changes */
	struct hc_vcpu *vcpu;
	bool writing;
} last;

/*
 * A signal handler may call hc_vm_call() on another VM between any two of
 * these stores: it leaves the cache alone while they run, and a vm_id it
 * reads always comes with its own vcpu.
 */
static void remember(uint64_t vm_id, struct hc_vcpu *vcpu)
{
	if (last.writing)
		return;
	last.writing = true;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	last.vm_id = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	last.vcpu = vcpu;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	last.vm_id = vm_id;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	last.writing = false;
}

static void release_vcpus(void *owner)
{
	pthread_mutex_lock(&vms_lock);
	for (struct hc_vm *vm = vms; vm; vm = vm->next) {
		pthread_mutex_lock(&vm->lock);
		for (struct hc_vcpu *vcpu = vm->vcpus; vcpu; vcpu = vcpu->next) {
			if (vcpu->owner == (uintptr_t)owner)
				vcpu->owner = 0;
		}
		pthread_mutex_unlock(&vm->lock);
	}
	pthread_mutex_unlock(&vms_lock);
}

/*
 * A fork() while another thread holds the list's lock (exiting, making a
 * VM) would leave the child's copy held: the child's first hc_vm_create()
 * or hc_vm_destroy() would wait for ever.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&vms_lock);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&vms_lock);
}

static void make_exit_key(void)
{
	pthread_key_create(&exit_key, release_vcpus);
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

/* This thread's owner number; from now on its exit gives its vCPUs back. */
static uint64_t owner(void)
{
	static uint64_t last_owner;

	if (!thread_owner) {
		thread_owner = __atomic_add_fetch(&last_owner, 1, __ATOMIC_RELAXED);
		pthread_once(&exit_key_once, make_exit_key);
		pthread_setspecific(exit_key, (void *)(uintptr_t)thread_owner);
	}
	return thread_owner;
}

/* The thread's vCPU of @vm; with @make, one is taken or made if it has none. */
struct hc_vcpu *hc_thread_vcpu(struct hc_vm *vm, bool make)
{
	uint64_t me = owner();
	struct hc_vcpu *vcpu, *free_vcpu = NULL;

	if (last.vm_id == vm->id)
		return last.vcpu;
	pthread_mutex_lock(&vm->lock);
	for (vcpu = vm->vcpus; vcpu && vcpu->owner != me; vcpu = vcpu->next) {
		if (!vcpu->owner && !free_vcpu)
			free_vcpu = vcpu;
	}
	if (!vcpu && free_vcpu && make) {
		vcpu = free_vcpu;
		vcpu->owner = me;
		/* Left set if its thread ended inside the guest (pthread_exit). */
		vcpu->busy = 0;
	}
	pthread_mutex_unlock(&vm->lock);

	if (vcpu && vcpu == free_vcpu && hc_vcpu_reset(vcpu)) {
		/* Its state is unknown: no thread gets it again. */
		vcpu->owner = BROKEN;
		vcpu = NULL;
		errno = EIO;
	} else if (!vcpu && make) {
		vcpu = hc_vcpu_create(vm);
		if (vcpu) {
			vcpu->owner = me;
			pthread_mutex_lock(&vm->lock);
			vcpu->next = vm->vcpus;
			vm->vcpus = vcpu;
			pthread_mutex_unlock(&vm->lock);
		}
	}
	if (vcpu)
		remember(vm->id, vcpu);
	return vcpu;
}

void hc_thread_add_vm(struct hc_vm *vm)
{
	pthread_once(&exit_key_once, make_exit_key);
	pthread_mutex_lock(&vms_lock);
	vm->next = vms;
	vms = vm;
	pthread_mutex_unlock(&vms_lock);
}

void hc_thread_remove_vm(struct hc_vm *vm)
{
	pthread_mutex_lock(&vms_lock);
	for (struct hc_vm **p = &vms; *p; p = &(*p)->next) {
		if (*p == vm) {
			*p = vm->next;
			break;
		}
	}
	pthread_mutex_unlock(&vms_lock);
}
