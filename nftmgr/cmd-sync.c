/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sync: datastore (or files) -> this node's kernel, in one transaction. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netlink.h"
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

static double ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
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
	struct nl_commit_result res;
	struct compile_stats st = { 0 };
	struct nft_table *t = NULL;
	struct timespec t0, t1, t2;
	bool full = false;
	int c, ret = EXIT_FAIL, r;

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
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (node_table(ctx, &in, &t, &st) < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r = full ? nl_commit_replace(t, &res) : nl_sync(t, NULL, &res);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (r < 0) {
		fprintf(stderr, "Failed to sync table inet %s: %s\n", t->name, res.error);
		goto out;
	}
	if (!res.messages)
		printf("Table inet %s is up to date: nothing sent\n", t->name);
	else
		printf("Synced table inet %s: %zu chains, %zu rules, %zu sets, %zu elements; "
		       "sent %zu messages, %zu bytes in one transaction%s\n", t->name,
		       st.chains, st.rules, st.sets, st.elements, res.messages, res.bytes,
		       res.retries ? " (after a concurrent change)" : "");
	printf("  load and compile %.1f ms, read back, diff and commit %.1f ms\n",
	       ms(&t0, &t1), ms(&t1, &t2));
	ret = EXIT_OK;
out:
	nft_table_free(t);
	node_input_clear(&in);
	return ret;
}
