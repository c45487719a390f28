/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Set elements: key widths, prefixes as ranges, sorting, merging of
 * intervals (as the kernel wants them: apart, not touching). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model.h"

size_t model_key_width(enum model_key k)
{
	switch (k) {
	case MODEL_KEY_IPV4: return 4;
	case MODEL_KEY_IPV6: return 16;
	case MODEL_KEY_PORT: return 2;
	case MODEL_KEY_PROTO_PORT: return 3;
	case MODEL_KEY_IFNAME: return 16;
	}
	return 0;
}

void model_prefix_range(const struct model_prefix *c, struct model_elem *e)
{
	size_t w = c->family == AF_INET ? 4 : 16, full = c->len / 8;

	memset(e, 0, sizeof(*e));
	memcpy(e->lo, c->addr, full);
	memcpy(e->hi, c->addr, full);
	if (full < w) {
		uint8_t m = (uint8_t)(0xff00 >> (c->len % 8));

		e->lo[full] = c->addr[full] & m;
		e->hi[full] = (uint8_t)(e->lo[full] | ~m);
		memset(e->hi + full + 1, 0xff, w - full - 1);
	}
}

/* Keys are 2 to 16 bytes: a loop beats a call to memcmp. */
static inline int cmp_bytes(const uint8_t *a, const uint8_t *b, size_t w)
{
	for (size_t i = 0; i < w; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* a + 1 == b, on w big-endian bytes */
static bool adjacent(const uint8_t *a, const uint8_t *b, size_t w)
{
	size_t i = w;

	/* a = P x ff..ff and b = P (x+1) 00..00 */
	while (i > 0 && a[i - 1] == 0xff && b[i - 1] == 0)
		i--;
	if (i == 0 || a[i - 1] == 0xff || (uint8_t)(a[i - 1] + 1) != b[i - 1])
		return false;
	return cmp_bytes(a, b, i - 1) == 0;
}

static size_t sort_width;

static int cmp_elem(const void *pa, const void *pb)
{
	const struct model_elem *a = pa, *b = pb;
	int r = cmp_bytes(a->lo, b->lo, sort_width);

	return r ? r : cmp_bytes(a->hi, b->hi, sort_width);
}

size_t model_elems_normalise(struct model_elem *e, size_t n, size_t width)
{
	size_t w = 0;

	if (n == 0)
		return 0;
	/* Already in order, apart and not touching (normalised before):
	 * nothing to do. */
	for (w = 1; w < n; w++)
		if (cmp_bytes(e[w - 1].hi, e[w].lo, width) >= 0 ||
		    adjacent(e[w - 1].hi, e[w].lo, width))
			break;
	if (w == n)
		return n;
	w = 0;
	sort_width = width;
	qsort(e, n, sizeof(*e), cmp_elem);
	for (size_t r = 1; r < n; r++) {
		struct model_elem *cur = &e[w];

		if (cmp_bytes(e[r].lo, cur->hi, width) <= 0 || adjacent(cur->hi, e[r].lo, width)) {
			if (cmp_bytes(e[r].hi, cur->hi, width) > 0)
				memcpy(cur->hi, e[r].hi, width);
		} else {
			e[++w] = e[r];
		}
	}
	return w + 1;
}

/* Sorted, without duplicates (exact-match sets). */
size_t model_elems_dedupe(struct model_elem *e, size_t n, size_t w)
{
	size_t k = 0;

	if (!n)
		return 0;
	sort_width = w;
	qsort(e, n, sizeof(*e), cmp_elem);
	for (size_t i = 1; i < n; i++)
		if (memcmp(e[i].lo, e[k].lo, w))
			e[++k] = e[i];
	return k + 1;
}

bool model_range_is_prefix(const struct model_elem *e, size_t width, unsigned *ret_len)
{
	size_t bits = width * 8, len;

	/* Find the longest common prefix; the rest must be 0s in lo and
	 * 1s in hi. */
	for (len = 0; len < bits; len++) {
		uint8_t m = (uint8_t)(0x80 >> (len % 8));

		if ((e->lo[len / 8] & m) != (e->hi[len / 8] & m))
			break;
	}
	for (size_t b = len; b < bits; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));

		if ((e->lo[b / 8] & m) || !(e->hi[b / 8] & m))
			return false;
	}
	*ret_len = (unsigned)len;
	return true;
}
