/* SPDX-License-Identifier: GPL-2.0-or-later */
/* explain: which policy and rule decide a packet's fate on this node. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s explain [--in IFACE] [--out IFACE] --src ADDR --dst ADDR\n"
		"       [--proto tcp|udp|sctp|icmp|icmpv6|NUM] [--sport N] [--dport N]\n"
		"       [--icmp-type N] [--icmp-code N] [-f PATH ...] [--local-address IFACE=IP ...]\n\n"
		"Walk the first packet of a connection through the ruleset this node gets\n"
		"(from the datastore, or from -f PATH) and print the chains and rules it\n"
		"meets and the policy and rule that decide. --in alone: a packet for this\n"
		"host; --out alone: from it; both: forwarded.\n",
		prog);
}

/* The packet options to explain's packet: addresses, not prefixes. */
static int packet_from_args(const struct packet_args *pa, struct model_packet *p)
{
	unsigned full = pa->src.family == AF_INET ? 32 : 128;

	if (!pa->has_src || !pa->has_dst || pa->src.len != full || pa->dst.len != full ||
	    (!pa->iif && !pa->oif)) {
		fprintf(stderr, "explain needs --src and --dst addresses of one family, "
				"and --in or --out\n");
		return -EINVAL;
	}
	p->family = pa->src.family == AF_INET ? 4 : 6;
	memcpy(p->saddr, pa->src.addr, sizeof(p->saddr));
	memcpy(p->daddr, pa->dst.addr, sizeof(p->daddr));
	p->iif = pa->iif;
	p->oif = pa->oif;
	p->proto = pa->has_proto ? pa->proto : 6;
	p->sport = pa->sport;
	p->dport = pa->dport;
	return 0;
}

/* Returns 0 (*help: --help was printed) or -EINVAL after printing why. */
static int parse(struct ctx *ctx, int argc, char **argv, struct model_packet *p,
		 struct node_input *in, bool *help)
{
	static const struct option opts[] = {
		PACKET_LONG_OPTIONS,
		{ "icmp-type", required_argument, NULL, 't' },
		{ "icmp-code", required_argument, NULL, 'c' },
		{ "filename", required_argument, NULL, 'f' },
		{ "local-address", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct packet_args pa = { 0 };
	int c, v;

	in->paths = calloc((size_t)argc + 1, sizeof(*in->paths));
	if (!in->paths)
		return -ENOMEM;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		v = packet_opt(c, optarg, &pa);
		if (v < 0)
			return v;
		if (v > 0)
			continue;
		switch (c) {
		case 't': v = p->icmp_type = num_from_arg(optarg, 255); break;
		case 'c': v = p->icmp_code = num_from_arg(optarg, 255); break;
		case 'f': in->paths[in->n_paths++] = optarg; break;
		case 'L':
			v = iface_from_arg(optarg, &in->ifs, &in->n_ifs) == 0 ? 0 : -1;
			in->own_ifs = true;
			break;
		case 'h':
			usage(stdout, ctx->prog);
			*help = true;
			return 0;
		default: usage(stderr, ctx->prog); return -EINVAL;
		}
		if (v < 0) {
			fprintf(stderr, "bad value '%s'\n", optarg);
			return -EINVAL;
		}
	}
	if (optind != argc || packet_args_check(&pa) < 0 || packet_from_args(&pa, p) < 0) {
		usage(stderr, ctx->prog);
		return -EINVAL;
	}
	return 0;
}

int cmd_explain(struct ctx *ctx, int argc, char **argv)
{
	struct model_packet p = { .proto = 6, .icmp_type = -1, .icmp_code = 0 };
	struct node_input in = { 0 };
	struct model_table *t = NULL;
	struct model_explain e;
	bool help = false;
	int ret = EXIT_USAGE;

	if (parse(ctx, argc, argv, &p, &in, &help) < 0)
		goto out;
	ret = EXIT_OK;
	if (help)
		goto out;
	ret = EXIT_FAIL;
	if (node_table(ctx, &in, &t, NULL) < 0)
		goto out;
	if (model_explain(t, &p, stdout, &e) == 0) {
		printf("verdict: %s, by %s%s%s\n", e.accepted ? "accept" : "drop", e.why,
		       e.chain[0] ? " in chain " : "", e.chain);
		ret = EXIT_OK;
	}
out:
	model_table_free(t);
	node_input_clear(&in);
	return ret;
}
