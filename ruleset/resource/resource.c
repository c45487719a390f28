/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kinds, names, keys and the life cycle of resources. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resource-internal.h"

static const char *const gnp_aliases[] = { "globalnetworkpolicy", "globalnetworkpolicies", "gnp",
					   "gnps", NULL };
static const char *const np_aliases[] = {
	"networkpolicy", "networkpolicies", "np", "policy", "policies", "pol", "pols", NULL
};
static const char *const hep_aliases[] = { "hostendpoint", "hostendpoints", "hep", "heps", NULL };
static const char *const wep_aliases[] = { "workloadendpoint", "workloadendpoints", "wep", "weps",
					   NULL };
static const char *const gns_aliases[] = { "globalnetworkset", "globalnetworksets", "gnetset",
					   "gnetsets", NULL };
static const char *const ns_aliases[] = { "networkset", "networksets", "netset", "netsets", NULL };
static const char *const pro_aliases[] = { "profile", "profiles", "pro", "pros", NULL };
static const char *const felix_aliases[] = { "felixconfiguration", "felixconfigurations",
					     "felixconfig", "felixconfigs", NULL };

static const struct kind_info kinds[RES_KIND_MAX] = {
	[RES_GLOBAL_NETWORK_POLICY] = { "GlobalNetworkPolicy", "globalnetworkpolicies", false, true,
					gnp_aliases },
	[RES_NETWORK_POLICY] = { "NetworkPolicy", "networkpolicies", true, true, np_aliases },
	[RES_HOST_ENDPOINT] = { "HostEndpoint", "hostendpoints", false, false, hep_aliases },
	[RES_WORKLOAD_ENDPOINT] = { "WorkloadEndpoint", "workloadendpoints", true, false,
				    wep_aliases },
	[RES_GLOBAL_NETWORK_SET] = { "GlobalNetworkSet", "globalnetworksets", false, false,
				     gns_aliases },
	[RES_NETWORK_SET] = { "NetworkSet", "networksets", true, false, ns_aliases },
	[RES_PROFILE] = { "Profile", "profiles", false, false, pro_aliases },
	[RES_FELIX_CONFIGURATION] = { "FelixConfiguration", "felixconfigurations", false, false,
				      felix_aliases },
};

const struct kind_info *kind_info(enum res_kind k)
{
	return (unsigned)k < RES_KIND_MAX ? &kinds[k] : NULL;
}

int kind_from_alias(const char *name)
{
	for (int k = 0; k < RES_KIND_MAX; k++)
		for (const char *const *a = kinds[k].aliases; *a; a++)
			if (strcasecmp(name, *a) == 0)
				return k;
	return -ENOENT;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void endpoint_free(struct endpoint_spec *e)
{
	free(e->node);
	free(e->iface);
	free(e->ips);
	strv_free(e->profiles, e->n_profiles);
	for (size_t i = 0; i < e->n_ports; i++)
		free(e->ports[i].name);
	free(e->ports);
	free(e->orchestrator);
	free(e->workload);
	free(e->pod);
	free(e->endpoint);
	free(e->container_id);
	free(e->mac);
	free(e->service_account);
}

struct resource *resource_free(struct resource *r)
{
	if (!r)
		return NULL;
	switch (r->kind) {
	case RES_GLOBAL_NETWORK_POLICY:
	case RES_NETWORK_POLICY:
		free(r->u.policy.selector);
		free(r->u.policy.ns_selector);
		free(r->u.policy.sa_selector);
		rules_free(r->u.policy.ingress, r->u.policy.n_ingress);
		rules_free(r->u.policy.egress, r->u.policy.n_egress);
		break;
	case RES_HOST_ENDPOINT:
	case RES_WORKLOAD_ENDPOINT: endpoint_free(&r->u.ep); break;
	case RES_GLOBAL_NETWORK_SET:
	case RES_NETWORK_SET: free(r->u.netset.nets); break;
	case RES_PROFILE:
		rules_free(r->u.profile.ingress, r->u.profile.n_ingress);
		rules_free(r->u.profile.egress, r->u.profile.n_egress);
		labels_clear(&r->u.profile.labels_to_apply);
		break;
	case RES_FELIX_CONFIGURATION:
		free(r->u.felix.failsafe_in);
		free(r->u.felix.failsafe_out);
		free(r->u.felix.interface_prefix);
		free(r->u.felix.log_prefix);
		free(r->u.felix.ep_to_host);
		free(r->u.felix.table_name);
		break;
	case RES_KIND_MAX: break;
	}
	free(r->name);
	free(r->namespace);
	labels_clear(&r->labels);
	labels_clear(&r->annotations);
	free(r->uid);
	free(r->created);
	free(r->file);
	free(r);
	return NULL;
}

int resource_list_add(struct resource_list *l, struct resource *r)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct resource **v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			resource_free(r);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = r;
	return 0;
}

void resource_list_clear(struct resource_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		resource_free(l->v[i]);
	free(l->v);
	*l = (struct resource_list){ 0 };
}

static int cmp_resource(const void *pa, const void *pb)
{
	const struct resource *a = *(struct resource *const *)pa;
	const struct resource *b = *(struct resource *const *)pb;
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->namespace ? a->namespace : "", b->namespace ? b->namespace : "");
	return c ? c : strcmp(a->name, b->name);
}

void resource_list_sort(struct resource_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_resource);
}

int policy_compare(const struct resource *a, const struct resource *b)
{
	const struct policy_spec *x = &a->u.policy, *y = &b->u.policy;
	_cleanup_free_ char *na = NULL, *nb = NULL;
	int c;

	if (x->has_order != y->has_order)
		return x->has_order ? -1 : 1;
	if (x->has_order && x->order != y->order)
		return x->order < y->order ? -1 : 1;
	/* Felix sorts on the stored name: <ns>/default.<name>. */
	na = policy_name_to_storage(a->name);
	nb = policy_name_to_storage(b->name);
	if (!na || !nb)
		return strcmp(a->name, b->name);
	c = strcmp(a->namespace ? a->namespace : "", b->namespace ? b->namespace : "");
	return c ? c : strcmp(na, nb);
}

char *policy_name_to_storage(const char *name)
{
	char *s;

	if (strncmp(name, "knp.", 4) == 0)
		return strdup(name);
	return asprintf(&s, "default.%s", name) < 0 ? NULL : s;
}

char *policy_name_from_storage(const char *stored)
{
	if (strncmp(stored, "default.", 8) == 0)
		return strdup(stored + 8);
	return strdup(stored);
}

char *resource_key(enum res_kind kind, const char *ns, const char *name)
{
	const struct kind_info *k = kind_info(kind);
	_cleanup_free_ char *stored = NULL;
	char *key;
	int r;

	if (!k)
		return NULL;
	stored = k->policy ? policy_name_to_storage(name) : strdup(name);
	if (!stored)
		return NULL;
	if (k->namespaced)
		r = asprintf(&key, "/calico/resources/v3/projectcalico.org/%s/%s/%s", k->plural,
			     ns ? ns : "default", stored);
	else
		r = asprintf(&key, "/calico/resources/v3/projectcalico.org/%s/%s", k->plural,
			     stored);
	return r < 0 ? NULL : key;
}

/* ---- names and labels ---------------------------------------------------- */

static bool dns_label(const char *s, size_t n)
{
	if (n < 1 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && !(ch == '-' && i > 0 && i + 1 < n))
			return false;
	}
	return true;
}

static bool dns_subdomain(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 253)
		return false;
	for (const char *p = s;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (!dns_label(p, len))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

static bool charset(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (; *s; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || strchr(extra, *s);
		if (!ok)
			return false;
	}
	return true;
}

bool validate_name(struct dctx *c, const struct value *at, enum res_kind k, const char *name)
{
	bool ok;

	if (c->ver == API_V1)
		ok = charset(name, 1, 128, "_./-");
	else if (c->ver == API_K8S)
		ok = dns_subdomain(name);
	else if (k == RES_GLOBAL_NETWORK_POLICY)
		ok = dns_label(name, strlen(name));
	else if (k == RES_NETWORK_POLICY)
		ok = dns_label(name, strlen(name)) ||
		     (strncmp(name, "knp.default.", 12) == 0 && dns_subdomain(name + 12));
	else
		ok = dns_subdomain(name);
	if (!ok)
		dctx_err(c, at, "invalid name \"%s\"%s", name,
			 k == RES_GLOBAL_NETWORK_POLICY && c->ver == API_V3
				 ? " (lower-case letters, digits and '-', no dots)"
				 : "");
	return ok;
}

/* Kubernetes qualified names: [prefix/]name; v1 keys are a plain charset. */
bool validate_label_key(const char *k, enum api_version ver)
{
	const char *slash = strrchr(k, '/');
	const char *name = slash ? slash + 1 : k;
	size_t n = strlen(name);

	if (ver == API_V1)
		return charset(k, 1, 512, "_./-");
	if (slash) {
		_cleanup_free_ char *prefix = strndup(k, (size_t)(slash - k));

		if (!prefix || !dns_subdomain(prefix))
			return false;
	}
	if (n < 1 || n > 63 || !charset(name, 1, 63, "-_."))
		return false;
	return !strchr("-_.", name[0]) && !strchr("-_.", name[n - 1]);
}

/* Label values: empty, or up to 63 of [-_.a-zA-Z0-9] starting and ending
 * with a letter or digit (Kubernetes and Calico alike). */
bool validate_label_value(const char *v)
{
	size_t n = strlen(v);

	if (n == 0)
		return true;
	if (n > 63 || !charset(v, 1, 63, "-_."))
		return false;
	return !strchr("-_.", v[0]) && !strchr("-_.", v[n - 1]);
}

/* Kubernetes namespaces are DNS labels. */
bool validate_namespace(const char *ns)
{
	return dns_label(ns, strlen(ns));
}
