/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * etcd's JSON gateway carries keys and values as base64 (protobuf bytes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64_encode(const void *p, size_t len)
{
	const unsigned char *in = p;
	char *out, *o;

	if (len > (SIZE_MAX / 4) * 3 - 3)
		return NULL;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int sextet(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/* Padding is required (the gateway always sends it); anything after it is
 * an error, as are bits left over in the last sextet. */
ssize_t etcd_b64_decode(const char *s, size_t len, char **ret)
{
	size_t pad = 0, n = 0;
	char *out;

	if (len % 4)
		return -1;
	if (len && s[len - 1] == '=')
		pad = len > 1 && s[len - 2] == '=' ? 2 : 1;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		unsigned v = 0;

		for (size_t k = 0; k < 4; k++) {
			int x = last && k >= 4 - pad ? 0 : sextet(s[i + k]);

			if (x < 0)
				goto bad;
			v = v << 6 | (unsigned)x;
		}
		if ((last && pad == 2 && (v & 0xffff)) || (last && pad == 1 && (v & 0xff)))
			goto bad;
		out[n++] = (char)(v >> 16);
		if (!last || pad < 2)
			out[n++] = (char)(v >> 8);
		if (!last || pad < 1)
			out[n++] = (char)v;
	}
	out[n] = '\0';
	*ret = out;
	return (ssize_t)n;
bad:
	free(out);
	return -1;
}
