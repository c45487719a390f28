/* SPDX-License-Identifier: GPL-2.0-or-later */
/* calicoctl.cfg files (v1 calicoApiConfig, v3 CalicoAPIConfig) and the
 * environment variables of the same names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"

struct config_in {
	char *type;
	char *dir;
	char *endpoints;
	char *key;
	char *cert;
	char *ca;
	char *user;
	char *password;
	char *scheme;	 /* v1, deprecated */
	char *authority; /* v1, deprecated */
};

#define C(f) offsetof(struct config_in, f)
static const struct field spec_fields[] = {
	{ "datastoreType", dec_string, C(type) },
	{ "datastoreDir", dec_string, C(dir) },
	{ "etcdEndpoints", dec_string, C(endpoints) },
	{ "etcdKeyFile", dec_string, C(key) },
	{ "etcdCertFile", dec_string, C(cert) },
	{ "etcdCACertFile", dec_string, C(ca) },
	{ "etcdUsername", dec_string, C(user) },
	{ "etcdPassword", dec_string, C(password) },
	{ "etcdScheme", dec_string, C(scheme) },
	{ "etcdAuthority", dec_string, C(authority) },
};
#undef C

static const struct {
	const char *env;
	size_t off;
} env_vars[] = {
	{ "DATASTORE_TYPE", offsetof(struct config_in, type) },
	{ "DATASTORE_DIR", offsetof(struct config_in, dir) },
	{ "ETCD_ENDPOINTS", offsetof(struct config_in, endpoints) },
	{ "ETCD_KEY_FILE", offsetof(struct config_in, key) },
	{ "ETCD_CERT_FILE", offsetof(struct config_in, cert) },
	{ "ETCD_CA_CERT_FILE", offsetof(struct config_in, ca) },
	{ "ETCD_USERNAME", offsetof(struct config_in, user) },
	{ "ETCD_PASSWORD", offsetof(struct config_in, password) },
};

struct config_job {
	struct dctx c;
	struct config_in in;
	unsigned docs;
};

static int on_config(void *userdata, const struct value *root)
{
	static const struct field top[] = {
		{ "apiVersion", dec_ignore, 0 },
		{ "kind", dec_ignore, 0 },
		{ "metadata", dec_ignore, 0 },
		{ "spec", dec_ignore, 0 },
	};
	struct config_job *j = userdata;
	struct dctx *c = &j->c;
	const struct value *api = value_map_get(root, "apiVersion");
	const struct value *kind = value_map_get(root, "kind");
	const char *want;
	size_t saved;

	if (j->docs++ || !decode_expect(c, root, VALUE_MAP))
		return j->docs > 1 ? (dctx_err(c, root, "one document expected"), -EINVAL)
				   : -EINVAL;
	decode_fields(c, root, top, ARRAY_SIZE(top), NULL);
	if (!api || api->type != VALUE_SCALAR ||
	    (strcmp(api->str, "v1") && strcmp(api->str, "projectcalico.org/v3"))) {
		dctx_err(c, api ? api : root, "invalid config file: unknown APIVersion '%s'",
			 api && api->type == VALUE_SCALAR ? api->str : "");
		return -EINVAL;
	}
	c->ver = api->str[0] == 'v' ? API_V1 : API_V3;
	want = c->ver == API_V1 ? "calicoApiConfig" : "CalicoAPIConfig";
	if (!kind || kind->type != VALUE_SCALAR || strcmp(kind->str, want)) {
		dctx_err(c, kind ? kind : root, "invalid config file: expected kind '%s', got '%s'",
			 want, kind && kind->type == VALUE_SCALAR ? kind->str : "");
		return -EINVAL;
	}
	saved = dctx_push(c, "spec");
	if (value_map_get(root, "spec"))
		decode_fields(c, value_map_get(root, "spec"), spec_fields,
			      ARRAY_SIZE(spec_fields) - (c->ver == API_V3 ? 2 : 0), &j->in);
	dctx_pop(c, saved);
	return 0;
}

static int apply_env(struct config_in *in, const char *prefix)
{
	for (size_t i = 0; i < ARRAY_SIZE(env_vars); i++) {
		char name[64];
		const char *v;
		char **slot = (char **)((char *)in + env_vars[i].off);

		snprintf(name, sizeof(name), "CALICO_%s%s", prefix, env_vars[i].env);
		v = getenv(name);
		snprintf(name, sizeof(name), "%s%s", prefix, env_vars[i].env);
		if (!v)
			v = getenv(name);
		if (!v)
			continue;
		free(*slot);
		*slot = strdup(v);
		if (!*slot)
			return -ENOMEM;
	}
	return 0;
}

static void config_in_clear(struct config_in *in)
{
	char **f[] = { &in->type, &in->dir,  &in->endpoints, &in->key,	  &in->cert,
		       &in->ca,	  &in->user, &in->password,  &in->scheme, &in->authority };

	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		free(*f[i]);
}

static int config_finish(struct config_in *in, const char *file, enum datastore_type def,
			 struct config *ret, struct diags *d)
{
	struct config c = { 0 };

	if (!in->endpoints && in->authority &&
	    asprintf(&in->endpoints, "%s://%s", in->scheme ? in->scheme : "http", in->authority) <
		    0)
		return -ENOMEM;
	if (!in->type)
		c.type = in->endpoints ? def : DATASTORE_FILE;
	else if (strcmp(in->type, "file") == 0)
		c.type = DATASTORE_FILE;
	else if (strcmp(in->type, "etcdv3") == 0)
		c.type = DATASTORE_ETCDV3;
	else if (strcmp(in->type, "etcdv2") == 0)
		c.type = DATASTORE_ETCDV2;
	else {
		diags_add(d, file, (struct pos){ 0, 0 }, NULL, "datastoreType",
			  "unknown datastore type \"%s\" (file, etcdv3 or etcdv2)", in->type);
		return -EINVAL;
	}
	c.datastore_dir = strdup(in->dir ? in->dir : STORE_DEFAULT_DIR);
	c.etcd_endpoints = in->endpoints;
	c.etcd_key_file = in->key;
	c.etcd_cert_file = in->cert;
	c.etcd_ca_cert_file = in->ca;
	c.etcd_username = in->user;
	c.etcd_password = in->password;
	in->endpoints = in->key = in->cert = in->ca = in->user = in->password = NULL;
	if (!c.datastore_dir) {
		config_clear(&c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

static int load(const char *path, bool must_exist, const char *env, enum datastore_type def,
		struct config *ret, struct diags *d)
{
	struct config_job j = { .c = { .d = d, .file = path } };
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = ruleset_read_file(path, &buf, &len);

	if (r == -ENOENT && !must_exist) {
		r = 0;
	} else if (r < 0) {
		diags_add(d, path, (struct pos){ 0, 0 }, NULL, NULL,
			  "error reading config file: %s", strerror(-r));
		return r;
	} else {
		r = value_parse_yaml(path, buf, len, on_config, &j, d);
		if (r == 0 && j.c.errors)
			r = -EINVAL;
	}
	if (r == 0)
		r = apply_env(&j.in, env);
	if (r == 0)
		r = config_finish(&j.in, path, def, ret, d);
	config_in_clear(&j.in);
	return r;
}

int config_load(const char *path, bool must_exist, struct config *ret, struct diags *d)
{
	return load(path, must_exist, "", DATASTORE_ETCDV3, ret, d);
}

int config_load_apiv1(const char *path, bool must_exist, struct config *ret, struct diags *d)
{
	return load(path, must_exist, "APIV1_", DATASTORE_ETCDV2, ret, d);
}

void config_clear(struct config *c)
{
	free(c->datastore_dir);
	free(c->etcd_endpoints);
	free(c->etcd_key_file);
	free(c->etcd_cert_file);
	free(c->etcd_ca_cert_file);
	free(c->etcd_username);
	free(c->etcd_password);
	*c = (struct config){ 0 };
}
