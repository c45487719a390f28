/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * etcd's v2 API answers, parsed: a recursive GET's tree flattened to its
 * leaf keys, one watch event, an error. Pure (no I/O) and fuzzed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"

void etcd2_kvs_clear(struct etcd2_kvs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	*l = (struct etcd2_kvs){ 0 };
}

static int add_leaf(struct etcd2_kvs *out, const char *key, const json_t *val, int64_t mod)
{
	struct etcd2_kv *x;

	if (out->n == ETCD_MAX_KEYS)
		return -E2BIG;
	if (out->n % 256 == 0) {
		x = realloc(out->v, (out->n + 256) * sizeof(*x));
		if (!x)
			return -ENOMEM;
		out->v = x;
	}
	x = &out->v[out->n];
	x->key = strdup(key);
	x->value_len = json_string_length(val);
	x->value = malloc(x->value_len + 1);
	x->modified_index = mod;
	if (!x->key || !x->value) {
		free(x->key);
		free(x->value);
		return -ENOMEM;
	}
	memcpy(x->value, json_string_value(val), x->value_len);
	x->value[x->value_len] = '\0';
	out->n++;
	return 0;
}

/* Leaves only; a directory's "nodes" are walked (depth is bounded by
 * jansson's own nesting limit). */
static int walk(const json_t *node, struct etcd2_kvs *out, unsigned depth)
{
	const char *key = json_string_value(json_object_get(node, "key"));
	const json_t *nodes = json_object_get(node, "nodes"), *n;
	size_t i;
	int r = 0;

	if (!json_is_object(node) || !key || depth > 64)
		return -EPROTO;
	if (!json_is_true(json_object_get(node, "dir"))) {
		const json_t *v = json_object_get(node, "value");

		if (!json_is_string(v))
			return -EPROTO;
		return add_leaf(out, key, v,
				json_integer_value(json_object_get(node, "modifiedIndex")));
	}
	if (nodes && !json_is_array(nodes))
		return -EPROTO;
	json_array_foreach(nodes, i, n)
	{
		r = walk(n, out, depth + 1);
		if (r < 0)
			break;
	}
	return r;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct etcd2_kv *)a)->key, ((const struct etcd2_kv *)b)->key);
}

int etcd2_parse_tree(const char *buf, size_t len, struct etcd2_kvs *out)
{
	json_t *j = json_loadb(buf, len, 0, NULL);
	struct etcd2_kvs l = { 0 };
	int r = j ? walk(json_object_get(j, "node"), &l, 0) : -EPROTO;

	json_decref(j);
	if (r < 0) {
		etcd2_kvs_clear(&l);
		return r;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), kv_cmp);
	*out = l;
	return 0;
}

static const char *const upserts[] = { "set", "create", "update", "compareAndSwap" };
static const char *const deletes[] = { "delete", "compareAndDelete", "expire" };

static bool one_of(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return true;
	return false;
}

int etcd2_parse_event(const char *buf, size_t len, struct etcd2_event *ev)
{
	json_t *j = json_loadb(buf, len, 0, NULL), *node = json_object_get(j, "node"), *v;
	const char *action = json_string_value(json_object_get(j, "action"));
	const char *key = json_string_value(json_object_get(node, "key"));
	json_int_t mod = json_integer_value(json_object_get(node, "modifiedIndex"));
	int r = -EPROTO;

	*ev = (struct etcd2_event){ 0 };
	if (!json_is_object(node) || !key || mod <= 0)
		goto out;
	ev->dir = json_is_true(json_object_get(node, "dir"));
	ev->modified_index = mod;
	if (one_of(action, deletes, sizeof(deletes) / sizeof(deletes[0]))) {
		ev->deleted = true;
	} else if (one_of(action, upserts, sizeof(upserts) / sizeof(upserts[0]))) {
		v = json_object_get(node, "value");
		if (!ev->dir && !json_is_string(v))
			goto out;
		if (!ev->dir &&
		    !(ev->value = strndup(json_string_value(v), json_string_length(v)))) {
			r = -ENOMEM;
			goto out;
		}
		ev->value_len = ev->value ? json_string_length(v) : 0;
	} else {
		ev->ignored = true; /* "get" and the like: nothing changed */
	}
	ev->key = strdup(key);
	r = ev->key ? 0 : -ENOMEM;
out:
	json_decref(j);
	if (r < 0)
		etcd2_event_clear(ev);
	return r;
}

void etcd2_event_clear(struct etcd2_event *ev)
{
	free(ev->key);
	free(ev->value);
	*ev = (struct etcd2_event){ 0 };
}

int etcd2_parse_error(const char *buf, size_t len, char *msg, size_t msglen)
{
	json_t *j = json_loadb(buf, len, 0, NULL);
	int code = (int)json_integer_value(json_object_get(j, "errorCode"));
	const char *m = json_string_value(json_object_get(j, "message"));
	const char *cause = json_string_value(json_object_get(j, "cause"));

	snprintf(msg, msglen, "%s%s%s", m ? m : "an answer that is not an etcd error",
		 cause ? ": " : "", cause ? cause : "");
	json_decref(j);
	return code;
}
