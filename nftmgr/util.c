/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers the commands share: diagnostics, the node's name, small
 * argument parsers, the sync after a write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "nftmgr.h"

void print_diags(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = diag_format(&d->v[i]);

		fprintf(stderr, "%s\n", s ? s : d->v[i].msg);
		free(s);
	}
	if (d->dropped)
		fprintf(stderr, "... and %zu more problem(s)\n", d->dropped);
}

int ctx_store_dir(struct ctx *ctx, char **ret)
{
	struct diags d = { 0 };
	struct config cfg;
	int r;

	r = config_load(ctx->config_path, ctx->config_explicit, &cfg, &d);
	print_diags(&d);
	diags_clear(&d);
	if (r < 0)
		return r;
	if (cfg.type == DATASTORE_ETCDV3 && !ctx->datastore_dir) {
		fprintf(stderr,
			"the etcdv3 datastore is not available in this version of nftmgr\n");
		config_clear(&cfg);
		return -EOPNOTSUPP;
	}
	*ret = strdup(ctx->datastore_dir ? ctx->datastore_dir : cfg.datastore_dir);
	config_clear(&cfg);
	return *ret ? 0 : -ENOMEM;
}

const char *common_kind(struct resource *const *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i]->kind != v[0]->kind)
			return NULL;
	return n ? kind_info(v[0]->kind)->kind : NULL;
}

const char *node_name(const struct ctx *ctx)
{
	static char host[256];
	const char *env = getenv("NODENAME");

	if (ctx->node)
		return ctx->node;
	if (env && *env)
		return env;
	if (gethostname(host, sizeof(host) - 1) < 0)
		return "localhost";
	return host;
}

/* With the file datastore, a write syncs this node's kernel at once, so
 * that a single node needs no daemon. */
int after_write_sync(struct ctx *ctx, struct confirm *c)
{
	struct node_input in = { .armed = c };
	int r = sync_node(ctx, &in, false);

	node_input_clear(&in);
	if (r < 0) {
		fprintf(stderr, "The resources are stored, but this node's kernel was not "
				"updated; run 'nftmgr sync' (or use --no-sync)\n");
		return r;
	}
	return 0;
}

int proto_from_arg(const char *s)
{
	static const struct {
		const char *name;
		int num;
	} v[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "sctp", 132 }, { "icmp", 1 }, { "icmpv6", 58 },
	};
	char *end;
	long n;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcasecmp(s, v[i].name) == 0)
			return v[i].num;
	n = strtol(s, &end, 10);
	return *s && !*end && n >= 0 && n <= 255 ? (int)n : -EINVAL;
}

int num_from_arg(const char *s, long max)
{
	char *end;
	long n = strtol(s, &end, 10);

	return *s && !*end && n >= 0 && n <= max ? (int)n : -EINVAL;
}

const char *write_error(int e)
{
	return e == -ESTALE ? "the datastore changed meanwhile (another writer?)" : strerror(-e);
}

const char *resource_path(const struct resource *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", r->namespace ? r->namespace : "", r->namespace ? "/" : "",
		 r->name);
	return buf;
}

int named_resource(const char *kind, const char *name, const char *ns, struct resource **ret)
{
	int k = kind_from_alias(kind);
	struct resource *r;

	if (k < 0) {
		fprintf(stderr, "Resource type '%s' is not supported\n", kind);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->kind = k;
	r->name = strdup(name);
	if (kind_info(k)->namespaced)
		r->namespace = strdup(ns ? ns : "default");
	if (!r->name || (kind_info(k)->namespaced && !r->namespace)) {
		resource_free(r);
		fprintf(stderr, "%s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}
