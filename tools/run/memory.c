// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The program's address space, served in ring 0: brk, mmap, munmap,
 * mprotect, mremap, and the checks of the pointers it passes.
 *
 * Everything the program maps lies in one of its two areas, which this
 * process reserved (PROT_NONE) before the program ran: the image area (the
 * ELF image, then the brk heap) and the heap area (mmap, the stack at its
 * top). The host kernel never places anything of ours there, so a range
 * inside an area is the program's own memory or a hole, and the host
 * kernel itself answers -EFAULT for holes and for the wrong permissions.
 * The areas lie low, far below where the host places our mappings, so that
 * not even a moment's hole there (mremap) can get one.
 * Unmapping puts the reservation back. The spans record what is mapped, to
 * place mmap() and to refuse what Linux refuses.
 *
 * These run in guest ring 0 with the calling thread of the program
 * suspended, or on the host side before it starts; hc_syscall() is the
 * host's system call in both. Threads change the mappings one at a time
 * (mem_call()); a pointer check needs no lock, as the areas never change.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "sandbox.h"

#define PIPE_CHUNK	4096	/* written at once: a pipe holds more */
#define RESERVE_FLAGS	(MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED)
#define MREMAP_FLAGS	(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)
/* What mmap() takes from the program; MAP_FIXED_NOREPLACE is checked here. */
#define MMAP_FLAGS	(MAP_SHARED | MAP_PRIVATE | MAP_SHARED_VALIDATE | MAP_ANONYMOUS | \
			 MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_NORESERVE | MAP_POPULATE | \
			 MAP_STACK | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_GROWSDOWN)

/* Reserve [start, start + len) and a guard page after it; start 0: anywhere. */
int area_reserve(struct area *a, uint64_t start, uint64_t len)
{
	long addr = hc_syscall(SYS_mmap, start, len + PAGE_SIZE, PROT_NONE,
			       (RESERVE_FLAGS & ~MAP_FIXED) | (start ? MAP_FIXED_NOREPLACE : 0), -1, 0);

	if (addr < 0)
		return addr;
	if (start && (uint64_t)addr != start)	/* kernels before 4.17 take it as a hint */
		return -EEXIST;
	a->start = addr;
	a->end = addr + len;
	return 0;
}

static bool in_area(const struct area *a, uint64_t addr, uint64_t len)
{
	return addr >= a->start && addr <= a->end && len <= a->end - addr;
}

/* [addr, addr + len) is inside one of the program's areas. */
bool inside(const struct program *p, uint64_t addr, uint64_t len)
{
	return in_area(&p->image, addr, len) || in_area(&p->heap, addr, len);
}

/* A string starting at @addr ends inside its area, or at its guard page. */
bool string_inside(const struct program *p, uint64_t addr)
{
	return inside(p, addr, 1);
}

/* The first span that ends after @addr. */
static int span_after(const struct program *p, uint64_t addr)
{
	const struct memory *m = p->mem;
	int lo = 0, hi = m->nr_spans;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (m->spans[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool span_overlaps(const struct program *p, uint64_t start, uint64_t end)
{
	const struct memory *m = p->mem;
	int i = span_after(p, start);

	return i < m->nr_spans && m->spans[i].start < end;
}

/* Every page of [start, end) is mapped. */
static bool span_covers(const struct program *p, uint64_t start, uint64_t end)
{
	const struct memory *m = p->mem;

	for (int i = span_after(p, start); start < end; i++) {
		if (i == m->nr_spans || m->spans[i].start > start)
			return false;
		start = m->spans[i].end;
	}
	return true;
}

static void span_remove(struct program *p, uint64_t start, uint64_t end)
{
	struct memory *m = p->mem;
	int i = span_after(p, start);

	while (i < m->nr_spans && m->spans[i].start < end) {
		struct span *s = &m->spans[i];

		if (s->start < start && s->end > end) {	/* split */
			if (m->nr_spans == MAX_SPANS)	/* kept whole: only placement suffers */
				return;
			memmove(s + 1, s, (m->nr_spans - i) * sizeof(*s));
			m->nr_spans++;
			s->end = start;
			s[1].start = end;
			return;
		}
		if (s->start < start) {
			s->end = start;
			i++;
		} else if (s->end > end) {
			s->start = end;
			return;
		} else {
			memmove(s, s + 1, (m->nr_spans - i - 1) * sizeof(*s));
			m->nr_spans--;
		}
	}
}

/* Record [start, end) as mapped, over the spans it overlaps. */
int span_add(struct program *p, uint64_t start, uint64_t end)
{
	struct memory *m = p->mem;
	int i;
	bool left, right;

	span_remove(p, start, end);
	i = span_after(p, start);
	left = i > 0 && m->spans[i - 1].end == start;
	right = i < m->nr_spans && m->spans[i].start == end;

	if (left && right) {
		m->spans[i - 1].end = m->spans[i].end;
		memmove(&m->spans[i], &m->spans[i + 1], (m->nr_spans - i - 1) * sizeof(m->spans[0]));
		m->nr_spans--;
	} else if (left) {
		m->spans[i - 1].end = end;
	} else if (right) {
		m->spans[i].start = start;
	} else {
		if (m->nr_spans == MAX_SPANS)
			return -ENOMEM;
		memmove(&m->spans[i + 1], &m->spans[i], (m->nr_spans - i) * sizeof(m->spans[0]));
		m->spans[i] = (struct span){ start, end };
		m->nr_spans++;
	}
	return 0;
}

/* The highest free range of @len bytes in the heap area, or 0. */
static uint64_t find_gap(const struct program *p, uint64_t len)
{
	const struct memory *m = p->mem;
	uint64_t top = p->heap.end;

	for (int i = span_after(p, p->heap.end) - 1; i >= -1; i--) {
		uint64_t bottom = i >= 0 && m->spans[i].end > p->heap.start ?
				  m->spans[i].end : p->heap.start;

		if (top >= bottom + len)
			return top - len;
		if (i < 0 || m->spans[i].end <= p->heap.start)
			return 0;
		top = m->spans[i].start;
	}
	return 0;
}

/*
 * The host's mappings of [start, end) changed: the guest's entries there go,
 * else ring 3 could go on executing what is no longer executable. Before
 * the program runs (on the host side) there are none. Should that fail,
 * the program ends (p->error) rather than run with stale entries.
 */
static void remapped(struct program *p, uint64_t start, uint64_t end)
{
	int ret = hc_in_guest() ? hc_vm_remapped(p->vm, (void *)start, end - start) : 0;

	if (ret && !p->error) {
		p->error = ret;
		p->ended = true;
	}
}

/* Give [start, end) back to the reservation. */
static long unmap(struct program *p, uint64_t start, uint64_t end)
{
	long ret = hc_syscall(SYS_mmap, start, end - start, PROT_NONE, RESERVE_FLAGS, -1, 0);

	if (ret >= 0) {
		span_remove(p, start, end);
		remapped(p, start, end);
	}
	return ret < 0 ? ret : 0;
}

static long brk_locked(struct program *p, uint64_t addr)
{
	uint64_t old = page_up(p->mem->brk), new = page_up(addr);
	long ret = 0;

	if (addr < p->mem->brk_start || addr > p->mem->brk_end)
		return p->mem->brk;
	if (new > old) {
		if (span_overlaps(p, old, new))
			return p->mem->brk;
		ret = hc_syscall(SYS_mmap, old, new - old, PROT_READ | PROT_WRITE,
				 RESERVE_FLAGS, -1, 0);
		if (ret >= 0)
			ret = span_add(p, old, new);
	} else if (new < old) {
		ret = unmap(p, new, old);
	}
	if (ret < 0)
		return p->mem->brk;
	p->mem->brk = addr;
	return addr;
}

/*
 * The file the program's @fd names, as an fd of ours (-1 for MAP_ANONYMOUS):
 * one the program cannot renumber while it is mapped. Not one on anonymous
 * inodes, as ours are (KVM's: a vCPU's kvm_run would be the program's), which
 * the program cannot make, but may catch at a number of its own for the
 * moment before we move it up (KVM_CREATE_VCPU takes the lowest free one).
 */
static long file_of(struct program *p, int flags, int fd)
{
	struct statfs fs;
	long own;

	if (flags & MAP_ANONYMOUS)
		return -1;
	if (fd_private(p, fd))
		return -EBADF;
	own = hc_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, p->fd_floor);
	if (own >= 0 && (hc_syscall(SYS_fstatfs, own, &fs) < 0 || fs.f_type == ANON_INODE_FS_MAGIC)) {
		hc_syscall(SYS_close, own);
		return -ENODEV;	/* as Linux for a file it cannot map */
	}
	return own;
}

/* mmap() of @fd, ours (or -1): placed, made by the host, recorded. */
static long map(struct program *p, uint64_t addr, uint64_t len, int prot, int flags, long fd,
		uint64_t offset)
{
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	long ret;

	len = page_up(len);
	if (!len)
		return -ENOMEM;
	if (!fixed)
		addr = find_gap(p, len);
	else if (!inside(p, addr, len))
		return -ENOMEM;
	else if (flags & MAP_FIXED_NOREPLACE && span_overlaps(p, addr, addr + len))
		return -EEXIST;
	if (!addr)
		return -ENOMEM;
	ret = hc_syscall(SYS_mmap, addr, len, prot, (flags & ~(MAP_FIXED_NOREPLACE | MAP_GROWSDOWN)) |
			 MAP_FIXED, fd, offset);
	if (ret < 0) {
		/* A failed MAP_FIXED may have unmapped the range: reserve it again. */
		if (!span_overlaps(p, addr, addr + len))
			unmap(p, addr, addr + len);
		return ret;
	}
	if (span_add(p, addr, addr + len) < 0) {
		unmap(p, addr, addr + len);
		return -ENOMEM;
	}
	if (flags & MAP_FIXED)	/* NOREPLACE replaced nothing */
		remapped(p, addr, addr + len);
	return addr;
}

static long mmap_locked(struct program *p, uint64_t addr, uint64_t len, int prot, int flags,
			int fd, uint64_t offset)
{
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	long ret, file;

	if (!len || flags & ~MMAP_FLAGS || (fixed && addr & (PAGE_SIZE - 1)))
		return -EINVAL;
	file = file_of(p, flags, fd);
	if (file < 0 && !(flags & MAP_ANONYMOUS))
		return file;
	ret = map(p, addr, len, prot, flags, file, offset);
	if (file >= 0)
		hc_syscall(SYS_close, file);
	return ret;
}

static long munmap_locked(struct program *p, uint64_t addr, uint64_t len)
{
	len = page_up(len);
	if (!len || addr & (PAGE_SIZE - 1) || !inside(p, addr, len))
		return -EINVAL;
	return unmap(p, addr, addr + len);
}

static long mprotect_locked(struct program *p, uint64_t addr, uint64_t len, int prot)
{
	long ret;

	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	len = page_up(len);
	if (!len)
		return 0;
	if (!inside(p, addr, len) || !span_covers(p, addr, addr + len))
		return -ENOMEM;
	ret = hc_syscall(SYS_mprotect, addr, len, prot);
	if (!ret)
		remapped(p, addr, addr + len);
	return ret;
}

/*
 * mremap()'s growth where it is: the host's mremap() needs the range after
 * the mapping unmapped, so the reservation there goes first (the hole is
 * never the host's for a mapping of ours: load.c), and comes back if the
 * host refuses. -ENOMEM if the range is not the area's, or not free.
 */
static long grow_in_place(struct program *p, uint64_t addr, uint64_t old_len, uint64_t new_len)
{
	uint64_t end = addr + old_len, new_end = addr + new_len;
	long ret;

	if (!inside(p, end, new_len - old_len) || span_overlaps(p, end, new_end))
		return -ENOMEM;
	ret = hc_syscall(SYS_munmap, end, new_end - end);
	if (!ret)
		ret = hc_syscall(SYS_mremap, addr, old_len, new_len, 0, 0);
	if (ret < 0) {
		unmap(p, end, new_end);
		return ret;
	}
	span_add(p, end, new_end);	/* extends a span: never -ENOMEM */
	remapped(p, end, new_end);
	return addr;
}

/*
 * mremap()'s move to @dest (0: no room), by the host, which replaces the
 * reservation there and leaves a hole where the mapping was, unless
 * MREMAP_DONTUNMAP: the reservation goes back there.
 */
static long move(struct program *p, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
		 uint64_t dest)
{
	long ret;

	if (!dest)
		return -ENOMEM;
	/*
	 * What the target held goes first, as the host's MREMAP_FIXED unmaps
	 * it before it may fail: the spans and the host agree either way.
	 */
	if (span_overlaps(p, dest, dest + new_len)) {
		ret = unmap(p, dest, dest + new_len);
		if (ret)
			return ret;
	}
	ret = hc_syscall(SYS_mremap, addr, old_len, new_len,
			 flags | MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	if (ret < 0) {
		unmap(p, dest, dest + new_len);	/* reserved again, if it went */
		return ret;
	}
	if (!(flags & MREMAP_DONTUNMAP))
		unmap(p, addr, addr + old_len);
	span_add(p, dest, dest + new_len);	/* room was made for it: mremap_locked() */
	remapped(p, dest, dest + new_len);
	return dest;
}

/*
 * As Linux: shrink where it is; grow where it is if the range after is
 * free, else move if MREMAP_MAYMOVE; move to new_addr with MREMAP_FIXED;
 * MREMAP_DONTUNMAP moves and leaves the old range mapped, empty. The old
 * range must be mapped (-EFAULT), the new one inside an area (-ENOMEM).
 */
static long mremap_locked(struct program *p, uint64_t addr, uint64_t old_len, uint64_t new_len,
			  int flags, uint64_t new_addr)
{
	bool fixed = flags & MREMAP_FIXED, keep = flags & MREMAP_DONTUNMAP;
	long ret;

	old_len = page_up(old_len);
	new_len = page_up(new_len);
	/* old_len 0, a second mapping of a shared one, is not taken */
	if (addr & (PAGE_SIZE - 1) || flags & ~MREMAP_FLAGS || !old_len || !new_len ||
	    ((fixed || keep) && !(flags & MREMAP_MAYMOVE)) || (keep && old_len != new_len))
		return -EINVAL;
	/* Linux checks new_addr for MREMAP_DONTUNMAP too, where it is a hint */
	if ((fixed || keep) && (new_addr & (PAGE_SIZE - 1) || new_addr > USER_END - new_len ||
				(new_addr < addr + old_len && addr < new_addr + new_len)))
		return -EINVAL;
	if (!inside(p, addr, old_len) || !span_covers(p, addr, addr + old_len))
		return -EFAULT;
	/* what a move or a growth adds to the spans, and a split */
	if (p->mem->nr_spans > MAX_SPANS - 3)
		return -ENOMEM;
	if (fixed)
		return inside(p, new_addr, new_len) ? move(p, addr, old_len, new_len, flags, new_addr) :
		       -ENOMEM;
	if (!keep && new_len <= old_len)
		return new_len < old_len ? unmap(p, addr + new_len, addr + old_len) ?: (long)addr :
		       (long)addr;
	ret = keep ? -ENOMEM : grow_in_place(p, addr, old_len, new_len);
	if (ret != -ENOMEM || !(flags & MREMAP_MAYMOVE))
		return ret;
	return move(p, addr, old_len, new_len, flags, find_gap(p, new_len));
}

/*
 * The calls, one thread at a time: a vfork() child's too, which shares the
 * memory, and struct memory with it.
 */
long mem_call(struct program *p, int nr, const uint64_t *arg)
{
	long ret = -ENOSYS;

	pthread_mutex_lock(&p->mem->lock);
	switch (nr) {
	case SYS_brk:
		ret = brk_locked(p, arg[0]);
		break;
	case SYS_mmap:
		ret = mmap_locked(p, arg[0], arg[1], arg[2], arg[3], arg[4], arg[5]);
		break;
	case SYS_munmap:
		ret = munmap_locked(p, arg[0], arg[1]);
		break;
	case SYS_mprotect:
		ret = mprotect_locked(p, arg[0], arg[1], arg[2]);
		break;
	case SYS_mremap:
		ret = mremap_locked(p, arg[0], arg[1], arg[2], arg[3], arg[4]);
		break;
	}
	pthread_mutex_unlock(&p->mem->lock);
	return ret;
}

/*
 * Ring 0 must not touch the program's memory itself: a hole there would
 * fault in ring 0, which ends the whole guest call. The host kernel copies
 * instead, with the program's permissions and -EFAULT for holes, through a
 * pipe of the thread's (process_vm_readv() would do, but kernels may lack
 * it).
 */
static int copy(struct task *t, void *local, uint64_t remote, uint64_t len, bool to_program)
{
	struct program *p = t->p;
	char drain[256];

	if (!inside(p, remote, len))
		return -EFAULT;
	while (len) {
		uint64_t n = len < PIPE_CHUNK ? len : PIPE_CHUNK;
		long put = hc_syscall(SYS_write, t->pipe[1], to_program ? (uintptr_t)local : remote, n);
		long got = put > 0 ? hc_syscall(SYS_read, t->pipe[0],
						to_program ? remote : (uintptr_t)local, put) : 0;

		for (long left = put - (got > 0 ? got : 0); left > 0;) {
			long ret = hc_syscall(SYS_read, t->pipe[0], drain,
					      left < (long)sizeof(drain) ? left : (long)sizeof(drain));

			if (ret <= 0)
				break;
			left -= ret;
		}
		if (put != (long)n || got != put)
			return -EFAULT;
		local = (char *)local + n;
		remote += n;
		len -= n;
	}
	return 0;
}

int copy_from_program(struct task *t, void *dst, uint64_t src, uint64_t len)
{
	return copy(t, dst, src, len, false);
}

int copy_to_program(struct task *t, uint64_t dst, const void *src, uint64_t len)
{
	return copy(t, (void *)src, dst, len, true);
}

/*
 * The string at @src, its NUL included, into @dst of @size bytes: its
 * length, -EFAULT, or -E2BIG if it does not fit.
 */
long string_from_program(struct task *t, char *dst, uint64_t src, size_t size)
{
	size_t done = 0;

	while (done < size) {
		/* a page at a time: the next one may be a hole */
		size_t n = PAGE_SIZE - (src + done) % PAGE_SIZE;
		char *end;

		if (n > size - done)
			n = size - done;
		if (copy_from_program(t, dst + done, src + done, n))
			return -EFAULT;
		end = memchr(dst + done, '\0', n);
		if (end)
			return end - dst;
		done += n;
	}
	return -E2BIG;
}
