/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calico 2.6's layout in etcd v2: everything under /calico/v1 read in one
 * recursive GET and decoded by resource/'s backend_v1_decode().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"

int calico_v1_list(struct etcd *e, unsigned flags, struct resource_list *out, struct diags *d,
		   struct diags *skipped, int64_t *index, bool *ready)
{
	struct etcd2_kvs kvs;
	struct backend_kv *v;
	int r = etcd2_list(e, "/calico/v1", &kvs);

	if (r < 0)
		return r;
	v = calloc(kvs.n ? kvs.n : 1, sizeof(*v));
	if (!v) {
		etcd2_kvs_clear(&kvs);
		return -ENOMEM;
	}
	*ready = false;
	for (size_t i = 0; i < kvs.n; i++) {
		v[i] = (struct backend_kv){ kvs.v[i].key, kvs.v[i].value, kvs.v[i].value_len };
		if (strcmp(kvs.v[i].key, BACKEND_V1_READY) == 0)
			*ready = strcmp(kvs.v[i].value, "true") == 0;
	}
	r = backend_v1_decode(v, kvs.n, flags, out, d, skipped);
	if (index)
		*index = kvs.index;
	free(v);
	etcd2_kvs_clear(&kvs);
	return r;
}
