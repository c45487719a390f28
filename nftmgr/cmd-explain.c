/* SPDX-License-Identifier: GPL-2.0-or-later */
/* explain: which policy and rule decide a packet's fate on this node. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s explain [--in IFACE] [--out IFACE] --src ADDR --dst ADDR\n"
		"       [--proto tcp|udp|sctp|icmp|icmpv6|NUM] [--sport N] [--dport N]\n"
		"       [--icmp-type N] [--icmp-code N] [-f PATH ...] [--local-address IFACE=IP ...]\n\n"
		"Walk the first packet of a connection through the ruleset this node gets\n"
		"(from the datastore, or from -f PATH) and print the chains and rules it\n"
		"meets and the policy and rule that decide. --in alone: a packet for this\n"
		"host; --out alone: from it; both: forwarded.\n", prog);
}

/* Fills the address and returns its family (4, 6), or -1. */
static int addr_arg(const char *s, uint8_t *a)
{
	if (inet_pton(AF_INET, s, a) == 1)
		return 4;
	return inet_pton(AF_INET6, s, a) == 1 ? 6 : -1;
}

static int parse(struct ctx *ctx, int argc, char **argv, struct model_packet *p,
		 struct node_input *in)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' }, { "out", required_argument, NULL, 'o' },
		{ "src", required_argument, NULL, 's' }, { "dst", required_argument, NULL, 'd' },
		{ "proto", required_argument, NULL, 'p' }, { "sport", required_argument, NULL, 'S' },
		{ "dport", required_argument, NULL, 'D' },
		{ "icmp-type", required_argument, NULL, 't' },
		{ "icmp-code", required_argument, NULL, 'c' },
		{ "filename", required_argument, NULL, 'f' },
		{ "local-address", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c, fs = 0, fd = 0, v = 0;

	in->paths = calloc((size_t)argc + 1, sizeof(*in->paths));
	if (!in->paths)
		return EXIT_FAIL;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': p->iif = optarg; break;
		case 'o': p->oif = optarg; break;
		case 's': v = fs = addr_arg(optarg, p->saddr); break;
		case 'd': v = fd = addr_arg(optarg, p->daddr); break;
		case 'p': v = proto_from_arg(optarg); p->proto = (uint8_t)(v < 0 ? 0 : v); break;
		case 'S': v = num_from_arg(optarg, 65535); p->sport = (uint16_t)(v < 0 ? 0 : v); break;
		case 'D': v = num_from_arg(optarg, 65535); p->dport = (uint16_t)(v < 0 ? 0 : v); break;
		case 't': v = p->icmp_type = num_from_arg(optarg, 255); break;
		case 'c': v = p->icmp_code = num_from_arg(optarg, 255); break;
		case 'f': in->paths[in->n_paths++] = optarg; break;
		case 'L':
			v = iface_from_arg(optarg, &in->ifs, &in->n_ifs) == 0 ? 0 : -1;
			in->own_ifs = true;
			break;
		case 'h': usage(stdout, ctx->prog); return EXIT_OK;
		default: usage(stderr, ctx->prog); return EXIT_USAGE;
		}
		if (v < 0) {
			fprintf(stderr, "explain: bad value '%s'\n", optarg);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || fs <= 0 || fd <= 0 || fs != fd || (!p->iif && !p->oif)) {
		fprintf(stderr, "explain needs --src and --dst of one family, and --in or --out\n");
		usage(stderr, ctx->prog);
		return EXIT_USAGE;
	}
	p->family = (uint8_t)fs;
	return -1;
}

int cmd_explain(struct ctx *ctx, int argc, char **argv)
{
	struct model_packet p = { .proto = 6, .icmp_type = -1, .icmp_code = 0 };
	struct node_input in = { 0 };
	struct model_table *t = NULL;
	struct model_explain e;
	int ret = parse(ctx, argc, argv, &p, &in);

	if (ret >= 0)
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
