// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-parity: the seccomp parity matrix. For each verdict (ALLOW, LOG,
 * ERRNO, TRAP, KILL_THREAD, KILL_PROCESS, USER_NOTIF replies, TRACE with
 * and without a tracer) and for filters keyed on the arguments, the
 * architecture and the instruction pointer, the same write(2) to a pipe is
 * made twice, each time in a fresh child: natively, and from guest ring 0
 * through libhostcall by KVM_HC_HOST_SYSCALL. Both children have the same
 * VM and vCPU, so that only the way of making the call differs, and make it
 * with the same syscall instruction, so that the instruction pointer the
 * filters see is the same address.
 *
 * The outcome of a run is its result, whether the bytes reached the pipe,
 * the SIGSYS a handler got (siginfo, and whether its frame is the call's),
 * what a USER_NOTIF supervisor was sent, the stops a tracer saw, whether a
 * second thread that made the call vanished while the process went on, and
 * how the child ended (exit code or signal, core flag aside). A case holds
 * if the native outcome is the one the kernel's seccomp gives and the
 * hostcall outcome is the same, or differs exactly as the series documents
 * (Documentation/virt/kvm/x86/hypercalls.rst, "seccomp"): TRAP's handler
 * runs on KVM_RUN's frame and the call returns -ENOSYS. TRACE with a tracer
 * is the same as native: KVM declines the call while a tracer asked for
 * seccomp stops, and libhostcall makes it natively, where the tracer stops.
 *
 * Output: TAP on stdout, the table as its comments. Exit status: 0 every
 * case held, 1 one did not, 4 the kernel lacks KVM_CAP_X86_HOST_SYSCALL.
 */
#include <errno.h>
#include <hostcall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

/* SIGSYS's si_code for seccomp: in <asm/siginfo.h>, which clashes with glibc's. */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP	1
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define TEST_FD		100		/* the pipe, in the child */
#define PAYLOAD		"parity"
#define LEN		6L
#define HIGH_FD_BIT	(1L << 32)	/* write() ignores it; the filters see it */
#define TRAP_RESULT	4242		/* what the SIGSYS handler makes the call return */
#define NOTIF_VALUE	42
#define TRACE_DATA	9
#define TRAP_DATA	77
#define OUTCOME_SIZE	256
#define CHILD_SECONDS	5		/* then the parent kills a run that hangs */

/*
 * long test_call(long call[7]): the system call call[0] with the arguments
 * call[1..6]. Natively after_syscall is where the call returns to; in the
 * guest libhostcall puts the same address (the syscall instruction's rcx)
 * in the struct's rip. It uses general registers only, so it runs as
 * hc_vm_call()'s fn on any KVM.
 */
long test_call(void *call);
extern const char after_syscall[];
__asm__(".pushsection .text\n"
	".globl test_call, after_syscall\n"
	".type test_call, @function\n"
	"test_call:\n"
	"	mov (%rdi), %rax\n"
	"	mov 16(%rdi), %rsi\n"
	"	mov 24(%rdi), %rdx\n"
	"	mov 32(%rdi), %r10\n"
	"	mov 40(%rdi), %r8\n"
	"	mov 48(%rdi), %r9\n"
	"	mov 8(%rdi), %rdi\n"
	"	syscall\n"
	"after_syscall:\n"
	"	ret\n"
	".size test_call, . - test_call\n"
	".popsection\n");

/* What a filter compares before it gives its verdict. */
enum key { EVERY_CALL, ARCH, IP, ARG0, ARG2 };

static const struct {
	unsigned int offset, words;	/* 32-bit words of struct seccomp_data */
} keys[] = {
	[EVERY_CALL] = { 0, 0 },
	[ARCH] = { offsetof(struct seccomp_data, arch), 1 },
	[IP] = { offsetof(struct seccomp_data, instruction_pointer), 2 },
	[ARG0] = { offsetof(struct seccomp_data, args[0]), 2 },
	[ARG2] = { offsetof(struct seccomp_data, args[2]), 2 },
};

enum notif { NO_NOTIF, REPLY_VALUE, REPLY_ERROR, REPLY_CONTINUE, NO_SUPERVISOR };

struct parity_case {
	const char *name;
	uint32_t on_match, otherwise;	/* verdicts for write() if the key matches, or not */
	enum key key;
	uint64_t key_value;		/* IP: after_syscall */
	bool high_fd;			/* the call's fd has HIGH_FD_BIT */
	bool trap_handler;		/* a SIGSYS handler that supplies TRAP_RESULT */
	bool second_thread;		/* a second thread makes the call */
	bool tracer;			/* the parent ptraces the child */
	enum notif notif;
	const char *native;		/* the outcome seccomp gives natively */
	const char *documented;		/* why the hostcall outcome differs, if it does */
	const char *hostcall;		/* then the hostcall outcome documented */
};

#define ERRNO(e)	(SECCOMP_RET_ERRNO | (e))
#define ALLOW		SECCOMP_RET_ALLOW
#define RAN		"6, ran; exit 0"
#define DENIED		"-EACCES, not run; exit 0"
#define KILLED		"no return, not run; killed by SIGSYS"
#define SIGSYS_INFO	"SIGSYS(SYS_SECCOMP, errno 77, nr 1, x86_64, at the call)"
#define NOTIFIED	"notified(nr 1, x86_64, args as made, ip at the call, pid the caller's)"

static const struct parity_case cases[] = {
	{ "ALLOW", ALLOW, .native = RAN },
	{ "LOG", SECCOMP_RET_LOG, .native = RAN },
	{ "ERRNO(EACCES)", ERRNO(EACCES), .native = DENIED },
	{ "ERRNO(0)", ERRNO(0), .native = "0, not run; exit 0" },
	{ "TRAP, handler", SECCOMP_RET_TRAP | TRAP_DATA, .trap_handler = true,
	  .native = "4242, not run; " SIGSYS_INFO " on the call's frame; exit 0",
	  .documented = "TRAP's handler runs on KVM_RUN's frame, the call gets -ENOSYS",
	  .hostcall = "-ENOSYS, not run; " SIGSYS_INFO " on another frame; exit 0" },
	{ "TRAP, no handler", SECCOMP_RET_TRAP | TRAP_DATA, .native = KILLED },
	/*
	 * KVM's worker thread keeps the process alive, natively too: the
	 * thread exits, the process is left with the worker, which blocks
	 * every signal but SIGKILL.
	 */
	{ "KILL_THREAD, only thread", SECCOMP_RET_KILL_THREAD,
	  .native = "no return, not run; hung: main thread Z, 2 thread(s); killed after 5 s" },
	{ "KILL_THREAD, second thread", SECCOMP_RET_KILL_THREAD, .second_thread = true,
	  .native = "no return, not run; thread gone, process went on; exit 0" },
	{ "KILL_PROCESS", SECCOMP_RET_KILL_PROCESS, .native = KILLED },
	{ "KILL_PROCESS, second thread", SECCOMP_RET_KILL_PROCESS, .second_thread = true,
	  .native = KILLED },
	{ "USER_NOTIF, reply 42", SECCOMP_RET_USER_NOTIF, .notif = REPLY_VALUE,
	  .native = "42, not run; " NOTIFIED "; exit 0" },
	{ "USER_NOTIF, reply -EPERM", SECCOMP_RET_USER_NOTIF, .notif = REPLY_ERROR,
	  .native = "-EPERM, not run; " NOTIFIED "; exit 0" },
	{ "USER_NOTIF, CONTINUE", SECCOMP_RET_USER_NOTIF, .notif = REPLY_CONTINUE,
	  .native = "6, ran; " NOTIFIED "; exit 0" },
	{ "USER_NOTIF, listener closed", SECCOMP_RET_USER_NOTIF, .notif = NO_SUPERVISOR,
	  .native = "-ENOSYS, not run; exit 0" },
	{ "TRACE, no tracer", SECCOMP_RET_TRACE | TRACE_DATA, .native = "-ENOSYS, not run; exit 0" },
	{ "TRACE, tracer", SECCOMP_RET_TRACE | TRACE_DATA, .tracer = true,
	  .native = "6, ran; tracer stops: 1 (data 9); exit 0" },
	{ "arg2 == 6: ERRNO (hit)", ERRNO(EACCES), ALLOW, ARG2, LEN, .native = DENIED },
	{ "arg2 == 5: ERRNO (miss)", ERRNO(EACCES), ALLOW, ARG2, 5, .native = RAN },
	{ "arg0 == fd + 2^32: ERRNO (hit)", ERRNO(EACCES), ALLOW, ARG0, TEST_FD | HIGH_FD_BIT,
	  .high_fd = true, .native = DENIED },
	{ "arg0 == fd, called with fd + 2^32 (miss)", ERRNO(EACCES), ALLOW, ARG0, TEST_FD,
	  .high_fd = true, .native = RAN },
	{ "arch == X86_64: ERRNO (hit)", ERRNO(EACCES), ALLOW, ARCH, AUDIT_ARCH_X86_64,
	  .native = DENIED },
	{ "arch == I386: ERRNO (miss)", ERRNO(EACCES), ALLOW, ARCH, AUDIT_ARCH_I386, .native = RAN },
	{ "arch != X86_64: KILL_PROCESS", ALLOW, SECCOMP_RET_KILL_PROCESS, ARCH, AUDIT_ARCH_X86_64,
	  .native = RAN },
	{ "ip == after syscall: ERRNO (hit)", ERRNO(EACCES), ALLOW, IP, .native = DENIED },
};

/* A run's outcome: the child fills it in shared memory, the parent adds the rest. */
struct outcome {
	const char *setup_failed;	/* what the child could not set up */
	int setup_errno;
	pid_t caller_tid;
	bool returned;
	long ret;
	bool thread_gone;		/* joined the calling thread, which never returned */
	bool hung;			/* the parent had to kill the child */
	char hung_state;		/* then: its main thread's state (R, S, Z, ...) */
	int hung_threads;		/* and how many threads it had */
	bool signalled;
	siginfo_t siginfo;
	bool calls_frame;		/* the handler's frame was the call's */
	bool notified;
	struct seccomp_notif notif;
	/* by the parent */
	int wait_status;
	ssize_t written;
	char bytes[2 * LEN];
	int tracer_stops;
	unsigned long tracer_data;
};

static struct outcome *out;		/* MAP_SHARED: survives the child */
static struct hc_vm *vm;		/* the child's */
static bool in_guest;			/* the child makes the call from the guest */
static long call[7];
static int listener = -1;
static atomic_bool call_done;

static void make_args(const struct parity_case *c, long args[7])
{
	long made[7] = { SYS_write, TEST_FD | (c->high_fd ? HIGH_FD_BIT : 0), (long)PAYLOAD, LEN };

	memcpy(args, made, sizeof(made));
}

/*
 * Natively the frame the signal interrupted is the call's, rolled back to
 * its number, and what the handler leaves in rax is the call's result.
 * Any other frame is left alone: its rax is the result of something else.
 */
static void on_sigsys(int sig, siginfo_t *si, void *context)
{
	greg_t *regs = ((ucontext_t *)context)->uc_mcontext.gregs;

	(void)sig;
	out->signalled = true;
	out->siginfo = *si;
	out->calls_frame = regs[REG_RIP] == (greg_t)si->si_call_addr &&
			   regs[REG_RAX] == si->si_syscall;
	if (out->calls_frame)
		regs[REG_RAX] = TRAP_RESULT;
}

/* Answers the one notification the call should cause; gives up once the call is done. */
static void *supervise(void *arg)
{
	const struct parity_case *c = arg;
	struct pollfd ready = { .fd = listener, .events = POLLIN };

	while (!atomic_load(&call_done)) {
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;

		if (poll(&ready, 1, 100) <= 0)
			continue;
		memset(&req, 0, sizeof(req));
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req))
			continue;
		out->notified = true;
		out->notif = req;
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		if (c->notif == REPLY_VALUE)
			resp.val = NOTIF_VALUE;
		else if (c->notif == REPLY_ERROR)
			resp.error = -EPERM;
		else
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
		break;
	}
	return NULL;
}

static void *make_call(void *unused)
{
	(void)unused;
	out->caller_tid = gettid();
	out->ret = in_guest ? hc_vm_call(vm, test_call, call) : test_call(call);
	out->returned = true;
	return NULL;
}

/* Only write() meets the case's verdicts: KVM_RUN and the rest stay allowed. */
static int install_filter(const struct parity_case *c)
{
	unsigned int words = keys[c->key].words, offset = keys[c->key].offset, n = 0;
	uint64_t value = c->key == IP ? (uintptr_t)after_syscall : c->key_value;
	struct sock_filter insns[3 + 2 * 2 + 2];
	struct sock_fprog prog = { .filter = insns };
	unsigned int flags = c->notif ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;

	insns[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						  offsetof(struct seccomp_data, nr));
	insns[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 1, 0);
	insns[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (unsigned int w = 0; w < words; w++) {
		insns[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset + 4 * w);
		insns[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							  (uint32_t)(value >> (32 * w)), 0,
							  2 * (words - w) - 1);
	}
	insns[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, c->on_match);
	if (words)
		insns[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, c->otherwise);
	prog.len = n;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	return listener < 0 ? -1 : 0;
}

static __attribute__((noreturn)) void setup_failed(const char *what)
{
	out->setup_failed = what;
	out->setup_errno = errno;
	_exit(3);
}

/* One run of a case; the outcome goes to *out, the bytes written to the pipe. */
static __attribute__((noreturn)) void child(const struct parity_case *c, bool hostcall, int pipe_in)
{
	struct rlimit no_core = { 0, 0 };
	pthread_t supervisor, caller;

	/* A KILL verdict dumps core natively; a VM's core is large and slow. */
	setrlimit(RLIMIT_CORE, &no_core);
	if (dup2(pipe_in, TEST_FD) < 0)
		setup_failed("dup2");
	make_args(c, call);
	/*
	 * The native run has the same VM and vCPU, made before the filter by a
	 * call it allows: once a vCPU ran, KVM's NX huge page recovery worker
	 * is a thread of the process, and seccomp counts it when KILL_THREAD
	 * decides whether the thread is the process's last.
	 */
	vm = hc_vm_create(0);
	if (!vm || hc_vm_mode(vm) != HC_MODE_HYPERCALL)
		setup_failed("hc_vm_create in hypercall mode");
	if (hc_vm_call(vm, test_call, (long[7]){ SYS_getpid }) != getpid())
		setup_failed("getpid in the guest");
	in_guest = hostcall;
	if (c->tracer && (ptrace(PTRACE_TRACEME, 0, 0, 0) || raise(SIGSTOP)))
		setup_failed("PTRACE_TRACEME");
	if (c->trap_handler) {
		struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

		if (sigaction(SIGSYS, &sa, NULL))
			setup_failed("sigaction");
	}
	if (install_filter(c))
		setup_failed("seccomp");
	if (c->notif == NO_SUPERVISOR)
		close(listener);
	else if (c->notif && pthread_create(&supervisor, NULL, supervise, (void *)c))
		setup_failed("pthread_create");

	if (c->second_thread) {
		if (pthread_create(&caller, NULL, make_call, NULL))
			setup_failed("pthread_create");
		pthread_join(caller, NULL);
		out->thread_gone = !out->returned;
	} else {
		make_call(NULL);
	}

	atomic_store(&call_done, true);
	if (c->notif && c->notif != NO_SUPERVISOR)
		pthread_join(supervisor, NULL);
	_exit(0);
}

static void on_alarm(int sig)
{
	(void)sig;	/* only interrupts the parent's waitpid() */
}

/* What a hung child was doing: is its main thread gone while others live? */
static void note_hung(pid_t pid)
{
	char path[64], line[128];
	FILE *status;

	out->hung = true;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	status = fopen(path, "r");
	while (status && fgets(line, sizeof(line), status)) {
		sscanf(line, "State: %c", &out->hung_state);
		sscanf(line, "Threads: %d", &out->hung_threads);
	}
	if (status)
		fclose(status);
}

/* waitpid(), but a child still there after CHILD_SECONDS is killed. */
static void wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) != pid) {
		if (errno != EINTR) {
			perror("hostcall-parity: waitpid");
			exit(1);
		}
		note_hung(pid);
		kill(pid, SIGKILL);
	}
}

/*
 * The tracer of a TRACE case: from the child's first stop (its SIGSTOP) on,
 * counts the seccomp stops and lets each call go on.
 */
static void trace(pid_t pid)
{
	bool attached = false;
	int status;

	for (wait_child(pid, &status); WIFSTOPPED(status); wait_child(pid, &status)) {
		int sig = WSTOPSIG(status);

		if (!attached) {
			ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL);
			attached = true;
			sig = 0;
		} else if (status >> 8 == (SIGTRAP | PTRACE_EVENT_SECCOMP << 8)) {
			out->tracer_stops++;
			ptrace(PTRACE_GETEVENTMSG, pid, 0, &out->tracer_data);
			sig = 0;
		}
		ptrace(PTRACE_CONT, pid, 0, sig);
	}
	out->wait_status = status;
}

/* Appends one part of an outcome, "; " between parts. */
static void add_part(char *s, const char *fmt, ...)
{
	size_t len = strlen(s);
	va_list ap;

	if (len)
		len += snprintf(s + len, OUTCOME_SIZE - len, "; ");
	if (len >= OUTCOME_SIZE)
		return;
	va_start(ap, fmt);
	vsnprintf(s + len, OUTCOME_SIZE - len, fmt, ap);
	va_end(ap);
}

static const char *number_name(long value, char *buf, size_t size)
{
	const char *name = value < 0 && value >= -4095 ? strerrorname_np(-value) : NULL;

	if (name)
		snprintf(buf, size, "-%s", name);
	else
		snprintf(buf, size, "%ld", value);
	return buf;
}

/* @name if @value is the one expected, else @value in hex: the table names what matches. */
static const char *name_or_hex(uint64_t value, uint64_t expected, const char *name, char *buf)
{
	if (value == expected)
		return name;
	snprintf(buf, 32, "%#llx", (unsigned long long)value);
	return buf;
}

/* The outcome as the table prints it: the cases' expectations are in this form. */
static void describe(const struct parity_case *c, const struct outcome *o, char *s)
{
	char ret[32], written[32], code[32], arch[32], addr[32], pid[32];
	const char *ran = written;
	long args[7];
	bool args_as_made = true;

	s[0] = '\0';
	if (o->setup_failed) {
		add_part(s, "setup failed: %s (errno %d)", o->setup_failed, o->setup_errno);
		return;
	}
	if (o->written == LEN && !memcmp(o->bytes, PAYLOAD, LEN))
		ran = "ran";
	else if (o->written == 0)
		ran = "not run";
	else
		snprintf(written, sizeof(written), "wrote %zd bytes", o->written);
	add_part(s, "%s, %s", o->returned ? number_name(o->ret, ret, sizeof(ret)) : "no return", ran);

	if (o->signalled) {
		const siginfo_t *si = &o->siginfo;

		if (si->si_code == SYS_SECCOMP)
			snprintf(code, sizeof(code), "SYS_SECCOMP");
		else
			snprintf(code, sizeof(code), "code %d", si->si_code);
		add_part(s, "SIG%s(%s, errno %d, nr %d, %s, at %s) on %s frame",
			 sigabbrev_np(si->si_signo), code, si->si_errno, si->si_syscall,
			 name_or_hex(si->si_arch, AUDIT_ARCH_X86_64, "x86_64", arch),
			 name_or_hex((uintptr_t)si->si_call_addr, (uintptr_t)after_syscall,
				     "the call", addr),
			 o->calls_frame ? "the call's" : "another");
	}
	if (o->notified) {
		const struct seccomp_notif *n = &o->notif;

		make_args(c, args);
		for (int i = 0; i < 6; i++)
			args_as_made &= n->data.args[i] == (uint64_t)args[i + 1];
		if ((pid_t)n->pid == o->caller_tid)
			snprintf(pid, sizeof(pid), "the caller's");
		else
			snprintf(pid, sizeof(pid), "%u, the caller %d", n->pid, o->caller_tid);
		add_part(s, "notified(nr %d, %s, args %s, ip at %s, pid %s)", n->data.nr,
			 name_or_hex(n->data.arch, AUDIT_ARCH_X86_64, "x86_64", arch),
			 args_as_made ? "as made" : "differ",
			 name_or_hex(n->data.instruction_pointer, (uintptr_t)after_syscall,
				     "the call", addr), pid);
	}
	if (c->tracer && o->tracer_stops)
		add_part(s, "tracer stops: %d (data %lu)", o->tracer_stops, o->tracer_data);
	else if (c->tracer)
		add_part(s, "tracer stops: 0");
	if (o->thread_gone)
		add_part(s, "thread gone, process went on");

	if (o->hung)
		add_part(s, "hung: main thread %c, %d thread(s); killed after %d s",
			 o->hung_state, o->hung_threads, CHILD_SECONDS);
	else if (WIFEXITED(o->wait_status))
		add_part(s, "exit %d", WEXITSTATUS(o->wait_status));
	else if (WIFSIGNALED(o->wait_status))
		add_part(s, "killed by SIG%s", sigabbrev_np(WTERMSIG(o->wait_status)));
	else
		add_part(s, "wait status %#x", o->wait_status);
}

static void run(const struct parity_case *c, bool hostcall, char *outcome)
{
	int pipe_fds[2];
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (pipe(pipe_fds)) {
		perror("hostcall-parity: pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("hostcall-parity: fork");
		exit(1);
	}
	if (pid == 0) {
		close(pipe_fds[0]);
		child(c, hostcall, pipe_fds[1]);
	}
	close(pipe_fds[1]);
	alarm(CHILD_SECONDS);
	if (c->tracer)
		trace(pid);
	else
		wait_child(pid, &out->wait_status);
	alarm(0);
	/* The child is gone: whatever it wrote is in the pipe. */
	out->written = read(pipe_fds[0], out->bytes, sizeof(out->bytes));
	close(pipe_fds[0]);
	describe(c, out, outcome);
}

static int width(const char *s, int w)
{
	int len = strlen(s);

	return len > w ? len : w;
}

int main(void)
{
	static char native[ARRAY_SIZE(cases)][OUTCOME_SIZE], hostcall[ARRAY_SIZE(cases)][OUTCOME_SIZE];
	static char verdict[ARRAY_SIZE(cases)][OUTCOME_SIZE];
	static bool ok[ARRAY_SIZE(cases)];
	int name_w = strlen("case"), native_w = strlen("native"), hostcall_w = strlen("hostcall");
	struct hc_vm *probe = hc_vm_create(0);
	int mode, failed = 0;

	if (!probe) {
		perror("hostcall-parity: hc_vm_create");
		return 1;
	}
	mode = hc_vm_mode(probe);
	hc_vm_destroy(probe);
	if (mode != HC_MODE_HYPERCALL) {
		printf("1..0 # SKIP this kernel has no KVM_CAP_X86_HOST_SYSCALL\n");
		return 4;
	}
	sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
	out = mmap(NULL, sizeof(*out), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED) {
		perror("hostcall-parity: mmap");
		return 1;
	}

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct parity_case *c = &cases[i];
		bool native_ok;

		run(c, false, native[i]);
		run(c, true, hostcall[i]);
		native_ok = !strcmp(native[i], c->native);
		if (!strcmp(native[i], hostcall[i])) {
			snprintf(verdict[i], OUTCOME_SIZE, "%s",
				 c->documented ? "same, but documented to differ" : "same");
			ok[i] = native_ok && !c->documented;
		} else if (c->documented && !strcmp(hostcall[i], c->hostcall)) {
			snprintf(verdict[i], OUTCOME_SIZE, "differs (documented: %s)", c->documented);
			ok[i] = native_ok;
		} else {
			snprintf(verdict[i], OUTCOME_SIZE, "DIFFERS");
		}
		name_w = width(c->name, name_w);
		native_w = width(native[i], native_w);
		hostcall_w = width(hostcall[i], hostcall_w);
	}

	printf("1..%zu\n", ARRAY_SIZE(cases));
	printf("# %-*s | %-*s | %-*s | verdict\n", name_w, "case", native_w, "native",
	       hostcall_w, "hostcall");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		printf("# %-*s | %-*s | %-*s | %s\n", name_w, cases[i].name, native_w, native[i],
		       hostcall_w, hostcall[i], verdict[i]);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		printf("%s %zu - %s\n", ok[i] ? "ok" : "not ok", i + 1, cases[i].name);
		if (strcmp(native[i], cases[i].native))
			printf("#   native: want %s\n", cases[i].native);
		if (!ok[i] && cases[i].documented)
			printf("#   hostcall: documented %s\n", cases[i].hostcall);
		failed += !ok[i];
	}
	return failed ? 1 : 0;
}
