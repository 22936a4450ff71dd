// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * args: the start a program gets, as execve() makes it: argc and argv,
 * the environment, and the auxiliary vector (AT_PAGESZ, AT_PHDR pointing at
 * our own program headers, AT_ENTRY our _start, AT_RANDOM, AT_EXECFN,
 * AT_BASE the dynamic loader's ELF header where there is one). Prints what
 * natively and under hostcall-run must be the same; exits 1 if an entry is
 * missing or wrong. Built static, static-pie and dynamic.
 */
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "say.h"

extern const ElfW(Ehdr) __ehdr_start;
extern char _start[];

int main(int argc, char **argv)
{
	const unsigned char *random = (const unsigned char *)getauxval(AT_RANDOM);
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	const char *env = getenv("SANDBOX_ARGS");
	unsigned int sum = 0;

	say("argc %d\n", argc);
	for (int i = 1; i < argc; i++)
		say("argv[%d] \"%s\"\n", i, argv[i]);
	say("argv[argc] is NULL: %s\n", argv[argc] ? "no" : "yes");
	say("SANDBOX_ARGS \"%s\"\n", env ? env : "(unset)");
	check(getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ 4096");
	check(getauxval(AT_PHDR) == (unsigned long)&__ehdr_start + __ehdr_start.e_phoff,
	      "AT_PHDR: our program headers");
	check(getauxval(AT_PHNUM) == __ehdr_start.e_phnum, "AT_PHNUM");
	check(getauxval(AT_ENTRY) == (unsigned long)_start, "AT_ENTRY: our _start");
	check(!getauxval(AT_BASE) || !memcmp((void *)getauxval(AT_BASE), ELFMAG, SELFMAG),
	      "AT_BASE: 0, or the dynamic loader's ELF header");
	check(execfn && !strcmp(execfn, argv[0]), "AT_EXECFN is argv[0]");
	for (int i = 0; random && i < 16; i++)
		sum |= random[i];
	check(random && sum, "AT_RANDOM: 16 bytes, not all zero");
	return failures ? 1 : 0;
}
