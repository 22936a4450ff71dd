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
 *   signal.c    signals: the host's mirrored, the program's delivered
 *
 * The program lives at the same addresses in the guest and in this process
 * (GVA == HVA, as everywhere in libhostcall), inside areas this process
 * reserved for it: ring 3 reaches nothing else, and a pointer the program
 * passes is safe to give the host kernel once it lies inside an area.
 */
#ifndef HOSTCALL_RUN_SANDBOX_H
#define HOSTCALL_RUN_SANDBOX_H

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

struct program {
	struct hc_user_regs regs;	/* first: aligned for XSAVE */
	struct hc_vm *vm;
	unsigned int vm_flags;	/* hc_vm_create()'s */
	bool want_hypercall;	/* --mode hypercall: fail without the hypercall */
	const char *name;
	char exe[4096];		/* the program's file, absolute: /proc/self/exe for it */

	struct area image;	/* the ELF image, then room for brk */
	struct area heap;	/* mmap(), with the stack at its top */
	uint64_t brk_start, brk, brk_end;
	struct span *spans;
	int nr_spans;

	unsigned char allowed[NR_SYSCALLS];	/* by the policy */
	unsigned long *count;		/* --stats: per number, NR_SYSCALLS + 1 for the rest */
	uint64_t private_fds[16];	/* bitmap of this process's own fds below 1024 */
	int pid;
	int root_pid;		/* the sandbox's first process: signal.c */
	int pipe[2];		/* for copies from and to the program: memory.c */

	/* Signals: signal.c */
	struct kernel_sigaction actions[NR_SIGNALS + 1];
	uint64_t sigmask;
	struct signal_stack altstack;
	uint64_t caught;	/* noted by our handler, not yet delivered; atomic */
	siginfo_t caught_info[NR_SIGNALS + 1];
	uint64_t saved_mask;	/* rt_sigsuspend()'s, for the frame, if restore_mask */
	bool restore_mask;
	int interrupted_nr;	/* the call that just failed with EINTR, or -1 */
	uint64_t fault_vector, fault_error, fault_addr;	/* for the frame's sigcontext */
	uint32_t xstate_size, mxcsr_mask;	/* ring 3's XSAVE layout */
	uint64_t xfeatures;

	/* A call the host side serves (process.c): its number, its arguments. */
	int request;
	uint64_t request_arg[6];

	/* How it ended. */
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
int fd_top(void);
void make_vm(struct program *p);
void run_program(struct program *p) __attribute__((noreturn));
void print_stats(const struct program *p);

/* load.c (host side) */
int load_program(struct program *p, const char *path, char **argv, char **envp);
int check_executable(const char *path);

/* process.c (host side) */
long serve_request(struct program *p);
int exec_from(struct program *p, int fd, char ***argv, char ***envp);

/* memory.c */
int area_reserve(struct area *a, uint64_t start, uint64_t len);
bool inside(const struct program *p, uint64_t addr, uint64_t len);
bool string_inside(const struct program *p, uint64_t addr);
int span_add(struct program *p, uint64_t start, uint64_t end);
long mem_brk(struct program *p, uint64_t addr);
long mem_mmap(struct program *p, uint64_t addr, uint64_t len, int prot, int flags, int fd,
	      uint64_t offset);
long mem_munmap(struct program *p, uint64_t addr, uint64_t len);
long mem_mprotect(struct program *p, uint64_t addr, uint64_t len, int prot);
int copy_from_program(struct program *p, void *dst, uint64_t src, uint64_t len);
int copy_to_program(struct program *p, uint64_t dst, const void *src, uint64_t len);
long string_from_program(struct program *p, char *dst, uint64_t src, size_t size);

/* signal.c */
void signals_start(struct program *p);
void resend_signals(struct program *p);
long sig_action(struct program *p, const uint64_t *arg);
long sig_procmask(struct program *p, const uint64_t *arg);
long sig_pending(struct program *p, const uint64_t *arg);
long sig_pause(struct program *p);
long sig_suspend(struct program *p, const uint64_t *arg);
long sig_altstack(struct program *p, const uint64_t *arg);
long sig_return(struct program *p);
long sig_kill(struct program *p, int nr, const uint64_t *arg);
void sig_fault(struct program *p, const struct hc_fault *f);
void deliver_signals(struct program *p);

/* syscalls.c */
long kernel_main(void *program);
int syscall_number(const char *name);
const char *syscall_name(int nr);
bool fd_private(const struct program *p, long fd);
bool is_own_exe(const struct program *p, const char *path);
bool default_allowed(int nr);
bool refused(const struct program *p, int nr);

#endif /* HOSTCALL_RUN_SANDBOX_H */
