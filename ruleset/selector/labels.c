/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Label sets: sorted by key, unique keys. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "selector.h"

static size_t labels_find(const struct labels *l, const char *key, bool *found)
{
	size_t lo = 0, hi = l->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int labels_set(struct labels *l, const char *key, const char *value)
{
	char *k, *v;
	bool found;
	size_t i = labels_find(l, key, &found);

	v = strdup(value);
	if (!v)
		return -ENOMEM;
	if (found) {
		free(l->v[i].value);
		l->v[i].value = v;
		return 0;
	}
	k = strdup(key);
	if (!k) {
		free(v);
		return -ENOMEM;
	}
	struct label *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	l->v = nv;
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*nv));
	l->v[i] = (struct label){ k, v };
	l->n++;
	return 0;
}

const char *labels_get(const struct labels *l, const char *key)
{
	bool found;
	size_t i;

	if (!l)
		return NULL;
	i = labels_find(l, key, &found);
	return found ? l->v[i].value : NULL;
}

void labels_clear(struct labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	*l = (struct labels){ 0 };
}
