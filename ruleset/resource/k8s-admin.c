/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kubernetes AdminNetworkPolicy and BaselineAdminNetworkPolicy
 * (policy.networking.k8s.io/v1alpha1) and ClusterNetworkPolicy (v1alpha2)
 * as Calico converts them: a GlobalNetworkPolicy in the kube-admin or
 * kube-baseline tier, order from the priority (a baseline policy: 1000),
 * the subject as namespace and pod selectors over pods only, one rule per
 * (protocol, peer) with that protocol's ports, Accept as Allow; a rule
 * that cannot be converted (a nodes or domainNames peer) fails closed: a
 * Deny or Pass becomes an unconditional Deny, an Allow is left out. Named
 * ports are resolved per endpoint, as for Calico rules (Calico 3.31
 * widened an ANP's to every port). Names: kanp.adminnetworkpolicy.<name>,
 * kbanp.baselineadminnetworkpolicy.<name>, kcnp.<name>.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"

enum admin_kind {
	ADMIN_ANP,
	ADMIN_BANP,
	ADMIN_CNP,
};

/* The ports of one protocol; all: no port limits that protocol. */
struct pgroup {
	const char *proto; /* "", "SCTP", "TCP", "UDP": the order Calico sorts them */
	struct port *ports;
	size_t n;
	bool all;
	bool used;
};

static const char *const protos[] = { "", "SCTP", "TCP", "UDP" };

static size_t proto_index(const char *p)
{
	for (size_t i = 1; i < 4; i++)
		if (p && strcmp(p, protos[i]) == 0)
			return i;
	return p ? 4 : 2; /* an unknown one; absent: TCP */
}

static int group_add(struct dctx *c, const struct value *at, struct pgroup *g, const char *proto,
		     const struct port *p)
{
	size_t i = proto ? proto_index(proto) : 0;
	struct port *v;

	if (i == 4) {
		dctx_err(c, at, "protocol must be TCP, UDP or SCTP");
		return -EINVAL;
	}
	g[i].used = true;
	if (!p) {
		g[i].all = true;
		return 0;
	}
	v = realloc(g[i].ports, (g[i].n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	g[i].ports = v;
	v[g[i].n] = *p;
	if (p->name && !(v[g[i].n].name = strdup(p->name)))
		return -ENOMEM;
	g[i].n++;
	return 0;
}

/* A named port: no protocol, resolved per endpoint. */
static int named_port(struct dctx *c, const struct value *named, struct pgroup *g)
{
	struct port p = { .pos = named->pos };

	if (named->type != VALUE_SCALAR || !port_name_ok(named->str)) {
		dctx_err(c, named, "invalid port name");
		return -EINVAL;
	}
	p.name = named->str;
	return group_add(c, named, g, NULL, &p);
}

static int port_range(struct dctx *c, const struct value *n, struct port *p)
{
	uint64_t lo = 0, hi = 0;
	const struct value *s = value_map_get(n, "start"), *e = value_map_get(n, "end");

	if (!s || !e || !dec_uint(c, s, 65535, &lo) || !dec_uint(c, e, 65535, &hi) || lo < 1 ||
	    hi < lo) {
		dctx_err(c, n, "a port range needs start and end, 1 <= start <= end <= 65535");
		return -EINVAL;
	}
	*p = (struct port){ .min = (uint16_t)lo, .max = (uint16_t)hi, .pos = n->pos };
	return 0;
}

/* v1alpha1: {portNumber: {protocol, port}}, {portRange: {protocol, start,
 * end}} or {namedPort: name}. */
static int anp_port(struct dctx *c, const struct value *n, struct pgroup *g)
{
	const struct value *num = value_map_get(n, "portNumber");
	const struct value *range = value_map_get(n, "portRange");
	const struct value *named = value_map_get(n, "namedPort");
	const struct value *pr = value_map_get(num ? num : range, "protocol");
	struct port p = { .pos = n->pos };
	uint64_t v = 0;

	if (!decode_expect(c, n, VALUE_MAP) || (!!num + !!range + !!named) != 1) {
		dctx_err(c, n, "a port is one of portNumber, portRange or namedPort");
		return -EINVAL;
	}
	if (named)
		return named_port(c, named, g);
	if (range && port_range(c, range, &p) < 0)
		return -EINVAL;
	if (num) {
		const struct value *pv = value_map_get(num, "port");

		if (!pv || !dec_uint(c, pv, 65535, &v) || v < 1) {
			dctx_err(c, num, "portNumber needs a port from 1 to 65535");
			return -EINVAL;
		}
		p.min = p.max = (uint16_t)v;
	}
	return group_add(c, n, g, pr && pr->type == VALUE_SCALAR ? pr->str : "TCP", &p);
}

/* v1alpha2: {tcp|udp|sctp: {destinationPort: {number} | {range}}} or
 * {destinationNamedPort: name}. */
static int cnp_protocol(struct dctx *c, const struct value *n, struct pgroup *g)
{
	static const char *const keys[] = { "tcp", "udp", "sctp" };
	static const char *const names[] = { "TCP", "UDP", "SCTP" };
	const struct value *named = value_map_get(n, "destinationNamedPort");
	struct port p = { .pos = n->pos };

	if (!decode_expect(c, n, VALUE_MAP))
		return -EINVAL;
	if (named)
		return named_port(c, named, g);
	for (size_t i = 0; i < 3; i++) {
		const struct value *pr = value_map_get(n, keys[i]), *dp, *num, *range;
		uint64_t v = 0;

		if (!pr)
			continue;
		dp = value_map_get(pr, "destinationPort");
		if (!dp)
			return group_add(c, pr, g, names[i], NULL);
		num = value_map_get(dp, "number");
		range = value_map_get(dp, "range");
		if (range)
			return port_range(c, range, &p) < 0 ? -EINVAL
							    : group_add(c, dp, g, names[i], &p);
		if (!num || !dec_uint(c, num, 65535, &v) || v < 1) {
			dctx_err(c, dp,
				 "destinationPort needs a number from 1 to 65535 or a range");
			return -EINVAL;
		}
		p.min = p.max = (uint16_t)v;
		return group_add(c, dp, g, names[i], &p);
	}
	dctx_err(c, n, "a protocol is one of tcp, udp, sctp or destinationNamedPort");
	return -EINVAL;
}

/* One peer as an entity: 0, 1 when it cannot be converted (nodes,
 * domainNames: the rule fails closed), or -EINVAL. */
static int peer_entity(struct dctx *c, const struct value *n, bool egress, struct entity *e)
{
	const struct value *nss = value_map_get(n, "namespaces");
	const struct value *pods = value_map_get(n, "pods");
	const struct value *nets = egress ? value_map_get(n, "networks") : NULL;
	struct label_selector a = { 0 }, b = { 0 };

	if (!decode_expect(c, n, VALUE_MAP))
		return -EINVAL;
	if (nss) {
		dec_label_selector(c, nss, &a);
		e->ns_selector = k8s_selector(c, nss, &a, false);
	} else if (pods) {
		if (value_map_get(pods, "namespaceSelector"))
			dec_label_selector(c, value_map_get(pods, "namespaceSelector"), &a);
		if (value_map_get(pods, "podSelector"))
			dec_label_selector(c, value_map_get(pods, "podSelector"), &b);
		e->ns_selector = k8s_selector(c, pods, &a, false);
		e->selector = k8s_selector(c, pods, &b, true);
	} else if (nets && decode_expect(c, nets, VALUE_SEQ)) {
		for (size_t i = 0; i < nets->n; i++)
			if (nets->kids[i]->type != VALUE_SCALAR ||
			    add_cidr(c, nets->kids[i], nets->kids[i]->str, &e->nets, &e->n_nets) <
				    0)
				return -EINVAL;
	} else {
		return 1; /* nodes, domainNames, or nothing Calico knows */
	}
	label_selector_clear(&a);
	label_selector_clear(&b);
	return 0;
}

static int rule_action(struct dctx *c, const struct value *n, enum admin_kind k, enum action *ret)
{
	static const struct {
		const char *name;
		enum action a;
		unsigned kinds; /* 1 << enum admin_kind */
	} acts[] = {
		{ "Allow", ACTION_ALLOW, 1 << ADMIN_ANP | 1 << ADMIN_BANP },
		{ "Accept", ACTION_ALLOW, 1 << ADMIN_CNP },
		{ "Deny", ACTION_DENY, 7 },
		{ "Pass", ACTION_PASS, 1 << ADMIN_ANP | 1 << ADMIN_CNP },
	};

	for (size_t i = 0; n && n->type == VALUE_SCALAR && i < ARRAY_SIZE(acts); i++)
		if (strcmp(n->str, acts[i].name) == 0 && (acts[i].kinds & (1u << k))) {
			*ret = acts[i].a;
			return 0;
		}
	dctx_err(c, n, "action must be one of %s",
		 k == ADMIN_CNP	   ? "Accept, Deny, Pass"
		 : k == ADMIN_BANP ? "Allow, Deny"
				   : "Allow, Deny, Pass");
	return -EINVAL;
}

static void groups_free(struct pgroup *g)
{
	for (size_t i = 0; i < 4; i++) {
		for (size_t k = 0; k < g[i].n; k++)
			free(g[i].ports[k].name);
		free(g[i].ports);
	}
}

static int rule_ports(struct dctx *c, const struct value *item, enum admin_kind k, struct pgroup *g)
{
	const char *key = k == ADMIN_CNP ? "protocols" : "ports";
	const struct value *l = value_map_get(item, key);
	int r = 0;

	if (!l || !decode_expect(c, l, VALUE_SEQ) || l->n == 0) {
		g[0].used = g[0].all = true; /* no ports: everything, no protocol */
		return l && l->type != VALUE_SEQ ? -EINVAL : 0;
	}
	for (size_t i = 0; i < l->n && r == 0; i++) {
		size_t saved = dctx_push(c, ".%s[%zu]", key, i);

		r = k == ADMIN_CNP ? cnp_protocol(c, l->kids[i], g) : anp_port(c, l->kids[i], g);
		dctx_pop(c, saved);
	}
	return r;
}

/* The rules of one Kubernetes rule: per protocol (sorted), per peer. */
static int rule_convert(struct dctx *c, const struct value *item, enum admin_kind k, bool egress,
			struct rule **v, size_t *n)
{
	const struct value *peers = value_map_get(item, egress ? "to" : "from");
	struct pgroup g[4] = { 0 };
	size_t before = *n;
	enum action a;
	int r = rule_action(c, value_map_get(item, "action"), k, &a);

	if (r == 0 && (!peers || !decode_expect(c, peers, VALUE_SEQ) || peers->n == 0)) {
		dctx_err(c, item, "a rule needs at least one peer in %s", egress ? "to" : "from");
		r = -EINVAL;
	}
	r = r ?: rule_ports(c, item, k, g);
	for (size_t pi = 0; r == 0 && pi < 4; pi++) {
		for (size_t i = 0; r == 0 && g[pi].used && i < peers->n; i++) {
			struct rule x = { .pos = item->pos, .action = a };
			struct entity *side = egress ? &x.dst : &x.src;
			size_t saved = dctx_push(c, ".%s[%zu]", egress ? "to" : "from", i);

			r = peer_entity(c, peers->kids[i], egress, side);
			dctx_pop(c, saved);
			if (r == 1) { /* the whole rule fails closed, as Calico */
				rule_free_contents(&x);
				groups_free(g);
				while (*n > before)
					rule_free_contents(&(*v)[--*n]);
				if (a == ACTION_ALLOW)
					return 0;
				x = (struct rule){ .pos = item->pos, .action = ACTION_DENY };
				return rule_push(v, n, &x);
			}
			if (pi > 0)
				x.protocol = (struct protocol){ true, true,
								pi == 1	  ? 132
								: pi == 2 ? 6
									  : 17 };
			if (r == 0 && !g[pi].all && g[pi].n) {
				x.dst.ports = calloc(g[pi].n, sizeof(*x.dst.ports));
				for (size_t q = 0; x.dst.ports && q < g[pi].n; q++) {
					x.dst.ports[q] = g[pi].ports[q];
					x.dst.ports[q].name = g[pi].ports[q].name
								      ? strdup(g[pi].ports[q].name)
								      : NULL;
				}
				x.dst.n_ports = x.dst.ports ? g[pi].n : 0;
			}
			r = r < 0 ? (rule_free_contents(&x), r) : rule_push(v, n, &x);
		}
	}
	groups_free(g);
	return r;
}

static void rules_convert(struct dctx *c, const struct value *spec, enum admin_kind k, bool egress,
			  struct policy_spec *p)
{
	const char *key = egress ? "egress" : "ingress";
	const struct value *l = value_map_get(spec, key);
	struct rule **v = egress ? &p->egress : &p->ingress;
	size_t *n = egress ? &p->n_egress : &p->n_ingress;

	if (!l || !decode_expect(c, l, VALUE_SEQ))
		return;
	for (size_t i = 0; i < l->n; i++) {
		size_t saved = dctx_push(c, ".%s[%zu]", key, i);

		if (decode_expect(c, l->kids[i], VALUE_MAP) &&
		    rule_convert(c, l->kids[i], k, egress, v, n) == -ENOMEM)
			dctx_err(c, l->kids[i], "out of memory");
		dctx_pop(c, saved);
	}
}

static const struct {
	const char *prefix; /* of the GlobalNetworkPolicy's name */
	const char *tier;
} admin_names[] = {
	[ADMIN_ANP] = { "kanp.adminnetworkpolicy.", TIER_KUBE_ADMIN },
	[ADMIN_BANP] = { "kbanp.baselineadminnetworkpolicy.", TIER_KUBE_BASELINE },
	[ADMIN_CNP] = { "kcnp.", NULL /* spec.tier */ },
};

/* subject: {namespaces: S} (pods of those namespaces) or {pods:
 * {namespaceSelector, podSelector}}. */
static void subject(struct dctx *c, const struct value *spec, struct policy_spec *p)
{
	const struct value *s = value_map_get(spec, "subject");
	struct entity e = { 0 };
	size_t saved = dctx_push(c, ".subject");
	int r = s ? peer_entity(c, s, false, &e) : -EINVAL;

	if (r != 0 && c->errors == 0)
		dctx_err(c, s ? s : spec, "subject needs namespaces or pods");
	p->ns_selector = e.ns_selector;
	p->selector = e.selector ? e.selector : strdup("projectcalico.org/orchestrator == \"k8s\"");
	free(e.nets);
	dctx_pop(c, saved);
}

static void admin_spec(struct dctx *c, const struct value *spec, enum admin_kind k,
		       struct policy_spec *p)
{
	const struct value *prio = value_map_get(spec, "priority");
	const struct value *tier = value_map_get(spec, "tier");
	const char *t = admin_names[k].tier;
	uint64_t v = 1000;

	if (k != ADMIN_BANP) {
		size_t saved = dctx_push(c, ".priority");
		unsigned before = c->errors;

		if (!prio || !dec_uint(c, prio, 1000, &v))
			if (c->errors == before)
				dctx_err(c, prio ? prio : spec,
					 "priority must be a number from 0 to 1000");
		dctx_pop(c, saved);
	}
	if (k == ADMIN_CNP) {
		if (tier && tier->type == VALUE_SCALAR && strcmp(tier->str, "Admin") == 0)
			t = TIER_KUBE_ADMIN;
		else if (tier && tier->type == VALUE_SCALAR && strcmp(tier->str, "Baseline") == 0)
			t = TIER_KUBE_BASELINE;
		else
			dctx_err(c, tier ? tier : spec, "tier must be Admin or Baseline");
	}
	p->has_order = true;
	p->order = (double)v;
	p->tier = t ? strdup(t) : NULL;
	subject(c, spec, p);
	rules_convert(c, spec, k, false, p);
	rules_convert(c, spec, k, true, p);
	/* the tiers pass at their end: a direction counts only with rules */
	p->types = (p->n_ingress ? POLICY_TYPE_INGRESS : 0) |
		   (p->n_egress ? POLICY_TYPE_EGRESS : 0);
	if (!p->types)
		p->types = POLICY_TYPE_INGRESS;
}

struct resource *k8s_decode_admin_policy(struct dctx *c, const struct value *root, const char *kind)
{
	enum admin_kind k = strcmp(kind, "AdminNetworkPolicy") == 0	      ? ADMIN_ANP
			    : strcmp(kind, "BaselineAdminNetworkPolicy") == 0 ? ADMIN_BANP
									      : ADMIN_CNP;
	const struct value *spec = value_map_get(root, "spec");
	struct k8s_meta m = { 0 };
	struct resource *r = calloc(1, sizeof(*r));
	size_t saved;

	if (!r)
		return NULL;
	r->kind = RES_GLOBAL_NETWORK_POLICY;
	r->pos = root->pos;
	k8s_check_top(c, root);
	k8s_meta(c, root, &m);
	saved = dctx_push(c, "spec");
	if (spec && decode_expect(c, spec, VALUE_MAP))
		admin_spec(c, spec, k, &r->u.policy);
	else if (!spec)
		dctx_err(c, root, "spec is required");
	dctx_pop(c, saved);
	if (m.namespace)
		dctx_err(c, root, "%s is cluster-scoped: no namespace", kind);
	if (m.name && asprintf(&r->name, "%s%s", admin_names[k].prefix, m.name) < 0)
		r->name = NULL;
	r->labels = m.labels;
	m.labels = (struct labels){ 0 };
	r->annotations = m.annotations;
	m.annotations = (struct labels){ 0 };
	k8s_meta_clear(&m);
	if (!r->name || !r->u.policy.selector) {
		if (!c->errors)
			dctx_err(c, root, "out of memory");
		return resource_free(r);
	}
	return r;
}
