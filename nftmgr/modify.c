/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read, change, write back: what patch and label share. The write is
 * conditioned on the version read, so that two writers cannot lose each
 * other's change: with etcd the put carries the revision read and fails
 * if the key moved since; with the file datastore the lock is held from
 * the read to the write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftmgr.h"

/* Reads the stored version (and its revision) of want. */
static int read_stored(const struct modify *m, struct datastore *ds, const struct resource *want,
		       struct resource **old, int64_t *rev)
{
	const char *kind = kind_info(want->kind)->kind;
	int e = ds_get(ds, want, old, rev);
	char path[600];

	if (e < 0)
		fprintf(stderr, "Failed to %s '%s' resource: %s\n", m->verb, kind, strerror(-e));
	else if (e == 0)
		fprintf(stderr, "Failed to %s '%s' resource: resource does not exist: %s(%s)\n",
			m->verb, kind, kind, resource_path(want, path, sizeof(path)));
	else if (!*old)
		fprintf(stderr, "Failed to %s '%s' resource: its stored version cannot be read\n",
			m->verb, kind);
	return e < 0 ? e : e == 0 ? -ENOENT : !*old ? -EIO : 0;
}

static int write_back(const struct modify *m, struct datastore *ds, struct resource *r, int64_t rev)
{
	const char *kind = kind_info(r->kind)->kind;
	size_t done = 0;
	int e = ds_put_all(ds, &r, &rev, 1, &done);

	if (e == -ESTALE)
		fprintf(stderr,
			"Failed to %s '%s' resource: update conflict: %s changed since it "
			"was read (another writer?); nothing was written\n",
			m->verb, kind, r->name);
	else if (e < 0)
		fprintf(stderr, "Failed to %s '%s' resource: %s\n", m->verb, kind, write_error(e));
	return e;
}

static int modify_locked(const struct modify *m, struct datastore *ds, const struct resource *want)
{
	struct resource *old = NULL, *new = NULL;
	int64_t rev = 0;
	int e;

	e = read_stored(m, ds, want, &old, &rev);
	if (e == 0)
		e = m->fn(old, &new, m->data);
	if (e == 0 && (e = ds_stamp(new, old)) < 0)
		fprintf(stderr, "%s\n", strerror(-e));
	if (e == 0)
		e = write_back(m, ds, new, rev);
	resource_free(old);
	resource_free(new);
	return e;
}

int modify_run(struct ctx *ctx, const struct modify *m)
{
	struct resource *want = NULL;
	struct datastore *ds = NULL;
	int e;

	e = named_resource(m->kind, m->name, m->ns, &want);
	if (e == 0)
		e = ds_open(ctx, &ds);
	if (e == 0)
		e = ds_writable(ds);
	if (e == 0 && (e = ds_lock(ds)) < 0)
		fprintf(stderr, "Failed to lock the datastore: %s\n", strerror(-e));
	if (e == 0) {
		e = modify_locked(m, ds, want);
		ds_unlock(ds);
	}
	if (e == 0)
		m->done(m->data);
	/* with etcd, the nodes' daemons take the change from their watch */
	if (e == 0 && !m->no_sync && !ds_etcd(ds))
		e = after_write_sync(ctx, NULL);
	resource_free(want);
	ds_free(ds);
	return e;
}
