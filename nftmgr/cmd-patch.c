/* SPDX-License-Identifier: GPL-2.0-or-later */
/* patch: one stored resource changed in place by a strategic merge patch
 * (calicoctl's default), a JSON Merge Patch or a JSON Patch. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "nftmgr.h"

struct patch_req {
	const char *text;
	enum patch_type type;
	const char *kind;
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s patch KIND NAME -p PATCH [-t strategic|merge|json] [-n NAMESPACE]\n"
		"       [--no-sync]\n\n"
		"Change one stored resource in place. PATCH is JSON or YAML: by default a\n"
		"strategic merge patch, as calicoctl (objects merge, lists are replaced;\n"
		"\"$patch: replace\" and \"$patch: delete\" on an object), -t merge a JSON Merge\n"
		"Patch (RFC 7386), -t json a JSON Patch (RFC 6902: add, remove, replace,\n"
		"move, copy, test). The result is validated whole; nothing is written if it\n"
		"is refused, or if the resource changed since it was read.\n",
		prog);
}

static int patch_fn(const struct resource *old, struct resource **ret, void *data)
{
	const struct patch_req *p = data;
	struct diags d = { 0 };
	int e = resource_patch(old, p->text, strlen(p->text), p->type, ret, &d);

	if (e < 0) {
		fprintf(stderr, "Failed to patch '%s' resource: %s\n", kind_info(old->kind)->kind,
			e == -ENOMEM ? strerror(ENOMEM) : "the patch is refused:");
		print_diags(&d);
	}
	diags_clear(&d);
	return e;
}

static void patch_done(void *data)
{
	const struct patch_req *p = data;
	int k = kind_from_alias(p->kind);

	printf("Successfully patched 1 '%s' resource\n", k >= 0 ? kind_info(k)->kind : p->kind);
}

int cmd_patch(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "patch", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 't' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "no-sync", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct patch_req p = { .type = PATCH_STRATEGIC };
	struct modify m = { .verb = "patch", .fn = patch_fn, .done = patch_done, .data = &p };
	int c, t;

	while ((c = getopt_long(argc, argv, "p:t:n:h", opts, NULL)) != -1) {
		if (c == 'p')
			p.text = optarg;
		else if (c == 't' && (t = patch_type_parse(optarg)) >= 0)
			p.type = (enum patch_type)t;
		else if (c == 'n')
			m.ns = optarg;
		else if (c == 'S')
			m.no_sync = true;
		else if (c == 'h')
			return usage(stdout, ctx->prog), EXIT_OK;
		else
			return usage(stderr, ctx->prog), EXIT_USAGE;
	}
	if (!p.text || optind + 2 != argc)
		return usage(stderr, ctx->prog), EXIT_USAGE;
	m.kind = p.kind = argv[optind];
	m.name = argv[optind + 1];
	return modify_run(ctx, &m) < 0 ? EXIT_FAIL : EXIT_OK;
}
