/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table nftmgr trace adds for as long as it runs: one chain before
 * everything else on prerouting and one on output (priority -350, ahead
 * of raw's -300), each with one rule that marks the packets matching the
 * operator's filter with nftrace. The kernel then reports those packets'
 * path through every table; nftmgr trace reads it for ours.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "compile-internal.h"

#define TRACE_PRIO (-350)

static void filter_rule(struct cctx *c, struct model_chain *ch, const struct trace_filter *f,
			bool output)
{
	struct model_rule *r = rule_add(c, ch, "nftmgr trace");
	const struct cidr *a[2] = { f->has_src ? &f->src : NULL, f->has_dst ? &f->dst : NULL };

	if (!r)
		return;
	if (!output && f->iif)
		rule_match(c, r,
			   &(struct model_match){ .kind = MODEL_M_IIFNAME,
						  .ifname = (char *)f->iif });
	if (f->oif && output)
		rule_match(c, r,
			   &(struct model_match){ .kind = MODEL_M_OIFNAME,
						  .ifname = (char *)f->oif });
	for (int i = 0; i < 2; i++)
		if (a[i])
			rule_match(c, r,
				   &(struct model_match){ .kind = i ? MODEL_M_DADDR : MODEL_M_SADDR,
							  .prefix = prefix_of(a[i]),
							  .family = a[i]->family == AF_INET ? 4
											    : 6 });
	if (f->proto)
		rule_match(c, r, &(struct model_match){ .kind = MODEL_M_L4PROTO, .num = f->proto });
	if (f->sport)
		rule_match(c, r,
			   &(struct model_match){
				   .kind = MODEL_M_SPORT, .lo = f->sport, .hi = f->sport });
	if (f->dport)
		rule_match(c, r,
			   &(struct model_match){
				   .kind = MODEL_M_DPORT, .lo = f->dport, .hi = f->dport });
	r->nftrace = true;
}

int compile_trace_table(const char *name, const struct trace_filter *f, struct model_table **ret)
{
	struct model_table *t = calloc(1, sizeof(*t));
	struct cctx c = { .t = t };

	if (!t || !(t->name = strdup(name))) {
		free(t);
		return -ENOMEM;
	}
	if ((f->sport || f->dport) && f->proto != 6 && f->proto != 17 && f->proto != 132) {
		model_table_free(t);
		return -EINVAL;
	}
	/* An input interface is not known on output, nor an output one
	 * on prerouting (forwarded packets are marked there by --in). */
	if (!f->oif || f->iif)
		filter_rule(&c,
			    chain_add(&c, "trace-prerouting", MODEL_HOOK_PREROUTING, TRACE_PRIO), f,
			    false);
	if (!f->iif)
		filter_rule(&c, chain_add(&c, "trace-output", MODEL_HOOK_OUTPUT, TRACE_PRIO), f,
			    true);
	name_index_free(&c.chain_ix);
	name_index_free(&c.set_ix);
	if (c.err) {
		model_table_free(t);
		return c.err;
	}
	*ret = t;
	return 0;
}
