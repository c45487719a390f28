/* SPDX-License-Identifier: GPL-2.0-or-later */
/* get: stored resources as calicoctl prints them (ps, wide with counters,
 * yaml, json). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink.h"
#include "nftmgr.h"
#include "table.h"

enum output {
	OUT_PS,
	OUT_WIDE,
	OUT_YAML,
	OUT_JSON,
	OUT_CUSTOM, /* custom-columns=A,B,... */
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s get KIND [NAME] [-o ps|wide|yaml|json|custom-columns=A,B,...]\n"
		"       [-n NAMESPACE | -A]\n\n"
		"KIND is a kind name or alias as in calicoctl: globalnetworkpolicy (gnp),\n"
		"networkpolicy (policy, np), hostendpoint (hep), workloadendpoint (wep),\n"
		"globalnetworkset, networkset, profile (pro), felixconfiguration.\n"
		"-o yaml output is valid input for apply. custom-columns takes calicoctl's\n"
		"headings (NAME, ORDER, SELECTOR, NODE, INTERFACE, IPS, ...) and any field\n"
		"of metadata or spec by its upper-case name (DONOTTRACK, TYPES, ...).\n",
		prog);
}

static char *join_strv(char *const *v, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "," : "", v[i]);
	fclose(f);
	return buf;
}

static char *join_cidrs(const struct cidr *v, size_t n, bool with_len, size_t max)
{
	char *buf = NULL, a[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		cidr_format(&v[i], with_len, a, sizeof(a));
		fprintf(f, "%s%s", i ? "," : "", a);
	}
	fclose(f);
	if (buf && max && strlen(buf) > max)
		strcpy(buf + max - 3, "...");
	return buf;
}

static char *join_labels(const struct labels *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", l->v[i].key, l->v[i].value);
	fclose(f);
	return buf;
}

static int add_header(struct table *t, enum res_kind k, bool wide, bool all_ns, bool counts)
{
	static const char *const heads[RES_KIND_MAX][2][7] = {
		[RES_GLOBAL_NETWORK_POLICY] = { { "NAME" }, { "NAME", "ORDER", "SELECTOR" } },
		[RES_NETWORK_POLICY] = { { "NAME" }, { "NAME", "ORDER", "SELECTOR" } },
		[RES_HOST_ENDPOINT] = { { "NAME", "NODE" },
					{ "NAME", "NODE", "INTERFACE", "IPS", "PROFILES" } },
		[RES_WORKLOAD_ENDPOINT] = { { "WORKLOAD", "NODE", "NETWORKS", "INTERFACE" },
					    { "NAME", "WORKLOAD", "NODE", "NETWORKS", "INTERFACE",
					      "PROFILES" } },
		[RES_GLOBAL_NETWORK_SET] = { { "NAME" }, { "NAME", "NETS" } },
		[RES_NETWORK_SET] = { { "NAME" }, { "NAME", "NETS" } },
		[RES_PROFILE] = { { "NAME" }, { "NAME", "LABELS" } },
		[RES_FELIX_CONFIGURATION] = { { "NAME" }, { "NAME" } },
		[RES_TIER] = { { "NAME", "ORDER" }, { "NAME", "ORDER", "DEFAULTACTION" } },
		[RES_STAGED_GLOBAL_NETWORK_POLICY] = { { "NAME" },
						       { "NAME", "TIER", "ORDER", "SELECTOR",
							 "STAGEDACTION" } },
		[RES_STAGED_NETWORK_POLICY] = { { "NAME" },
						{ "NAME", "TIER", "ORDER", "SELECTOR",
						  "STAGEDACTION" } },
		[RES_STAGED_K8S_NETWORK_POLICY] = { { "NAME" },
						    { "NAME", "TIER", "ORDER", "SELECTOR",
						      "STAGEDACTION" } },
	};
	const char *cells[8] = { 0 };
	size_t n = 0, o = 0;

	if (all_ns && kind_info(k)->namespaced)
		cells[o++] = "NAMESPACE";
	while (n < 7 && heads[k][wide][n])
		cells[o++] = heads[k][wide][n++];
	if (counts) {
		cells[o++] = "PACKETS";
		cells[o++] = "BYTES";
	}
	t->n_cols = o;
	return table_add(t, cells);
}

/* Tiers and staged policies; returns the cells filled. */
static size_t other_cells(const struct resource *r, const char **cells, char *order, size_t len)
{
	const struct policy_spec *p = &r->u.policy;

	cells[0] = r->name;
	if (r->kind == RES_TIER) {
		snprintf(order, len, "%.15g", r->u.tier.order);
		cells[1] = order;
		cells[2] = r->u.tier.default_action == ACTION_PASS ? "Pass" : "Deny";
		return 3;
	}
	if (!kind_is_staged(r->kind))
		return 1;
	cells[1] = policy_tier(p);
	if (p->has_order)
		snprintf(order, len, "%.15g", p->order);
	else
		snprintf(order, len, "<nil>");
	cells[2] = order;
	cells[3] = p->selector;
	cells[4] = staged_action_name(p->staged_action);
	return 5;
}

static int add_row(struct table *t, const struct resource *r, bool wide, bool all_ns, bool counts)
{
	const char *cells[8] = { 0 };
	char *tmp[3] = { 0 }, order[32];
	size_t o = 0;
	int e;

	if (all_ns && kind_info(r->kind)->namespaced)
		cells[o++] = r->namespace;
	switch (r->kind) {
	case RES_GLOBAL_NETWORK_POLICY:
	case RES_NETWORK_POLICY:
		cells[o++] = r->name;
		if (r->u.policy.has_order)
			snprintf(order, sizeof(order), "%.15g", r->u.policy.order);
		else
			snprintf(order, sizeof(order), "<nil>");
		cells[o++] = order;
		cells[o++] = r->u.policy.selector;
		break;
	case RES_HOST_ENDPOINT:
		cells[o++] = r->name;
		cells[o++] = r->u.ep.node;
		cells[o++] = r->u.ep.iface;
		cells[o++] = tmp[0] = join_cidrs(r->u.ep.ips, r->u.ep.n_ips, false, 0);
		cells[o++] = tmp[1] = join_strv(r->u.ep.profiles, r->u.ep.n_profiles);
		break;
	case RES_WORKLOAD_ENDPOINT:
		if (wide)
			cells[o++] = r->name;
		cells[o++] = r->u.ep.pod ? r->u.ep.pod : r->u.ep.workload;
		cells[o++] = r->u.ep.node;
		cells[o++] = tmp[0] = join_cidrs(r->u.ep.ips, r->u.ep.n_ips, true, 0);
		cells[o++] = r->u.ep.iface;
		cells[o++] = tmp[1] = join_strv(r->u.ep.profiles, r->u.ep.n_profiles);
		break;
	case RES_GLOBAL_NETWORK_SET:
	case RES_NETWORK_SET:
		cells[o++] = r->name;
		cells[o++] = tmp[0] = join_cidrs(r->u.netset.nets, r->u.netset.n_nets, true, 80);
		break;
	case RES_PROFILE:
		cells[o++] = r->name;
		cells[o++] = tmp[0] = join_labels(&r->u.profile.labels_to_apply);
		break;
	default: o += other_cells(r, cells + o, order, sizeof(order)); break;
	}
	(void)counts; /* filled in by add_counts() */
	e = table_add(t, cells);
	for (size_t i = 0; i < 3; i++)
		free(tmp[i]);
	return e;
}

/* -o wide for policies and host endpoints: the kernel's packets and bytes,
 * per policy with a row per rule, per endpoint; when the table can be read. */
static bool with_counters(enum res_kind k, bool wide)
{
	return wide && (k == RES_GLOBAL_NETWORK_POLICY || k == RES_NETWORK_POLICY ||
			k == RES_HOST_ENDPOINT);
}

static int add_counts(struct table *t, const struct counters *c, const struct resource *r)
{
	char label[300], p[32], b[32];
	uint64_t packets, bytes;
	char **row = t->rows[t->n_rows - 1];
	size_t nc = t->n_cols;
	int e = 0;

	if (r->kind == RES_HOST_ENDPOINT) {
		counters_iface(c, r->u.ep.iface ? r->u.ep.iface : "", &packets, &bytes);
	} else {
		resource_path(r, label, sizeof(label));
		counters_policy(c, label, &packets, &bytes);
	}
	snprintf(p, sizeof(p), "%" PRIu64, packets);
	snprintf(b, sizeof(b), "%" PRIu64, bytes);
	free(row[nc - 2]);
	free(row[nc - 1]);
	row[nc - 2] = strdup(p);
	row[nc - 1] = strdup(b);
	if (r->kind == RES_HOST_ENDPOINT)
		return 0;
	/* a row per rule */
	for (size_t i = 0; i < c->n && e == 0; i++) {
		const char *cm = c->v[i].comment;
		size_t n = strlen(label);
		const char *cells[8] = { 0 };
		char name[300];

		if (!cm || strncmp(cm, "policy ", 7) || strncmp(cm + 7, label, n) ||
		    cm[7 + n] != ' ')
			continue;
		snprintf(name, sizeof(name), "  %s", cm + 8 + n);
		snprintf(p, sizeof(p), "%" PRIu64, c->v[i].packets);
		snprintf(b, sizeof(b), "%" PRIu64, c->v[i].bytes);
		cells[0] = name;
		cells[nc - 2] = p;
		cells[nc - 1] = b;
		e = table_add(t, cells);
	}
	return e;
}

static int print_table(struct ctx *ctx, struct resource_list *l, enum res_kind k, bool wide,
		       bool all_ns)
{
	struct table t = { 0 };
	struct counters c = { 0 };
	bool counts = with_counters(k, wide) && counters_load(ctx, &c) == 0;
	int e = add_header(&t, k, wide, all_ns, counts);

	for (size_t i = 0; e == 0 && i < l->n; i++) {
		e = add_row(&t, l->v[i], wide, all_ns, counts);
		if (e == 0 && counts)
			e = add_counts(&t, &c, l->v[i]);
	}
	if (e == 0)
		table_print(&t, stdout);
	table_clear(&t);
	counters_clear(&c);
	return e;
}

static int parse_output(const char *s, enum output *ret)
{
	static const char *const names[] = { "ps", "wide", "yaml", "json" };

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum output)i;
			return 0;
		}
	if (strncmp(s, "custom-columns=", 15) == 0) {
		*ret = OUT_CUSTOM;
		return 0;
	}
	return -EINVAL;
}

/* custom-columns=A,b,C: the headings, upper-cased, at most
 * TABLE_MAX_COLS - 1 (room for NAMESPACE with -A). */
static int parse_columns(const char *s, char *cols, char **v, size_t *n)
{
	snprintf(cols, 1024, "%s", s + 15);
	*n = 0;
	for (char *p = strtok(cols, ","); p; p = strtok(NULL, ",")) {
		if (*n == TABLE_MAX_COLS - 1)
			return -E2BIG;
		for (char *c = p; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		v[(*n)++] = p;
	}
	return *n ? 0 : -EINVAL;
}

/* Keeps the resources of list that match namespace and name. */
static void filter(struct resource_list *l, const char *ns, const char *name)
{
	size_t w = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct resource *r = l->v[i];
		bool keep = (!name || strcmp(r->name, name) == 0) &&
			    (!ns || !r->namespace || strcmp(r->namespace, ns) == 0);

		if (keep)
			l->v[w++] = r;
		else
			resource_free(r);
	}
	l->n = w;
}

struct get_req {
	int kind;
	const char *ns, *name;
	enum output out;
	bool all_ns, help;
	char buf[1024]; /* custom-columns: the headings */
	char *cols[TABLE_MAX_COLS];
	size_t n_cols;
};

/* Returns 0 (g->help: --help was printed) or -EINVAL after printing why. */
static int parse(struct ctx *ctx, int argc, char **argv, struct get_req *g)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:n:Ah", opts, NULL)) != -1) {
		if (c == 'o' && parse_output(optarg, &g->out) == 0 &&
		    (g->out != OUT_CUSTOM ||
		     parse_columns(optarg, g->buf, g->cols, &g->n_cols) == 0))
			continue;
		if (c == 'o' && strncmp(optarg, "custom-columns=", 15) == 0) {
			fprintf(stderr, "custom-columns wants 1 to %d headings, comma-separated\n",
				TABLE_MAX_COLS - 1);
			return -EINVAL;
		}
		if (c == 'n')
			g->ns = optarg;
		else if (c == 'A')
			g->all_ns = true;
		else if (c == 'h')
			return usage(stdout, ctx->prog), g->help = true, 0;
		else
			return usage(stderr, ctx->prog), -EINVAL;
	}
	if (optind >= argc || argc - optind > 2)
		return usage(stderr, ctx->prog), -EINVAL;
	g->kind = kind_from_alias(argv[optind]);
	g->name = argc - optind == 2 ? argv[optind + 1] : NULL;
	return 0;
}

/* With -A a namespaced kind's table starts with NAMESPACE, as calicoctl's. */
static int custom_columns(struct get_req *g, const struct resource_list *l)
{
	char ns[] = "NAMESPACE";
	char *cols[TABLE_MAX_COLS];
	size_t n = 0;
	bool has = false;

	for (size_t i = 0; i < g->n_cols; i++)
		has |= strcmp(g->cols[i], ns) == 0;
	if (g->all_ns && kind_info(g->kind)->namespaced && !has)
		cols[n++] = ns;
	for (size_t i = 0; i < g->n_cols; i++)
		cols[n++] = g->cols[i];
	return columns_print(l, g->kind, cols, n);
}

/* Returns 0 or a negative errno, having printed why. */
static int get_run(struct ctx *ctx, struct get_req *g)
{
	const struct kind_info *ki = kind_info(g->kind);
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	struct datastore *ds = NULL;
	int r;

	if (ki->namespaced && !g->all_ns && !g->ns)
		g->ns = "default";
	if (g->all_ns)
		g->ns = NULL;
	r = ds_open(ctx, &ds);
	if (r == 0 && (r = ds_list(ds, g->kind, &l, &d)) < 0)
		fprintf(stderr, "Failed to get resources: cannot read the datastore\n");
	if (r < 0)
		goto out;
	print_diags(&d);
	if (g->kind == RES_TIER && (r = tiers_add_reserved(&l)) < 0)
		goto out;
	filter(&l, ki->namespaced ? g->ns : NULL, g->name);
	resource_list_sort(&l);
	if (g->name && l.n == 0) {
		fprintf(stderr, "Failed to get resources: resource does not exist: %s(%s%s%s)\n",
			ki->kind, g->ns ? g->ns : "", g->ns ? "/" : "", g->name);
		r = -ENOENT;
	} else if (g->out == OUT_YAML) {
		r = resources_write_yaml(l.v, l.n, stdout);
	} else if (g->out == OUT_JSON) {
		r = resources_write_json(l.v, l.n, stdout);
	} else if (g->out == OUT_CUSTOM) {
		r = custom_columns(g, &l);
	} else {
		r = print_table(ctx, &l, g->kind, g->out == OUT_WIDE, g->all_ns);
	}
out:
	ds_free(ds);
	resource_list_clear(&l);
	diags_clear(&d);
	return r;
}

int cmd_get(struct ctx *ctx, int argc, char **argv)
{
	struct get_req g = { .out = OUT_PS };

	if (parse(ctx, argc, argv, &g) < 0)
		return EXIT_USAGE;
	if (g.help)
		return EXIT_OK;
	if (g.kind < 0) {
		fprintf(stderr, "Failed to get resources: resource type '%s' is not supported\n",
			argv[optind]);
		return EXIT_FAIL;
	}
	return get_run(ctx, &g) < 0 ? EXIT_FAIL : EXIT_OK;
}
