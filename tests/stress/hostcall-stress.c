// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-stress [--case N] [--seconds S] [--deadline S] [--seed N]:
 * KVM_HC_HOST_SYSCALL under concurrency, across lifetimes, and between
 * guests that must not reach each other (issue 8, points 4 and 5). One TAP
 * point per case:
 *
 *   memslots while blocked
 *                        a guest's new GiB window, a memslot added and
 *                        deleted, a VM made and destroyed and stale entries
 *                        dropped all complete while two hostcalls block in
 *                        read() (KVM drops its SRCU read lock around the
 *                        call; memslots.c)
 *   memslot churn, fd churn, signals, VM churn, everything
 *                        vCPU threads in blocking and non-blocking hostcalls
 *                        while other threads change memslots and mappings,
 *                        close and dup2() the fds the calls use, signal them,
 *                        create and destroy VMs (load.c says what each checks)
 *   killed               a process whose threads are in hostcalls (blocked or
 *                        looping) dies of SIGKILL, each time (lifetime.c)
 *   struct unmapped, struct read-only
 *                        the struct made unwritable by another thread while
 *                        its call blocks, or by the call itself: -KVM_EFAULT,
 *                        the call ran, nothing else written (lifetime.c)
 *   isolation            another process's memory and fds, two VMs in one
 *                        process, a VMM that dropped its privileges, a VM
 *                        without the capability (isolation.c)
 *
 * Each case runs in a child process of its own, in a process group of its
 * own, bounded by --deadline (60 s): a case that has not ended by then is
 * asked where it is (SIGUSR2), killed with its children and reported "hung",
 * and the next case runs. --seconds (3) is how long each load runs; --seed
 * (the time) drives the random choices of loads, such as which thread gets
 * the next signal; --case N runs case N alone.
 *
 * Exit status: 0 every point passed, 1 one failed, 2 usage, 4 the kernel
 * lacks KVM_CAP_X86_HOST_SYSCALL (nothing to test).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hypercall.h"
#include "stress.h"

double load_seconds = 3;
uint64_t seed;
bool amd;
bool case_failed;

static const char *volatile case_step;

void set_step(const char *step)
{
	case_step = step;
}

void check_eq(int line, const char *what, long got, long want)
{
	if (got == want)
		return;
	printf("#   line %d: %s is %ld (%#lx), want %ld (%#lx)\n",
	       line, what, got, (unsigned long)got, want, (unsigned long)want);
	__atomic_store_n(&case_failed, true, __ATOMIC_RELAXED);
}

void fail(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("#   %s\n", line);
	__atomic_store_n(&case_failed, true, __ATOMIC_RELAXED);
}

uint64_t random_below(uint64_t n)
{
	/* splitmix64 over a shared counter: any thread, no lock */
	static uint64_t state;
	uint64_t z = __atomic_add_fetch(&state, 0x9e3779b97f4a7c15ULL, __ATOMIC_RELAXED) + seed;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) % n;
}

long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

bool thread_sleeps(pid_t pid, pid_t tid)
{
	char path[64], stat[512] = "", *end;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(stat, sizeof(stat), f))
		stat[0] = '\0';
	fclose(f);
	/* "tid (comm) S ...": the comm may hold anything, the state follows its last ')' */
	end = strrchr(stat, ')');
	return end && (end[2] == 'S' || end[2] == 'D');
}

void wait_sleeping(pid_t pid, pid_t tid)
{
	while (!thread_sleeps(pid, tid))
		sleep_ns(MSEC);
}

int only_vm_fd(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	int found = -1, count = 0;

	while (dir && (entry = readdir(dir))) {
		char path[300], target[64];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", entry->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (!strcmp(target, "anon_inode:kvm-vm")) {
			found = atoi(entry->d_name);
			count++;
		}
	}
	if (dir)
		closedir(dir);
	return count == 1 ? found : -1;
}

GUEST long guest_raw_hostcall(void *arg)
{
	struct raw_call *call = arg;

	__atomic_store_n(&call->entered, 1, __ATOMIC_SEQ_CST);
	return kvm_hypercall(amd, KVM_HC_HOST_SYSCALL, call->regs);
}

GUEST long guest_read_word(void *addr)
{
	return *(volatile long *)addr;
}

void expect_page_fault(struct hc_vm *vm, const void *addr)
{
	struct hc_fault fault = { .vector = -99 };

	CHECK_EQ(hc_vm_call(vm, guest_read_word, (void *)addr), -EFAULT);
	CHECK_EQ(hc_vm_last_fault(vm, &fault), 0);
	CHECK_EQ(fault.vector, 14);
	CHECK_EQ(fault.addr, addr);
}

void fill_regs(struct pt_regs *regs, long nr, long a0, long a1, long a2)
{
	regs->rax = nr;
	regs->rdi = a0;
	regs->rsi = a1;
	regs->rdx = a2;
	regs->r10 = regs->r8 = regs->r9 = 0;
	regs->rip = (unsigned long)regs;
}

static const struct stress_case {
	void (*run)(void);
	const char *name;
} cases[] = {
	{ case_memslots_while_blocked, "memslots while hostcalls block: a guest's new GiB window, "
	  "a memslot added and deleted, a VM made and destroyed, stale entries dropped; the calls "
	  "still blocked, then complete" },
	{ case_memslot_churn, "getpid and blocking reads on 4 vCPUs while threads add and delete "
	  "memslots and map, fill, mremap and unmap fresh GiB windows: results as native, no byte "
	  "lost" },
	{ case_fd_churn, "blocking reads and polls of an fd that another thread closes and dup2()s "
	  "to pipes and /dev/null: each result a native one (a byte, 0, EBADF, POLLIN, POLLNVAL), "
	  "bytes add up" },
	{ case_signals_restart, "SA_RESTART signals to vCPUs in reads and nanosleep: calls restart "
	  "(HC_EINTR VM: -EINTR), none lost, each signal handled once" },
	{ case_signals_no_restart, "signals without SA_RESTART to vCPUs in reads and nanosleep: "
	  "calls restart (HC_EINTR VM: -EINTR), none lost, each signal handled once" },
	{ case_vm_churn, "threads create, use and destroy VMs (hypercall, HC_EINTR, exit) while "
	  "other vCPUs make hostcalls: each VM's calls and status right" },
	{ case_everything, "everything at once: getpid, reads, nanosleep, churned-fd reads and polls "
	  "on two VMs under memslot, mapping, fd, signal and VM churn" },
	{ case_kill_in_hostcall, "a process SIGKILLed while its threads are in hostcalls (read, "
	  "nanosleep, futex, poll, a getpid loop; 1, 5 or 6 threads, 1 or 2 VMs) dies of "
	  "SIGKILL, 8 times" },
	{ case_struct_unmapped, "the struct munmap()ped while its read blocks, or by its own call: "
	  "-KVM_EFAULT, the call ran (the byte consumed), nothing else written" },
	{ case_struct_read_only, "the struct made read-only while its read blocks, or by its own "
	  "call: -KVM_EFAULT, the call ran, the struct unchanged" },
	{ case_other_process_memory, "another process's address (its VM busy on it): -EFAULT as "
	  "natively, -KVM_EFAULT as struct, a #PF in the guest; its /proc/PID/mem as natively; its "
	  "page untouched" },
	{ case_other_process_fds, "another process's fd: -EBADF for read, write, fstat, dup, close, "
	  "as natively; its pipe unread" },
	{ case_two_vms, "two VMs in one process: the VMM thread's fd table, file offsets, memory and "
	  "ids, as natively" },
	{ case_dropped_privileges, "a VMM that dropped root (setresuid 65534): EACCES for a 0600 root "
	  "file, /dev/kvm and root's /proc/PID/mem, EPERM for kill, setresuid, chown, as natively" },
	{ case_incapable_vm, "VMs without the capability (here and in another process): "
	  "-KVM_ENOSYS, struct unchanged, exit-path calls work, while a capable VM makes hypercalls" },
};

/* SIGUSR2 from the parent at the deadline: say where the case is. */
static void say_step(int sig)
{
	char line[200];
	int len;

	(void)sig;
	len = snprintf(line, sizeof(line), "#   hung at: %s\n", case_step ? case_step : "(no step)");
	if (write(STDOUT_FILENO, line, len) < 0)
		_exit(1);
}

static pid_t wait_until(pid_t pid, int *status, long deadline)
{
	pid_t done;

	while ((done = waitpid(pid, status, WNOHANG)) == 0 && now_ns() < deadline)
		sleep_ns(10 * MSEC);
	return done;
}

/* Run case @c in a child, bounded by @deadline_s; print its point @n. */
static bool run_case(int n, const struct stress_case *c, int deadline_s)
{
	long start = now_ns();
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = say_step, .sa_flags = SA_RESTART };

		setpgid(0, 0);
		sigaction(SIGUSR2, &sa, NULL);
		c->run();
		fflush(stdout);
		_exit(case_failed);
	}
	if (pid < 0) {
		printf("not ok %d - %s: fork: %s\n", n, c->name, strerror(errno));
		return false;
	}
	setpgid(pid, pid);
	if (wait_until(pid, &status, start + deadline_s * 1000000000L) == 0) {
		kill(pid, SIGUSR2);
		sleep_ns(500 * MSEC);
		kill(-pid, SIGKILL);
		if (wait_until(pid, &status, now_ns() + 10000000000L) == 0) {
			printf("not ok %d - %s: hung, and still there 10 s after SIGKILL\n", n, c->name);
			printf("Bail out! case %d cannot be killed\n", n);
			exit(1);
		}
		printf("not ok %d - %s: hung (killed after %d s)\n", n, c->name, deadline_s);
		return false;
	}
	kill(-pid, SIGKILL);	/* children the case left behind */
	printf("#   %.1f s\n", (double)(now_ns() - start) / 1e9);
	if (WIFSIGNALED(status)) {
		printf("not ok %d - %s: killed by signal %d\n", n, c->name, WTERMSIG(status));
		return false;
	}
	printf("%s %d - %s\n", WEXITSTATUS(status) ? "not ok" : "ok", n, c->name);
	return WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
	int only = 0, deadline_s = 60, failed = 0;
	struct hc_vm *probe;

	seed = (uint64_t)time(NULL);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--case") && i + 1 < argc)
			only = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			load_seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--deadline") && i + 1 < argc)
			deadline_s = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else
			only = -1;
	}
	if (only < 0 || only > (int)ARRAY_SIZE(cases) || load_seconds <= 0 || deadline_s <= 0) {
		fprintf(stderr, "usage: hostcall-stress [--case 1-%zu] [--seconds S] [--deadline S] "
			"[--seed N]\n", ARRAY_SIZE(cases));
		return 2;
	}
	/* Each case's lines reach the parent's stdout before its point, even if it is killed. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	probe = hc_vm_create(0);
	if (!probe) {
		perror("hostcall-stress: hc_vm_create");
		return 1;
	}
	if (hc_vm_mode(probe) != HC_MODE_HYPERCALL) {
		printf("hostcall-stress: skipped: this kernel has no KVM_CAP_X86_HOST_SYSCALL\n");
		return 4;
	}
	/* Not in the cases' children: each makes its own VMs. */
	hc_vm_destroy(probe);
	amd = cpu_is_amd();

	printf("1..%zu\n", only ? (size_t)1 : ARRAY_SIZE(cases));
	printf("# seed %" PRIu64 ", loads of %.1f s, deadline %d s per case\n",
	       seed, load_seconds, deadline_s);
	for (int i = 0; i < (int)ARRAY_SIZE(cases); i++) {
		if (only && only != i + 1)
			continue;
		if (!run_case(only ? 1 : i + 1, &cases[i], deadline_s))
			failed++;
	}
	return failed ? 1 : 0;
}
