// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Guest memory and memslots. libhostcall adds a memslot for each GiB window
 * of addresses a guest first touches and never removes one; a process that
 * unmaps memory leaves stale guest entries, which KVM meets with -EFAULT and
 * libhostcall drops. Here: 2 MiB regions at the start of GiB windows of
 * their own, which a guest fills (a new memslot the first time), and a
 * memslot of this program's own, far above libhostcall's, added and deleted
 * through the VM's file descriptor.
 *
 * The case: two hostcalls block in read() while this thread has a guest
 * touch a new window, adds and deletes the spare memslot, makes, runs and
 * destroys another VM, and has a guest touch the window it unmapped. KVM
 * must not hold its SRCU read lock (or any lock those need) across the
 * call, or these would wait for the reads: the deadline would report the
 * step. The reads must still be blocked afterwards, and then complete.
 */
#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stress.h"

#define SPARE_SLOT	4000		/* a memslot id libhostcall never uses */
#define NOT_RETURNED	1000		/* no read returns it */

GUEST static long guest_fill(void *arg)
{
	const struct region *r = arg;

	for (unsigned long i = 0; i < REGION_SIZE / PAGE; i++)
		r->words[i * (PAGE / sizeof(long))] = r->first + i;
	return 0;
}

GUEST long guest_sum(void *arg)
{
	const struct region *r = arg;
	unsigned long sum = 0;

	for (unsigned long i = 0; i < REGION_SIZE / PAGE; i++)
		sum += r->words[i * (PAGE / sizeof(long))];
	return sum;
}

long region_sum(unsigned long first)
{
	unsigned long pages = REGION_SIZE / PAGE;

	return pages * first + pages * (pages - 1) / 2;
}

struct region fill_window(struct hc_vm *vm, int window, unsigned long first)
{
	struct region r = { .first = first };

	r.words = mmap(WINDOWS + window * GIB, REGION_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (r.words == MAP_FAILED) {
		fail("mmap of window %d: %s", window, strerror(errno));
		r.words = NULL;
		return r;
	}
	CHECK_EQ(hc_vm_call(vm, guest_fill, &r), 0);
	CHECK_EQ(r.words[(REGION_SIZE - PAGE) / sizeof(long)], first + REGION_SIZE / PAGE - 1);
	return r;
}

/* Half way up the guest-physical space: far above libhostcall's windows. */
static uint64_t spare_gpa(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx))
		return 1ULL << 35;
	return 1ULL << ((eax & 0xff) - 1);
}

void set_spare_slot(int vm_fd, void *mem)
{
	struct kvm_userspace_memory_region slot = {
		.slot = SPARE_SLOT, .guest_phys_addr = spare_gpa(),
		.memory_size = mem ? REGION_SIZE : 0, .userspace_addr = (uintptr_t)mem,
	};

	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot))
		fail("KVM_SET_USER_MEMORY_REGION (%s the spare slot): %s", mem ? "add" : "delete",
		     strerror(errno));
}

struct blocked_read {
	struct hc_vm *vm;
	pthread_t thread;
	int pipe[2];
	pid_t tid;
	long ret;
	unsigned char byte;
};

static void *read_blocked(void *arg)
{
	struct blocked_read *r = arg;

	__atomic_store_n(&r->tid, gettid(), __ATOMIC_SEQ_CST);
	r->ret = GUEST_SYS(r->vm, SYS_read, r->pipe[0], (long)&r->byte, 1);
	return NULL;
}

void case_memslots_while_blocked(void)
{
	struct hc_vm *vm = hc_vm_create(0), *other;
	int vm_fd = only_vm_fd();
	struct blocked_read reads[2];
	struct region r;
	void *spare;

	if (!vm || vm_fd < 0) {
		fail("hc_vm_create: %s", strerror(errno));
		return;
	}
	set_step("waiting for the reads to block");
	for (int i = 0; i < 2; i++) {
		reads[i] = (struct blocked_read){ .vm = vm, .ret = NOT_RETURNED };
		if (pipe(reads[i].pipe))
			fail("pipe: %s", strerror(errno));
		pthread_create(&reads[i].thread, NULL, read_blocked, &reads[i]);
	}
	for (int i = 0; i < 2; i++) {
		while (!__atomic_load_n(&reads[i].tid, __ATOMIC_SEQ_CST))
			sleep_ns(MSEC);
		wait_sleeping(getpid(), reads[i].tid);
	}

	set_step("a guest touching a new GiB window (libhostcall adds its memslot)");
	r = fill_window(vm, 0, 7);
	set_step("the spare memslot added and deleted");
	spare = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 10; i++) {
		set_spare_slot(vm_fd, spare);
		set_spare_slot(vm_fd, NULL);
	}
	munmap(spare, REGION_SIZE);
	set_step("another VM made, run and destroyed");
	other = hc_vm_create(0);
	CHECK(other != NULL);
	if (other)
		CHECK_EQ(GUEST_SYS(other, SYS_getpid), getpid());
	hc_vm_destroy(other);
	set_step("the window unmapped and touched (stale entries dropped)");
	if (r.words) {
		munmap(r.words, REGION_SIZE);
		expect_page_fault(vm, r.words);
	}

	set_step("the reads completing");
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(__atomic_load_n(&reads[i].ret, __ATOMIC_SEQ_CST), NOT_RETURNED);
		CHECK(thread_sleeps(getpid(), reads[i].tid));
		CHECK_EQ(write(reads[i].pipe[1], "r", 1), 1);
		pthread_join(reads[i].thread, NULL);
		CHECK_EQ(reads[i].ret, 1);
		CHECK_EQ(reads[i].byte, 'r');
	}
	hc_vm_destroy(vm);
}
