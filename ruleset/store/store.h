/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store: the file datastore (Calico's v3 key layout, one JSON file per
 * resource, atomic writes, a lock). Depends on resource/.
 */
#ifndef NFTMGR_STORE_H
#define NFTMGR_STORE_H

#include "resource.h"

struct store;

/* Opens (creating if needed) a datastore directory. Caller frees with
 * store_free(). */
int store_open(const char *dir, struct store **ret);
struct store *store_free(struct store *s);
/* Exclusive lock held until store_unlock() or store_free(). */
int store_lock(struct store *s);
void store_unlock(struct store *s);
/* Lists one kind (ns NULL: every namespace) into out. Corrupt files are
 * reported in d and skipped. */
int store_list(struct store *s, enum res_kind kind, const char *ns, struct resource_list *out,
	       struct diags *d);
/* Every resource of every kind. */
int store_list_all(struct store *s, struct resource_list *out, struct diags *d);
/* 1 if present, 0 if not, negative errno. */
int store_exists(struct store *s, enum res_kind kind, const char *ns, const char *name);
/* 1 with *ret (caller frees) if present, 0 if not, negative errno (an
 * unreadable file: -EINVAL, reported in d). */
int store_get(struct store *s, enum res_kind kind, const char *ns, const char *name,
	      struct resource **ret, struct diags *d);
/* Atomic: temp file, fsync, rename, fsync of the directory. */
int store_put(struct store *s, const struct resource *r);
/* The same for v[0..n): every file written, all made durable at once
 * (syncfs), then each renamed into place and each directory fsynced
 * once; a crash leaves each file old or new, as store_put() does. *done
 * counts those in place. */
int store_put_many(struct store *s, struct resource *const *v, size_t n, size_t *done);
/* -ENOENT if absent. */
int store_delete(struct store *s, enum res_kind kind, const char *ns, const char *name);

#endif
