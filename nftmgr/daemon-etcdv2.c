/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon on Calico 2.6's etcd v2 data: the etcd loop of
 * daemon-etcd.c with another source. One object can span several keys
 * (a profile's rules, tags and labels; a scope's Felix settings), so the
 * keys under /calico/v1 are kept raw, sorted, and an event marks the
 * object its key belongs to; before a commit each marked object is
 * decoded again into the resource cache (keyed by the object's key
 * prefix), the others keep their resources and so their compiled chains.
 *
 * The Ready flag pauses as Felix 2.6 paused: while /calico/v1/Ready is not
 * "true" nothing new is committed and the rules in force stay (said in
 * STATUS= and the log); when it is true again the cache is committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "etcd.h"

#define V2_DIR "/calico/v1"

void raw_clear(struct raw_store *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].value);
	}
	for (size_t i = 0; i < s->n_dirty; i++)
		free(s->dirty[i]);
	free(s->v);
	free(s->dirty);
	*s = (struct raw_store){ 0 };
}

static size_t raw_pos(const struct raw_store *s, const char *key, bool *found)
{
	return keyed_pos(s->v, s->n, sizeof(*s->v), key, found);
}

/* Marks the object key belongs to for decoding (nothing if not ours);
 * duplicates are dropped when the marks are used (refresh()). */
static int mark(struct raw_store *s, const char *key)
{
	enum backend_v1_kind k;
	size_t len = backend_v1_object(key, &k);
	char *obj;

	if (k == BACKEND_V1_OTHER)
		return 0;
	if (s->n_dirty && strlen(s->dirty[s->n_dirty - 1]) == len &&
	    strncmp(s->dirty[s->n_dirty - 1], key, len) == 0)
		return 0; /* the same object again, as in a burst on one key */
	if (s->n_dirty == s->cap_dirty) {
		size_t cap = s->cap_dirty ? s->cap_dirty * 2 : 16;
		char **v = realloc(s->dirty, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->dirty = v;
		s->cap_dirty = cap;
	}
	obj = strndup(key, len);
	if (!obj)
		return -ENOMEM;
	s->dirty[s->n_dirty++] = obj;
	return 0;
}

static int raw_set(struct raw_store *s, const char *key, const char *value, size_t len)
{
	bool found;
	size_t i = raw_pos(s, key, &found);
	char *v = malloc(len + 1), *k = found ? NULL : strdup(key);

	if (!v || (!found && !k)) {
		free(v);
		free(k);
		return -ENOMEM;
	}
	memcpy(v, value, len);
	v[len] = '\0';
	if (found) {
		free(s->v[i].value);
		s->v[i].value = v;
		s->v[i].len = len;
		return mark(s, key);
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct raw_kv *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv) {
			free(v);
			free(k);
			return -ENOMEM;
		}
		s->v = nv;
		s->cap = cap;
	}
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i] = (struct raw_kv){ .key = k, .value = v, .len = len };
	s->n++;
	return mark(s, key);
}

/* Deletes key, or with dir every key under it. */
static int raw_del(struct raw_store *s, const char *key, bool dir)
{
	size_t klen = strlen(key), from, to;
	bool found;
	int r = 0;

	from = raw_pos(s, key, &found);
	to = from + found;
	if (dir)
		while (to < s->n && strncmp(s->v[to].key, key, klen) == 0 &&
		       s->v[to].key[klen] == '/')
			to++;
	for (size_t i = from; i < to; i++) {
		if (r == 0)
			r = mark(s, s->v[i].key);
		free(s->v[i].key);
		free(s->v[i].value);
	}
	memmove(&s->v[from], &s->v[to], (s->n - to) * sizeof(*s->v));
	s->n -= to - from;
	return r;
}

/* Decodes the object at prefix obj into the cache (or out of it). */
static int decode_object(struct daemon *d, const char *obj)
{
	struct raw_store *s = &d->raw;
	size_t olen = strlen(obj), from, to;
	struct resource_list l = { 0 };
	struct diags dg = { 0 };
	struct backend_kv *v;
	bool found, multi = obj[olen - 1] == '/';
	int r;

	from = raw_pos(s, obj, &found);
	to = from + found;
	while (multi && to < s->n && strncmp(s->v[to].key, obj, olen) == 0)
		to++;
	v = calloc(to > from ? to - from : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = from; i < to; i++)
		v[i - from] = (struct backend_kv){ s->v[i].key, s->v[i].value, s->v[i].len };
	r = backend_v1_decode(v, to - from, 0, &l, &dg, NULL);
	free(v);
	log_skipped(&dg);
	diags_clear(&dg);
	if (r == 0 && l.n) {
		r = cache_set(&d->cache, obj, l.v[0]);
		l.v[0] = NULL;
	} else if (r == 0) {
		cache_del(&d->cache, obj);
	}
	for (size_t i = 0; i < l.n; i++)
		resource_free(l.v[i]);
	free(l.v);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The marked objects decoded again, each once. Returns 0 or -ENOMEM. */
static int refresh(struct daemon *d)
{
	struct raw_store *s = &d->raw;
	int r = 0;

	if (s->n_dirty > 1)
		qsort(s->dirty, s->n_dirty, sizeof(*s->dirty), cmp_str);
	for (size_t i = 0; i < s->n_dirty && r == 0; i++)
		if (i == 0 || strcmp(s->dirty[i], s->dirty[i - 1]) != 0)
			r = decode_object(d, s->dirty[i]);
	for (size_t i = 0; i < s->n_dirty; i++)
		free(s->dirty[i]);
	s->n_dirty = 0;
	return r;
}

static bool ready_flag(const struct raw_store *s)
{
	bool found;
	size_t i = raw_pos(s, BACKEND_V1_READY, &found);

	return found && strcmp(s->v[i].value, "true") == 0;
}

bool v2_refresh(struct daemon *d)
{
	return refresh(d) == 0 && ready_flag(&d->raw);
}

int v2_relist(struct daemon *d)
{
	struct raw_store fresh = { 0 };
	struct etcd2_kvs kvs;
	struct cache old = d->cache;
	int r = etcd2_list(ds_etcd(d->ds), V2_DIR, &kvs);

	if (r < 0)
		return r;
	for (size_t i = 0; i < kvs.n && r >= 0; i++)
		r = raw_set(&fresh, kvs.v[i].key, kvs.v[i].value, kvs.v[i].value_len);
	if (r < 0) {
		raw_clear(&fresh);
		etcd2_kvs_clear(&kvs);
		return r;
	}
	raw_clear(&d->raw);
	d->raw = fresh;
	d->rev = kvs.index;
	etcd2_kvs_clear(&kvs);
	/* every object afresh: marked by raw_set above */
	d->cache = (struct cache){ 0 };
	r = refresh(d);
	cache_clear(&old);
	return r;
}

static int on_event(void *data, const struct etcd2_event *ev)
{
	struct pending *p = data;
	struct daemon *d = p->d;
	enum backend_v1_kind k;
	int r;

	d->rev = ev->modified_index;
	/* keys of no object of ours (node data, IPAM, ...) change nothing,
	 * unless a directory holding some goes */
	if (!ev->dir && backend_v1_object(ev->key, &k) == 0 &&
	    strcmp(ev->key, BACKEND_V1_READY) != 0)
		return 0;
	if (ev->deleted)
		r = raw_del(&d->raw, ev->key, ev->dir);
	else if (ev->dir)
		return 0; /* a directory made: nothing to read */
	else
		r = raw_set(&d->raw, ev->key, ev->value, ev->value_len);
	if (r < 0)
		return r;
	p->last_ms = mono_ms();
	if (!p->any)
		p->first_ms = p->last_ms;
	p->any = true;
	return 0;
}

static const struct etcd2_watch_ops v2_ops = { .event = on_event };

int v2_watch_start(struct daemon *d, struct pending *p)
{
	return etcd2_watch_start(ds_etcd(d->ds), V2_DIR, d->rev + 1, &v2_ops, p, &d->w2);
}
