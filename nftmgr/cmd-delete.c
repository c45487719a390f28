/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s delete -f PATH [--skip-not-exists] [--no-sync] [--confirm-within D]\n"
		"       %s delete KIND NAME [-n NAMESPACE] [--skip-not-exists] [--no-sync]\n"
		"              [--confirm-within D]\n\n"
		"Delete the resources named in PATH, or one resource by kind and name.\n"
		"Every resource is checked first: if one is missing, nothing is deleted\n"
		"(unless --skip-not-exists). --confirm-within (file datastore): unless\n"
		"'nftmgr confirm' is run within D (60s, 2m), put the resources and the\n"
		"table back.\n", prog, prog);
}

/* The resources to delete, as (kind, namespace, name) in a list. */
static int by_name(const char *kind_arg, const char *name, const char *ns,
		   struct resource_list *l)
{
	int k = kind_from_alias(kind_arg);
	struct resource *r;

	if (k < 0) {
		fprintf(stderr, "Resource type '%s' is not supported\n", kind_arg);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->kind = k;
	r->name = strdup(name);
	if (kind_info(k)->namespaced)
		r->namespace = strdup(ns ? ns : "default");
	if (!r->name || (kind_info(k)->namespaced && !r->namespace)) {
		resource_free(r);
		return -ENOMEM;
	}
	return resource_list_add(l, r);
}

/* With undo, the stored versions are kept there to be put back. */
static int delete_all(struct ctx *ctx, struct datastore *ds, struct resource_list *l,
		      bool skip_missing, struct undo *undo, unsigned confirm_within,
		      struct confirm *armed)
{
	const char *kind = common_kind(l->v, l->n);
	int64_t *revs = calloc(l->n ? l->n : 1, sizeof(*revs));
	size_t done = 0;
	int e = revs ? 0 : -ENOMEM;

	for (size_t i = 0; i < l->n && e >= 0; i++) {
		const struct resource *r = l->v[i];
		struct resource *old = NULL;

		e = ds_get(ds, r, &old, &revs[i]);
		if (e == 1 && undo && !old)
			e = -EIO;	/* unreadable: it could not be put back */
		if (e == 1 && undo)
			undo->put[undo->n_put++] = old;
		else
			resource_free(old);
		if (e == 0 && !skip_missing) {
			fprintf(stderr, "Failed to delete any resources: resource does not exist: %s(%s%s%s)\n",
				kind_info(r->kind)->kind, r->namespace ? r->namespace : "",
				r->namespace ? "/" : "", r->name);
			free(revs);
			return EXIT_FAIL;
		}
		if (e < 0)
			fprintf(stderr, "Failed to delete any resources: %s(%s): %s\n",
				kind_info(r->kind)->kind, r->name, strerror(-e));
		if (e == 0)
			revs[i] = -1;
	}
	if (e >= 0 && confirm_within &&
	    confirm_arm(ctx, table_name(ctx), confirm_within, undo, armed) < 0) {
		free(revs);
		return EXIT_FAIL;
	}
	if (e >= 0)
		e = ds_delete_all(ds, l->v, revs, l->n, &done);
	free(revs);
	if (confirm_within && e < 0 && armed->fd >= 0)
		confirm_done(armed, false);
	if (e == -ESTALE && !done)
		fprintf(stderr, "Failed to delete any resources: the datastore changed while "
			"deleting (another writer?); nothing was deleted\n");
	else if (e < 0 && (done || !ds_etcd(ds)))
		fprintf(stderr, "Partial success: deleted the first %zu out of %zu resources:\n"
			"Hit error: %s\n", done, l->n, write_error(e));
	if (e < 0)
		return EXIT_FAIL;
	if (kind)
		printf("Successfully deleted %zu '%s' resource(s)\n", done, kind);
	else
		printf("Successfully deleted %zu resource(s)\n", done);
	return EXIT_OK;
}

int cmd_delete(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "skip-not-exists", no_argument, NULL, 's' },
		{ "no-sync", no_argument, NULL, 'S' },
		{ "confirm-within", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	struct datastore *ds = NULL;
	const char *path = NULL, *ns = NULL;
	bool skip = false, no_sync = false;
	struct confirm armed = { .fd = -1 };
	struct undo undo = { 0 };
	unsigned within = 0;
	int c, ret = EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "f:n:sh", opts, NULL)) != -1) {
		if (c == 'f')
			path = optarg;
		else if (c == 'n')
			ns = optarg;
		else if (c == 's')
			skip = true;
		else if (c == 'S')
			no_sync = true;
		else if (c == 'C' && confirm_opt(optarg, &within) < 0)
			return EXIT_USAGE;
		else if (c == 'C')
			continue;
		else if (c == 'h')
			return usage(stdout, ctx->prog), EXIT_OK;
		else
			return usage(stderr, ctx->prog), EXIT_USAGE;
	}
	if (path ? optind != argc : optind + 2 != argc)
		return usage(stderr, ctx->prog), EXIT_USAGE;
	if (path && ruleset_load_path(path, &l, &d) < 0) {
		print_diags(&d);
		goto out;
	}
	if (!path && by_name(argv[optind], argv[optind + 1], ns, &l) < 0)
		goto out;
	if (l.n == 0) {
		fprintf(stderr, "No resources specified in file\n");
		goto out;
	}
	ret = ds_open(ctx, &ds);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	if (within && confirm_usable(ds, no_sync) < 0)
		goto out;
	if (within && !(undo.put = calloc(l.n, sizeof(*undo.put))))
		goto out;
	if (ds_lock(ds) < 0) {
		fprintf(stderr, "Failed to lock the datastore\n");
		goto out;
	}
	ret = delete_all(ctx, ds, &l, skip, within ? &undo : NULL, within, &armed);
	ds_unlock(ds);
	if (ret == EXIT_OK && !no_sync && !ds_etcd(ds))
		ret = after_write_sync(ctx, armed.fd >= 0 ? &armed : NULL);
out:
	for (size_t i = 0; i < undo.n_put; i++)
		resource_free(undo.put[i]);
	free(undo.put);
	ds_free(ds);
	resource_list_clear(&l);
	diags_clear(&d);
	return ret;
}
