/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A compiled rule (struct crule) to one model rule: protocol, addresses
 * and ports (literal or in a shared set owned by the rule), ICMP, and the
 * action as the stage ends it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-internal.h"

/* "<chain>.<rule>.<match>": the name a rule's new set gets. */
static void set_owner(const struct model_chain *ch, const struct model_rule *nr, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s.%zu.%zu", ch->name, ch->n_rules - 1, nr->n_m);
}

static void emit_addrs(struct cctx *c, struct model_chain *ch, struct model_rule *nr,
		       enum model_match_kind k, int family, struct addrs *a, bool neg)
{
	struct model_match m = { .kind = k, .neg = neg, .family = (uint8_t)family };
	size_t w = family == 4 ? 4 : 16;
	unsigned len;

	if (!a->constrained || (neg && a->n == 0))
		return;
	a->n = model_elems_normalise(a->e, a->n, w);
	/* Endpoint addresses stay in a set even when there is one, so that
	 * pods coming and going change set elements, never rules. */
	if (a->n == 1 && !a->selector && model_range_is_prefix(&a->e[0], w, &len)) {
		m.prefix.family = family == 4 ? AF_INET : AF_INET6;
		m.prefix.len = (uint8_t)len;
		memcpy(m.prefix.addr, a->e[0].lo, w);
		rule_match(c, nr, &m);
		return;
	}
	{
		char owner[300];

		set_owner(ch, nr, owner, sizeof(owner));
		m.set = (char *)set_intern_normal(c, family == 4 ? MODEL_KEY_IPV4 : MODEL_KEY_IPV6,
						  true, a->e, a->n, owner, true);
	}
	a->e = NULL;
	a->n = 0;
	a->cap = 0;
	if (m.set)
		rule_match(c, nr, &m);
}

static void emit_ports(struct cctx *c, struct model_chain *ch, struct model_rule *nr,
		       enum model_match_kind k, struct model_elem **e, size_t *n, bool neg)
{
	struct model_match m = { .kind = k, .neg = neg };

	if (!*e)
		return;
	*n = model_elems_normalise(*e, *n, 2);
	if (*n == 1) {
		m.lo = (uint16_t)((*e)[0].lo[0] << 8 | (*e)[0].lo[1]);
		m.hi = (uint16_t)((*e)[0].hi[0] << 8 | (*e)[0].hi[1]);
		rule_match(c, nr, &m);
		return;
	}
	{
		char owner[300];

		set_owner(ch, nr, owner, sizeof(owner));
		m.set = (char *)set_intern_normal(c, MODEL_KEY_PORT, true, *e, *n, owner, true);
	}
	*e = NULL;
	*n = 0;
	if (m.set)
		rule_match(c, nr, &m);
}

static void emit_icmp(struct cctx *c, struct model_rule *nr, const struct icmp *i, int family,
		      bool neg)
{
	struct model_match m = { .kind = MODEL_M_ICMP,
				 .neg = neg,
				 .family = (uint8_t)family,
				 .num = i->type,
				 .has_code = i->has_code,
				 .code = i->code };

	if (!i->set || !i->has_type)
		return;
	/* A raw two-byte compare has no implicit protocol dependency. */
	if (neg && i->has_code) {
		bool have = false;

		for (size_t k = 0; k < nr->n_m; k++)
			have |= nr->m[k].kind == MODEL_M_L4PROTO && !nr->m[k].neg;
		if (!have)
			rule_match(c, nr,
				   &(struct model_match){ .kind = MODEL_M_L4PROTO,
							  .num = family == 6 ? 58 : 1 });
	}
	rule_match(c, nr, &m);
}

static void emit_action(struct cctx *c, struct model_rule *nr, enum action a)
{
	switch (a) {
	case ACTION_ALLOW:
		if (c->mode != MODE_FILTER) {
			nr->mark_set = true;
			nr->mark_and = 0xffffffffu;
			nr->mark_or = c->mark_accept;
		}
		nr->notrack = c->mode == MODE_UNTRACKED;
		rule_verdict(c, nr, c->mode == MODE_FORWARD ? MODEL_V_RETURN : MODEL_V_ACCEPT,
			     NULL);
		break;
	case ACTION_PASS:
		nr->mark_set = true;
		nr->mark_and = 0xffffffffu;
		nr->mark_or = c->mark_pass;
		rule_verdict(c, nr, MODEL_V_RETURN, NULL);
		break;
	case ACTION_DENY: rule_verdict(c, nr, MODEL_V_DROP, NULL); break;
	case ACTION_LOG:
		nr->log_prefix = strdup(c->fx.log_prefix);
		if (!nr->log_prefix)
			c->err = -ENOMEM;
		break;
	case ACTION_MAX: break;
	}
}

/* A rule of one family with no address or ICMP match says so with
 * meta nfproto, placed first. */
static void need_family(struct cctx *c, struct model_rule *nr, int f)
{
	for (size_t i = 0; i < nr->n_m; i++)
		if (nr->m[i].kind == MODEL_M_SADDR || nr->m[i].kind == MODEL_M_DADDR ||
		    nr->m[i].kind == MODEL_M_ICMP)
			return;
	rule_match(c, nr, &(struct model_match){ .kind = MODEL_M_NFPROTO, .num = (uint32_t)f });
	if (c->err || nr->n_m < 2)
		return;
	{
		struct model_match m = nr->m[nr->n_m - 1];

		memmove(&nr->m[1], &nr->m[0], (nr->n_m - 1) * sizeof(m));
		nr->m[0] = m;
	}
}

void crule_emit(struct cctx *c, struct model_chain *ch, struct crule *r, const char *what,
		const char *name, enum dir dir)
{
	char comment[240];
	struct model_rule *nr;
	int f = r->family;

	char tier[80] = "";

	/* a policy of a tier other than default says so: explain and trace
	 * print the deciding rule's comment */
	if (c->cur_tier)
		snprintf(tier, sizeof(tier), " (tier %s)", c->cur_tier);
	if (r->first == r->last)
		snprintf(comment, sizeof(comment), "%s %s %s rule %u%s", what, name,
			 dir == DIR_IN ? "ingress" : "egress", r->first, tier);
	else
		snprintf(comment, sizeof(comment), "%s %s %s rules %u-%u%s", what, name,
			 dir == DIR_IN ? "ingress" : "egress", r->first, r->last, tier);
	nr = rule_add(c, ch, comment);
	if (!nr)
		return;
	if (r->proto.set)
		rule_match(c, nr,
			   &(struct model_match){ .kind = MODEL_M_L4PROTO, .num = r->proto.num });
	if (r->not_proto.set)
		rule_match(c, nr,
			   &(struct model_match){
				   .kind = MODEL_M_L4PROTO, .neg = true, .num = r->not_proto.num });
	emit_addrs(c, ch, nr, MODEL_M_SADDR, f, &r->src[0], false);
	emit_addrs(c, ch, nr, MODEL_M_SADDR, f, &r->src_sel[0], false);
	emit_addrs(c, ch, nr, MODEL_M_SADDR, f, &r->src[1], true);
	emit_addrs(c, ch, nr, MODEL_M_SADDR, f, &r->src_sel[1], true);
	emit_addrs(c, ch, nr, MODEL_M_DADDR, f, &r->dst[0], false);
	emit_addrs(c, ch, nr, MODEL_M_DADDR, f, &r->dst_sel[0], false);
	emit_addrs(c, ch, nr, MODEL_M_DADDR, f, &r->dst[1], true);
	emit_addrs(c, ch, nr, MODEL_M_DADDR, f, &r->dst_sel[1], true);
	emit_ports(c, ch, nr, MODEL_M_SPORT, &r->sport[0], &r->n_sport[0], false);
	emit_ports(c, ch, nr, MODEL_M_SPORT, &r->sport[1], &r->n_sport[1], true);
	emit_ports(c, ch, nr, MODEL_M_DPORT, &r->dport[0], &r->n_dport[0], false);
	emit_ports(c, ch, nr, MODEL_M_DPORT, &r->dport[1], &r->n_dport[1], true);
	emit_icmp(c, nr, &r->icmp, f ? f : (r->proto.num == 58 ? 6 : 4), false);
	emit_icmp(c, nr, &r->not_icmp, f ? f : (r->proto.num == 58 ? 6 : 4), true);
	emit_action(c, nr, r->action);
	if (f)
		need_family(c, nr, f);
}
