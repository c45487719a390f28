/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sync: datastore (or files) -> this node's kernel, in one transaction. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--node NAME] sync [-f PATH ...] [--local-address IFACE=IP ...] [--full]\n\n"
		"Bring this node's nftmgr table in the kernel to the ruleset compiled from\n"
		"the datastore (or from PATH), in one atomic netlink transaction that\n"
		"carries only what differs (nothing, when nothing does). --full replaces\n"
		"the whole table instead. Nothing outside the table is touched; on\n"
		"failure nothing changes.\n",
		prog);
}

int cmd_sync(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "local-address", required_argument, NULL, 'L' },
		{ "full", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct node_input in = { 0 };
	bool full = false;
	int c, ret = EXIT_FAIL;

	in.paths = calloc((size_t)argc + 1, sizeof(*in.paths));
	if (!in.paths)
		return EXIT_FAIL;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			in.paths[in.n_paths++] = optarg;
		} else if (c == 'L' && iface_from_arg(optarg, &in.ifs, &in.n_ifs) == 0) {
			in.own_ifs = true;
		} else if (c == 'F') {
			full = true;
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
	if (sync_node(ctx, &in, full) < 0)
		goto out;
	ret = EXIT_OK;
out:
	node_input_clear(&in);
	return ret;
}
