// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-run [--mode hypercall|exit] [--policy FILE] [--stats] -- PROGRAM [ARG]...
 *
 * Runs an x86-64 program, static or dynamic, in guest ring 3 (see sandbox.h, and
 * docs/sandbox.md). Its stdout, stderr and exit status are the program's:
 * hostcall-run writes to stderr only, and dies of the signal that killed the
 * program. Its own failures exit with 125, a program it cannot run with 126
 * (127 if not found), as env(1) does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sandbox.h"

#define EXIT_FAILED	125
#define EXIT_CANNOT_RUN	126
#define EXIT_NOT_FOUND	127
#define MAX_FD		1024

extern char **environ;

static void usage(void)
{
	fprintf(stderr, "usage: hostcall-run [--mode hypercall|exit] [--policy FILE] [--stats] "
		"-- PROGRAM [ARG]...\n");
	exit(EXIT_FAILED);
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "hostcall-run: %s: %s\n", what, strerror(err));
	exit(EXIT_FAILED);
}

/* One name per line, '#' starts a comment. */
static void read_policy(struct program *p, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int n = 0;

	if (!f)
		fail(path, errno);
	while (fgets(line, sizeof(line), f)) {
		char *name = line + strspn(line, " \t"), *end;
		int nr;

		n++;
		name[strcspn(name, "#\n")] = '\0';
		for (end = name + strlen(name); end > name && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = '\0';
		if (!*name)
			continue;
		nr = syscall_number(name);
		if (nr < 0) {
			fprintf(stderr, "hostcall-run: %s:%d: \"%s\" %s\n", path, n, name,
				nr == -ENOSYS ? "is a system call whose arguments hostcall-run "
				"cannot check: it is never forwarded" : "is not a system call");
			exit(EXIT_FAILED);
		}
		p->allowed[nr] = 1;
	}
	fclose(f);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/*
 * libhostcall's descriptors (/dev/kvm, the VM, the vCPU) go high, so that
 * the program's first open() gives 3 as natively: fill what is free below
 * @top (not in @open_fds) while they are made. *filled: what to close
 * afterwards.
 */
static void fill_fds(const uint64_t *open_fds, uint64_t *filled, int top)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null < 0)
		fail("/dev/null", errno);
	for (int fd = 3; fd < top; fd++) {
		if (fd != null && !(open_fds[fd / 64] & 1ULL << (fd % 64)) &&
		    dup2(null, fd) == fd)
			filled[fd / 64] |= 1ULL << (fd % 64);
	}
	filled[null / 64] |= 1ULL << (null % 64);
}

static long create_vcpu(void *unused)
{
	(void)unused;
	return 0;
}

/* Everything the program runs on: the VM, what ring 3 reaches, our fds. */
static void start(struct program *p, int flags, bool want_hypercall)
{
	uint64_t before[MAX_FD / 64] = { 0 }, filled[MAX_FD / 64] = { 0 };
	struct rlimit nofile;
	long ret;

	for (int fd = 0; fd < MAX_FD; fd++)
		before[fd / 64] |= (uint64_t)fd_open(fd) << (fd % 64);
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
		fail("getrlimit", errno);
	fill_fds(before, filled, (nofile.rlim_cur < MAX_FD ? nofile.rlim_cur : MAX_FD) - 8);

	/* --mode, not libhostcall's HOSTCALL_MODE, says; the program's environment is made. */
	if (want_hypercall && setenv("HOSTCALL_MODE", "hypercall", 1) < 0)
		fail("setenv", errno);
	p->vm = hc_vm_create(flags);
	if (!p->vm && want_hypercall && errno == ENOTSUP) {
		fprintf(stderr, "hostcall-run: this kernel does not offer KVM_HC_HOST_SYSCALL "
			"(KVM_CAP_X86_HOST_SYSCALL); --mode exit runs without it\n");
		exit(EXIT_FAILED);
	}
	if (!p->vm)
		fail("cannot create the VM (is /dev/kvm there?)", errno);
	ret = hc_vm_set_user(p->vm, (void *)p->image.start, p->image.end - p->image.start, 1);
	if (!ret)
		ret = hc_vm_set_user(p->vm, (void *)p->heap.start, p->heap.end - p->heap.start, 1);
	if (!ret)
		ret = hc_vm_call(p->vm, create_vcpu, NULL);
	if (ret)
		fail("cannot set up the guest", -ret);
	if (pipe2(p->pipe, O_CLOEXEC) < 0)
		fail("pipe", errno);

	for (int fd = 3; fd < MAX_FD; fd++) {
		if (filled[fd / 64] & 1ULL << (fd % 64))
			close(fd);
	}
	for (int fd = 0; fd < MAX_FD; fd++) {
		if (fd_open(fd) && !(before[fd / 64] & 1ULL << (fd % 64)))
			p->private_fds[fd / 64] |= 1ULL << (fd % 64);
	}
	p->pid = getpid();
}

static void print_stats(const struct program *p)
{
	unsigned long total = 0;

	for (int nr = 0; nr <= NR_SYSCALLS; nr++)
		total += p->count[nr];
	fprintf(stderr, "hostcall-run: %lu system calls, mode %s\n", total,
		hc_vm_mode(p->vm) == HC_MODE_HYPERCALL ? "hypercall" : "exit");
	for (int nr = 0; nr <= NR_SYSCALLS; nr++) {
		const char *name = syscall_name(nr);

		if (!p->count[nr])
			continue;
		if (nr == NR_SYSCALLS)
			fprintf(stderr, "  %-20s %10lu  (refused)\n", "(no such call)", p->count[nr]);
		else if (name)
			fprintf(stderr, "  %-20s %10lu%s\n", name, p->count[nr],
				refused(p, nr) ? "  (refused)" : "");
		else
			fprintf(stderr, "  %-20d %10lu  (refused)\n", nr, p->count[nr]);
	}
}

static const char *exception_name(int vector)
{
	static const char *const names[] = {
		[0] = "divide error", [1] = "debug trap", [3] = "breakpoint", [6] = "invalid opcode",
		[12] = "stack fault", [13] = "general protection fault",
		[16] = "x87 floating-point error", [17] = "alignment check",
		[19] = "SIMD floating-point error",
	};

	if (vector >= 0 && vector < (int)(sizeof(names) / sizeof(names[0])) && names[vector])
		return names[vector];
	return "exception";
}

/* End as the program did: its exit status, or death by its signal. */
static void finish(const struct program *p)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t set;

	if (!p->signal)
		exit(p->exit_status);
	if (p->faulted && p->fault.vector == 14)
		fprintf(stderr, "hostcall-run: %s: %s: page fault at %#lx, ip %#lx, error %#x\n",
			p->name, strsignal(p->signal), p->fault.addr, p->fault.rip,
			p->fault.error_code);
	else if (p->faulted)
		fprintf(stderr, "hostcall-run: %s: %s: %s, ip %#lx, error %#x\n", p->name,
			strsignal(p->signal), exception_name(p->fault.vector), p->fault.rip,
			p->fault.error_code);
	fflush(stdout);
	/* Our core would be this process, not the program's. */
	setrlimit(RLIMIT_CORE, &no_core);
	signal(p->signal, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, p->signal);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(p->signal);
	exit(128 + p->signal);
}

/* Ring 0 itself failed: a KVM that cannot run it, or a bug of ours. */
static void guest_failed(struct program *p, long ret)
{
	struct hc_fault f = { 0 };

	if (p->error == -ENOTSUP) {
		fprintf(stderr, "hostcall-run: the guest CPU lacks FSGSBASE or XSAVE, "
			"which ring 3 needs\n");
	} else if (hc_vm_last_fault(p->vm, &f) == 0 && f.vector == HC_FAULT_KVM) {
		fprintf(stderr, "hostcall-run: KVM stopped the guest (exit reason %u) at ip %#lx: "
			"this KVM cannot run it\n", f.error_code, f.rip);
	} else {
		fprintf(stderr, "hostcall-run: the guest failed: %s (vector %d, error %#x, "
			"ip %#lx, address %#lx)\n", strerror(-(ret ? ret : p->error)), f.vector,
			f.error_code, f.rip, f.addr);
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "policy", required_argument, NULL, 'p' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *policy = NULL;
	bool stats = false, want_hypercall = false;
	struct program *p;
	int flags = 0, opt, ret;

	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt == 'm' && !strcmp(optarg, "exit"))
			flags = HC_FORCE_EXIT;
		else if (opt == 'm' && !strcmp(optarg, "hypercall"))
			want_hypercall = true;
		else if (opt == 'p')
			policy = optarg;
		else if (opt == 's')
			stats = true;
		else
			usage();
	}
	if (optind == argc)
		usage();

	p = aligned_alloc(64, sizeof(*p));
	if (!p)
		fail("memory", ENOMEM);
	memset(p, 0, sizeof(*p));
	p->name = argv[optind];
	p->spans = calloc(MAX_SPANS, sizeof(*p->spans));
	p->count = stats ? calloc(NR_SYSCALLS + 1, sizeof(*p->count)) : NULL;
	if (!p->spans || (stats && !p->count))
		fail("memory", ENOMEM);
	if (policy)
		read_policy(p, policy);
	else
		for (int nr = 0; nr < NR_SYSCALLS; nr++)
			p->allowed[nr] = default_allowed(nr);

	ret = load_program(p, argv[optind], argv + optind, environ);
	if (ret == -ENOENT || ret == -ENOTDIR)	/* load_program() said which file */
		return EXIT_NOT_FOUND;
	if (ret == -ENOEXEC)
		return EXIT_CANNOT_RUN;
	if (ret) {
		fprintf(stderr, "hostcall-run: %s: %s\n", p->name, strerror(-ret));
		return EXIT_CANNOT_RUN;
	}
	start(p, flags, want_hypercall);
	ret = hc_vm_call(p->vm, kernel_main, p);
	if (ret || p->error) {
		guest_failed(p, ret);
		return EXIT_FAILED;
	}
	if (stats)
		print_stats(p);
	finish(p);
}
