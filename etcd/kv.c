/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Key-value calls: range (paged, at one revision), put, delete, txn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"

void etcd_kvs_clear(struct etcd_kvs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	*l = (struct etcd_kvs){ 0 };
}

/* The end of the range of keys that start with p (clientv3's prefix
 * rule): the last byte below 0xff incremented, the rest cut off. With
 * every byte 0xff there is no such key: "\0" means "to the end". */
static size_t prefix_end(const char *p, size_t len, char *out)
{
	memcpy(out, p, len);
	for (size_t i = len; i-- > 0;) {
		if ((unsigned char)out[i] < 0xff) {
			out[i]++;
			return i + 1;
		}
	}
	out[0] = '\0';
	return 1;
}

static int kv_add(struct etcd *e, struct etcd_kvs *out, const json_t *kv)
{
	const char *kb = json_string_value(json_object_get(kv, "key"));
	const char *vb = json_string_value(json_object_get(kv, "value"));
	struct etcd_kv *x;
	ssize_t kl, vl;

	if (!kb) {
		etcd_set_error(e, "etcd %s: a key-value without a key", etcd_endpoint(e));
		return -EPROTO;
	}
	if (out->n == ETCD_MAX_KEYS) {
		etcd_set_error(e, "etcd %s: more than %u keys", etcd_endpoint(e), ETCD_MAX_KEYS);
		return -E2BIG;
	}
	if (out->n % 256 == 0) {
		x = realloc(out->v, (out->n + 256) * sizeof(*x));
		if (!x)
			return -ENOMEM;
		out->v = x;
	}
	x = &out->v[out->n];
	*x = (struct etcd_kv){ 0 };
	kl = etcd_b64_decode(kb, strlen(kb), &x->key);
	vl = kl < 0 ? -1 : etcd_b64_decode(vb ? vb : "", vb ? strlen(vb) : 0, &x->value);
	if (kl < 0 || vl < 0) {
		free(x->key);
		etcd_set_error(e, "etcd %s: a key or value that is not base64", etcd_endpoint(e));
		return -EPROTO;
	}
	x->value_len = (size_t)vl;
	x->create_revision = etcd_json_int64(json_object_get(kv, "create_revision"));
	x->mod_revision = etcd_json_int64(json_object_get(kv, "mod_revision"));
	x->version = etcd_json_int64(json_object_get(kv, "version"));
	out->n++;
	return 0;
}

/* One range request; *more says whether keys are left. */
static int range_page(struct etcd *e, const char *key, size_t klen, const char *end, size_t elen,
		      int64_t rev, long limit, struct etcd_kvs *out, bool *more)
{
	json_t *req = json_object(), *ans = NULL, *kvs, *kv;
	size_t i;
	int r = -ENOMEM;

	if (!req || json_object_set_new(req, "key", etcd_json_b64(key, klen)) < 0 ||
	    (end && json_object_set_new(req, "range_end", etcd_json_b64(end, elen)) < 0) ||
	    (limit && json_object_set_new(req, "limit", json_integer(limit)) < 0) ||
	    (rev && json_object_set_new(req, "revision", json_integer(rev)) < 0))
		goto out;
	r = etcd_call(e, "/v3/kv/range", req, &ans);
	if (r < 0)
		goto out;
	kvs = json_object_get(ans, "kvs");
	json_array_foreach(kvs, i, kv)
	{
		r = kv_add(e, out, kv);
		if (r < 0)
			goto out;
	}
	*more = json_is_true(json_object_get(ans, "more"));
	if (!out->revision)
		out->revision = etcd_json_int64(
			json_object_get(json_object_get(ans, "header"), "revision"));
out:
	json_decref(ans);
	json_decref(req);
	return r;
}

int etcd_list_prefix(struct etcd *e, const char *prefix, int64_t rev, struct etcd_kvs *out)
{
	size_t plen = strlen(prefix), elen;
	char *end = malloc(plen + 1), *from = NULL;
	bool more = true;
	int r = end ? 0 : -ENOMEM;

	*out = (struct etcd_kvs){ .revision = rev };
	if (r == 0)
		elen = prefix_end(prefix, plen, end);
	/* Later pages start just after the last key, at the first page's
	 * revision, so the listing is one consistent snapshot. */
	r = r ?: range_page(e, prefix, plen, end, elen, rev, ETCD_PAGE, out, &more);
	while (r == 0 && more && out->n) {
		const char *last = out->v[out->n - 1].key;
		size_t ll = strlen(last);

		free(from);
		from = malloc(ll + 1);
		if (!from) {
			r = -ENOMEM;
			break;
		}
		memcpy(from, last, ll);
		from[ll] = '\0';
		r = range_page(e, from, ll + 1, end, elen, out->revision, ETCD_PAGE, out, &more);
	}
	free(from);
	free(end);
	if (r < 0)
		etcd_kvs_clear(out);
	return r;
}

int etcd_get(struct etcd *e, const char *key, struct etcd_kvs *out)
{
	bool more = false;
	int r;

	*out = (struct etcd_kvs){ 0 };
	r = range_page(e, key, strlen(key), NULL, 0, 0, 0, out, &more);
	if (r < 0)
		etcd_kvs_clear(out);
	return r;
}

static int64_t header_revision(const json_t *ans)
{
	return etcd_json_int64(json_object_get(json_object_get(ans, "header"), "revision"));
}

int etcd_put(struct etcd *e, const char *key, const char *value, size_t len, int64_t *rev)
{
	json_t *req = json_pack("{s:o, s:o}", "key", etcd_json_b64(key, strlen(key)), "value",
				etcd_json_b64(value, len));
	json_t *ans = NULL;
	int r = req ? etcd_call(e, "/v3/kv/put", req, &ans) : -ENOMEM;

	if (r == 0 && rev)
		*rev = header_revision(ans);
	json_decref(ans);
	json_decref(req);
	return r;
}

static int delete_range(struct etcd *e, const char *key, bool prefix, int64_t *deleted)
{
	size_t klen = strlen(key);
	char *end = malloc(klen + 1);
	json_t *req = json_object(), *ans = NULL;
	int r = -ENOMEM;

	if (!end || !req || json_object_set_new(req, "key", etcd_json_b64(key, klen)) < 0)
		goto out;
	if (prefix && json_object_set_new(req, "range_end",
					  etcd_json_b64(end, prefix_end(key, klen, end))) < 0)
		goto out;
	r = etcd_call(e, "/v3/kv/deleterange", req, &ans);
	if (r == 0 && deleted)
		*deleted = etcd_json_int64(json_object_get(ans, "deleted"));
out:
	json_decref(ans);
	json_decref(req);
	free(end);
	return r;
}

int etcd_delete(struct etcd *e, const char *key, int64_t *deleted)
{
	return delete_range(e, key, false, deleted);
}

int etcd_delete_prefix(struct etcd *e, const char *prefix, int64_t *deleted)
{
	return delete_range(e, prefix, true, deleted);
}

int etcd_compact(struct etcd *e, int64_t rev)
{
	json_t *req = json_pack("{s:I, s:b}", "revision", (json_int_t)rev, "physical", 1);
	json_t *ans = NULL;
	int r = req ? etcd_call(e, "/v3/kv/compaction", req, &ans) : -ENOMEM;

	json_decref(ans);
	json_decref(req);
	return r;
}

static json_t *txn_compare(const struct etcd_op *op)
{
	json_t *key = etcd_json_b64(op->key, strlen(op->key));

	switch (op->cond) {
	case ETCD_ABSENT:
		return json_pack("{s:o, s:s, s:s, s:s}", "key", key, "target", "VERSION", "result",
				 "EQUAL", "version", "0");
	case ETCD_PRESENT:
		return json_pack("{s:o, s:s, s:s, s:s}", "key", key, "target", "VERSION", "result",
				 "GREATER", "version", "0");
	case ETCD_AT_REVISION:
		return json_pack("{s:o, s:s, s:s, s:I}", "key", key, "target", "MOD", "result",
				 "EQUAL", "mod_revision", (json_int_t)op->rev);
	case ETCD_ANY: break;
	}
	json_decref(key);
	return NULL;
}

static json_t *txn_request(const struct etcd_op *op)
{
	json_t *key = etcd_json_b64(op->key, strlen(op->key));

	if (op->del)
		return json_pack("{s:{s:o}}", "request_delete_range", "key", key);
	return json_pack("{s:{s:o, s:o}}", "request_put", "key", key, "value",
			 etcd_json_b64(op->value, op->len));
}

int etcd_txn(struct etcd *e, const struct etcd_op *ops, size_t n, bool *ok, int64_t *rev)
{
	json_t *cmp = json_array(), *succ = json_array(), *req = NULL, *ans = NULL;
	int r = -ENOMEM;

	if (!cmp || !succ)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *c = ops[i].cond == ETCD_ANY ? NULL : txn_compare(&ops[i]);

		if ((ops[i].cond != ETCD_ANY && json_array_append_new(cmp, c) < 0) ||
		    json_array_append_new(succ, txn_request(&ops[i])) < 0)
			goto out;
	}
	req = json_pack("{s:O, s:O}", "compare", cmp, "success", succ);
	if (!req)
		goto out;
	r = etcd_call(e, "/v3/kv/txn", req, &ans);
	if (r == 0) {
		*ok = json_is_true(json_object_get(ans, "succeeded"));
		if (rev)
			*rev = header_revision(ans);
	}
out:
	json_decref(ans);
	json_decref(req);
	json_decref(cmp);
	json_decref(succ);
	return r;
}
