/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diff: what a sync would change in the kernel. */
#include <stdio.h>
#include <stdlib.h>

#include "netlink.h"
#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [--node NAME] diff [-f PATH ...] [--local-address IFACE=IP ...]\n\n"
		"Read this node's nftmgr table back from the kernel and print what a sync\n"
		"would add (+), change (~) and remove (-). Sends nothing.\n",
		prog);
}

int cmd_diff(struct ctx *ctx, int argc, char **argv)
{
	struct node_input in = { 0 };
	struct nl_commit_result res;
	struct model_table *t = NULL;
	int ret = EXIT_USAGE;

	if (node_args(ctx, argc, argv, &in, NULL, usage) < 0)
		goto out;
	ret = EXIT_OK;
	if (in.help)
		goto out;
	ret = EXIT_FAIL;
	if (node_table(ctx, &in, &t, NULL) < 0)
		goto out;
	if (nl_sync(t, stdout, &res) < 0) {
		fprintf(stderr, "Failed to diff table inet %s: %s\n", t->name, res.error);
		goto out;
	}
	ret = EXIT_OK;
out:
	model_table_free(t);
	node_input_clear(&in);
	return ret;
}
