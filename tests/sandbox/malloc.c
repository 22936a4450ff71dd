// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * malloc: a malloc-heavy program for hostcall-run. A fixed-seed xorshift
 * drives 200000 malloc/calloc/realloc/free calls over 4096 slots with sizes
 * from 1 byte to 4 MiB, so that glibc serves chunks from the brk heap and
 * from mmap, grows and trims the heap, and moves blocks across the mmap
 * threshold by realloc. Every block holds a pattern derived from its slot
 * and size, checked before it is freed or reallocated, and calloc's memory
 * must read as zeros. It prints a summary and exits 1 on any mismatch.
 *
 * The output must be byte-identical natively and under hostcall-run, so it
 * prints counts and a checksum of the operations only, never addresses.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "say.h"

#define SLOTS		4096
#define OPS		200000	/* unless argv[1] says */
#define MAX_SIZE	(4UL << 20)
#define LIVE_CAP	(64UL << 20)	/* keeps the guest's memory needs modest */
#define MMAP_THRESHOLD	(128 * 1024)

struct slot {
	unsigned char *p;
	size_t size;
};

static struct slot slots[SLOTS];
static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t bytes_verified, checksum = 14695981039346656037ULL;
static size_t live, max_live;
static int mismatches;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Mostly small blocks, with a tail of large ones: large ones dominate the bytes. */
static size_t pick_size(void)
{
	uint64_t r = next();
	unsigned int c = r % 1000;

	r >>= 10;
	if (c < 4)		/* always mmap-backed */
		return (256 << 10) + r % (MAX_SIZE - (256 << 10) + 1);
	if (c < 40)		/* on either side of the mmap threshold */
		return 4096 + r % ((256 << 10) - 4096 + 1);
	if (c < 300)
		return 257 + r % (4096 - 256);
	return 1 + r % 256;
}

static void record(unsigned int op, unsigned int slot, size_t size)
{
	uint64_t v[3] = { op, slot, size };
	const unsigned char *p = (const unsigned char *)v;
	size_t i;

	for (i = 0; i < sizeof(v); i++) {
		checksum ^= p[i];
		checksum *= 1099511628211ULL;
	}
}

static uint64_t seed(unsigned int slot, size_t size)
{
	return (slot + 1) * 0x9e3779b97f4a7c15ULL ^ size * 0xc2b2ae3d27d4eb4fULL;
}

#define STEP 0x27d4eb2f165667c5ULL

/* The pattern is a word sequence, so that both filling and checking go 8 bytes at a time. */
static void fill(unsigned char *p, unsigned int slot, size_t size)
{
	uint64_t w = seed(slot, size);
	size_t i;

	for (i = 0; i + 8 <= size; i += 8, w += STEP)
		memcpy(p + i, &w, 8);
	for (; i < size; i++)
		p[i] = w >> (8 * (i & 7));
}

/* Checks the first len bytes of the pattern of (slot, size). */
static void verify(const unsigned char *p, size_t len, unsigned int slot, size_t size,
		   const char *when)
{
	uint64_t w = seed(slot, size), got;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8, w += STEP) {
		memcpy(&got, p + i, 8);
		if (got != w)
			goto bad;
	}
	for (; i < len; i++)
		if (p[i] != (unsigned char)(w >> (8 * (i & 7))))
			goto bad;
	bytes_verified += len;
	return;
bad:
	if (mismatches++ < 10)
		say("mismatch: slot %u size %zu offset %zu, %s\n", slot, size, i, when);
}

static void verify_zero(const unsigned char *p, size_t len, unsigned int slot)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i]) {
			if (mismatches++ < 10)
				say("mismatch: calloc slot %u size %zu not zero at %zu\n",
				    slot, len, i);
			return;
		}
	}
	bytes_verified += len;
}

static void release(unsigned int slot)
{
	struct slot *s = &slots[slot];

	verify(s->p, s->size, slot, s->size, "before free");
	free(s->p);
	live -= s->size;
	s->p = NULL;
	s->size = 0;
}

/*
 * A block above the mmap threshold, freed and allocated again: glibc maps
 * it at the same address each time, and each time its first write faults
 * anew. The times it held what was written.
 */
static int remap_one_block(void)
{
	int times = 0;

	for (int i = 1; i <= 100; i++) {
		volatile unsigned char *block = malloc(2 * MMAP_THRESHOLD);

		if (!block)
			break;
		block[0] = i;
		times += block[0] == i;
		free((void *)block);
	}
	return times;
}

int main(int argc, char **argv)
{
	unsigned long ops = argc > 1 ? strtoul(argv[1], NULL, 10) : OPS;
	unsigned long n_malloc = 0, n_calloc = 0, n_realloc = 0, n_free = 0, n_oom = 0;
	int mmapped_seen = 0, brk_grew = 0;
	char *brk0 = sbrk(0);
	unsigned int op, slot;
	size_t size, old;
	unsigned char *p;

	/* A fixed threshold, as glibc's dynamic one would soon send every block to brk. */
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);

	for (op = 0; op < ops; op++) {
		slot = next() % SLOTS;
		size = pick_size();
		if (!slots[slot].p) {
			if (live + size > LIVE_CAP)
				size = 1 + size % 256;
			if (next() % 5 < 3) {
				p = malloc(size);
				n_malloc++;
				record(1, slot, size);
			} else {
				p = calloc(1, size);
				n_calloc++;
				record(2, slot, size);
				if (p)
					verify_zero(p, size, slot);
			}
			if (!p) {
				n_oom++;
				continue;
			}
			fill(p, slot, size);
			slots[slot] = (struct slot){ p, size };
			live += size;
		} else if (next() % 2 || live - slots[slot].size + size > LIVE_CAP) {
			record(3, slot, slots[slot].size);
			release(slot);
			n_free++;
		} else {
			old = slots[slot].size;
			verify(slots[slot].p, old, slot, old, "before realloc");
			p = realloc(slots[slot].p, size);
			n_realloc++;
			record(4, slot, size);
			if (!p) {
				n_oom++;
				continue;
			}
			/* realloc keeps what fits, wherever the block now is. */
			verify(p, old < size ? old : size, slot, old, "after realloc");
			fill(p, slot, size);
			slots[slot] = (struct slot){ p, size };
			live += size - old;
		}
		if (live > max_live)
			max_live = live;
		if (op % 1024 == 0) {
			if (mallinfo2().hblks > 0)
				mmapped_seen = 1;
			if ((char *)sbrk(0) > brk0 + (1 << 20))
				brk_grew = 1;
		}
	}
	for (slot = 0; slot < SLOTS; slot++)
		if (slots[slot].p)
			release(slot);

	say("operations: %u (malloc %lu, calloc %lu, realloc %lu, free %lu)\n",
	    op, n_malloc, n_calloc, n_realloc, n_free);
	say("bytes verified: %llu\n", (unsigned long long)bytes_verified);
	say("peak live bytes: %zu\n", max_live);
	say("operation checksum: %016llx\n", (unsigned long long)checksum);
	say("brk heap grew: %s\n", brk_grew ? "yes" : "no");
	say("mmap-backed chunks seen: %s\n", mmapped_seen ? "yes" : "no");
	say("allocation failures: %lu\n", n_oom);
	say("one block mapped, written and unmapped again: %d times\n", remap_one_block());
	say("mismatches: %d\n", mismatches);
	return mismatches || failures || n_oom || !brk_grew || !mmapped_seen;
}
