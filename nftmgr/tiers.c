/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tiers in writes, as Calico's client keeps them: a policy may be written
 * only into a tier that exists (reserved, stored, or written with it); a
 * tier may be deleted only when no policy names it, and the reserved ones
 * never.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftmgr.h"

static bool holds_tier(const struct resource_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i]->kind == RES_TIER && strcmp(l->v[i]->name, name) == 0)
			return true;
	return false;
}

static bool in_list(const struct resource_list *l, const struct resource *r)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i]->kind == r->kind && strcmp(l->v[i]->name, r->name) == 0 &&
		    strcmp(l->v[i]->namespace ? l->v[i]->namespace : "",
			   r->namespace ? r->namespace : "") == 0)
			return true;
	return false;
}

static int tiers_for_write(const struct resource_list *in, const struct resource_list *stored)
{
	int r = 0;

	for (size_t i = 0; i < in->n; i++) {
		const struct resource *p = in->v[i];
		const char *t;
		char path[600];

		if (!kind_info(p->kind)->policy)
			continue;
		t = policy_tier(&p->u.policy);
		if (tier_reserved(t, NULL) || holds_tier(in, t) || holds_tier(stored, t))
			continue;
		fprintf(stderr,
			"Failed to write '%s' resource %s: tier \"%s\" does not exist "
			"(write the Tier first, or with it)\n",
			kind_info(p->kind)->kind, resource_path(p, path, sizeof(path)), t);
		r = -ENOENT;
	}
	return r;
}

static int tiers_for_delete(const struct resource_list *in, const struct resource_list *stored)
{
	int r = 0;

	for (size_t i = 0; i < in->n; i++) {
		const struct resource *t = in->v[i];

		if (t->kind != RES_TIER)
			continue;
		if (tier_reserved(t->name, NULL)) {
			fprintf(stderr,
				"Failed to delete 'Tier' resource %s: a reserved tier cannot "
				"be deleted\n",
				t->name);
			r = -EPERM;
			continue;
		}
		for (size_t k = 0; k < stored->n; k++) {
			const struct resource *p = stored->v[k];
			char path[600];

			if (!kind_info(p->kind)->policy || in_list(in, p) ||
			    strcmp(policy_tier(&p->u.policy), t->name) != 0)
				continue;
			fprintf(stderr, "Failed to delete 'Tier' resource %s: %s %s is in it\n",
				t->name, kind_info(p->kind)->kind,
				resource_path(p, path, sizeof(path)));
			r = -EBUSY;
		}
	}
	return r;
}

int tiers_check(struct datastore *ds, const struct resource_list *in, bool del)
{
	struct resource_list stored = { 0 };
	struct diags d = { 0 };
	bool any = false;
	int r;

	for (size_t i = 0; i < in->n; i++)
		any |= del ? in->v[i]->kind == RES_TIER
			   : kind_info(in->v[i]->kind)->policy &&
				       !tier_reserved(policy_tier(&in->v[i]->u.policy), NULL);
	if (!any)
		return 0;
	r = ds_list(ds, -1, &stored, &d);
	diags_clear(&d); /* unreadable ones: as absent */
	if (r == 0)
		r = del ? tiers_for_delete(in, &stored) : tiers_for_write(in, &stored);
	resource_list_clear(&stored);
	return r;
}
