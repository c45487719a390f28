/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sync: datastore (or files) -> this node's kernel, in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--node NAME] sync [-f PATH ...] [--local-address IFACE=IP ...] [--full]\n"
		"       [--confirm-within DURATION]\n\n"
		"Bring this node's nftmgr table in the kernel to the ruleset compiled from\n"
		"the datastore (or from PATH), in one atomic netlink transaction that\n"
		"carries only what differs (nothing, when nothing does). --full replaces\n"
		"the whole table instead. Nothing outside the table is touched; on\n"
		"failure nothing changes.\n\n"
		"--confirm-within 60s (or 2m, up to 1 h): unless 'nftmgr confirm' is run\n"
		"in time, the table is put back as it was before this sync, atomically,\n"
		"by a helper that outlives this command and its connection.\n",
		prog);
}

int cmd_sync(struct ctx *ctx, int argc, char **argv)
{
	struct node_input in = { 0 };
	bool full = false;
	int ret = node_args(ctx, argc, argv, &in, &full, usage);

	if (ret < 0)
		ret = sync_node(ctx, &in, full) < 0 ? EXIT_FAIL : EXIT_OK;
	node_input_clear(&in);
	return ret;
}
