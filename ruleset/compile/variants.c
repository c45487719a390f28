/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Named ports, resolved per endpoint as Calico resolves them: a rule whose
 * ports name a port becomes one variant per number the name has on some
 * endpoint (plus one for its numeric ports), on each side, the source
 * side's variants crossed with the destination side's. compile-rule.c
 * compiles each variant, restricting the side's addresses to the
 * endpoints that give the name that number.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile-internal.h"

static struct port *ports_dup(struct cctx *c, const struct port *p, size_t n)
{
	struct port *v = p ? malloc((n ? n : 1) * sizeof(*v)) : NULL;

	if (p && !v)
		c->err = -ENOMEM;
	if (v)
		memcpy(v, p, n * sizeof(*v));
	return v;
}

/* A copy of base in vs, with arrays of its own. */
static struct variant *variant_add(struct cctx *c, struct variants *vs, const struct variant *base)
{
	struct variant *v = realloc(vs->v, (vs->n + 1) * sizeof(*v));

	if (!v) {
		c->err = -ENOMEM;
		return NULL;
	}
	vs->v = v;
	v = &v[vs->n++];
	*v = *base;
	v->numeric = ports_dup(c, base->numeric, base->rule.dst.n_ports);
	v->snumeric = ports_dup(c, base->snumeric, base->rule.src.n_ports);
	if (base->numeric)
		v->rule.dst.ports = v->numeric;
	if (base->snumeric)
		v->rule.src.ports = v->snumeric;
	return v;
}

void variants_free(struct variants *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].numeric);
		free(vs->v[i].snumeric);
	}
	free(vs->v);
	*vs = (struct variants){ 0 };
}

/* One variant of base per number the name p has on some endpoint (none
 * twice among those from vs->v[first] on). */
static void named_variants(struct cctx *c, const struct variant *base, const struct port *p,
			   bool src, struct variants *vs, size_t first)
{
	const struct rule *r = &base->rule;

	c->used_eps = true;
	for (size_t i = 0; i < c->n_res; i++) {
		const struct resource *e = c->res[i];

		if (e->kind != RES_HOST_ENDPOINT && e->kind != RES_WORKLOAD_ENDPOINT)
			continue;
		for (size_t j = 0; j < e->u.ep.n_ports; j++) {
			const struct named_port *np = &e->u.ep.ports[j];
			struct named_variant nv = { p->name, r->protocol.set ? r->protocol.num : 0,
						    np->port };
			bool seen = false;
			struct variant *v;

			if (strcmp(np->name, p->name) || (nv.proto && np->protocol.num != nv.proto))
				continue;
			for (size_t k = first; k < vs->n; k++) {
				const struct named_variant *o = src ? &vs->v[k].snv : &vs->v[k].nv;

				seen |= o->name && strcmp(o->name, nv.name) == 0 &&
					o->port == nv.port;
			}
			if (seen || !(v = variant_add(c, vs, base)))
				continue;
			if (src)
				v->snv = nv;
			else
				v->nv = nv;
		}
	}
}

/* base's variants for one side's ports, added to vs. */
static void side_variants(struct cctx *c, const struct variant *base, bool src, struct variants *vs)
{
	const struct entity *e = src ? &base->rule.src : &base->rule.dst;
	size_t named = 0, first = vs->n;

	for (size_t i = 0; i < e->n_ports; i++)
		named += e->ports[i].name != NULL;
	if (!named) {
		variant_add(c, vs, base);
		return;
	}
	if (named < e->n_ports) {
		struct variant *v = variant_add(c, vs, base);
		struct port *numeric = calloc(e->n_ports, sizeof(*numeric));
		size_t k = 0;

		if (!numeric) {
			c->err = -ENOMEM;
		} else if (v) {
			for (size_t i = 0; i < e->n_ports; i++)
				if (!e->ports[i].name)
					numeric[k++] = e->ports[i];
			if (src) {
				v->snumeric = numeric;
				v->rule.src.ports = numeric;
				v->rule.src.n_ports = k;
			} else {
				v->numeric = numeric;
				v->rule.dst.ports = numeric;
				v->rule.dst.n_ports = k;
			}
			numeric = NULL;
		}
		free(numeric);
	}
	for (size_t i = 0; i < e->n_ports; i++)
		if (e->ports[i].name)
			named_variants(c, base, &e->ports[i], src, vs, first);
}

/* Points each named variant's port list at its own number (only once the
 * array stopped moving). */
static void variants_fix(struct variants *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		struct variant *v = &vs->v[i];

		if (v->nv.name) {
			v->port = (struct port){ .min = v->nv.port, .max = v->nv.port };
			v->rule.dst.ports = &v->port;
			v->rule.dst.n_ports = 1;
		}
		if (v->snv.name) {
			v->sport = (struct port){ .min = v->snv.port, .max = v->snv.port };
			v->rule.src.ports = &v->sport;
			v->rule.src.n_ports = 1;
		}
	}
}

void rule_variants(struct cctx *c, const struct rule *r, struct variants *vs)
{
	struct variant base = { .rule = *r };
	struct variants dst = { 0 };
	bool src_named = false;

	for (size_t i = 0; i < r->src.n_ports; i++)
		src_named |= r->src.ports[i].name != NULL;
	side_variants(c, &base, false, src_named ? &dst : vs);
	if (!src_named) {
		variants_fix(vs);
		return;
	}
	variants_fix(&dst);
	for (size_t i = 0; i < dst.n && c->err == 0; i++)
		side_variants(c, &dst.v[i], true, vs);
	variants_fix(vs);
	variants_free(&dst);
}
