/* SPDX-License-Identifier: GPL-2.0-or-later */
/* validate: resource files checked as apply would, nothing stored. */
#include <getopt.h>
#include <stdio.h>

#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s validate -f PATH [-f PATH ...]\n\n"
		"Check resources without storing or applying them. Every problem is\n"
		"printed as FILE:LINE:COLUMN: KIND/NAME: FIELD: MESSAGE.\n",
		prog);
}

int cmd_validate(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	unsigned paths = 0;
	bool bad = false;
	const char *kind;
	int c;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			paths++;
			bad |= ruleset_load_path(optarg, &l, &d) < 0;
		} else if (c == 'h') {
			return usage(stdout, ctx->prog), EXIT_OK;
		} else {
			return usage(stderr, ctx->prog), EXIT_USAGE;
		}
	}
	if (!paths || optind != argc) {
		resource_list_clear(&l);
		diags_clear(&d);
		return usage(stderr, ctx->prog), EXIT_USAGE;
	}
	print_diags(&d);
	if (!bad) {
		kind = common_kind(l.v, l.n);
		if (kind)
			printf("Successfully validated %zu '%s' resource(s)\n", l.n, kind);
		else
			printf("Successfully validated %zu resource(s)\n", l.n);
	}
	resource_list_clear(&l);
	diags_clear(&d);
	return bad ? EXIT_FAIL : EXIT_OK;
}
