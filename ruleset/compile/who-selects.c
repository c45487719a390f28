/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who selects what: the labels an endpoint is selected by (its profiles'
 * labelsToApply, Calico's implicit workload labels, its own), namespace
 * and service account labels from the kns./ksa. profiles, which policies
 * select an endpoint, and which endpoints and network sets a rule's
 * entity picks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile-internal.h"

const struct resource *find_resource(struct cctx *c, enum res_kind k, const char *ns,
				     const char *name)
{
	for (size_t i = 0; i < c->n_res; i++) {
		const struct resource *r = c->res[i];

		if (r->kind == k && strcmp(r->name, name) == 0 &&
		    (!ns || !r->namespace || strcmp(ns, r->namespace) == 0))
			return r;
	}
	return NULL;
}

static bool sel_match(const char *text, const struct labels *l)
{
	struct selector *s = NULL;
	struct selector_error err;
	bool m;

	if (!text)
		return true;
	if (selector_parse(text, &s, &err) < 0)
		return false;
	m = selector_match(s, l);
	selector_free(s);
	return m;
}

/* Labels an endpoint is selected by: its profiles' labelsToApply, then its
 * own labels, which win. */
int endpoint_labels(struct cctx *c, const struct resource *r, struct labels *out)
{
	const struct endpoint_spec *e = &r->u.ep;
	size_t np = r->kind == RES_HOST_ENDPOINT || r->kind == RES_WORKLOAD_ENDPOINT ? e->n_profiles
										     : 0;

	for (size_t i = 0; i < np; i++) {
		const struct resource *p = find_resource(c, RES_PROFILE, NULL, e->profiles[i]);

		for (size_t k = 0; p && k < p->u.profile.labels_to_apply.n; k++)
			if (labels_set(out, p->u.profile.labels_to_apply.v[k].key,
				       p->u.profile.labels_to_apply.v[k].value) < 0)
				return -ENOMEM;
	}
	/* What Calico's CNI plugin writes on every workload endpoint. */
	if (r->kind == RES_WORKLOAD_ENDPOINT &&
	    ((r->namespace && labels_set(out, "projectcalico.org/namespace", r->namespace) < 0) ||
	     (e->orchestrator && *e->orchestrator &&
	      labels_set(out, "projectcalico.org/orchestrator", e->orchestrator) < 0) ||
	     (e->service_account &&
	      labels_set(out, "projectcalico.org/serviceaccount", e->service_account) < 0)))
		return -ENOMEM;
	for (size_t k = 0; k < r->labels.n; k++)
		if (labels_set(out, r->labels.v[k].key, r->labels.v[k].value) < 0)
			return -ENOMEM;
	return 0;
}

/* Namespace labels, from the kns.<ns> profile Calico derives from a
 * Kubernetes Namespace (pcns. prefix removed). */
static int namespace_labels(struct cctx *c, const char *ns, struct labels *out)
{
	_cleanup_free_ char *name = NULL;
	const struct resource *p;

	if (asprintf(&name, "kns.%s", ns) < 0)
		return -ENOMEM;
	if (labels_set(out, "projectcalico.org/name", ns) < 0)
		return -ENOMEM;
	p = find_resource(c, RES_PROFILE, NULL, name);
	for (size_t k = 0; p && k < p->u.profile.labels_to_apply.n; k++) {
		const struct label *l = &p->u.profile.labels_to_apply.v[k];

		if (strncmp(l->key, "pcns.", 5) == 0 && labels_set(out, l->key + 5, l->value) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Does a service account selector match the workload's account? Its
 * labels come from the ksa.<ns>.<name> profile (pcsa. prefix removed),
 * as Calico's kube-controllers write them. */
static bool sa_selects(struct cctx *c, const char *sel, const struct resource *r)
{
	_cleanup_free_ char *name = NULL;
	struct labels l = { 0 };
	const struct resource *p;
	bool m = false;

	if (r->kind != RES_WORKLOAD_ENDPOINT || !r->u.ep.service_account)
		return false;
	if (asprintf(&name, "ksa.%s.%s", r->namespace ? r->namespace : "",
		     r->u.ep.service_account) < 0)
		goto oom;
	if (labels_set(&l, "projectcalico.org/name", r->u.ep.service_account) < 0)
		goto oom;
	p = find_resource(c, RES_PROFILE, NULL, name);
	for (size_t k = 0; p && k < p->u.profile.labels_to_apply.n; k++) {
		const struct label *x = &p->u.profile.labels_to_apply.v[k];

		if (strncmp(x->key, "pcsa.", 5) == 0 && labels_set(&l, x->key + 5, x->value) < 0)
			goto oom;
	}
	m = sel_match(sel, &l);
	labels_clear(&l);
	return m;
oom:
	c->err = -ENOMEM;
	labels_clear(&l);
	return false;
}

/* Does a namespace selector match the namespace ns? */
static bool ns_selects(struct cctx *c, const char *sel, const char *ns)
{
	struct labels l = { 0 };
	bool m = false;

	if (!ns)
		return false;
	if (namespace_labels(c, ns, &l) < 0)
		c->err = -ENOMEM;
	else
		m = sel_match(sel, &l);
	labels_clear(&l);
	return m;
}

const struct cidr *endpoint_addrs(const struct resource *r, size_t *n)
{
	switch (r->kind) {
	case RES_HOST_ENDPOINT:
	case RES_WORKLOAD_ENDPOINT: *n = r->u.ep.n_ips; return r->u.ep.ips;
	case RES_GLOBAL_NETWORK_SET:
	case RES_NETWORK_SET: *n = r->u.netset.n_nets; return r->u.netset.nets;
	default: *n = 0; return NULL;
	}
}

/* Does endpoint-like resource r match the entity's selectors, seen from a
 * policy in namespace pol_ns (NULL for global policies)? */
bool entity_selects(struct cctx *c, const struct entity *e, const char *sel, const char *pol_ns,
		    const struct resource *r)
{
	struct labels l = { 0 };
	bool m;

	if (e->ns_selector) {
		if (strcmp(e->ns_selector, "global()") == 0) {
			if (r->namespace)
				return false;
		} else if (!ns_selects(c, e->ns_selector, r->namespace)) {
			return false;
		}
	} else if (pol_ns && (!r->namespace || strcmp(r->namespace, pol_ns))) {
		return false;
	}
	if (e->n_sa_names || e->sa_selector) {
		bool found = false;

		if (r->kind != RES_WORKLOAD_ENDPOINT || !r->u.ep.service_account)
			return false;
		for (size_t i = 0; i < e->n_sa_names; i++)
			found |= strcmp(e->sa_names[i], r->u.ep.service_account) == 0;
		if (e->n_sa_names && !found)
			return false;
		if (e->sa_selector && !sa_selects(c, e->sa_selector, r))
			return false;
	}
	if (endpoint_labels(c, r, &l) < 0) {
		c->err = -ENOMEM;
		labels_clear(&l);
		return false;
	}
	m = sel_match(sel, &l);
	labels_clear(&l);
	return m;
}

/* A policy selects a host endpoint when it is global, not restricted by
 * namespace or service account, and its selector matches the endpoint's
 * labels. A workload endpoint is selected by global policies (within
 * their namespaceSelector and serviceAccountSelector) and by the
 * namespaced policies of its own namespace. */
bool policy_selects(struct cctx *c, const struct resource *p, const struct hep_if *h)
{
	const struct policy_spec *ps = &p->u.policy;
	const struct resource *ep = h->hep;

	if (ep->kind == RES_HOST_ENDPOINT) {
		if (p->kind != RES_GLOBAL_NETWORK_POLICY || ps->ns_selector || ps->sa_selector)
			return false;
		return sel_match(ps->selector, &h->labels);
	}
	if (p->kind == RES_NETWORK_POLICY &&
	    (!ep->namespace || !p->namespace || strcmp(ep->namespace, p->namespace)))
		return false;
	if (ps->ns_selector && !ns_selects(c, ps->ns_selector, ep->namespace))
		return false;
	if (ps->sa_selector && !sa_selects(c, ps->sa_selector, ep))
		return false;
	return sel_match(ps->selector, &h->labels);
}
