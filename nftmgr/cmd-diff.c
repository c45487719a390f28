/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff: what a sync would change in the kernel. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "netlink.h"
#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--node NAME] diff [-f PATH ...] [--local-address IFACE=IP ...]\n\n"
		"Read this node's nftmgr table back from the kernel and print what a sync\n"
		"would add (+), change (~) and remove (-). Sends nothing.\n", prog);
}

int cmd_diff(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "local-address", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct node_input in = { 0 };
	struct nl_commit_result res;
	struct nft_table *t = NULL;
	int c, ret = EXIT_FAIL;

	in.paths = calloc((size_t)argc + 1, sizeof(*in.paths));
	if (!in.paths)
		return EXIT_FAIL;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			in.paths[in.n_paths++] = optarg;
		} else if (c == 'L' && iface_from_arg(optarg, &in.ifs, &in.n_ifs) == 0) {
			in.own_ifs = true;
		} else {
			ret = c == 'h' ? EXIT_OK : EXIT_USAGE;
			usage(c == 'h' ? stdout : stderr, ctx->prog);
			goto out;
		}
	}
	if (optind != argc) {
		usage(stderr, ctx->prog);
		ret = EXIT_USAGE;
		goto out;
	}
	if (node_table(ctx, &in, &t, NULL) < 0)
		goto out;
	if (nl_sync(t, stdout, &res) < 0) {
		fprintf(stderr, "Failed to diff table inet %s: %s\n", t->name, res.error);
		goto out;
	}
	ret = EXIT_OK;
out:
	nft_table_free(t);
	node_input_clear(&in);
	return ret;
}
