/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * export: the ruleset this node would get, as an nft -f script, from files
 * or from the datastore. Needs no privilege and touches no kernel.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--node NAME] export [-f PATH ...] [--local-address IFACE=IP ...]\n\n"
		"Print the nftables ruleset this node would get, as an nft -f script that\n"
		"replaces the previous nftmgr table in one transaction. Resources come from\n"
		"PATH (files, directories, -), or from the datastore without -f.\n"
		"Host endpoints that name expectedIPs but no interface are matched against\n"
		"this machine's addresses, or against --local-address IFACE=IP instead.\n",
		prog);
}

int cmd_export(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "local-address", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct node_input in = { 0 };
	struct nft_table *t = NULL;
	int c, ret = EXIT_FAIL;

	in.paths = calloc((size_t)argc + 1, sizeof(*in.paths));
	if (!in.paths)
		return EXIT_FAIL;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			in.paths[in.n_paths++] = optarg;
		} else if (c == 'L') {
			in.own_ifs = true;
			if (iface_from_arg(optarg, &in.ifs, &in.n_ifs) < 0) {
				fprintf(stderr, "export: --local-address wants IFACE=IP, not '%s'\n",
					optarg);
				ret = EXIT_USAGE;
				goto out;
			}
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
	printf("#!/usr/sbin/nft -f\n# nftmgr %s: the ruleset of node %s. Generated; do not edit.\n\n",
	       NFTMGR_VERSION, node_name(ctx));
	if (nft_table_print(t, stdout) < 0 || fflush(stdout) != 0)
		goto out;
	ret = EXIT_OK;
out:
	nft_table_free(t);
	node_input_clear(&in);
	return ret;
}
