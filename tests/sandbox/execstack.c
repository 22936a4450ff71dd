// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * execstack: built with an executable stack (-z execstack: PT_GNU_STACK
 * RWE), it runs code it writes on its stack, as GCC's trampolines for
 * nested functions do: Linux maps such a stack executable, and so must
 * hostcall-run now that the guest has NX. Prints the code's result; exits
 * 0 if it is right.
 */
#include "say.h"

int main(void)
{
	/* mov $42, %eax; ret */
	unsigned char code[] = { 0xb8, 42, 0, 0, 0, 0xc3 };
	int (*fn)(void) = (int (*)(void))(void *)code;
	int got;

	/* the compiler does not see that the call reads the bytes: store them */
	__asm__ volatile("" : : "r"(code) : "memory");
	got = fn();

	say("code on the stack returned %d\n", got);
	return got == 42 && !failures ? 0 : 1;
}
