// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * sandbox-signals: signal handlers as programs use them, the same lines
 * natively and under hostcall-run: SA_SIGINFO, masks, sigsuspend,
 * SA_RESETHAND, SA_NODEFER, sigaltstack, faults caught (SIGSEGV, SIGFPE,
 * SIGILL, SIGTRAP), a timer while ring 3 spins, another process's kill
 * interrupting a read (SA_RESTART or EINTR) and a sleep, SIGCHLD, SIGPIPE
 * ignored, registers kept across a handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "say.h"

static volatile sig_atomic_t handled, last_sig, nested_blocked;
static volatile int last_code;
static void *volatile last_addr;
static volatile uintptr_t handler_sp;
static sigjmp_buf escape;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	sigset_t now;

	(void)uc;
	handled++;
	last_sig = sig;
	last_code = si->si_code;
	last_addr = si->si_addr;
	handler_sp = (uintptr_t)&now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	nested_blocked = sigismember(&now, sig);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	on_info(sig, si, uc);
	siglongjmp(escape, 1);
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO | flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void basics(void)
{
	sigset_t set, pending;
	struct sigaction now;

	handle(SIGUSR1, on_info, 0);
	handled = 0;
	raise(SIGUSR1);
	check(handled == 1 && last_sig == SIGUSR1 && last_code == SI_TKILL && nested_blocked,
	      "raise: the handler ran once, with SI_TKILL, its signal blocked inside");

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	handled = 0;
	raise(SIGUSR1);
	sigpending(&pending);
	check(!handled && sigismember(&pending, SIGUSR1), "blocked: pending, not handled");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	check(handled == 1, "unblocked: handled before sigprocmask returned");

	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR1);
	handled = 0;
	sigemptyset(&set);
	errno = 0;
	sigsuspend(&set);
	sigprocmask(SIG_SETMASK, NULL, &set);
	check(handled == 1 && errno == EINTR && sigismember(&set, SIGUSR1),
	      "sigsuspend: handled, EINTR, the old mask back");
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);

	handle(SIGUSR2, on_info, SA_RESETHAND | SA_NODEFER);
	handled = 0;
	raise(SIGUSR2);
	sigaction(SIGUSR2, NULL, &now);
	check(handled == 1 && !nested_blocked && now.sa_handler == SIG_DFL,
	      "SA_RESETHAND, SA_NODEFER: ran unblocked, the default is back");

	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	say("SIG_IGN: raise came back\n");
}

static void altstack(void)
{
	static char stack[65536];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) }, old;

	check(sigaltstack(&ss, NULL) == 0, "sigaltstack");
	handle(SIGUSR1, on_info, SA_ONSTACK);
	raise(SIGUSR1);
	check(handler_sp > (uintptr_t)stack && handler_sp < (uintptr_t)stack + sizeof(stack),
	      "SA_ONSTACK: the handler ran on the alternate stack");
	ss.ss_size = 100;
	errno = 0;
	check(sigaltstack(&ss, NULL) < 0 && errno == ENOMEM, "sigaltstack too small: ENOMEM");
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, &old);
	check(old.ss_sp == stack && old.ss_flags == 0, "sigaltstack: the old stack, not in use");
}

static const char *fault(const char *what)
{
	static char text[128];
	volatile int zero = 0, x = 1;

	handled = 0;
	if (!sigsetjmp(escape, 1)) {
		if (!strcmp(what, "null"))
			x = *(volatile int *)(uintptr_t)zero;
		else if (!strcmp(what, "divide"))
			x = x / zero;
		else if (!strcmp(what, "ud2"))
			__asm__ volatile("ud2");
		else if (!strcmp(what, "read-only")) {
			static const int ro = 1;

			*(volatile int *)&ro = 2;
		}
	}
	snprintf(text, sizeof(text), "signal %d code %d%s", (int)last_sig, last_code,
		 last_addr ? " with an address" : "");
	(void)x;
	return text;
}

static void faults(void)
{
	handle(SIGSEGV, on_fault, 0);
	handle(SIGFPE, on_fault, 0);
	handle(SIGILL, on_fault, 0);
	say("NULL read: %s\n", fault("null"));
	say("write to read-only data: %s\n", fault("read-only"));
	say("divide by zero: %s\n", fault("divide"));
	say("ud2: %s\n", fault("ud2"));
	handle(SIGTRAP, on_info, 0);
	handled = 0;
	__asm__ volatile("int3");
	say("int3: signal %d, handled %d, went on\n", (int)last_sig, (int)handled);
}

static volatile int ticks;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

/* A timer while ring 3 spins, with floating point in flight. */
static void timer(void)
{
	struct itimerval every = { { 0, 5000 }, { 0, 5000 } }, stop = { 0 };
	volatile double sum = 0;

	signal(SIGALRM, on_tick);
	setitimer(ITIMER_REAL, &every, NULL);
	for (long i = 1; ticks < 3; i++)
		sum += 1.0 / (double)(i % 1000 + 1);
	setitimer(ITIMER_REAL, &stop, NULL);
	signal(SIGALRM, SIG_DFL);
	check(ticks >= 3 && sum > 0, "setitimer: 3 ticks while spinning, the sum kept");
}

/* Until @pid blocks (state S in /proc/PID/stat). */
static void wait_blocked(pid_t pid)
{
	char path[64], stat[512], *end;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int i = 0; i < 100000; i++) {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd < 0 ? 0 : read(fd, stat, sizeof(stat) - 1);

		close(fd);
		stat[n > 0 ? n : 0] = '\0';
		end = strrchr(stat, ')');
		if (end && end[2] == 'S')
			return;
		usleep(1000);
	}
}

/* A child signals us once we block in @what, then writes the pipe. */
static void interrupted(const char *what, int flags)
{
	int fds[2], err;
	char c;
	long ret;
	pid_t pid, parent = getpid();

	handle(SIGUSR1, on_info, flags);
	if (pipe(fds) < 0)
		return;
	pid = fork();
	if (!pid) {
		wait_blocked(parent);
		kill(parent, SIGUSR1);
		wait_blocked(parent);
		_exit(write(fds[1], "x", 1) != 1);
	}
	handled = 0;
	if (!strcmp(what, "read")) {
		ret = read(fds[0], &c, 1);
	} else {
		struct timespec t = { 30, 0 };

		ret = nanosleep(&t, &t);
		write(fds[1], "x", 1);
	}
	err = errno;
	if (ret < 0)
		read(fds[0], &c, 1);
	waitpid(pid, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	say("%s, %s: handled %d, %s\n", what, flags & SA_RESTART ? "SA_RESTART" : "no SA_RESTART",
	    (int)handled, ret < 0 ? strerror(err) : "done");
}

static void children(void)
{
	sigset_t set, old;
	pid_t pid;
	int fds[2];
	long ret;

	handle(SIGCHLD, on_info, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	handled = 0;
	pid = fork();
	if (!pid)
		_exit(3);
	while (!handled)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	say("SIGCHLD: handled, code %s\n", last_code == CLD_EXITED ? "CLD_EXITED" : "other");
	waitpid(pid, NULL, 0);

	signal(SIGPIPE, SIG_IGN);
	if (pipe(fds) < 0)
		return;
	close(fds[0]);
	errno = 0;
	ret = write(fds[1], "x", 1);
	say("write to a closed pipe, SIGPIPE ignored: %ld, %s\n", ret, strerror(errno));
	close(fds[1]);
}

int main(void)
{
	basics();
	altstack();
	faults();
	timer();
	interrupted("read", SA_RESTART);
	interrupted("read", 0);
	interrupted("nanosleep", SA_RESTART);
	children();
	return failures != 0;
}
