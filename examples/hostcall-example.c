// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-example: ordinary C in KVM guest ring 0 with libhostcall.
 *
 * The host writes a file; then, inside hc_vm_call(), the guest prints with
 * printf, reads that file with fopen/fgets and fills and sums 1 MiB from
 * malloc, and returns the sum. Every system call it makes on the way goes to the host by
 * KVM_HC_HOST_SYSCALL, or by an exit to this thread (HOSTCALL_MODE=exit, or
 * a kernel without the hypercall). The host prints what fn returned.
 */
#include <errno.h>
#include <hostcall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH	"/tmp/hostcall-example.txt"
#define SIZE	(1 << 20)

static long in_guest(void *arg)
{
	const char *path = arg;
	char line[128] = "";
	unsigned char *buf;
	long sum = 0;
	FILE *f;

	printf("guest: hc_in_guest() = %d, getpid() = %d\n", hc_in_guest(), (int)getpid());

	/* libc's errno works in the guest: return it as hc_vm_call's errors are. */
	f = fopen(path, "r");
	if (!f)
		return -errno;
	fgets(line, sizeof(line), f);
	fclose(f);
	printf("guest: %s: %s", path, line);

	buf = malloc(SIZE);
	if (!buf)
		return -ENOMEM;
	printf("guest: malloc(1 MiB) = %p\n", (void *)buf);
	for (int i = 0; i < SIZE; i++)
		buf[i] = 1;
	for (int i = 0; i < SIZE; i++)
		sum += buf[i];
	free(buf);
	fflush(stdout);
	return sum;
}

int main(void)
{
	struct hc_vm *vm;
	FILE *f;
	long ret;

	f = fopen(PATH, "w");
	if (!f || fputs("hello from the host\n", f) < 0 || fclose(f))
		return perror(PATH), 1;

	vm = hc_vm_create(0);
	if (!vm)
		return perror("hc_vm_create"), 1;
	printf("host: pid %d, hc_in_guest() = %d, mode %s\n", (int)getpid(), hc_in_guest(),
	       hc_vm_mode(vm) == HC_MODE_HYPERCALL ? "hypercall" : "exit");
	fflush(stdout);

	ret = hc_vm_call(vm, in_guest, PATH);
	if (ret < 0) {
		struct hc_fault fault;

		fprintf(stderr, "hc_vm_call: %s\n", strerror(-ret));
		if (hc_vm_last_fault(vm, &fault) == 0)
			fprintf(stderr, "fault: vector %d, error code %#x, rip %#lx, address %#lx\n",
				fault.vector, fault.error_code, fault.rip, fault.addr);
		hc_vm_destroy(vm);
		return 1;
	}
	printf("host: hc_vm_call() returned %ld\n", ret);
	hc_vm_destroy(vm);
	unlink(PATH);
	return 0;
}
