// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Each flag argument's valid values, by the sets syscalls.c names: a mask
 * of the bits the call knows, or the list of its commands. flag_value()
 * draws from them most of the time, and random bits otherwise, so that both
 * the calls' real paths and their refusals of unknown bits are reached.
 * Numbers, not the libc and uapi macros, where those headers clash.
 */
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>

#include "fuzz.h"

struct flag_values {
	uint64_t mask;		/* bits, any subset valid */
	const long *values;	/* or values, one at a time (with the mask's bits) */
	int nr_values;
};

#define MASK(m)		{ .mask = (m) }
#define VALUES(...)	{ .values = (const long[]){ __VA_ARGS__ }, \
			  .nr_values = sizeof((const long[]){ __VA_ARGS__ }) / sizeof(long) }
#define VALUES_MASK(m, ...)	{ .mask = (m), .values = (const long[]){ __VA_ARGS__ }, \
				  .nr_values = sizeof((const long[]){ __VA_ARGS__ }) / sizeof(long) }

static const struct flag_values sets[FS_COUNT] = {
	/* O_ACCMODE, O_CREAT ... O_TMPFILE, O_PATH */
	[FS_OPEN] = VALUES_MASK(0x3 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x1000 |
				0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 |
				0x80000 | 0x200000 | 0x400000, 0, 1, 2, 0x42, 0x10000, 0x200000, 0x410002),
	/* AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR/EACCESS, AT_SYMLINK_FOLLOW, AT_NO_AUTOMOUNT, AT_EMPTY_PATH, AT_STATX_* */
	[FS_AT] = MASK(0x100 | 0x200 | 0x400 | 0x800 | 0x1000 | 0x6000 | 0x8000),
	[FS_PROT] = MASK(0x1 | 0x2 | 0x4 | 0x8 | 0x01000000 | 0x02000000),
	/* MAP_SHARED, PRIVATE, SHARED_VALIDATE, with FIXED, ANONYMOUS, ..., FIXED_NOREPLACE */
	[FS_MAP] = VALUES_MASK(0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 |
			       0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000 | 0x100000 |
			       0x4000000, 0x01, 0x02, 0x03, 0x22, 0x21, 0x32),
	[FS_MADV] = VALUES(0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
			   21, 22, 23, 24, 25, 100, 101),
	[FS_MREMAP] = MASK(0x1 | 0x2 | 0x4),
	[FS_MSYNC] = MASK(0x1 | 0x2 | 0x4),
	[FS_MCL] = MASK(0x1 | 0x2 | 0x4),
	[FS_MLOCK2] = MASK(0x1),
	[FS_SEEK] = VALUES(0, 1, 2, 3, 4),
	[FS_FCNTL] = VALUES(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 36, 37, 38,
			    1024, 1025, 1026, 1030, 1031, 1032, 1033, 1034, 1035, 1036,
			    1037, 1038, 1039, 1040, 1041),
	[FS_IOCTL] = VALUES(0x541b, 0x5421, 0x5451, 0x5450, 0x5452, 0x5401, 0x5402, 0x5413,
			    0x80086601, 0x40086602, 2, 0x40049409, 0xc020660b, 0x8912,
			    0x8913, 0x8914, 0x8933, 0x8905, 0x5411, 0xb701, 0xb702, 0xb703,
			    PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_DISABLE,
			    PERF_EVENT_IOC_REFRESH, PERF_EVENT_IOC_RESET,
			    PERF_EVENT_IOC_PERIOD, PERF_EVENT_IOC_SET_OUTPUT,
			    PERF_EVENT_IOC_ID, PERF_EVENT_IOC_PAUSE_OUTPUT,
			    UFFDIO_API, UFFDIO_REGISTER, UFFDIO_UNREGISTER, UFFDIO_WAKE,
			    UFFDIO_COPY, UFFDIO_ZEROPAGE, UFFDIO_WRITEPROTECT,
			    KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_CHECK_EXTENSION,
			    KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID, KVM_CREATE_VCPU,
			    KVM_SET_USER_MEMORY_REGION, KVM_CREATE_IRQCHIP, KVM_IRQ_LINE,
			    KVM_ENABLE_CAP, KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS,
			    KVM_SET_SIGNAL_MASK, KVM_NMI, KVM_CREATE_DEVICE, KVM_IOEVENTFD,
			    KVM_IRQFD, KVM_GET_CLOCK, KVM_GET_STATS_FD, KVM_SET_TSS_ADDR,
			    KVM_GET_DIRTY_LOG),
	[FS_PRCTL] = VALUES(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
			    19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
			    35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
			    51, 52, 53, 54, 55, 56, 57, 58, 59, 62, 65, 66, 67, 68, 71,
			    0x41555856, 0x53564d41, 0x59616d61),
	/* mostly families the lab has: another one makes the kernel run modprobe */
	[FS_SOCK_DOMAIN] = VALUES(1, 2, 10, 16, 1, 2, 10, 16, 17, 38),
	/* SOCK_STREAM, DGRAM, RAW, SEQPACKET, ...; SOCK_NONBLOCK, SOCK_CLOEXEC */
	[FS_SOCK_TYPE] = VALUES_MASK(0x800 | 0x80000, 1, 2, 3, 4, 5, 6, 10),
	/* MSG_OOB ... MSG_CMSG_CLOEXEC */
	[FS_MSG] = MASK(0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 |
			0x800 | 0x4000 | 0x8000 | 0x10000 | 0x40000 | 0x20000000 | 0x40000000),
	[FS_SHUT] = VALUES(0, 1, 2),
	[FS_SOCKLEVEL] = VALUES(0, 1, 6, 17, 41, 255, 263, 270, 274, 282),
	[FS_SOCKOPT] = VALUES(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 15, 16, 17, 18, 20, 21,
			      25, 26, 29, 31, 36, 40, 43, 50, 52, 59, 61, 62),
	/* WNOHANG, WUNTRACED, WEXITED, WCONTINUED, WNOWAIT, __WNOTHREAD, __WALL, __WCLONE */
	[FS_WAIT] = MASK(0x1 | 0x2 | 0x4 | 0x8 | 0x01000000 | 0x20000000 | 0x40000000 | 0x80000000),
	[FS_RLIMIT] = VALUES(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
	[FS_PRIO_WHICH] = VALUES(0, 1, 2, 3),
	[FS_SCHED_POLICY] = VALUES_MASK(0x40000000, 0, 1, 2, 3, 5, 6, 7),
	/* the FUTEX_* commands, with PRIVATE and CLOCK_REALTIME */
	[FS_FUTEX] = VALUES_MASK(0x80 | 0x100, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13),
	[FS_FUTEX2] = VALUES_MASK(0x80 | 0x100, 0, 1, 2, 3),
	[FS_EPOLL_OP] = VALUES(1, 2, 3, 0, 4),
	[FS_CLOEXEC_NONBLOCK] = MASK(0x800 | 0x80000 | 0x4000),
	[FS_EFD] = MASK(0x1 | 0x800 | 0x80000),
	[FS_IN_MASK] = MASK(0xfff | 0x01000000 | 0x02000000 | 0x04000000 | 0x10000000 |
			    0x20000000 | 0x40000000 | 0x80000000),
	[FS_FAN_INIT] = MASK(0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x100 | 0x200 |
			     0x400 | 0x800 | 0x1000),
	[FS_FAN_MARK] = VALUES_MASK(0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x100 | 0x200 | 0x400,
				    1, 2, 0x80),
	[FS_FAN_MASK] = MASK(0x3f | 0x1000 | 0x4000 | 0x8000 | 0x10000 | 0x20000 |
			     0x40000 | 0x40000000),
	/* MS_RDONLY ... MS_LAZYTIME */
	[FS_MOUNT] = VALUES_MASK(0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x400 |
				 0x800 | 0x1000 | 0x4000 | 0x8000 | 0x10000 | 0x20000 |
				 0x40000 | 0x80000 | 0x100000 | 0x200000 | 0x400000 |
				 0x800000 | 0x2000000, 0, 0x1000, 0x5000, 0x2000, 0x40000, 0x20),
	[FS_UMOUNT] = MASK(0x1 | 0x2 | 0x4 | 0x8),
	[FS_RENAME] = MASK(0x1 | 0x2 | 0x4),
	[FS_XATTR] = MASK(0x1 | 0x2),
	[FS_FALLOC] = MASK(0x1 | 0x2 | 0x8 | 0x10 | 0x20 | 0x40),
	[FS_SPLICE] = MASK(0x1 | 0x2 | 0x4 | 0x8),
	[FS_MEMFD] = MASK(0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40000000),
	[FS_PERF] = MASK(0x1 | 0x2 | 0x4 | 0x8),
	[FS_SECCOMP_OP] = VALUES(0, 1, 2, 3),
	[FS_BPF_CMD] = VALUES(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
			      18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
			      34, 35, 36, 37),
	[FS_IPC_CMD] = VALUES(0, 1, 2, 3, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20),
	/* IPC_CREAT, IPC_EXCL, IPC_NOWAIT, MSG_NOERROR/EXCEPT/COPY, permission bits */
	[FS_IPC_FLAGS] = MASK(0x1ff | 0x200 | 0x400 | 0x800 | 0x1000 | 0x2000 | 0x4000),
	[FS_SHM] = MASK(0x1000 | 0x2000 | 0x4000 | 0x8000),
	/* CLONE_FS ... CLONE_NEWNET, CLONE_NEWTIME */
	[FS_CLONE] = MASK(0x80 | 0x200 | 0x400 | 0x20000 | 0x40000 | 0x2000000 | 0x4000000 |
			  0x8000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x100 | 0x800),
	[FS_PTRACE] = VALUES(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 24, 0x4200,
			     0x4201, 0x4202, 0x4203, 0x4204, 0x4205, 0x4206, 0x4207, 0x4208,
			     0x4209, 0x420a, 0x420b, 0x420c, 0x420d, 0x420e, 0x420f, 0x4210),
	[FS_SIGHOW] = VALUES(0, 1, 2, 3),
	[FS_IOPRIO_WHICH] = VALUES(1, 2, 3, 0, 4),
	[FS_MEMBARRIER] = VALUES(0, 1, 2, 4, 8, 16, 32, 64, 128, 256),
	[FS_URING_ENTER] = MASK(0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40),
	[FS_URING_REGISTER] = VALUES(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
				     16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
				     30, 31, 32),
	[FS_GETRANDOM] = MASK(0x1 | 0x2 | 0x4),
	[FS_STATX] = MASK(0xfff | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000),
	[FS_MOUNT_API] = MASK(0x1 | 0x2 | 0x4 | 0x10 | 0x20 | 0x40 | 0x100 | 0x800 | 0x1000 |
			      0x8000 | 0x80000),
	[FS_FSCONFIG] = VALUES(0, 1, 2, 3, 4, 5, 6, 7, 8),
	[FS_PIDFD] = MASK(0x800 | 0x80 | 0x80000),
	[FS_CLOSE_RANGE] = MASK(0x2 | 0x4),
	[FS_MPOL] = VALUES_MASK(0x8000 | 0x4000 | 0x2000, 0, 1, 2, 3, 4, 5, 6),
	[FS_KCMP] = VALUES(0, 1, 2, 3, 4, 5, 6, 7, 8),
	[FS_ITIMER] = VALUES(0, 1, 2, 3),
	[FS_TIMER] = MASK(0x1),
	[FS_TFD_SETTIME] = MASK(0x1 | 0x2),
	[FS_ACCESS] = MASK(0x7),
	[FS_FLOCK] = VALUES_MASK(0x4 | 0x20 | 0x40 | 0x80, 1, 2, 8),
	[FS_SYSLOG] = VALUES(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
	[FS_PERSONALITY] = VALUES(0, 8, 0xffffffff, 0x0040000, 0x0400000, 0x0200000,
				  0x0800000, 0x8000000, 0x0020000, 0x4000000),
	/* O_CLOEXEC, O_NONBLOCK, UFFD_USER_MODE_ONLY */
	[FS_UFFD] = MASK(0x80000 | 0x800 | 0x1),
	[FS_SYNC_FILE_RANGE] = MASK(0x1 | 0x2 | 0x4),
	[FS_FADVISE] = VALUES(0, 1, 2, 3, 4, 5, 6),
	[FS_RWF] = MASK(0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20),
	/* LINUX_REBOOT_MAGIC1, MAGIC2 and its alternatives */
	[FS_REBOOT] = VALUES(0xfee1dead, 672274793, 85072278, 369367448, 537993216),
};

/* A value for flag set @set: its values, its bits, or anything. */
long flag_value(int set)
{
	const struct flag_values *s = &sets[set];
	long v = 0;

	switch (below(16)) {
	case 0:
		return (long)next();
	case 1:
		return (long)(uint32_t)next();
	case 2:
		return 0;
	}
	if (s->nr_values)
		v = s->values[below(s->nr_values)];
	if (s->mask && (!s->nr_values || below(2)))
		v |= (long)(next() & next() & s->mask);	/* about a quarter of the bits */
	return v;
}
