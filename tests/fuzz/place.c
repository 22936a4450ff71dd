// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Where each op's struct goes, by its target, and its image written there:
 * in its own unit (valid: within the second page, or across the boundary
 * of the first two), in the special pages (read-only, unmapped, or across
 * a boundary between pages of two other protections), in guest memory (a
 * guest-physical address), or nowhere (the addresses that are no struct).
 */
#include <string.h>

#include "fuzz.h"

/* What this batch used of the special pages and of guest memory. */
static struct {
	int guest_slots;
	int boundaries[9], inside[3];
} pl;

void place_reset(void)
{
	memset(&pl, 0, sizeof(pl));
}

/*
 * The special pages (hostcall-fuzz.c): read-write, read-only and unmapped
 * in the order of special_pattern[], repeated, so that the boundaries between them
 * have every pair of protections; the parent reaches them all through a
 * second, read-write mapping of the same memory.
 */
const uint8_t special_pattern[SPECIAL_PERIOD] = {
	PROT_RW_, PROT_RW_, PROT_RO_, PROT_RW_, PROT_NONE_, PROT_RO_, PROT_RO_, PROT_NONE_, PROT_NONE_,
};

/* The next boundary (in this batch) from a page of protection @p0 to one of @p1. */
static size_t boundary(int p0, int p1)
{
	int k = 0, rep = pl.boundaries[p0 * 3 + p1]++ % (SPECIAL_REPEAT - 1);

	while (special_pattern[k] != p0 || special_pattern[(k + 1) % SPECIAL_PERIOD] != p1)
		k++;
	return ((size_t)rep * SPECIAL_PERIOD + k + 1) * PAGE;
}

/* The next slot (in this batch) in the middle of a page of protection @prot. */
static size_t inside(int prot)
{
	int n = pl.inside[prot]++, page = (n / SLOTS_INSIDE) % (SPECIAL_REPEAT * 3), k = -1;

	for (int seen = -1; seen < page % 3; seen += special_pattern[k] == prot)
		k++;
	return ((size_t)(page / 3) * SPECIAL_PERIOD + k) * PAGE + PAGE / 4 + (n % SLOTS_INSIDE) * 256;
}

/* A struct in the special pages: at @at (offset of the struct) with @size bytes around it from @area. */
static void special(struct op *op, size_t area, int size, size_t at, size_t bound)
{
	op->area = f.a.special_rw + area;
	op->area_size = size;
	op->placed = f.a.special_rw + at;
	op->split = (int)(bound - at);
}

/* Where the struct goes; its image is written there and kept in op->image. */
void place(struct op *op, int i)
{
	uint8_t *s1 = unit(i) + PAGE;
	int split = 1 + below(STRUCT_SIZE - 1);
	size_t b;

	op->area = s1 - S_AREA_BEFORE;
	op->area_size = S_AREA_BEFORE + S_AREA_AFTER;
	op->prot[0] = op->prot[1] = PROT_RW_;
	switch (op->target) {
	case T_VALID:
		op->placed = below(2) ? s1 + 8 + below(S_AREA_AFTER - STRUCT_SIZE - 16) : s1 - split;
		op->split = s1 - op->placed;
		break;
	case T_READ_ONLY:
	case T_UNMAPPED:
		op->prot[0] = op->prot[1] = op->target == T_READ_ONLY ? PROT_RO_ : PROT_NONE_;
		b = inside(op->prot[0]);
		special(op, b, 256, b + 8 + below(256 - STRUCT_SIZE - 16), b);
		break;
	case T_STRADDLE:
		do {
			op->prot[0] = below(3);
			op->prot[1] = below(3);
		} while (op->prot[0] == PROT_RW_ && op->prot[1] == PROT_RW_);
		b = boundary(op->prot[0], op->prot[1]);
		special(op, b - S_AREA_BEFORE, S_AREA_BEFORE + S_AREA_AFTER, b - split, b);
		break;
	case T_GUEST_PHYSICAL:
		if (pl.guest_slots < G_STRUCT_SLOTS) {
			uint8_t *slot = f.a.guest + G_STRUCTS + G_STRUCT_SLOT * pl.guest_slots++;

			op->area = slot;
			op->area_size = G_STRUCT_SLOT;
			op->placed = slot + 8 + below(G_STRUCT_SLOT - STRUCT_SIZE - 16);
			break;
		}
		op->target = T_NULL;	/* no room left in guest memory this batch */
		break;
	}
	memset(op->area, CANARY, op->area_size);
	if (op->placed) {
		static const size_t at[6] = {
			offsetof(struct pt_regs, rdi), offsetof(struct pt_regs, rsi),
			offsetof(struct pt_regs, rdx), offsetof(struct pt_regs, r10),
			offsetof(struct pt_regs, r8), offsetof(struct pt_regs, r9),
		};

		for (size_t k = 0; k < STRUCT_SIZE; k += 8) {
			uint64_t r = next();

			memcpy(op->image + k, &r, 8);
		}
		memcpy(op->image + AX, &op->nr, 8);
		for (int k = 0; k < 6; k++)
			memcpy(op->image + at[k], &op->args[k], 8);
		memcpy(op->placed, op->image, STRUCT_SIZE);
	}
	op->rbx = (uint64_t)op->placed;
	switch (op->target) {
	case T_READ_ONLY:
	case T_UNMAPPED:
	case T_STRADDLE:
		op->rbx = (uint64_t)(f.a.special + (op->placed - f.a.special_rw));
		break;
	case T_NULL:
		op->rbx = 0;
		break;
	case T_KERNEL:
		op->rbx = KERNEL_BASE + below(1 << 20);
		break;
	case T_NONCANONICAL:
		op->rbx = below(2) ? NONCANONICAL + below(1ULL << 40) : -NONCANONICAL - 1 - below(1 << 20);
		break;
	case T_END_OF_USER:
		/*
		 * The fields KVM reads end past the end of user space, where
		 * nothing can be mapped. (A struct whose unread tail alone
		 * is past it runs if a call mapped the last page: KVM checks
		 * the fields it reads, as a native call checks its buffers.)
		 */
		op->rbx = USER_END - 1 - below(offsetof(struct pt_regs, cs) - 1);
		break;
	case T_GUEST_PHYSICAL:
		op->rbx = op->placed - f.a.guest;	/* its guest-physical address */
		break;
	case T_OTHER_VM:
		op->rbx = (uint64_t)f.a.neighbour + 64;
		break;
	}
}
