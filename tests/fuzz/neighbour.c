// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The neighbour: another process with a VM of its own and, at an address
 * that the fuzzer and its children do not map, a page holding a struct
 * that its own guest has run (so it is a valid struct, in the right
 * process). Hypercalls made on that address from the fuzzer's VMs must
 * get -KVM_EFAULT and leave the page alone: the neighbour compares the
 * page when the fuzzing ends, and its exit status says whether it changed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#define NEIGHBOUR_AT	64	/* the struct's offset in its page */

static struct {
	pid_t pid;
	int done;	/* closed when the fuzzing ends */
} nb;

/* True if any page of [p, p + len) is mapped in this process. */
static bool mapped_here(uint64_t p, size_t len)
{
	for (uint64_t page = p & ~(PAGE - 1); page < p + len; page += PAGE) {
		if (msync((void *)page, PAGE, MS_ASYNC) == 0 || errno != ENOMEM)
			return true;
	}
	return false;
}

/* In the neighbour: a getpid hypercall on its struct, then wait; 0 if the page held. */
static int neighbour(uint8_t *at, int ready, int done)
{
	uint8_t *page = mmap(at, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	uint8_t *mem = mmap(NULL, G_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pt_regs *regs = (struct pt_regs *)(page + NEIGHBOUR_AT);
	uint64_t *entry = (uint64_t *)(mem + G_LIST);
	uint8_t before[PAGE];
	struct minivm vm;
	char c;

	if (page != at || mem == MAP_FAILED)
		return 2;
	minivm_write_guest(mem, f.amd);
	memset(page, CANARY, PAGE);
	regs->orig_rax = regs->rax = SYS_getpid;
	entry[0] = (uint64_t)regs;
	entry[1] = 0;
	if (minivm_create(&vm, &f.host, mem, true, false) || minivm_start_loop(&vm, 0, 1))
		return 3;
	while (ioctl(vm.vcpu_fd[0], KVM_RUN, 0) < 0 && errno == EINTR)
		;
	if (*(long *)(mem + G_STATUS) != 0 || (pid_t)regs->rax != getpid())
		return 4;
	memcpy(before, page, PAGE);
	if (write(ready, "y", 1) != 1)
		return 5;
	while (read(done, &c, 1) > 0)
		;
	return memcmp(before, page, PAGE) ? 1 : 0;
}

/* Start it at a random address that nothing here maps; 0, or -1. */
int neighbour_start(void)
{
	uint8_t *at = (uint8_t *)0x500000000000ULL + below(1 << 20) * PAGE;
	int ready[2], done[2];
	char c;

	if (mapped_here((uint64_t)at, PAGE) || pipe(ready) || pipe(done))
		return -1;
	nb.pid = fork();
	if (nb.pid < 0)
		return -1;
	if (nb.pid == 0) {
		close(ready[0]);
		close(done[1]);
		_exit(neighbour(at, ready[1], done[0]));
	}
	close(ready[1]);
	close(done[0]);
	if (read(ready[0], &c, 1) != 1)
		return -1;
	close(ready[0]);
	f.a.neighbour = at;
	nb.done = done[1];
	return 0;
}

/* Its verdict on its page. */
void neighbour_check(void)
{
	int status = 0;

	close(nb.done);
	if (waitpid(nb.pid, &status, 0) != nb.pid || status != 0) {
		f.failures++;
		fprintf(stderr, "FAIL seed %" PRIu64 ": another VM's page changed, or its process"
			" failed (wait status %#x)\n", f.seed, status);
	}
}
