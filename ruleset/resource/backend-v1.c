/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calico 2.6's datastore: the keys under /calico/v1 that Felix 2.6 read
 * (libcalico-go 1.7's backend model) to v3 resources. Each object's JSON
 * is rewritten into the calicoctl v1 manifest it was made from (the field
 * names differ, the meaning does not) and decoded by the v1 path, so an
 * object read here converts exactly as 'convert' and 'upgrade' convert it.
 * Felix settings (raw strings, one key each) become FelixConfiguration
 * "default" and "node.<host>".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "names.h"
#include "resource-internal.h"

#define P BACKEND_V1_PREFIX

/* ---- keys ------------------------------------------------------------------ */

/* The n-th '/'-separated segment after start (0-based): its offset and
 * length, or -1. */
static int segment(const char *key, size_t start, unsigned n, size_t *len)
{
	const char *p = key + start;

	for (unsigned i = 0; i < n; i++) {
		p = strchr(p, '/');
		if (!p)
			return -1;
		p++;
	}
	*len = strcspn(p, "/");
	return (int)(p - key);
}

static unsigned segments(const char *s)
{
	unsigned n = 1;

	for (; *s; s++)
		n += *s == '/';
	return n;
}

static bool seg_is(const char *key, size_t start, unsigned n, const char *want)
{
	size_t len;
	int off = segment(key, start, n, &len);

	return off >= 0 && len == strlen(want) && memcmp(key + off, want, len) == 0;
}

size_t backend_v1_object(const char *key, enum backend_v1_kind *ret)
{
	size_t base = strlen(P), len;
	unsigned n;
	int off;

	*ret = BACKEND_V1_OTHER;
	if (strncmp(key, P, base) != 0)
		return 0;
	n = segments(key + base);
	if (n == 5 && seg_is(key, base, 0, "policy") && seg_is(key, base, 1, "tier") &&
	    seg_is(key, base, 3, "policy")) {
		*ret = BACKEND_V1_POLICY;
		return strlen(key);
	}
	if (n == 4 && seg_is(key, base, 0, "policy") && seg_is(key, base, 1, "profile")) {
		*ret = BACKEND_V1_PROFILE; /* .../profile/<name>/{rules,tags,labels} */
		off = segment(key, base, 3, &len);
		return (size_t)off;
	}
	if (n == 2 && seg_is(key, base, 0, "config")) {
		*ret = BACKEND_V1_CONFIG;
		return base + strlen("config/");
	}
	if (!seg_is(key, base, 0, "host"))
		return 0;
	if (n == 4 && seg_is(key, base, 2, "endpoint"))
		*ret = BACKEND_V1_HOST_ENDPOINT;
	else if (n == 7 && seg_is(key, base, 2, "workload") && seg_is(key, base, 5, "endpoint"))
		*ret = BACKEND_V1_WORKLOAD_ENDPOINT;
	else if (n == 4 && seg_is(key, base, 2, "config"))
		*ret = BACKEND_V1_CONFIG;
	if (*ret == BACKEND_V1_CONFIG)
		return (size_t)segment(key, base, 3, &len);
	return *ret == BACKEND_V1_OTHER ? 0 : strlen(key);
}

/* Segment n of key, unescaped as libcalico-go escapes names (%2f, %25).
 * NULL on ENOMEM or a bad escape. */
static char *seg_name(const char *key, unsigned n)
{
	size_t len, w = 0;
	int off = segment(key, strlen(P), n, &len);
	char *s = off >= 0 ? malloc(len + 1) : NULL;

	for (size_t i = 0; s && i < len; i++) {
		const char *p = key + off + i;

		if (*p != '%') {
			s[w++] = *p;
		} else if (i + 2 < len && strncasecmp(p, "%2f", 3) == 0) {
			s[w++] = '/';
			i += 2;
		} else if (i + 2 < len && strncmp(p, "%25", 3) == 0) {
			s[w++] = '%';
			i += 2;
		} else {
			free(s);
			return NULL;
		}
	}
	if (s)
		s[w] = '\0';
	return s;
}

/* ---- the object being built ----------------------------------------------- */

struct job {
	struct dctx c;
	unsigned flags;
	struct resource_list *out;
	struct diags *skipped;
	const char *object; /* the key prefix of a multi-key object */
};

static void skip(struct job *j, const char *key, const char *why)
{
	if (j->skipped)
		diags_add(j->skipped, key, (struct pos){ 0, 0 }, NULL, NULL, "%s", why);
}

/* A value as JSON: problems reported at key. */
static json_t *parse(struct job *j, const char *key, const char *v, size_t len, bool object)
{
	json_error_t err;
	json_t *x = json_loadb(v, len, JSON_REJECT_DUPLICATES, &err);

	if (!x) {
		diags_add(j->c.d, key, (struct pos){ 0, 0 }, NULL, NULL, "not JSON: %s", err.text);
		return NULL;
	}
	if (object && !json_is_object(x)) {
		diags_add(j->c.d, key, (struct pos){ 0, 0 }, NULL, NULL, "not a JSON object");
		json_decref(x);
		return NULL;
	}
	return x;
}

/* Decodes the v1 (or v3) manifest doc, which it takes, as read from key. */
static int decode(struct job *j, const char *key, json_t *doc, enum api_version ver)
{
	struct value_budget b = { 0 };
	struct value *tree = doc ? value_from_json(doc, 0, &b) : NULL;
	unsigned before = j->c.errors;
	struct resource *r;

	json_decref(doc);
	if (!tree) { /* or nested deeper than RULESET_MAX_DEPTH */
		diags_add(j->c.d, key, (struct pos){ 0, 0 }, NULL, NULL,
			  "nested too deep or too large");
		return 0;
	}
	j->c.file = key;
	j->c.ver = ver;
	r = decode_one(&j->c, tree);
	value_free(tree);
	if (!r)
		return j->c.errors != before ? 0 : -ENOMEM;
	return resource_list_add(j->out, r);
}

/* Sets dst[name] to src[from] when present and not null. */
static int copy(json_t *dst, const char *name, const json_t *src, const char *from)
{
	json_t *v = json_object_get(src, from);

	if (!v || json_is_null(v))
		return 0;
	return json_object_set(dst, name, v);
}

/* ---- rules ----------------------------------------------------------------- */

static const struct {
	const char *v1; /* backend name without src_/dst_ */
	const char *api;
	const char *not_api;
} entity_fields[] = {
	{ "tag", "tag", "notTag" },	  { "net", "net", "notNet" },
	{ "nets", "nets", "notNets" },	  { "selector", "selector", "notSelector" },
	{ "ports", "ports", "notPorts" },
};

static int rule_entity(json_t *out, const json_t *in, const char *side, const char *name)
{
	json_t *e = json_object();
	int r = e ? 0 : -ENOMEM;
	char k[32];

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(entity_fields); i++) {
		snprintf(k, sizeof(k), "%s_%s", side, entity_fields[i].v1);
		r = copy(e, entity_fields[i].api, in, k);
		snprintf(k, sizeof(k), "!%s_%s", side, entity_fields[i].v1);
		r = r ?: copy(e, entity_fields[i].not_api, in, k);
	}
	if (r == 0 && json_object_size(e))
		r = json_object_set(out, name, e);
	json_decref(e);
	return r < 0 ? -ENOMEM : 0;
}

static int rule_icmp(json_t *out, const json_t *in, bool neg, const char *name)
{
	json_t *i = json_object();
	int r = i ? 0 : -ENOMEM;

	r = r ?: copy(i, "type", in, neg ? "!icmp_type" : "icmp_type");
	r = r ?: copy(i, "code", in, neg ? "!icmp_code" : "icmp_code");
	if (r == 0 && json_object_size(i))
		r = json_object_set(out, name, i);
	json_decref(i);
	return r < 0 ? -ENOMEM : 0;
}

/* One backend rule as a v1 API rule. Non-objects go through unchanged
 * for the decoder to refuse. */
static json_t *rule_to_api(json_t *in)
{
	const char *action = json_string_value(json_object_get(in, "action"));
	json_t *out;
	int r;

	if (!json_is_object(in))
		return json_incref(in);
	out = json_object();
	if (!out)
		return NULL;
	if (action && (!*action || strcmp(action, "next-tier") == 0))
		r = json_object_set_new(out, "action", json_string(*action ? "pass" : "allow"));
	else
		r = copy(out, "action", in, "action");
	if (!json_object_get(in, "action"))
		r = r ?: json_object_set_new(out, "action", json_string("allow"));
	r = r ?: copy(out, "ipVersion", in, "ip_version");
	r = r ?: copy(out, "protocol", in, "protocol");
	r = r ?: copy(out, "notProtocol", in, "!protocol");
	r = r ?: rule_icmp(out, in, false, "icmp");
	r = r ?: rule_icmp(out, in, true, "notICMP");
	r = r ?: rule_entity(out, in, "src", "source");
	r = r ?: rule_entity(out, in, "dst", "destination");
	if (r < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* dst[name] = the rules of src[from] in the v1 API's form. */
static int rules(json_t *dst, const char *name, const json_t *src, const char *from)
{
	json_t *in = json_object_get(src, from), *v, *out;
	size_t i;

	if (!in || json_is_null(in))
		return 0;
	if (!json_is_array(in))
		return json_object_set(dst, name, in); /* refused by the decoder */
	out = json_array();
	if (!out)
		return -ENOMEM;
	json_array_foreach(in, i, v)
	{
		if (json_array_append_new(out, rule_to_api(v)) < 0) {
			json_decref(out);
			return -ENOMEM;
		}
	}
	return json_object_set_new(dst, name, out) < 0 ? -ENOMEM : 0;
}

/* ---- objects --------------------------------------------------------------- */

static json_t *manifest(const char *api, const char *kind, json_t **meta, json_t **spec)
{
	json_t *m = json_pack("{s:s, s:s, s:{}, s:{}}", "apiVersion", api, "kind", kind, "metadata",
			      "spec");

	*meta = json_object_get(m, "metadata");
	*spec = json_object_get(m, "spec");
	return m;
}

/* Absent types mean both directions to Felix 2.6; calico-upgrade gives
 * a preDNAT policy Ingress alone, and drops Egress from one that has it. */
static int policy_types(json_t *spec, const json_t *in)
{
	const json_t *t = json_object_get(in, "types");
	bool pre_dnat = json_is_true(json_object_get(in, "pre_dnat"));
	json_t *out;
	size_t i;
	json_t *v;

	if (t && !json_is_null(t) && !json_is_array(t))
		return json_object_set(spec, "types", (json_t *)t);
	out = json_array();
	if (!out)
		return -ENOMEM;
	if (!t || json_is_null(t)) {
		json_array_append_new(out, json_string("ingress"));
		if (!pre_dnat)
			json_array_append_new(out, json_string("egress"));
	}
	json_array_foreach(t, i, v)
	{
		if (!(pre_dnat && json_is_string(v) && strcmp(json_string_value(v), "egress") == 0))
			json_array_append(out, v);
	}
	return json_object_set_new(spec, "types", out) < 0 ? -ENOMEM : 0;
}

static int policy(struct job *j, const char *key, const char *value, size_t len)
{
	_cleanup_free_ char *tier = seg_name(key, 2), *name = seg_name(key, 4);
	json_t *in, *doc, *meta, *spec;
	int r;

	if (!tier || !name)
		return -ENOMEM;
	if (strcmp(tier, "default") != 0) {
		diags_add(j->c.d, key, (struct pos){ 0, 0 }, NULL, NULL,
			  "policy in tier \"%s\": Calico 2.6 writes tier default only; skipped",
			  tier);
		return 0;
	}
	if ((j->flags & BACKEND_V1_UPGRADE) && strncmp(name, "knp.default.", 12) == 0) {
		skip(j, key, "owned by the Kubernetes policy controller, which writes it again");
		return 0;
	}
	in = parse(j, key, value, len, true);
	if (!in)
		return 0;
	doc = manifest("v1", "policy", &meta, &spec);
	r = doc ? json_object_set_new(meta, "name", json_string(name)) : -ENOMEM;
	r = r ?: copy(meta, "annotations", in, "annotations");
	r = r ?: copy(spec, "order", in, "order");
	r = r ?: copy(spec, "selector", in, "selector");
	r = r ?: copy(spec, "doNotTrack", in, "untracked");
	r = r ?: copy(spec, "preDNAT", in, "pre_dnat");
	r = r ?: rules(spec, "ingress", in, "inbound_rules");
	r = r ?: rules(spec, "egress", in, "outbound_rules");
	r = r ?: policy_types(spec, in);
	json_decref(in);
	if (r < 0) {
		json_decref(doc);
		return -ENOMEM;
	}
	return decode(j, key, doc, API_V1);
}

/* The value of the object's key that ends in "/<leaf>", or NULL. */
static const struct backend_kv *leaf(const struct backend_kv *kvs, size_t n, const char *leaf)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = strrchr(kvs[i].key, '/');

		if (s && strcmp(s + 1, leaf) == 0)
			return &kvs[i];
	}
	return NULL;
}

static int profile(struct job *j, const struct backend_kv *kvs, size_t n)
{
	_cleanup_free_ char *name = seg_name(kvs[0].key, 2);
	const struct backend_kv *rk = leaf(kvs, n, "rules"), *tk = leaf(kvs, n, "tags"),
				*lk = leaf(kvs, n, "labels");
	json_t *rv = NULL, *tv = NULL, *lv = NULL, *doc, *meta, *spec;
	bool bad = false;
	int r;

	if (!name)
		return -ENOMEM;
	if ((j->flags & BACKEND_V1_UPGRADE) &&
	    (strncmp(name, "k8s_ns.", 7) == 0 || strncmp(name, "openstack-sg-", 13) == 0)) {
		skip(j, j->object, "owned by the orchestrator's controller, which writes it again");
		return 0;
	}
	if (rk && !(rv = parse(j, rk->key, rk->value, rk->len, true)))
		bad = true;
	if (tk && !(tv = parse(j, tk->key, tk->value, tk->len, false)))
		bad = true;
	if (lk && !(lv = parse(j, lk->key, lk->value, lk->len, false)))
		bad = true;
	doc = bad ? NULL : manifest("v1", "profile", &meta, &spec);
	r = doc ? json_object_set_new(meta, "name", json_string(name)) : 0;
	if (doc && tv && !json_is_null(tv))
		r = r ?: json_object_set(meta, "tags", tv);
	if (doc && lv && !json_is_null(lv))
		r = r ?: json_object_set(meta, "labels", lv);
	r = r ?: rules(spec, "ingress", rv, "inbound_rules");
	r = r ?: rules(spec, "egress", rv, "outbound_rules");
	json_decref(rv);
	json_decref(tv);
	json_decref(lv);
	if (!doc || r < 0) {
		json_decref(doc);
		return bad ? 0 : -ENOMEM;
	}
	return decode(j, j->object, doc, API_V1);
}

/* dst[name] = src[a] + src[b] (lists; other values go through to be refused). */
static int concat(json_t *dst, const char *name, const json_t *src, const char *a, const char *b)
{
	json_t *x = json_object_get(src, a), *y = json_object_get(src, b), *out;

	if ((x && !json_is_null(x) && !json_is_array(x)) ||
	    (y && !json_is_null(y) && !json_is_array(y)))
		return json_object_set(dst, name, x && !json_is_array(x) ? x : y);
	if (!json_array_size(x) && !json_array_size(y))
		return 0;
	out = json_array();
	if (!out || (json_is_array(x) && json_array_extend(out, x) < 0) ||
	    (json_is_array(y) && json_array_extend(out, y) < 0)) {
		json_decref(out);
		return -ENOMEM;
	}
	return json_object_set_new(dst, name, out);
}

static int host_endpoint(struct job *j, const char *key, const char *value, size_t len)
{
	_cleanup_free_ char *host = seg_name(key, 1), *id = seg_name(key, 3);
	json_t *in, *doc, *meta, *spec;
	int r;

	if (!host || !id)
		return -ENOMEM;
	in = parse(j, key, value, len, true);
	if (!in)
		return 0;
	doc = manifest("v1", "hostEndpoint", &meta, &spec);
	r = doc ? json_object_set_new(meta, "name", json_string(id)) : -ENOMEM;
	r = r ?: json_object_set_new(meta, "node", json_string(host));
	r = r ?: copy(meta, "labels", in, "labels");
	r = r ?: copy(spec, "interfaceName", in, "name");
	r = r ?: concat(spec, "expectedIPs", in, "expected_ipv4_addrs", "expected_ipv6_addrs");
	r = r ?: copy(spec, "profiles", in, "profile_ids");
	json_decref(in);
	if (r < 0) {
		json_decref(doc);
		return -ENOMEM;
	}
	return decode(j, key, doc, API_V1);
}

static int nats(json_t *spec, const json_t *in)
{
	json_t *out = json_array(), *v;
	const char *fam[] = { "ipv4_nat", "ipv6_nat" };
	size_t i;

	if (!out)
		return -ENOMEM;
	for (size_t f = 0; f < 2; f++)
		json_array_foreach(json_object_get(in, fam[f]), i, v)
		{
			json_t *x = json_object();

			if (!x || copy(x, "internalIP", v, "int_ip") < 0 ||
			    copy(x, "externalIP", v, "ext_ip") < 0 ||
			    json_array_append_new(out, x) < 0) {
				json_decref(out);
				return -ENOMEM;
			}
		}
	if (json_array_size(out))
		return json_object_set_new(spec, "ipNATs", out);
	json_decref(out);
	return 0;
}

static int wep_spec(json_t *spec, const json_t *in)
{
	const char *mac = json_string_value(json_object_get(in, "mac"));
	int r = copy(spec, "interfaceName", in, "name");

	if (mac && *mac)
		r = r ?: json_object_set_new(spec, "mac", json_string(mac));
	r = r ?: concat(spec, "ipNetworks", in, "ipv4_nets", "ipv6_nets");
	r = r ?: nats(spec, in);
	r = r ?: copy(spec, "profiles", in, "profile_ids");
	return r < 0 ? -ENOMEM : 0;
}

static int workload_endpoint(struct job *j, const char *key, const char *value, size_t len)
{
	_cleanup_free_ char *host = seg_name(key, 1), *orch = seg_name(key, 3),
			    *wl = seg_name(key, 4), *id = seg_name(key, 6);
	const char *iface;
	json_t *in, *doc, *meta, *spec;
	int r;

	if (!host || !orch || !wl || !id)
		return -ENOMEM;
	if ((j->flags & BACKEND_V1_UPGRADE) && strcmp(orch, "openstack") == 0) {
		skip(j, key, "an OpenStack endpoint, owned by its driver");
		return 0;
	}
	in = parse(j, key, value, len, true);
	if (!in)
		return 0;
	/* Felix treats a workload endpoint without an interface as deleted */
	iface = json_string_value(json_object_get(in, "name"));
	if (!iface || !*iface) {
		json_decref(in);
		return 0;
	}
	doc = manifest("v1", "workloadEndpoint", &meta, &spec);
	r = doc ? json_object_set_new(meta, "name", json_string(id)) : -ENOMEM;
	r = r ?: json_object_set_new(meta, "workload", json_string(wl));
	r = r ?: json_object_set_new(meta, "orchestrator", json_string(orch));
	r = r ?: json_object_set_new(meta, "node", json_string(host));
	r = r ?: copy(meta, "labels", in, "labels");
	r = r ?: wep_spec(spec, in);
	json_decref(in);
	if (r < 0) {
		json_decref(doc);
		return -ENOMEM;
	}
	return decode(j, key, doc, API_V1);
}

/* ---- Felix settings -------------------------------------------------------- */

static const struct {
	const char *v1;
	const char *v3;
} felix_names[] = {
	{ "FailsafeInboundHostPorts", "failsafeInboundHostPorts" },
	{ "FailsafeOutboundHostPorts", "failsafeOutboundHostPorts" },
	{ "DefaultEndpointToHostAction", "defaultEndpointToHostAction" },
	{ "LogPrefix", "logPrefix" },
	{ "InterfacePrefix", "interfacePrefix" },
};

/* Written by calico/node and calico-upgrade, not Felix settings. */
static bool cluster_key(const char *name)
{
	return strcmp(name, "CalicoVersion") == 0 || strcmp(name, "ClusterGUID") == 0 ||
	       strcmp(name, "ClusterType") == 0;
}

/* "DROP" -> "Drop", as the v3 field spells it. */
static json_t *felix_value(const char *v3, const char *v, size_t len)
{
	char buf[16];

	if (strcmp(v3, "defaultEndpointToHostAction") != 0 || len >= sizeof(buf))
		return json_stringn(v, len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i ? (v[i] | 0x20) : (v[i] & ~0x20));
	return json_stringn(buf, len);
}

static int setting(struct job *j, json_t *spec, const struct backend_kv *kv)
{
	const char *name = strrchr(kv->key, '/') + 1;

	if (kv->len == 0 || cluster_key(name))
		return 0; /* Felix ignores an empty value */
	for (size_t i = 0; i < ARRAY_SIZE(felix_names); i++)
		if (strcmp(name, felix_names[i].v1) == 0)
			return json_object_set_new(spec, felix_names[i].v3,
						   felix_value(felix_names[i].v3, kv->value,
							       kv->len));
	skip(j, kv->key, "a Felix setting nftmgr does not use; not converted");
	return 0;
}

static int felix(struct job *j, const struct backend_kv *kvs, size_t n)
{
	bool global = strncmp(kvs[0].key, P "config/", strlen(P "config/")) == 0;
	_cleanup_free_ char *raw = global ? NULL : seg_name(kvs[0].key, 1);
	_cleanup_free_ char *host = raw ? v1_node_name_convert(raw) : NULL;
	_cleanup_free_ char *name = NULL;
	json_t *doc, *meta, *spec;
	int r = 0;

	if (!global && !host)
		return -ENOMEM;
	if (global)
		name = strdup("default");
	else if (asprintf(&name, "node.%s", host) < 0)
		name = NULL;
	doc = name ? manifest("projectcalico.org/v3", "FelixConfiguration", &meta, &spec) : NULL;
	if (!doc)
		return -ENOMEM;
	r = json_object_set_new(meta, "name", json_string(name));
	for (size_t i = 0; r == 0 && i < n; i++)
		r = setting(j, spec, &kvs[i]);
	if (r < 0 || json_object_size(spec) == 0) {
		json_decref(doc);
		return r < 0 ? -ENOMEM : 0;
	}
	return decode(j, j->object, doc, API_V3);
}

/* ---- the whole store ------------------------------------------------------- */

static int object_decode(struct job *j, enum backend_v1_kind k, const struct backend_kv *kvs,
			 size_t n)
{
	switch (k) {
	case BACKEND_V1_POLICY: return policy(j, kvs[0].key, kvs[0].value, kvs[0].len);
	case BACKEND_V1_PROFILE: return profile(j, kvs, n);
	case BACKEND_V1_HOST_ENDPOINT:
		return host_endpoint(j, kvs[0].key, kvs[0].value, kvs[0].len);
	case BACKEND_V1_WORKLOAD_ENDPOINT:
		return workload_endpoint(j, kvs[0].key, kvs[0].value, kvs[0].len);
	case BACKEND_V1_CONFIG: return felix(j, kvs, n);
	default: return 0;
	}
}

int backend_v1_decode(const struct backend_kv *kvs, size_t n, unsigned flags,
		      struct resource_list *out, struct diags *d, struct diags *skipped)
{
	struct job j = { .c = { .d = d }, .flags = flags, .out = out, .skipped = skipped };
	char *object = NULL;

	int r = 0;

	for (size_t i = 0; i < n;) {
		enum backend_v1_kind k;
		size_t len = backend_v1_object(kvs[i].key, &k), e = i + 1;

		/* the keys of a profile or a scope's settings sort together */
		while ((k == BACKEND_V1_PROFILE || k == BACKEND_V1_CONFIG) && e < n &&
		       strncmp(kvs[e].key, kvs[i].key, len) == 0)
			e++;
		free(object);
		object = strndup(kvs[i].key, len);
		j.object = object;
		r = object ? object_decode(&j, k, &kvs[i], e - i) : -ENOMEM;
		if (r < 0)
			break;
		i = e;
	}
	free(object);
	return r;
}
