/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * etcd's JSON gateway carries keys and values as base64 (protobuf bytes):
 * libcrypto's encoder and decoder, and only the canonical form accepted
 * (what the gateway sends: padded, no whitespace, no stray bits).
 */
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"

char *etcd_b64_encode(const void *p, size_t len)
{
	char *out;

	if (len > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, p, (int)len);
	return out;
}

ssize_t etcd_b64_decode(const char *s, size_t len, char **ret)
{
	size_t pad = len && s[len - 1] == '=' ? (len > 1 && s[len - 2] == '=' ? 2 : 1) : 0;
	char *out, *again = NULL;
	int n;

	if (len % 4 || len > (size_t)INT_MAX)
		return -1;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -1;
	/* EVP_DecodeBlock counts padding as zero bytes and is lenient about
	 * where '=' and whitespace stand: what it decoded must encode back
	 * to exactly s. */
	n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s, (int)len);
	if (n >= 0 && (size_t)n >= pad) {
		n -= (int)pad;
		again = etcd_b64_encode(out, (size_t)n);
	}
	if (!again || strlen(again) != len || memcmp(again, s, len) != 0) {
		free(again);
		free(out);
		return -1;
	}
	free(again);
	out[n] = '\0';
	*ret = out;
	return n;
}
