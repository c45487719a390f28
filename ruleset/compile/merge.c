/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nftablesMergeAllowPolicies: a run of consecutive rules in an endpoint
 * chain that all accept and differ in nothing but one source (or
 * destination) address set becomes one rule over the union of the sets.
 * Evaluated in order, "M and saddr in S1: accept; M and saddr in S2:
 * accept" is "M and saddr in S1 or S2: accept", so the verdicts are the
 * same; a new connection then does one lookup instead of one per policy.
 * The price: the merged policies share one counter, so get -o wide and
 * stats no longer count them one by one. Off by default.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile-internal.h"

static bool addr_kind(enum model_match_kind k)
{
	return k == MODEL_M_SADDR || k == MODEL_M_DADDR;
}

/* The index of the one address match in which b differs from a, or -1
 * when they cannot be merged. */
static int differs_in_addr(const struct model_rule *a, const struct model_rule *b)
{
	int at = -1;

	if (a->verdict != MODEL_V_ACCEPT || b->verdict != MODEL_V_ACCEPT || a->target ||
	    b->target || a->n_m != b->n_m || a->mark_set != b->mark_set ||
	    a->mark_and != b->mark_and || a->mark_or != b->mark_or || a->notrack != b->notrack ||
	    a->log_prefix || b->log_prefix)
		return -1;
	for (size_t i = 0; i < a->n_m; i++) {
		const struct model_match *x = &a->m[i], *y = &b->m[i];

		if (model_match_equal(x, y))
			continue;
		if (at >= 0 || x->kind != y->kind || !addr_kind(x->kind) || x->neg || y->neg ||
		    x->family != y->family)
			return -1;
		at = (int)i;
	}
	return at;
}

/* Appends the addresses of m (a set or one CIDR) to *v. */
static int take_addrs(struct cctx *c, const struct model_match *m, struct model_elem **v, size_t *n,
		      size_t *cap)
{
	const struct model_set *s = m->set ? set_find(c, m->set) : NULL;
	size_t add = m->set ? (s ? s->n_elems : 0) : 1;

	if (m->set && !s)
		return -ENOENT;
	if (*n + add > *cap) {
		size_t nc = 2 * (*n + add);
		struct model_elem *x = realloc(*v, nc * sizeof(*x));

		if (!x)
			return -ENOMEM;
		*v = x;
		*cap = nc;
	}
	if (s)
		memcpy(*v + *n, s->elems, add * sizeof(**v));
	else
		model_prefix_range(&m->prefix, *v + *n);
	*n += add;
	return 0;
}

/* Rules [i, j) become rule i, matching the union at match index at. */
static void merge_run(struct cctx *c, struct model_chain *ch, size_t i, size_t j, int at,
		      size_t pos)
{
	struct model_rule *r = &ch->rules[i];
	struct model_match *m = &r->m[at];
	struct model_elem *v = NULL;
	size_t n = 0, cap = 0;
	char owner[300], comment[128];
	const char *name;

	for (size_t k = i; k < j; k++)
		if (take_addrs(c, &ch->rules[k].m[at], &v, &n, &cap) < 0) {
			free(v);
			c->err = -ENOMEM;
			return;
		}
	snprintf(owner, sizeof(owner), "%s.%zu.%d", ch->name, pos, at);
	name = set_intern(c, m->family == 4 ? MODEL_KEY_IPV4 : MODEL_KEY_IPV6, true, v, n, owner);
	if (!name)
		return;
	snprintf(comment, sizeof(comment), "%zu allow rules merged, first: %.80s", j - i,
		 r->comment ? r->comment : "");
	free(m->set);
	m->set = strdup(name);
	memset(&m->prefix, 0, sizeof(m->prefix));
	free(r->comment);
	r->comment = strdup(comment);
	if (!m->set || !r->comment)
		c->err = -ENOMEM;
	for (size_t k = i + 1; k < j; k++)
		model_rule_free(&ch->rules[k]);
}

void merge_allow_runs(struct cctx *c, struct model_chain *ch, size_t from)
{
	size_t w = from;

	for (size_t i = from; i < ch->n_rules && c->err == 0;) {
		size_t j = i + 1;
		int at = -1;

		while (j < ch->n_rules) {
			int d = differs_in_addr(&ch->rules[i], &ch->rules[j]);

			if (d < 0 || (at >= 0 && d != at))
				break;
			at = d;
			j++;
		}
		if (j - i >= 2)
			merge_run(c, ch, i, j, at, w);
		ch->rules[w++] = ch->rules[i];
		i = j;
	}
	if (c->err == 0)
		ch->n_rules = w;
}
