/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * v1 names to v3 names, as calico-upgrade converts them: lower-case, '/'
 * to '.', other characters outside [-.a-z0-9] to '-', runs of [-.] holding
 * a dot to one '.', no leading or trailing '-' or '.'; and when that
 * changed the name, "-" and the first 8 hex digits of the SHA-1 of the
 * original name appended.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"
#include "names.h"

static uint32_t rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void sha1(const void *data, size_t len, uint8_t out[20])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	const uint8_t *p = data;
	uint8_t tail[128] = { 0 };
	size_t full = len / 64 * 64, rest = len - full, tlen;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i < full; i += 64)
		sha1_block(h, p + i);
	memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	for (size_t i = 0; i < tlen; i += 64)
		sha1_block(h, tail + i);
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static char *normalise(const char *v1)
{
	size_t n = strlen(v1), w = 0, start, end;
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char ch = v1[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch == '/')
			ch = '.';
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '.'))
			ch = '-';
		s[i] = ch;
	}
	/* Collapse runs of [-.] that hold a dot into one dot. */
	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool dot = false;

		while (j < n && (s[j] == '-' || s[j] == '.'))
			dot |= s[j++] == '.';
		if (j > i && dot) {
			s[w++] = '.';
			i = j;
		} else if (j > i) {
			while (i < j)
				s[w++] = s[i++];
		} else {
			s[w++] = s[i++];
		}
	}
	for (start = 0; start < w && (s[start] == '-' || s[start] == '.');)
		start++;
	for (end = w; end > start && (s[end - 1] == '-' || s[end - 1] == '.');)
		end--;
	memmove(s, s + start, end - start);
	s[end - start] = '\0';
	return s;
}

static char *qualify(const char *orig, char *final)
{
	uint8_t d[20];
	char *q;

	if (strcmp(orig, final) == 0)
		return final;
	sha1(orig, strlen(orig), d);
	if (asprintf(&q, "%s-%02x%02x%02x%02x", final, d[0], d[1], d[2], d[3]) < 0)
		q = NULL;
	free(final);
	return q;
}

char *v1_name_convert(const char *v1, bool no_dots)
{
	char *s = normalise(v1);

	if (!s)
		return NULL;
	if (no_dots)
		for (char *p = s; *p; p++)
			if (*p == '.')
				*p = '-';
	return qualify(v1, s);
}
