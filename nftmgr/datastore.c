/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One face for both datastores. The file datastore serialises writers with
 * its lock; etcd has none, so every write is one transaction whose
 * conditions say that each key is still as it was when it was checked
 * (absent, or at the revision that was read): a concurrent writer makes
 * the whole write fail, never half of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "etcd.h"
#include "nftmgr.h"

struct datastore {
	enum datastore_type type;
	struct store *file;
	struct etcd *etcd;
	char *where;
	char *lkg; /* etcd: the last-known-good copy's path */
};

int ds_open(struct ctx *ctx, struct datastore **ret)
{
	struct datastore *ds = calloc(1, sizeof(*ds));
	struct diags d = { 0 };
	struct config cfg;
	char err[256] = "";
	int r;

	if (!ds)
		return -ENOMEM;
	r = config_load(ctx->config_path, ctx->config_explicit, &cfg, &d);
	print_diags(&d);
	diags_clear(&d);
	if (r < 0) {
		free(ds);
		return r;
	}
	/* --datastore-dir always means the file datastore */
	ds->type = ctx->datastore_dir ? DATASTORE_FILE : cfg.type;
	if (ds->type == DATASTORE_FILE) {
		ds->where = strdup(ctx->datastore_dir ? ctx->datastore_dir : cfg.datastore_dir);
		r = ds->where ? store_open(ds->where, &ds->file) : -ENOMEM;
		if (r < 0)
			fprintf(stderr, "Failed to open the datastore %s: %s\n",
				ds->where ? ds->where : "", strerror(-r));
	} else {
		struct etcd_opts o = {
			.endpoints = cfg.etcd_endpoints,
			.ca_file = cfg.etcd_ca_cert_file,
			.cert_file = cfg.etcd_cert_file,
			.key_file = cfg.etcd_key_file,
			.username = cfg.etcd_username,
			.password = cfg.etcd_password,
			.spread_key = ctx->spread ? node_name(ctx) : NULL,
		};

		ds->where = strdup(cfg.etcd_endpoints ? cfg.etcd_endpoints : "");
		if (asprintf(&ds->lkg, "%s/" LKG_FILE, cfg.datastore_dir) < 0)
			ds->lkg = NULL;
		r = ds->where && ds->lkg ? etcd_open(&o, &ds->etcd, err, sizeof(err)) : -ENOMEM;
		if (r < 0)
			fprintf(stderr, "Failed to create the %s datastore client: %s\n",
				ds->type == DATASTORE_ETCDV2 ? "etcdv2" : "etcdv3",
				err[0] ? err : strerror(-r));
	}
	config_clear(&cfg);
	if (r < 0) {
		ds_free(ds);
		return r;
	}
	*ret = ds;
	return 0;
}

const char *ds_lkg_path(const struct datastore *ds)
{
	return ds->lkg;
}

struct datastore *ds_free(struct datastore *ds)
{
	if (!ds)
		return NULL;
	store_free(ds->file);
	etcd_free(ds->etcd);
	free(ds->where);
	free(ds->lkg);
	free(ds);
	return NULL;
}

struct etcd *ds_etcd(struct datastore *ds)
{
	return ds->etcd;
}

bool ds_is_etcdv2(const struct datastore *ds)
{
	return ds->type == DATASTORE_ETCDV2;
}

static void etcd_failed(struct datastore *ds, int r)
{
	fprintf(stderr, "%s\n",
		ds->etcd && etcd_error(ds->etcd)[0] ? etcd_error(ds->etcd) : strerror(-r));
}

/* Calico 2.6's data is read here, never written: it moves to v3. */
static int refuse_v2(void)
{
	fprintf(stderr, "The etcdv2 datastore (Calico 2.6's /calico/v1 keys) is read-only to "
			"nftmgr: move it to Calico's v3 layout with 'nftmgr upgrade' and write "
			"there\n");
	return -EROFS;
}

int ds_writable(const struct datastore *ds)
{
	return ds->type == DATASTORE_ETCDV2 ? refuse_v2() : 0;
}

static int list_v2(struct datastore *ds, struct resource_list *out, struct diags *d)
{
	bool ready;
	return calico_v1_list(ds->etcd, 0, out, d, NULL, NULL, &ready);
}

const char *ds_where(const struct datastore *ds)
{
	return ds->where;
}

int ds_lock(struct datastore *ds)
{
	return ds->file ? store_lock(ds->file) : 0;
}

void ds_unlock(struct datastore *ds)
{
	if (ds->file)
		store_unlock(ds->file);
}

int ds_list(struct datastore *ds, int kind, struct resource_list *out, struct diags *d)
{
	struct resource_list all = { 0 };
	int64_t rev;
	int r;

	if (ds->file)
		return kind < 0 ? store_list_all(ds->file, out, d)
				: store_list(ds->file, kind, NULL, out, d);
	r = ds->type == DATASTORE_ETCDV2 ? list_v2(ds, &all, d)
					 : calico_list(ds->etcd, &all, d, &rev);
	if (r < 0) {
		etcd_failed(ds, r);
		return r;
	}
	for (size_t i = 0; i < all.n && r >= 0; i++) {
		if (kind >= 0 && all.v[i]->kind != (enum res_kind)kind)
			continue;
		r = resource_list_add(out, all.v[i]);
		all.v[i] = NULL;
	}
	for (size_t i = 0; i < all.n; i++)
		resource_free(all.v[i]);
	free(all.v);
	return r;
}

int ds_get(struct datastore *ds, const struct resource *r, struct resource **old, int64_t *rev)
{
	struct diags d = { 0 };
	struct etcd_kvs kvs;
	char *key;
	int e;

	*old = NULL;
	*rev = 0;
	if (ds->type == DATASTORE_ETCDV2)
		return refuse_v2();
	if (ds->file) {
		e = store_get(ds->file, r->kind, r->namespace, r->name, old, &d);
		diags_clear(&d); /* unreadable: written over */
		return e == -EINVAL ? 1 : e;
	}
	key = resource_key(r->kind, r->namespace, r->name);
	e = key ? etcd_get(ds->etcd, key, &kvs) : -ENOMEM;
	if (e < 0) {
		if (key)
			etcd_failed(ds, e);
		free(key);
		return e;
	}
	if (kvs.n) {
		*rev = kvs.v[0].mod_revision;
		if (calico_kv_decode(key, kvs.v[0].value, kvs.v[0].value_len, old, &d) != 1)
			*old = NULL;
		diags_clear(&d);
	}
	e = kvs.n ? 1 : 0;
	etcd_kvs_clear(&kvs);
	free(key);
	return e;
}

static char *uuid4(void)
{
	unsigned char b[16];
	char *s;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return NULL;
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	if (asprintf(&s,
		     "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		     "%02x%02x%02x%02x%02x%02x",
		     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		     b[12], b[13], b[14], b[15]) < 0)
		return NULL;
	return s;
}

/* As Calico's client: a new resource gets a uid and a creation time, an
 * updated one keeps those it had. */
int ds_stamp(struct resource *r, const struct resource *old)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	if (old && old->uid && !r->uid && !(r->uid = strdup(old->uid)))
		return -ENOMEM;
	if (old && old->created && !r->created && !(r->created = strdup(old->created)))
		return -ENOMEM;
	if (!r->uid && !(r->uid = uuid4()))
		return -ENOMEM;
	if (!r->created) {
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		r->created = strdup(ts);
	}
	return r->created ? 0 : -ENOMEM;
}

/* The file datastore already holds r as old (stamped from it): writing
 * it again would change nothing but the file's inode. On etcd a write is
 * a new revision that watchers see, as calicoctl's apply makes one. */
bool ds_holds(const struct datastore *ds, const struct resource *r, const struct resource *old)
{
	char *a, *b;
	bool same;

	if (!ds->file || !old)
		return false;
	a = resource_to_storage_json(r);
	b = resource_to_storage_json(old);
	same = a && b && strcmp(a, b) == 0;
	free(a);
	free(b);
	return same;
}

/* etcd's default --max-txn-ops. */
#define ETCD_TXN_OPS 128

/* One etcd transaction for every resource whose rev is not -1: put (or
 * delete) on condition that the key is as it was read. */
static int etcd_write(struct datastore *ds, struct resource *const *v, const int64_t *revs,
		      size_t n, bool del)
{
	struct etcd_op *ops = calloc(n ? n : 1, sizeof(*ops));
	size_t k = 0;
	bool ok = false;
	int r = ops ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && r == 0; i++) {
		char *key, *val = NULL;

		if (revs[i] < 0)
			continue;
		key = resource_key(v[i]->kind, v[i]->namespace, v[i]->name);
		if (!del)
			val = resource_to_storage_json(v[i]);
		ops[k] = (struct etcd_op){ .del = del,
					   .key = key,
					   .value = val,
					   .len = val ? strlen(val) : 0,
					   .cond = revs[i] ? ETCD_AT_REVISION : ETCD_ABSENT,
					   .rev = revs[i] };
		k++;
		if (!key || (!del && !val))
			r = -ENOMEM;
	}
	if (r == 0 && k)
		r = etcd_txn(ds->etcd, ops, k, &ok, NULL);
	if (r < 0)
		etcd_failed(ds, r);
	else if (k && !ok)
		r = -ESTALE;
	for (size_t i = 0; i < k; i++) {
		free((char *)ops[i].key);
		free((char *)ops[i].value);
	}
	free(ops);
	return r;
}

/* The file datastore: the v[i] whose revs[i] is not -1, at once. */
static int put_files(struct datastore *ds, struct resource *const *v, const int64_t *revs, size_t n,
		     size_t *done)
{
	struct resource **w = malloc((n ? n : 1) * sizeof(*w));
	size_t k = 0;
	int r;

	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (revs[i] >= 0)
			w[k++] = v[i];
	r = store_put_many(ds->file, w, k, done);
	free(w);
	return r;
}

/* Writes or deletes every v[i] whose revs[i] is not -1. On etcd, in
 * transactions of at most ETCD_TXN_OPS resources (one, all or nothing,
 * when they fit), as etcd refuses larger ones by default; *done counts
 * what went in before a failure. */
static int write_each(struct datastore *ds, struct resource *const *v, const int64_t *revs,
		      size_t n, bool del, size_t *done)
{
	*done = 0;
	if (ds->type == DATASTORE_ETCDV2)
		return refuse_v2();
	for (size_t i = 0; ds->etcd && i < n;) {
		size_t from = i, k = 0;
		int r;

		while (i < n && k < ETCD_TXN_OPS)
			k += revs[i++] >= 0;
		r = etcd_write(ds, v + from, revs + from, i - from, del);
		if (r < 0)
			return r;
		*done += k;
	}
	if (ds->etcd)
		return 0;
	if (!del)
		return put_files(ds, v, revs, n, done);
	for (size_t i = 0; i < n; i++) {
		int r;

		if (revs[i] < 0)
			continue;
		r = del ? store_delete(ds->file, v[i]->kind, v[i]->namespace, v[i]->name)
			: store_put(ds->file, v[i]);
		if (r == -ENOENT && del)
			continue; /* gone meanwhile: nothing to do */
		if (r < 0)
			return r;
		(*done)++;
	}
	return 0;
}

int ds_put_all(struct datastore *ds, struct resource *const *v, const int64_t *revs, size_t n,
	       size_t *done)
{
	return write_each(ds, v, revs, n, false, done);
}

int ds_delete_all(struct datastore *ds, struct resource *const *v, const int64_t *revs, size_t n,
		  size_t *done)
{
	return write_each(ds, v, revs, n, true, done);
}
