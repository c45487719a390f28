/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compact JSON written straight into a buffer, byte for byte what
 * jansson's json_dumps(JSON_COMPACT) gives for the same tree: a stored
 * resource is text, and apply writes 10,000 of them without building
 * and freeing a tree for each. */
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->bad)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		char *p;

		while (w->len + n + 1 > cap)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p) {
			w->bad = true;
			return;
		}
		w->buf = p;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* A ',' before every member or item but the first of its level. */
static void sep(struct jw *w)
{
	if (w->comma)
		put(w, ",", 1);
	w->comma = false;
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 when it is
 * not one jansson accepts (overlong, a surrogate, above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k;
	unsigned int cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	k = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (k > n)
		return 0;
	cp = s[0] & (0x7f >> k);
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

static void string(struct jw *w, const char *str)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), from = 0;

	put(w, "\"", 1);
	for (size_t i = 0; i < n;) {
		char esc[7] = { '\\', 0 };
		size_t k = 1, e = 2;

		if (s[i] >= 0x80) {
			k = utf8_len(s + i, n - i);
			if (!k) {
				w->bad = true;
				return;
			}
			i += k;
			continue;
		}
		if (s[i] >= 0x20 && s[i] != '"' && s[i] != '\\') {
			i++;
			continue;
		}
		switch (s[i]) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[s[i] >> 4];
			esc[5] = hex[s[i] & 15];
			e = 6;
		}
		put(w, str + from, i - from);
		put(w, esc, e);
		from = i += k;
	}
	put(w, str + from, n - from);
	put(w, "\"", 1);
}

void jw_open(struct jw *w, char c)
{
	sep(w);
	put(w, &c, 1);
}

void jw_close(struct jw *w, char c)
{
	put(w, &c, 1);
	w->comma = true;
}

void jw_key(struct jw *w, const char *k)
{
	sep(w);
	string(w, k);
	put(w, ":", 1);
}

void jw_str(struct jw *w, const char *s)
{
	sep(w);
	string(w, s);
	w->comma = true;
}

void jw_kstr(struct jw *w, const char *k, const char *s)
{
	if (!s)
		return;
	jw_key(w, k);
	jw_str(w, s);
}

void jw_int(struct jw *w, long long v)
{
	char d[24];
	size_t n = 0;

	sep(w);
	if (v < 0) {
		d[n++] = '-';
		n += put_uint(d + n, -(unsigned long long)v);
	} else {
		n += put_uint(d + n, (unsigned long long)v);
	}
	put(w, d, n);
	w->comma = true;
}

void jw_raw(struct jw *w, const char *text)
{
	if (!text) {
		w->bad = true;
		return;
	}
	sep(w);
	put(w, text, strlen(text));
	w->comma = true;
}

void jw_json(struct jw *w, const json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	jw_raw(w, s);
	free(s);
}

char *jw_done(struct jw *w)
{
	if (!w->bad && !w->buf)
		put(w, "", 0);
	if (w->bad) {
		free(w->buf);
		w->buf = NULL;
	}
	return w->buf;
}
