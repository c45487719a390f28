/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The spec of every Calico kind: policies, endpoints, network sets and
 * profiles (FelixConfiguration's is in felix.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "resource-internal.h"

/* ---- policies ------------------------------------------------------------ */

static bool parse_order(struct dctx *c, const struct value *n, double *ret)
{
	enum scalar_type t = value_scalar_type(n);
	char *end;

	if (n->type != VALUE_SCALAR || (t != SCALAR_INT && t != SCALAR_FLOAT)) {
		dctx_err(c, n, "expected a number");
		return false;
	}
	*ret = strtod(n->str, &end);
	if (*end || !isfinite(*ret)) {
		dctx_err(c, n, "order must be a finite number");
		return false;
	}
	return true;
}

static void dec_order(struct dctx *c, const struct value *n, void *out)
{
	struct policy_spec *p = out;

	p->has_order = parse_order(c, n, &p->order);
}

void dec_policy_types(struct dctx *c, const struct value *n, void *out)
{
	const char *in = c->ver == API_V1 ? "ingress" : "Ingress";
	const char *eg = c->ver == API_V1 ? "egress" : "Egress";
	unsigned *types = out;

	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct value *t = n->kids[i];
		size_t saved = dctx_push_index(c, i);
		unsigned bit = 0;

		if (t->type == VALUE_SCALAR && strcmp(t->str, in) == 0)
			bit = POLICY_TYPE_INGRESS;
		else if (t->type == VALUE_SCALAR && strcmp(t->str, eg) == 0)
			bit = POLICY_TYPE_EGRESS;
		if (!bit)
			dctx_err(c, t, "type must be %s or %s", in, eg);
		else if (*types & bit)
			dctx_err(c, t, "'%s' type specified more than once", t->str);
		*types |= bit;
		dctx_pop(c, saved);
	}
}

/* A tier name (3.29-3.31 aliases made 3.32's); empty is "default". */
static void dec_tier(struct dctx *c, const struct value *n, void *out)
{
	struct policy_spec *p = out;
	const char *t;

	if (n->type != VALUE_SCALAR || value_scalar_type(n) != SCALAR_STR) {
		dctx_err(c, n, "expected a tier name");
		return;
	}
	t = tier_canonical(n->str);
	if (!*t || strcmp(t, TIER_DEFAULT) == 0)
		return;
	if (!validate_name(c, n, RES_TIER, t))
		return;
	free(p->tier);
	p->tier = strdup(t);
	if (!p->tier)
		dctx_err(c, n, "out of memory");
}

static const char *const staged_actions[] = { "Set", "Delete", "Learn", "Ignore" };

const char *staged_action_name(enum staged_action a)
{
	return (size_t)a < ARRAY_SIZE(staged_actions) ? staged_actions[a] : "Set";
}

void dec_staged_action(struct dctx *c, const struct value *n, void *out)
{
	struct policy_spec *p = out;

	for (size_t i = 0; n->type == VALUE_SCALAR && i < ARRAY_SIZE(staged_actions); i++)
		if (strcmp(n->str, staged_actions[i]) == 0) {
			p->staged_action = (enum staged_action)i;
			return;
		}
	dctx_err(c, n, "stagedAction must be one of Set, Delete, Learn, Ignore");
}

/* performanceHints: [AssumeNeededOnEveryNode] never changes a verdict;
 * nftmgr compiles every policy anyway. */
static void dec_performance_hints(struct dctx *c, const struct value *n, void *out)
{
	(void)out;
	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	for (size_t i = 0; i < n->n; i++)
		if (n->kids[i]->type != VALUE_SCALAR ||
		    strcmp(n->kids[i]->str, "AssumeNeededOnEveryNode") != 0) {
			size_t saved = dctx_push_index(c, i);

			dctx_err(c, n->kids[i],
				 "unknown performance hint (AssumeNeededOnEveryNode)");
			dctx_pop(c, saved);
		}
}

#define P(f) offsetof(struct policy_spec, f)
static const struct field gnp_fields[] = {
	{ "order", dec_order, 0 },
	{ "selector", dec_selector, P(selector) },
	{ "ingress", dec_rules, P(ingress) },
	{ "egress", dec_rules, P(egress) },
	{ "types", dec_policy_types, P(types) },
	{ "doNotTrack", dec_bool, P(do_not_track) },
	{ "preDNAT", dec_bool, P(pre_dnat) },
	{ "applyOnForward", dec_bool, P(apply_on_forward) },
	{ "namespaceSelector", dec_selector, P(ns_selector) },
	{ "serviceAccountSelector", dec_selector, P(sa_selector) },
	{ "tier", dec_tier, 0 },
	{ "performanceHints", dec_performance_hints, 0 },
	{ "stagedAction", dec_staged_action, 0 }, /* staged kinds only */
};
static const struct field np_fields[] = {
	{ "order", dec_order, 0 },
	{ "selector", dec_selector, P(selector) },
	{ "ingress", dec_rules, P(ingress) },
	{ "egress", dec_rules, P(egress) },
	{ "types", dec_policy_types, P(types) },
	{ "serviceAccountSelector", dec_selector, P(sa_selector) },
	{ "tier", dec_tier, 0 },
	{ "performanceHints", dec_performance_hints, 0 },
	{ "stagedAction", dec_staged_action, 0 }, /* staged kinds only */
};
static const struct field v1_policy_fields[] = {
	{ "order", dec_order, 0 },
	{ "selector", dec_selector, P(selector) },
	{ "ingress", dec_rules, P(ingress) },
	{ "egress", dec_rules, P(egress) },
	{ "types", dec_policy_types, P(types) },
	{ "doNotTrack", dec_bool, P(do_not_track) },
	{ "preDNAT", dec_bool, P(pre_dnat) },
};
#undef P

/* Services: a source in ingress rules, a destination in egress rules; a
 * GlobalNetworkPolicy names their namespace. */
static void services_check(struct dctx *c, const struct value *spec, const struct policy_spec *p,
			   bool global)
{
	for (int egress = 0; egress < 2; egress++) {
		const struct rule *v = egress ? p->egress : p->ingress;
		size_t n = egress ? p->n_egress : p->n_ingress;

		for (size_t i = 0; i < n; i++) {
			const struct entity *wrong = egress ? &v[i].src : &v[i].dst;
			const struct entity *right = egress ? &v[i].dst : &v[i].src;
			size_t saved = dctx_push(c, ".%s[%zu]", egress ? "egress" : "ingress", i);

			if (egress && v[i].http)
				dctx_err(c, spec, "http is not allowed in egress rules");
			else if (wrong->svc_name)
				dctx_err(c, spec, "services are not allowed in %s rule %s",
					 egress ? "an egress" : "an ingress",
					 egress ? "sources" : "destinations");
			else if (right->svc_name && global && !right->svc_ns)
				dctx_err(c, spec, "services must specify a namespace");
			dctx_pop(c, saved);
		}
	}
}

static void policy_check(struct dctx *c, const struct value *spec, struct policy_spec *p)
{
	if (p->pre_dnat && p->do_not_track)
		dctx_err(c, spec, "preDNAT and doNotTrack cannot both be true");
	if (p->pre_dnat && p->n_egress) {
		size_t saved = dctx_push(c, ".egress");

		dctx_err(c, value_map_get(spec, "egress"),
			 "a preDNAT policy cannot have egress rules");
		dctx_pop(c, saved);
	}
	if (p->pre_dnat && (p->types & POLICY_TYPE_EGRESS)) {
		size_t saved = dctx_push(c, ".types");

		dctx_err(c, value_map_get(spec, "types"),
			 "a preDNAT policy cannot have the %s type",
			 c->ver == API_V1 ? "egress" : "Egress");
		dctx_pop(c, saved);
	}
	if (c->ver == API_V1)
		p->apply_on_forward = p->pre_dnat || p->do_not_track;
	else if ((p->pre_dnat || p->do_not_track) && !p->apply_on_forward)
		dctx_err(c, spec,
			 "applyOnForward must be true if either preDNAT or doNotTrack is true");
	if (!p->types) {
		if (p->n_ingress || !p->n_egress)
			p->types |= POLICY_TYPE_INGRESS;
		if (p->n_egress)
			p->types |= POLICY_TYPE_EGRESS;
	}
	if (!p->selector)
		p->selector = strdup("all()");
}

/* A staged Delete names the enforced policy to remove: its spec holds
 * nothing but the tier (and the action). */
static void staged_delete_check(struct dctx *c, const struct value *spec)
{
	for (size_t i = 0; spec && spec->type == VALUE_MAP && i + 1 < spec->n; i += 2) {
		const char *k = spec->kids[i]->str;

		if (strcmp(k, "tier") != 0 && strcmp(k, "stagedAction") != 0) {
			dctx_err(c, spec->kids[i + 1],
				 "spec fields, except tier, must be empty when stagedAction is "
				 "Delete (%s is set)",
				 k);
			return;
		}
	}
}

static void dec_policy_spec(struct dctx *c, const struct value *spec, struct resource *r)
{
	const struct field *f = gnp_fields;
	size_t nf = ARRAY_SIZE(gnp_fields);

	if (c->ver == API_V1) {
		f = v1_policy_fields;
		nf = ARRAY_SIZE(v1_policy_fields);
	} else if (kind_enforced(r->kind) == RES_NETWORK_POLICY) {
		f = np_fields;
		nf = ARRAY_SIZE(np_fields);
	}
	/* stagedAction is the last field, and for staged kinds only */
	if (c->ver != API_V1 && !kind_is_staged(r->kind))
		nf--;
	if (spec)
		decode_fields(c, spec, f, nf, &r->u.policy);
	if (kind_is_staged(r->kind) && r->u.policy.staged_action == STAGED_DELETE)
		staged_delete_check(c, spec);
	policy_check(c, spec, &r->u.policy);
	services_check(c, spec, &r->u.policy, kind_enforced(r->kind) == RES_GLOBAL_NETWORK_POLICY);
	if (!r->u.policy.selector)
		dctx_err(c, spec, "out of memory");
}

/* ---- endpoints ------------------------------------------------------------- */

static void dec_ips(struct dctx *c, const struct value *n, void *out, bool cidrs)
{
	struct endpoint_spec *e = out;

	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	e->ips = calloc(n->n ? n->n : 1, sizeof(*e->ips));
	if (!e->ips) {
		dctx_err(c, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct value *it = n->kids[i];
		size_t saved = dctx_push_index(c, i);
		char why[128];

		if (it->type != VALUE_SCALAR)
			dctx_err(c, it, "expected an IP address");
		else if (!cidrs && strchr(it->str, '/'))
			dctx_err(c, it, "\"%s\" is not an IP address", it->str);
		else if (cidr_parse(it->str, cidrs, &e->ips[e->n_ips], why, sizeof(why)) < 0)
			dctx_err(c, it, "%s", why);
		else
			e->ips[e->n_ips++].pos = it->pos;
		dctx_pop(c, saved);
	}
}

static void dec_expected_ips(struct dctx *c, const struct value *n, void *out)
{
	dec_ips(c, n, out, false);
}

static void dec_ip_networks(struct dctx *c, const struct value *n, void *out)
{
	dec_ips(c, n, out, true);
}

/* Profile names: Calico's resource names. */
static void dec_profile_names(struct dctx *c, const struct value *n, void *out)
{
	struct {
		char **v;
		size_t n;
	} *l = out;

	dec_string_list(c, n, out);
	for (size_t i = 0; c->ver != API_V1 && i < l->n; i++)
		if (!validate_name(c, n->kids[i], RES_PROFILE, l->v[i]))
			break;
}

static void dec_iface(struct dctx *c, const struct value *n, void *out)
{
	char **s = out;
	size_t len;

	dec_string(c, n, out);
	if (!*s)
		return;
	len = strlen(*s);
	if (strcmp(*s, "*") == 0 && c->ver != API_V1)
		return;
	if (len < 1 || len > 15 ||
	    strspn(*s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		       "0123456789_-.") != len ||
	    (c->ver == API_V1 && strchr(*s, '.')))
		dctx_err(c, n, "invalid interface name \"%s\"", *s);
}

#define E(f) offsetof(struct endpoint_spec, f)
static const struct field hep_v3[] = {
	{ "node", dec_string, E(node) },	{ "interfaceName", dec_iface, E(iface) },
	{ "expectedIPs", dec_expected_ips, 0 }, { "profiles", dec_profile_names, E(profiles) },
	{ "ports", dec_hep_ports, 0 },
};
static const struct field hep_v1[] = {
	{ "interfaceName", dec_iface, E(iface) },
	{ "expectedIPs", dec_expected_ips, 0 },
	{ "profiles", dec_string_list, E(profiles) },
};
static const struct field wep_v3[] = {
	{ "orchestrator", dec_string, E(orchestrator) },
	{ "workload", dec_string, E(workload) },
	{ "node", dec_string, E(node) },
	{ "containerID", dec_container_id, E(container_id) },
	{ "pod", dec_string, E(pod) },
	{ "endpoint", dec_string, E(endpoint) },
	{ "serviceAccountName", dec_string, E(service_account) },
	{ "ipNetworks", dec_ip_networks, 0 },
	{ "ipNATs", dec_nats, 0 },
	{ "ipv4Gateway", dec_gw4, 0 },
	{ "ipv6Gateway", dec_gw6, 0 },
	{ "profiles", dec_profile_names, E(profiles) },
	{ "interfaceName", dec_iface, E(iface) },
	{ "mac", dec_string, E(mac) },
	{ "ports", dec_wep_ports, 0 },
	{ "allowSpoofedSourcePrefixes", dec_spoof, 0 },
	{ "qosControls", dec_ignore, 0 }, /* tc and limits: not policy */
};
static const struct field wep_v1[] = {
	{ "interfaceName", dec_iface, E(iface) },
	{ "mac", dec_string, E(mac) },
	{ "ipNetworks", dec_ip_networks, 0 },
	{ "ipNATs", dec_ignore, 0 },
	{ "ipv4Gateway", dec_ignore, 0 },
	{ "ipv6Gateway", dec_ignore, 0 },
	{ "profiles", dec_string_list, E(profiles) },
	{ "ports", dec_hep_ports, 0 },
};
#undef E

static void dec_endpoint_spec(struct dctx *c, const struct value *spec, struct resource *r)
{
	bool hep = r->kind == RES_HOST_ENDPOINT;
	struct endpoint_spec *e = &r->u.ep;

	if (spec && hep)
		decode_fields(c, spec, c->ver == API_V1 ? hep_v1 : hep_v3,
			      c->ver == API_V1 ? ARRAY_SIZE(hep_v1) : ARRAY_SIZE(hep_v3), e);
	else if (spec)
		decode_fields(c, spec, c->ver == API_V1 ? wep_v1 : wep_v3,
			      c->ver == API_V1 ? ARRAY_SIZE(wep_v1) : ARRAY_SIZE(wep_v3), e);
	if (hep && !e->iface && !e->n_ips)
		dctx_err(c, spec, "no interface or expected IPs have been specified");
	if (!e->node && c->ver != API_V1)
		dctx_err(c, spec, "no node has been specified");
	if (!hep && !e->iface)
		dctx_err(c, spec, "a workload endpoint needs interfaceName");
	if (!hep && spec && c->ver == API_V3)
		wep_check(c, spec, e);
}

/* ---- sets, profiles, Felix ---------------------------------------------- */

static void dec_set_nets(struct dctx *c, const struct value *n, void *out)
{
	struct endpoint_spec tmp = { 0 };
	struct netset_spec *s = out;

	dec_ips(c, n, &tmp, true);
	s->nets = tmp.ips;
	s->n_nets = tmp.n_ips;
}

static void dec_netset_spec(struct dctx *c, const struct value *spec, struct resource *r)
{
	static const struct field f[] = { { "nets", dec_set_nets, 0 } };

	if (spec)
		decode_fields(c, spec, f, ARRAY_SIZE(f), &r->u.netset);
}

static void dec_profile_spec(struct dctx *c, const struct value *spec, struct resource *r)
{
	static const struct field f[] = {
		{ "ingress", dec_rules, offsetof(struct profile_spec, ingress) },
		{ "egress", dec_rules, offsetof(struct profile_spec, egress) },
		{ "labelsToApply", dec_labels, offsetof(struct profile_spec, labels_to_apply) },
	};

	if (spec)
		decode_fields(c, spec, f, ARRAY_SIZE(f) - (c->ver == API_V1), &r->u.profile);
}

static void dec_tier_order(struct dctx *c, const struct value *n, void *out)
{
	struct tier_spec *t = out;

	t->has_order = parse_order(c, n, &t->order);
}

static void dec_default_action(struct dctx *c, const struct value *n, void *out)
{
	struct tier_spec *t = out;

	if (n->type == VALUE_SCALAR && strcmp(n->str, "Deny") == 0)
		t->default_action = ACTION_DENY;
	else if (n->type == VALUE_SCALAR && strcmp(n->str, "Pass") == 0)
		t->default_action = ACTION_PASS;
	else
		dctx_err(c, n, "defaultAction must be Deny or Pass");
}

static const struct field tier_fields[] = {
	{ "order", dec_tier_order, 0 },
	{ "defaultAction", dec_default_action, 0 },
};

/* Order 1,000,000 and Deny unless given, as Calico's API defaults them. */
static void dec_tier_spec(struct dctx *c, const struct value *spec, struct resource *r)
{
	struct tier_spec *t = &r->u.tier;

	t->default_action = ACTION_DENY;
	if (spec)
		decode_fields(c, spec, tier_fields, ARRAY_SIZE(tier_fields), t);
	if (!t->has_order) {
		t->has_order = true;
		t->order = 1e6;
	}
}

void tier_named(struct dctx *c, const struct value *spec, struct resource *r)
{
	const char *canon = tier_canonical(r->name);
	struct tier_spec fixed;

	/* the reserved tiers' order and action are fixed (3.32's rules) */
	if (tier_reserved(r->name, &fixed) &&
	    (r->u.tier.order != fixed.order || r->u.tier.default_action != fixed.default_action))
		dctx_err(c, spec, "the %s tier has order %.0f and defaultAction %s", r->name,
			 fixed.order, fixed.default_action == ACTION_PASS ? "Pass" : "Deny");
	if (canon != r->name) {
		char *n = strdup(canon);

		if (!n) {
			dctx_err(c, spec, "out of memory");
			return;
		}
		free(r->name);
		r->name = n;
	}
}

void decode_spec(struct dctx *c, const struct value *spec, struct resource *r)
{
	switch (r->kind) {
	case RES_GLOBAL_NETWORK_POLICY:
	case RES_NETWORK_POLICY:
	case RES_STAGED_GLOBAL_NETWORK_POLICY:
	case RES_STAGED_NETWORK_POLICY: dec_policy_spec(c, spec, r); break;
	case RES_TIER: dec_tier_spec(c, spec, r); break;
	case RES_STAGED_K8S_NETWORK_POLICY: break; /* k8s.c */
	case RES_HOST_ENDPOINT:
	case RES_WORKLOAD_ENDPOINT: dec_endpoint_spec(c, spec, r); break;
	case RES_GLOBAL_NETWORK_SET:
	case RES_NETWORK_SET: dec_netset_spec(c, spec, r); break;
	case RES_PROFILE: dec_profile_spec(c, spec, r); break;
	case RES_FELIX_CONFIGURATION:
		if (spec)
			felix_dec_spec(c, spec, &r->u.felix);
		break;
	case RES_KIND_MAX: break;
	}
}

bool kind_has_field(enum res_kind k, const char *name)
{
	static const char *const meta[] = { "name",	   "namespace", "labels",
					    "annotations", "uid",	"creationTimestamp" };
	static const char *const other[RES_KIND_MAX][3] = {
		[RES_GLOBAL_NETWORK_SET] = { "nets" },
		[RES_NETWORK_SET] = { "nets" },
		[RES_PROFILE] = { "ingress", "egress", "labelsToApply" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(meta); i++)
		if (strcasecmp(meta[i], name) == 0)
			return true;
	for (size_t i = 0; k < RES_KIND_MAX && i < 3 && other[k][i]; i++)
		if (strcasecmp(other[k][i], name) == 0)
			return true;
	switch (k) {
	case RES_GLOBAL_NETWORK_POLICY:
		return fields_have(gnp_fields, ARRAY_SIZE(gnp_fields) - 1, name);
	case RES_NETWORK_POLICY: return fields_have(np_fields, ARRAY_SIZE(np_fields) - 1, name);
	case RES_STAGED_GLOBAL_NETWORK_POLICY:
		return fields_have(gnp_fields, ARRAY_SIZE(gnp_fields), name);
	case RES_STAGED_NETWORK_POLICY: return fields_have(np_fields, ARRAY_SIZE(np_fields), name);
	case RES_TIER: return fields_have(tier_fields, ARRAY_SIZE(tier_fields), name);
	case RES_HOST_ENDPOINT: return fields_have(hep_v3, ARRAY_SIZE(hep_v3), name);
	case RES_WORKLOAD_ENDPOINT: return fields_have(wep_v3, ARRAY_SIZE(wep_v3), name);
	case RES_FELIX_CONFIGURATION: return felix_has_field(name);
	default: return false;
	}
}
