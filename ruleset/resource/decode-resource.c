/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resource envelopes and metadata; v1 names and profiles converted to v3;
 * lists and documents. The specs are decoded in decode-spec.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resource-internal.h"
#include "names.h"

struct meta_in {
	char *name;
	char *namespace;
	char *node;	/* v1 hostEndpoint, workloadEndpoint */
	char *workload; /* v1 workloadEndpoint */
	char *orchestrator;
	char *uid;
	char *created;
	struct labels labels;
	struct labels annotations;
	struct {
		char **v;
		size_t n;
	} tags; /* v1 profile */
};

static void meta_clear(struct meta_in *m)
{
	free(m->name);
	free(m->namespace);
	free(m->node);
	free(m->workload);
	free(m->orchestrator);
	free(m->uid);
	free(m->created);
	labels_clear(&m->labels);
	labels_clear(&m->annotations);
	for (size_t i = 0; i < m->tags.n; i++)
		free(m->tags.v[i]);
	free(m->tags.v);
}

#define M(f) offsetof(struct meta_in, f)
static const struct field meta_v3[] = {
	{ "name", dec_string, M(name) },      { "namespace", dec_string, M(namespace) },
	{ "labels", dec_labels, M(labels) },  { "annotations", dec_annotations, M(annotations) },
	{ "uid", dec_string, M(uid) },	      { "creationTimestamp", dec_string, M(created) },
	{ "resourceVersion", dec_ignore, 0 }, { "generation", dec_ignore, 0 },
	{ "selfLink", dec_ignore, 0 },
};
static const struct field meta_v1_policy[] = {
	{ "name", dec_string, M(name) },
	{ "annotations", dec_annotations, M(annotations) },
};
static const struct field meta_v1_hep[] = {
	{ "name", dec_string, M(name) },
	{ "node", dec_string, M(node) },
	{ "labels", dec_labels, M(labels) },
};
static const struct field meta_v1_profile[] = {
	{ "name", dec_string, M(name) },
	{ "labels", dec_labels, M(labels) },
	{ "tags", dec_string_list, M(tags) },
};
static const struct field meta_v1_wep[] = {
	{ "name", dec_string, M(name) },
	{ "workload", dec_string, M(workload) },
	{ "orchestrator", dec_string, M(orchestrator) },
	{ "node", dec_string, M(node) },
	{ "activeInstanceID", dec_ignore, 0 },
	{ "labels", dec_labels, M(labels) },
};
#undef M

/* ---- the envelope ---------------------------------------------------------- */

struct kind_entry {
	enum api_version ver;
	const char *kind;
	enum res_kind res;
	const struct field *meta;
	size_t n_meta;
};

static const struct kind_entry kind_table[] = {
	{ API_V1, "policy", RES_GLOBAL_NETWORK_POLICY, meta_v1_policy, ARRAY_SIZE(meta_v1_policy) },
	{ API_V1, "hostEndpoint", RES_HOST_ENDPOINT, meta_v1_hep, ARRAY_SIZE(meta_v1_hep) },
	{ API_V1, "profile", RES_PROFILE, meta_v1_profile, ARRAY_SIZE(meta_v1_profile) },
	{ API_V1, "workloadEndpoint", RES_WORKLOAD_ENDPOINT, meta_v1_wep, ARRAY_SIZE(meta_v1_wep) },
};

/* Finds the kind for (apiVersion, kind); v3 kinds come from kind_info(). */
static int lookup_kind(enum api_version ver, const char *kind, struct kind_entry *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_table); i++)
		if (kind_table[i].ver == ver && strcmp(kind_table[i].kind, kind) == 0) {
			*ret = kind_table[i];
			return 0;
		}
	if (ver != API_V3)
		return -ENOENT;
	for (int k = 0; k < RES_KIND_MAX; k++)
		if (strcmp(kind_info(k)->kind, kind) == 0) {
			*ret = (struct kind_entry){ API_V3, kind_info(k)->kind, k, meta_v3,
						    ARRAY_SIZE(meta_v3) };
			return 0;
		}
	return -ENOENT;
}

/* A converted name must still be a valid v3 name (a v1 policy name of
 * up to 128 characters can exceed a DNS label, as with calico-upgrade). */
static bool v1_check_converted(struct dctx *c, const struct value *root, const struct resource *r)
{
	const struct value *meta = value_map_get(root, "metadata");
	size_t saved = dctx_push(c, "metadata.name");
	bool ok;

	c->ver = API_V3;
	ok = validate_name(c, value_map_get(meta, "name"), r->kind, r->name);
	c->ver = API_V1;
	dctx_pop(c, saved);
	return ok;
}

static bool v1_convert_names(struct dctx *c, const struct value *root, struct resource *r,
			     struct meta_in *m)
{
	_cleanup_free_ char *joined = NULL;
	char *name;

	switch (r->kind) {
	case RES_GLOBAL_NETWORK_POLICY: name = v1_name_convert(r->name, true); break;
	case RES_HOST_ENDPOINT:
		if (!m->node) {
			size_t saved = dctx_push(c, "metadata");

			dctx_err(c, value_map_get(root, "metadata"),
				 "insufficient identifiers, missing 'node'");
			dctx_pop(c, saved);
			return false;
		}
		r->u.ep.node = v1_node_name_convert(m->node);
		if (!r->u.ep.node || asprintf(&joined, "%s.%s", r->u.ep.node, r->name) < 0)
			return false;
		name = v1_name_convert(joined, false);
		break;
	default: name = v1_name_convert(r->name, false); break;
	}
	if (!name)
		return false;
	free(r->name);
	r->name = name;
	return v1_check_converted(c, root, r);
}

static void v1_profile_convert(struct dctx *c, struct resource *r, struct meta_in *m)
{
	struct labels *l = &r->u.profile.labels_to_apply;

	for (size_t i = 0; i < m->labels.n; i++)
		if (labels_set(l, m->labels.v[i].key, m->labels.v[i].value) < 0)
			c->errors++;
	for (size_t i = 0; i < m->tags.n; i++) {
		if (!validate_label_key(m->tags.v[i], API_V3)) {
			size_t saved = dctx_push(c, "metadata.tags[%zu]", i);

			dctx_err(c, NULL, "tag \"%s\" cannot become a label", m->tags.v[i]);
			dctx_pop(c, saved);
		} else if (labels_set(l, m->tags.v[i], "") < 0) {
			c->errors++;
		}
	}
	labels_clear(&m->labels);
}

/* Calico v3 names a workload endpoint <node>-<orchestrator>-<workload>-
 * <endpoint> with every '-' inside a part doubled. */
static int wep_name_part(FILE *f, const char *s)
{
	for (; s && *s; s++)
		if (fputs(*s == '-' ? "--" : (char[]){ *s, 0 }, f) < 0)
			return -EIO;
	return 0;
}

static int v1_wep_names(struct resource *r, struct meta_in *m)
{
	struct endpoint_spec *e = &r->u.ep;
	const char *dot = m->workload ? strchr(m->workload, '.') : NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	e->node = m->node ? v1_node_name_convert(m->node) : NULL;
	e->orchestrator = strdup(m->orchestrator ? m->orchestrator : "");
	e->endpoint = strdup(m->name);
	if (m->orchestrator && strcmp(m->orchestrator, "k8s") == 0 && dot) {
		m->namespace = strndup(m->workload, (size_t)(dot - m->workload));
		e->pod = strdup(dot + 1);
	} else {
		m->namespace = strdup("default");
		e->workload = strdup(m->workload ? m->workload : "");
	}
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	wep_name_part(f, e->node);
	fputc('-', f);
	wep_name_part(f, e->orchestrator);
	fputc('-', f);
	wep_name_part(f, e->pod ? e->pod : e->workload);
	fputc('-', f);
	wep_name_part(f, e->endpoint);
	if (fclose(f) != 0)
		return -ENOMEM;
	free(m->name);
	m->name = v1_name_convert(buf, false);
	free(buf);
	if (!m->name)
		return -ENOMEM;
	if (!m->namespace || !e->orchestrator || !e->endpoint)
		return -ENOMEM;
	/* Both become label values and the namespace a key segment. */
	if (!validate_namespace(m->namespace) || !validate_label_value(e->orchestrator))
		return -EINVAL;
	if (labels_set(&m->labels, "projectcalico.org/namespace", m->namespace) < 0 ||
	    labels_set(&m->labels, "projectcalico.org/orchestrator", e->orchestrator) < 0)
		return -ENOMEM;
	return 0;
}

static void take_meta(struct resource *r, struct meta_in *m)
{
	r->name = m->name;
	r->namespace = m->namespace;
	r->labels = m->labels;
	r->annotations = m->annotations;
	r->uid = m->uid;
	r->created = m->created;
	m->name = m->namespace = m->uid = m->created = NULL;
	m->labels = (struct labels){ 0 };
	m->annotations = (struct labels){ 0 };
}

/* metadata: the fields of the kind's version, the name, the namespace. */
static void decode_meta(struct dctx *c, const struct value *root, const struct value *meta,
			const struct kind_entry *k, struct meta_in *m)
{
	const struct kind_info *ki = kind_info(k->res);
	size_t saved;

	saved = dctx_push(c, "metadata");
	if (meta)
		decode_fields(c, meta, k->meta, k->n_meta, m);
	if (!m->name)
		dctx_err(c, meta ? meta : root, "insufficient identifiers, missing 'name'");
	else
		validate_name(c, value_map_get(meta, "name"), k->res, m->name);
	if ((k->res == RES_GLOBAL_NETWORK_SET || k->res == RES_NETWORK_SET) &&
	    labels_get(&m->labels, "projectcalico.org/namespace")) {
		size_t s2 = dctx_push(c, ".labels");

		dctx_err(c, value_map_get(meta, "labels"),
			 "the label projectcalico.org/namespace is reserved");
		dctx_pop(c, s2);
	}
	if (m->namespace && !ki->namespaced)
		dctx_err(c, value_map_get(meta, "namespace"), "%s is not namespaced", ki->kind);
	else if (m->namespace && !validate_namespace(m->namespace))
		dctx_err(c, value_map_get(meta, "namespace"), "invalid namespace \"%s\"",
			 m->namespace);
	dctx_pop(c, saved);
	if (ki->namespaced && !m->namespace && c->ver == API_V3)
		m->namespace = strdup("default");
}

static struct resource *decode_calico(struct dctx *c, const struct value *root,
				      const struct kind_entry *k)
{
	static const struct field top[] = {
		{ "apiVersion", dec_ignore, 0 },
		{ "kind", dec_ignore, 0 },
		{ "metadata", dec_ignore, 0 },
		{ "spec", dec_ignore, 0 },
	};
	const struct value *meta = value_map_get(root, "metadata");
	const struct value *spec = value_map_get(root, "spec");
	struct meta_in m = { 0 };
	struct resource *r = calloc(1, sizeof(*r));
	size_t saved;

	if (!r)
		return NULL;
	r->kind = k->res;
	r->pos = root->pos;
	decode_fields(c, root, top, ARRAY_SIZE(top), NULL);
	decode_meta(c, root, meta, k, &m);
	saved = dctx_push(c, "spec");
	decode_spec(c, spec, r);
	if (spec && spec->type == VALUE_MAP && k->res == RES_WORKLOAD_ENDPOINT &&
	    c->ver == API_V3 && !r->u.ep.orchestrator)
		dctx_err(c, spec, "a workload endpoint needs orchestrator");
	dctx_pop(c, saved);
	if (c->ver == API_V1 && m.name) {
		if (k->res == RES_PROFILE)
			v1_profile_convert(c, r, &m);
		if (k->res == RES_WORKLOAD_ENDPOINT && (!m.node || !m.orchestrator || !m.workload))
			dctx_err(
				c, meta,
				"insufficient identifiers: a workloadEndpoint needs node, orchestrator and workload");
		else if (k->res == RES_WORKLOAD_ENDPOINT && v1_wep_names(r, &m) < 0)
			dctx_err(
				c, meta,
				"workload and orchestrator do not give a valid v3 namespace and labels");
	}
	take_meta(r, &m);
	if (r->kind == RES_TIER && r->name) {
		saved = dctx_push(c, "spec");
		tier_named(c, spec, r);
		dctx_pop(c, saved);
	}
	if (c->ver == API_V1 && r->name && k->res != RES_WORKLOAD_ENDPOINT &&
	    !v1_convert_names(c, root, r, &m))
		c->errors++;
	if (c->ver == API_V1 && r->name && k->res == RES_WORKLOAD_ENDPOINT)
		v1_check_converted(c, root, r);
	meta_clear(&m);
	return r;
}

static struct resource *decode_by_kind(struct dctx *c, const struct value *root, const char *api,
				       const char *kind)
{
	struct kind_entry k;

	if (strcmp(api, "networking.k8s.io/v1") == 0 && strcmp(kind, "NetworkPolicy") == 0) {
		c->ver = API_K8S;
		return k8s_decode_network_policy(c, root);
	}
	if (strcmp(api, "v1") == 0 && strcmp(kind, "Namespace") == 0) {
		c->ver = API_K8S;
		return k8s_decode_namespace(c, root);
	}
	if (strcmp(api, "projectcalico.org/v3") == 0 &&
	    strcmp(kind, "StagedKubernetesNetworkPolicy") == 0) {
		c->ver = API_K8S;
		return k8s_decode_staged_network_policy(c, root);
	}
	if ((strcmp(api, "policy.networking.k8s.io/v1alpha1") == 0 &&
	     (strcmp(kind, "AdminNetworkPolicy") == 0 ||
	      strcmp(kind, "BaselineAdminNetworkPolicy") == 0)) ||
	    (strcmp(api, "policy.networking.k8s.io/v1alpha2") == 0 &&
	     strcmp(kind, "ClusterNetworkPolicy") == 0)) {
		c->ver = API_K8S;
		return k8s_decode_admin_policy(c, root, kind);
	}
	if (strcmp(api, "v1") == 0)
		c->ver = API_V1;
	else if (strcmp(api, "projectcalico.org/v3") == 0)
		c->ver = API_V3;
	else
		goto unknown;
	if (lookup_kind(c->ver, kind, &k) == 0)
		return decode_calico(c, root, &k);
unknown:
	dctx_err(c, value_map_get(root, "kind"), "unknown resource type (%s) and/or version (%s)",
		 kind, api);
	return NULL;
}

static void set_ident(struct dctx *c, const struct value *root, const char *kind)
{
	const struct value *name = value_map_get(value_map_get(root, "metadata"), "name");

	snprintf(c->ident, sizeof(c->ident), "%s/%s", kind,
		 name && name->type == VALUE_SCALAR ? name->str : "");
}

struct resource *decode_one(struct dctx *c, const struct value *root)
{
	const struct value *api, *kind;
	struct resource *r;
	unsigned before = c->errors;

	c->ident[0] = '\0';
	if (!decode_expect(c, root, VALUE_MAP))
		return NULL;
	api = value_map_get(root, "apiVersion");
	kind = value_map_get(root, "kind");
	if (!api || api->type != VALUE_SCALAR || !kind || kind->type != VALUE_SCALAR) {
		dctx_err(c, root, "apiVersion and kind are required strings");
		return NULL;
	}
	set_ident(c, root, kind->str);
	r = decode_by_kind(c, root, api->str, kind->str);
	if (r && c->errors != before)
		r = resource_free(r);
	if (r) {
		static uint64_t serial;

		r->serial = ++serial;
	}
	if (r && c->file && !(r->file = strdup(c->file)))
		r = resource_free(r);
	return r;
}

static void decode_item(struct dctx *c, const struct value *n, struct resource_list *out)
{
	unsigned before = c->errors;
	struct resource *r = decode_one(c, n);

	if (r && resource_list_add(out, r) < 0)
		dctx_err(c, n, "out of memory");
	else if (!r && c->errors == before)
		dctx_err(c, n, "out of memory");
}

static void decode_list(struct dctx *c, const struct value *root, const char *api, const char *kind,
			struct resource_list *out)
{
	static const struct field top[] = {
		{ "apiVersion", dec_ignore, 0 },
		{ "kind", dec_ignore, 0 },
		{ "metadata", dec_ignore, 0 },
		{ "items", dec_ignore, 0 },
	};
	const struct value *items = value_map_get(root, "items");
	size_t saved;

	decode_fields(c, root, top, ARRAY_SIZE(top), NULL);
	if (!items)
		return;
	saved = dctx_push(c, "items");
	if (decode_expect(c, items, VALUE_SEQ))
		for (size_t i = 0; i < items->n; i++) {
			size_t s2 = dctx_push_index(c, i);

			decode_item(c, items->kids[i], out);
			dctx_pop(c, s2);
		}
	dctx_pop(c, saved);
	(void)api;
	(void)kind;
}

void decode_document(struct dctx *c, const struct value *root, struct resource_list *out)
{
	const struct value *api, *kind;
	size_t len;

	if (root->type == VALUE_SCALAR && value_scalar_type(root) == SCALAR_NULL)
		return;
	if (root->type == VALUE_SEQ) {
		for (size_t i = 0; i < root->n; i++) {
			size_t saved = dctx_push_index(c, i);

			decode_item(c, root->kids[i], out);
			dctx_pop(c, saved);
		}
		return;
	}
	api = value_map_get(root, "apiVersion");
	kind = value_map_get(root, "kind");
	len = kind && kind->type == VALUE_SCALAR ? strlen(kind->str) : 0;
	if (api && api->type == VALUE_SCALAR && len > 4 &&
	    strcmp(kind->str + len - 4, "List") == 0) {
		c->ident[0] = '\0';
		decode_list(c, root, api->str, kind->str, out);
		return;
	}
	decode_item(c, root, out);
}
