// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * sandbox-threads: POSIX threads as programs use them, the same lines
 * natively and under hostcall-run, where each thread is a host thread with
 * a vCPU of its own: join, a condition variable, TLS, robust mutexes whose
 * owner exits, per-thread signal masks, pthread_kill, sigwait, a thread's
 * own exit beside exit_group, detached threads, fork from a thread, futexes,
 * a requeue, a priority-inheritance mutex, clone3's errors, and memory
 * changed by one thread while another uses it.
 *
 *   sandbox-threads             the checks; exit 0 if all held, else 1
 *   sandbox-threads main-exits  main calls pthread_exit holding a robust
 *                               mutex; the others finish, the last one's
 *                               return ends the process with 0
 *   sandbox-threads group-exit  a thread calls exit(3) while the others
 *                               block in futex, read, nanosleep and pause,
 *                               or spin: the process ends with 3
 *
 * The lines may depend on nothing the scheduler decides: threads print
 * only in an order semaphores fix, and the program prints values and
 * yes/no, never thread ids or addresses.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "say.h"

#define PAGE		4096
#define JOINERS		8
#define SPAN		100000		/* numbers each joined thread adds up */
#define SLOTS		4		/* the producer/consumer queue */
#define ITEMS		250		/* per producer */
#define PRODUCERS	2
#define CONSUMERS	2
#define TLS_THREADS	4
#define MAPPERS		4
#define MAPS		200		/* mmap, mprotect, munmap rounds per mapper */

static pthread_t start(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, fn, arg);

	if (err) {
		say("FAIL pthread_create: %s\n", strerror(err));
		exit(1);
	}
	return t;
}

static void *joined(pthread_t t)
{
	void *ret;
	int err = pthread_join(t, &ret);

	if (err) {
		say("FAIL pthread_join: %s\n", strerror(err));
		exit(1);
	}
	return ret;
}

/* sem_wait, which a handled signal interrupts whatever SA_RESTART says */
static void wait_for(sem_t *sem)
{
	while (sem_wait(sem) < 0 && errno == EINTR)
		;
}

static pthread_barrier_t all_there;

static void *add_span(void *arg)
{
	uintptr_t k = (uintptr_t)arg, sum = 0;

	/* all alive at once: as many vCPUs as threads under hostcall-run */
	pthread_barrier_wait(&all_there);
	for (uintptr_t i = k * SPAN; i < (k + 1) * SPAN; i++)
		sum += i;
	return (void *)sum;
}

static void join(void)
{
	pthread_t t[JOINERS];
	uintptr_t sum = 0, n = (uintptr_t)JOINERS * SPAN;

	pthread_barrier_init(&all_there, NULL, JOINERS + 1);
	for (uintptr_t k = 0; k < JOINERS; k++)
		t[k] = start(add_span, (void *)k);
	pthread_barrier_wait(&all_there);
	for (int k = 0; k < JOINERS; k++)
		sum += (uintptr_t)joined(t[k]);
	pthread_barrier_destroy(&all_there);
	check(sum == n * (n - 1) / 2, "join: %d threads alive at once, sum %lu", JOINERS,
	      (unsigned long)sum);
}

static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	int slot[SLOTS], head, count, producing;
	unsigned char seen[PRODUCERS * ITEMS];
} queue = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.not_full = PTHREAD_COND_INITIALIZER,
	.not_empty = PTHREAD_COND_INITIALIZER,
	.producing = PRODUCERS,
};

static void *produce(void *arg)
{
	int base = (intptr_t)arg * ITEMS;

	for (int i = 0; i < ITEMS; i++) {
		pthread_mutex_lock(&queue.lock);
		while (queue.count == SLOTS)
			pthread_cond_wait(&queue.not_full, &queue.lock);
		queue.slot[(queue.head + queue.count++) % SLOTS] = base + i;
		pthread_cond_signal(&queue.not_empty);
		pthread_mutex_unlock(&queue.lock);
	}
	pthread_mutex_lock(&queue.lock);
	if (!--queue.producing)
		pthread_cond_broadcast(&queue.not_empty);
	pthread_mutex_unlock(&queue.lock);
	return NULL;
}

static void *consume(void *arg)
{
	uintptr_t sum = 0;

	(void)arg;
	for (;;) {
		int item;

		pthread_mutex_lock(&queue.lock);
		while (!queue.count && queue.producing)
			pthread_cond_wait(&queue.not_empty, &queue.lock);
		if (!queue.count) {
			pthread_mutex_unlock(&queue.lock);
			return (void *)sum;
		}
		item = queue.slot[queue.head];
		queue.head = (queue.head + 1) % SLOTS;
		queue.count--;
		queue.seen[item]++;
		pthread_cond_signal(&queue.not_full);
		pthread_mutex_unlock(&queue.lock);
		sum += item;
	}
}

static void condvar(void)
{
	pthread_t p[PRODUCERS], c[CONSUMERS];
	uintptr_t sum = 0;
	int once = 1;

	for (intptr_t i = 0; i < CONSUMERS; i++)
		c[i] = start(consume, NULL);
	for (intptr_t i = 0; i < PRODUCERS; i++)
		p[i] = start(produce, (void *)i);
	for (int i = 0; i < PRODUCERS; i++)
		joined(p[i]);
	for (int i = 0; i < CONSUMERS; i++)
		sum += (uintptr_t)joined(c[i]);
	for (int i = 0; i < PRODUCERS * ITEMS; i++)
		once &= queue.seen[i] == 1;
	check(once, "condvar: %d producers, %d consumers, %d items through %d slots, "
	      "each once, sum %lu", PRODUCERS, CONSUMERS, PRODUCERS * ITEMS, SLOTS,
	      (unsigned long)sum);
}

static __thread int t_value = 7;
static __thread long t_zero;
static __thread unsigned char t_big[3 * PAGE];	/* the TLS block spans pages */
static int *tls_at[TLS_THREADS];
static pthread_barrier_t tls_written;

static void *own_tls(void *arg)
{
	uintptr_t k = (uintptr_t)arg;
	unsigned long fs = 0;
	int fresh = t_value == 7 && !t_zero && !t_big[0] && !t_big[sizeof(t_big) - 1], kept;

	t_value = 100 + k;
	t_big[sizeof(t_big) - 1] = k;
	errno = 200 + k;
	tls_at[k] = &t_value;
	/* every thread has written its own before any reads its own back */
	pthread_barrier_wait(&tls_written);
	kept = t_value == 100 + (int)k && t_big[sizeof(t_big) - 1] == k && errno == 200 + (int)k;
	/* glibc's thread pointer is the FS base, which each vCPU must load as its own */
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	return (void *)(uintptr_t)(fresh && kept && fs == (unsigned long)pthread_self());
}

static void tls(void)
{
	pthread_t t[TLS_THREADS];
	int good = 1;

	t_value = 99;
	pthread_barrier_init(&tls_written, NULL, TLS_THREADS);
	for (uintptr_t k = 0; k < TLS_THREADS; k++)
		t[k] = start(own_tls, (void *)k);
	for (int k = 0; k < TLS_THREADS; k++)
		good &= (uintptr_t)joined(t[k]) == 1;
	pthread_barrier_destroy(&tls_written);
	for (int i = 0; i < TLS_THREADS; i++)
		for (int j = i + 1; j < TLS_THREADS; j++)
			good &= tls_at[i] != tls_at[j];
	check(good && t_value == 99, "tls: %d threads, each its own initialised copy, errno "
	      "and FS base; main's copy kept", TLS_THREADS);
}

/*
 * A priority-inheritance mutex: its contended lock and unlock are the
 * host's FUTEX_LOCK_PI and FUTEX_UNLOCK_PI, with our tids in the word.
 */
static struct {
	pthread_mutex_t lock;
	long count;
} pi;

static void *add_under_pi(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&pi.lock);
		pi.count++;
		pthread_mutex_unlock(&pi.lock);
	}
	return NULL;
}

static void pi_mutex(void)
{
	pthread_mutexattr_t attr;
	pthread_t t[2];
	int ret;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&pi.lock, &attr);
	pthread_mutexattr_destroy(&attr);
	/* held while they start: their first lock waits in the host's FUTEX_LOCK_PI */
	pthread_mutex_lock(&pi.lock);
	for (int k = 0; k < 2; k++)
		t[k] = start(add_under_pi, NULL);
	usleep(10000);
	pthread_mutex_unlock(&pi.lock);
	for (int k = 0; k < 2; k++)
		joined(t[k]);
	ret = pthread_mutex_trylock(&pi.lock);
	check(pi.count == 2000 && ret == 0,
	      "PI mutex: 2 threads x 1000 locked increments, %ld; free after", pi.count);
	pthread_mutex_unlock(&pi.lock);
	pthread_mutex_destroy(&pi.lock);
}

static void robust_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
}

/* Its owner exits holding it: the robust list, walked at the thread's exit, says so. */
static void *hold_and_return(void *m)
{
	pthread_mutex_lock(m);
	return NULL;
}

static void *hold_and_exit(void *m)
{
	pthread_mutex_lock(m);
	pthread_exit(NULL);
}

static sem_t locked;

/* Returns holding it once another thread waits for it: the exit must wake that one. */
static void *hold_until_waited(void *arg)
{
	pthread_mutex_t *m = arg;

	pthread_mutex_lock(m);
	sem_post(&locked);
	/* glibc sets FUTEX_WAITERS in the lock word before it blocks */
	while (!(__atomic_load_n(&m->__data.__lock, __ATOMIC_ACQUIRE) & FUTEX_WAITERS))
		sched_yield();
	return NULL;
}

static void *wait_robust(void *arg)
{
	pthread_mutex_t *m = arg;
	int err;

	wait_for(&locked);
	err = pthread_mutex_lock(m);
	if (err == EOWNERDEAD && !pthread_mutex_consistent(m))
		pthread_mutex_unlock(m);
	return (void *)(intptr_t)err;
}

static void robust(void)
{
	pthread_mutex_t m, waited;
	pthread_t owner, waiter;
	int dead, consistent, again, unrecoverable;

	robust_init(&m);
	joined(start(hold_and_return, &m));
	dead = pthread_mutex_lock(&m);
	consistent = pthread_mutex_consistent(&m);
	pthread_mutex_unlock(&m);
	again = pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	check(dead == EOWNERDEAD && !consistent && !again,
	      "robust: its owner returned holding it: EOWNERDEAD, consistent, locks again");

	joined(start(hold_and_exit, &m));
	dead = pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	unrecoverable = pthread_mutex_lock(&m);
	check(dead == EOWNERDEAD && unrecoverable == ENOTRECOVERABLE,
	      "robust: its owner called pthread_exit holding it: EOWNERDEAD; not made "
	      "consistent: ENOTRECOVERABLE");

	robust_init(&waited);
	sem_init(&locked, 0, 0);
	waiter = start(wait_robust, &waited);
	owner = start(hold_until_waited, &waited);
	joined(owner);
	dead = (intptr_t)joined(waiter);
	check(dead == EOWNERDEAD, "robust: a thread waiting when the owner exited: EOWNERDEAD");
	sem_destroy(&locked);
}

static pthread_key_t key;
static volatile uintptr_t destructed, cleaned;

static void destruct(void *value)
{
	destructed = (uintptr_t)value;
}

static void clean_up(void *arg)
{
	cleaned = (uintptr_t)arg;
}

static void leave(void)
{
	pthread_exit((void *)42);
}

static void *exit_from_below(void *arg)
{
	pthread_setspecific(key, (void *)7);
	pthread_cleanup_push(clean_up, (void *)5);
	leave();
	pthread_cleanup_pop(0);
	return arg;
}

/* The exit system call ends this thread only, where exit_group would end them all. */
static void *exit_raw(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	__builtin_unreachable();
}

static void exits(void)
{
	uintptr_t ret;

	pthread_key_create(&key, destruct);
	ret = (uintptr_t)joined(start(exit_from_below, NULL));
	check(ret == 42 && cleaned == 5 && destructed == 7,
	      "pthread_exit: value %lu, cleanup handler and key destructor ran",
	      (unsigned long)ret);
	pthread_key_delete(key);

	joined(start(exit_raw, NULL));
	say("SYS_exit in a thread: that thread ended, main joined it\n");
}

static atomic_int detached_ran;
static sem_t detached_done;

static void *run_detached(void *arg)
{
	if (arg)
		pthread_detach(pthread_self());
	atomic_fetch_add(&detached_ran, 1);
	sem_post(&detached_done);
	return NULL;
}

static void detached(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int err = 0;

	sem_init(&detached_done, 0, 0);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 4; i++)
		err |= pthread_create(&t, &attr, run_detached, NULL);
	pthread_attr_destroy(&attr);
	err |= pthread_create(&t, NULL, run_detached, (void *)1);
	for (int i = 0; i < 5 && !err; i++)
		wait_for(&detached_done);
	check(!err && atomic_load(&detached_ran) == 5,
	      "detached: 4 created detached, 1 detaching itself: all ran");
}

static volatile pid_t handler_tid;
static volatile int handler_code;
static volatile sig_atomic_t got;
static sem_t handled;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	handler_tid = gettid();
	handler_code = si->si_code;
	got = 1;
	sem_post(&handled);
}

struct waiter {
	int sig;
	pid_t tid;
	sem_t ready, go;
};

static void waiter_init(struct waiter *w, int sig)
{
	w->sig = sig;
	sem_init(&w->ready, 0, 0);
	sem_init(&w->go, 0, 0);
}

static void waiter_destroy(struct waiter *w)
{
	sem_destroy(&w->ready);
	sem_destroy(&w->go);
}

static void unblock(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static int blocked(int sig)
{
	sigset_t set;

	pthread_sigmask(SIG_SETMASK, NULL, &set);
	return sigismember(&set, sig);
}

static void take_from_now(struct waiter *w)
{
	unblock(w->sig);
	w->tid = gettid();
	sem_post(&w->ready);
}

/* Unblocks w->sig and sleeps in a futex until its handler ran. */
static void *unblock_and_wait(void *arg)
{
	struct waiter *w = arg;
	int inherited = blocked(w->sig);

	take_from_now(w);
	wait_for(&handled);
	return (void *)(uintptr_t)(inherited && handler_tid == w->tid);
}

/* Unblocks w->sig and spins, making no system call, until its handler ran. */
static void *unblock_and_spin(void *arg)
{
	struct waiter *w = arg;

	take_from_now(w);
	while (!got)
		;
	wait_for(&handled);
	return (void *)(uintptr_t)(handler_tid == w->tid);
}

/* w->sig unblocked, parked until told to go: pthread_kill's target, or its bystander. */
static void *unblock_and_park(void *arg)
{
	struct waiter *w = arg;

	take_from_now(w);
	wait_for(&w->go);
	return NULL;
}

/* Keeps w->sig blocked until told to go: then it is pending here, and handled here. */
static void *park_blocked(void *arg)
{
	struct waiter *w = arg;
	sigset_t pending;
	int was_pending;

	w->tid = gettid();
	sem_post(&w->ready);
	wait_for(&w->go);
	sigpending(&pending);
	was_pending = sigismember(&pending, w->sig);
	got = 0;
	unblock(w->sig);
	return (void *)(uintptr_t)(was_pending && got && handler_tid == w->tid &&
				   handler_code == SI_TKILL);
}

/*
 * rt_sigtimedwait itself: glibc's sigwaitinfo() reports tgkill's SI_TKILL
 * as SI_USER, which would hide where a signal was sent.
 */
static int take_signal(const sigset_t *set, siginfo_t *info)
{
	return syscall(SYS_rt_sigtimedwait, set, info, NULL, _NSIG / 8);
}

/* Takes w->sig twice, blocked; says on w->go that it took the first. */
static void *take_by_sigwait(void *arg)
{
	struct waiter *w = arg;
	siginfo_t first, second;
	sigset_t set;
	int ok;

	sigemptyset(&set);
	sigaddset(&set, w->sig);
	sem_post(&w->ready);
	ok = take_signal(&set, &first) == w->sig;
	sem_post(&w->go);
	ok &= take_signal(&set, &second) == w->sig;
	return (void *)(uintptr_t)(ok && first.si_code == SI_USER && second.si_code == SI_TKILL);
}

/*
 * main blocks SIGUSR1 and SIGUSR2 before the first thread, so that every
 * thread starts with them blocked and only those that unblock them can
 * take a signal sent to the process.
 */
static void signals(void)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	struct waiter a, b, c;
	pthread_t ta, tb, tc;
	sigset_t pending;
	uintptr_t ok;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sem_init(&handled, 0, 0);

	waiter_init(&a, SIGUSR1);
	ta = start(unblock_and_wait, &a);
	wait_for(&a.ready);
	kill(getpid(), SIGUSR1);
	ok = (uintptr_t)joined(ta);
	check(ok && blocked(SIGUSR1), "sigmask: kill(getpid()) ran the handler in the one "
	      "thread that unblocked it, waiting on a semaphore; main's mask kept");
	waiter_destroy(&a);

	waiter_init(&a, SIGUSR2);
	got = 0;
	ta = start(unblock_and_spin, &a);
	wait_for(&a.ready);
	kill(getpid(), SIGUSR2);
	ok = (uintptr_t)joined(ta);
	check(ok, "sigmask: kill(getpid()) ran the handler in the one thread that unblocked "
	      "it, spinning without a system call");
	waiter_destroy(&a);

	waiter_init(&a, SIGUSR1);
	waiter_init(&b, SIGUSR1);
	ta = start(unblock_and_park, &a);
	tb = start(unblock_and_park, &b);
	wait_for(&a.ready);
	wait_for(&b.ready);
	pthread_kill(tb, SIGUSR1);
	wait_for(&handled);
	ok = handler_tid == b.tid && handler_code == SI_TKILL;
	sem_post(&a.go);
	sem_post(&b.go);
	joined(ta);
	joined(tb);
	check(ok, "pthread_kill: of two threads that take SIGUSR1, the one named ran the "
	      "handler, SI_TKILL");
	waiter_destroy(&a);
	waiter_destroy(&b);

	waiter_init(&c, SIGUSR1);
	tc = start(park_blocked, &c);
	wait_for(&c.ready);
	pthread_kill(tc, SIGUSR1);
	sigpending(&pending);
	ok = !sigismember(&pending, SIGUSR1);
	sem_post(&c.go);
	ok &= (uintptr_t)joined(tc);
	/* the handler posted once more than anyone waited: take that back */
	wait_for(&handled);
	check(ok, "pthread_kill to a thread that blocks it: pending there, not in main; "
	      "handled there once unblocked");
	waiter_destroy(&c);

	waiter_init(&c, SIGUSR2);
	tc = start(take_by_sigwait, &c);
	wait_for(&c.ready);
	kill(getpid(), SIGUSR2);
	wait_for(&c.go);
	pthread_kill(tc, SIGUSR2);
	ok = (uintptr_t)joined(tc);
	check(ok, "rt_sigtimedwait in a thread: SIGUSR2 from kill (SI_USER), then from "
	      "pthread_kill (SI_TKILL)");
	waiter_destroy(&c);
	sem_destroy(&handled);
}

static const char *error_of(long ret)
{
	return ret < 0 ? strerror(errno) : "no error";
}

/* Two waiters on one futex word, moved to another by FUTEX_CMP_REQUEUE. */
static struct {
	uint32_t from, to, go;
} rq;

static void *wait_to_requeue(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&rq.go, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &rq.from, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

static void requeue(void)
{
	pthread_t t[2];
	long moved = 0, woken;

	for (int k = 0; k < 2; k++)
		t[k] = start(wait_to_requeue, NULL);
	/* until both wait: the count is of the waiters moved */
	while (moved < 2) {
		long n = syscall(SYS_futex, &rq.from, FUTEX_CMP_REQUEUE_PRIVATE, 0, 2, &rq.to, 0);

		moved += n > 0 ? n : 0;
		if (moved < 2)
			usleep(1000);
	}
	__atomic_store_n(&rq.go, 1, __ATOMIC_SEQ_CST);
	woken = syscall(SYS_futex, &rq.to, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0);
	/* one woken early (a signal) waits on the first word again: not a hang */
	syscall(SYS_futex, &rq.from, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0);
	for (int k = 0; k < 2; k++)
		joined(t[k]);
	check(moved == 2 && woken == 2, "futex requeue: 2 waiters moved to a second word, "
	      "%ld woken there", woken);
}

/* clone3() as glibc calls it, and its argument errors. */
static void clone3_errors(void)
{
	struct { struct clone_args args; uint64_t more; } a = {
		.args = { .flags = CLONE_VM | CLONE_THREAD, .exit_signal = 0 },
	};
	const char *small, *half_stack, *signal_with_thread, *more;

	small = error_of(syscall(SYS_clone3, &a.args, 32));
	a.args.stack = 4096;
	half_stack = error_of(syscall(SYS_clone3, &a.args, sizeof(a.args)));
	a.args.stack = 0;
	a.args.flags |= CLONE_SIGHAND;
	a.args.exit_signal = SIGCHLD;
	signal_with_thread = error_of(syscall(SYS_clone3, &a.args, sizeof(a.args)));
	a.args = (struct clone_args){ .flags = CLONE_VFORK, .exit_signal = SIGCHLD };
	a.more = 1;
	more = error_of(syscall(SYS_clone3, &a, sizeof(a)));
	say("clone3: a short struct: %s; a stack without its size: %s; a thread's exit "
	    "signal: %s; an unknown field set: %s\n", small, half_stack, signal_with_thread, more);
}

static void futexes(void)
{
	static uint32_t word = 1;
	struct timespec ms = { 0, 1000000 };
	const char *changed, *timed_out, *null;

	changed = error_of(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
	timed_out = error_of(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, &ms, NULL, 0));
	null = error_of(syscall(SYS_futex, NULL, FUTEX_WAIT, 0, &ms, NULL, 0));
	say("futex: WAIT on a changed value: %s; with a timeout: %s; at NULL: %s; "
	    "WAKE with no waiter: %ld\n", changed, timed_out, null,
	    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
}

static void *map_unmap(void *arg)
{
	uintptr_t k = (uintptr_t)arg, bad = 0;

	for (int i = 0; i < MAPS; i++) {
		size_t len = (1 + (i + k) % 4) * PAGE;
		unsigned char value = k * MAPS + i;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			bad++;
			continue;
		}
		memset(p, value, len);
		bad += mprotect(p, len, PROT_READ) != 0;
		bad += p[0] != value || p[len - 1] != value;
		bad += munmap(p, len) != 0;
	}
	return (void *)bad;
}

/* The other thread of the mapping checks: touches a page when told, and says what happened. */
enum touch { TOUCH_READ, TOUCH_WRITE, TOUCH_CALL, TOUCH_STOP };

static struct {
	sem_t go, done;
	enum touch op;
	volatile unsigned char *page;
	int value, faulted;
} touch;

static __thread sigjmp_buf t_escape;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(t_escape, 1);
}

static void *toucher(void *arg)
{
	for (;;) {
		wait_for(&touch.go);
		if (touch.op == TOUCH_STOP)
			return arg;
		touch.faulted = 0;
		if (sigsetjmp(t_escape, 1))
			touch.faulted = 1;
		else if (touch.op == TOUCH_READ)
			touch.value = *touch.page;
		else if (touch.op == TOUCH_WRITE)
			*touch.page = 2;
		else
			((void (*)(void))touch.page)();
		sem_post(&touch.done);
	}
}

static const char *touched(enum touch op, void *page)
{
	static char text[2][16];	/* a line shows two results */
	static int next;
	char *s = text[next++ % 2];

	touch.op = op;
	touch.page = page;
	sem_post(&touch.go);
	wait_for(&touch.done);
	if (touch.faulted)
		return "SIGSEGV";
	if (op != TOUCH_READ)
		return "done";
	snprintf(s, sizeof(text[0]), "%d", touch.value);
	return s;
}

/*
 * What one thread does to its mappings holds at once in the others: the
 * toucher has each page in its TLB (and under hostcall-run its vCPU's)
 * before main changes it.
 */
static void mappings(void)
{
	struct sigaction sa = { .sa_handler = on_segv };
	const char *before, *after;
	unsigned char *p;
	pthread_t t[MAPPERS], tt;
	uintptr_t bad = 0;

	for (uintptr_t k = 0; k < MAPPERS; k++)
		t[k] = start(map_unmap, (void *)k);
	for (int k = 0; k < MAPPERS; k++)
		bad += (uintptr_t)joined(t[k]);
	check(!bad, "mmap: %d threads at once, %d rounds each of mmap, mprotect, munmap, "
	      "the data right", MAPPERS, MAPS);

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sem_init(&touch.go, 0, 0);
	sem_init(&touch.done, 0, 0);
	tt = start(toucher, NULL);

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		check(0, "mmap: %s", strerror(errno));
		return;
	}
	p[0] = 1;
	before = touched(TOUCH_READ, p);
	after = touched(TOUCH_WRITE, p);
	say("mapping: another thread reads %s, writes: %s\n", before, after);
	mprotect(p, PAGE, PROT_READ);
	before = touched(TOUCH_READ, p);
	after = touched(TOUCH_WRITE, p);
	say("mapping: after mprotect(PROT_READ) it reads %s, writes: %s\n", before, after);
	mmap(p, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	before = touched(TOUCH_READ, p);
	munmap(p, PAGE);
	after = touched(TOUCH_READ, p);
	say("mapping: after mmap(MAP_FIXED) it reads %s; after munmap: %s\n", before, after);

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		check(0, "mmap: %s", strerror(errno));
		return;
	}
	memset(p, 0xc3, PAGE);	/* ret */
	before = touched(TOUCH_CALL, p);
	mprotect(p, PAGE, PROT_READ | PROT_WRITE);
	after = touched(TOUCH_CALL, p);
	say("mapping: another thread calls code in a page: %s; once mprotect() took "
	    "PROT_EXEC away: %s\n", before, after);
	munmap(p, PAGE);

	touch.op = TOUCH_STOP;
	sem_post(&touch.go);
	joined(tt);
	sem_destroy(&touch.go);
	sem_destroy(&touch.done);
	signal(SIGSEGV, SIG_DFL);
}

static atomic_int stop;

static void *spin(void *arg)
{
	atomic_int *count = arg;

	while (!atomic_load(&stop))
		atomic_fetch_add(count, 1);
	return NULL;
}

static sem_t stopped;

static void *sleep_in_futex(void *arg)
{
	wait_for(&stopped);
	return arg;
}

static void *child_thread(void *arg)
{
	return (void *)((uintptr_t)arg + 1);
}

static void *fork_here(void *arg)
{
	int status = 0;
	pid_t pid = fork();

	if (!pid) {
		pthread_t t;
		void *ret = NULL;

		/* the forking thread is the child's only one; it may start others */
		if (!pthread_create(&t, NULL, child_thread, (void *)6))
			pthread_join(t, &ret);
		say("fork from a thread: the child runs; a thread of its own returned %lu\n",
		    (unsigned long)(uintptr_t)ret);
		_exit(5);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return arg;
	return (void *)(uintptr_t)(WIFEXITED(status) ? WEXITSTATUS(status) : 128);
}

static void fork_from_thread(void)
{
	atomic_int count = 0;
	pthread_t spinner, sleeper;
	uintptr_t status;

	sem_init(&stopped, 0, 0);
	spinner = start(spin, &count);
	sleeper = start(sleep_in_futex, NULL);
	status = (uintptr_t)joined(start(fork_here, NULL));
	atomic_store(&stop, 1);
	sem_post(&stopped);
	joined(spinner);
	joined(sleeper);
	sem_destroy(&stopped);
	check(status == 5, "fork from a thread while one spins and one sleeps: the child's "
	      "exit %lu", (unsigned long)status);
}

/* The two modes that end the process their own way. */

static const char *mode;

static void at_exit(void)
{
	say("%s: atexit handler ran\n", mode);
}

static pthread_t main_thread;
static pthread_mutex_t main_held;
#define AFTER_MAIN	3
static sem_t turn[AFTER_MAIN];

/* Joins main, takes the mutex it died holding, then each thread prints in turn. */
static void *after_main(void *arg)
{
	uintptr_t k = (uintptr_t)arg;

	if (!k) {
		int joined_main = pthread_join(main_thread, NULL), err;

		check(!joined_main, "main-exits: a thread joined main");
		err = pthread_mutex_lock(&main_held);
		check(err == EOWNERDEAD, "main-exits: the robust mutex main held: EOWNERDEAD");
		pthread_mutex_consistent(&main_held);
		pthread_mutex_unlock(&main_held);
	}
	wait_for(&turn[k]);
	say("main-exits: thread %lu finishes after main\n", (unsigned long)k);
	if (k + 1 < AFTER_MAIN)
		sem_post(&turn[k + 1]);
	return NULL;
}

static int main_exits(void)
{
	main_thread = pthread_self();
	robust_init(&main_held);
	pthread_mutex_lock(&main_held);
	for (uintptr_t k = 0; k < AFTER_MAIN; k++) {
		sem_init(&turn[k], 0, !k);
		start(after_main, (void *)k);
	}
	say("main-exits: main holds a robust mutex, calls pthread_exit\n");
	pthread_exit(NULL);
}

static sem_t blocking;
static pthread_mutex_t never_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int never_fds[2];

/* Each posts just before it blocks for good; exit_group must end it there. */
static void *block_in_futex(void *arg)
{
	pthread_mutex_lock(&never_lock);
	sem_post(&blocking);
	pthread_cond_wait(&never, &never_lock);
	return arg;
}

static void *block_in_read(void *arg)
{
	char c;

	(void)arg;
	sem_post(&blocking);
	return (void *)read(never_fds[0], &c, 1);
}

static void *block_in_nanosleep(void *arg)
{
	struct timespec hour = { 3600, 0 };

	sem_post(&blocking);
	nanosleep(&hour, NULL);
	return arg;
}

static void *block_in_pause(void *arg)
{
	sem_post(&blocking);
	pause();
	return arg;
}

/* stop stays 0 in this mode */
static void *spin_forever(void *arg)
{
	sem_post(&blocking);
	return spin(arg);
}

static void *exit_3(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++)
		wait_for(&blocking);
	say("group-exit: 5 threads block (futex, read, nanosleep, pause, spinning), main in "
	    "pthread_join; a thread calls exit(3)\n");
	exit(3);
}

static int group_exit(void)
{
	static atomic_int count;

	if (pipe(never_fds) < 0)
		return 1;
	sem_init(&blocking, 0, 0);
	start(block_in_futex, NULL);
	start(block_in_read, NULL);
	start(block_in_nanosleep, NULL);
	start(block_in_pause, NULL);
	start(spin_forever, &count);
	joined(start(exit_3, NULL));
	say("group-exit: FAIL main joined the thread that called exit\n");
	return 1;
}

int main(int argc, char **argv)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "main-exits") || !strcmp(mode, "group-exit")) {
		atexit(at_exit);
		return !strcmp(mode, "main-exits") ? main_exits() : group_exit();
	}
	if (argc > 1) {
		say("usage: sandbox-threads [main-exits | group-exit]\n");
		return 2;
	}
	join();
	condvar();
	tls();
	robust();
	exits();
	detached();
	signals();
	futexes();
	requeue();
	clone3_errors();
	pi_mutex();
	mappings();
	fork_from_thread();
	return failures != 0;
}
