/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What export and sync share: this node's resources and addresses, and
 * the table compiled from them. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "netlink.h"
#include "nftmgr.h"

void ifaces_free(struct local_iface *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].addrs);
	}
	free(v);
}

static int iface_add(struct local_iface **v, size_t *n, const char *name, const struct cidr *a)
{
	struct local_iface *li = NULL;
	struct cidr *na;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].name, name) == 0)
			li = &(*v)[i];
	if (!li) {
		struct local_iface *nv = realloc(*v, (*n + 1) * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		li = &nv[(*n)++];
		*li = (struct local_iface){ .name = strdup(name) };
		if (!li->name)
			return -ENOMEM;
	}
	na = realloc(li->addrs, (li->n_addrs + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	li->addrs = na;
	na[li->n_addrs++] = *a;
	return 0;
}

int ifaces_from_system(struct local_iface **v, size_t *n)
{
	struct ifaddrs *ifa, *i;
	int r = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i && r == 0; i = i->ifa_next) {
		struct cidr c = { 0 };

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			c.family = AF_INET;
			c.len = 32;
			memcpy(c.addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			c.family = AF_INET6;
			c.len = 128;
			memcpy(c.addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		r = iface_add(v, n, i->ifa_name, &c);
	}
	freeifaddrs(ifa);
	return r;
}

int iface_from_arg(const char *arg, struct local_iface **v, size_t *n)
{
	const char *eq = strchr(arg, '=');
	char name[64], why[128];
	struct cidr c;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name) || strchr(eq + 1, '/') ||
	    cidr_parse(eq + 1, false, &c, why, sizeof(why)) < 0)
		return -EINVAL;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	return iface_add(v, n, name, &c);
}

int load_resources(struct ctx *ctx, char **paths, size_t n_paths, struct resource_list *l)
{
	struct diags d = { 0 };
	struct datastore *ds = NULL;
	int r = 0;

	for (size_t i = 0; i < n_paths; i++)
		if (ruleset_load_path(paths[i], l, &d) < 0)
			r = -EINVAL;
	if (!n_paths) {
		r = ds_open(ctx, &ds);
		if (r)
			return -EIO;
		r = ds_list(ds, -1, l, &d);
		ds_free(ds);
	}
	print_diags(&d);
	diags_clear(&d);
	return r;
}

/* Only a host endpoint of this node named by expectedIPs alone needs this
 * machine's addresses. Reading them is a netlink dump of every link and
 * address, which in a daemon would otherwise come with every change. */
static bool need_ifaces(struct resource *const *v, size_t n, const char *node)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->kind == RES_HOST_ENDPOINT && !v[i]->u.ep.iface && v[i]->u.ep.n_ips &&
		    v[i]->u.ep.node && strcmp(v[i]->u.ep.node, node) == 0)
			return true;
	return false;
}

static void node_ifaces(struct node_input *in, bool needed)
{
	if (in->own_ifs)
		return;
	/* this machine's addresses, as they are now */
	ifaces_free(in->ifs, in->n_ifs);
	in->ifs = NULL;
	in->n_ifs = 0;
	if (needed && ifaces_from_system(&in->ifs, &in->n_ifs) < 0)
		fprintf(stderr, "cannot list local addresses; expectedIPs will not match\n");
}

static void release_list(void *data)
{
	resource_list_clear(data);
	malloc_trim(0); /* their pages back before the maps take new ones */
}

/* done, when given, holds v and is cleared as soon as the compile is done
 * reading it. */
static int compile_list(struct ctx *ctx, struct node_input *in, struct resource *const *v, size_t n,
			struct resource_list *done, struct model_table **ret,
			struct compile_stats *stats)
{
	struct compile_opts o = { .node = node_name(ctx), .memo = in->memo };
	struct resource_list l = { .n = n, .cap = n };
	struct diags d = { 0 };
	int r = -ENOMEM;

	node_ifaces(in, need_ifaces(v, n, o.node));
	o.ifaces = in->ifs;
	o.n_ifaces = in->n_ifs;
	if (done) {
		o.inputs_done = release_list;
		o.inputs_done_data = done;
	}
	/* a sorted copy of the pointers: the resources stay the caller's */
	l.v = malloc((n ? n : 1) * sizeof(*l.v));
	if (l.v) {
		memcpy(l.v, v, n * sizeof(*v));
		resource_list_sort(&l);
		r = ruleset_compile(l.v, l.n, &o, ret, stats, &d);
	}
	print_diags(&d);
	if (r < 0)
		fprintf(stderr, "compiling the ruleset: %s\n", strerror(-r));
	free(l.v);
	diags_clear(&d);
	return r;
}

int node_compile(struct ctx *ctx, struct node_input *in, struct resource *const *v, size_t n,
		 struct model_table **ret, struct compile_stats *stats)
{
	return compile_list(ctx, in, v, n, NULL, ret, stats);
}

int node_table(struct ctx *ctx, struct node_input *in, struct model_table **ret,
	       struct compile_stats *stats)
{
	struct resource_list l = { 0 };
	int r = load_resources(ctx, in->paths, in->n_paths, &l);

	/* the resources go before the address maps are made (W-huge: 96 of
	 * the 340 MB at the compile's peak) */
	if (r == 0)
		r = compile_list(ctx, in, l.v, l.n, &l, ret, stats);
	resource_list_clear(&l);
	/* the decoded resources and the compile's scratch, freed in small
	 * pieces, go back to the system before the batch is built (W-huge:
	 * 490 MB at the peak -> 340 MB) */
	malloc_trim(0);
	return r;
}

void node_input_clear(struct node_input *in)
{
	ifaces_free(in->ifs, in->n_ifs);
	free(in->paths);
	*in = (struct node_input){ 0 };
}

static double ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* Nothing to do when the inputs, hashed before anything is read (a change
 * meanwhile is seen next time), and the table are as our last sync left
 * them. */
static bool stamp_says_so(const struct sync_digest *dg, const struct timespec *t0)
{
	struct timespec t1;
	char name[64];

	if (!sync_stamp_fresh(dg, name, sizeof(name)))
		return false;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("Table inet %s is up to date: nothing sent (the inputs and the table are as the "
	       "last sync left them)\n  checked in %.1f ms\n",
	       name, ms(t0, &t1));
	return true;
}

int sync_node(struct ctx *ctx, struct node_input *in, bool full)
{
	struct compile_stats st = { 0 };
	struct nl_commit_result res;
	struct model_table *t = NULL;
	struct timespec t0, t1, t2;
	struct confirm armed, *c = in->armed;
	/* Armed by a write verb: the store changed, so there is something to
	 * put back at the deadline even if this sync fails (a daemon owning
	 * the table takes the change from the store, and the old version
	 * back). */
	bool stored = c != NULL;
	struct sync_digest dg;
	bool digest_ok;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	digest_ok = !full && sync_stamp_digest(ctx, in, &dg) == 0;
	if (digest_ok && stamp_says_so(&dg, &t0))
		return 0;
	r = node_table(ctx, in, &t, &st);
	if (r < 0) {
		if (c)
			confirm_done(c, stored);
		return r;
	}
	if (!c && in->confirm_within) {
		if (confirm_arm(ctx, t->name, in->confirm_within, NULL, &armed) < 0) {
			model_table_free(t);
			return -EBUSY;
		}
		c = &armed;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r = full ? nl_commit_replace(t, &res) : nl_sync(t, NULL, &res);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (r < 0) {
		fprintf(stderr, "Failed to sync table inet %s: %s\n", t->name, res.error);
	} else if (!res.messages) {
		printf("Table inet %s is up to date: nothing sent\n", t->name);
	} else {
		printf("Synced table inet %s: %zu chains, %zu rules, %zu sets, %zu elements; "
		       "sent %zu messages, %zu bytes in one transaction%s\n",
		       t->name, st.chains, st.rules, st.sets, st.elements, res.messages, res.bytes,
		       res.retries ? " (after a concurrent change)" : "");
	}
	if (r >= 0)
		printf("  load and compile %.1f ms, read back, diff and commit %.1f ms\n",
		       ms(&t0, &t1), ms(&t1, &t2));
	if (r >= 0 && digest_ok && res.genid_after && !res.deferred)
		sync_stamp_write(&dg, t->name, res.genid_after);
	if (c)
		confirm_done(c, r >= 0 || stored);
	model_table_free(t);
	return r;
}

int node_args(struct ctx *ctx, int argc, char **argv, struct node_input *in, bool *full,
	      void (*usage)(FILE *f, const char *prog))
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "local-address", required_argument, NULL, 'L' },
		{ "full", no_argument, NULL, 'F' },
		{ "metrics-address", required_argument, NULL, 'M' },
		{ "confirm-within", required_argument, NULL, 'C' },
		{ "boot", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	in->paths = calloc((size_t)argc + 1, sizeof(*in->paths));
	if (!in->paths) {
		fprintf(stderr, "%s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			in->paths[in->n_paths++] = optarg;
		} else if (c == 'L' && iface_from_arg(optarg, &in->ifs, &in->n_ifs) == 0) {
			in->own_ifs = true;
		} else if (c == 'F' && full) {
			*full = true;
		} else if (c == 'M' && in->daemon) {
			in->metrics = optarg;
		} else if (c == 'B' && full && !in->daemon) {
			in->boot = true;
		} else if (c == 'C' && full && !in->daemon) {
			if (confirm_opt(optarg, &in->confirm_within) < 0)
				return -EINVAL;
		} else if (c == 'h') {
			usage(stdout, ctx->prog);
			in->help = true;
			return 0;
		} else {
			if (c == 'L')
				fprintf(stderr, "--local-address wants IFACE=IP, not '%s'\n",
					optarg);
			usage(stderr, ctx->prog);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr, ctx->prog);
		return -EINVAL;
	}
	return 0;
}
