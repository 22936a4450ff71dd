// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * fileio: file I/O for hostcall-run. In the current directory it makes
 * fileio.tmp, writes, reads, seeks, truncates, renames, lists and removes
 * files there, and round-trips a pipe, keeping a model of the file in memory
 * to check every byte read back. It prints one line per step and exits 0 if
 * every check held, else 1.
 *
 * The output must be byte-identical natively and under hostcall-run, so it
 * prints sizes and checksums only, never fd numbers, inodes or times. It
 * writes with write(2) rather than stdio so that stdout's type (a terminal
 * would make glibc call ioctl) cannot matter.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "say.h"

#define DIR_NAME	"fileio.tmp"
#define MAX_LEN		32768

static unsigned char pat[MAX_LEN];
static unsigned char model[MAX_LEN];	/* what the file must hold */
static size_t model_len;
static unsigned char buf[MAX_LEN];

static uint32_t fnv1a(const unsigned char *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

static void model_put(size_t off, const void *data, size_t len)
{
	if (off > model_len)
		memset(model + model_len, 0, off - model_len);	/* the hole reads as zeros */
	memcpy(model + off, data, len);
	if (off + len > model_len)
		model_len = off + len;
}

static void model_truncate(size_t len)
{
	if (len > model_len)
		memset(model + model_len, 0, len - model_len);
	model_len = len;
}

/* Reads until len bytes or EOF, as a short read from a file or pipe is legal. */
static ssize_t read_all(int fd, unsigned char *p, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, p + done, len - done > 4096 ? 4096 : len - done);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Lists dir (sorted, since getdents64 order depends on the file system) into
 * out, and unlinks every entry if remove is set.
 */
static int list_dir(int dfd, char *out, size_t outlen, int remove)
{
	static char names[64][256];
	char dents[4096], *sorted[64];
	int count = 0, i;
	ssize_t n, off;

	if (lseek(dfd, 0, SEEK_SET) != 0)
		return -1;
	while ((n = getdents64(dfd, dents, sizeof(dents))) > 0) {
		for (off = 0; off < n; off += ((struct dirent64 *)(dents + off))->d_reclen) {
			const char *name = ((struct dirent64 *)(dents + off))->d_name;

			if (!strcmp(name, ".") || !strcmp(name, "..") || count == 64)
				continue;
			snprintf(names[count], sizeof(names[0]), "%s", name);
			sorted[count] = names[count];
			count++;
		}
	}
	if (n < 0)
		return -1;
	qsort(sorted, count, sizeof(sorted[0]), cmp_names);
	out[0] = '\0';
	for (i = 0; i < count; i++) {
		snprintf(out + strlen(out), outlen - strlen(out), "%s%s", i ? " " : "", sorted[i]);
		if (remove && unlinkat(dfd, sorted[i], 0) != 0)
			return -1;
	}
	return count;
}

/* Removes what a killed earlier run may have left, so the run starts clean. */
static void remove_leftovers(void)
{
	char names[1024];
	int dfd = open(DIR_NAME, O_RDONLY | O_DIRECTORY);

	if (dfd < 0)
		return;
	list_dir(dfd, names, sizeof(names), 1);
	close(dfd);
	unlinkat(AT_FDCWD, DIR_NAME, AT_REMOVEDIR);
}

int main(void)
{
	char head[] = "head-", tail[] = "-tail", names[1024], cwd1[4096], cwd2[4096];
	struct iovec iov[3];
	struct stat st;
	int dfd, fd, fd2, fd3, p[2], ok;
	ssize_t n;
	size_t i;

	for (i = 0; i < MAX_LEN; i++)
		pat[i] = (unsigned char)(i * 131 + (i >> 8) * 7 + 1);
	remove_leftovers();

	check(mkdir(DIR_NAME, 0755) == 0, "mkdir %s", DIR_NAME);
	dfd = open(DIR_NAME, O_RDONLY | O_DIRECTORY);
	check(dfd >= 0, "open directory");
	fd = openat(dfd, "a.dat", O_RDWR | O_CREAT | O_EXCL, 0644);
	check(fd >= 0, "openat a.dat O_CREAT|O_EXCL");

	n = write(fd, pat, 6000);
	n += write(fd, pat + 6000, 4000);
	model_put(0, pat, 10000);
	check(n == 10000, "write: %zd bytes", n);

	iov[0] = (struct iovec){ head, 5 };
	iov[1] = (struct iovec){ pat + 100, 100 };
	iov[2] = (struct iovec){ tail, 5 };
	n = writev(fd, iov, 3);
	model_put(10000, head, 5);
	model_put(10005, pat + 100, 100);
	model_put(10105, tail, 5);
	check(n == 110, "writev: %zd bytes", n);

	n = pwrite(fd, pat + 500, 300, 20000);
	model_put(20000, pat + 500, 300);
	check(n == 300, "pwrite past the end: %zd bytes", n);

	/* The call goes first: the order in which arguments are evaluated is unspecified. */
	ok = fstat(fd, &st) == 0;
	check(ok && (size_t)st.st_size == model_len, "fstat: size %lld", (long long)st.st_size);

	check(lseek(fd, 0, SEEK_END) == 20300, "lseek SEEK_END: 20300");
	check(lseek(fd, -300, SEEK_CUR) == 20000, "lseek SEEK_CUR -300: 20000");
	check(lseek(fd, 0, SEEK_SET) == 0, "lseek SEEK_SET: 0");

	n = read_all(fd, buf, MAX_LEN);
	check(n == (ssize_t)model_len && !memcmp(buf, model, model_len),
	      "read: %zd bytes, fnv %08x", n, fnv1a(buf, n > 0 ? n : 0));

	n = pread(fd, buf, 1000, 9500);
	check(n == 1000 && !memcmp(buf, model + 9500, 1000) && lseek(fd, 0, SEEK_CUR) == 20300,
	      "pread 1000 at 9500: %zd bytes, fnv %08x, offset kept", n, fnv1a(buf, n > 0 ? n : 0));

	lseek(fd, 0, SEEK_SET);
	memset(buf, 0, sizeof(buf));
	iov[0] = (struct iovec){ buf, 7 };
	iov[1] = (struct iovec){ buf + 7, 4093 };
	iov[2] = (struct iovec){ buf + 4100, 10000 };
	n = readv(fd, iov, 3);
	check(n == 14100 && !memcmp(buf, model, 14100), "readv 7+4093+10000: %zd bytes, fnv %08x",
	      n, fnv1a(buf, n > 0 ? n : 0));

	ok = ftruncate(fd, 12345) == 0 && fstat(fd, &st) == 0;
	check(ok && st.st_size == 12345, "ftruncate shrink: size %lld", (long long)st.st_size);
	model_truncate(12345);
	ok = ftruncate(fd, 15000) == 0 && fstat(fd, &st) == 0;
	check(ok && st.st_size == 15000, "ftruncate grow: size %lld", (long long)st.st_size);
	model_truncate(15000);
	n = pread(fd, buf, MAX_LEN, 0);
	check(n == 15000 && !memcmp(buf, model, 15000), "pread all: %zd bytes, fnv %08x",
	      n, fnv1a(buf, n > 0 ? n : 0));
	check(fsync(fd) == 0, "fsync");

	ok = stat(DIR_NAME "/a.dat", &st) == 0;
	check(ok && st.st_size == 15000, "stat a.dat: size %lld", (long long)st.st_size);
	check(rename(DIR_NAME "/a.dat", DIR_NAME "/b.dat") == 0, "rename a.dat b.dat");
	errno = 0;
	check(stat(DIR_NAME "/a.dat", &st) == -1 && errno == ENOENT, "stat a.dat: ENOENT");
	ok = fstatat(dfd, "b.dat", &st, 0) == 0;
	check(ok && st.st_size == 15000, "fstatat b.dat: size %lld", (long long)st.st_size);

	fd2 = open(DIR_NAME "/c.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd2 >= 0 && write(fd2, "hello\n", 6) == 6 && close(fd2) == 0, "open+write c.txt");
	fd2 = openat(dfd, "d.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd2 >= 0 && close(fd2) == 0, "openat d.txt");
	n = list_dir(dfd, names, sizeof(names), 0);
	check(n == 3 && !strcmp(names, "b.dat c.txt d.txt"), "getdents64: %zd entries: %s",
	      n, names);

	/* A dup shares the file offset: moving one moves the other. */
	fd2 = dup(fd);
	check(fd2 >= 0 && lseek(fd, 100, SEEK_SET) == 100 && lseek(fd2, 0, SEEK_CUR) == 100,
	      "dup: offset shared");
	fd3 = openat(dfd, "c.txt", O_RDONLY);
	ok = fd3 >= 0 && dup2(fd, fd3) == fd3 && fstat(fd3, &st) == 0;
	check(ok && st.st_size == 15000, "dup2 onto an open fd: now size %lld",
	      (long long)st.st_size);
	check(dup3(fd2, fd3, O_CLOEXEC) == fd3 && fcntl(fd3, F_GETFD) == FD_CLOEXEC,
	      "dup3 O_CLOEXEC: flag set");
	check(close(fd3) == 0 && close(fd2) == 0 && close(fd) == 0, "close dups");

	check(pipe2(p, O_CLOEXEC) == 0 && fcntl(p[0], F_GETFD) == FD_CLOEXEC, "pipe2 O_CLOEXEC");
	n = write(p[1], pat + 77, 3000);
	close(p[1]);
	n = n == 3000 ? read_all(p[0], buf, MAX_LEN) : -1;
	close(p[0]);
	check(n == 3000 && !memcmp(buf, pat + 77, 3000), "pipe round trip: %zd bytes, fnv %08x",
	      n, fnv1a(buf, n > 0 ? n : 0));

	check(getcwd(cwd1, sizeof(cwd1)) && chdir(DIR_NAME) == 0, "chdir %s", DIR_NAME);
	fd = open("c.txt", O_RDONLY);
	n = fd >= 0 ? read_all(fd, buf, MAX_LEN) : -1;
	check(n == 6 && !memcmp(buf, "hello\n", 6) && close(fd) == 0,
	      "read c.txt by relative path: %zd bytes", n);
	check(chdir("..") == 0 && getcwd(cwd2, sizeof(cwd2)) && !strcmp(cwd1, cwd2),
	      "chdir ..: back where we were");

	n = list_dir(dfd, names, sizeof(names), 1);
	check(n == 3, "unlinkat: %zd files removed", n);
	close(dfd);
	check(unlinkat(AT_FDCWD, DIR_NAME, AT_REMOVEDIR) == 0, "unlinkat AT_REMOVEDIR %s",
	      DIR_NAME);
	errno = 0;
	check(stat(DIR_NAME, &st) == -1 && errno == ENOENT, "stat %s: ENOENT", DIR_NAME);

	if (failures)
		check(0, "%d checks failed", failures);
	else
		check(1, "all checks passed");
	return failures ? 1 : 0;
}
