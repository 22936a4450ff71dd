// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * sandbox-mremap: mremap() as programs use it, the same lines natively and
 * under hostcall-run: realloc() of a block above the mmap threshold (glibc
 * grows it by mremap), growth where the range after is free and where it
 * is not, a shrink, moves with MREMAP_FIXED and MREMAP_DONTUNMAP, and the
 * errors Linux gives. Each case checks what the memory holds and what is
 * no longer mapped (write() from there into a pipe fails with EFAULT); never
 * addresses.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "say.h"

#define PAGE	4096UL

static int pipe_fds[2];

/* write() of @len bytes at @p into a pipe, drained: the host reads them. */
static ssize_t put(const void *p, size_t len)
{
	static char drain[4 * PAGE];
	ssize_t n = write(pipe_fds[1], p, len);

	for (ssize_t left = n; left > 0;) {
		ssize_t got = read(pipe_fds[0], drain, sizeof(drain));

		if (got <= 0)
			break;
		left -= got;
	}
	return n;
}

static bool mapped(const void *p, size_t len)
{
	return put(p, len) == (ssize_t)len;
}

static bool unmapped(const void *p, size_t len)
{
	return put(p, len) < 0 && errno == EFAULT;
}

static void fill(unsigned char *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static bool filled(const unsigned char *p, size_t len, unsigned char seed)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != (unsigned char)(seed + i * 7))
			return false;
	}
	return true;
}

static bool zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/* @pages of anonymous memory, the first @used filled from @seed, the rest unmapped. */
static unsigned char *region(size_t pages, size_t used, unsigned char seed)
{
	unsigned char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (used < pages)
		munmap(p + used * PAGE, (pages - used) * PAGE);
	fill(p, used * PAGE, seed);
	return p;
}

static void realloc_grows(void)
{
	size_t small = 1 << 20, big = 48 << 20;
	unsigned char *p = malloc(small), *q;

	if (!p) {
		check(0, "realloc: malloc of 1 MiB");
		return;
	}
	fill(p, small, 1);
	q = realloc(p, big);
	check(q && filled(q, small, 1), "realloc from 1 MiB to 48 MiB keeps what it held");
	if (q) {
		memset(q + small, 0xa5, big - small);
		check(q[big - 1] == 0xa5, "realloc: the new part is writable");
	}
	free(q ? q : p);
}

static void grows_in_place(void)
{
	unsigned char *p = region(8, 2, 2), *q;

	q = p ? mremap(p, 2 * PAGE, 6 * PAGE, 0) : MAP_FAILED;
	check(q == p, "mremap without MREMAP_MAYMOVE grows where the range after is free");
	if (q != p)
		return;
	check(filled(q, 2 * PAGE, 2) && zero(q + 2 * PAGE, 4 * PAGE),
	      "grown in place: the old pages kept, the new ones zero");
	check(unmapped(q + 6 * PAGE, PAGE), "grown in place: no further");
	munmap(q, 6 * PAGE);
}

static void blocked(void)
{
	unsigned char *p = region(4, 4, 3), *q;

	q = p ? mremap(p, 2 * PAGE, 3 * PAGE, 0) : MAP_FAILED;
	check(q == MAP_FAILED && errno == ENOMEM,
	      "mremap without MREMAP_MAYMOVE where the next page is mapped: ENOMEM");
	q = p ? mremap(p, 2 * PAGE, 5 * PAGE, MREMAP_MAYMOVE) : MAP_FAILED;
	check(q != MAP_FAILED && q != p && filled(q, 2 * PAGE, 3) && zero(q + 2 * PAGE, 3 * PAGE),
	      "with MREMAP_MAYMOVE it moves, the pages kept, the new ones zero");
	check(q != MAP_FAILED && unmapped(p, 2 * PAGE) && mapped(p + 2 * PAGE, 2 * PAGE),
	      "moved: its old pages are gone, the ones after stay");
	if (q != MAP_FAILED)
		munmap(q, 5 * PAGE);
	if (p)
		munmap(p + 2 * PAGE, 2 * PAGE);
}

static void shrinks(void)
{
	unsigned char *p = region(4, 4, 4), *q;

	q = p ? mremap(p, 4 * PAGE, PAGE + 1, 0) : MAP_FAILED;
	check(q == p && filled(p, 2 * PAGE, 4) && unmapped(p + 2 * PAGE, 2 * PAGE),
	      "mremap shrinks where it is, to whole pages");
	if (p)
		munmap(p, 2 * PAGE);
}

static void moves_fixed(void)
{
	unsigned char *p = region(3, 3, 5), *to = region(6, 6, 6), *q;

	q = p && to ? mremap(p, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to + PAGE) :
		      MAP_FAILED;
	check(q == to + PAGE && filled(q, 3 * PAGE, 5) && zero(q + 3 * PAGE, PAGE),
	      "MREMAP_FIXED moves over another mapping, grown");
	check(q != MAP_FAILED && unmapped(p, 3 * PAGE) && filled(to, PAGE, 6) &&
	      mapped(to + 5 * PAGE, PAGE), "MREMAP_FIXED: the old pages gone, the target's others kept");
	if (to)
		munmap(to, 6 * PAGE);
}

static void dontunmap(void)
{
	unsigned char *p = region(2, 2, 7), *q;

	/* new_address is a hint here, checked all the same: NULL */
	q = p ? mremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL) : MAP_FAILED;
	check(q != MAP_FAILED && q != p && filled(q, 2 * PAGE, 7) && zero(p, 2 * PAGE),
	      "MREMAP_DONTUNMAP moves the pages, and the old range stays, empty");
	if (q != MAP_FAILED)
		munmap(q, 2 * PAGE);
	if (p)
		munmap(p, 2 * PAGE);
}

static void errors(void)
{
	unsigned char *p = region(2, 2, 8), *gone = region(1, 1, 9);

	munmap(gone, PAGE);
	check(mremap(p + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL,
	      "mremap of an unaligned address: EINVAL");
	check(mremap(p, PAGE, 2 * PAGE, 0x80) == MAP_FAILED && errno == EINVAL,
	      "mremap with an unknown flag: EINVAL");
	check(mremap(p, PAGE, PAGE, MREMAP_FIXED, p + PAGE) == MAP_FAILED && errno == EINVAL,
	      "MREMAP_FIXED without MREMAP_MAYMOVE: EINVAL");
	check(mremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, p + PAGE) ==
	      MAP_FAILED && errno == EINVAL, "MREMAP_FIXED onto its own range: EINVAL");
	check(mremap(p, PAGE, 0, MREMAP_MAYMOVE) == MAP_FAILED && errno == EINVAL,
	      "mremap to size 0: EINVAL");
	check(mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, p + 1) == MAP_FAILED &&
	      errno == EINVAL, "MREMAP_DONTUNMAP with an unaligned hint: EINVAL");
	check(mremap(gone, PAGE, 2 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED && errno == EFAULT,
	      "mremap of an unmapped range: EFAULT");
	check(filled(p, 2 * PAGE, 8), "failed calls left the pages as they were");
	munmap(p, 2 * PAGE);
}

int main(void)
{
	if (pipe(pipe_fds) < 0)
		return 1;
	realloc_grows();
	grows_in_place();
	blocked();
	shrinks();
	moves_fixed();
	dontunmap();
	errors();
	say("%s\n", failures ? "some checks failed" : "all checks passed");
	return failures != 0;
}
