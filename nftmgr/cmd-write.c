/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply, create, replace and delete: one write path. Everything is read
 * and validated first, then existence is checked under the store lock for
 * every resource, and only then is anything written (or deleted). A bad
 * document among good ones writes nothing. With the file datastore this
 * node's kernel is synced afterwards; with --confirm-within the table and
 * the stored resources come back unless confirmed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftmgr.h"

enum write_mode {
	WRITE_APPLY,
	WRITE_CREATE,
	WRITE_REPLACE,
	WRITE_DELETE,
};

static const struct {
	const char *verb, *done, *title, *doing;
} verbs[] = {
	[WRITE_APPLY] = { "apply", "applied", "Apply", "writing" },
	[WRITE_CREATE] = { "create", "created", "Create", "writing" },
	[WRITE_REPLACE] = { "replace", "replaced", "Replace", "writing" },
	[WRITE_DELETE] = { "delete", "deleted", "Delete", "deleting" },
};

/* One write, as the command line asked for it. */
struct write_req {
	enum write_mode mode;
	const char *path;	      /* -f */
	const char *kind, *name, *ns; /* delete KIND NAME [-n NS] */
	bool skip;		      /* --skip-exists, --skip-not-exists */
	bool no_sync;
	bool help;
	unsigned confirm_within;
};

/* What the write works on, once read. */
struct write_job {
	struct resource_list l;
	struct datastore *ds;
	int64_t *revs;	  /* revision seen (0: absent); -1: left alone */
	struct undo undo; /* with --confirm-within */
	size_t todo;
};

static void usage(FILE *f, const char *prog, enum write_mode m)
{
	if (m == WRITE_DELETE) {
		fprintf(f,
			"Usage: %s delete -f PATH [--skip-not-exists] [--no-sync] [--confirm-within D]\n"
			"       %s delete KIND NAME [-n NAMESPACE] [--skip-not-exists] [--no-sync]\n"
			"              [--confirm-within D]\n\n"
			"Delete the resources named in PATH, or one resource by kind and name.\n"
			"Every resource is checked first: if one is missing, nothing is deleted\n"
			"(unless --skip-not-exists). --confirm-within (file datastore): unless\n"
			"'nftmgr confirm' is run within D (60s, 2m), put the resources and the\n"
			"table back.\n",
			prog, prog);
		return;
	}
	fprintf(f,
		"Usage: %s %s -f PATH [--no-sync] [--confirm-within DURATION]%s\n\n"
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
		prog, verbs[m].verb, m == WRITE_CREATE ? " [--skip-exists]" : "", verbs[m].title,
		verbs[m].verb,
		m == WRITE_CREATE ? "      --skip-exists     leave existing resources alone\n"
				  : "");
}

/* Returns 0 (w->help: --help was printed) or -EINVAL after printing why. */
static int parse(struct ctx *ctx, int argc, char **argv, struct write_req *w)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "no-sync", no_argument, NULL, 'S' },
		{ "skip-exists", no_argument, NULL, 'E' },
		{ "skip-not-exists", no_argument, NULL, 's' },
		{ "confirm-within", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool del = w->mode == WRITE_DELETE;
	int c;

	while ((c = getopt_long(argc, argv, del ? "f:n:sh" : "f:h", opts, NULL)) != -1) {
		if (c == 'f')
			w->path = optarg;
		else if (c == 'n' && del)
			w->ns = optarg;
		else if (c == 'S')
			w->no_sync = true;
		else if ((c == 'E' && w->mode == WRITE_CREATE) || (c == 's' && del))
			w->skip = true;
		else if (c == 'C' && confirm_opt(optarg, &w->confirm_within) < 0)
			return -EINVAL;
		else if (c == 'h')
			return usage(stdout, ctx->prog, w->mode), w->help = true, 0;
		else if (c != 'C')
			return usage(stderr, ctx->prog, w->mode), -EINVAL;
	}
	if (del && !w->path && optind + 2 == argc) {
		w->kind = argv[optind];
		w->name = argv[optind + 1];
	} else if (!w->path || optind != argc) {
		return usage(stderr, ctx->prog, w->mode), -EINVAL;
	}
	return 0;
}

/* delete KIND NAME: the one resource as (kind, namespace, name). */
static int by_name(const struct write_req *w, struct resource_list *l)
{
	struct resource *r;
	int e = named_resource(w->kind, w->name, w->ns, &r);

	return e < 0 ? e : resource_list_add(l, r);
}

static int load(const struct write_req *w, struct resource_list *l)
{
	struct diags d = { 0 };
	int r;

	if (!w->path) {
		r = by_name(w, l);
		if (r == -ENOMEM)
			fprintf(stderr, "%s\n", strerror(-r));
		return r;
	}
	r = ruleset_load_path(w->path, l, &d);
	print_diags(&d);
	diags_clear(&d);
	if (r < 0)
		return r;
	if (l->n == 0) {
		fprintf(stderr, "No resources specified in file\n");
		return -ENODATA;
	}
	return 0;
}

/* The existence rule of the verb for one resource whose stored version
 * ds_get() returned as e (1 present, 0 absent); with undo, what a
 * rollback puts back. Returns 1 to write it, 0 to leave it alone, or
 * -errno after printing why nothing can be written. */
static int existence(const struct write_req *w, struct write_job *j, size_t i, int e,
		     struct resource *old)
{
	const struct resource *r = j->l.v[i];
	const char *kind = kind_info(r->kind)->kind, *verb = verbs[w->mode].verb;
	bool want = w->mode == WRITE_REPLACE || w->mode == WRITE_DELETE;
	bool skip_it = w->skip &&
		       ((w->mode == WRITE_CREATE && e == 1) || (w->mode == WRITE_DELETE && e == 0));

	if (skip_it)
		return 0;
	if ((w->mode == WRITE_CREATE && e == 1) || (want && e == 0)) {
		char path[600];

		fprintf(stderr, "Failed to %s any '%s' resources: resource %s: %s(%s)\n", verb,
			kind, e ? "already exists" : "does not exist", kind,
			resource_path(r, path, sizeof(path)));
		return e ? -EEXIST : -ENOENT;
	}
	if (w->confirm_within && e == 1 && !old) {
		fprintf(stderr,
			"Failed to %s '%s' resource %s: its stored version cannot "
			"be read, so it could not be put back\n",
			verb, kind, r->name);
		return -EIO;
	}
	return 1;
}

/* Under the lock: every resource's stored version, by the verb's rules. */
static int check_all(const struct write_req *w, struct write_job *j)
{
	for (size_t i = 0; i < j->l.n; i++) {
		struct resource *r = j->l.v[i], *old = NULL;
		int e = ds_get(j->ds, r, &old, &j->revs[i]);
		bool same;

		if (e >= 0 && w->mode != WRITE_DELETE && ds_stamp(r, old) < 0)
			e = -ENOMEM;
		if (e < 0) {
			fprintf(stderr, "Failed to %s '%s' resource %s: %s\n", verbs[w->mode].verb,
				kind_info(r->kind)->kind, r->name, strerror(-e));
		} else {
			e = existence(w, j, i, e, old);
		}
		/* stored as it is: counted, not written again */
		same = e == 1 && w->mode != WRITE_DELETE && ds_holds(j->ds, r, old);
		if (e <= 0 || same || !w->confirm_within || !old)
			resource_free(old);
		if (e < 0)
			return e;
		if (e == 0 || same) {
			j->revs[i] = -1;
			j->todo += same;
			continue;
		}
		if (w->confirm_within && old)
			j->undo.put[j->undo.n_put++] = old;
		else if (w->confirm_within && w->mode != WRITE_DELETE)
			j->undo.del[j->undo.n_del++] = r;
		j->todo++;
	}
	return 0;
}

/* Writes (or deletes) what check_all() kept, printing the outcome. */
static int write_all(const struct write_req *w, struct write_job *j)
{
	const char *verb = verbs[w->mode].verb, *kind = common_kind(j->l.v, j->l.n);
	size_t done = 0;
	int e = w->mode == WRITE_DELETE ? ds_delete_all(j->ds, j->l.v, j->revs, j->l.n, &done)
					: ds_put_all(j->ds, j->l.v, j->revs, j->l.n, &done);

	if (e == -ESTALE && !done)
		fprintf(stderr,
			"Failed to %s any resources: the datastore changed while "
			"%s (another writer?); nothing was %s\n",
			verb, verbs[w->mode].doing,
			w->mode == WRITE_DELETE ? "deleted" : "written");
	else if (e < 0 && ds_etcd(j->ds) && !done)
		fprintf(stderr, "Failed to %s any resources: nothing was %s\n", verb,
			w->mode == WRITE_DELETE ? "deleted" : "written");
	else if (e < 0)
		fprintf(stderr,
			"Partial success: %s the first %zu out of %zu resources:\n"
			"Hit error: %s\n",
			verbs[w->mode].done, done, j->l.n, write_error(e));
	if (e < 0)
		return e;
	if (kind)
		printf("Successfully %s %zu '%s' resource(s)\n", verbs[w->mode].done, j->todo,
		       kind);
	else
		printf("Successfully %s %zu resource(s)\n", verbs[w->mode].done, j->todo);
	return 0;
}

static int job_alloc(const struct write_req *w, struct write_job *j)
{
	size_t n = j->l.n;

	j->revs = calloc(n, sizeof(*j->revs));
	if (w->confirm_within) {
		j->undo.put = calloc(n, sizeof(*j->undo.put));
		j->undo.del = calloc(n, sizeof(*j->undo.del));
	}
	if (!j->revs || (w->confirm_within && (!j->undo.put || !j->undo.del))) {
		fprintf(stderr, "%s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

static void job_clear(struct write_job *j)
{
	for (size_t i = 0; i < j->undo.n_put; i++)
		resource_free(j->undo.put[i]);
	free(j->undo.put);
	free(j->undo.del);
	free(j->revs);
	ds_free(j->ds);
	resource_list_clear(&j->l);
}

/* Checks and writes under the store lock; the confirmation helper is
 * armed once the write is sure to be tried. */
static int write_locked(struct ctx *ctx, const struct write_req *w, struct write_job *j,
			struct confirm *armed, bool *is_armed)
{
	int r;

	r = ds_lock(j->ds);
	if (r < 0) {
		fprintf(stderr, "Failed to lock the datastore: %s\n", strerror(-r));
		return r;
	}
	r = tiers_check(j->ds, &j->l, w->mode == WRITE_DELETE);
	if (r == 0)
		r = check_all(w, j);
	if (r == 0 && w->confirm_within) {
		r = confirm_arm(ctx, table_name(ctx), w->confirm_within, &j->undo, armed);
		*is_armed = r == 0;
	}
	if (r == 0)
		r = write_all(w, j);
	if (r < 0 && *is_armed)
		confirm_done(armed, false);
	ds_unlock(j->ds);
	return r;
}

/* Returns 0 or -errno, having printed why. */
static int write_run(struct ctx *ctx, const struct write_req *w)
{
	struct write_job j = { 0 };
	struct confirm armed = { .fd = -1 };
	bool is_armed = false;
	int r;

	r = load(w, &j.l);
	if (r == 0)
		r = ds_open(ctx, &j.ds);
	if (r == 0)
		r = ds_writable(j.ds);
	if (r == 0 && w->confirm_within)
		r = confirm_usable(j.ds, w->no_sync);
	if (r == 0)
		r = job_alloc(w, &j);
	if (r == 0)
		r = write_locked(ctx, w, &j, &armed, &is_armed);
	/* with etcd, the nodes' daemons take the change from their watch */
	if (r == 0 && !w->no_sync && !ds_etcd(j.ds))
		r = after_write_sync(ctx, is_armed ? &armed : NULL);
	job_clear(&j);
	return r;
}

static int cmd_write(struct ctx *ctx, int argc, char **argv, enum write_mode m)
{
	struct write_req w = { .mode = m };

	if (parse(ctx, argc, argv, &w) < 0)
		return EXIT_USAGE;
	if (w.help)
		return EXIT_OK;
	return write_run(ctx, &w) < 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_apply(struct ctx *ctx, int argc, char **argv)
{
	return cmd_write(ctx, argc, argv, WRITE_APPLY);
}

int cmd_create(struct ctx *ctx, int argc, char **argv)
{
	return cmd_write(ctx, argc, argv, WRITE_CREATE);
}

int cmd_replace(struct ctx *ctx, int argc, char **argv)
{
	return cmd_write(ctx, argc, argv, WRITE_REPLACE);
}

int cmd_delete(struct ctx *ctx, int argc, char **argv)
{
	return cmd_write(ctx, argc, argv, WRITE_DELETE);
}
