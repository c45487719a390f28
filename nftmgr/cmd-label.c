/* SPDX-License-Identifier: GPL-2.0-or-later */
/* label: set, update or remove one label of a stored resource, with
 * calicoctl's rules and messages. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftmgr.h"

struct label_req {
	const char *kind, *name; /* as typed, for messages */
	char *key;
	const char *value; /* NULL: --remove */
	bool overwrite;
	bool updated; /* the key was there */
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s label KIND NAME KEY=VALUE [--overwrite] [-n NAMESPACE] [--no-sync]\n"
		"       %s label KIND NAME KEY --remove [-n NAMESPACE] [--no-sync]\n\n"
		"Set a label on a stored resource (--overwrite to change an existing\n"
		"value), or remove one. Key and value follow Kubernetes' label syntax.\n",
		prog, prog);
}

/* The change as a merge patch: {"metadata": {"labels": {key: value|null}}}. */
static char *label_patch(const struct label_req *l)
{
	json_t *v = l->value ? json_string(l->value) : json_null();
	json_t *doc = json_pack("{s:{s:{s:o}}}", "metadata", "labels", l->key, v);
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	return s;
}

static int label_fn(const struct resource *old, struct resource **ret, void *data)
{
	struct label_req *l = data;
	const char *now = labels_get(&old->labels, l->key);
	struct diags d = { 0 };
	char *patch;
	int e;

	if (!l->value && !now) {
		fprintf(stderr, "cannot remove label of %s %s, key %s does not exist\n", l->kind,
			l->name, l->key);
		return -ENOENT;
	}
	if (l->value && now && !l->overwrite && strcmp(now, l->value) != 0) {
		fprintf(stderr,
			"failed to update label of %s %s, key %s is already present. "
			"please use '--overwrite' to set a new value\n",
			l->kind, l->name, l->key);
		return -EEXIST;
	}
	l->updated = now != NULL;
	patch = label_patch(l);
	if (!patch)
		return -ENOMEM;
	e = resource_patch(old, patch, strlen(patch), PATCH_MERGE, ret, &d);
	free(patch);
	if (e < 0) {
		fprintf(stderr, "failed to update %s %s, label not changed:\n", l->kind, l->name);
		print_diags(&d);
	}
	diags_clear(&d);
	return e;
}

static void label_done(void *data)
{
	const struct label_req *l = data;

	if (!l->value)
		printf("Successfully removed label %s from %s %s\n", l->key, l->kind, l->name);
	else
		printf("Successfully %s label %s on %s %s\n", l->updated ? "updated" : "set",
		       l->key, l->kind, l->name);
}

/* Returns 0 (*help: --help was printed) or -EINVAL after printing why. */
static int parse(struct ctx *ctx, int argc, char **argv, struct label_req *l, struct modify *m,
		 bool *help)
{
	static const struct option opts[] = {
		{ "overwrite", no_argument, NULL, 'o' },
		{ "remove", no_argument, NULL, 'r' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "no-sync", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool remove = false;
	char *eq;
	int c;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		if (c == 'o')
			l->overwrite = true;
		else if (c == 'r')
			remove = true;
		else if (c == 'n')
			m->ns = optarg;
		else if (c == 'S')
			m->no_sync = true;
		else if (c == 'h')
			return usage(stdout, ctx->prog), *help = true, 0;
		else
			return usage(stderr, ctx->prog), -EINVAL;
	}
	if (optind + 3 != argc || (remove && l->overwrite))
		return usage(stderr, ctx->prog), -EINVAL;
	m->kind = l->kind = argv[optind];
	m->name = l->name = argv[optind + 1];
	l->key = argv[optind + 2];
	eq = strchr(l->key, '=');
	if (!remove && !eq) {
		fprintf(stderr, "invalid label %s\n", l->key);
		return -EINVAL;
	}
	if (eq) {
		*eq = '\0'; /* argv is ours to change */
		l->value = eq + 1;
	}
	if (remove && eq) {
		fprintf(stderr, "--remove takes a KEY, not KEY=VALUE\n");
		return -EINVAL;
	}
	return 0;
}

int cmd_label(struct ctx *ctx, int argc, char **argv)
{
	struct label_req l = { 0 };
	struct modify m = { .verb = "label", .fn = label_fn, .done = label_done, .data = &l };
	bool help = false;

	if (parse(ctx, argc, argv, &l, &m, &help) < 0)
		return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	return modify_run(ctx, &m) < 0 ? EXIT_FAIL : EXIT_OK;
}
