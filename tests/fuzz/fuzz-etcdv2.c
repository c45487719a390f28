/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calico 2.6's datastore on arbitrary bytes: etcd's v2 answers (a
 * recursive GET's tree, a watch event, an error) and the values of the
 * /calico/v1 layout. An input starting with "K" is one key, a newline and
 * its value; anything else is an answer, parsed all three ways, a tree's
 * leaves then decoded as the datastore would. Leaves must come out sorted,
 * every resource must name the /calico/v1 key it came from, a delete
 * event carries no value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "fuzz.h"

static void decode(const struct backend_kv *kvs, size_t n)
{
	for (unsigned flags = 0; flags <= BACKEND_V1_UPGRADE; flags += BACKEND_V1_UPGRADE) {
		struct resource_list l = { 0 };
		struct diags d = { 0 }, skipped = { 0 };

		if (backend_v1_decode(kvs, n, flags, &l, &d, &skipped) == 0)
			for (size_t i = 0; i < l.n; i++)
				if (!l.v[i]->file || strncmp(l.v[i]->file, "/calico/v1/", 11) != 0)
					fuzz_fail("a resource without its key", l.v[i]->name);
		resource_list_clear(&l);
		diags_clear(&d);
		diags_clear(&skipped);
	}
}

static void one_key(const char *p, size_t size)
{
	const char *nl = memchr(p, '\n', size);
	char *key;

	if (!nl)
		return;
	key = malloc((size_t)(nl - p) + sizeof("/calico/v1/"));
	if (!key)
		return;
	snprintf(key, (size_t)(nl - p) + sizeof("/calico/v1/"), "/calico/v1/%.*s", (int)(nl - p),
		 p);
	if (strlen(key) == (size_t)(nl - p) + 11) { /* no NUL inside */
		struct backend_kv kv = { key, nl + 1, size - (size_t)(nl + 1 - p) };

		decode(&kv, 1);
	}
	free(key);
}

static void answer(const char *p, size_t size)
{
	struct etcd2_kvs t = { 0 };
	struct etcd2_event ev;
	char msg[256];

	if (etcd2_parse_tree(p, size, &t) == 0) {
		struct backend_kv *v = calloc(t.n ? t.n : 1, sizeof(*v));

		for (size_t i = 0; i < t.n; i++) {
			if (i && strcmp(t.v[i - 1].key, t.v[i].key) > 0)
				fuzz_fail("leaves not sorted", t.v[i].key);
			if (v)
				v[i] = (struct backend_kv){ t.v[i].key, t.v[i].value,
							    t.v[i].value_len };
		}
		if (v)
			decode(v, t.n);
		free(v);
		etcd2_kvs_clear(&t);
	}
	if (etcd2_parse_event(p, size, &ev) == 0) {
		if (ev.deleted && ev.value)
			fuzz_fail("a delete with a value", ev.key);
		etcd2_event_clear(&ev);
	}
	(void)etcd2_parse_error(p, size, msg, sizeof(msg));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 'K')
		one_key((const char *)data + 1, size - 1);
	else
		answer((const char *)data, size);
	return 0;
}
