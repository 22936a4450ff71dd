// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The guest's page tables map every address of the process at itself
 * (GVA == HVA), so that a pointer means the same in guest and host.
 *
 * Guest-physical space is smaller than the 47-bit user address space, so it
 * is handed out per 1 GiB window of addresses that the guest touches: each
 * window is a memslot over those host addresses at the next free GPA, and the
 * page tables translate each address of the window to that GPA.
 *
 * Entries are made lazily, from the guest's page faults, with the host
 * mapping's permissions: present if readable, writable if writable,
 * executable only if executable (where the CPU has NX), 2 MiB at a time
 * where the whole 2 MiB is mapped alike, else 4 KiB pages. A fault on
 * memory the process does not have is reported with its address. Entries go
 * stale when the process unmaps or protects memory; KVM then fails KVM_RUN
 * with -EFAULT, and run.c drops every entry (hc_paging_forget()) so that the
 * access faults again in the guest, with its address. KVM sees no lost
 * execute permission: ring 0 code reports those (hc_vm_remapped(), which
 * drops the range's entries: hc_paging_forget_range()).
 *
 * GVA -> GPA never changes for a given address, so a vCPU that still caches
 * a dropped entry translates correctly; and table pages are never freed, so
 * a vCPU walking them concurrently never reads a reused page.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "internal.h"

#define PTE_PRESENT	(1ULL << 0)
#define PTE_WRITABLE	(1ULL << 1)
#define PTE_USER	(1ULL << 2)
#define PTE_LARGE	(1ULL << 7)
#define PTE_PINNED	(1ULL << 9)	/* ignored by the CPU: never dropped */
#define PTE_NX		(1ULL << 63)
#define PTE_ADDR	0x000ffffffffff000ULL

#define TABLES_SIZE	(64UL << 20)	/* reserved, not committed */
#define ENTRIES		512
#define REGION_SIZE	(2UL << 20)

/* Host permissions of a page, from /proc/self/maps, and whether ring 3 may use it. */
#define PROT_R	1
#define PROT_W	2
#define PROT_U	4
#define PROT_X	8

static uint64_t *table(struct hc_vm *vm, uint64_t entry)
{
	return vm->tables + (entry & PTE_ADDR) / sizeof(uint64_t);
}

static void set_entry(uint64_t *entry, uint64_t value)
{
	/* Other vCPUs may be walking the tables. */
	__atomic_store_n(entry, value, __ATOMIC_RELEASE);
}

/* The table that @entry points to, allocated zeroed on first use. */
static uint64_t *next_table(struct hc_vm *vm, uint64_t *entry)
{
	if (!(*entry & PTE_PRESENT)) {
		if (vm->tables_used == vm->tables_max)
			return NULL;
		/* The leaves alone decide what ring 3 reaches. */
		set_entry(entry, vm->tables_used++ * HC_PAGE_SIZE | PTE_PRESENT | PTE_WRITABLE |
			  PTE_USER);
	}
	return table(vm, *entry);
}

static int index_of(uint64_t addr, int level)
{
	return (addr >> (12 + 9 * level)) & (ENTRIES - 1);
}

/* The GPA of @addr: its window's memslot, created on first use. */
static int window_gpa(struct hc_vm *vm, uint64_t addr, uint64_t *gpa)
{
	uint64_t hva = addr & ~(HC_WINDOW_SIZE - 1);
	struct kvm_userspace_memory_region slot;
	struct hc_window *w;
	long ret;
	int i;

	for (i = 0; i < vm->nr_windows; i++) {
		if (vm->windows[i].hva == hva) {
			*gpa = vm->windows[i].gpa + (addr - hva);
			return 0;
		}
	}
	/* Window 0 of GPA space holds the page tables. */
	if (vm->nr_windows == HC_MAX_WINDOWS ||
	    (uint64_t)(vm->nr_windows + 2) << HC_WINDOW_SHIFT > 1ULL << vm->phys_bits)
		return -ENOSPC;
	w = &vm->windows[vm->nr_windows];
	slot = (struct kvm_userspace_memory_region){
		.slot = vm->nr_windows + 1,
		.guest_phys_addr = (uint64_t)(vm->nr_windows + 1) << HC_WINDOW_SHIFT,
		.memory_size = hva + HC_WINDOW_SIZE > HC_USER_END ? HC_USER_END - hva : HC_WINDOW_SIZE,
		.userspace_addr = hva,
	};
	ret = hc_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot);
	if (ret < 0)
		return ret;
	w->hva = hva;
	w->gpa = slot.guest_phys_addr;
	vm->nr_windows++;
	*gpa = w->gpa + (addr - hva);
	return 0;
}

/* The page directory entry of @addr, with the tables above it made. */
static uint64_t *pde_of(struct hc_vm *vm, uint64_t addr)
{
	uint64_t *pdpt, *pd;

	pdpt = next_table(vm, &vm->tables[index_of(addr, 3)]);
	pd = pdpt ? next_table(vm, &pdpt[index_of(addr, 2)]) : NULL;
	return pd ? &pd[index_of(addr, 1)] : NULL;
}

/* The 4 KiB table under @pde; a 2 MiB entry there is dropped for it. */
static uint64_t *page_table(struct hc_vm *vm, uint64_t *pde)
{
	if (*pde & PTE_LARGE)
		set_entry(pde, 0);
	return next_table(vm, pde);
}

static uint64_t leaf(struct hc_vm *vm, uint64_t gpa, uint8_t prot)
{
	if (!(prot & PROT_R))
		return 0;
	return gpa | PTE_PRESENT | (prot & PROT_W ? PTE_WRITABLE : 0) |
	       (prot & PROT_U ? PTE_USER : 0) | (vm->nx && !(prot & PROT_X) ? PTE_NX : 0);
}

/* Parse "start-end perms" at the head of a /proc/self/maps line. */
static bool parse_maps_line(const char *line, uint64_t *start, uint64_t *end, uint8_t *prot)
{
	uint64_t *field = start;
	const char *p = line;

	*start = *end = 0;
	for (;; p++) {
		unsigned int digit;

		if (*p >= '0' && *p <= '9')
			digit = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			digit = *p - 'a' + 10;
		else if (*p == '-' && field == start)
			field = end, digit = 16;
		else
			break;
		if (digit < 16)
			*field = *field << 4 | digit;
	}
	if (*p != ' ' || field != end)
		return false;
	*prot = (p[1] == 'r' ? PROT_R : 0) | (p[2] == 'w' ? PROT_W : 0) | (p[3] == 'x' ? PROT_X : 0);
	return true;
}

/* Add PROT_U to the pages of the 2 MiB at @region that ring 3 may use. */
static void region_user(struct hc_vm *vm, uint64_t region, uint8_t prot[ENTRIES])
{
	for (int r = 0; r < vm->nr_user; r++) {
		uint64_t page = vm->user[r].start > region ? vm->user[r].start : region;

		for (; page < vm->user[r].end && page < region + REGION_SIZE; page += HC_PAGE_SIZE)
			prot[(page - region) / HC_PAGE_SIZE] |= PROT_U;
	}
}

/*
 * prot[i]: the host permissions of page i of the 2 MiB at @region. Read with
 * raw system calls into a buffer on the stack: see hc_raw_syscall().
 */
static int region_prot(uint64_t region, uint8_t prot[ENTRIES])
{
	char buf[4096], line[64];
	size_t len = 0;
	bool done = false;
	long fd, n;

	memset(prot, 0, ENTRIES);
	fd = hc_raw_syscall(SYS_open, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC, 0, 0, 0, 0);
	if (fd < 0)
		return fd;
	while (!done && (n = hc_raw_syscall(SYS_read, fd, (long)buf, sizeof(buf), 0, 0, 0)) > 0) {
		for (long i = 0; i < n && !done; i++) {
			uint64_t start, end, page;
			uint8_t p;

			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			len = 0;
			if (!parse_maps_line(line, &start, &end, &p))
				continue;
			if (start >= region + REGION_SIZE) {
				done = true;
				continue;
			}
			for (page = start > region ? start : region;
			     page < end && page < region + REGION_SIZE; page += HC_PAGE_SIZE)
				prot[(page - region) / HC_PAGE_SIZE] = p;
		}
	}
	hc_raw_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
	return n < 0 ? n : 0;
}

/*
 * A guest page fault at @addr, by ring 3 if @user, an instruction fetch if
 * @fetch: map its 2 MiB as the host has it, or -EFAULT if the host (or
 * hc_vm_set_user()) gives no such access there either.
 */
int hc_paging_fault(struct hc_vm *vm, uint64_t addr, bool write, bool fetch, bool user)
{
	uint64_t region = addr & ~(REGION_SIZE - 1), gpa, *pde, *pt;
	uint8_t prot[ENTRIES], want = PROT_R | (write ? PROT_W : 0) | (user ? PROT_U : 0) |
				      (fetch && vm->nx ? PROT_X : 0);
	unsigned long forgets;
	int ret, i;
	bool alike;

	if (addr >= HC_USER_END)
		return -EFAULT;
again:
	/*
	 * Entries dropped while the permissions were read may have been
	 * dropped for a change they predate: read them again then.
	 */
	forgets = __atomic_load_n(&vm->forgets, __ATOMIC_ACQUIRE);
	alike = true;
	ret = region_prot(region, prot);
	if (ret < 0)
		return ret;
	region_user(vm, region, prot);
	if ((prot[(addr - region) / HC_PAGE_SIZE] & want) != want)
		return -EFAULT;
	for (i = 1; i < ENTRIES; i++)
		alike &= prot[i] == prot[0];

	pthread_mutex_lock(&vm->lock);
	if (vm->forgets != forgets) {
		pthread_mutex_unlock(&vm->lock);
		goto again;
	}
	ret = window_gpa(vm, region, &gpa);
	pde = ret ? NULL : pde_of(vm, region);
	if (!ret && !pde)
		ret = -ENOMEM;
	if (ret)
		goto out;
	if (alike && (!(*pde & PTE_PRESENT) || (*pde & PTE_LARGE))) {
		set_entry(pde, leaf(vm, gpa, prot[0]) | PTE_LARGE);
		goto out;
	}
	pt = page_table(vm, pde);
	if (!pt) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < ENTRIES; i++) {
		if (!(pt[i] & PTE_PINNED))
			set_entry(&pt[i], leaf(vm, gpa + i * HC_PAGE_SIZE, prot[i]));
	}
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/*
 * Map [start, start + len) now and for good, with @prot (PROT_WRITE,
 * PROT_EXEC: readable in any case): what the CPU itself reads.
 */
int hc_paging_pin(struct hc_vm *vm, const void *start, size_t len, int prot)
{
	uint8_t pinned = PROT_R | (prot & PROT_WRITE ? PROT_W : 0) | (prot & PROT_EXEC ? PROT_X : 0);
	uint64_t addr = (uintptr_t)start & ~(HC_PAGE_SIZE - 1), end = (uintptr_t)start + len;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	for (; addr < end && !ret; addr += HC_PAGE_SIZE) {
		uint64_t gpa, *pde, *pt;

		ret = window_gpa(vm, addr, &gpa);
		pde = ret ? NULL : pde_of(vm, addr);
		pt = pde ? page_table(vm, pde) : NULL;
		if (!ret && !pt)
			ret = -ENOMEM;
		if (!ret)
			set_entry(&pt[index_of(addr, 0)],
				  leaf(vm, gpa, pinned) | PTE_PINNED);
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* The page directory entry of @addr where its tables exist, else NULL. */
static uint64_t *pde_lookup(struct hc_vm *vm, uint64_t addr)
{
	uint64_t entry = vm->tables[index_of(addr, 3)];

	if (!(entry & PTE_PRESENT))
		return NULL;
	entry = table(vm, entry)[index_of(addr, 2)];
	return entry & PTE_PRESENT ? &table(vm, entry)[index_of(addr, 1)] : NULL;
}

/*
 * Drop what @pde maps of its pages [first, last), but the pinned ones; a
 * 2 MiB entry goes whole. They are remade from faults, with the host's
 * permissions then.
 */
static void forget_pde(struct hc_vm *vm, uint64_t *pde, int first, int last)
{
	uint64_t *pt;

	if (*pde & PTE_LARGE) {
		set_entry(pde, 0);
		return;
	}
	if (!(*pde & PTE_PRESENT))
		return;
	pt = table(vm, *pde);
	for (int i = first; i < last; i++) {
		if (!(pt[i] & PTE_PINNED))
			set_entry(&pt[i], 0);
	}
}

/*
 * Count a forget once its entries are gone, still under the lock. A vCPU
 * that reads the new count (user.c) flushes its TLB, and then walks tables
 * without them; counted before they went, it could cache one again between
 * its flush and the drop, and never flush for it. hc_paging_fault()
 * compares the count under the lock, so it sees a forget whole, whatever
 * the order inside: one done since it read the host's permissions makes it
 * read them again, one yet to come drops the entries it makes.
 */
static void forgotten(struct hc_vm *vm)
{
	__atomic_store_n(&vm->forgets, vm->forgets + 1, __ATOMIC_RELEASE);
}

/* Drop the entries of [start, end), as forget_pde() does. */
void hc_paging_forget_range(struct hc_vm *vm, uint64_t start, uint64_t end)
{
	pthread_mutex_lock(&vm->lock);
	for (uint64_t region = start & ~(REGION_SIZE - 1); region < end; region += REGION_SIZE) {
		uint64_t *pde = pde_lookup(vm, region);
		int first = start > region ? (start - region) / HC_PAGE_SIZE : 0;
		int last = end < region + REGION_SIZE ? (end - region) / HC_PAGE_SIZE : ENTRIES;

		if (pde)
			forget_pde(vm, pde, first, last);
	}
	forgotten(vm);
	pthread_mutex_unlock(&vm->lock);
}

/* Drop every entry, as forget_pde() does. */
void hc_paging_forget(struct hc_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	for (int i4 = 0; i4 < ENTRIES; i4++) {
		uint64_t *pdpt;

		if (!(vm->tables[i4] & PTE_PRESENT))
			continue;
		pdpt = table(vm, vm->tables[i4]);
		for (int i3 = 0; i3 < ENTRIES; i3++) {
			uint64_t *pd;

			if (!(pdpt[i3] & PTE_PRESENT))
				continue;
			pd = table(vm, pdpt[i3]);
			for (int i2 = 0; i2 < ENTRIES; i2++)
				forget_pde(vm, &pd[i2], 0, ENTRIES);
		}
	}
	forgotten(vm);
	pthread_mutex_unlock(&vm->lock);
}

/* The top-level table (CR3 = GPA 0) and the memslot that holds the tables. */
int hc_paging_init(struct hc_vm *vm)
{
	struct kvm_userspace_memory_region slot = { .memory_size = TABLES_SIZE };

	vm->tables = mmap(NULL, TABLES_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->tables == MAP_FAILED) {
		vm->tables = NULL;
		return -errno;
	}
	vm->tables_max = TABLES_SIZE / HC_PAGE_SIZE;
	vm->tables_used = 1;
	slot.userspace_addr = (uintptr_t)vm->tables;
	return hc_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot);
}

void hc_paging_free(struct hc_vm *vm)
{
	if (vm->tables)
		munmap(vm->tables, TABLES_SIZE);
}
