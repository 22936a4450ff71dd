/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Output for the sandbox's test programs: write() of whole lines, never
 * stdio, which would ask isatty() (an ioctl, refused under hostcall-run)
 * how to buffer. A line that does not go out whole counts as a failure.
 */
#ifndef SANDBOX_SAY_H
#define SANDBOX_SAY_H

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int failures __attribute__((unused));

static void vsay(const char *prefix, const char *fmt, va_list ap)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "%s", prefix);

	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	if (write(1, line, n) != n)
		failures++;
}

static inline __attribute__((format(printf, 1, 2))) void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

/* "ok   WHAT" or "FAIL WHAT", a line. */
static inline __attribute__((format(printf, 2, 3))) void check(int good, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(good ? "ok   " : "FAIL ", fmt, ap);
	va_end(ap);
	if (write(1, "\n", 1) != 1 || !good)
		failures++;
}

#endif /* SANDBOX_SAY_H */
