/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * export: the ruleset this node would get, as an nft -f script, from files
 * or from the datastore. Needs no privilege and touches no kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--node NAME] export [-f PATH ...] [--local-address IFACE=IP ...]\n\n"
		"Print the nftables ruleset this node would get, as an nft -f script that\n"
		"replaces the previous nftmgr table in one transaction. Resources come from\n"
		"PATH (files, directories, -), or from the datastore without -f.\n"
		"Host endpoints that name expectedIPs but no interface are matched against\n"
		"this machine's addresses, or against --local-address IFACE=IP instead.\n",
		prog);
}

static void ifaces_free(struct local_iface *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].addrs);
	}
	free(v);
}

static int iface_add(struct local_iface **v, size_t *n, const char *name,
		     const struct cidr *a)
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

static int ifaces_from_system(struct local_iface **v, size_t *n)
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

static int iface_from_arg(const char *arg, struct local_iface **v, size_t *n)
{
	const char *eq = strchr(arg, '=');
	char name[64], why[128];
	struct cidr c;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name) ||
	    strchr(eq + 1, '/') || cidr_parse(eq + 1, false, &c, why, sizeof(why)) < 0)
		return -EINVAL;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	return iface_add(v, n, name, &c);
}

static int load_resources(struct ctx *ctx, char **paths, size_t n_paths,
			  struct resource_list *l)
{
	struct diags d = { 0 };
	struct store *s = NULL;
	int r = 0;

	for (size_t i = 0; i < n_paths; i++)
		if (ruleset_load_path(paths[i], l, &d) < 0)
			r = -EINVAL;
	if (!n_paths) {
		r = ctx_open_store(ctx, &s);
		if (r)
			return -EIO;
		r = store_list_all(s, l, &d);
		store_free(s);
	}
	print_diags(&d);
	diags_clear(&d);
	return r;
}

int cmd_export(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "local-address", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct compile_opts o = { .node = node_name(ctx) };
	struct local_iface *ifs = NULL;
	struct resource_list l = { 0 };
	struct nft_table *t = NULL;
	struct diags d = { 0 };
	char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	size_t n_paths = 0, n_ifs = 0;
	bool own_ifs = false;
	int c, ret = EXIT_FAIL, r;

	if (!paths)
		return EXIT_FAIL;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			paths[n_paths++] = optarg;
		} else if (c == 'L') {
			own_ifs = true;
			if (iface_from_arg(optarg, &ifs, &n_ifs) < 0) {
				fprintf(stderr, "export: --local-address wants IFACE=IP, not '%s'\n",
					optarg);
				ret = EXIT_USAGE;
				goto out;
			}
		} else {
			ret = c == 'h' ? EXIT_OK : EXIT_USAGE;
			usage(c == 'h' ? stdout : stderr, ctx->prog);
			goto out;
		}
	}
	if (optind != argc) {
		usage(stderr, ctx->prog);
		ret = EXIT_USAGE;
		goto out;
	}
	if (!own_ifs && ifaces_from_system(&ifs, &n_ifs) < 0)
		fprintf(stderr, "export: cannot list local addresses; expectedIPs will not match\n");
	o.ifaces = ifs;
	o.n_ifaces = n_ifs;
	if (load_resources(ctx, paths, n_paths, &l) < 0)
		goto out;
	resource_list_sort(&l);
	r = ruleset_compile(l.v, l.n, &o, &t, NULL, &d);
	print_diags(&d);
	if (r < 0) {
		fprintf(stderr, "export: %s\n", strerror(-r));
		goto out;
	}
	printf("#!/usr/sbin/nft -f\n# nftmgr %s: the ruleset of node %s. Generated; do not edit.\n\n",
	       NFTMGR_VERSION, o.node);
	if (nft_table_print(t, stdout) < 0 || fflush(stdout) != 0)
		goto out;
	ret = EXIT_OK;
out:
	nft_table_free(t);
	ifaces_free(ifs, n_ifs);
	resource_list_clear(&l);
	diags_clear(&d);
	free(paths);
	return ret;
}
