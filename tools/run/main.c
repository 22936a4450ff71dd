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
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#define EXIT_FAILED	125
#define EXIT_CANNOT_RUN	126
#define EXIT_NOT_FOUND	127

extern char **environ;

static void usage(void)
{
	fprintf(stderr, "usage: hostcall-run [--mode hypercall|exit] [--policy FILE] [--stats] "
		"-- PROGRAM [ARG]...\n");
	exit(EXIT_FAILED);
}

/* Set in a fork() child, whose failure to start is its parent's fork() failing. */
bool fail_quietly;

static void fail(const char *what, int err)
{
	if (!fail_quietly)
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

/* A thread's first hc_vm_call(), which makes its vCPU. */
long first_call(void *unused)
{
	(void)unused;
	return 0;
}

/*
 * The lowest fd of hostcall-run's own: the top of the table is theirs (the
 * VM's, then a vCPU and a pipe per thread), up to half of it.
 */
static int fd_floor(void)
{
	struct rlimit nofile;
	int size, own = 16 + 3 * MAX_TASKS;

	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
		fail("getrlimit", errno);
	size = nofile.rlim_cur < MAX_FD ? nofile.rlim_cur : MAX_FD;
	return size - (own < size / 2 ? own : size / 2);
}

/*
 * Everything the program runs on: the VM, what ring 3 reaches, our fds.
 * Made at the start, and anew in a child after fork.
 */
void make_vm(struct program *p)
{
	uint64_t before[MAX_FD / 64] = { 0 }, filled[MAX_FD / 64] = { 0 };
	long ret;

	p->fd_floor = fd_floor();
	for (int fd = 0; fd < MAX_FD; fd++)
		before[fd / 64] |= (uint64_t)fd_open(fd) << (fd % 64);
	fill_fds(before, filled, p->fd_floor);

	/* --mode, not libhostcall's HOSTCALL_MODE, says; the program's environment is made. */
	if (p->want_hypercall && setenv("HOSTCALL_MODE", "hypercall", 1) < 0)
		fail("setenv", errno);
	/* HC_EINTR: a call our handler interrupted comes back, for the program's (signal.c) */
	p->vm = hc_vm_create(p->vm_flags | HC_EINTR);
	if (!p->vm && p->want_hypercall && errno == ENOTSUP) {
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
		ret = hc_vm_call(p->vm, first_call, NULL);
	if (ret)
		fail("cannot set up the guest", -ret);
	for (int fd = 3; fd < MAX_FD; fd++) {
		if (filled[fd / 64] & 1ULL << (fd % 64))
			close(fd);
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

/*
 * End as the program did: its exit status, or death by its signal. A vfork()
 * child shares this process's memory, libc's included, with its waiting
 * parent: _exit(), and the signal sent to this task, not to libc's idea of
 * the thread.
 */
static __attribute__((noreturn)) void finish(const struct program *p)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t set;

	if (!p->signal)
		_exit(p->exit_status);
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
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), p->signal);
	_exit(128 + p->signal);
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

/*
 * A program named without a slash is looked up on PATH, as env(1) and
 * execvp() do: the first executable file there, else the first file.
 */
static const char *find_program(const char *name)
{
	const char *dir = getenv("PATH") ? getenv("PATH") : "/usr/local/bin:/usr/bin:/bin";
	static char found[PATH_MAX];
	char candidate[PATH_MAX];

	if (strchr(name, '/'))
		return name;
	for (found[0] = '\0';; dir++) {
		int n = strcspn(dir, ":");

		/* an empty entry is the working directory */
		if (snprintf(candidate, sizeof(candidate), "%.*s/%s", n ? n : 1, n ? dir : ".",
			     name) < (int)sizeof(candidate)) {
			if (access(candidate, X_OK) == 0)
				return strcpy(found, candidate);
			if (!found[0] && access(candidate, F_OK) == 0)
				strcpy(found, candidate);
		}
		dir += n;
		if (!*dir)
			break;
	}
	return found[0] ? found : name;
}

/* The program ended: so does this process, as it did, once. */
void end_program(struct program *p)
{
	sigset_t all;

	if (__atomic_exchange_n(&p->ending, true, __ATOMIC_SEQ_CST)) {
		/* another thread ends it (exit_group, a signal): it exits for all */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, NULL);
		for (;;)
			pause();
	}
	if (p->count)
		print_stats(p);
	finish(p);
}

/*
 * Run a thread of the program until it exits, and the program to its end
 * if this is the last thread, or one ends the program.
 */
void run_task(struct task *t)
{
	struct program *p = t->p;

	for (;;) {
		long ret = hc_vm_call(p->vm, kernel_main, t);

		if (ret || p->error) {
			guest_failed(p, ret);
			_exit(EXIT_FAILED);
		}
		if (p->ended)
			break;
		if (t->exited) {
			task_exit(t);	/* returns in the last thread */
			break;
		}
		/* fork, clone, execve: the host side's to serve */
		t->regs.rax = serve_request(t);
		t->request = 0;
	}
	end_program(p);
}

/* The options, or what the hostcall-run that executes us passes on (process.c). */
static void read_options(struct program *p, struct task *t, int argc, char **argv, char ***args,
			 char ***envp)
{
	static const struct option options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "policy", required_argument, NULL, 'p' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *policy = NULL;
	bool stats = false;
	int opt, ret;

	if (argc == 3 && !strcmp(argv[1], EXEC_FROM)) {
		ret = exec_from(p, t, atoi(argv[2]), args, envp);
		if (ret)
			fail("the state of the program that called execve", -ret);
		return;
	}
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt == 'm' && !strcmp(optarg, "exit"))
			p->vm_flags = HC_FORCE_EXIT;
		else if (opt == 'm' && !strcmp(optarg, "hypercall"))
			p->want_hypercall = true;
		else if (opt == 'p')
			policy = optarg;
		else if (opt == 's')
			stats = true;
		else
			usage();
	}
	if (optind == argc)
		usage();
	p->root_pid = getpid();
	p->name = find_program(argv[optind]);
	*args = argv + optind;
	*envp = environ;
	p->count = stats ? calloc(NR_SYSCALLS + 1, sizeof(*p->count)) : NULL;
	if (stats && !p->count)
		fail("memory", ENOMEM);
	if (policy)
		read_policy(p, policy);
	else
		for (int nr = 0; nr < NR_SYSCALLS; nr++)
			p->allowed[nr] = default_allowed(nr);
}

int main(int argc, char **argv)
{
	struct program *p = calloc(1, sizeof(*p));
	struct memory *mem = calloc(1, sizeof(*mem));
	struct task *t = p ? task_new(p) : NULL;
	char **args, **envp;
	long ret;

	if (!t || !mem)
		fail("memory", ENOMEM);
	mem->spans = calloc(MAX_SPANS, sizeof(*mem->spans));
	if (!mem->spans)
		fail("memory", ENOMEM);
	pthread_mutex_init(&mem->lock, NULL);
	pthread_mutex_init(&p->lock, NULL);
	p->mem = mem;
	p->nr_tasks = 1;
	t->tid = getpid();
	read_options(p, t, argc, argv, &args, &envp);
	signals_start(t);
	/* A signal that kills the program must not dump our core, nor may others read our memory. */
	prctl(PR_SET_DUMPABLE, 0);

	ret = load_program(p, &t->regs, p->name, args, envp);
	if (ret == -ENOENT || ret == -ENOTDIR)	/* load_program() said which file */
		return EXIT_NOT_FOUND;
	if (ret == -ENOEXEC)
		return EXIT_CANNOT_RUN;
	if (ret) {
		fprintf(stderr, "hostcall-run: %s: %s\n", p->name, strerror(-ret));
		return EXIT_CANNOT_RUN;
	}
	make_vm(p);
	ret = task_pipe(t);
	if (ret)
		fail("pipe", -ret);
	resend_signals(t);
	run_task(t);
}
