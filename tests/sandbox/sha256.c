// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * sha256: sandbox-sha256 CHUNK FILE... prints each file's SHA-256 as
 * sha256sum does, reading it CHUNK bytes at a time: with small chunks, a
 * job whose time is mostly system calls, for hostcall-sandbox-bench (busybox
 * sha256sum reads 4 KiB at a time, so hashing is most of its time). Its
 * output must equal busybox sha256sum's, which the tests check. SHA-256 as
 * FIPS 180-4 defines it.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "say.h"

#define MAX_CHUNK	(1 << 20)

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
};

static const uint32_t k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static void compress(struct sha256 *s)
{
	uint32_t w[64], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4],
		 f = s->h[5], g = s->h[6], h = s->h[7];
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)s->block[4 * i] << 24 | s->block[4 * i + 1] << 16 |
		       s->block[4 * i + 2] << 8 | s->block[4 * i + 3];
	for (; i < 64; i++)
		w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3) +
		       w[i - 7] + (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10);
	for (i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
			      k[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
	s->h[5] += f;
	s->h[6] += g;
	s->h[7] += h;
}

static void update(struct sha256 *s, const unsigned char *p, size_t len)
{
	while (len) {
		size_t used = s->bytes % 64, n = 64 - used < len ? 64 - used : len;

		memcpy(s->block + used, p, n);
		s->bytes += n;
		p += n;
		len -= n;
		if (s->bytes % 64 == 0)
			compress(s);
	}
}

static void finish(struct sha256 *s, unsigned char digest[32])
{
	uint64_t bits = s->bytes * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padding = (s->bytes % 64 < 56 ? 56 : 120) - s->bytes % 64;

	for (int i = 0; i < 8; i++)
		pad[padding + i] = bits >> (56 - 8 * i);
	update(s, pad, padding + 8);
	for (int i = 0; i < 32; i++)
		digest[i] = s->h[i / 4] >> (24 - 8 * (i % 4));
}

int main(int argc, char **argv)
{
	static unsigned char buf[MAX_CHUNK];
	long chunk = argc > 2 ? strtol(argv[1], NULL, 10) : 0;
	int status = 0;

	if (chunk < 1 || chunk > MAX_CHUNK) {
		say("usage: sandbox-sha256 CHUNK FILE...\n");
		return 2;
	}
	for (int f = 2; f < argc; f++) {
		struct sha256 s = { .h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 } };
		unsigned char digest[32];
		char hex[65];
		int fd = open(argv[f], O_RDONLY);
		ssize_t n = 0;

		while (fd >= 0 && (n = read(fd, buf, chunk)) > 0)
			update(&s, buf, n);
		if (fd < 0 || n < 0) {
			say("sandbox-sha256: %s: cannot read\n", argv[f]);
			status = 1;
			continue;
		}
		close(fd);
		finish(&s, digest);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", digest[i]);
		say("%s  %s\n", hex, argv[f]);
	}
	return status || failures;
}
