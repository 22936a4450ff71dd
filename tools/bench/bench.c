// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * hostcall-bench [--lab NAME] [--calls N] [--reps R] [--file-kib K] [--csv FILE]
 *                [--mech NAME[,NAME]...]
 * hostcall-bench --trace [--mech NAME[,NAME]...]
 *
 * The cost of a system call through every mechanism a process whose code
 * runs in guest ring 0 could use, side by side with the native call, and two
 * workloads. Prints a table (median of R repetitions after a warm-up one,
 * with min and max); with --csv, appends rows "lab,mechanism,op,calls,
 * ns_per_call" to FILE. Mechanisms this machine cannot run are left out (the
 * hypercall where the kernel lacks KVM_CAP_X86_HOST_SYSCALL, SlimVM's
 * without /dev/slimvm); --mech runs only those named. KVM and SlimVM cannot
 * run in one process (slimvm.c): measure them in two.
 *
 * --trace: for each mechanism that runs guest.c's loops (native, hypercall,
 * exit, noop_hypercall, slimvm, slimvm_noop; those --mech names, in this
 * order), prints "trace N: NAME" and makes one getpid between two trace
 * marks, for lab/run --trace in the Intel lab (tools/bench/paths); a pair
 * with nothing between where the mechanism cannot run here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostcall.h"
#include "bench.h"

#define MAX_REPS	15
#define READ64_CHUNK	64

const struct op_info ops[NR_OPS] = {
	[OP_GETPID] = { "getpid", true },
	[OP_READ1] = { "read1", true },
	[OP_CLOCK_GETTIME] = { "clock_gettime", true },
	[OP_UDP_RR] = { "udp_rr", false },
	[OP_READ64] = { "read64", false },
};

static const struct mechanism {
	const char *name;
	mechanism_fn run;
	bool traced;		/* runs guest.c's loops, which --trace marks */
} mechanisms[] = {
	{ "native", mech_native, true },
	{ "hypercall", mech_hypercall, true },
	{ "exit", mech_exit, true },
	{ "noop_hypercall", mech_noop_hypercall, true },
	{ "ptrace", mech_ptrace, false },
	{ "seccomp_trap", mech_seccomp_trap, false },
	{ "seccomp_unotify", mech_seccomp_unotify, false },
	{ "seccomp_unotify_sync", mech_seccomp_unotify_sync, false },
	{ "slimvm", mech_slimvm, true },
	{ "slimvm_noop", mech_slimvm_noop, true },
};
#define NR_MECHANISMS	(sizeof(mechanisms) / sizeof(mechanisms[0]))

unsigned long read64_checksum;
static unsigned long file_checksum;	/* what a whole read of the file sums to */

GUEST long op_once(enum op op, const struct op_env *env)
{
	unsigned char buf[READ64_CHUNK];
	struct timespec ts;
	long ret;

	switch (op) {
	case OP_GETPID:
		return hc_syscall(SYS_getpid);
	case OP_READ1:
		return hc_syscall(SYS_read, (long)env->pipe_fd, (long)buf, 1L);
	case OP_CLOCK_GETTIME:
		return hc_syscall(SYS_clock_gettime, (long)CLOCK_REALTIME, (long)&ts);
	case OP_UDP_RR:
		ret = hc_syscall(SYS_sendto, (long)env->udp_fd, (long)buf, 1L, 0L, 0L, 0L);
		if (ret == 1)
			ret = hc_syscall(SYS_recvfrom, (long)env->udp_fd, (long)buf, 1L, 0L, 0L, 0L);
		return ret;
	case OP_READ64:
		ret = hc_syscall(SYS_read, (long)env->file_fd, (long)buf, (long)sizeof(buf));
		for (long i = 0; i < ret; i++)
			read64_checksum += buf[i] * (unsigned long)(i + 1);
		return ret == sizeof(buf) ? ret : ret < 0 ? ret : -EIO;
	case NR_OPS:
		break;
	}
	return -EINVAL;
}

pid_t fork_reporting(enum op op, volatile long **report)
{
	pid_t pid;

	if (!ops[op].per_call)
		return -EOPNOTSUPP;
	*report = mmap(NULL, sizeof(**report), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (*report == MAP_FAILED)
		return -errno;
	**report = -EIO;	/* unless the child says otherwise */
	pid = fork();
	if (pid < 0) {
		pid = -errno;
		child_report_unmap(*report);
	}
	return pid;
}

void child_report_unmap(volatile long *report)
{
	munmap((void *)report, sizeof(*report));
}

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "hostcall-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The UDP peer: echoes every datagram, natively, until the process ends. */
static void *udp_echo(void *arg)
{
	int fd = (long)arg;
	struct sockaddr_in from;
	socklen_t len;
	char byte;

	for (;;) {
		len = sizeof(from);
		if (recvfrom(fd, &byte, 1, 0, (struct sockaddr *)&from, &len) == 1)
			sendto(fd, &byte, 1, 0, (struct sockaddr *)&from, len);
	}
	return NULL;
}

static int udp_pair(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int peer = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	pthread_t t;

	if (peer < 0 || fd < 0 || bind(peer, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(peer, (struct sockaddr *)&addr, &len) < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("UDP sockets on loopback");
	if (pthread_create(&t, NULL, udp_echo, (void *)(long)peer))
		die("pthread_create");
	return fd;
}

/* A file of @size bytes in /tmp, open for reading; *checksum as op_once sums it. */
static int make_file(long size, unsigned long *checksum)
{
	char path[] = "/tmp/hostcall-bench.XXXXXX";
	unsigned char chunk[READ64_CHUNK];
	int fd = mkstemp(path);

	if (fd < 0)
		die("mkstemp in /tmp");
	unlink(path);
	*checksum = 0;
	for (long off = 0; off < size; off += sizeof(chunk)) {
		for (size_t i = 0; i < sizeof(chunk); i++) {
			chunk[i] = (off / sizeof(chunk) * 31 + i * 7) & 0xff;
			*checksum += chunk[i] * (unsigned long)(i + 1);
		}
		if (write(fd, chunk, sizeof(chunk)) != sizeof(chunk))
			die("writing the read64 file");
	}
	return fd;
}

/* A pipe that can hold @bytes; filled before each run. */
static int make_pipe(long bytes, int *write_fd)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		die("pipe2");
	if (fcntl(fds[1], F_SETPIPE_SZ, (int)bytes) < bytes) {
		fprintf(stderr, "hostcall-bench: a pipe cannot hold %ld bytes: use fewer --calls\n",
			bytes);
		exit(2);
	}
	*write_fd = fds[1];
	return fds[0];
}

/* Top the pipe up to @bytes: a mechanism that failed may have left some. */
static void fill_pipe(int fd, const struct op_env *env, long bytes)
{
	static const char zeros[4096];
	int queued;

	if (ioctl(env->pipe_fd, FIONREAD, &queued) < 0)
		die("FIONREAD on the pipe");
	bytes -= queued;
	while (bytes > 0) {
		long n = write(fd, zeros, bytes < (long)sizeof(zeros) ? bytes : (long)sizeof(zeros));

		if (n < 0)
			die("filling the pipe");
		bytes -= n;
	}
}

static int compare_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

struct figure {
	long calls;
	double median, min, max;	/* ns per call */
	bool valid;
};

static struct figure results[NR_MECHANISMS][NR_OPS];

struct options {
	const char *lab, *csv;
	long calls, reps, file_kib;
	bool trace;
	bool skip[NR_MECHANISMS];	/* left out by --mech */
};

/* Run @m on @op: a warm-up repetition, then the timed ones. */
static struct figure measure(const struct mechanism *m, enum op op, struct op_env *env,
			     int pipe_write, const struct options *o)
{
	long file_calls = o->file_kib * 1024 / READ64_CHUNK;
	long calls = op == OP_READ64 ? file_calls : op == OP_UDP_RR ? o->calls / 4 : o->calls;
	long warmup = op == OP_READ64 ? 0 : calls / 10;
	struct figure f = { .calls = calls };
	long ns[MAX_REPS];

	for (long rep = -1; rep < o->reps; rep++) {
		long ret;

		if (op == OP_READ1)
			fill_pipe(pipe_write, env, warmup + calls);
		if (op == OP_READ64) {
			lseek(env->file_fd, 0, SEEK_SET);
			read64_checksum = 0;
		}
		ret = m->run(op, env, warmup, calls);
		if (ret < 0) {
			if (ret != -EOPNOTSUPP && ret != -ENODEV)
				fprintf(stderr, "hostcall-bench: %s %s: %s\n", m->name, ops[op].name,
					strerror(-ret));
			return f;
		}
		if (op == OP_READ64 && read64_checksum != file_checksum) {
			fprintf(stderr, "hostcall-bench: %s read64: wrong checksum\n", m->name);
			return f;
		}
		if (rep >= 0)
			ns[rep] = ret;
	}
	qsort(ns, o->reps, sizeof(ns[0]), compare_long);
	f.median = (double)ns[o->reps / 2] / calls;
	f.min = (double)ns[0] / calls;
	f.max = (double)ns[o->reps - 1] / calls;
	f.valid = true;
	return f;
}

static void print_table(const struct options *o)
{
	printf("%s: ns per call, median of %ld [min-max]; x native\n", o->lab, o->reps);
	for (int op = 0; op < NR_OPS; op++) {
		const struct figure *native = &results[0][op];
		const struct figure *hyper = &results[1][op], *exit_path = &results[2][op];

		printf("\n%-20s %9s %21s %9s\n", ops[op].name, "ns", "[min-max]", "x native");
		for (size_t m = 0; m < NR_MECHANISMS; m++) {
			const struct figure *f = &results[m][op];
			char range[32];

			if (!f->valid)
				continue;
			snprintf(range, sizeof(range), "[%.0f-%.0f]", f->min, f->max);
			printf("%-20s %9.0f %21s", mechanisms[m].name, f->median, range);
			/* --mech may leave native out: it is then in another table. */
			if (native->valid)
				printf(" %9.2f\n", f->median / native->median);
			else
				printf(" %9s\n", "-");
		}
		if (hyper->valid && exit_path->valid)
			printf("%-20s %9.2f\n", "exit/hypercall", exit_path->median / hyper->median);
	}
}

static void write_csv(const struct options *o)
{
	FILE *f = fopen(o->csv, "a");

	if (!f)
		die(o->csv);
	for (size_t m = 0; m < NR_MECHANISMS; m++) {
		for (int op = 0; op < NR_OPS; op++) {
			if (results[m][op].valid)
				fprintf(f, "%s,%s,%s,%ld,%.1f\n", o->lab, mechanisms[m].name,
					ops[op].name, results[m][op].calls, results[m][op].median);
		}
	}
	if (fclose(f))
		die(o->csv);
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: hostcall-bench [--lab NAME] [--calls N] [--reps R] [--file-kib K] "
		"[--csv FILE] [--mech NAME[,NAME]...]\n"
		"       hostcall-bench --trace [--mech NAME[,NAME]...]\n");
	exit(2);
}

/* --trace: a getpid of each mechanism chosen, between two trace marks. */
static void trace(const struct options *o, const struct op_env *env)
{
	int pair = 0;

	trace_marks = true;
	for (size_t m = 0; m < NR_MECHANISMS; m++) {
		long marked = trace_marked_runs, ret;

		if (o->skip[m] || !mechanisms[m].traced)
			continue;
		printf("trace %d: %s\n", ++pair, mechanisms[m].name);
		fflush(stdout);
		ret = mechanisms[m].run(OP_GETPID, env, 100, 100);
		if (ret < 0)
			printf("trace %d: %s could not run: %s\n", pair, mechanisms[m].name,
			       strerror(-ret));
		if (trace_marked_runs == marked)
			trace_marks_empty();
	}
}

/* --mech: skip every mechanism that the comma-separated @list does not name. */
static void choose(const char *list, struct options *o)
{
	const char *p = list;

	for (size_t m = 0; m < NR_MECHANISMS; m++)
		o->skip[m] = true;
	for (;;) {
		size_t len = strcspn(p, ","), m = 0;

		while (m < NR_MECHANISMS &&
		       (strlen(mechanisms[m].name) != len || strncmp(p, mechanisms[m].name, len)))
			m++;
		if (m == NR_MECHANISMS) {
			fprintf(stderr, "hostcall-bench: no mechanism '%.*s'\n", (int)len, p);
			usage();
		}
		if (o->trace && !mechanisms[m].traced) {
			fprintf(stderr, "hostcall-bench: --trace: %s does not run guest.c's loops\n",
				mechanisms[m].name);
			usage();
		}
		o->skip[m] = false;
		if (!p[len])
			return;
		p += len + 1;
	}
}

static long number(const char *arg, long max)
{
	char *end;
	long n = arg ? strtol(arg, &end, 10) : 0;

	if (!arg || *end || n < 1 || n > max)
		usage();
	return n;
}

int main(int argc, char **argv)
{
	struct options o = { .lab = "host", .calls = 20000, .reps = 5, .file_kib = 16384 };
	const char *mech_list = NULL;
	struct op_env env;
	int pipe_write;
	cpu_set_t cpu;

	for (int i = 1; i < argc; i++) {
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--trace")) {
			o.trace = true;
			continue;
		}
		if (!strcmp(argv[i], "--lab") && arg)
			o.lab = arg;
		else if (!strcmp(argv[i], "--csv") && arg)
			o.csv = arg;
		else if (!strcmp(argv[i], "--calls"))
			o.calls = number(arg, 1 << 19);
		else if (!strcmp(argv[i], "--reps"))
			o.reps = number(arg, MAX_REPS);
		else if (!strcmp(argv[i], "--file-kib"))
			o.file_kib = number(arg, 1 << 20);
		else if (!strcmp(argv[i], "--mech") && arg)
			mech_list = arg;
		else
			usage();
		i++;
	}
	if (mech_list)
		choose(mech_list, &o);
	/*
	 * One CPU for everything, children and threads included: ptrace and
	 * USER_NOTIF wake another task per call, and across CPUs the figures
	 * vary tenfold from run to run (seen on 2 CPUs here and in the lab).
	 */
	CPU_ZERO(&cpu);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cpu);
	if (sched_setaffinity(0, sizeof(cpu), &cpu) < 0)
		die("sched_setaffinity");
	env.pipe_fd = make_pipe(o.calls + o.calls / 10, &pipe_write);
	env.udp_fd = udp_pair();
	env.file_fd = make_file(o.file_kib << 10, &file_checksum);
	if (o.trace) {
		trace(&o, &env);
		return 0;
	}
	for (int op = 0; op < NR_OPS; op++) {
		for (size_t m = 0; m < NR_MECHANISMS; m++) {
			if (!o.skip[m])
				results[m][op] = measure(&mechanisms[m], op, &env, pipe_write, &o);
		}
	}
	print_table(&o);
	report_emulation();
	report_breakdown(o.calls);
	if (o.csv)
		write_csv(&o);
	return 0;
}
