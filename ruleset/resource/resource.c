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

static const char *const tier_aliases[] = { "tier", "tiers", NULL };
static const char *const sgnp_aliases[] = { "stagedglobalnetworkpolicy",
					    "stagedglobalnetworkpolicies", "sgnp", "sgnps", NULL };
static const char *const sknp_aliases[] = { "stagedkubernetesnetworkpolicy",
					    "stagedkubernetesnetworkpolicies", "sknp", "sknps",
					    NULL };
static const char *const snp_aliases[] = { "stagednetworkpolicy", "stagednetworkpolicies", "snp",
					   "snps", NULL };

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
	[RES_TIER] = { "Tier", "tiers", false, false, tier_aliases },
	[RES_STAGED_GLOBAL_NETWORK_POLICY] = { "StagedGlobalNetworkPolicy",
					       "stagedglobalnetworkpolicies", false, true,
					       sgnp_aliases },
	[RES_STAGED_NETWORK_POLICY] = { "StagedNetworkPolicy", "stagednetworkpolicies", true, true,
					snp_aliases },
	/* stored under its own name: it is not a Calico policy */
	[RES_STAGED_K8S_NETWORK_POLICY] = { "StagedKubernetesNetworkPolicy",
					    "stagedkubernetesnetworkpolicies", true, false,
					    sknp_aliases },
};

bool kind_is_staged(enum res_kind k)
{
	return k == RES_STAGED_GLOBAL_NETWORK_POLICY || k == RES_STAGED_NETWORK_POLICY ||
	       k == RES_STAGED_K8S_NETWORK_POLICY;
}

enum res_kind kind_enforced(enum res_kind k)
{
	return k == RES_STAGED_GLOBAL_NETWORK_POLICY ? RES_GLOBAL_NETWORK_POLICY
	       : k == RES_STAGED_NETWORK_POLICY || k == RES_STAGED_K8S_NETWORK_POLICY
		       ? RES_NETWORK_POLICY
		       : k;
}

static const struct {
	const char *name;
	const char *alias; /* 3.29-3.31 */
	struct tier_spec spec;
} reserved_tiers[] = {
	{ TIER_DEFAULT, NULL, { true, 1e6, ACTION_DENY } },
	{ TIER_KUBE_ADMIN, "adminnetworkpolicy", { true, 1e3, ACTION_PASS } },
	{ TIER_KUBE_BASELINE, "baselineadminnetworkpolicy", { true, 1e7, ACTION_PASS } },
};

const char *tier_canonical(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(reserved_tiers); i++)
		if (reserved_tiers[i].alias && strcmp(name, reserved_tiers[i].alias) == 0)
			return reserved_tiers[i].name;
	return name;
}

bool tier_reserved(const char *name, struct tier_spec *ret)
{
	name = tier_canonical(name);
	for (size_t i = 0; i < ARRAY_SIZE(reserved_tiers); i++)
		if (strcmp(name, reserved_tiers[i].name) == 0) {
			if (ret)
				*ret = reserved_tiers[i].spec;
			return true;
		}
	return false;
}

int tiers_add_reserved(struct resource_list *l)
{
	for (size_t i = 0; i < ARRAY_SIZE(reserved_tiers); i++) {
		struct resource *t;
		bool have = false;

		for (size_t j = 0; j < l->n && !have; j++)
			have = l->v[j]->kind == RES_TIER &&
			       strcmp(l->v[j]->name, reserved_tiers[i].name) == 0;
		if (have)
			continue;
		t = calloc(1, sizeof(*t));
		if (!t || !(t->name = strdup(reserved_tiers[i].name))) {
			free(t);
			return -ENOMEM;
		}
		t->kind = RES_TIER;
		t->u.tier = reserved_tiers[i].spec;
		if (resource_list_add(l, t) < 0)
			return -ENOMEM;
	}
	return 0;
}

const char *policy_tier(const struct policy_spec *p)
{
	return p->tier ? p->tier : TIER_DEFAULT;
}

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
	free(e->spoof);
	free(e->nat_internal);
}

struct resource *resource_free(struct resource *r)
{
	if (!r)
		return NULL;
	switch (r->kind) {
	case RES_GLOBAL_NETWORK_POLICY:
	case RES_NETWORK_POLICY:
	case RES_STAGED_GLOBAL_NETWORK_POLICY:
	case RES_STAGED_NETWORK_POLICY:
	case RES_STAGED_K8S_NETWORK_POLICY:
		free(r->u.policy.tier);
		free(r->u.policy.k8s_spec);
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
	case RES_TIER:
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
	int c;

	if (x->has_order != y->has_order)
		return x->has_order ? -1 : 1;
	if (x->has_order && x->order != y->order)
		return x->order < y->order ? -1 : 1;
	/* Felix 3.32 breaks ties on "name/namespace/kind" */
	c = strcmp(a->name, b->name);
	if (c == 0)
		c = strcmp(a->namespace ? a->namespace : "", b->namespace ? b->namespace : "");
	return c ? c : strcmp(kind_info(a->kind)->kind, kind_info(b->kind)->kind);
}

char *policy_name_to_storage(const char *name)
{
	char *s;

	/* knp.*, and 3.29-3.31's <tier>.<name>, are stored as they are */
	if (strchr(name, '.'))
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

/* Calico's and Kubernetes' name patterns: a label is
 * [a-z0-9]([-a-z0-9]*[a-z0-9])?, with no length of its own (the whole name
 * has one); a subdomain is labels joined by dots. */
static bool label_fmt(const char *s, size_t n)
{
	if (n < 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && !(ch == '-' && i > 0 && i + 1 < n))
			return false;
	}
	return true;
}

/* Labels joined by at most max_dots dots (-1: any number). */
static bool labels_fmt(const char *s, size_t n, int max_dots)
{
	int dots = 0;

	for (const char *p = s, *end = s + n;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t len = dot ? (size_t)(dot - p) : (size_t)(end - p);

		if (!label_fmt(p, len))
			return false;
		if (!dot)
			return true;
		if (max_dots >= 0 && ++dots > max_dots)
			return false;
		p = dot + 1;
	}
}

static bool dns_label(const char *s, size_t n)
{
	return n <= 63 && label_fmt(s, n);
}

static bool dns_subdomain(const char *s)
{
	size_t n = strlen(s);

	return n <= 253 && labels_fmt(s, n, -1);
}

/* GlobalNetworkPolicy: one dot at most (a 3.29-3.31 tier prefix); the
 * Kubernetes admin policies' prefixes and a subdomain. */
static bool gnp_name(const char *s)
{
	static const char *const k8s[] = { "kanp.adminnetworkpolicy.",
					   "kbanp.baselineadminnetworkpolicy.", "kcnp." };
	size_t n = strlen(s);

	if (n > 253)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(k8s); i++)
		if (strncmp(s, k8s[i], strlen(k8s[i])) == 0)
			return labels_fmt(s + strlen(k8s[i]), n - strlen(k8s[i]), -1);
	return labels_fmt(s, n, 1);
}

/* NetworkPolicy: one dot at most, or knp.default./ossg.default. and a
 * subdomain. */
static bool np_name(const char *s)
{
	size_t n = strlen(s);

	if (n > 253)
		return false;
	if (strncmp(s, "knp.default.", 12) == 0 || strncmp(s, "ossg.default.", 13) == 0)
		return labels_fmt(s, n, -1);
	return labels_fmt(s, n, 1);
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
	else if (k == RES_GLOBAL_NETWORK_POLICY || k == RES_STAGED_GLOBAL_NETWORK_POLICY)
		ok = gnp_name(name);
	else if (k == RES_NETWORK_POLICY || k == RES_STAGED_NETWORK_POLICY)
		ok = np_name(name);
	else if (k == RES_TIER)
		ok = dns_label(name, strlen(name));
	else
		ok = dns_subdomain(name);
	if (!ok && strlen(name) > (k == RES_TIER ? 63u : 253u) && c->ver != API_V1)
		dctx_err(c, at, "invalid name \"%.40s...\": too long by %zu bytes", name,
			 strlen(name) - (k == RES_TIER ? 63u : 253u));
	else if (!ok)
		dctx_err(c, at, "invalid name \"%s\"%s", name,
			 c->ver != API_V3 ? ""
			 : k == RES_TIER  ? " (lower-case letters, digits and '-', no dots)"
			 : kind_info(k)->policy
				 ? " (lower-case letters, digits and '-', at most one dot)"
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
