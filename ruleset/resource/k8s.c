/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kubernetes resources as Calico sees them: a networking.k8s.io/v1
 * NetworkPolicy becomes the Calico NetworkPolicy knp.default.<name>
 * (order 1000), and a Namespace becomes the profile kns.<name> whose
 * labelsToApply carry the namespace's labels with the pcns. prefix, as
 * Calico's kube-controllers write them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"

#define KM(f) offsetof(struct k8s_meta, f)
static const struct field k8s_meta_fields[] = {
	{ "name", dec_string, KM(name) },     { "namespace", dec_string, KM(namespace) },
	{ "labels", dec_labels, KM(labels) }, { "annotations", dec_annotations, KM(annotations) },
	{ "uid", dec_string, KM(uid) },	      { "creationTimestamp", dec_string, KM(created) },
	{ "resourceVersion", dec_ignore, 0 }, { "generation", dec_ignore, 0 },
	{ "managedFields", dec_ignore, 0 },   { "selfLink", dec_ignore, 0 },
};
#undef KM

/* ---- label selectors ----------------------------------------------------- */

static void dec_exprs(struct dctx *c, const struct value *n, void *out)
{
	static const struct field f[] = {
		{ "key", dec_string, offsetof(struct expr_in, key) },
		{ "operator", dec_string, offsetof(struct expr_in, op) },
		{ "values", dec_string_list, offsetof(struct expr_in, values) },
	};
	struct label_selector *s = out;

	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	s->exprs = calloc(n->n ? n->n : 1, sizeof(*s->exprs));
	if (!s->exprs)
		return;
	for (size_t i = 0; i < n->n; i++) {
		size_t saved = dctx_push_index(c, i);

		struct expr_in *e = &s->exprs[i];

		decode_fields(c, n->kids[i], f, ARRAY_SIZE(f), e);
		s->n_exprs++;
		if (!e->key || !e->op)
			dctx_err(c, n->kids[i], "matchExpressions need key and operator");
		else if (strcmp(e->op, "In") && strcmp(e->op, "NotIn") && strcmp(e->op, "Exists") &&
			 strcmp(e->op, "DoesNotExist"))
			dctx_err(c, n->kids[i],
				 "unknown operator \"%s\" (In, NotIn, Exists, DoesNotExist)",
				 e->op);
		else if ((e->op[0] == 'I' || e->op[0] == 'N') && !e->values.n)
			dctx_err(c, n->kids[i], "operator %s needs values", e->op);
		else if ((e->op[0] == 'E' || e->op[0] == 'D') && e->values.n)
			dctx_err(c, n->kids[i], "operator %s takes no values", e->op);
		else if (!validate_label_key(e->key, API_K8S))
			dctx_err(c, n->kids[i], "invalid label key \"%s\"", e->key);
		else
			e->valid = true;
		dctx_pop(c, saved);
	}
}

void dec_label_selector(struct dctx *c, const struct value *n, void *out)
{
	static const struct field f[] = {
		{ "matchLabels", dec_labels, offsetof(struct label_selector, match) },
		{ "matchExpressions", dec_exprs, 0 },
	};
	struct label_selector *s = out;

	s->present = true;
	if (n->type == VALUE_SCALAR && value_scalar_type(n) == SCALAR_NULL)
		return;
	decode_fields(c, n, f, ARRAY_SIZE(f), s);
}

void label_selector_clear(struct label_selector *s)
{
	labels_clear(&s->match);
	for (size_t i = 0; i < s->n_exprs; i++) {
		free(s->exprs[i].key);
		free(s->exprs[i].op);
		for (size_t j = 0; j < s->exprs[i].values.n; j++)
			free(s->exprs[i].values.v[j]);
		free(s->exprs[i].values.v);
	}
	free(s->exprs);
}

static void put_quoted(FILE *f, const char *v)
{
	fprintf(f, strchr(v, '\'') ? "\"%s\"" : "'%s'", v);
}

static void put_expr(FILE *f, const struct expr_in *e)
{
	bool in = strcmp(e->op, "In") == 0;

	if (in || strcmp(e->op, "NotIn") == 0) {
		fprintf(f, "%s %s {", e->key, in ? "in" : "not in");
		for (size_t i = 0; i < e->values.n; i++) {
			fputs(i ? ", " : "", f);
			put_quoted(f, e->values.v[i]);
		}
		fputc('}', f);
		return;
	}
	fprintf(f, "%shas(%s)", e->op[0] == 'D' ? "!" : "", e->key);
}

/* A Kubernetes label selector as Calico selector text; pods also get
 * projectcalico.org/orchestrator == 'k8s'. Returns a canonical string. */
char *k8s_selector(struct dctx *c, const struct value *at, const struct label_selector *s,
		   bool pods)
{
	struct selector *sel = NULL;
	struct selector_error err;
	char *buf = NULL, *out = NULL;
	size_t len = 0, terms = 0;
	bool bad = false;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (pods) {
		fputs("projectcalico.org/orchestrator == 'k8s'", f);
		terms++;
	}
	for (size_t i = 0; i < s->match.n; i++, terms++) {
		fprintf(f, "%s%s == ", terms ? " && " : "", s->match.v[i].key);
		put_quoted(f, s->match.v[i].value);
	}
	for (size_t i = 0; i < s->n_exprs; i++, terms++) {
		if (!s->exprs[i].valid)
			bad = true; /* reported when decoded */
		else
			fputs(terms ? " && " : "", f), put_expr(f, &s->exprs[i]);
	}
	if (fclose(f) != 0)
		return NULL;
	if (bad) {
		free(buf);
		return strdup("all()");
	}
	if (!terms && !s->match.n && !s->n_exprs && !pods) {
		free(buf);
		return strdup("all()");
	}
	if (selector_parse(buf, &sel, &err) < 0)
		dctx_err(c, at, "invalid label selector: %s", err.msg);
	else
		out = selector_format(sel);
	selector_free(sel);
	free(buf);
	return out;
}

/* ---- rules ---------------------------------------------------------------- */

struct ipblock {
	char *cidr;
	struct {
		char **v;
		size_t n;
	} except;
};

struct peer_in {
	struct label_selector pods;
	struct label_selector nss;
	struct ipblock ip;
	bool has_ip;
};

struct port_in {
	char *protocol;
	char *port;
	uint64_t end_port;
	bool has_end;
};

static void dec_ipblock(struct dctx *c, const struct value *n, void *out)
{
	static const struct field f[] = {
		{ "cidr", dec_string, offsetof(struct ipblock, cidr) },
		{ "except", dec_string_list, offsetof(struct ipblock, except) },
	};
	struct peer_in *p = out;

	p->has_ip = true;
	decode_fields(c, n, f, ARRAY_SIZE(f), &p->ip);
	if (!p->ip.cidr)
		dctx_err(c, n, "ipBlock needs cidr");
}

static void dec_port_value(struct dctx *c, const struct value *n, void *out)
{
	dec_string(c, n, out);
}

static void dec_end_port(struct dctx *c, const struct value *n, void *out)
{
	struct port_in *p = out;

	if (dec_uint(c, n, 65535, &p->end_port))
		p->has_end = true;
}

int add_cidr(struct dctx *c, const struct value *at, const char *s, struct cidr **v, size_t *n)
{
	struct cidr *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	char why[128];

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (cidr_parse(s, true, &nv[*n], why, sizeof(why)) < 0) {
		dctx_err(c, at, "%s", why);
		return -EINVAL;
	}
	nv[*n].pos = at->pos;
	(*n)++;
	return 0;
}

static void peer_to_entity(struct dctx *c, const struct value *pn, struct peer_in *p,
			   struct entity *e)
{
	if (p->has_ip) {
		const struct value *at = value_map_get(pn, "ipBlock");

		if (p->pods.present || p->nss.present)
			dctx_err(c, at, "ipBlock cannot be combined with selectors");
		if (p->ip.cidr)
			add_cidr(c, at, p->ip.cidr, &e->nets, &e->n_nets);
		for (size_t i = 0; i < p->ip.except.n; i++)
			add_cidr(c, at, p->ip.except.v[i], &e->not_nets, &e->n_not_nets);
		return;
	}
	if (p->pods.present || p->nss.present)
		e->selector = k8s_selector(c, pn, &p->pods, true);
	if (p->nss.present)
		e->ns_selector = k8s_selector(c, pn, &p->nss, false);
}

static void peer_clear(struct peer_in *p)
{
	label_selector_clear(&p->pods);
	label_selector_clear(&p->nss);
	free(p->ip.cidr);
	for (size_t i = 0; i < p->ip.except.n; i++)
		free(p->ip.except.v[i]);
	free(p->ip.except.v);
}

/* One Calico rule per (peer, protocol), as Calico's converter emits. */
struct proto_group {
	struct protocol proto;
	struct port *ports;
	size_t n;
};

/* A NetworkPolicyPort's port and endPort: a number, a range or a name. */
static int port_parse_k8s(struct dctx *c, const struct value *pn, const struct port_in *in,
			  struct port *p)
{
	char *end;
	unsigned long v;

	if (!in->port)
		return 0;
	v = strtoul(in->port, &end, 10);
	if (in->port[0] >= '0' && in->port[0] <= '9' && !*end && v >= 1 && v <= 65535) {
		p->min = p->max = (uint16_t)v;
	} else if (!*in->port || (in->port[0] >= '0' && in->port[0] <= '9')) {
		dctx_err(c, pn, "port %s is out of range 1 to 65535", in->port);
		return -EINVAL;
	} else if (!port_name_ok(in->port)) {
		dctx_err(c, pn, "\"%s\" is not a port number or a port name", in->port);
		return -EINVAL;
	} else if (!(p->name = strdup(in->port))) {
		return -ENOMEM;
	}
	if (in->has_end && (p->name || in->end_port < p->min)) {
		dctx_err(c, pn, "endPort %llu needs a numeric port not above it",
			 (unsigned long long)in->end_port);
		return -EINVAL;
	}
	if (in->has_end)
		p->max = (uint16_t)in->end_port;
	return 0;
}

static int port_group_add(struct dctx *c, const struct value *pn, struct proto_group *g, size_t *ng)
{
	static const struct field f[] = {
		{ "protocol", dec_string, offsetof(struct port_in, protocol) },
		{ "port", dec_port_value, offsetof(struct port_in, port) },
		{ "endPort", dec_end_port, 0 },
	};
	struct port_in in = { 0 };
	struct protocol proto = { true, true, 6 };
	struct port p = { .pos = pn->pos };
	size_t i;
	int r = 0;

	decode_fields(c, pn, f, ARRAY_SIZE(f), &in);
	if (in.protocol && strcmp(in.protocol, "TCP") && strcmp(in.protocol, "UDP") &&
	    strcmp(in.protocol, "SCTP")) {
		dctx_err(c, pn, "protocol must be TCP, UDP or SCTP");
		r = -EINVAL;
		goto out;
	}
	if (in.protocol)
		proto.num = in.protocol[0] == 'T' ? 6 : in.protocol[0] == 'U' ? 17 : 132;
	r = port_parse_k8s(c, pn, &in, &p);
	if (r < 0)
		goto out;
	for (i = 0; i < *ng; i++)
		if (g[i].proto.num == proto.num)
			break;
	if (i == *ng) {
		g[i] = (struct proto_group){ .proto = proto };
		(*ng)++;
	}
	if (in.port) {
		struct port *v = realloc(g[i].ports, (g[i].n + 1) * sizeof(*v));

		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		g[i].ports = v;
		v[g[i].n++] = p;
	}
out:
	if (r < 0)
		free(p.name);
	free(in.protocol);
	free(in.port);
	return r;
}

void dec_node_ptr(struct dctx *c, const struct value *n, void *out)
{
	*(const struct value **)out = n;
}

static int copy_ports(const struct proto_group *g, struct entity *e)
{
	e->ports = calloc(g->n ? g->n : 1, sizeof(*e->ports));
	if (!e->ports)
		return -ENOMEM;
	for (size_t i = 0; i < g->n; i++) {
		e->ports[i] = g->ports[i];
		if (g->ports[i].name && !(e->ports[i].name = strdup(g->ports[i].name)))
			return -ENOMEM;
		e->n_ports++;
	}
	return 0;
}

int rule_push(struct rule **v, size_t *n, struct rule *r)
{
	struct rule *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv) {
		rule_free_contents(r);
		return -ENOMEM;
	}
	*v = nv;
	nv[(*n)++] = *r;
	return 0;
}

/* A copy of a peer's selectors and nets for one more rule (out of memory
 * leaves parts out; the caller's check of the rule list reports it). */
static struct entity peer_copy(const struct entity *peer)
{
	struct entity copy = { 0 };

	copy.selector = peer->selector ? strdup(peer->selector) : NULL;
	copy.ns_selector = peer->ns_selector ? strdup(peer->ns_selector) : NULL;
	if (peer->n_nets && (copy.nets = malloc(peer->n_nets * sizeof(struct cidr)))) {
		memcpy(copy.nets, peer->nets, peer->n_nets * sizeof(struct cidr));
		copy.n_nets = peer->n_nets;
	}
	if (peer->n_not_nets && (copy.not_nets = malloc(peer->n_not_nets * sizeof(struct cidr)))) {
		memcpy(copy.not_nets, peer->not_nets, peer->n_not_nets * sizeof(struct cidr));
		copy.n_not_nets = peer->n_not_nets;
	}
	return copy;
}

static void emit_rules(struct dctx *c, const struct value *item, const struct value *peers,
		       struct proto_group *g, size_t ng, bool ingress, struct rule **v, size_t *n)
{
	static const struct field pf[] = {
		{ "podSelector", dec_label_selector, offsetof(struct peer_in, pods) },
		{ "namespaceSelector", dec_label_selector, offsetof(struct peer_in, nss) },
		{ "ipBlock", dec_ipblock, 0 },
	};
	size_t npeers = peers && peers->type == VALUE_SEQ ? peers->n : 0;

	for (size_t p = 0; p < (npeers ? npeers : 1); p++) {
		const struct value *pn = npeers ? peers->kids[p] : NULL;
		struct peer_in in = { 0 };
		struct entity peer = { 0 };
		size_t saved = dctx_push(c, ".%s[%zu]", ingress ? "from" : "to", p);

		if (pn)
			decode_fields(c, pn, pf, ARRAY_SIZE(pf), &in);
		if (pn && !in.pods.present && !in.nss.present && !in.has_ip)
			dctx_err(c, pn, "a peer needs podSelector, namespaceSelector or ipBlock");
		if (pn)
			peer_to_entity(c, pn, &in, &peer);
		peer_clear(&in);
		dctx_pop(c, saved);
		for (size_t k = 0; k < (ng ? ng : 1); k++) {
			struct rule r = { .pos = item->pos, .action = ACTION_ALLOW };
			struct entity *side = ingress ? &r.src : &r.dst;
			int err = 0;

			if (pn)
				*side = peer_copy(&peer);
			if (ng) {
				r.protocol = g[k].proto;
				err = copy_ports(&g[k], &r.dst);
			}
			if (err < 0 || rule_push(v, n, &r) < 0)
				dctx_err(c, item, "out of memory");
		}
		free(peer.selector);
		free(peer.ns_selector);
		free(peer.nets);
		free(peer.not_nets);
	}
}

static void k8s_rules(struct dctx *c, const struct value *list, bool ingress, struct rule **v,
		      size_t *n)
{
	struct {
		const struct value *peers;
		const struct value *ports;
	} in;
	const struct field f[] = {
		{ ingress ? "from" : "to", dec_node_ptr, 0 },
		{ "ports", dec_node_ptr, sizeof(const struct value *) },
	};

	if (list->type == VALUE_SCALAR && value_scalar_type(list) == SCALAR_NULL)
		return;
	if (!decode_expect(c, list, VALUE_SEQ))
		return;
	for (size_t i = 0; i < list->n; i++) {
		size_t saved = dctx_push_index(c, i);
		struct proto_group g[3] = { 0 };
		size_t ng = 0;

		memset(&in, 0, sizeof(in));
		decode_fields(c, list->kids[i], f, ARRAY_SIZE(f), &in);
		if (in.peers && !decode_expect(c, in.peers, VALUE_SEQ))
			in.peers = NULL;
		if (in.ports && decode_expect(c, in.ports, VALUE_SEQ))
			for (size_t p = 0; p < in.ports->n; p++) {
				size_t s2 = dctx_push(c, ".ports[%zu]", p);

				port_group_add(c, in.ports->kids[p], g, &ng);
				dctx_pop(c, s2);
			}
		emit_rules(c, list->kids[i], in.peers, g, ng, ingress, v, n);
		for (size_t k = 0; k < ng; k++) {
			for (size_t p = 0; p < g[k].n; p++)
				free(g[k].ports[p].name);
			free(g[k].ports);
		}
		dctx_pop(c, saved);
	}
}

struct k8s_spec_in {
	struct label_selector pods;
	const struct value *types;
	const struct value *ingress;
	const struct value *egress;
	const struct value *staged_action;
};

static void k8s_types(struct dctx *c, const struct value *n, unsigned *types)
{
	enum api_version saved = c->ver;

	/* Kubernetes spells the types as Calico v3 does. */
	c->ver = API_V3;
	dec_policy_types(c, n, types);
	c->ver = saved;
}

bool k8s_meta(struct dctx *c, const struct value *root, struct k8s_meta *m)
{
	const struct value *meta = value_map_get(root, "metadata");
	size_t saved = dctx_push(c, "metadata");

	if (meta)
		decode_fields(c, meta, k8s_meta_fields, ARRAY_SIZE(k8s_meta_fields), m);
	if (m->namespace && !validate_namespace(m->namespace))
		dctx_err(c, value_map_get(meta, "namespace"), "invalid namespace \"%s\"",
			 m->namespace);
	if (!m->name)
		dctx_err(c, meta ? meta : root, "insufficient identifiers, missing 'name'");
	else
		validate_name(c, value_map_get(meta, "name"), RES_PROFILE, m->name);
	dctx_pop(c, saved);
	return m->name != NULL;
}

void k8s_meta_clear(struct k8s_meta *m)
{
	free(m->name);
	free(m->namespace);
	labels_clear(&m->labels);
	labels_clear(&m->annotations);
	free(m->uid);
	free(m->created);
}

void k8s_check_top(struct dctx *c, const struct value *root)
{
	static const struct field top[] = {
		{ "apiVersion", dec_ignore, 0 }, { "kind", dec_ignore, 0 },
		{ "metadata", dec_ignore, 0 },	 { "spec", dec_ignore, 0 },
		{ "status", dec_ignore, 0 },
	};

	decode_fields(c, root, top, ARRAY_SIZE(top), NULL);
}

/* policyTypes, ingress and egress of a NetworkPolicy spec. */
static void k8s_spec_rest(struct dctx *c, const struct k8s_spec_in *in, struct policy_spec *p)
{
	size_t saved;

	if (in->types) {
		saved = dctx_push(c, ".policyTypes");
		k8s_types(c, in->types, &p->types);
		dctx_pop(c, saved);
	}
	if (in->ingress) {
		saved = dctx_push(c, ".ingress");
		k8s_rules(c, in->ingress, true, &p->ingress, &p->n_ingress);
		dctx_pop(c, saved);
	}
	if (in->egress) {
		saved = dctx_push(c, ".egress");
		k8s_rules(c, in->egress, false, &p->egress, &p->n_egress);
		dctx_pop(c, saved);
	}
}

/* A stored staged policy keeps its uid and creationTimestamp. */
static void k8s_meta_take_identity(struct resource *r, struct k8s_meta *m, bool staged)
{
	if (!staged)
		return;
	r->uid = m->uid;
	r->created = m->created;
	m->uid = m->created = NULL;
}

/* staged: Calico's StagedKubernetesNetworkPolicy (stagedAction; its own
 * name, not knp.default.<name>). */
static struct resource *network_policy(struct dctx *c, const struct value *root, bool staged)
{
	static const struct field f[] = {
		{ "podSelector", dec_label_selector, offsetof(struct k8s_spec_in, pods) },
		{ "policyTypes", dec_node_ptr, offsetof(struct k8s_spec_in, types) },
		{ "ingress", dec_node_ptr, offsetof(struct k8s_spec_in, ingress) },
		{ "egress", dec_node_ptr, offsetof(struct k8s_spec_in, egress) },
		{ "stagedAction", dec_node_ptr, offsetof(struct k8s_spec_in, staged_action) },
	};
	const struct value *spec = value_map_get(root, "spec");
	struct k8s_spec_in in = { 0 };
	struct k8s_meta m = { 0 };
	struct resource *r = calloc(1, sizeof(*r));
	struct policy_spec *p;
	size_t saved;

	if (!r)
		return NULL;
	r->kind = staged ? RES_STAGED_K8S_NETWORK_POLICY : RES_NETWORK_POLICY;
	r->pos = root->pos;
	p = &r->u.policy;
	k8s_check_top(c, root);
	k8s_meta(c, root, &m);
	saved = dctx_push(c, "spec");
	if (spec)
		decode_fields(c, spec, f, ARRAY_SIZE(f) - !staged, &in);
	if (in.staged_action)
		dec_staged_action(c, in.staged_action, p);
	p->selector = k8s_selector(c, spec ? spec : root, &in.pods, true);
	k8s_spec_rest(c, &in, p);
	dctx_pop(c, saved);
	if (!p->types)
		p->types = POLICY_TYPE_INGRESS | (in.egress ? POLICY_TYPE_EGRESS : 0);
	p->has_order = true;
	p->order = 1000;
	p->apply_on_forward = true;
	label_selector_clear(&in.pods);
	if (staged && spec && !(p->k8s_spec = value_json_text(spec)))
		dctx_err(c, spec, "out of memory");
	if (m.name && asprintf(&r->name, "%s%s", staged ? "" : "knp.default.", m.name) < 0)
		r->name = NULL;
	r->namespace = m.namespace ? m.namespace : strdup("default");
	m.namespace = NULL;
	r->labels = m.labels;
	m.labels = (struct labels){ 0 };
	r->annotations = m.annotations;
	m.annotations = (struct labels){ 0 };
	k8s_meta_take_identity(r, &m, staged);
	k8s_meta_clear(&m);
	if (!r->name || !r->namespace || !p->selector || (staged && spec && !p->k8s_spec)) {
		if (!c->errors)
			dctx_err(c, root, "out of memory");
		return resource_free(r);
	}
	return r;
}

struct resource *k8s_decode_network_policy(struct dctx *c, const struct value *root)
{
	return network_policy(c, root, false);
}

struct resource *k8s_decode_staged_network_policy(struct dctx *c, const struct value *root)
{
	return network_policy(c, root, true);
}

struct resource *k8s_decode_namespace(struct dctx *c, const struct value *root)
{
	struct k8s_meta m = { 0 };
	struct resource *r = calloc(1, sizeof(*r));
	struct profile_spec *p;
	int err = 0;

	if (!r)
		return NULL;
	r->kind = RES_PROFILE;
	r->pos = root->pos;
	p = &r->u.profile;
	k8s_check_top(c, root);
	if (!k8s_meta(c, root, &m))
		goto out;
	if (m.namespace)
		dctx_err(c, value_map_get(value_map_get(root, "metadata"), "namespace"),
			 "a Namespace has no namespace");
	if (asprintf(&r->name, "kns.%s", m.name) < 0)
		r->name = NULL;
	for (size_t i = 0; i < m.labels.n; i++) {
		_cleanup_free_ char *k = NULL;

		if (asprintf(&k, "pcns.%s", m.labels.v[i].key) < 0)
			err = -ENOMEM;
		else if (!validate_label_key(k, API_V3))
			dctx_err(c, value_map_get(value_map_get(root, "metadata"), "labels"),
				 "label key \"%s\" is too long to carry as \"%s\"",
				 m.labels.v[i].key, k);
		else
			err |= labels_set(&p->labels_to_apply, k, m.labels.v[i].value);
	}
	err |= labels_set(&p->labels_to_apply, "pcns.projectcalico.org/name", m.name);
	/* Calico's namespace profiles allow everything; policies restrict. */
	p->ingress = calloc(1, sizeof(*p->ingress));
	p->egress = calloc(1, sizeof(*p->egress));
	if (!r->name || err || !p->ingress || !p->egress) {
		dctx_err(c, root, "out of memory");
		goto out;
	}
	p->n_ingress = p->n_egress = 1;
	p->ingress[0] = (struct rule){ .pos = root->pos, .action = ACTION_ALLOW };
	p->egress[0] = (struct rule){ .pos = root->pos, .action = ACTION_ALLOW };
out:
	k8s_meta_clear(&m);
	return r;
}
