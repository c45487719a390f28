/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The model's life cycle, look-ups and equality, as the kernel would see it. */
#include <stdlib.h>
#include <string.h>

#include "model.h"

static void match_free(struct model_match *m)
{
	free(m->set);
	free(m->ifname);
}

void model_rule_free(struct model_rule *r)
{
	for (size_t i = 0; i < r->n_m; i++)
		match_free(&r->m[i]);
	free(r->m);
	free(r->log_prefix);
	free(r->target);
	free(r->comment);
}

void model_set_free(struct model_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_targets; i++)
		free(s->targets[i]);
	free(s->targets);
	free(s->keys);
	free(s->to);
	free(s->elems);
	free(s->name);
	free(s);
}

void model_chain_free(struct model_chain *ch)
{
	for (size_t k = 0; k < ch->n_rules; k++)
		model_rule_free(&ch->rules[k]);
	free(ch->rules);
	free(ch->name);
	free(ch);
}

struct model_table *model_table_free(struct model_table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_chains; i++)
		model_chain_free(t->chains[i]);
	free(t->chains);
	for (size_t i = 0; i < t->n_sets; i++)
		model_set_free(t->sets[i]);
	free(t->sets);
	free(t->name);
	free(t);
	return NULL;
}

const struct model_set *model_table_find_set(const struct model_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_sets; i++)
		if (strcmp(t->sets[i]->name, name) == 0)
			return t->sets[i];
	return NULL;
}

const struct model_chain *model_table_find_chain(const struct model_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_chains; i++)
		if (strcmp(t->chains[i]->name, name) == 0)
			return t->chains[i];
	return NULL;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool prefix_eq(const struct model_prefix *a, const struct model_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

bool model_match_equal(const struct model_match *a, const struct model_match *b)
{
	return a->kind == b->kind && a->neg == b->neg && a->family == b->family &&
	       a->has_code == b->has_code && a->num == b->num && a->code == b->code &&
	       a->mask == b->mask && a->value == b->value && a->lo == b->lo && a->hi == b->hi &&
	       prefix_eq(&a->prefix, &b->prefix) && str_eq(a->set, b->set) &&
	       str_eq(a->ifname, b->ifname);
}

bool model_rule_equal(const struct model_rule *a, const struct model_rule *b)
{
	if (a->n_m != b->n_m || a->mark_set != b->mark_set || a->mark_and != b->mark_and ||
	    a->mark_or != b->mark_or || a->notrack != b->notrack || a->nftrace != b->nftrace ||
	    a->verdict != b->verdict || a->family != b->family || a->plen != b->plen ||
	    !str_eq(a->log_prefix, b->log_prefix) || !str_eq(a->target, b->target) ||
	    !str_eq(a->comment, b->comment))
		return false;
	for (size_t i = 0; i < a->n_m; i++)
		if (!model_match_equal(&a->m[i], &b->m[i]))
			return false;
	return true;
}

bool model_chain_rules_equal(const struct model_chain *a, const struct model_chain *b)
{
	if (a->n_rules != b->n_rules)
		return false;
	for (size_t i = 0; i < a->n_rules; i++)
		if (!model_rule_equal(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}

/* Both maps' targets are sorted by name and all used. */
static bool map_targets_equal(const struct model_set *a, const struct model_set *b)
{
	if (a->n_targets != b->n_targets)
		return false;
	for (size_t i = 0; i < a->n_targets; i++)
		if (strcmp(a->targets[i], b->targets[i]) != 0)
			return false;
	return memcmp(a->to, b->to, a->n_elems * sizeof(*a->to)) == 0;
}

bool model_set_elems_equal(const struct model_set *a, const struct model_set *b)
{
	if (a->key != b->key || a->interval != b->interval || a->map != b->map || a->go != b->go ||
	    a->size != b->size || a->n_elems != b->n_elems || a->hash != b->hash)
		return false;
	if (!a->n_elems)
		return true;
	if (a->map)
		return memcmp(a->keys, b->keys, a->n_elems * model_key_width(a->key)) == 0 &&
		       map_targets_equal(a, b);
	return memcmp(a->elems, b->elems, a->n_elems * sizeof(*a->elems)) == 0;
}
