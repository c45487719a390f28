/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * export: the ruleset this node would get, as an nft -f script, from files
 * or from the datastore. Needs no privilege and touches no kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [--node NAME] export [-f PATH ...] [--local-address IFACE=IP ...]\n\n"
		"Print the nftables ruleset this node would get, as an nft -f script that\n"
		"replaces the previous nftmgr table in one transaction. Resources come from\n"
		"PATH (files, directories, -), or from the datastore without -f.\n"
		"Host endpoints that name expectedIPs but no interface are matched against\n"
		"this machine's addresses, or against --local-address IFACE=IP instead.\n",
		prog);
}

int cmd_export(struct ctx *ctx, int argc, char **argv)
{
	struct node_input in = { 0 };
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
	printf("#!/usr/sbin/nft -f\n# nftmgr %s: the ruleset of node %s. Generated; do not edit.\n\n",
	       NFTMGR_VERSION, node_name(ctx));
	if (model_table_print(t, stdout) < 0 || fflush(stdout) != 0)
		goto out;
	ret = EXIT_OK;
out:
	model_table_free(t);
	node_input_clear(&in);
	return ret;
}
