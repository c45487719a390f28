/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * v1 names to v3 names, as calico-upgrade converts them: lower-case, '/'
 * to '.', other characters outside [-.a-z0-9] to '-', runs of [-.] holding
 * a dot to one '.', no leading or trailing '-' or '.'; and when that
 * changed the name, "-" and the first 8 hex digits of the SHA-1 of the
 * original name appended (libcrypto's SHA-1).
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"
#include "names.h"

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
	unsigned char d[EVP_MAX_MD_SIZE];
	char *q;

	if (strcmp(orig, final) == 0)
		return final;
	if (!EVP_Digest(orig, strlen(orig), d, NULL, EVP_sha1(), NULL)) {
		free(final);
		return NULL;
	}
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

char *v1_node_name_convert(const char *v1)
{
	return normalise(v1);
}
