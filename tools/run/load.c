// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The program's start, as Linux's execve() makes it: the PT_LOAD segments at
 * their addresses (a PIE at a base of ours), an 8 MiB stack at the top of
 * the heap area with argv, envp and the auxiliary vector on it, the dynamic
 * loader that PT_INTERP names (below the stack, AT_BASE), and registers as
 * at process entry: at the loader's entry, or the program's.
 *
 * There is no vDSO for the program (ours is not reachable from ring 3), so
 * AT_SYSINFO_EHDR is left out and libc makes the time calls as system calls.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#define PIE_BASE	0x200000000UL	/* far from this process, itself a static PIE */
#define BRK_SIZE	(1UL << 30)
/*
 * The heap area: low, above any image (below PIE_BASE, or PIE_BASE on, at
 * most HEAP_SIZE), far below where the host places this process's own
 * mappings (top down from near the top of the address space, or bottom up
 * from a third of it): a hole in it is never the host's choice.
 */
#define HEAP_BASE	(1UL << 40)
#define HEAP_SIZE	(64UL << 30)
#define STACK_SIZE	(8UL << 20)
#define STACK_GAP	(1UL << 20)	/* Linux's stack_guard_gap */
#define MAX_PHDRS	64
#define SCRIPT_LINE	256	/* Linux's BINPRM_BUF_SIZE: "#!" and the interpreter fit in it */
#define MAX_SCRIPTS	4	/* a script's interpreter a script, so deep at most */

static int prot_of(uint32_t flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

/* An ELF file's headers, checked, and where its PT_LOAD segments go. */
struct elf {
	const char *path;
	int fd;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PHDRS];
	uint64_t lo, hi;		/* the segments' extent, as linked */
	char interp[PATH_MAX];		/* PT_INTERP's path, or "" */
	bool exec_stack;		/* PT_GNU_STACK with PF_X */
	const char *why;		/* not a program we run: why */
};

static int bad(struct elf *e, const char *why)
{
	e->why = why;
	return -ENOEXEC;
}

/* Say why @e cannot run (126 follows), or which file is missing (127). */
static int say(const struct elf *e, const char *whose, int ret)
{
	if (ret == -ENOEXEC && e->why)
		fprintf(stderr, "hostcall-run: %s: %s\n", e->path, e->why);
	else if (ret == -ENOENT || ret == -ENOTDIR)
		fprintf(stderr, "hostcall-run: %s%s: %s\n", whose, e->path, strerror(-ret));
	return ret;
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

/* Open and check @path: an x86-64 executable or shared object. */
static int elf_open(struct elf *e, const char *path)
{
	Elf64_Ehdr *eh = &e->eh;
	Elf64_Phdr *ph = e->ph;
	int ret = 0;

	e->path = path;
	e->lo = UINT64_MAX;
	e->hi = 0;
	e->interp[0] = '\0';
	e->exec_stack = false;
	e->why = NULL;
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0)
		return -errno;
	if (pread(e->fd, eh, sizeof(*eh), 0) != sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		ret = bad(e, "not an ELF file");
	else if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
		 (eh->e_type != ET_EXEC && eh->e_type != ET_DYN))
		ret = bad(e, "not an x86-64 executable");
	else if (eh->e_phentsize != sizeof(Elf64_Phdr) || !eh->e_phnum || eh->e_phnum > MAX_PHDRS ||
		 pread(e->fd, ph, eh->e_phnum * sizeof(ph[0]), eh->e_phoff) !=
		 (ssize_t)(eh->e_phnum * sizeof(ph[0])))
		ret = bad(e, "bad program headers");
	for (int i = 0; !ret && i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_GNU_STACK)
			e->exec_stack = ph[i].p_flags & PF_X;
		/* as Linux, the first PT_INTERP */
		if (ph[i].p_type == PT_INTERP && !e->interp[0] &&
		    (ph[i].p_filesz < 2 || ph[i].p_filesz > sizeof(e->interp) ||
		     pread(e->fd, e->interp, ph[i].p_filesz, ph[i].p_offset) != (ssize_t)ph[i].p_filesz ||
		     memchr(e->interp, '\0', ph[i].p_filesz) != e->interp + ph[i].p_filesz - 1))
			ret = bad(e, "bad PT_INTERP");
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_memsz < ph[i].p_filesz || ph[i].p_vaddr + ph[i].p_memsz < ph[i].p_vaddr ||
		    (ph[i].p_vaddr - ph[i].p_offset) % PAGE_SIZE)
			ret = bad(e, "bad PT_LOAD segment");
		e->lo = ph[i].p_vaddr < e->lo ? ph[i].p_vaddr : e->lo;
		if (ph[i].p_vaddr + ph[i].p_memsz > e->hi)
			e->hi = ph[i].p_vaddr + ph[i].p_memsz;
	}
	if (!ret && e->hi <= e->lo)
		ret = bad(e, "no PT_LOAD segment");
	if (!ret && (page_up(e->hi) - page_down(e->lo) > HEAP_SIZE || e->hi >= PIE_BASE))
		ret = bad(e, "segments too large or too high");
	if (ret)
		close(e->fd);
	return ret;
}

/* Map @e's segments, linked at 0 for a shared object, @base higher. */
static int elf_map(struct program *p, const struct elf *e, uint64_t base)
{
	int ret = 0;

	for (int i = 0; !ret && i < e->eh.e_phnum; i++) {
		if (e->ph[i].p_type == PT_LOAD)
			ret = map_segment(p, e->fd, &e->ph[i], base);
	}
	return ret;
}

/* Where @e's program headers are once mapped at @base: AT_PHDR. */
static uint64_t elf_phdr(const struct elf *e, uint64_t base)
{
	const Elf64_Phdr *ph = e->ph;

	for (int i = 0; i < e->eh.e_phnum; i++) {
		if (ph[i].p_type == PT_PHDR)
			return base + ph[i].p_vaddr;
	}
	for (int i = 0; i < e->eh.e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && e->eh.e_phoff >= ph[i].p_offset &&
		    e->eh.e_phoff < ph[i].p_offset + ph[i].p_filesz)
			return base + ph[i].p_vaddr + e->eh.e_phoff - ph[i].p_offset;
	}
	return 0;
}

/* The program's image: its segments in the image area, brk after them. */
static int load_image(struct program *p, struct elf *e, uint64_t *base)
{
	uint64_t lo, hi;
	int ret;

	*base = e->eh.e_type == ET_DYN ? PIE_BASE - page_down(e->lo) : 0;
	lo = page_down(*base + e->lo);
	hi = page_up(*base + e->hi);
	ret = area_reserve(&p->image, lo, hi - lo + BRK_SIZE);
	if (ret == -EEXIST)
		return say(e, "", bad(e, "its addresses are hostcall-run's"));
	if (!ret)
		ret = elf_map(p, e, *base);
	p->mem->brk_start = p->mem->brk = hi;
	p->mem->brk_end = p->image.end;
	return ret;
}

/*
 * The dynamic loader that @program names, as Linux loads it: a shared
 * object at an address of the heap area (mmap's placement), entered first.
 */
static int load_interp(struct program *p, const struct elf *program, uint64_t *base,
		       uint64_t *entry)
{
	struct elf interp;
	char whose[PATH_MAX + 32];
	long at;
	int ret = elf_open(&interp, program->interp);

	/* Linux ignores the interpreter's own PT_INTERP, and so do we */
	if (!ret && interp.eh.e_type != ET_DYN) {
		close(interp.fd);
		ret = bad(&interp, "not an interpreter: a shared object");
	}
	/* execve()'s error too: the shell then says 127 */
	snprintf(whose, sizeof(whose), "%s: its interpreter ", program->path);
	if (ret)
		return say(&interp, whose, ret);
	at = mem_call(p, SYS_mmap, (const uint64_t[]){
		0, page_up(interp.hi) - page_down(interp.lo), PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 });
	if (at < 0) {
		ret = at;
		goto out;
	}
	*base = at - page_down(interp.lo);
	*entry = *base + interp.eh.e_entry;
	ret = elf_map(p, &interp, *base);
out:
	close(interp.fd);
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

/* Where the program's image and its interpreter went. */
struct start {
	uint64_t entry;		/* the program's: AT_ENTRY */
	uint64_t phdr, phnum;	/* AT_PHDR, AT_PHNUM */
	uint64_t interp_base;	/* AT_BASE, 0 without an interpreter */
	uint64_t rip;		/* the interpreter's entry, or the program's */
};

/*
 * The stack at the top of the heap area, executable if PT_GNU_STACK says
 * so, and the gap below it, which mmap() leaves alone.
 */
static int map_stack(struct program *p, bool exec)
{
	uint64_t top = p->heap.end;

	if (mmap((void *)(top - STACK_SIZE), STACK_SIZE,
		 PROT_READ | PROT_WRITE | (exec ? PROT_EXEC : 0),
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		return -errno;
	return span_add(p, top - STACK_SIZE - STACK_GAP, top) < 0 ? -ENOMEM : 0;
}

/* The stack as the kernel leaves it: argc, argv, envp, auxv, then strings. */
static int build_stack(struct program *p, struct hc_user_regs *regs, const char *path,
		       char **argv, char **envp, const struct start *start)
{
	int argc = count(argv), envc = count(envp), n = 0;
	uint64_t sp = p->heap.end, random, execfn, platform, *vec;
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
	AUX(AT_PHDR, start->phdr);
	AUX(AT_PHENT, sizeof(Elf64_Phdr));
	AUX(AT_PHNUM, start->phnum);
	AUX(AT_PAGESZ, PAGE_SIZE);
	AUX(AT_BASE, start->interp_base);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, start->entry);
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

	regs->rsp = sp;
	regs->rip = start->rip;
	regs->rflags = 0x202;
	return 0;
}

/*
 * "#!INTERP [ARG]" on the first line of @path, as Linux's binfmt_script
 * reads it: 1 with @interp and @arg ("" if none) filled, 0 if @path is no
 * script, or -errno.
 */
static int read_script(const char *path, char interp[SCRIPT_LINE], char arg[SCRIPT_LINE])
{
	char line[SCRIPT_LINE], *word, *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	size_t len;

	if (fd < 0)
		return -errno;
	n = pread(fd, line, sizeof(line) - 1, 0);
	close(fd);
	if (n < 2 || line[0] != '#' || line[1] != '!')
		return n < 0 ? -errno : 0;
	line[n] = '\0';
	end = strchr(line, '\n');
	if (!end && n == sizeof(line) - 1)
		return -ENOEXEC;	/* as Linux: the interpreter may be cut */
	if (end)
		*end = '\0';
	word = line + 2 + strspn(line + 2, " \t");
	len = strcspn(word, " \t");
	if (!len)
		return -ENOEXEC;
	memcpy(interp, word, len);
	interp[len] = '\0';
	word += len;
	word += strspn(word, " \t");
	for (end = word + strlen(word); end > word && (end[-1] == ' ' || end[-1] == '\t');)
		*--end = '\0';
	strcpy(arg, word);
	return 1;
}

/*
 * If @path is a script: 1, and *@command its interpreter's argv, as
 * Linux's: INTERP [ARG] PATH ARGV[1]...; else 0, or -errno.
 */
static int script_command(const char *path, char **argv, char ***command)
{
	char interp[SCRIPT_LINE], arg[SCRIPT_LINE];
	int ret = read_script(path, interp, arg), argc = argv[0] ? count(argv) : 1, n = 0;
	char **c;

	if (ret <= 0)
		return ret;
	c = calloc(argc + 3, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c[n++] = strdup(interp);
	if (arg[0])
		c[n++] = strdup(arg);
	c[n++] = strdup(path);
	for (int i = 1; i < argc; i++)
		c[n++] = argv[i];
	*command = c;
	return 1;
}

/*
 * What execve() would refuse, found before hostcall-run gives up the
 * program it runs: a file missing or not executable, no program, scripts
 * nested too deep, an interpreter missing.
 */
int check_executable(const char *path)
{
	char interp[SCRIPT_LINE], arg[SCRIPT_LINE], elf_interp[PATH_MAX];
	struct elf e;
	struct stat st;
	int ret;

	for (int depth = 0; depth <= MAX_SCRIPTS; depth++) {
		if (stat(path, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
			return -EACCES;
		ret = read_script(path, interp, arg);
		if (ret < 0)
			return ret;
		if (!ret)
			break;
		path = strcpy(elf_interp, interp);
	}
	if (ret)
		return -ELOOP;
	ret = elf_open(&e, path);
	if (ret)
		return ret;
	close(e.fd);
	if (!e.interp[0])
		return 0;
	strcpy(elf_interp, e.interp);
	ret = elf_open(&e, elf_interp);
	if (ret)
		return ret == -ENOEXEC ? -ELIBBAD : ret;
	close(e.fd);
	return 0;
}

int load_program(struct program *p, struct hc_user_regs *regs, const char *path, char **argv,
		 char **envp)
{
	struct start start = { 0 };
	struct elf program;
	uint64_t base;
	char **command;
	int ret, depth = 0;

	/* A script: its interpreter runs, with the script's path as an argument. */
	while ((ret = script_command(path, argv, &command)) > 0) {
		if (++depth > MAX_SCRIPTS) {
			fprintf(stderr, "hostcall-run: %s: scripts nested too deep\n", path);
			return -ENOEXEC;
		}
		path = command[0];
		argv = command;
	}
	if (ret == -ENOEXEC)
		fprintf(stderr, "hostcall-run: %s: a bad \"#!\" line\n", path);
	if (ret == -ENOENT || ret == -ENOTDIR)
		fprintf(stderr, "hostcall-run: %s: %s\n", path, strerror(-ret));
	if (ret)
		return ret;
	ret = area_reserve(&p->heap, HEAP_BASE, HEAP_SIZE);
	if (ret)
		return ret;
	ret = elf_open(&program, path);
	if (ret)
		return say(&program, "", ret);
	if (!realpath(path, p->exe))
		snprintf(p->exe, sizeof(p->exe), "%s", path);
	ret = load_image(p, &program, &base);
	start.entry = start.rip = base + program.eh.e_entry;
	start.phdr = elf_phdr(&program, base);
	start.phnum = program.eh.e_phnum;
	/* the stack first: the interpreter goes below it, where mmap() puts things */
	if (!ret)
		ret = map_stack(p, program.exec_stack);
	if (!ret && program.interp[0])
		ret = load_interp(p, &program, &start.interp_base, &start.rip);
	if (!ret)
		ret = build_stack(p, regs, path, argv, envp, &start);
	close(program.fd);
	return ret;
}
