/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One endpoint chain per interface and stage: conntrack, neighbour
 * discovery, anti-spoofing (from a workload), failsafe ports, then a jump
 * to each policy selecting the endpoint in that stage and direction, the
 * profiles, and the default, each ended as the stage ends an Allow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-internal.h"

#define ALL_INTERFACES "all-interfaces"

static bool in_stage(const struct stage *s, const struct resource *p)
{
	const struct policy_spec *ps = &p->u.policy;
	unsigned type = s->dir == DIR_IN ? POLICY_TYPE_INGRESS : POLICY_TYPE_EGRESS;

	if (!(ps->types & type))
		return false;
	switch (s->kind) {
	case STAGE_UNTRACKED: return ps->do_not_track;
	case STAGE_PREDNAT: return ps->pre_dnat;
	case STAGE_FILTER: return !ps->do_not_track && !ps->pre_dnat;
	case STAGE_FORWARD:
		return !ps->do_not_track && !ps->pre_dnat &&
		       (ps->apply_on_forward || p->kind == RES_NETWORK_POLICY);
	case STAGE_WORKLOAD:
		/* doNotTrack and preDNAT policies are for host endpoints */
		return !ps->do_not_track && !ps->pre_dnat;
	}
	return false;
}

void mark_rule(struct cctx *c, struct model_chain *ch, uint32_t mask, uint32_t value, bool neg,
	       enum model_verdict v, const char *comment)
{
	struct model_rule *r = rule_add(c, ch, comment);

	rule_match(c, r,
		   &(struct model_match){
			   .kind = MODEL_M_MARK, .neg = neg, .mask = mask, .value = value });
	rule_verdict(c, r, v, NULL);
}

static void conntrack_rules(struct cctx *c, struct model_chain *ch)
{
	struct model_rule *r = rule_add(c, ch, "conntrack");

	rule_match(c, r,
		   &(struct model_match){ .kind = MODEL_M_CT_STATE, .num = MODEL_CT_INVALID });
	rule_verdict(c, r, MODEL_V_DROP, NULL);
	r = rule_add(c, ch, "conntrack");
	rule_match(c, r,
		   &(struct model_match){ .kind = MODEL_M_CT_STATE,
					  .num = MODEL_CT_ESTABLISHED | MODEL_CT_RELATED });
	rule_verdict(c, r, MODEL_V_ACCEPT, NULL);
}

/* IPv6 neighbour discovery and MLD (ICMPv6 130-136, 143) are accepted
 * before policy, as Felix does: without them no IPv6 traffic flows. */
static void ndp_rules(struct cctx *c, struct model_chain *ch)
{
	static const uint16_t ranges[][2] = { { 130, 136 }, { 143, 143 } };

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
		struct model_rule *r = rule_add(c, ch, "neighbour discovery");
		struct model_match m = { .kind = MODEL_M_ICMP, .family = 6, .num = ranges[i][0] };

		if (ranges[i][0] != ranges[i][1]) {
			m.lo = ranges[i][0];
			m.hi = ranges[i][1];
		}
		rule_match(c, r, &m);
		rule_verdict(c, r, MODEL_V_ACCEPT, NULL);
	}
}

/* A workload sends from its own addresses only, as Felix's reverse path
 * check has it: per family, anything else is dropped, and a family it
 * has no address of altogether (neighbour discovery, from link-local or
 * unspecified addresses, is accepted before). The addresses are a named
 * set, so that a pod readdressed changes elements only. */
static void anti_spoofing(struct cctx *c, struct model_chain *ch, const struct hep_if *h)
{
	size_t n = 0;
	const struct cidr *a = endpoint_addrs(h->hep, &n);
	/* and the prefixes it may spoof, when workloadSourceSpoofing is Any
	 * (else the endpoint is not compiled at all) */
	const struct cidr *sp = h->hep->u.ep.spoof;
	size_t nsp = c->fx.spoof_any ? h->hep->u.ep.n_spoof : 0;

	for (int fam = 4; fam <= 6; fam += 2) {
		struct model_elem *e = calloc(n + nsp ? n + nsp : 1, sizeof(*e));
		struct model_rule *r;
		char owner[300];
		const char *set;
		size_t k = 0;

		if (!e) {
			c->err = -ENOMEM;
			return;
		}
		for (size_t i = 0; i < n; i++)
			if ((a[i].family == AF_INET) == (fam == 4))
				cidr_range(&a[i], &e[k++]);
		for (size_t i = 0; i < nsp; i++)
			if ((sp[i].family == AF_INET) == (fam == 4))
				cidr_range(&sp[i], &e[k++]);
		r = rule_add(c, ch, "anti-spoofing");
		if (!k) {
			free(e);
			rule_match(c, r,
				   &(struct model_match){ .kind = MODEL_M_NFPROTO, .num = fam });
			rule_verdict(c, r, MODEL_V_DROP, NULL);
			continue;
		}
		snprintf(owner, sizeof(owner), "%s.own-v%d", ch->name, fam);
		set = set_intern(c, fam == 4 ? MODEL_KEY_IPV4 : MODEL_KEY_IPV6, true, e, k, owner);
		if (!set)
			return;
		rule_match(c, r,
			   &(struct model_match){ .kind = MODEL_M_SADDR,
						  .family = (uint8_t)fam,
						  .set = (char *)set,
						  .neg = true });
		rule_verdict(c, r, MODEL_V_DROP, NULL);
	}
}

static const char *failsafe_set(struct cctx *c, const struct failsafe *fs, size_t n,
				const char *owner)
{
	struct model_elem *e = calloc(n ? n : 1, sizeof(*e));
	size_t k = 0;

	if (!e) {
		c->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (fs[i].has_net)
			continue;
		e[k].lo[0] = e[k].hi[0] = fs[i].protocol.num;
		e[k].lo[1] = e[k].hi[1] = (uint8_t)(fs[i].port >> 8);
		e[k].lo[2] = e[k].hi[2] = (uint8_t)fs[i].port;
		k++;
	}
	if (!k) {
		free(e);
		return NULL;
	}
	return set_intern(c, MODEL_KEY_PROTO_PORT, false, e, k, owner);
}

/* Failsafe ports: destination ports of this direction's list; in the raw
 * stage also the other list's ports as source ports, so that replies to
 * failsafe connections are not cut (as Felix does). */
static void failsafe_rules(struct cctx *c, struct model_chain *ch, const struct stage *s)
{
	const struct failsafe *fs = s->dir == DIR_IN ? c->fx.fs_in : c->fx.fs_out;
	size_t n = s->dir == DIR_IN ? c->fx.n_fs_in : c->fx.n_fs_out;
	const char *set = failsafe_set(c, fs, n, s->dir == DIR_IN ? "failsafe-in" : "failsafe-out");
	struct model_rule *r;

	if (set) {
		r = rule_add(c, ch, "failsafe");
		rule_match(c, r,
			   &(struct model_match){ .kind = MODEL_M_PROTO_PORT, .set = (char *)set });
		rule_verdict(c, r, MODEL_V_ACCEPT, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		struct cidr net = fs[i].net;

		if (!fs[i].has_net)
			continue;
		r = rule_add(c, ch, "failsafe");
		rule_match(c, r,
			   &(struct model_match){ .kind = s->dir == DIR_IN ? MODEL_M_SADDR
									   : MODEL_M_DADDR,
						  .family = net.family == AF_INET ? 4 : 6,
						  .prefix = prefix_of(&net) });
		rule_match(c, r,
			   &(struct model_match){ .kind = MODEL_M_L4PROTO,
						  .num = fs[i].protocol.num });
		rule_match(c, r,
			   &(struct model_match){
				   .kind = MODEL_M_DPORT, .lo = fs[i].port, .hi = fs[i].port });
		rule_verdict(c, r, MODEL_V_ACCEPT, NULL);
	}
	if (s->kind != STAGE_UNTRACKED)
		return;
	fs = s->dir == DIR_IN ? c->fx.fs_out : c->fx.fs_in;
	n = s->dir == DIR_IN ? c->fx.n_fs_out : c->fx.n_fs_in;
	set = failsafe_set(c, fs, n, s->dir == DIR_IN ? "failsafe-out" : "failsafe-in");
	if (set) {
		r = rule_add(c, ch, "failsafe replies");
		rule_match(c, r,
			   &(struct model_match){
				   .kind = MODEL_M_PROTO_PORT, .num = 1, .set = (char *)set });
		rule_verdict(c, r, MODEL_V_ACCEPT, NULL);
	}
}

void clear_marks(struct cctx *c, struct model_chain *ch)
{
	struct model_rule *r = rule_add(c, ch, "clear marks");

	if (!r)
		return;
	r->mark_set = true;
	r->mark_and = ~(c->mark_accept | c->mark_pass);
	r->mark_or = 0;
}

static void jump(struct cctx *c, struct model_chain *ch, const char *target, const char *comment)
{
	struct model_rule *r;

	if (!target)
		return;
	r = rule_add(c, ch, comment);
	rule_verdict(c, r, MODEL_V_JUMP, target);
}

static enum chain_mode stage_mode(const struct stage *s)
{
	static const enum chain_mode modes[] = {
		[STAGE_UNTRACKED] = MODE_UNTRACKED, [STAGE_PREDNAT] = MODE_PREDNAT,
		[STAGE_FILTER] = MODE_FILTER,	    [STAGE_FORWARD] = MODE_FORWARD,
		[STAGE_WORKLOAD] = MODE_FORWARD,
	};

	return modes[s->kind];
}

#define INLINE_MAX_RULES 2

/* A short policy without Pass is copied into the endpoint chain instead
 * of jumped to: every new connection saves a jump and a return per such
 * policy. Its rules keep their comments and counters. (Not in the forward
 * stage, whose Allow returns. In a workload chain an Allow marks and
 * returns, which ends the endpoint chain the same way.) */
static bool inline_policy(struct cctx *c, struct model_chain *ch, const struct stage *s,
			  const struct resource *p)
{
	const char *name;
	struct model_chain *pc;

	if (s->kind == STAGE_FORWARD || policy_has_pass(p, s->dir))
		return false;
	name = policy_chain(c, p, s->dir, stage_mode(s));
	pc = name ? chain_find(c, name) : NULL;
	if (!pc || pc->n_rules > INLINE_MAX_RULES)
		return false;
	for (size_t i = 0; i < pc->n_rules; i++)
		rule_copy(c, ch, &pc->rules[i]);
	return true;
}

/* Jumps to the policies in order. A policy that decides ends the base
 * chain itself (accept, drop), except in the forward stage, where an
 * Allow marks and returns: there each jump is followed by a return once
 * something decided. After a policy that can Pass, a set pass mark leaves
 * the policies: to the profiles (pass_target) or out of the chain. */
static void policy_jumps(struct cctx *c, struct model_chain *ch, const struct stage *s,
			 const struct resource *const *pols, size_t n, const char *pass_target)
{
	for (size_t i = 0; i < n; i++) {
		char comment[300];

		snprintf(comment, sizeof(comment), "policy %s%s%s",
			 pols[i]->namespace ? pols[i]->namespace : "",
			 pols[i]->namespace ? "/" : "", pols[i]->name);
		if (inline_policy(c, ch, s, pols[i]))
			continue;
		jump(c, ch, policy_chain(c, pols[i], s->dir, stage_mode(s)), comment);
		if (s->kind == STAGE_FORWARD) {
			mark_rule(c, ch, c->mark_accept | c->mark_pass, 0, true, MODEL_V_RETURN,
				  "allowed or passed");
			continue;
		}
		if (s->kind == STAGE_WORKLOAD)
			mark_rule(c, ch, c->mark_accept, c->mark_accept, false, MODEL_V_RETURN,
				  "allowed");
		if (policy_has_pass(pols[i], s->dir)) {
			struct model_rule *r = rule_add(c, ch, "passed");

			rule_match(c, r,
				   &(struct model_match){ .kind = MODEL_M_MARK,
							  .mask = c->mark_pass,
							  .value = c->mark_pass });
			rule_verdict(c, r, pass_target ? MODEL_V_GOTO : MODEL_V_RETURN,
				     pass_target);
		}
	}
}

/* Profiles come after policies (or after a Pass); no profile: deny. */
static void profile_jumps(struct cctx *c, struct model_chain *ch, const struct stage *s,
			  const struct hep_if *h)
{
	const struct endpoint_spec *e = &h->hep->u.ep;

	for (size_t i = 0; i < e->n_profiles; i++) {
		const struct resource *p = find_resource(c, RES_PROFILE, NULL, e->profiles[i]);
		char comment[300];

		if (!p)
			continue;
		snprintf(comment, sizeof(comment), "profile %s", p->name);
		jump(c, ch, profile_chain(c, p, s->dir, stage_mode(s)), comment);
		if (s->kind == STAGE_WORKLOAD)
			mark_rule(c, ch, c->mark_accept, c->mark_accept, false, MODEL_V_RETURN,
				  "allowed");
	}
	rule_verdict(c, rule_add(c, ch, "default deny"), MODEL_V_DROP, NULL);
}

static bool any_pass(const struct resource *const *pols, size_t n, enum dir dir)
{
	for (size_t i = 0; i < n; i++)
		if (policy_has_pass(pols[i], dir))
			return true;
	return false;
}

/* The normal stage: policies; if none selects the endpoint, or one passed,
 * the profiles; then deny. */
static void filter_tail(struct cctx *c, struct model_chain *ch, const struct stage *s,
			const struct hep_if *h, const struct resource *const *pols, size_t n)
{
	_cleanup_free_ char *prof = NULL;

	if (n && any_pass(pols, n, s->dir)) {
		struct model_chain *pc;

		if (asprintf(&prof, "%s.profiles", ch->name) < 0 ||
		    !(pc = chain_add(c, prof, MODEL_HOOK_NONE, 0))) {
			c->err = -ENOMEM;
			return;
		}
		profile_jumps(c, pc, s, h);
	}
	{
		size_t first = ch->n_rules;

		policy_jumps(c, ch, s, pols, n, prof);
		if (c->fx.merge_allow)
			merge_allow_runs(c, ch, first);
	}
	if (n)
		rule_verdict(c, rule_add(c, ch, "no policy allowed"), MODEL_V_DROP, NULL);
	else
		profile_jumps(c, ch, s, h);
}

/* ---- tiers ------------------------------------------------------------------ */

/* The number of tiers pols (in Felix order) fall into. */
static size_t tier_count(struct cctx *c, const struct resource *const *pols, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (i == 0 || tier_of(c, pols[i]) != tier_of(c, pols[i - 1]))
			k++;
	return k;
}

/* One tier the way the untiered chain always was: policies in the
 * endpoint chain itself, a Pass to the profiles, the end a drop. */
static bool one_deny_tier(struct cctx *c, const struct resource *const *pols, size_t n)
{
	return n == 0 || (tier_count(c, pols, n) == 1 &&
			  tier_of(c, pols[0])->spec.default_action == ACTION_DENY);
}

static bool ends_in_drop(const struct stage *s, const struct tier_info *t)
{
	return t->spec.default_action != ACTION_PASS &&
	       (s->kind == STAGE_FILTER || s->kind == STAGE_WORKLOAD || s->kind == STAGE_FORWARD);
}

/* A tier's chain: its policies in order; a Pass (or the end, when the
 * tier's defaultAction is Pass, and always in the untracked and preDNAT
 * stages) returns to the endpoint chain, which goes on to the next tier;
 * otherwise the end drops. */
static const char *tier_chain(struct cctx *c, struct model_chain *ep, const struct stage *s,
			      const struct resource *const *pols, size_t n)
{
	const struct tier_info *t = tier_of(c, pols[0]);
	_cleanup_free_ char *name = NULL;
	struct model_chain *ch;
	char comment[300];

	if (asprintf(&name, "%s.tier-%s", ep->name, t->name) < 0 ||
	    !(ch = chain_add(c, name, MODEL_HOOK_NONE, 0))) {
		c->err = -ENOMEM;
		return NULL;
	}
	if (any_pass(pols, n, s->dir)) {
		struct model_rule *r = rule_add(c, ch, "start of tier");

		if (r) {
			r->mark_set = true;
			r->mark_and = ~c->mark_pass;
		}
	}
	policy_jumps(c, ch, s, pols, n, NULL);
	snprintf(comment, sizeof(comment), "end of tier %s", t->name);
	if (ends_in_drop(s, t))
		rule_verdict(c, rule_add(c, ch, comment), MODEL_V_DROP, NULL);
	return ch->name;
}

/* The tiers that select the endpoint, in order, each a chain of its own;
 * after the last one (all passed), the profiles where the stage has
 * them. */
static void tiered_tail(struct cctx *c, struct model_chain *ch, const struct stage *s,
			const struct hep_if *h, const struct resource *const *pols, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t e = i + 1;
		const char *tc;
		char comment[300];

		while (e < n && tier_of(c, pols[e]) == tier_of(c, pols[i]))
			e++;
		tc = tier_chain(c, ch, s, pols + i, e - i);
		snprintf(comment, sizeof(comment), "tier %s", tier_of(c, pols[i])->name);
		jump(c, ch, tc, comment);
		if (s->kind == STAGE_WORKLOAD || s->kind == STAGE_FORWARD)
			mark_rule(c, ch, c->mark_accept, c->mark_accept, false, MODEL_V_RETURN,
				  "allowed");
		i = e;
	}
	if (s->kind == STAGE_FILTER || s->kind == STAGE_WORKLOAD)
		profile_jumps(c, ch, s, h);
}

/* What every endpoint chain of the stage starts with. */
static void chain_head(struct cctx *c, struct model_chain *ch, const struct stage *s,
		       const struct hep_if *h, bool pass)
{
	/* From a workload: neighbour discovery, then only its own source
	 * addresses, before conntrack (a spoofed packet must not pass as
	 * part of another's connection). */
	if (s->kind == STAGE_WORKLOAD && s->dir == DIR_OUT) {
		ndp_rules(c, ch);
		anti_spoofing(c, ch, h);
	}
	if (s->kind != STAGE_UNTRACKED)
		conntrack_rules(c, ch);
	if (s->kind == STAGE_FILTER || (s->kind == STAGE_WORKLOAD && s->dir == DIR_IN))
		ndp_rules(c, ch);
	if (s->kind != STAGE_FORWARD && s->kind != STAGE_WORKLOAD)
		failsafe_rules(c, ch, s);
	/* Marks are read back only after a Pass, in the forward stage and
	 * after a workload chain: clear what an earlier stage may have left. */
	if (s->kind == STAGE_FORWARD || s->kind == STAGE_WORKLOAD || pass)
		clear_marks(c, ch);
}

const char *endpoint_chain(struct cctx *c, const struct stage *s, const struct hep_if *h)
{
	const struct resource **pols = calloc(c->n_policies + 1, sizeof(*pols));
	const char *ifname = strcmp(h->ifname, "*") ? h->ifname : ALL_INTERFACES;
	_cleanup_free_ char *prefix = NULL;
	_cleanup_free_ char *name = NULL;
	struct model_chain *ch = NULL;
	size_t n = 0;

	if (!pols) {
		c->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < c->n_policies; i++)
		if (in_stage(s, c->policies[i]) && policy_selects(c, c->policies[i], h))
			pols[n++] = c->policies[i];
	/* Only the normal stage and workloads have a default: deny. Other
	 * stages exist for an endpoint only when a policy there selects it;
	 * Calico ignores doNotTrack policies on an all-interfaces endpoint. */
	if ((s->kind != STAGE_FILTER && s->kind != STAGE_WORKLOAD && n == 0) ||
	    (s->kind == STAGE_UNTRACKED && strcmp(h->ifname, "*") == 0))
		goto out;
	if (asprintf(&prefix, "%s-", s->map) < 0 || !(name = chain_name(prefix, NULL, ifname)) ||
	    !(ch = chain_add(c, name, MODEL_HOOK_NONE, 0)))
		goto oom;
	if (!one_deny_tier(c, pols, n)) {
		chain_head(c, ch, s, h, true);
		tiered_tail(c, ch, s, h, pols, n);
		goto out;
	}
	chain_head(c, ch, s, h, any_pass(pols, n, s->dir));
	switch (s->kind) {
	case STAGE_UNTRACKED:
	case STAGE_PREDNAT:
		/* no default: what no policy decided falls through */
		policy_jumps(c, ch, s, pols, n, NULL);
		break;
	case STAGE_FORWARD:
		/* Forward chains never consult profiles (as Felix). */
		policy_jumps(c, ch, s, pols, n, NULL);
		rule_verdict(c, rule_add(c, ch, "default deny"), MODEL_V_DROP, NULL);
		break;
	case STAGE_FILTER:
	case STAGE_WORKLOAD: filter_tail(c, ch, s, h, pols, n); break;
	}
	goto out;
oom:
	c->err = -ENOMEM;
out:
	free(pols);
	return ch ? ch->name : NULL;
}
