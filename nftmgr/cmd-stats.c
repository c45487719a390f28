/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stats: the kernel's counters per endpoint and stage, rule by rule. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "netlink.h"
#include "nftmgr.h"
#include "table.h"

static bool endpoint_chain(const char *chain)
{
	static const char *const stages[] = {
		"untracked-in-", "untracked-out-", "prednat-in-", "filter-in-", "filter-out-",
		"forward-in-",	 "forward-out-",   "wl-from-",	  "wl-to-",
	};

	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		if (strncmp(chain, stages[i], strlen(stages[i])) == 0)
			return true;
	return false;
}

int cmd_stats(struct ctx *ctx, int argc, char **argv)
{
	struct counters c;
	struct table t = { .n_cols = 4 };
	const char *head[] = { "CHAIN", "RULE", "PACKETS", "BYTES" };
	int r;

	if (argc > 1) {
		bool help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");

		fprintf(help ? stdout : stderr,
			"Usage: %s stats\n\nThe kernel's counters of "
			"this node's table, per endpoint and stage, rule by rule.\n",
			ctx->prog);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	r = counters_load(ctx, &c);
	if (r < 0) {
		fprintf(stderr, "Failed to read the counters of table inet %s: %s\n",
			table_name(ctx), strerror(-r));
		return EXIT_FAIL;
	}
	table_add(&t, head);
	for (size_t i = 0; i < c.n; i++) {
		char p[32], b[32];
		const char *row[4] = { c.v[i].chain, c.v[i].comment ? c.v[i].comment : "-", p, b };

		if (!endpoint_chain(c.v[i].chain))
			continue;
		snprintf(p, sizeof(p), "%" PRIu64, c.v[i].packets);
		snprintf(b, sizeof(b), "%" PRIu64, c.v[i].bytes);
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_clear(&t);
	counters_clear(&c);
	return EXIT_OK;
}
