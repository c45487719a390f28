/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upgrade's checks and writes: calico-upgrade's version gate (CalicoVersion
 * at least v2.6.5 and below v3), an empty v3 store unless told otherwise,
 * the v1 data converted (backend_v1_decode with BACKEND_V1_UPGRADE), no
 * two v1 objects with one v3 name; the reports; the v3 writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "etcd.h"
#include "upgrade.h"

void upgrade_data_clear(struct upgrade *u)
{
	resource_list_clear(&u->l);
	free(u->version);
	free(u->guid);
	free(u->type);
	u->version = u->guid = u->type = NULL;
}

/* The raw value of a v1 key, or NULL when absent; -errno in *r. */
static char *v1_value(struct upgrade *u, const char *key, int *r)
{
	struct etcd2_kvs kvs;
	char *v = NULL;

	*r = etcd2_get(u->v1, key, &kvs);
	if (*r == 0 && kvs.n && !(v = strdup(kvs.v[0].value)))
		*r = -ENOMEM;
	if (*r < 0 && *r != -ENOMEM)
		fprintf(stderr, "%s\n", etcd_error(u->v1));
	etcd2_kvs_clear(&kvs);
	return v;
}

/* "v2.6.8" or "2.6.8" against "v2.6.5" .. below 3. */
static bool version_ok(const char *v)
{
	unsigned a = 0, b = 0, c = 0;

	if (!v || sscanf(v + (v[0] == 'v'), "%u.%u.%u", &a, &b, &c) < 2)
		return false;
	return a == 2 && (b > 6 || (b == 6 && c >= 5));
}

static int cluster_keys(struct upgrade *u, unsigned *problems)
{
	int r;

	u->version = v1_value(u, "/calico/v1/config/CalicoVersion", &r);
	if (r == 0)
		u->guid = v1_value(u, "/calico/v1/config/ClusterGUID", &r);
	if (r == 0)
		u->type = v1_value(u, "/calico/v1/config/ClusterType", &r);
	if (r < 0)
		return r;
	if (!version_ok(u->version)) {
		fprintf(stderr,
			"/calico/v1/config/CalicoVersion is %s%s%s: migration needs Calico %s "
			"or a later 2.x\n",
			u->version ? "\"" : "", u->version ? u->version : "absent",
			u->version ? "\"" : "", UPGRADE_MIN_VERSION);
		(*problems)++;
	}
	return 0;
}

static int v3_empty(struct upgrade *u, unsigned *problems)
{
	struct etcd_kvs kvs;
	int r = etcd_list_prefix(u->v3, "/calico/resources/v3/", 0, &kvs);

	if (r < 0) {
		fprintf(stderr, "%s\n", etcd_error(u->v3));
		return r;
	}
	if (kvs.n && !u->ignore_v3) {
		fprintf(stderr,
			"The v3 datastore already holds %zu keys (e.g. %s): give --ignore-v3-data "
			"to migrate over them\n",
			kvs.n, kvs.v[0].key);
		(*problems)++;
	}
	etcd_kvs_clear(&kvs);
	return 0;
}

static FILE *report(struct upgrade *u, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", u->outdir, name);
	f = fopen(path, "we");
	if (!f)
		fprintf(stderr, "Cannot write the report %s: %m\n", path);
	return f;
}

static int close_report(FILE *f)
{
	return f && fclose(f) == 0 ? 0 : -EIO;
}

static int diags_report(struct upgrade *u, const char *name, const struct diags *d, bool echo)
{
	FILE *f = report(u, name);

	for (size_t i = 0; f && i < d->n; i++) {
		char *s = diag_format(&d->v[i]);

		fprintf(f, "%s\n", s ? s : d->v[i].msg);
		if (echo)
			fprintf(stderr, "%s\n", s ? s : d->v[i].msg);
		free(s);
	}
	return close_report(f);
}

static const char *v3_name(const struct resource *r, char *buf, size_t len)
{
	char *k = resource_key(r->kind, r->namespace, r->name);

	snprintf(buf, len, "%s", k ? k : "?");
	free(k);
	return buf;
}

/* convertednames and nameclashes; clashes are counted in *problems. */
static int names_report(struct upgrade *u, unsigned *problems)
{
	FILE *conv = report(u, "convertednames"), *clash = report(u, "nameclashes");
	char a[1024];
	int r = 0;

	resource_list_sort(&u->l);
	for (size_t i = 0; conv && clash && i < u->l.n; i++) {
		const struct resource *x = u->l.v[i], *p = i ? u->l.v[i - 1] : NULL;

		fprintf(conv, "%s -> %s\n", x->file, v3_name(x, a, sizeof(a)));
		if (p && p->kind == x->kind && strcmp(p->name, x->name) == 0 &&
		    strcmp(p->namespace ? p->namespace : "", x->namespace ? x->namespace : "") ==
			    0) {
			fprintf(clash, "%s and %s -> %s\n", p->file, x->file, a);
			fprintf(stderr, "name clash: %s and %s both become %s\n", p->file, x->file,
				a);
			(*problems)++;
		}
	}
	if (close_report(conv) < 0 || close_report(clash) < 0)
		r = -EIO;
	return r;
}

static int convert(struct upgrade *u, unsigned *problems)
{
	struct diags errors = { 0 }, skipped = { 0 };
	bool ready;
	int r = calico_v1_list(u->v1, BACKEND_V1_UPGRADE, &u->l, &errors, &skipped, NULL, &ready);

	if (r < 0) {
		fprintf(stderr, "%s\n", etcd_error(u->v1));
		goto out;
	}
	*problems += (unsigned)errors.n;
	if (mkdir(u->outdir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "Cannot make the report directory %s: %m\n", u->outdir);
		r = -errno;
		goto out;
	}
	r = diags_report(u, "conversionerrors", &errors, true);
	if (r == 0)
		r = diags_report(u, "skipped", &skipped, false);
	if (r == 0)
		r = names_report(u, problems);
	if (r == 0 && skipped.n)
		printf("%zu objects left out (see %s/skipped)\n", skipped.n, u->outdir);
out:
	diags_clear(&errors);
	diags_clear(&skipped);
	return r;
}

int upgrade_check(struct upgrade *u)
{
	unsigned problems = 0;
	int r = cluster_keys(u, &problems);

	if (r == 0)
		r = v3_empty(u, &problems);
	if (r == 0)
		r = convert(u, &problems);
	if (r == 0 && problems) {
		fprintf(stderr, "%u problem%s (above; reports in %s): nothing migrated\n", problems,
			problems == 1 ? "" : "s", u->outdir);
		r = -EINVAL;
	}
	return r;
}

#define TXN_OPS 128 /* etcd's default --max-txn-ops */

static int write_ops(struct upgrade *u, struct etcd_op *ops, size_t n)
{
	bool ok = false;
	int r = etcd_txn(u->v3, ops, n, &ok, NULL);

	if (r < 0)
		fprintf(stderr, "%s\n", etcd_error(u->v3));
	else if (!ok)
		fprintf(stderr, "A v3 key was written meanwhile (or exists: --ignore-v3-data); "
				"this transaction wrote nothing\n");
	return r < 0 ? r : ok ? 0 : -ESTALE;
}

static int cluster_info_op(struct upgrade *u, struct etcd_op *op)
{
	struct resource stamp = { 0 };
	struct calico_cluster_info ci = { u->guid, u->type, u->version, NULL, NULL };
	char *v;

	if (ds_stamp(&stamp, NULL) < 0)
		return -ENOMEM;
	ci.uid = stamp.uid;
	ci.created = stamp.created;
	v = calico_cluster_info_json(&ci, false);
	free(stamp.uid);
	free(stamp.created);
	*op = (struct etcd_op){ .key = strdup(CALICO_CLUSTER_INFO_KEY),
				.value = v,
				.len = v ? strlen(v) : 0,
				.cond = u->ignore_v3 ? ETCD_ANY : ETCD_ABSENT };
	return op->key && v ? 0 : -ENOMEM;
}

int upgrade_write_v3(struct upgrade *u)
{
	size_t n = u->l.n + 1, k = 0, written = 0;
	struct etcd_op *ops = calloc(n, sizeof(*ops));
	int r = ops ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < u->l.n; i++, k++) {
		struct resource *x = u->l.v[i];
		char *val;

		r = ds_stamp(x, NULL);
		val = r == 0 ? resource_to_storage_json(x) : NULL;
		ops[k] = (struct etcd_op){ .key = resource_key(x->kind, x->namespace, x->name),
					   .value = val,
					   .len = val ? strlen(val) : 0,
					   .cond = u->ignore_v3 ? ETCD_ANY : ETCD_ABSENT };
		if (!ops[k].key || !val)
			r = -ENOMEM;
	}
	if (r == 0)
		r = cluster_info_op(u, &ops[k++]);
	for (size_t i = 0; r == 0 && i < k; i += TXN_OPS) {
		size_t m = k - i < TXN_OPS ? k - i : TXN_OPS;

		r = write_ops(u, ops + i, m);
		written += r == 0 ? m : 0;
	}
	if (r < 0 && written)
		fprintf(stderr, "%zu of %zu v3 keys were written before the failure\n", written, k);
	for (size_t i = 0; ops && i < n; i++) {
		free((char *)ops[i].key);
		free((char *)ops[i].value);
	}
	free(ops);
	return r;
}

int upgrade_set_v3_ready(struct upgrade *u)
{
	struct etcd_kvs kvs;
	struct etcd_op op = { .key = CALICO_CLUSTER_INFO_KEY, .cond = ETCD_AT_REVISION };
	char *v = NULL;
	int r = etcd_get(u->v3, CALICO_CLUSTER_INFO_KEY, &kvs);

	if (r < 0) {
		fprintf(stderr, "%s\n", etcd_error(u->v3));
		return r;
	}
	if (!kvs.n) {
		fprintf(stderr, "No ClusterInformation in the v3 datastore: 'upgrade start' has "
				"not run against it\n");
		r = -ENOENT;
	} else if (!(v = calico_cluster_info_set_ready(kvs.v[0].value, kvs.v[0].value_len, true))) {
		fprintf(stderr, "%s does not hold a ClusterInformation\n", CALICO_CLUSTER_INFO_KEY);
		r = -EINVAL;
	} else {
		op.value = v;
		op.len = strlen(v);
		op.rev = kvs.v[0].mod_revision;
		r = write_ops(u, &op, 1);
	}
	free(v);
	etcd_kvs_clear(&kvs);
	return r;
}
