// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-sandbox-bench [--lab NAME] [--reps N] [--file-kib N] [--getppid N] [--csv FILE]
 *
 * What a whole unmodified program pays for hostcall-run's sandbox, where
 * hostcall-bench measures single calls: the wall time, fork to waitpid, of
 * syscall-heavy jobs run
 *   native     plainly, fork and exec;
 *   hypercall  under hostcall-run --mode hypercall;
 *   exit       under hostcall-run --mode exit;
 *   ptrace     under a ptrace supervisor written here, the classic way to
 *              sandbox an unmodified program, for comparison: it stops the
 *              program at every system call and reads its registers.
 * Jobs: sha256sum (/bin/busybox sha256sum of a file made here, --file-kib,
 * which busybox reads 4 KiB at a time: hashing is most of its time),
 * sha256-16 (the same hash of the same file by sandbox-sha256, read 16 bytes
 * at a time: mostly system calls) and getppid (sandbox-getppid N). Where the
 * lab has Debian's programs (lab/run --debian), whole programs no one here
 * wrote: python3 (starts, imports, reads the file in 4 KiB blocks for a
 * CRC-32), tar (of a tree of 64 files made here), a pipeline (bash
 * running seq | sort | head: fork, execve, pipes, wait4), and xz -T2 (the
 * file in 64 KiB blocks, compressed by two threads).
 *
 * Why whole programs: a job also pays hostcall-run's start (the VM, the
 * program's memory) and everything between its calls, which per-call figures
 * leave out; the goal is about the job.
 *
 * Each (job, way) runs --reps times; the median counts, as one slow run (a
 * first VM, a timer) should not. Every run's stdout goes to a file, so that
 * no terminal or serial port is in the time, and must equal the native run's
 * (its length and a digest of it), with status 0: a way that fails is
 * reported so, never as a figure, and the exit status is 1. If the kernel
 * has no hypercall (hostcall-run exits 125 saying so), that way is skipped.
 * A table goes to stdout; --csv FILE gets rows lab,way,job,reps,ns.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DATA_FILE	"sandbox-bench.dat"
#define OUT_FILE	"sandbox-bench.out"
#define ERR_FILE	"sandbox-bench.err"
#define MAX_REPS	99
#define MAX_OUT		4096
#define EXIT_FAILED	125	/* hostcall-run's own failures */
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

enum way { NATIVE, HYPERCALL, EXIT, PTRACE, NR_WAYS };
enum job { SHA256SUM, SHA256_SMALL, GETPPID, PYTHON, TAR, PIPELINE, XZ, NR_JOBS };
enum state { NOT_RUN, OK, FAILED, SKIPPED };	/* of a (job, way) */

static const char *const way_name[NR_WAYS] = { "native", "hypercall", "exit", "ptrace" };
static const char *const job_name[NR_JOBS] = {
	"sha256sum", "sha256-16", "getppid", "python3", "tar", "pipeline", "xz-T2",
};
/* Debian's programs in the lab, and what the jobs that run them are given */
#define DEBIAN_BIN	"/opt/debian/bin"
#define TREE_DIR	"sandbox-bench.tree"
#define TREE_FILES	64
#define PYTHON_CRC	"import sys, zlib\n" \
			"c = 0\n" \
			"with open(sys.argv[1], 'rb') as f:\n" \
			"    for b in iter(lambda: f.read(4096), b''):\n" \
			"        c = zlib.crc32(b, c)\n" \
			"print(c)\n"

static char getppid_count[24] = "100000";
static char *job_argv[NR_JOBS][8] = {
	[SHA256SUM] = { "/bin/busybox", "sha256sum", DATA_FILE },
	[SHA256_SMALL] = { "sandbox-sha256", "16", DATA_FILE },	/* paths in main() */
	[GETPPID] = { "sandbox-getppid", getppid_count },
	[PYTHON] = { DEBIAN_BIN "/python3", "-c", PYTHON_CRC, DATA_FILE },
	[TAR] = { DEBIAN_BIN "/tar", "-cf", "-", TREE_DIR },
	[PIPELINE] = { DEBIAN_BIN "/bash", "-c", "seq 100000 | sort -r | head -n 3" },
	[XZ] = { DEBIAN_BIN "/xz", "-T2", "-1", "--block-size=64KiB", "-c", DATA_FILE },
};
static char *hostcall_run;
static long syscalls_seen[NR_JOBS];	/* counted by the ptrace way */
static enum state state[NR_JOBS][NR_WAYS];
static long median_ns[NR_JOBS][NR_WAYS];
static uint64_t native_digest[NR_JOBS];
static off_t native_size[NR_JOBS];

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "hostcall-sandbox-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* @name on PATH, else next to this program (build/guest-bin/ on the host). */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096], *slash;
	ssize_t n;

	for (size_t len; path && *path; path += len + (path[len] == ':')) {
		len = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, name);
		if (len && access(buf, X_OK) == 0)
			return strdup(buf);
	}
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1 - strlen(name));
	slash = n > 0 ? memrchr(buf, '/', n) : NULL;
	if (slash) {
		strcpy(slash + 1, name);
		if (access(buf, X_OK) == 0)
			return strdup(buf);
	}
	fprintf(stderr, "hostcall-sandbox-bench: %s: not on PATH nor next to this program\n", name);
	exit(1);
}

/* The same bytes every time (xorshift64), so that every lab hashes the same. */
static void write_data(long kib)
{
	static uint64_t chunk[1024 / sizeof(uint64_t)];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int fd = open(DATA_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(DATA_FILE);
	for (long k = 0; k < kib; k++) {
		for (size_t i = 0; i < sizeof(chunk) / sizeof(chunk[0]); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			chunk[i] = x;
		}
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			die(DATA_FILE);
	}
	if (close(fd) < 0)
		die(DATA_FILE);
}

/* The tracees' system-call stops alternate entry, exit: which is next, per task. */
#define MAX_TRACEES	64
static struct {
	pid_t pid;
	bool in_call;
} tracee[MAX_TRACEES];

/* @pid's slot, taken if it has none; -1 if all are taken. */
static int tracee_slot(pid_t pid)
{
	int free_slot = -1;

	for (int i = 0; i < MAX_TRACEES; i++) {
		if (tracee[i].pid == pid)
			return i;
		if (!tracee[i].pid && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0)
		tracee[free_slot].pid = pid;
	return free_slot;
}

/* tar's tree: TREE_FILES files of 1 to 64 KiB, cut from the data file. */
static void make_tree(void)
{
	static char block[65536];
	int in = open(DATA_FILE, O_RDONLY);
	ssize_t got = in < 0 ? -1 : read(in, block, sizeof(block));

	if (got < 0 || mkdir(TREE_DIR, 0755) < 0)
		die(TREE_DIR);
	close(in);
	for (int i = 0; i < TREE_FILES; i++) {
		char name[64];
		int fd;
		size_t len = (size_t)(i + 1) * 1024 < (size_t)got ? (size_t)(i + 1) * 1024 : (size_t)got;

		snprintf(name, sizeof(name), TREE_DIR "/file%02d", i);
		fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, block, len) != (ssize_t)len || close(fd) < 0)
			die(name);
	}
}

static void remove_tree(void)
{
	char name[64];

	for (int i = 0; i < TREE_FILES; i++) {
		snprintf(name, sizeof(name), TREE_DIR "/file%02d", i);
		unlink(name);
	}
	rmdir(TREE_DIR);
}

/*
 * The supervisor: stop the child, and every process it starts, at every
 * system call's entry and exit, and at each entry read the registers, as a
 * sandbox that checks the calls must (here it only counts them). Other
 * signals go on to the tracee. Returns the child's wait status, or -1.
 */
static int supervise(pid_t child, long *calls)
{
	bool started = false;
	int st;

	*calls = 0;
	memset(tracee, 0, sizeof(tracee));
	for (;;) {
		int sig = 0, slot;
		/* No handlers here, so no EINTR; __WALL: the children it follows too */
		pid_t pid = waitpid(-1, &st, __WALL);

		if (pid < 0)
			return -1;
		slot = tracee_slot(pid);
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (pid == child)
				return st;
			if (slot >= 0)
				tracee[slot] = (__typeof__(tracee[0])){ 0 };
			continue;
		}
		if (!started) {
			/* The child's raise(SIGSTOP), before its execv(). EXITKILL:
			 * no child runs on unchecked if we die. TRACEEXEC: an
			 * event stop instead of a SIGTRAP after execve. TRACEFORK
			 * and the rest: its children are supervised as it is. */
			started = true;
			if (ptrace(PTRACE_SETOPTIONS, pid, NULL, PTRACE_O_TRACESYSGOOD |
				   PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK |
				   PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE) < 0) {
				kill(pid, SIGKILL);
				continue;	/* reap it above */
			}
		} else if (WSTOPSIG(st) == (SIGTRAP | 0x80) && slot >= 0) {
			tracee[slot].in_call = !tracee[slot].in_call;
			if (tracee[slot].in_call) {
				struct user_regs_struct r;

				if (ptrace(PTRACE_GETREGS, pid, NULL, &r) == 0)
					(*calls)++;
			}
		} else if (st >> 16 == 0 && !(WSTOPSIG(st) == SIGSTOP && pid != child)) {
			/* Not an event stop, nor a new child's first stop: a signal for it */
			sig = WSTOPSIG(st);
		}
		/* ESRCH if it was killed meanwhile: waitpid says so next */
		ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig);
	}
}

/* One run of @job the @way way: its time in *@ns; returns its wait status. */
static int run_once(enum job job, enum way way, long *ns)
{
	/* hostcall-run --mode MODE --, then the job's, then NULL */
	char *argv[4 + ARRAY_LEN(job_argv[0]) + 1], mode[] = "--mode", dashes[] = "--";
	long t0;
	int st = -1, n = 0;
	pid_t pid;

	if (way == HYPERCALL || way == EXIT) {
		argv[n++] = hostcall_run;
		argv[n++] = mode;
		argv[n++] = (char *)way_name[way];
		argv[n++] = dashes;
	}
	for (int i = 0; job_argv[job][i]; i++)
		argv[n++] = job_argv[job][i];
	argv[n] = NULL;

	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		int out = open(OUT_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(ERR_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(126);
		close(out);
		close(err);
		if (way == PTRACE) {
			if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
				_exit(126);
			/* Wait for the supervisor's options before execv() */
			raise(SIGSTOP);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (way == PTRACE)
		st = supervise(pid, &syscalls_seen[job]);
	else if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	*ns = now_ns() - t0;
	return st;
}

/* FNV-1a of the file at @path, and its size in *@size (-1 if unreadable). */
static uint64_t digest(const char *path, off_t *size)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	*size = fd < 0 ? -1 : 0;
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ULL;
		*size += n;
	}
	if (fd >= 0)
		close(fd);
	return h;
}

/* Up to @max - 1 bytes of @path into @buf, NUL-terminated: its length, or -1. */
static ssize_t slurp(const char *path, char *buf, size_t max)
{
	FILE *f = fopen(path, "r");
	size_t len = f ? fread(buf, 1, max - 1, f) : 0;
	bool bad = !f || ferror(f);

	buf[len] = '\0';
	if (f)
		fclose(f);
	return bad ? -1 : (ssize_t)len;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* @reps runs of @job the @way way, native first: sets state and median_ns. */
static void measure(const char *lab, enum job j, enum way w, long reps)
{
	static char out[MAX_OUT], err[MAX_OUT];
	long t[MAX_REPS];

	fprintf(stderr, "# %s: %s, %s x %ld\n", lab, job_name[j], way_name[w], reps);
	state[j][w] = OK;
	for (long r = 0; r < reps; r++) {
		int st = run_once(j, w, &t[r]);
		off_t size;
		uint64_t sum = digest(OUT_FILE, &size);
		bool same;

		slurp(ERR_FILE, err, sizeof(err));
		if (w == HYPERCALL && WIFEXITED(st) && WEXITSTATUS(st) == EXIT_FAILED &&
		    strstr(err, "KVM_HC_HOST_SYSCALL")) {
			/* Not in this kernel: no figure for any job, no failure */
			fprintf(stderr, "# skipped: %s", err);
			for (int k = 0; k < NR_JOBS; k++)
				state[k][w] = SKIPPED;
			return;
		}
		/* The first native run's stdout is what every run must print */
		if (w == NATIVE && r == 0) {
			native_digest[j] = sum;
			native_size[j] = size;
		}
		same = size >= 0 && size == native_size[j] && sum == native_digest[j];
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) || !same) {
			slurp(OUT_FILE, out, sizeof(out));
			fprintf(stderr, "# FAILED: %s, %s: %s %d; stdout%s:\n%s# stderr:\n%s",
				job_name[j], way_name[w], WIFSIGNALED(st) ? "signal" : "exit",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
				same ? "" : " (not the native one's)", out, err);
			state[j][w] = FAILED;
			return;
		}
	}
	qsort(t, reps, sizeof(t[0]), cmp_long);
	median_ns[j][w] = t[reps / 2];
}

/* One median per row, its ratio to native, and on the hypercall's row the
 * ratio the goal is about, hypercall / exit. */
static void print_table(const char *lab, long kib, long getppids, long reps)
{
	printf("# %s: %ld KiB file, %ld getppid, median of %ld runs, fork to waitpid\n",
	       lab, kib, getppids, reps);
	printf("%-10s %-10s %12s %9s %15s\n", "job", "way", "ms", "x native", "hypercall/exit");
	for (int j = 0; j < NR_JOBS; j++) {
		for (int w = 0; w < NR_WAYS; w++) {
			const long *ns = median_ns[j];
			char x[16] = "", ratio[16] = "";

			if (state[j][w] != OK) {
				printf("%-10s %-10s %12s\n", job_name[j], way_name[w],
				       state[j][w] == SKIPPED ? "# skipped" : "FAILED");
				continue;
			}
			if (state[j][NATIVE] == OK)
				snprintf(x, sizeof(x), "%.2f", (double)ns[w] / ns[NATIVE]);
			if (w == HYPERCALL && state[j][EXIT] == OK)
				snprintf(ratio, sizeof(ratio), "%.2f", (double)ns[w] / ns[EXIT]);
			printf("%-10s %-10s %12.3f %9s %15s\n", job_name[j], way_name[w],
			       ns[w] / 1e6, x, ratio);
		}
		if (state[j][PTRACE] == OK)
			printf("# %s: %ld system calls, as the ptrace way counted them\n",
			       job_name[j], syscalls_seen[j]);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: hostcall-sandbox-bench [--lab NAME] [--reps N] [--file-kib N] "
		"[--getppid N] [--csv FILE]\n");
	exit(2);
}

static long number(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "lab", required_argument, NULL, 'l' },
		{ "reps", required_argument, NULL, 'r' },
		{ "file-kib", required_argument, NULL, 'f' },
		{ "getppid", required_argument, NULL, 'g' },
		{ "csv", required_argument, NULL, 'c' },
		{ 0 },
	};
	const char *lab = "here", *csv = NULL;
	long reps = 3, kib = 16384, getppids = 100000;
	bool failed = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'l': lab = optarg; break;
		case 'r': reps = number(optarg, MAX_REPS); break;
		case 'f': kib = number(optarg, 1L << 22); break;
		case 'g': getppids = number(optarg, 1L << 40); break;
		case 'c': csv = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	hostcall_run = find_program("hostcall-run");
	job_argv[SHA256_SMALL][0] = find_program("sandbox-sha256");
	job_argv[GETPPID][0] = find_program("sandbox-getppid");
	snprintf(getppid_count, sizeof(getppid_count), "%ld", getppids);
	write_data(kib);
	if (access(DEBIAN_BIN, X_OK) == 0) {
		make_tree();
	} else {
		fprintf(stderr, "# skipped: python3, tar, pipeline, xz-T2: no " DEBIAN_BIN
			" (lab/run --debian)\n");
		for (int w = 0; w < NR_WAYS; w++)
			state[PYTHON][w] = state[TAR][w] = state[PIPELINE][w] = state[XZ][w] = SKIPPED;
	}

	for (int j = 0; j < NR_JOBS; j++) {
		for (int w = 0; w < NR_WAYS; w++) {
			if (state[j][w] != SKIPPED)
				measure(lab, j, w, reps);
			failed |= state[j][w] == FAILED;
		}
	}
	unlink(DATA_FILE);
	remove_tree();
	unlink(OUT_FILE);
	unlink(ERR_FILE);
	print_table(lab, kib, getppids, reps);

	if (csv) {
		FILE *f = fopen(csv, "w");

		if (!f)
			die(csv);
		for (int j = 0; j < NR_JOBS; j++)
			for (int w = 0; w < NR_WAYS; w++)
				if (state[j][w] == OK)
					fprintf(f, "%s,%s,%s,%ld,%ld\n", lab, way_name[w],
						job_name[j], reps, median_ns[j][w]);
		if (fclose(f) != 0)
			die(csv);
	}
	return failed ? 1 : 0;
}
