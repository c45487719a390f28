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
		"host; --out alone: from it; both: forwarded.\n"
		"--staged: then the same with the staged policies in force (a Set one\n"
		"replaces the enforced policy of its name or adds it, a Delete one\n"
		"removes it), and both verdicts.\n",
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
		 struct node_input *in, bool *help, bool *staged)
{
	static const struct option opts[] = {
		PACKET_LONG_OPTIONS,
		{ "icmp-type", required_argument, NULL, 't' },
		{ "icmp-code", required_argument, NULL, 'c' },
		{ "filename", required_argument, NULL, 'f' },
		{ "local-address", required_argument, NULL, 'L' },
		{ "staged", no_argument, NULL, 'G' },
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
		case 'G': *staged = true; break;
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

/* Whether enforced e is the policy staged st stands for (a staged
 * Kubernetes policy <name> stands for knp.default.<name>). */
static bool same_name(const struct resource *e, const struct resource *st)
{
	const char *n = e->name;

	if (st->kind == RES_STAGED_K8S_NETWORK_POLICY) {
		if (strncmp(n, "knp.default.", 12) != 0)
			return false;
		n += 12;
	}
	return strcmp(n, st->name) == 0 &&
	       strcmp(e->namespace ? e->namespace : "", st->namespace ? st->namespace : "") == 0;
}

/* The staged policies of l put in force: each takes the place of the
 * enforced policy of its kind and name (Set, and Learn and Ignore, which
 * Felix treats as Set) or removes it (Delete). */
static void staged_in_force(struct resource_list *l, size_t *n_set, size_t *n_del)
{
	size_t w = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct resource *st = l->v[i];

		if (!st || !kind_is_staged(st->kind))
			continue;
		for (size_t k = 0; k < l->n; k++)
			if (l->v[k] && l->v[k]->kind == kind_enforced(st->kind) &&
			    same_name(l->v[k], st))
				l->v[k] = resource_free(l->v[k]);
		if (st->u.policy.staged_action == STAGED_DELETE) {
			l->v[i] = resource_free(st);
			(*n_del)++;
		} else {
			char *knp = NULL;

			if (st->kind == RES_STAGED_K8S_NETWORK_POLICY &&
			    asprintf(&knp, "knp.default.%s", st->name) > 0) {
				free(st->name);
				st->name = knp;
			}
			st->kind = kind_enforced(st->kind);
			(*n_set)++;
		}
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i])
			l->v[w++] = l->v[i];
	l->n = w;
}

static int explain_one(struct ctx *ctx, struct node_input *in, struct resource_list *l,
		       const struct model_packet *p, struct model_explain *e)
{
	struct model_table *t = NULL;
	int r = node_compile(ctx, in, l->v, l->n, &t, NULL);

	if (r == 0)
		r = model_explain(t, p, stdout, e);
	if (r == 0)
		printf("verdict: %s, by %s%s%s\n", e->accepted ? "accept" : "drop", e->why,
		       e->chain[0] ? " in chain " : "", e->chain);
	model_table_free(t);
	return r;
}

/* Today's verdict, then the one with the staged policies in force. */
static int explain_staged(struct ctx *ctx, struct node_input *in, const struct model_packet *p)
{
	struct resource_list l = { 0 };
	struct model_explain now, staged;
	size_t n_set = 0, n_del = 0;
	int r = load_resources(ctx, in->paths, in->n_paths, &l);

	if (r == 0)
		r = explain_one(ctx, in, &l, p, &now);
	if (r == 0) {
		staged_in_force(&l, &n_set, &n_del);
		printf("\nwith the staged policies in force (%zu set, %zu deleted):\n", n_set,
		       n_del);
		r = explain_one(ctx, in, &l, p, &staged);
	}
	if (r == 0)
		printf("\nstaged: %s -> %s%s\n", now.accepted ? "accept" : "drop",
		       staged.accepted ? "accept" : "drop",
		       now.accepted == staged.accepted ? " (no change)" : " (changes)");
	resource_list_clear(&l);
	return r;
}

int cmd_explain(struct ctx *ctx, int argc, char **argv)
{
	struct model_packet p = { .proto = 6, .icmp_type = -1, .icmp_code = 0 };
	struct node_input in = { 0 };
	struct model_table *t = NULL;
	struct model_explain e;
	bool help = false, staged = false;
	int ret = EXIT_USAGE;

	if (parse(ctx, argc, argv, &p, &in, &help, &staged) < 0)
		goto out;
	ret = EXIT_OK;
	if (help)
		goto out;
	ret = EXIT_FAIL;
	if (staged) {
		ret = explain_staged(ctx, &in, &p) == 0 ? EXIT_OK : EXIT_FAIL;
		goto out;
	}
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
