/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply, create and replace: everything is read and validated first, then
 * existence is checked under the store lock for every resource, and only
 * then is anything written. A bad document among good ones writes nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftmgr.h"

static const char *const verbs[][3] = {
	[WRITE_APPLY] = { "apply", "applied", "Apply" },
	[WRITE_CREATE] = { "create", "created", "Create" },
	[WRITE_REPLACE] = { "replace", "replaced", "Replace" },
};

static void write_usage(FILE *f, const char *prog, enum write_mode m)
{
	fprintf(f, "Usage: %s %s -f PATH [--no-sync] [--confirm-within DURATION]%s\n\n"
		"%s every resource in PATH (a file, a directory of *.yaml, *.yml\n"
		"and *.json files, or - for standard input).\n\n"
		"  -f, --filename PATH   resources to %s\n"
		"      --no-sync         do not sync this node's kernel afterwards\n"
		"      --confirm-within DURATION\n"
		"                        (file datastore) unless 'nftmgr confirm' is run\n"
		"                        within DURATION (60s, 2m; up to 1 h), put the\n"
		"                        table and the stored resources back as they were\n"
		"%s"
		"  -h, --help            show this help\n",
		prog, verbs[m][0], m == WRITE_CREATE ? " [--skip-exists]" : "",
		verbs[m][2], verbs[m][0],
		m == WRITE_CREATE ? "      --skip-exists     leave existing resources alone\n" : "");
}

/* Existence rules per verb; returns the number of resources to write, or
 * -1 after printing why nothing can be written. revs[i] is the revision
 * seen (0: absent), -1 for entries left alone by --skip-exists. With undo,
 * the stored versions are kept there, and what is new listed. */
static int check_existence(struct datastore *ds, struct resource_list *l,
			   enum write_mode m, bool skip_exists, int64_t *revs,
			   struct undo *undo)
{
	int todo = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct resource *r = l->v[i], *old = NULL;
		const char *kind = kind_info(r->kind)->kind;
		int e = ds_get(ds, r, &old, &revs[i]);

		if (e >= 0 && ds_stamp(r, old) < 0)
			e = -ENOMEM;
		if (e < 0) {
			resource_free(old);
			fprintf(stderr, "Failed to %s '%s' resource %s: %s\n",
				verbs[m][0], kind, r->name, strerror(-e));
			return -1;
		}
		if (m == WRITE_CREATE && e == 1 && skip_exists) {
			resource_free(old);
			revs[i] = -1;
			continue;
		}
		if ((m == WRITE_CREATE && e == 1) || (m == WRITE_REPLACE && e == 0)) {
			resource_free(old);
			fprintf(stderr, "Failed to %s any '%s' resources: resource %s: %s(%s%s%s)\n",
				verbs[m][0], kind, e ? "already exists" : "does not exist",
				kind, r->namespace ? r->namespace : "",
				r->namespace ? "/" : "", r->name);
			return -1;
		}
		if (undo && e == 1 && !old) {
			fprintf(stderr, "Failed to %s '%s' resource %s: its stored version cannot "
				"be read, so it could not be put back\n", verbs[m][0], kind, r->name);
			return -1;
		}
		/* what a rollback puts back: the old version, or no resource */
		if (undo && e == 1)
			undo->put[undo->n_put++] = old;
		else
			resource_free(old);
		if (undo && e == 0)
			undo->del[undo->n_del++] = r;
		todo++;
	}
	return todo;
}

static int write_all(struct datastore *ds, struct resource_list *l, const int64_t *revs,
		     enum write_mode m)
{
	size_t done = 0;
	int e = ds_put_all(ds, l->v, revs, l->n, &done);

	if (e == -ESTALE && !done) {
		fprintf(stderr, "Failed to %s any resources: the datastore changed while "
			"writing (another writer?); nothing was written\n", verbs[m][0]);
		return EXIT_FAIL;
	}
	if (e < 0 && ds_etcd(ds) && !done) {
		fprintf(stderr, "Failed to %s any resources: nothing was written\n",
			verbs[m][0]);
		return EXIT_FAIL;
	}
	if (e < 0) {
		fprintf(stderr, "Partial success: %s the first %zu out of %zu resources:\n"
			"Hit error: %s\n", verbs[m][1], done, l->n, write_error(e));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int write_command(struct ctx *ctx, int argc, char **argv, enum write_mode m)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "no-sync", no_argument, NULL, 'n' },
		{ "skip-exists", no_argument, NULL, 's' },
		{ "confirm-within", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	struct datastore *ds = NULL;
	const char *path = NULL, *kind;
	bool skip_exists = false, no_sync = false;
	int64_t *revs = NULL;
	struct undo undo = { 0 };
	struct confirm armed, *c = NULL;
	unsigned confirm_within = 0;
	int opt, r, ret = EXIT_FAIL, todo;

	while ((opt = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (opt == 'f')
			path = optarg;
		else if (opt == 'n')
			no_sync = true;
		else if (opt == 's' && m == WRITE_CREATE)
			skip_exists = true;
		else if (opt == 'C' && confirm_opt(optarg, &confirm_within) < 0)
			return EXIT_USAGE;
		else if (opt == 'C')
			continue;
		else if (opt == 'h')
			return write_usage(stdout, ctx->prog, m), EXIT_OK;
		else
			return write_usage(stderr, ctx->prog, m), EXIT_USAGE;
	}
	if (!path || optind != argc)
		return write_usage(stderr, ctx->prog, m), EXIT_USAGE;
	if (ruleset_load_path(path, &l, &d) < 0) {
		print_diags(&d);
		goto out;
	}
	if (l.n == 0) {
		fprintf(stderr, "No resources specified in file\n");
		goto out;
	}
	ret = ds_open(ctx, &ds);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	if (confirm_within && confirm_usable(ds, no_sync) < 0)
		goto out;
	revs = calloc(l.n, sizeof(*revs));
	if (confirm_within) {
		undo.put = calloc(l.n, sizeof(*undo.put));
		undo.del = calloc(l.n, sizeof(*undo.del));
	}
	if (!revs || (confirm_within && (!undo.put || !undo.del)) || ds_lock(ds) < 0) {
		fprintf(stderr, "Failed to lock the datastore\n");
		goto out;
	}
	todo = check_existence(ds, &l, m, skip_exists, revs, confirm_within ? &undo : NULL);
	if (todo < 0)
		goto out;
	if (confirm_within) {
		r = confirm_arm(ctx, table_name(ctx), confirm_within, &undo, &armed);
		if (r < 0)
			goto out;
		c = &armed;
	}
	ret = write_all(ds, &l, revs, m);
	if (ret) {
		if (c)
			confirm_done(c, false);
		goto out;
	}
	kind = common_kind(l.v, l.n);
	if (kind)
		printf("Successfully %s %d '%s' resource(s)\n", verbs[m][1], todo, kind);
	else
		printf("Successfully %s %d resource(s)\n", verbs[m][1], todo);
	ds_unlock(ds);
	/* with etcd, the nodes' daemons take the change from their watch */
	ret = no_sync || ds_etcd(ds) ? EXIT_OK : after_write_sync(ctx, c);
out:
	for (size_t i = 0; i < undo.n_put; i++)
		resource_free(undo.put[i]);
	free(undo.put);
	free(undo.del);
	free(revs);
	ds_free(ds);
	resource_list_clear(&l);
	diags_clear(&d);
	return ret;
}
