/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resources + this node -> one inet table. Stages, as Calico renders them
 * into iptables and SPEC.md section 4 states them:
 *
 *   raw-prerouting/raw-output (raw, -300)   doNotTrack policies
 *   mangle-prerouting (mangle, -150)        preDNAT policies, before DNAT
 *   filter-input/output/forward (0)         everything else
 *
 * Each base chain dispatches through a verdict map keyed by interface name
 * to a chain per host endpoint; those jump to one chain per policy. A
 * policy's Allow/Pass set a mark bit (inside the configured mask) and
 * return; the endpoint chain turns the mark into the stage's verdict, and
 * the mark tells later stages that an earlier one accepted the packet.
 *
 * Workload endpoints (this node's interfaces named by WorkloadEndpoints)
 * get two chains each, as Felix's cali-fw-* and cali-tw-*: wl-from-<if>
 * (the workload's egress) reached by iifname in the input and forward
 * hooks, and wl-to-<if> (its ingress) reached by oifname in the forward
 * hook. Both end in a drop or return with the accept mark; the base
 * chain then goes on (forward) or applies defaultEndpointToHostAction
 * (input). The host's own traffic to its workloads is accepted in output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-internal.h"

static const struct stage stages[] = {
	{ STAGE_UNTRACKED, DIR_IN, "untracked-in" }, { STAGE_UNTRACKED, DIR_OUT, "untracked-out" },
	{ STAGE_PREDNAT, DIR_IN, "prednat-in" },     { STAGE_FILTER, DIR_IN, "filter-in" },
	{ STAGE_FILTER, DIR_OUT, "filter-out" },     { STAGE_FORWARD, DIR_IN, "forward-in" },
	{ STAGE_FORWARD, DIR_OUT, "forward-out" },
};

/* A workload's egress is traffic from it, its ingress traffic to it. */
static const struct stage wl_from = { STAGE_WORKLOAD, DIR_OUT, "wl-from" };
static const struct stage wl_to = { STAGE_WORKLOAD, DIR_IN, "wl-to" };

/* Calico's defaults (Felix v3.21), SPEC.md section 4. */
static const struct failsafe default_in[] = {
	{ { true, true, 6 }, 22 },   { { true, true, 17 }, 68 },  { { true, true, 6 }, 179 },
	{ { true, true, 6 }, 2379 }, { { true, true, 6 }, 2380 }, { { true, true, 6 }, 5473 },
	{ { true, true, 6 }, 6443 }, { { true, true, 6 }, 6666 }, { { true, true, 6 }, 6667 },
};
static const struct failsafe default_out[] = {
	{ { true, true, 17 }, 53 },  { { true, true, 17 }, 67 },  { { true, true, 6 }, 179 },
	{ { true, true, 6 }, 2379 }, { { true, true, 6 }, 2380 }, { { true, true, 6 }, 5473 },
	{ { true, true, 6 }, 6443 }, { { true, true, 6 }, 6666 }, { { true, true, 6 }, 6667 },
};

static void felix_apply(struct felix *fx, const struct felix_spec *f)
{
	if (f->has_failsafe_in) {
		fx->fs_in = f->failsafe_in;
		fx->n_fs_in = f->n_failsafe_in;
	}
	if (f->has_failsafe_out) {
		fx->fs_out = f->failsafe_out;
		fx->n_fs_out = f->n_failsafe_out;
	}
	if (f->interface_prefix)
		fx->iface_prefix = f->interface_prefix;
	if (f->log_prefix)
		fx->log_prefix = f->log_prefix;
	if (f->table_name)
		fx->table = f->table_name;
	if (f->has_mark_mask)
		fx->mask = f->mark_mask;
	if (f->has_merge_allow)
		fx->merge_allow = f->merge_allow;
	if (f->ep_to_host)
		fx->ep_to_host_accept = strcmp(f->ep_to_host, "Drop") != 0;
	fx->spoof_any = f->has_spoof_any && f->spoof_any;
}

/* FelixConfiguration "default", then "node.<node>" over it, over
 * Calico's defaults. */
static int felix_load(struct cctx *c)
{
	struct felix_spec fs;
	uint32_t m;

	c->fx = (struct felix){ default_in,  ARRAY_SIZE(default_in),
				default_out, ARRAY_SIZE(default_out),
				"cali",	     "calico-packet",
				"nftmgr",    0xffff0000u };
	if (felix_settings(c->res, c->n_res, c->o->node, &fs) < 0)
		return -ENOMEM;
	felix_apply(&c->fx, &fs);
	m = c->fx.mask;
	c->mark_accept = m & -m;
	m &= ~c->mark_accept;
	c->mark_pass = m & -m;
	return 0;
}

/* ---- host endpoints of this node ------------------------------------------- */

static bool iface_has_ip(const struct local_iface *li, const struct cidr *ip)
{
	for (size_t i = 0; i < li->n_addrs; i++)
		if (li->addrs[i].family == ip->family &&
		    memcmp(li->addrs[i].addr, ip->addr, ip->family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

static int if_push(struct cctx *c, struct hep_if **vec, size_t *n, const char *ifname,
		   const struct resource *ep)
{
	struct hep_if *v;

	/* One endpoint per interface: the first by name wins, as in Felix
	 * (resources arrive sorted by name). */
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*vec)[i].ifname, ifname) == 0)
			return 0;
	v = realloc(*vec, (*n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	*vec = v;
	v = &v[*n];
	*v = (struct hep_if){ .hep = ep };
	v->ifname = strdup(ifname);
	(*n)++;
	if (!v->ifname || endpoint_labels(c, ep, &v->labels) < 0)
		return -ENOMEM;
	return 0;
}

static int add_if(struct cctx *c, const char *ifname, const struct resource *hep)
{
	return if_push(c, &c->ifs, &c->n_ifs, ifname, hep);
}

/* This node's workload endpoints, by interface. */
static int find_wls(struct cctx *c)
{
	for (size_t i = 0; i < c->n_res; i++) {
		const struct resource *r = c->res[i];
		const struct endpoint_spec *e = &r->u.ep;
		int err;

		if (r->kind != RES_WORKLOAD_ENDPOINT || !e->node || !e->iface ||
		    strcmp(e->node, c->o->node) != 0)
			continue;
		err = if_push(c, &c->wls, &c->n_wls, e->iface, r);
		if (err)
			return err;
	}
	return 0;
}

static int find_heps(struct cctx *c)
{
	for (size_t i = 0; i < c->n_res; i++) {
		const struct resource *r = c->res[i];
		const struct endpoint_spec *e = &r->u.ep;
		int err = 0;

		if (r->kind != RES_HOST_ENDPOINT || !e->node || strcmp(e->node, c->o->node) != 0)
			continue;
		if (e->iface) {
			err = add_if(c, strcmp(e->iface, "*") ? e->iface : "*", r);
		} else {
			for (size_t k = 0; k < c->o->n_ifaces && !err; k++)
				for (size_t j = 0; j < e->n_ips; j++)
					if (iface_has_ip(&c->o->ifaces[k], &e->ips[j])) {
						err = add_if(c, c->o->ifaces[k].name, r);
						break;
					}
		}
		if (err)
			return err;
	}
	return 0;
}

/* Felix's TierLess: tiers that exist first, then those with an order,
 * by order, then by name. */
static int cmp_tier(const void *pa, const void *pb)
{
	const struct tier_info *a = pa, *b = pb;

	if (a->exists != b->exists)
		return a->exists ? -1 : 1;
	if (a->spec.has_order != b->spec.has_order)
		return a->spec.has_order ? -1 : 1;
	if (a->spec.has_order && a->spec.order != b->spec.order)
		return a->spec.order < b->spec.order ? -1 : 1;
	return strcmp(a->name, b->name);
}

static struct tier_info *tier_find(struct cctx *c, const char *name)
{
	for (size_t i = 0; i < c->n_tiers; i++)
		if (strcmp(c->tiers[i].name, name) == 0)
			return &c->tiers[i];
	return NULL;
}

const struct tier_info *tier_of(struct cctx *c, const struct resource *p)
{
	return tier_find(c, policy_tier(&p->u.policy));
}

static void tier_add(struct cctx *c, const char *name, bool exists, const struct tier_spec *spec)
{
	struct tier_info *t = tier_find(c, name);

	if (!t)
		t = &c->tiers[c->n_tiers++];
	*t = (struct tier_info){ .name = name, .exists = exists };
	if (spec)
		t->spec = *spec;
	else
		t->spec.default_action = ACTION_DENY; /* an unknown tier drops */
}

/* The tiers: reserved, written (over a reserved one of the same name),
 * then those only named by policies. Room: one per resource + 3. */
static int gather_tiers(struct cctx *c)
{
	static const char *const reserved[] = { TIER_DEFAULT, TIER_KUBE_ADMIN, TIER_KUBE_BASELINE };
	struct tier_spec spec;

	c->tiers = calloc(c->n_res + 3, sizeof(*c->tiers));
	if (!c->tiers)
		return -ENOMEM;
	for (size_t i = 0; i < 3; i++)
		if (tier_reserved(reserved[i], &spec))
			tier_add(c, reserved[i], true, &spec);
	for (size_t i = 0; i < c->n_res; i++)
		if (c->res[i]->kind == RES_TIER)
			tier_add(c, c->res[i]->name, true, &c->res[i]->u.tier);
	for (size_t i = 0; i < c->n_policies; i++)
		if (!tier_of(c, c->policies[i]))
			tier_add(c, policy_tier(&c->policies[i]->u.policy), false, NULL);
	qsort(c->tiers, c->n_tiers, sizeof(*c->tiers), cmp_tier);
	return 0;
}

struct ranked {
	const struct resource *p;
	size_t tier;
};

static int cmp_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;

	if (a->tier != b->tier)
		return a->tier < b->tier ? -1 : 1;
	return policy_compare(a->p, b->p);
}

/* Enforced policies (staged ones never are) in Felix's order: by tier,
 * then by order and name within it. */
static int sort_policies(struct cctx *c)
{
	struct ranked *v;

	c->policies = calloc(c->n_res ? c->n_res : 1, sizeof(*c->policies));
	if (!c->policies)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_res; i++)
		if (c->res[i]->kind == RES_GLOBAL_NETWORK_POLICY ||
		    c->res[i]->kind == RES_NETWORK_POLICY)
			c->policies[c->n_policies++] = c->res[i];
	if (gather_tiers(c) < 0)
		return -ENOMEM;
	v = calloc(c->n_policies ? c->n_policies : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_policies; i++)
		v[i] = (struct ranked){ c->policies[i],
					(size_t)(tier_of(c, c->policies[i]) - c->tiers) };
	qsort(v, c->n_policies, sizeof(*v), cmp_ranked);
	for (size_t i = 0; i < c->n_policies; i++)
		c->policies[i] = v[i].p;
	free(v);
	return 0;
}

/* ---- dispatch and base chains -------------------------------------------------- */

/* An interface map while it is filled. */
struct ifmap {
	struct model_set *s;
	struct map_elem *v;
	size_t n;
};

static void map_add(struct cctx *c, struct ifmap *m, const char *name, bool jump)
{
	*m = (struct ifmap){ .s = set_add_map(c, name, MODEL_KEY_IFNAME) };
	if (m->s)
		m->s->go = !jump;
}

static void map_elem(struct cctx *c, struct ifmap *m, const char *ifname, const char *chain)
{
	struct map_elem *v;

	if (!m->s || !chain)
		return;
	v = realloc(m->v, (m->n + 1) * sizeof(*v));
	if (!v) {
		c->err = -ENOMEM;
		return;
	}
	m->v = v;
	v = &v[m->n++];
	*v = (struct map_elem){ .chain = chain };
	strncpy((char *)v->key, ifname, sizeof(v->key) - 1);
}

static int cmp_ifname_key(const void *a, const void *b)
{
	return memcmp(((const struct map_elem *)a)->key, ((const struct map_elem *)b)->key, 16);
}

/* The elements in, sorted (the chain names copied). */
static void map_done(struct cctx *c, struct ifmap *m)
{
	if (m->s && m->n)
		qsort(m->v, m->n, sizeof(*m->v), cmp_ifname_key);
	if (m->s)
		(void)set_map_done(c, m->s, m->v, m->n);
	free(m->v);
	*m = (struct ifmap){ 0 };
}

/* The workload interface patterns, "cali*" for each interfacePrefix
 * entry; calls fn for each. */
static void for_each_workload_pattern(struct cctx *c,
				      void (*fn)(struct cctx *c, const char *pattern, void *data),
				      void *data)
{
	_cleanup_free_ char *copy = strdup(c->fx.iface_prefix);
	char *save = NULL, *tok, buf[64];

	if (!copy) {
		c->err = -ENOMEM;
		return;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		snprintf(buf, sizeof(buf), "%s*", tok);
		fn(c, buf, data);
	}
}

struct iface_match {
	struct model_rule *r;
	enum model_match_kind kind;
};

static void add_not_iface(struct cctx *c, const char *pattern, void *data)
{
	struct iface_match *m = data;

	rule_match(c, m->r,
		   &(struct model_match){
			   .kind = m->kind, .neg = true, .ifname = (char *)pattern });
}

/* iifname != "cali*" ... != "lo": what an all-interfaces endpoint covers. */
static void not_workload(struct cctx *c, struct model_rule *r, enum dir dir)
{
	struct iface_match m = { r, dir == DIR_IN ? MODEL_M_IIFNAME : MODEL_M_OIFNAME };

	for_each_workload_pattern(c, add_not_iface, &m);
	add_not_iface(c, "lo", &m);
}

static struct model_rule *dispatch_rule(struct cctx *c, struct model_chain *base,
					const char *comment, bool skip_accepted)
{
	struct model_rule *r = rule_add(c, base, comment);

	if (skip_accepted)
		rule_match(c, r,
			   &(struct model_match){
				   .kind = MODEL_M_MARK, .mask = c->mark_accept, .value = 0 });
	return r;
}

/* In the forward hook more follows the endpoint chain (the outgoing
 * endpoint's), so it is jumped to; elsewhere the endpoint chain decides
 * or falls through to the end of the base chain, and is gone to. */
static void dispatch(struct cctx *c, struct model_chain *base, const struct stage *s,
		     bool skip_accepted)
{
	bool fwd = s->kind == STAGE_FORWARD;
	const char *star = NULL;
	struct model_rule *r;
	struct ifmap m;

	map_add(c, &m, s->map, fwd);
	for (size_t i = 0; i < c->n_ifs; i++) {
		const char *ch = endpoint_chain(c, s, &c->ifs[i]);

		if (strcmp(c->ifs[i].ifname, "*") == 0)
			star = ch;
		else
			map_elem(c, &m, c->ifs[i].ifname, ch);
	}
	map_done(c, &m);
	r = dispatch_rule(c, base, "dispatch", skip_accepted);
	rule_verdict(c, r, s->dir == DIR_IN ? MODEL_V_VMAP_IIF : MODEL_V_VMAP_OIF, s->map);
	if (!star)
		return;
	r = dispatch_rule(c, base, "dispatch: all interfaces", skip_accepted);
	not_workload(c, r, s->dir);
	rule_verdict(c, r, fwd ? MODEL_V_JUMP : MODEL_V_GOTO, star);
}

/* The workload maps: wl-from by iifname, wl-to by oifname, jumped to. */
static void workload_maps(struct cctx *c)
{
	const struct stage *st[] = { &wl_from, &wl_to };

	for (size_t k = 0; k < ARRAY_SIZE(st); k++) {
		struct ifmap m;

		map_add(c, &m, st[k]->map, true);
		for (size_t i = 0; i < c->n_wls; i++)
			map_elem(c, &m, c->wls[i].ifname, endpoint_chain(c, st[k], &c->wls[i]));
		map_done(c, &m);
	}
}

enum wl_end {
	WL_DROP_UNMARKED, /* forward: go on if its chain allowed */
	WL_ACCEPT_MARKED, /* input, Accept/Return */
	WL_DROP_ALL,	  /* input, Drop */
};

struct wl_check {
	struct model_chain *ch;
	enum model_match_kind kind; /* iifname or oifname */
	enum wl_end end;
};

/* After a workload map, per interface pattern. What a workload chain let
 * through carries the accept mark (it decided everything else itself);
 * a workload interface without an endpoint is dropped, as Felix drops
 * "Unknown interface". */
static void wl_check_rule(struct cctx *c, const char *pattern, void *data)
{
	const struct wl_check *w = data;
	struct model_match ifm = { .kind = w->kind, .ifname = (char *)pattern };
	struct model_match marked = { .kind = MODEL_M_MARK,
				      .mask = c->mark_accept,
				      .value = c->mark_accept };
	struct model_rule *r = NULL;

	switch (w->end) {
	case WL_ACCEPT_MARKED:
		r = rule_add(c, w->ch, "workload to host");
		rule_match(c, r, &ifm);
		rule_match(c, r, &marked);
		rule_verdict(c, r, MODEL_V_ACCEPT, NULL);
		r = rule_add(c, w->ch, "unknown workload interface");
		rule_match(c, r, &ifm);
		break;
	case WL_DROP_ALL:
		r = rule_add(c, w->ch, "workload to host");
		rule_match(c, r, &ifm);
		break;
	case WL_DROP_UNMARKED:
		r = rule_add(c, w->ch, "unknown workload interface");
		rule_match(c, r, &ifm);
		marked.value = 0;
		rule_match(c, r, &marked);
		break;
	}
	rule_verdict(c, r, MODEL_V_DROP, NULL);
}

/* Input from a workload: its egress policy (which accepts replies), then
 * Felix's defaultEndpointToHostAction: Drop by default; Accept and Return
 * both leave the packet to the rest of the ruleset. */
static void workload_input(struct cctx *c, struct model_chain *in)
{
	struct wl_check w = { in, MODEL_M_IIFNAME,
			      c->fx.ep_to_host_accept ? WL_ACCEPT_MARKED : WL_DROP_ALL };

	rule_verdict(c, rule_add(c, in, "workload dispatch"), MODEL_V_VMAP_IIF, wl_from.map);
	for_each_workload_pattern(c, wl_check_rule, &w);
}

/* Forwarded from and to workloads: the sender's egress, then the
 * receiver's ingress. */
static void workload_forward(struct cctx *c, struct model_chain *fwd)
{
	struct wl_check from = { fwd, MODEL_M_IIFNAME, WL_DROP_UNMARKED };
	struct wl_check to = { fwd, MODEL_M_OIFNAME, WL_DROP_UNMARKED };

	rule_verdict(c, rule_add(c, fwd, "workload dispatch"), MODEL_V_VMAP_IIF, wl_from.map);
	for_each_workload_pattern(c, wl_check_rule, &from);
	clear_marks(c, fwd);
	rule_verdict(c, rule_add(c, fwd, "workload dispatch"), MODEL_V_VMAP_OIF, wl_to.map);
	for_each_workload_pattern(c, wl_check_rule, &to);
}

static void accept_to_workload(struct cctx *c, const char *pattern, void *data)
{
	struct model_rule *r = rule_add(c, data, "host to workload");

	rule_match(c, r,
		   &(struct model_match){ .kind = MODEL_M_OIFNAME, .ifname = (char *)pattern });
	rule_verdict(c, r, MODEL_V_ACCEPT, NULL);
}

/* Host to its own workloads is always allowed. */
static void workload_bypass(struct cctx *c, struct model_chain *ch)
{
	for_each_workload_pattern(c, accept_to_workload, ch);
}

static void base_chains(struct cctx *c)
{
	struct model_chain *raw_pre = chain_add(c, "raw-prerouting", MODEL_HOOK_PREROUTING, -300);
	struct model_chain *raw_out = chain_add(c, "raw-output", MODEL_HOOK_OUTPUT, -300);
	struct model_chain *mangle = chain_add(c, "mangle-prerouting", MODEL_HOOK_PREROUTING, -150);
	struct model_chain *in = chain_add(c, "filter-input", MODEL_HOOK_INPUT, 0);
	struct model_chain *fwd = chain_add(c, "filter-forward", MODEL_HOOK_FORWARD, 0);
	struct model_chain *out = chain_add(c, "filter-output", MODEL_HOOK_OUTPUT, 0);

	clear_marks(c, raw_pre);
	dispatch(c, raw_pre, &stages[0], false);
	clear_marks(c, raw_out);
	dispatch(c, raw_out, &stages[1], false);
	mark_rule(c, mangle, c->mark_accept, c->mark_accept, false, MODEL_V_ACCEPT,
		  "accepted by untracked policy");
	dispatch(c, mangle, &stages[2], false);
	mark_rule(c, in, c->mark_accept, c->mark_accept, false, MODEL_V_ACCEPT,
		  "accepted before DNAT");
	workload_maps(c);
	workload_input(c, in);
	dispatch(c, in, &stages[3], false);
	/* What an untracked policy let out must not meet the normal
	 * stage's default deny (Felix's acceptAlreadyAccepted). */
	mark_rule(c, out, c->mark_accept, c->mark_accept, false, MODEL_V_ACCEPT,
		  "accepted by untracked policy");
	workload_bypass(c, out);
	dispatch(c, out, &stages[4], false);
	/* Forwarded: the incoming endpoint's ingress, unless an untracked or
	 * preDNAT policy accepted it already, then the outgoing endpoint's
	 * egress. */
	dispatch(c, fwd, &stages[5], true);
	workload_forward(c, fwd);
	dispatch(c, fwd, &stages[6], false);
}

static void stats_fill(const struct cctx *c, struct compile_stats *st)
{
	*st = (struct compile_stats){ .endpoints = c->n_ifs + c->n_wls,
				      .policies = c->n_policies,
				      .chains = c->t->n_chains,
				      .sets = c->t->n_sets };
	for (size_t i = 0; i < c->t->n_chains; i++)
		st->rules += c->t->chains[i]->n_rules;
	for (size_t i = 0; i < c->t->n_sets; i++)
		st->elements += c->t->sets[i]->n_elems;
}

/* A workload endpoint with allowSpoofedSourcePrefixes is as if absent,
 * unless workloadSourceSpoofing is Any (Felix's validation filter drops
 * it): *kept is the resources without them, or NULL when none is. */
static int spoofers_out(struct cctx *c, struct resource ***kept)
{
	size_t k = 0;

	*kept = NULL;
	for (size_t i = 0; i < c->n_res; i++)
		if (c->res[i]->kind == RES_WORKLOAD_ENDPOINT && c->res[i]->u.ep.n_spoof)
			k++;
	if (!k || c->fx.spoof_any)
		return 0;
	*kept = calloc(c->n_res, sizeof(**kept));
	if (!*kept)
		return -ENOMEM;
	k = 0;
	for (size_t i = 0; i < c->n_res; i++)
		if (!(c->res[i]->kind == RES_WORKLOAD_ENDPOINT && c->res[i]->u.ep.n_spoof))
			(*kept)[k++] = c->res[i];
	c->res = *kept;
	c->n_res = k;
	return 0;
}

/* The resources are not read after this. */
static void inputs_done(struct cctx *c)
{
	if (!c->o->inputs_done)
		return;
	c->res = NULL;
	c->n_res = 0;
	free(c->policies); /* pointed into them; n_policies stays, a count */
	c->policies = NULL;
	c->o->inputs_done(c->o->inputs_done_data);
}

/* The chains and sets, then the address maps, then what nothing uses
 * any more left out. */
static int build_table(struct cctx *c)
{
	size_t sets;

	base_chains(c);
	chains_prune(c);
	inputs_done(c);
	sets = c->t->n_sets;
	if (!c->err)
		addr_maps(c);
	if (!c->err && (c->fx.merge_allow || c->t->n_sets != sets))
		sets_prune(c);
	return c->err;
}

int ruleset_compile(struct resource *const *v, size_t n, const struct compile_opts *o,
		    struct model_table **ret, struct compile_stats *stats, struct diags *d)
{
	struct cctx c = { .o = o, .d = d, .res = v, .n_res = n };
	_cleanup_free_ struct resource **kept = NULL;
	int err;

	c.t = calloc(1, sizeof(*c.t));
	if (!c.t)
		return -ENOMEM;
	err = felix_load(&c);
	if (!err)
		err = spoofers_out(&c, &kept);
	if (!err && !(c.t->name = strdup(c.fx.table)))
		err = -ENOMEM;
	if (!err)
		memo_begin(&c);
	if (!err)
		err = sort_policies(&c);
	if (!err)
		err = find_heps(&c);
	if (!err)
		err = find_wls(&c);
	if (!err)
		err = build_table(&c);
	if (!err && stats)
		stats_fill(&c, stats);
	memo_end(&c, !err);
	for (size_t i = 0; i < c.n_ifs; i++) {
		free(c.ifs[i].ifname);
		labels_clear(&c.ifs[i].labels);
	}
	free(c.ifs);
	for (size_t i = 0; i < c.n_wls; i++) {
		free(c.wls[i].ifname);
		labels_clear(&c.wls[i].labels);
	}
	free(c.wls);
	free(c.policies);
	free(c.tiers);
	name_index_free(&c.chain_ix);
	name_index_free(&c.set_ix);
	name_index_free(&c.content_ix);
	if (err) {
		model_table_free(c.t);
		return err;
	}
	*ret = c.t;
	return 0;
}
