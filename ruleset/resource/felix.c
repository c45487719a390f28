/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The FelixConfiguration subset nftmgr reads (SPEC.md section 6). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resource-internal.h"

#define FAILSAFE_MAX 1024

struct failsafe_vec {
	bool has;
	struct failsafe *v;
	size_t n;
};

static int failsafe_proto(const char *s, struct protocol *ret)
{
	static const struct {
		const char *name;
		uint8_t num;
	} p[] = { { "tcp", 6 }, { "udp", 17 }, { "sctp", 132 } };

	for (size_t i = 0; i < ARRAY_SIZE(p); i++)
		if (strcasecmp(s, p[i].name) == 0) {
			*ret = (struct protocol){ true, true, p[i].num };
			return 0;
		}
	return -EINVAL;
}

static int parse_port(const char *s, uint16_t *ret)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* Felix's env-var form: "none" or "proto:port" / "proto:cidr:port", comma
 * separated. IPv6 CIDRs are written in brackets: "tcp:[fd00::/8]:22". */
static int failsafe_entry(const char *e, struct failsafe *f, char *why, size_t wl)
{
	const char *c1 = strchr(e, ':'), *last = strrchr(e, ':');
	char proto[16], net[64];

	*f = (struct failsafe){ 0 };
	if (!c1 || (size_t)(c1 - e) >= sizeof(proto))
		goto bad;
	snprintf(proto, sizeof(proto), "%.*s", (int)(c1 - e), e);
	if (failsafe_proto(proto, &f->protocol) < 0)
		goto bad;
	if (parse_port(last + 1, &f->port) < 0)
		goto bad;
	if (last != c1) {
		const char *a = c1 + 1;
		size_t n = (size_t)(last - a);

		if (n && a[0] == '[' && a[n - 1] == ']') {
			a++;
			n -= 2;
		}
		if (n == 0 || n >= sizeof(net))
			goto bad;
		snprintf(net, sizeof(net), "%.*s", (int)n, a);
		if (cidr_parse(net, false, &f->net, why, wl) < 0)
			return -EINVAL;
		f->has_net = true;
	}
	return 0;
bad:
	snprintf(why, wl, "\"%s\" is not proto:port or proto:cidr:port", e);
	return -EINVAL;
}

static void failsafe_from_string(struct dctx *c, const struct value *n, struct failsafe_vec *v)
{
	_cleanup_free_ char *copy = strdup(n->str);
	char *save = NULL, *tok;

	v->has = true;
	if (!copy || strcmp(n->str, "none") == 0)
		return;
	v->v = calloc(strlen(n->str) / 4 + 1, sizeof(*v->v));
	if (!v->v)
		return;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char why[128];

		while (*tok == ' ')
			tok++;
		if (failsafe_entry(tok, &v->v[v->n], why, sizeof(why)) < 0)
			dctx_err(c, n, "%s", why);
		else
			v->n++;
	}
}

struct failsafe_in {
	char *protocol;
	uint64_t port;
	char *net;
};

static void dec_fs_port(struct dctx *c, const struct value *n, void *out)
{
	uint64_t v;

	if (dec_uint(c, n, 65535, &v)) {
		if (v == 0)
			dctx_err(c, n, "port 0 is not valid (1 to 65535)");
		*(uint64_t *)out = v;
	}
}

static void failsafe_from_list(struct dctx *c, const struct value *n, struct failsafe_vec *v)
{
	static const struct field f[] = {
		{ "protocol", dec_string, offsetof(struct failsafe_in, protocol) },
		{ "port", dec_fs_port, offsetof(struct failsafe_in, port) },
		{ "net", dec_string, offsetof(struct failsafe_in, net) },
	};

	v->has = true;
	if (n->n > FAILSAFE_MAX) {
		dctx_err(c, n, "more than %d failsafe ports", FAILSAFE_MAX);
		return;
	}
	v->v = calloc(n->n ? n->n : 1, sizeof(*v->v));
	if (!v->v)
		return;
	for (size_t i = 0; i < n->n; i++) {
		size_t saved = dctx_push_index(c, i);
		struct failsafe_in in = { 0 };
		struct failsafe *fs = &v->v[v->n];
		char why[128];

		decode_fields(c, n->kids[i], f, ARRAY_SIZE(f), &in);
		if (!in.protocol || failsafe_proto(in.protocol, &fs->protocol) < 0)
			dctx_err(c, n->kids[i], "protocol must be tcp, udp or sctp");
		else if (!in.port)
			dctx_err(c, n->kids[i], "port is required");
		else if (in.net && cidr_parse(in.net, false, &fs->net, why, sizeof(why)) < 0)
			dctx_err(c, n->kids[i], "%s", why);
		else {
			fs->port = (uint16_t)in.port;
			fs->has_net = in.net != NULL;
			v->n++;
		}
		free(in.protocol);
		free(in.net);
		dctx_pop(c, saved);
	}
}

static void dec_failsafe(struct dctx *c, const struct value *n, void *out)
{
	if (n->type == VALUE_SCALAR && value_scalar_type(n) == SCALAR_STR)
		failsafe_from_string(c, n, out);
	else if (n->type == VALUE_SEQ)
		failsafe_from_list(c, n, out);
	else
		dctx_err(c, n, "expected a list of {protocol, port} or \"none\"");
}

static void dec_mark_mask(struct dctx *c, const struct value *n, void *out)
{
	struct felix_spec *f = out;
	unsigned long long v;
	char *end;

	if (n->type != VALUE_SCALAR) {
		dctx_err(c, n, "expected a 32-bit mask");
		return;
	}
	errno = 0;
	v = strtoull(n->str, &end, 0);
	if (errno || *end || !n->str[0] || n->str[0] == '-' || v > 0xffffffffull) {
		dctx_err(c, n, "\"%s\" is not a 32-bit mask", n->str);
		return;
	}
	if (__builtin_popcountll(v) < 2) {
		dctx_err(c, n, "the mark mask needs at least 2 bits");
		return;
	}
	f->mark_mask = (uint32_t)v;
	f->has_mark_mask = true;
}

static void dec_merge_allow(struct dctx *c, const struct value *n, void *out)
{
	struct felix_spec *f = out;
	unsigned before = c->errors;

	dec_bool(c, n, &f->merge_allow);
	f->has_merge_allow = c->errors == before;
}

/* Drop, Return or Accept, any case (Felix's env form is DROP, ...). */
static void dec_ep_to_host(struct dctx *c, const struct value *n, void *out)
{
	static const char *const v[] = { "Drop", "Return", "Accept" };
	struct felix_spec *f = out;

	if (n->type != VALUE_SCALAR) {
		dctx_err(c, n, "expected Drop, Return or Accept");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (strcasecmp(n->str, v[i]) == 0) {
			free(f->ep_to_host);
			f->ep_to_host = strdup(v[i]);
			if (!f->ep_to_host)
				dctx_err(c, n, "out of memory");
			return;
		}
	dctx_err(c, n, "\"%s\" is not Drop, Return or Accept", n->str);
}

/* Disabled or Any: whether a workload's allowSpoofedSourcePrefixes count. */
static void dec_spoofing(struct dctx *c, const struct value *n, void *out)
{
	struct felix_spec *f = out;

	if (n->type == VALUE_SCALAR &&
	    (strcmp(n->str, "Any") == 0 || strcmp(n->str, "Disabled") == 0)) {
		f->has_spoof_any = true;
		f->spoof_any = n->str[0] == 'A';
	} else {
		dctx_err(c, n, "workloadSourceSpoofing must be Disabled or Any");
	}
}

static void dec_table_name(struct dctx *c, const struct value *n, void *out)
{
	char **s = out;
	size_t len;

	dec_string(c, n, out);
	if (!*s)
		return;
	len = strlen(*s);
	if (len < 1 || len > 63 ||
	    strspn(*s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		       "0123456789_-") != len)
		dctx_err(c, n, "invalid nftables table name \"%s\"", *s);
}

/* Felix settings nftmgr has no use for: accepted so that a cluster's
 * FelixConfiguration loads, and dropped. */
static const char *const felix_ignored[] = {
	"logSeverityScreen",
	"logSeverityFile",
	"logSeveritySys",
	"reportingInterval",
	"reportingTTL",
	"ipipEnabled",
	"ipipMTU",
	"vxlanEnabled",
	"vxlanVNI",
	"vxlanPort",
	"vxlanMTU",
	"bpfEnabled",
	"bpfLogLevel",
	"floatingIPs",
	"healthEnabled",
	"healthPort",
	"prometheusMetricsEnabled",
	"prometheusMetricsPort",
	"iptablesBackend",
	"chainInsertMode",
	"ipv6Support",
	"routeRefreshInterval",
	"iptablesRefreshInterval",
	"nftablesMode",
	"wireguardEnabled",
};

/* The settings nftmgr reads; felix_ignored are accepted beside them. */
static const struct field felix_fields[] = {
	{ "failsafeInboundHostPorts", dec_failsafe, offsetof(struct felix_spec, has_failsafe_in) },
	{ "failsafeOutboundHostPorts", dec_failsafe,
	  offsetof(struct felix_spec, has_failsafe_out) },
	{ "interfacePrefix", dec_string, offsetof(struct felix_spec, interface_prefix) },
	{ "logPrefix", dec_string, offsetof(struct felix_spec, log_prefix) },
	{ "nftablesTableName", dec_table_name, offsetof(struct felix_spec, table_name) },
	{ "nftablesMarkMask", dec_mark_mask, 0 },
	{ "nftablesMergeAllowPolicies", dec_merge_allow, 0 },
	{ "defaultEndpointToHostAction", dec_ep_to_host, 0 },
	{ "workloadSourceSpoofing", dec_spoofing, 0 },
};

void felix_dec_spec(struct dctx *c, const struct value *spec, struct felix_spec *f)
{
	struct field fields[ARRAY_SIZE(felix_fields) + ARRAY_SIZE(felix_ignored)];

	memcpy(fields, felix_fields, sizeof(felix_fields));
	for (size_t i = 0; i < ARRAY_SIZE(felix_ignored); i++)
		fields[ARRAY_SIZE(felix_fields) + i] = (struct field){ felix_ignored[i], dec_ignore,
								       0 };
	decode_fields(c, spec, fields, ARRAY_SIZE(fields), f);
}

/* Each field set in f replaces the one in ret. */
static void felix_over(struct felix_spec *ret, const struct felix_spec *f)
{
	if (f->has_failsafe_in) {
		ret->has_failsafe_in = true;
		ret->failsafe_in = f->failsafe_in;
		ret->n_failsafe_in = f->n_failsafe_in;
	}
	if (f->has_failsafe_out) {
		ret->has_failsafe_out = true;
		ret->failsafe_out = f->failsafe_out;
		ret->n_failsafe_out = f->n_failsafe_out;
	}
	if (f->interface_prefix)
		ret->interface_prefix = f->interface_prefix;
	if (f->log_prefix)
		ret->log_prefix = f->log_prefix;
	if (f->table_name)
		ret->table_name = f->table_name;
	if (f->has_mark_mask) {
		ret->has_mark_mask = true;
		ret->mark_mask = f->mark_mask;
	}
	if (f->has_merge_allow) {
		ret->has_merge_allow = true;
		ret->merge_allow = f->merge_allow;
	}
	if (f->ep_to_host)
		ret->ep_to_host = f->ep_to_host;
	if (f->has_spoof_any) {
		ret->has_spoof_any = true;
		ret->spoof_any = f->spoof_any;
	}
}

static const struct resource *felix_find(struct resource *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->kind == RES_FELIX_CONFIGURATION && strcmp(v[i]->name, name) == 0)
			return v[i];
	return NULL;
}

int felix_settings(struct resource *const *v, size_t n, const char *node, struct felix_spec *ret)
{
	const struct resource *r;
	char *name;

	*ret = (struct felix_spec){ 0 };
	if (asprintf(&name, "node.%s", node) < 0)
		return -ENOMEM;
	r = felix_find(v, n, "default");
	if (r)
		felix_over(ret, &r->u.felix);
	r = felix_find(v, n, name);
	if (r)
		felix_over(ret, &r->u.felix);
	free(name);
	return 0;
}

bool felix_has_field(const char *name)
{
	if (fields_have(felix_fields, ARRAY_SIZE(felix_fields), name))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(felix_ignored); i++)
		if (strcasecmp(felix_ignored[i], name) == 0)
			return true;
	return false;
}
