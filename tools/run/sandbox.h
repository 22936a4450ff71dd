/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * hostcall-run: a program in guest ring 3, its system calls served
 * by the ring-0 part of this process, built on libhostcall.
 *
 *   main.c      options, the policy, the host side: start, end, statistics
 *   load.c      the ELF image and the initial stack (host side, once)
 *   memory.c    the program's address space: areas, brk, mmap, pointers
 *   syscalls.c  ring 0: the loop around hc_user_run() and each system call
 *   process.c   the host side of fork, clone and execve
 *   thread.c    the program's threads: clone(CLONE_THREAD), exit
 *   signal.c    signals: the host's mirrored, the program's delivered
 *   frame.c     a handler's frame, rt_sigreturn(), sigaltstack()
 *
 * The program lives at the same addresses in the guest and in this process
 * (GVA == HVA, as everywhere in libhostcall), inside areas this process
 * reserved for it: ring 3 reaches nothing else, and a pointer the program
 * passes is safe to give the host kernel once it lies inside an area.
 */
#ifndef HOSTCALL_RUN_SANDBOX_H
#define HOSTCALL_RUN_SANDBOX_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "hostcall.h"

#define PAGE_SIZE	4096UL
#define USER_END	0x7ffffffff000UL	/* Linux's TASK_SIZE_MAX, 4-level paging */
#define NR_SYSCALLS	512	/* x86-64 numbers are below this */
#define NR_SIGNALS	64

/* Mapped ranges of the program: sorted, disjoint. */
#define MAX_SPANS	65536
struct span {
	uint64_t start, end;
};

/*
 * A reservation of this process for the program: PROT_NONE where the
 * program has nothing, and a guard page at @end that it can never map, so
 * that the host kernel reading a string from the program stops there.
 */
struct area {
	uint64_t start, end;
};

struct kernel_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* Linux's stack_t, for sigaltstack() */
struct signal_stack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

/* The program's mappings: memory.c changes them under the lock. */
struct memory {
	pthread_mutex_t lock;
	uint64_t brk_start, brk, brk_end;
	struct span *spans;
	int nr_spans;
};

/*
 * A thread of the program: its registers and signal state, run by a host
 * thread of ours on a vCPU of its own (libhostcall's, one per thread).
 */
struct task {
	struct hc_user_regs regs;	/* first: aligned for XSAVE */
	struct program *p;
	int tid;
	int pipe[2];		/* for copies from and to the program: memory.c */
	uint64_t clear_child_tid;	/* set_tid_address(), CLONE_CHILD_CLEARTID */
	uint64_t robust_list;	/* set_robust_list()'s head */

	/* Signals: signal.c, frame.c */
	uint64_t sigmask;
	struct signal_stack altstack;
	uint64_t caught;	/* noted by our handler, not yet delivered; atomic */
	siginfo_t caught_info[NR_SIGNALS + 1];
	uint64_t saved_mask;	/* rt_sigsuspend()'s, for the frame, if restore_mask */
	bool restore_mask;
	int interrupted_nr;	/* the call that just failed with EINTR, or -1 */
	uint64_t fault_vector, fault_error, fault_addr;	/* for the frame's sigcontext */

	/* A call the host side serves (process.c): its number, its arguments. */
	int request;
	uint64_t request_arg[6];

	bool exited;		/* exit(): this thread ends, the others go on */
	int exit_status;
};

/* The program's threads at once, at most: each has a vCPU and a pipe of ours. */
#define MAX_TASKS	32
/* The fd table we look at: our own fds lie below it, at its top (main.c). */
#define MAX_FD		1024

/* The program: what its threads share (a vfork() child has a copy). */
struct program {
	struct hc_vm *vm;
	unsigned int vm_flags;	/* hc_vm_create()'s */
	bool want_hypercall;	/* --mode hypercall: fail without the hypercall */
	bool in_vfork;		/* a vfork() child, in its parent's memory until it executes */
	bool ending;		/* a thread ends the program: others leave it to it; atomic */
	const char *name;
	char exe[4096];		/* the program's file, absolute: /proc/self/exe for it */

	struct area image;	/* the ELF image, then room for brk */
	struct area heap;	/* mmap(), with the stack at its top */
	struct memory *mem;	/* what is mapped there: a vfork() child's too */
	pthread_mutex_t lock;	/* of the actions, for the threads */
	struct kernel_sigaction actions[NR_SIGNALS + 1];
	int nr_tasks;		/* running, of at most MAX_TASKS; atomic */
	int leader_status;	/* exit()'s of the thread whose tid is the pid */

	unsigned char allowed[NR_SYSCALLS];	/* by the policy */
	unsigned long *count;		/* --stats: per number, NR_SYSCALLS + 1 for the rest; atomic */
	int fd_floor;		/* this process's own fds are at or above it */
	int pid;
	int root_pid;		/* the sandbox's first process: signal.c */
	uint32_t xstate_size, mxcsr_mask;	/* ring 3's XSAVE layout: frame.c */
	uint64_t xfeatures;

	/* How it ended: exit_group(), a signal, or an error. */
	bool ended;
	int exit_status;	/* exit_group()'s */
	int signal;		/* or the signal that killed it */
	bool faulted;
	struct hc_fault fault;	/* the exception behind that signal, if faulted */
	int error;		/* or hc_user_run()'s error */
};

static inline uint64_t page_down(uint64_t x)
{
	return x & ~(PAGE_SIZE - 1);
}

static inline uint64_t page_up(uint64_t x)
{
	return page_down(x + PAGE_SIZE - 1);
}

/* main.c */
extern bool fail_quietly;
#define EXEC_FROM	"--exec-from"	/* hostcall-run's argv[1] when execve() made it */
void make_vm(struct program *p);
long first_call(void *unused);
void run_task(struct task *t) __attribute__((noreturn));
void end_program(struct program *p) __attribute__((noreturn));

/* load.c (host side) */
int load_program(struct program *p, struct hc_user_regs *regs, const char *path, char **argv,
		 char **envp);
int check_executable(const char *path);

/* process.c (host side) */
long serve_request(struct task *t);
long clone_checks(const struct program *p, uint64_t flags, uint64_t ptid, uint64_t ctid,
		  uint64_t tls);
void clone_task(struct task *t, uint64_t flags, uint64_t stack, uint64_t ctid, uint64_t tls);
int exec_from(struct program *p, struct task *t, int fd, char ***argv, char ***envp);

/* thread.c (host side) */
struct task *task_new(struct program *p);
void task_free(struct task *t);
int task_pipe(struct task *t);
long new_thread(struct task *t, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid,
		uint64_t tls);
void task_exit(struct task *t);
long set_robust_list(struct task *t, const uint64_t *arg);
long get_robust_list(struct task *t, const uint64_t *arg);

/* memory.c */
int area_reserve(struct area *a, uint64_t start, uint64_t len);
bool inside(const struct program *p, uint64_t addr, uint64_t len);
bool string_inside(const struct program *p, uint64_t addr);
int span_add(struct program *p, uint64_t start, uint64_t end);
long mem_call(struct program *p, int nr, const uint64_t *arg);
int copy_from_program(struct task *t, void *dst, uint64_t src, uint64_t len);
int copy_to_program(struct task *t, uint64_t dst, const void *src, uint64_t len);
long string_from_program(struct task *t, char *dst, uint64_t src, size_t size);

/* signal.c */
extern __thread struct task *current_task;
void signals_start(struct task *t);
void resend_signals(struct task *t);
long sig_action(struct task *t, const uint64_t *arg);
long sig_procmask(struct task *t, const uint64_t *arg);
long sig_pending(struct task *t, const uint64_t *arg);
long sig_pause(struct task *t);
long sig_suspend(struct task *t, const uint64_t *arg);
long sig_kill(struct task *t, int nr, const uint64_t *arg);
void sig_set_mask(struct task *t, uint64_t mask);
void sig_fault(struct task *t, const struct hc_fault *f);
void deliver_signals(struct task *t);

/* frame.c */
int push_frame(struct task *t, int sig, const struct kernel_sigaction *act, const siginfo_t *info);
long sig_return(struct task *t);
long sig_altstack(struct task *t, const uint64_t *arg);

/* syscalls.c */
long kernel_main(void *task);
int syscall_number(const char *name);
const char *syscall_name(int nr);
bool fd_private(const struct program *p, long fd);
bool is_own_exe(const struct program *p, const char *path);
bool default_allowed(int nr);
bool refused(const struct program *p, int nr);

#endif /* HOSTCALL_RUN_SANDBOX_H */
