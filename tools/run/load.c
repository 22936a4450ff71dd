// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The program's start, as Linux's execve() of a static ELF makes it: the
 * PT_LOAD segments at their addresses (a static PIE at a base of ours), an
 * 8 MiB stack at the top of the heap area with argv, envp and the auxiliary
 * vector on it, and registers as at process entry.
 *
 * There is no vDSO for the program (ours is not reachable from ring 3), so
 * AT_SYSINFO_EHDR is left out and libc makes the time calls as system calls.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "sandbox.h"

#define PIE_BASE	0x200000000UL	/* far from this process, itself a static PIE */
#define BRK_SIZE	(1UL << 30)
#define HEAP_SIZE	(64UL << 30)
#define STACK_SIZE	(8UL << 20)
#define STACK_GAP	(1UL << 20)	/* Linux's stack_guard_gap */
#define MAX_PHDRS	64

static int prot_of(uint32_t flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

/* Fail with a message naming the program; 126: it cannot be run. */
static int bad(const char *path, const char *why)
{
	fprintf(stderr, "hostcall-run: %s: %s\n", path, why);
	return -ENOEXEC;
}

/* One PT_LOAD: the file's pages, zeroes after p_filesz, anonymous pages after. */
static int map_segment(struct program *p, int fd, const Elf64_Phdr *ph, uint64_t base)
{
	uint64_t start = page_down(base + ph->p_vaddr), file_end = base + ph->p_vaddr + ph->p_filesz;
	uint64_t end = page_up(base + ph->p_vaddr + ph->p_memsz);
	uint64_t anon = ph->p_filesz ? page_up(file_end) : start;
	int prot = prot_of(ph->p_flags);

	if (ph->p_filesz && mmap((void *)start, anon - start, prot | PROT_WRITE,
				 MAP_PRIVATE | MAP_FIXED, fd, page_down(ph->p_offset)) == MAP_FAILED)
		return -errno;
	if (ph->p_memsz > ph->p_filesz && anon > file_end)
		memset((void *)file_end, 0, anon - file_end);
	if (ph->p_filesz && mprotect((void *)start, anon - start, prot) < 0)
		return -errno;
	if (end > anon && mmap((void *)anon, end - anon, prot,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return -errno;
	return span_add(p, start, end);	/* segments may share a page */
}

/* The image: segments, brk after them. The entry point and AT_PHDR out. */
static int load_image(struct program *p, const char *path, uint64_t *entry, uint64_t *phdr,
		      Elf64_Ehdr *eh)
{
	Elf64_Phdr ph[MAX_PHDRS];
	uint64_t lo = UINT64_MAX, hi = 0, base = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, eh, sizeof(*eh), 0) != sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		ret = bad(path, "not an ELF file");
	else if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
		 (eh->e_type != ET_EXEC && eh->e_type != ET_DYN))
		ret = bad(path, "not an x86-64 executable");
	else if (eh->e_phentsize != sizeof(Elf64_Phdr) || !eh->e_phnum || eh->e_phnum > MAX_PHDRS ||
		 pread(fd, ph, eh->e_phnum * sizeof(ph[0]), eh->e_phoff) !=
		 (ssize_t)(eh->e_phnum * sizeof(ph[0])))
		ret = bad(path, "bad program headers");
	for (int i = 0; !ret && i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP)
			ret = bad(path, "dynamically linked: hostcall-run runs static programs");
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_memsz < ph[i].p_filesz || ph[i].p_vaddr + ph[i].p_memsz < ph[i].p_vaddr ||
		    (ph[i].p_vaddr - ph[i].p_offset) % PAGE_SIZE)
			ret = bad(path, "bad PT_LOAD segment");
		lo = ph[i].p_vaddr < lo ? ph[i].p_vaddr : lo;
		hi = ph[i].p_vaddr + ph[i].p_memsz > hi ? ph[i].p_vaddr + ph[i].p_memsz : hi;
	}
	if (!ret && hi <= lo)
		ret = bad(path, "no PT_LOAD segment");
	if (!ret && (page_up(hi) - page_down(lo) > HEAP_SIZE || hi >= PIE_BASE))
		ret = bad(path, "segments too large or too high");
	if (ret)
		goto out;

	if (eh->e_type == ET_DYN)
		base = PIE_BASE - page_down(lo);
	lo = page_down(base + lo);
	hi = page_up(base + hi);
	ret = area_reserve(&p->image, lo, hi - lo + BRK_SIZE);
	if (ret == -EEXIST) {
		fprintf(stderr, "hostcall-run: %s: its addresses %#lx-%#lx are hostcall-run's\n",
			path, (unsigned long)lo, (unsigned long)hi);
		ret = -ENOEXEC;
	}
	for (int i = 0; !ret && i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD)
			ret = map_segment(p, fd, &ph[i], base);
	}
	if (ret)
		goto out;
	p->brk_start = p->brk = hi;
	p->brk_end = p->image.end;
	*entry = base + eh->e_entry;
	*phdr = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_PHDR)
			*phdr = base + ph[i].p_vaddr;
		else if (!*phdr && ph[i].p_type == PT_LOAD && eh->e_phoff >= ph[i].p_offset &&
			 eh->e_phoff < ph[i].p_offset + ph[i].p_filesz)
			*phdr = base + ph[i].p_vaddr + eh->e_phoff - ph[i].p_offset;
	}
out:
	close(fd);
	return ret;
}

/* Push a copy of @len bytes below *sp; its address. */
static uint64_t push(uint64_t *sp, const void *data, size_t len)
{
	*sp -= len;
	memcpy((void *)*sp, data, len);
	return *sp;
}

static int count(char **v)
{
	int n = 0;

	while (v[n])
		n++;
	return n;
}

/* The stack as the kernel leaves it: argc, argv, envp, auxv, then strings. */
static int build_stack(struct program *p, const char *path, char **argv, char **envp,
		       uint64_t entry, uint64_t phdr, const Elf64_Ehdr *eh)
{
	int argc = count(argv), envc = count(envp), n = 0;
	uint64_t top = p->heap.end, sp = top, random, execfn, platform, *vec;
	unsigned char bytes[16];
	uint64_t auxv[2 * 24];
	size_t words, size = strlen(path) + 1;

	/* As Linux: the strings and their pointers take at most a quarter of the stack. */
	for (int i = 0; i < argc; i++)
		size += strlen(argv[i]) + 1 + 8;
	for (int i = 0; i < envc; i++)
		size += strlen(envp[i]) + 1 + 8;
	if (size > STACK_SIZE / 4)
		return -E2BIG;
	if (mmap((void *)(top - STACK_SIZE), STACK_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		return -errno;
	/* The gap below the stack counts as mapped, so mmap() stays clear of it. */
	if (span_add(p, top - STACK_SIZE - STACK_GAP, top) < 0)
		return -ENOMEM;
	if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
		return -EIO;
	execfn = push(&sp, path, strlen(path) + 1);
	random = push(&sp, bytes, sizeof(bytes));
	platform = push(&sp, "x86_64", 7);
	vec = calloc(argc + envc + 2, sizeof(*vec));
	if (!vec)
		return -ENOMEM;
	for (int i = 0; i < argc; i++)
		vec[i] = push(&sp, argv[i], strlen(argv[i]) + 1);
	for (int i = 0; i < envc; i++)
		vec[argc + 1 + i] = push(&sp, envp[i], strlen(envp[i]) + 1);

#define AUX(type, value) (auxv[n++] = (type), auxv[n++] = (value))
	AUX(AT_PHDR, phdr);
	AUX(AT_PHENT, sizeof(Elf64_Phdr));
	AUX(AT_PHNUM, eh->e_phnum);
	AUX(AT_PAGESZ, PAGE_SIZE);
	AUX(AT_BASE, 0);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, entry);
	AUX(AT_UID, getuid());
	AUX(AT_EUID, geteuid());
	AUX(AT_GID, getgid());
	AUX(AT_EGID, getegid());
	AUX(AT_SECURE, 0);
	AUX(AT_RANDOM, random);
	AUX(AT_PLATFORM, platform);
	AUX(AT_EXECFN, execfn);
	AUX(AT_HWCAP, getauxval(AT_HWCAP));
	AUX(AT_HWCAP2, getauxval(AT_HWCAP2));
	AUX(AT_CLKTCK, getauxval(AT_CLKTCK));
	AUX(AT_MINSIGSTKSZ, getauxval(AT_MINSIGSTKSZ));
	AUX(AT_NULL, 0);
#undef AUX

	/* argc + argv + NULL + envp + NULL + auxv, with rsp 16-byte aligned. */
	words = 1 + argc + 1 + envc + 1 + n;
	sp = (sp - words * 8) & ~15UL;
	*(uint64_t *)sp = argc;
	memcpy((void *)(sp + 8), vec, (argc + envc + 2) * 8);
	memcpy((void *)(sp + 8 * (argc + envc + 3)), auxv, n * 8);
	free(vec);

	p->regs.rsp = sp;
	p->regs.rip = entry;
	p->regs.rflags = 0x202;
	return 0;
}

int load_program(struct program *p, const char *path, char **argv, char **envp)
{
	uint64_t entry, phdr;
	Elf64_Ehdr eh;
	int ret;

	ret = area_reserve(&p->heap, 0, HEAP_SIZE);
	if (!ret)
		ret = load_image(p, path, &entry, &phdr, &eh);
	if (!ret)
		ret = build_stack(p, path, argv, envp, entry, phdr, &eh);
	return ret;
}
