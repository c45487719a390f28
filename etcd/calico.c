/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calico's v3 layout in etcd (what calicoctl and the Calico API server
 * write): /calico/resources/v3/projectcalico.org/<plural>/[<ns>/]<name>,
 * the value the whole resource as JSON, policy names as default.<name>.
 * Other kinds under the same prefix (ippools, nodes, ...) are not ours
 * and are passed over in silence.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"

int calico_key_parse(const char *key, enum res_kind *kind, char **ns, char **name)
{
	const size_t plen = sizeof(CALICO_PREFIX) - 1;
	const char *rest, *slash;

	if (strncmp(key, CALICO_PREFIX, plen) != 0)
		return 0;
	rest = key + plen;
	slash = strchr(rest, '/');
	if (!slash)
		return 0;
	for (int k = 0; k < RES_KIND_MAX; k++) {
		const struct kind_info *ki = kind_info(k);
		const char *n = slash + 1, *s2 = strchr(n, '/');

		if (strlen(ki->plural) != (size_t)(slash - rest) ||
		    strncmp(rest, ki->plural, (size_t)(slash - rest)) != 0)
			continue;
		if (ki->namespaced != (s2 != NULL) || (s2 && strchr(s2 + 1, '/')) || !*n ||
		    (s2 && (s2 == n || !s2[1])))
			return 0;
		*ns = s2 ? strndup(n, (size_t)(s2 - n)) : NULL;
		*name = strdup(s2 ? s2 + 1 : n);
		if (!*name || (s2 && !*ns)) {
			free(*ns);
			free(*name);
			return -ENOMEM;
		}
		*kind = k;
		return 1;
	}
	return 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int calico_kv_decode(const char *key, const char *value, size_t len, struct resource **ret,
		     struct diags *d)
{
	char *ns = NULL, *stored = NULL, *name = NULL;
	struct resource *r = NULL;
	enum res_kind kind;
	int k = calico_key_parse(key, &kind, &ns, &stored);

	if (k <= 0)
		return k;
	k = resource_from_storage(key, value, len, &r, d);
	if (k == 0) {
		name = kind_info(kind)->policy ? policy_name_from_storage(stored) : strdup(stored);
		if (!name) {
			k = -ENOMEM;
		} else if (r->kind != kind || !same(r->namespace, ns) || strcmp(r->name, name)) {
			diags_add(d, key, (struct pos){ 0 }, NULL, NULL,
				  "the value is %s %s%s%s, not what the key names",
				  kind_info(r->kind)->kind, r->namespace ? r->namespace : "",
				  r->namespace ? "/" : "", r->name);
			k = -EINVAL;
		}
	}
	if (k == 0)
		*ret = r;
	else
		resource_free(r);
	free(ns);
	free(stored);
	free(name);
	return k < 0 ? k : 1;
}

int calico_list(struct etcd *e, struct resource_list *out, struct diags *d, int64_t *rev)
{
	struct etcd_kvs kvs;
	int r = etcd_list_prefix(e, CALICO_PREFIX, 0, &kvs);

	if (r < 0)
		return r;
	for (size_t i = 0; i < kvs.n && r >= 0; i++) {
		struct resource *res = NULL;
		int k = calico_kv_decode(kvs.v[i].key, kvs.v[i].value, kvs.v[i].value_len, &res, d);

		if (k == -ENOMEM)
			r = k;
		else if (k == 1)
			r = resource_list_add(out, res);
	}
	*rev = kvs.revision;
	etcd_kvs_clear(&kvs);
	return r < 0 ? r : 0;
}

int calico_datastore_ready(const char *value, size_t len)
{
	json_t *j = json_loadb(value, len, 0, NULL);
	json_t *spec = json_object_get(j, "spec"), *ready = json_object_get(spec, "datastoreReady");
	int r = !json_is_object(spec) ? -EINVAL : json_is_false(ready) ? 0 : 1;

	json_decref(j);
	return r;
}

char *calico_cluster_info_json(const struct calico_cluster_info *ci, bool ready)
{
	json_t *spec = json_pack("{s:b}", "datastoreReady", ready);
	json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s?, s:s?}, s:o}", "kind", "ClusterInformation",
			      "apiVersion", "projectcalico.org/v3", "metadata", "name", "default",
			      "uid", ci->uid, "creationTimestamp", ci->created, "spec", spec);
	char *s;

	if (j && ci->guid)
		json_object_set_new(spec, "clusterGUID", json_string(ci->guid));
	if (j && ci->type)
		json_object_set_new(spec, "clusterType", json_string(ci->type));
	if (j && ci->version)
		json_object_set_new(spec, "calicoVersion", json_string(ci->version));
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

char *calico_cluster_info_set_ready(const char *value, size_t len, bool ready)
{
	json_t *j = json_loadb(value, len, 0, NULL), *spec = json_object_get(j, "spec");
	char *s = NULL;

	if (json_is_object(spec) &&
	    json_object_set_new(spec, "datastoreReady", json_boolean(ready)) == 0)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}
