/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel rule counters told in policy terms (get -o wide, stats). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink.h"
#include "nftmgr.h"

const char *table_name(struct ctx *ctx)
{
	static char name[64] = "nftmgr";
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	struct datastore *ds = NULL;
	struct felix_spec fs;

	if (ds_open(ctx, &ds) == 0 && ds_list(ds, RES_FELIX_CONFIGURATION, &l, &d) == 0 &&
	    felix_settings(l.v, l.n, node_name(ctx), &fs) == 0 && fs.table_name)
		snprintf(name, sizeof(name), "%s", fs.table_name);
	ds_free(ds);
	resource_list_clear(&l);
	diags_clear(&d);
	return name;
}

int counters_load(struct ctx *ctx, struct counters *c)
{
	*c = (struct counters){ 0 };
	return nl_counters(table_name(ctx), &c->v, &c->n);
}

void counters_clear(struct counters *c)
{
	nl_counters_free(c->v, c->n);
	*c = (struct counters){ 0 };
}

/* Rules of a policy carry "policy <label> ingress rule N" (or "rules
 * N-M"); the jumps to it carry "policy <label>" alone and are left out. */
void counters_policy(const struct counters *c, const char *label, uint64_t *packets,
		     uint64_t *bytes)
{
	size_t n = strlen(label);

	*packets = *bytes = 0;
	for (size_t i = 0; i < c->n; i++) {
		const char *cm = c->v[i].comment;

		if (cm && strncmp(cm, "policy ", 7) == 0 && strncmp(cm + 7, label, n) == 0 &&
		    cm[7 + n] == ' ') {
			*packets += c->v[i].packets;
			*bytes += c->v[i].bytes;
		}
	}
}

/* Every rule of the chains of one interface (filter-in-eth1, ...). */
void counters_iface(const struct counters *c, const char *iface, uint64_t *packets, uint64_t *bytes)
{
	size_t n = strlen(iface);

	*packets = *bytes = 0;
	for (size_t i = 0; i < c->n; i++) {
		size_t len = strlen(c->v[i].chain);

		if (len > n + 1 && c->v[i].chain[len - n - 1] == '-' &&
		    strcmp(c->v[i].chain + len - n, iface) == 0) {
			*packets += c->v[i].packets;
			*bytes += c->v[i].bytes;
		}
	}
}
