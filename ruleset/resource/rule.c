/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Policy rules and entity rules, with Calico's validation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resource-internal.h"

/* Each is laid out as (pointer, count) inside the model structs. */
struct cidr_vec {
	struct cidr *v;
	size_t n;
};

struct port_vec {
	struct port *v;
	size_t n;
};

struct rule_vec {
	struct rule *v;
	size_t n;
};

/* What an entity rule reads beyond the v3 model (v1 only fields). */
struct entity_in {
	struct entity e;
	struct cidr_vec net, not_net; /* v1 single CIDR */
	char *tag, *not_tag;	      /* v1 tags */
};

static void dec_cidrs_common(struct dctx *c, const struct value *n, void *out, bool single)
{
	struct cidr_vec *vec = out;
	const struct value *one[1] = { n };
	const struct value *const *items = single ? one : (const struct value *const *)n->kids;
	size_t count = single ? 1 : n->n;

	if (!single && !decode_expect(c, n, VALUE_SEQ))
		return;
	vec->v = calloc(count ? count : 1, sizeof(*vec->v));
	if (!vec->v) {
		dctx_err(c, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const struct value *it = items[i];
		size_t saved = single ? c->plen : dctx_push_index(c, i);
		char why[128];

		if (it->type != VALUE_SCALAR) {
			dctx_err(c, it, "expected a CIDR string");
		} else if (cidr_parse(it->str, c->ver == API_V1, &vec->v[vec->n], why,
				      sizeof(why)) < 0) {
			dctx_err(c, it, "%s", why);
		} else {
			vec->v[vec->n++].pos = it->pos;
		}
		dctx_pop(c, saved);
	}
}

static void dec_cidrs(struct dctx *c, const struct value *n, void *out)
{
	dec_cidrs_common(c, n, out, false);
}

static void dec_cidr_one(struct dctx *c, const struct value *n, void *out)
{
	dec_cidrs_common(c, n, out, true);
}

bool port_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 128)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.-") == n;
}

static int port_number(const char *s, uint16_t *ret)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -ERANGE;
	*ret = (uint16_t)v;
	return 0;
}

static void dec_port(struct dctx *c, const struct value *n, struct port *p)
{
	char lo[16], hi[16];
	const char *colon;
	int a, b;

	if (!decode_expect(c, n, VALUE_SCALAR))
		return;
	p->pos = n->pos;
	a = port_number(n->str, &p->min);
	if (a == 0) {
		p->max = p->min;
		goto check_zero;
	}
	colon = strchr(n->str, ':');
	if (colon && (size_t)(colon - n->str) < sizeof(lo) && strlen(colon + 1) < sizeof(hi)) {
		snprintf(lo, sizeof(lo), "%.*s", (int)(colon - n->str), n->str);
		snprintf(hi, sizeof(hi), "%s", colon + 1);
		a = port_number(lo, &p->min);
		b = port_number(hi, &p->max);
		if (a == 0 && b == 0) {
			if (p->min > p->max) {
				dctx_err(c, n, "port range %s is reversed", n->str);
				return;
			}
			goto check_zero;
		}
	}
	if (a == -ERANGE || (colon && strspn(n->str, "0123456789:") == n->len)) {
		dctx_err(c, n, "port %s is out of range 1 to 65535", n->str);
		return;
	}
	if (c->ver != API_V1 && port_name_ok(n->str)) {
		p->name = strdup(n->str);
		p->min = p->max = 0;
		if (!p->name)
			dctx_err(c, n, "out of memory");
		return;
	}
	dctx_err(c, n, "\"%s\" is not a port, a range min:max%s", n->str,
		 c->ver == API_V1 ? "" : " or a port name");
	return;
check_zero:
	if (p->min == 0)
		dctx_err(c, n, "port 0 is not valid (1 to 65535)");
}

static void dec_ports(struct dctx *c, const struct value *n, void *out)
{
	struct port_vec *vec = out;

	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	vec->v = calloc(n->n ? n->n : 1, sizeof(*vec->v));
	if (!vec->v) {
		dctx_err(c, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		size_t saved = dctx_push_index(c, i);
		unsigned before = c->errors;
		struct port p = { 0 };

		dec_port(c, n->kids[i], &p);
		if (c->errors == before)
			vec->v[vec->n++] = p;
		else
			free(p.name);
		dctx_pop(c, saved);
	}
}

static void selector_common(struct dctx *c, const struct value *n, void *out, bool ns)
{
	struct selector_error err = { 0 };
	struct selector *s = NULL;
	char **ret = out;
	int r;

	if (!decode_expect(c, n, VALUE_SCALAR))
		return;
	r = selector_parse(n->str, &s, &err);
	if (r == -EINVAL) {
		struct value at = *n;

		/* Point at the offending character on one-line values. */
		if (!strchr(n->str, '\n'))
			at.pos.col += (uint32_t)err.offset + (n->quoted ? 1 : 0);
		dctx_err(c, &at, "invalid selector: %s", err.msg);
		return;
	}
	/* Calico's v1 -> v3 upgrade: the namespace label of Kubernetes pods
	 * changed names. */
	if (r == 0 && c->ver == API_V1)
		r = selector_rename_label(s, "calico/k8s_ns", "projectcalico.org/namespace");
	if (r < 0) {
		selector_free(s);
		dctx_err(c, n, "out of memory");
		return;
	}
	if (selector_uses_global(s) && (!ns || !selector_is_global(s))) {
		dctx_err(c, n,
			 ns ? "global() must stand alone in a namespaceSelector"
			    : "global() is only allowed in a rule's namespaceSelector");
	} else {
		free(*ret);
		*ret = selector_format(s);
		if (!*ret)
			dctx_err(c, n, "out of memory");
	}
	selector_free(s);
}

void dec_selector(struct dctx *c, const struct value *n, void *out)
{
	selector_common(c, n, out, false);
}

static void dec_ns_selector(struct dctx *c, const struct value *n, void *out)
{
	selector_common(c, n, out, true);
}

static void dec_service_accounts(struct dctx *c, const struct value *n, void *out)
{
	struct entity *e = out;
	static const struct field f[] = {
		{ "names", dec_string_list, offsetof(struct entity, sa_names) },
		{ "selector", dec_selector, offsetof(struct entity, sa_selector) },
	};

	decode_fields(c, n, f, ARRAY_SIZE(f), e);
}

/* services: {name, namespace}: a Kubernetes Service's endpoints, which
 * Felix learns only from the Kubernetes datastore: with etcd (and here)
 * such a match matches nothing. Checked as Calico checks it. */
static void dec_services(struct dctx *c, const struct value *n, void *out)
{
	static const struct field f[] = {
		{ "name", dec_string, offsetof(struct entity, svc_name) },
		{ "namespace", dec_string, offsetof(struct entity, svc_ns) },
	};
	struct entity *e = out;

	decode_fields(c, n, f, ARRAY_SIZE(f), e);
	if (!e->svc_name || !*e->svc_name)
		dctx_err(c, n, "services needs a name");
	if (e->svc_name && !e->svc_name[0]) {
		free(e->svc_name);
		e->svc_name = NULL;
	}
}

static const struct field entity_v3[] = {
	{ "nets", dec_cidrs, offsetof(struct entity_in, e.nets) },
	{ "notNets", dec_cidrs, offsetof(struct entity_in, e.not_nets) },
	{ "selector", dec_selector, offsetof(struct entity_in, e.selector) },
	{ "notSelector", dec_selector, offsetof(struct entity_in, e.not_selector) },
	{ "namespaceSelector", dec_ns_selector, offsetof(struct entity_in, e.ns_selector) },
	{ "ports", dec_ports, offsetof(struct entity_in, e.ports) },
	{ "notPorts", dec_ports, offsetof(struct entity_in, e.not_ports) },
	{ "serviceAccounts", dec_service_accounts, offsetof(struct entity_in, e) },
	{ "services", dec_services, offsetof(struct entity_in, e) },
};

static const struct field entity_v1[] = {
	{ "nets", dec_cidrs, offsetof(struct entity_in, e.nets) },
	{ "notNets", dec_cidrs, offsetof(struct entity_in, e.not_nets) },
	{ "net", dec_cidr_one, offsetof(struct entity_in, net) },
	{ "notNet", dec_cidr_one, offsetof(struct entity_in, not_net) },
	{ "selector", dec_selector, offsetof(struct entity_in, e.selector) },
	{ "notSelector", dec_selector, offsetof(struct entity_in, e.not_selector) },
	{ "tag", dec_string, offsetof(struct entity_in, tag) },
	{ "notTag", dec_string, offsetof(struct entity_in, not_tag) },
	{ "ports", dec_ports, offsetof(struct entity_in, e.ports) },
	{ "notPorts", dec_ports, offsetof(struct entity_in, e.not_ports) },
};

/* v1 tags become label tests, as calico-upgrade converts them. */
static int tag_merge(char **sel, const char *tag, const char *op)
{
	char *s;
	int r;

	if (*sel)
		r = asprintf(&s, "(%s) %s %s == \"\"", *sel, op, tag);
	else
		r = asprintf(&s, "%s == \"\"", tag);
	if (r < 0)
		return -ENOMEM;
	free(*sel);
	*sel = s;
	return 0;
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);

	return n >= 1 && n <= 128 &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.-") == n;
}

static void v1_entity_fixup(struct dctx *c, const struct value *n, struct entity_in *in)
{
	if ((in->net.n || in->not_net.n) && (in->e.n_nets || in->e.n_not_nets))
		dctx_err(c, n, "only one of net/notNet and nets/notNets may be given");
	if (in->net.n) {
		free(in->e.nets);
		in->e.nets = in->net.v;
		in->e.n_nets = 1;
		in->net.v = NULL;
	}
	if (in->not_net.n) {
		free(in->e.not_nets);
		in->e.not_nets = in->not_net.v;
		in->e.n_not_nets = 1;
		in->not_net.v = NULL;
	}
	free(in->net.v);
	free(in->not_net.v);
	if (in->tag && !tag_ok(in->tag))
		dctx_err(c, n, "invalid tag \"%s\"", in->tag);
	else if (in->tag && tag_merge(&in->e.selector, in->tag, "&&") < 0)
		dctx_err(c, n, "out of memory");
	if (in->not_tag && !tag_ok(in->not_tag))
		dctx_err(c, n, "invalid notTag \"%s\"", in->not_tag);
	else if (in->not_tag && tag_merge(&in->e.not_selector, in->not_tag, "||") < 0)
		dctx_err(c, n, "out of memory");
	free(in->tag);
	free(in->not_tag);
}

/* A rule's metadata: annotations, checked as a resource's; no effect. */
static void dec_rule_metadata(struct dctx *c, const struct value *n, void *out)
{
	static const struct field f[] = { { "annotations", dec_annotations, 0 } };
	struct labels l = { 0 };

	(void)out;
	decode_fields(c, n, f, ARRAY_SIZE(f), &l);
	labels_clear(&l);
}

static void dec_entity(struct dctx *c, const struct value *n, void *out)
{
	struct entity_in in = { 0 };
	struct entity *e = out;

	if (c->ver == API_V1)
		decode_fields(c, n, entity_v1, ARRAY_SIZE(entity_v1), &in);
	else
		decode_fields(c, n, entity_v3, ARRAY_SIZE(entity_v3), &in);
	if (c->ver == API_V1)
		v1_entity_fixup(c, n, &in);
	*e = in.e;
	if (e->svc_name && (e->selector || e->not_selector || e->ns_selector || e->n_nets ||
			    e->n_not_nets || e->n_sa_names || e->sa_selector))
		dctx_err(c, value_map_get(n, "services"),
			 "services cannot be combined with selectors, nets or serviceAccounts");
	/* Calico 3.x refuses what can match nothing */
	for (size_t i = 0; c->ver == API_V3 && i < e->n_not_nets; i++)
		if (e->not_nets[i].len == 0) {
			size_t saved = dctx_push(c, ".notNets[%zu]", i);

			dctx_err(c, value_map_get(n, "notNets"),
				 "a catch-all CIDR in notNets matches no traffic");
			dctx_pop(c, saved);
		}
}

static void entity_free(struct entity *e)
{
	free(e->nets);
	free(e->not_nets);
	free(e->selector);
	free(e->not_selector);
	free(e->ns_selector);
	for (size_t i = 0; i < e->n_ports; i++)
		free(e->ports[i].name);
	free(e->ports);
	for (size_t i = 0; i < e->n_not_ports; i++)
		free(e->not_ports[i].name);
	free(e->not_ports);
	for (size_t i = 0; i < e->n_sa_names; i++)
		free(e->sa_names[i]);
	free(e->sa_names);
	free(e->sa_selector);
	free(e->svc_name);
	free(e->svc_ns);
}

void rule_free_contents(struct rule *r)
{
	entity_free(&r->src);
	entity_free(&r->dst);
	free(r->http);
}

void rules_free(struct rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rule_free_contents(&v[i]);
	free(v);
}

static void dec_action(struct dctx *c, const struct value *n, void *out)
{
	static const char *const v1[] = { "allow", "deny", "log", "pass" };
	static const char *const v3[] = { "Allow", "Deny", "Log", "Pass" };
	const char *const *names = c->ver == API_V1 ? v1 : v3;
	enum action *a = out;

	if (!decode_expect(c, n, VALUE_SCALAR))
		return;
	for (int i = 0; i < ACTION_MAX; i++)
		if (strcmp(n->str, names[i]) == 0) {
			*a = (enum action)i;
			return;
		}
	dctx_err(c, n, "action \"%s\" is not one of %s, %s, %s, %s", n->str, names[0], names[1],
		 names[2], names[3]);
}

static void dec_ip_version(struct dctx *c, const struct value *n, void *out)
{
	uint8_t *v = out;
	uint64_t x;

	if (!dec_uint(c, n, 255, &x))
		return;
	if (x != 4 && x != 6) {
		dctx_err(c, n, "ipVersion must be 4 or 6");
		return;
	}
	*v = (uint8_t)x;
}

static void dec_protocol(struct dctx *c, const struct value *n, void *out)
{
	(void)protocol_parse(c, n, out);
}

static void dec_icmp_type(struct dctx *c, const struct value *n, void *out)
{
	struct icmp *i = out;
	uint64_t v;

	if (dec_uint(c, n, 254, &v)) {
		i->type = (uint8_t)v;
		i->has_type = true;
	}
}

static void dec_icmp_code(struct dctx *c, const struct value *n, void *out)
{
	struct icmp *i = out;
	uint64_t v;

	if (dec_uint(c, n, 255, &v)) {
		i->code = (uint8_t)v;
		i->has_code = true;
	}
}

static void dec_icmp(struct dctx *c, const struct value *n, void *out)
{
	static const struct field f[] = {
		{ "type", dec_icmp_type, 0 },
		{ "code", dec_icmp_code, 0 },
	};
	struct icmp *i = out;

	decode_fields(c, n, f, ARRAY_SIZE(f), i);
	i->set = true;
	if (i->has_code && !i->has_type)
		dctx_err(c, n, "an ICMP code needs an ICMP type");
}

static void dec_http_path(struct dctx *c, const struct value *n)
{
	const struct value *ex = value_map_get(n, "exact"), *pre = value_map_get(n, "prefix");
	const struct value *v = ex ? ex : pre;

	if (!decode_expect(c, n, VALUE_MAP))
		return;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		if (strcmp(n->kids[i]->str, "exact") && strcmp(n->kids[i]->str, "prefix"))
			dctx_err(c, n->kids[i], "unknown field \"%s\"", n->kids[i]->str);
	if ((ex && pre) || !v || v->type != VALUE_SCALAR || !v->len)
		dctx_err(c, n, "a path is one of exact or prefix");
	else if (v->str[0] != '/' || strpbrk(v->str, "? #"))
		dctx_err(c, v, "invalid path \"%s\" (starts with / and holds no ?, # or space)",
			 v->str);
}

/* http: methods (no duplicates) and paths; kept as written, not enforced
 * (Felix renders only the rule's L3/L4 part without an L7 proxy). */
static void dec_http(struct dctx *c, const struct value *n, void *out)
{
	const struct value *m = value_map_get(n, "methods"), *p = value_map_get(n, "paths");

	if (!decode_expect(c, n, VALUE_MAP))
		return;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		if (strcmp(n->kids[i]->str, "methods") && strcmp(n->kids[i]->str, "paths"))
			dctx_err(c, n->kids[i], "unknown field \"%s\"", n->kids[i]->str);
	for (size_t i = 0; m && decode_expect(c, m, VALUE_SEQ) && i < m->n; i++)
		for (size_t k = 0; k < i; k++)
			if (m->kids[i]->type == VALUE_SCALAR && m->kids[k]->type == VALUE_SCALAR &&
			    strcmp(m->kids[i]->str, m->kids[k]->str) == 0)
				dctx_err(c, m->kids[i], "method \"%s\" given twice",
					 m->kids[i]->str);
	for (size_t i = 0; p && decode_expect(c, p, VALUE_SEQ) && i < p->n; i++) {
		size_t saved = dctx_push(c, ".paths[%zu]", i);

		dec_http_path(c, p->kids[i]);
		dctx_pop(c, saved);
	}
	free(*(char **)out);
	*(char **)out = value_json_text(n);
	if (!*(char **)out)
		dctx_err(c, n, "out of memory");
}

static const struct field rule_fields[] = {
	{ "action", dec_action, offsetof(struct rule, action) },
	{ "ipVersion", dec_ip_version, offsetof(struct rule, ip_version) },
	{ "protocol", dec_protocol, offsetof(struct rule, protocol) },
	{ "notProtocol", dec_protocol, offsetof(struct rule, not_protocol) },
	{ "icmp", dec_icmp, offsetof(struct rule, icmp) },
	{ "notICMP", dec_icmp, offsetof(struct rule, not_icmp) },
	{ "source", dec_entity, offsetof(struct rule, src) },
	{ "destination", dec_entity, offsetof(struct rule, dst) },
	{ "metadata", dec_rule_metadata, 0 },		   /* v3 only, see below */
	{ "http", dec_http, offsetof(struct rule, http) }, /* v3 only */
};

static bool proto_has_ports(const struct protocol *p, enum api_version v)
{
	return p->num == 6 || p->num == 17 || (v != API_V1 && p->num == 132);
}

static void check_ports(struct dctx *c, const struct value *rn, const struct rule *r,
			const char *side, const char *key, const struct port *p, size_t n)
{
	const struct value *at = value_map_get(value_map_get(rn, side), key);
	bool numeric = false;
	size_t saved;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		numeric |= !p[i].name;
	if (r->protocol.set ? proto_has_ports(&r->protocol, c->ver) : !numeric)
		return;
	saved = dctx_push(c, ".%s.%s", side, key);
	dctx_err(c, at, "ports need protocol %s",
		 c->ver == API_V1 ? "tcp or udp" : "TCP, UDP or SCTP");
	dctx_pop(c, saved);
}

/* Every CIDR in the rule must agree on the family, and with ipVersion. */
static void check_families(struct dctx *c, const struct value *rn, const struct rule *r)
{
	const struct entity *ents[2] = { &r->src, &r->dst };
	const struct cidr *first = NULL;

	for (int e = 0; e < 2; e++) {
		const struct cidr *lists[2] = { ents[e]->nets, ents[e]->not_nets };
		size_t counts[2] = { ents[e]->n_nets, ents[e]->n_not_nets };

		for (int l = 0; l < 2; l++)
			for (size_t i = 0; i < counts[l]; i++) {
				const struct cidr *x = &lists[l][i];
				struct value at = { .pos = x->pos };
				int want = r->ip_version == 4 ? AF_INET : AF_INET6;

				if (r->ip_version && x->family != want) {
					dctx_err(c, &at, "ipVersion %u does not match CIDR family",
						 r->ip_version);
					return;
				}
				if (first && first->family != x->family) {
					dctx_err(c, &at, "rule contains both IPv4 and IPv6 CIDRs");
					return;
				}
				first = first ? first : x;
			}
	}
	(void)rn;
}

static void check_icmp(struct dctx *c, const struct value *rn, const struct rule *r)
{
	const struct protocol *ps[2] = { &r->protocol, &r->not_protocol };

	if (c->ver == API_V1)
		return;
	if (r->icmp.set && !(r->protocol.num == 1 || r->protocol.num == 58))
		dctx_err(c, value_map_get(rn, "icmp"), "icmp needs protocol ICMP or ICMPv6");
	for (int i = 0; i < 2; i++) {
		if (ps[i]->num == 1 && r->ip_version == 6)
			dctx_err(c, rn, "protocol ICMP needs ipVersion 4");
		if (ps[i]->num == 58 && r->ip_version == 4)
			dctx_err(c, rn, "protocol ICMPv6 needs ipVersion 6");
	}
}

static void dec_rule(struct dctx *c, const struct value *n, struct rule *r)
{
	size_t nf = ARRAY_SIZE(rule_fields) - (c->ver == API_V1 ? 2 : 0);

	r->pos = n->pos;
	r->action = ACTION_MAX;
	decode_fields(c, n, rule_fields, nf, r);
	if (n->type != VALUE_MAP)
		return;
	if (r->action == ACTION_MAX && !value_map_get(n, "action"))
		dctx_err(c, n, "action is required");
	check_ports(c, n, r, "source", "ports", r->src.ports, r->src.n_ports);
	check_ports(c, n, r, "source", "notPorts", r->src.not_ports, r->src.n_not_ports);
	check_ports(c, n, r, "destination", "ports", r->dst.ports, r->dst.n_ports);
	check_ports(c, n, r, "destination", "notPorts", r->dst.not_ports, r->dst.n_not_ports);
	check_families(c, n, r);
	check_icmp(c, n, r);
	if (r->http && (r->action != ACTION_ALLOW || (r->protocol.set && r->protocol.num != 6)))
		dctx_err(c, value_map_get(n, "http"),
			 "http needs action Allow and protocol TCP (or none)");
	if (r->dst.svc_name && (r->dst.n_ports || r->dst.n_not_ports))
		dctx_err(c, value_map_get(n, "destination"),
			 "ports cannot be given with destination services");
}

void dec_rules(struct dctx *c, const struct value *n, void *out)
{
	struct rule_vec *vec = out;

	if (n->type == VALUE_SCALAR && value_scalar_type(n) == SCALAR_NULL)
		return;
	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	vec->v = calloc(n->n ? n->n : 1, sizeof(*vec->v));
	if (!vec->v) {
		dctx_err(c, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		size_t saved = dctx_push_index(c, i);

		dec_rule(c, n->kids[i], &vec->v[vec->n++]);
		dctx_pop(c, saved);
	}
}
