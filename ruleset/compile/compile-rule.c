/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy and profile chains: each Calico rule becomes one nftables rule per
 * address family it can match, with addresses and port ranges in shared
 * interval sets; adjacent rules that differ only in one address list are
 * merged into one rule over the union (fewer sets, fewer rules).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-internal.h"

static void addrs_free(struct addrs *a)
{
	free(a->e);
	*a = (struct addrs){ 0 };
}

static void crule_free(struct crule *r)
{
	for (int i = 0; i < 2; i++) {
		addrs_free(&r->src[i]);
		addrs_free(&r->dst[i]);
		addrs_free(&r->src_sel[i]);
		addrs_free(&r->dst_sel[i]);
		free(r->sport[i]);
		free(r->dport[i]);
	}
}

static int addrs_add(struct addrs *a, const struct cidr *x)
{
	if (a->n >= a->cap) {
		size_t cap = a->n < 4 ? 8 : 2 * a->n;
		struct model_elem *v = realloc(a->e, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->e = v;
		a->cap = cap;
	}
	cidr_range(x, &a->e[a->n++]);
	return 0;
}

static bool has_named_port(const struct resource *r, const struct named_variant *nv)
{
	if (r->kind != RES_HOST_ENDPOINT && r->kind != RES_WORKLOAD_ENDPOINT)
		return false;
	for (size_t j = 0; j < r->u.ep.n_ports; j++) {
		const struct named_port *np = &r->u.ep.ports[j];

		if (strcmp(np->name, nv->name) == 0 && np->port == nv->port &&
		    (!nv->proto || np->protocol.num == nv->proto))
			return true;
	}
	return false;
}

/* The addresses of every endpoint and network set the entity's selector
 * picks (with nv, only endpoints giving nv's name nv's number), per
 * family ([0] IPv4, [1] IPv6). */
static void resolve_named(struct cctx *c, const struct entity *e, const char *sel,
			  const char *pol_ns, const struct named_variant *nv, struct addrs out[2])
{
	out[0].constrained = out[1].constrained = true;
	out[0].selector = out[1].selector = true;
	c->used_eps = true;
	for (size_t i = 0; i < c->n_res; i++) {
		const struct resource *r = c->res[i];
		const struct cidr *a;
		size_t n;

		a = endpoint_addrs(r, &n);
		if (!n || (nv && !has_named_port(r, nv)) || !entity_selects(c, e, sel, pol_ns, r))
			continue;
		for (size_t k = 0; k < n; k++)
			if (addrs_add(&out[a[k].family == AF_INET ? 0 : 1], &a[k]) < 0)
				c->err = -ENOMEM;
	}
}

static void resolve(struct cctx *c, const struct entity *e, const char *sel, const char *pol_ns,
		    struct addrs out[2])
{
	resolve_named(c, e, sel, pol_ns, NULL, out);
}

static void nets_to_addrs(struct cctx *c, const struct cidr *v, size_t n, struct addrs out[2])
{
	for (size_t i = 0; i < n; i++) {
		out[v[i].family == AF_INET ? 0 : 1].constrained = true;
		if (addrs_add(&out[v[i].family == AF_INET ? 0 : 1], &v[i]) < 0)
			c->err = -ENOMEM;
	}
}

/* Named ports resolve to the numbers any endpoint gives that name. */
static int ports_resolve(struct cctx *c, const struct port *p, size_t n,
			 const struct protocol *proto, struct model_elem **ret, size_t *ret_n)
{
	struct model_elem *v = NULL;
	size_t cnt = 0;

	for (size_t i = 0; i < n; i++) {
		uint16_t lo = p[i].min, hi = p[i].max;
		size_t from = 0, to = 1;

		if (p[i].name) {
			to = c->n_res;
			c->used_eps = true;
		}
		for (size_t k = from; k < to; k++) {
			struct model_elem *nv;

			if (p[i].name) {
				const struct resource *r = c->res[k];
				bool found = false;

				if (r->kind != RES_HOST_ENDPOINT &&
				    r->kind != RES_WORKLOAD_ENDPOINT)
					continue;
				for (size_t j = 0; j < r->u.ep.n_ports; j++) {
					const struct named_port *np = &r->u.ep.ports[j];

					if (strcmp(np->name, p[i].name) == 0 &&
					    (!proto->set || np->protocol.num == proto->num)) {
						lo = hi = np->port;
						found = true;
					}
				}
				if (!found)
					continue;
			}
			nv = realloc(v, (cnt + 1) * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			memset(&v[cnt], 0, sizeof(*v));
			v[cnt].lo[0] = (uint8_t)(lo >> 8);
			v[cnt].lo[1] = (uint8_t)lo;
			v[cnt].hi[0] = (uint8_t)(hi >> 8);
			v[cnt].hi[1] = (uint8_t)hi;
			cnt++;
		}
	}
	*ret = v;
	*ret_n = cnt;
	return 0;
}

static void copy_addrs(struct addrs *dst, const struct addrs *src)
{
	*dst = *src;
	if (src->n) {
		dst->e = malloc(src->n * sizeof(*dst->e));
		if (dst->e)
			memcpy(dst->e, src->e, src->n * sizeof(*dst->e));
		else
			dst->n = 0;
	} else {
		dst->e = NULL;
	}
	dst->cap = dst->n;
}

/* ---- merging ------------------------------------------------------------------ */

static bool addrs_equal(const struct addrs *a, const struct addrs *b)
{
	return a->constrained == b->constrained && a->n == b->n &&
	       (!a->n || memcmp(a->e, b->e, a->n * sizeof(*a->e)) == 0);
}

static bool ports_equal(const struct model_elem *a, size_t na, const struct model_elem *b,
			size_t nb)
{
	return (a == NULL) == (b == NULL) && na == nb &&
	       (!na || memcmp(a, b, na * sizeof(*a)) == 0);
}

/* Rules a and b may become one if all but one positive address list are
 * equal: (X and A) or (X and B) is X and (A or B). Log is not merged: it
 * would log once where Calico logs twice. */
static int mergeable(const struct crule *a, const struct crule *b)
{
	int diff = -1;

	if (a->action != b->action || a->action == ACTION_LOG || a->family != b->family ||
	    memcmp(&a->proto, &b->proto, sizeof(a->proto)) ||
	    memcmp(&a->not_proto, &b->not_proto, sizeof(a->proto)) ||
	    memcmp(&a->icmp, &b->icmp, sizeof(a->icmp)) ||
	    memcmp(&a->not_icmp, &b->not_icmp, sizeof(a->icmp)))
		return -1;
	for (int i = 0; i < 2; i++)
		if (!ports_equal(a->sport[i], a->n_sport[i], b->sport[i], b->n_sport[i]) ||
		    !ports_equal(a->dport[i], a->n_dport[i], b->dport[i], b->n_dport[i]) ||
		    !addrs_equal(&a->src[1], &b->src[1]) || !addrs_equal(&a->dst[1], &b->dst[1]) ||
		    !addrs_equal(&a->src_sel[i], &b->src_sel[i]) ||
		    !addrs_equal(&a->dst_sel[i], &b->dst_sel[i]))
			return -1;
	if (!addrs_equal(&a->src[0], &b->src[0]))
		diff = 0;
	if (!addrs_equal(&a->dst[0], &b->dst[0])) {
		if (diff == 0)
			return -1;
		diff = 1;
	}
	if (diff < 0)
		return -1; /* identical rules: nothing gained */
	if (!(diff == 0 ? a->src[0].constrained && b->src[0].constrained
			: a->dst[0].constrained && b->dst[0].constrained))
		return -1;
	return diff;
}

static void merge_into(struct cctx *c, struct crule *a, struct crule *b, int which)
{
	struct addrs *x = which == 0 ? &a->src[0] : &a->dst[0];
	struct addrs *y = which == 0 ? &b->src[0] : &b->dst[0];
	struct model_elem *v = x->e;

	/* merges come in runs (a policy's rules): grow geometrically */
	if (x->n + y->n > x->cap) {
		size_t cap = 2 * (x->n + y->n);

		v = realloc(x->e, cap * sizeof(*v));
		if (!v) {
			c->err = -ENOMEM;
			return;
		}
		x->cap = cap;
	}
	memcpy(v + x->n, y->e, y->n * sizeof(*v));
	x->e = v;
	x->n += y->n;
	a->last = b->last;
	crule_free(b);
}

/* ---- Calico rule to compiled rules ------------------------------------------ */

static bool family_allowed(const struct rule *r, bool has4, bool has6, int f)
{
	if (r->ip_version && r->ip_version != f)
		return false;
	if ((r->protocol.num == 1 && f == 6) || (r->protocol.num == 58 && f == 4))
		return false;
	/* CIDRs restrict the rule to their family (validation keeps one
	 * family per rule). */
	return f == 4 ? !(has6 && !has4) : !(has4 && !has6);
}

static int resolve_ports(struct cctx *c, const struct rule *r, struct crule *cr)
{
	const struct port *lists[2][2] = { { r->src.ports, r->src.not_ports },
					   { r->dst.ports, r->dst.not_ports } };
	const size_t counts[2][2] = { { r->src.n_ports, r->src.n_not_ports },
				      { r->dst.n_ports, r->dst.n_not_ports } };

	for (int k = 0; k < 2; k++) {
		if (counts[0][k] && ports_resolve(c, lists[0][k], counts[0][k], &r->protocol,
						  &cr->sport[k], &cr->n_sport[k]) < 0)
			return -ENOMEM;
		if (counts[1][k] && ports_resolve(c, lists[1][k], counts[1][k], &r->protocol,
						  &cr->dport[k], &cr->n_dport[k]) < 0)
			return -ENOMEM;
	}
	/* Named ports that resolve to nothing: a positive list cannot
	 * match; a negative one does not constrain. */
	if ((r->src.n_ports && !cr->n_sport[0]) || (r->dst.n_ports && !cr->n_dport[0]))
		return 0;
	for (int k = 0; k < 2; k++) {
		if (cr->sport[k] && !cr->n_sport[k]) {
			free(cr->sport[k]);
			cr->sport[k] = NULL;
		}
		if (cr->dport[k] && !cr->n_dport[k]) {
			free(cr->dport[k]);
			cr->dport[k] = NULL;
		}
	}
	return 1;
}

struct rule_addrs {
	struct addrs snets[2], dnets[2], snot[2], dnot[2];
	struct addrs ssel[2], dsel[2], snsel[2], dnsel[2];
};

static void rule_addrs_free(struct rule_addrs *a)
{
	struct addrs *all = (struct addrs *)a;

	for (size_t i = 0; i < sizeof(*a) / sizeof(struct addrs); i++)
		addrs_free(&all[i]);
}

static void rule_addrs_fill(struct cctx *c, const struct rule *r, const char *pol_ns,
			    struct rule_addrs *a)
{
	nets_to_addrs(c, r->src.nets, r->src.n_nets, a->snets);
	nets_to_addrs(c, r->dst.nets, r->dst.n_nets, a->dnets);
	nets_to_addrs(c, r->src.not_nets, r->src.n_not_nets, a->snot);
	nets_to_addrs(c, r->dst.not_nets, r->dst.n_not_nets, a->dnot);
	if (r->src.selector || r->src.ns_selector || r->src.n_sa_names || r->src.sa_selector)
		resolve(c, &r->src, r->src.selector, pol_ns, a->ssel);
	if (r->dst.selector || r->dst.ns_selector || r->dst.n_sa_names || r->dst.sa_selector)
		resolve(c, &r->dst, r->dst.selector, pol_ns, a->dsel);
	if (r->src.not_selector)
		resolve(c, &r->src, r->src.not_selector, pol_ns, a->snsel);
	if (r->dst.not_selector)
		resolve(c, &r->dst, r->dst.not_selector, pol_ns, a->dnsel);
}

/* For a named-port variant: where the destination's selector (all() when
 * absent) picks endpoints that give the name this number; the same on the
 * source side. */
static void rule_addrs_named(struct cctx *c, const struct rule *r, const char *pol_ns,
			     const struct named_variant *nv, const struct named_variant *snv,
			     struct rule_addrs *a)
{
	if (nv) {
		addrs_free(&a->dsel[0]);
		addrs_free(&a->dsel[1]);
		resolve_named(c, &r->dst, r->dst.selector, pol_ns, nv, a->dsel);
	}
	if (snv) {
		addrs_free(&a->ssel[0]);
		addrs_free(&a->ssel[1]);
		resolve_named(c, &r->src, r->src.selector, pol_ns, snv, a->ssel);
	}
}

static int compile_rule(struct cctx *c, const struct rule *r, unsigned idx, const char *pol_ns,
			const struct named_variant *nv, const struct named_variant *snv,
			struct crule out[2])
{
	struct rule_addrs a = { 0 };
	bool has[2], agnostic;
	int count = 0;

	rule_addrs_fill(c, r, pol_ns, &a);
	rule_addrs_named(c, r, pol_ns, nv, snv, &a);
	for (int k = 0; k < 2; k++)
		has[k] = a.snets[k].constrained || a.dnets[k].constrained ||
			 a.snot[k].constrained || a.dnot[k].constrained;
	agnostic = !r->ip_version && r->protocol.num != 1 && r->protocol.num != 58 && !has[0] &&
		   !has[1] && !a.ssel[0].constrained && !a.dsel[0].constrained &&
		   !a.snsel[0].constrained && !a.dnsel[0].constrained;
	for (int f = 4; f <= 6 && c->err == 0; f += 2) {
		int fi = f == 4 ? 0 : 1, ok;
		struct crule *cr = &out[count];

		if (agnostic && f == 6)
			break;
		if (!agnostic && !family_allowed(r, has[0], has[1], f))
			continue;
		/* A positive selector that picks nothing of this family
		 * cannot match. */
		if ((a.ssel[fi].constrained && !a.ssel[fi].n) ||
		    (a.dsel[fi].constrained && !a.dsel[fi].n))
			continue;
		*cr = (struct crule){ .family = agnostic ? 0 : f,
				      .proto = r->protocol,
				      .not_proto = r->not_protocol,
				      .icmp = r->icmp,
				      .not_icmp = r->not_icmp,
				      .action = r->action,
				      .first = idx,
				      .last = idx };
		copy_addrs(&cr->src[0], &a.snets[fi]);
		copy_addrs(&cr->dst[0], &a.dnets[fi]);
		copy_addrs(&cr->src[1], &a.snot[fi]);
		copy_addrs(&cr->dst[1], &a.dnot[fi]);
		copy_addrs(&cr->src_sel[0], &a.ssel[fi]);
		copy_addrs(&cr->dst_sel[0], &a.dsel[fi]);
		copy_addrs(&cr->src_sel[1], &a.snsel[fi]);
		copy_addrs(&cr->dst_sel[1], &a.dnsel[fi]);
		ok = resolve_ports(c, r, cr);
		if (ok < 0)
			c->err = -ENOMEM;
		if (ok <= 0) {
			crule_free(cr);
			continue;
		}
		count++;
	}
	rule_addrs_free(&a);
	return count;
}

/* Canonical element order so that equal lists compare equal. */
static void crule_normalise(struct crule *r)
{
	size_t w = r->family == 6 ? 16 : 4;
	struct addrs *lists[] = { &r->src[0],	  &r->src[1],	  &r->dst[0],	  &r->dst[1],
				  &r->src_sel[0], &r->src_sel[1], &r->dst_sel[0], &r->dst_sel[1] };

	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		lists[i]->n = model_elems_normalise(lists[i]->e, lists[i]->n, w);
	for (int k = 0; k < 2; k++) {
		r->n_sport[k] = model_elems_normalise(r->sport[k], r->n_sport[k], 2);
		r->n_dport[k] = model_elems_normalise(r->dport[k], r->n_dport[k], 2);
	}
}

/* Adjacent compiled rules that differ in one address list become one;
 * the rest are emitted as they come. */
struct emitter {
	struct cctx *c;
	struct model_chain *ch;
	const char *what;
	const char *name;
	enum dir dir;
	struct crule pending;
	bool have;
};

static void emitter_take(struct emitter *em, struct crule *r)
{
	int m;

	crule_normalise(r);
	m = em->have ? mergeable(&em->pending, r) : -1;
	if (m >= 0) {
		merge_into(em->c, &em->pending, r, m);
		return;
	}
	if (em->have) {
		crule_emit(em->c, em->ch, &em->pending, em->what, em->name, em->dir);
		crule_free(&em->pending);
	}
	em->pending = *r;
	em->have = true;
}

static void fill_chain(struct cctx *c, struct model_chain *ch, const struct rule *rules, size_t n,
		       const char *what, const char *name, const char *pol_ns, enum dir dir)
{
	struct emitter em = { c, ch, what, name, dir, { 0 }, false };
	struct crule out[2];

	for (size_t i = 0; i < n && c->err == 0; i++) {
		struct variants vs = { 0 };

		/* a Service's endpoints are known only to the Kubernetes
		 * datastore: such a rule matches nothing, as in Felix on etcd */
		if (rules[i].src.svc_name || rules[i].dst.svc_name)
			continue;
		rule_variants(c, &rules[i], &vs);
		for (size_t v = 0; v < vs.n && c->err == 0; v++) {
			int k = compile_rule(c, &vs.v[v].rule, (unsigned)i, pol_ns,
					     vs.v[v].nv.name ? &vs.v[v].nv : NULL,
					     vs.v[v].snv.name ? &vs.v[v].snv : NULL, out);

			for (int j = 0; j < k; j++)
				emitter_take(&em, &out[j]);
		}
		variants_free(&vs);
	}
	if (em.have) {
		crule_emit(c, ch, &em.pending, what, name, dir);
		crule_free(&em.pending);
	}
}

bool policy_has_pass(const struct resource *p, enum dir dir)
{
	const struct rule *v = dir == DIR_IN ? p->u.policy.ingress : p->u.policy.egress;
	size_t n = dir == DIR_IN ? p->u.policy.n_ingress : p->u.policy.n_egress;

	for (size_t i = 0; i < n; i++)
		if (v[i].action == ACTION_PASS)
			return true;
	return false;
}

/* The chain of one rule list, made once. */
static const char *rules_chain(struct cctx *c, const char *name, const struct rule *v, size_t n,
			       const char *what, const char *label, const char *ns, enum dir dir,
			       enum chain_mode mode)
{
	struct model_chain *ch = chain_find(c, name);

	if (ch)
		return ch->name;
	ch = chain_add(c, name, MODEL_HOOK_NONE, 0);
	if (!ch)
		return NULL;
	c->mode = mode;
	fill_chain(c, ch, v, n, what, label, ns, dir);
	return ch->name;
}

/* One chain per policy, direction and way of ending an Allow (policy
 * chains of the forward stage are pfi-/pfo-, all others pi-/po-: a policy
 * belongs to one of the untracked, preDNAT and normal stages). */
const char *policy_chain(struct cctx *c, const struct resource *p, enum dir dir,
			 enum chain_mode mode)
{
	static const char *const prefix[2][2] = { { "pi-", "po-" }, { "pfi-", "pfo-" } };
	_cleanup_free_ char *name = chain_name(prefix[mode == MODE_FORWARD][dir], p->namespace,
					       p->name);
	_cleanup_free_ char *label = NULL;
	const struct policy_spec *ps = &p->u.policy;

	const char *made;
	bool existed;

	if (!name || (p->namespace && asprintf(&label, "%s/%s", p->namespace, p->name) < 0)) {
		c->err = -ENOMEM;
		return NULL;
	}
	existed = chain_find(c, name) != NULL;
	if (!existed && memo_replay(c, name, p, dir, mode)) {
		const struct model_chain *ch = chain_find(c, name);

		return ch ? ch->name : NULL;
	}
	c->used_eps = false;
	c->cur_tier = ps->tier; /* named in the rules' comments */
	made = rules_chain(c, name, dir == DIR_IN ? ps->ingress : ps->egress,
			   dir == DIR_IN ? ps->n_ingress : ps->n_egress, "policy",
			   label ? label : p->name, p->namespace, dir, mode);
	c->cur_tier = NULL;
	if (made && !existed)
		memo_record(c, chain_find(c, made), p, dir, mode);
	return made;
}

/* Profiles are consulted by the normal stage (an Allow accepts) and by
 * workload chains (an Allow marks and returns). A Pass in a profile goes
 * on with the next profile. */
const char *profile_chain(struct cctx *c, const struct resource *p, enum dir dir,
			  enum chain_mode mode)
{
	static const char *const prefix[2][2] = { { "pri-", "pro-" }, { "pfri-", "pfro-" } };
	_cleanup_free_ char *name = chain_name(prefix[mode == MODE_FORWARD][dir], NULL, p->name);
	const struct profile_spec *ps = &p->u.profile;

	if (!name) {
		c->err = -ENOMEM;
		return NULL;
	}
	return rules_chain(c, name, dir == DIR_IN ? ps->ingress : ps->egress,
			   dir == DIR_IN ? ps->n_ingress : ps->n_egress, "profile", p->name, NULL,
			   dir, mode);
}
