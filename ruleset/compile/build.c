/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Building the model: chains and rules found by name, sets shared by
 * content, unreferenced chains pruned. Errors go to the context (c->err). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-internal.h"

static void *grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? *cap * 2 : 8;
	void *nv;

	if (n < *cap)
		return v;
	nv = realloc(v, c * size);
	if (nv)
		*cap = c;
	return nv;
}

/* Deep copy of a rule at the end of chain ch. */
void rule_copy(struct cctx *c, struct model_chain *ch, const struct model_rule *src)
{
	struct model_rule *r = rule_add(c, ch, src->comment);

	if (!r)
		return;
	for (size_t i = 0; i < src->n_m; i++)
		rule_match(c, r, &src->m[i]);
	rule_copy_actions(c, r, src);
}

void rule_copy_actions(struct cctx *c, struct model_rule *r, const struct model_rule *src)
{
	if (!r)
		return;
	r->mark_set = src->mark_set;
	r->mark_and = src->mark_and;
	r->mark_or = src->mark_or;
	r->notrack = src->notrack;
	r->nftrace = src->nftrace;
	r->family = src->family;
	r->plen = src->plen;
	if (src->log_prefix && !(r->log_prefix = strdup(src->log_prefix)))
		c->err = -ENOMEM;
	rule_verdict(c, r, src->verdict, src->target);
}

static const struct model_table *sort_t;

static int cmp_chain_idx(const void *pa, const void *pb)
{
	return strcmp(sort_t->chains[*(const size_t *)pa]->name,
		      sort_t->chains[*(const size_t *)pb]->name);
}

/* Marks the chain called name, found by binary search in idx. */
static void mark(const struct model_table *t, const size_t *idx, bool *keep, const char *name)
{
	size_t lo = 0, hi = t->n_chains;

	while (name && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->chains[idx[mid]]->name, name);

		if (c == 0) {
			keep[idx[mid]] = true;
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
}

/* Drops the chains nothing jumps to and no verdict map names: one pass
 * over rules and map elements, names looked up in a sorted index. */
void chains_prune(struct cctx *c)
{
	const struct model_table *t = c->t;
	bool *keep = calloc(t->n_chains + 1, sizeof(*keep));
	size_t *idx = calloc(t->n_chains + 1, sizeof(*idx));
	size_t w = 0;

	if (!keep || !idx) {
		free(keep);
		free(idx);
		c->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < t->n_chains; i++) {
		idx[i] = i;
		keep[i] = t->chains[i]->hook != MODEL_HOOK_NONE;
	}
	sort_t = t;
	qsort(idx, t->n_chains, sizeof(*idx), cmp_chain_idx);
	for (size_t i = 0; i < t->n_chains; i++)
		for (size_t k = 0; k < t->chains[i]->n_rules; k++) {
			const struct model_rule *r = &t->chains[i]->rules[k];

			if (r->verdict == MODEL_V_JUMP || r->verdict == MODEL_V_GOTO)
				mark(t, idx, keep, r->target);
		}
	for (size_t i = 0; i < t->n_sets; i++) {
		const struct model_set *s = t->sets[i];

		for (size_t k = 0; s->map && k < s->n_targets; k++)
			mark(t, idx, keep, s->targets[k]);
	}
	for (size_t i = 0; i < t->n_chains; i++) {
		if (keep[i])
			c->t->chains[w++] = c->t->chains[i];
		else
			model_chain_free(c->t->chains[i]);
	}
	c->t->n_chains = w;
	name_index_free(&c->chain_ix);
	free(keep);
	free(idx);
}

/* Chain names: the prefix, then the name with anything nft would not take
 * unquoted turned into '_'. */
char *chain_name(const char *prefix, const char *ns, const char *name)
{
	char *s;

	if (asprintf(&s, "%s%s%s%s", prefix, ns ? ns : "", ns ? "." : "", name) < 0)
		return NULL;
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			*p = '_';
	return s;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return h;
}

/* Chains and sets both start with their name. */
static const char *obj_name(const void *p, bool set)
{
	return set ? ((const struct model_set *)p)->name : ((const struct model_chain *)p)->name;
}

static void **ix_slot(struct name_index *x, const char *name, bool set)
{
	size_t i = name_hash(name) & (x->cap - 1);

	while (x->slot[i] && strcmp(obj_name(x->slot[i], set), name) != 0)
		i = (i + 1) & (x->cap - 1);
	return &x->slot[i];
}

static int ix_put(struct name_index *x, void *p, bool set)
{
	if ((x->n + 1) * 2 > x->cap) {
		struct name_index y = { .cap = x->cap ? x->cap * 2 : 64 };

		y.slot = calloc(y.cap, sizeof(*y.slot));
		if (!y.slot)
			return -ENOMEM;
		for (size_t i = 0; i < x->cap; i++)
			if (x->slot[i])
				*ix_slot(&y, obj_name(x->slot[i], set), set) = x->slot[i];
		y.n = x->n;
		free(x->slot);
		*x = y;
	}
	*ix_slot(x, obj_name(p, set), set) = p;
	x->n++;
	return 0;
}

void name_index_free(struct name_index *x)
{
	free(x->slot);
	*x = (struct name_index){ 0 };
}

/* The index of the table's chains (or sets), brought in step first. */
static struct name_index *ix_sync(struct cctx *c, bool set)
{
	struct name_index *x = set ? &c->set_ix : &c->chain_ix;
	size_t n = set ? c->t->n_sets : c->t->n_chains;

	if (x->n != n) {
		name_index_free(x);
		for (size_t i = 0; i < n; i++)
			if (ix_put(x, set ? (void *)c->t->sets[i] : (void *)c->t->chains[i], set) <
			    0) {
				name_index_free(x);
				c->err = -ENOMEM;
				return NULL;
			}
	}
	return x;
}

static void *ix_find(struct cctx *c, const char *name, bool set)
{
	struct name_index *x = ix_sync(c, set);

	if (!x) {
		void *const *v = set ? (void *const *)c->t->sets : (void *const *)c->t->chains;
		size_t n = set ? c->t->n_sets : c->t->n_chains;

		for (size_t i = 0; i < n; i++)
			if (strcmp(obj_name(v[i], set), name) == 0)
				return v[i];
		return NULL;
	}
	return x->cap ? *ix_slot(x, name, set) : NULL;
}

struct model_chain *chain_find(struct cctx *c, const char *name)
{
	return ix_find(c, name, false);
}

const struct model_set *set_find(struct cctx *c, const char *name)
{
	return ix_find(c, name, true);
}

struct model_chain *chain_add(struct cctx *c, const char *name, enum model_hook hook, int prio)
{
	struct model_chain *ch = calloc(1, sizeof(*ch));
	struct model_chain **v;

	if (!ch || !(ch->name = strdup(name)))
		goto oom;
	ch->hook = hook;
	ch->prio = prio;
	v = realloc(c->t->chains, (c->t->n_chains + 1) * sizeof(*v));
	if (!v)
		goto oom;
	c->t->chains = v;
	if (ix_sync(c, false))
		(void)ix_put(&c->chain_ix, ch, false); /* out of step: rebuilt */
	v[c->t->n_chains++] = ch;
	return ch;
oom:
	if (ch)
		free(ch->name);
	free(ch);
	c->err = -ENOMEM;
	return NULL;
}

struct model_rule *rule_add(struct cctx *c, struct model_chain *ch, const char *comment)
{
	struct model_rule *v;

	if (!ch)
		return NULL;
	v = grow(ch->rules, ch->n_rules, &ch->cap, sizeof(*v));
	if (!v) {
		c->err = -ENOMEM;
		return NULL;
	}
	ch->rules = v;
	v = &ch->rules[ch->n_rules++];
	*v = (struct model_rule){ 0 };
	if (comment && !(v->comment = strndup(comment, 127)))
		c->err = -ENOMEM;
	return v;
}

void rule_match(struct cctx *c, struct model_rule *r, const struct model_match *m)
{
	struct model_match *v;

	if (!r)
		return;
	v = realloc(r->m, (r->n_m + 1) * sizeof(*v));
	if (!v) {
		c->err = -ENOMEM;
		return;
	}
	r->m = v;
	v[r->n_m] = *m;
	if (m->set && !(v[r->n_m].set = strdup(m->set)))
		c->err = -ENOMEM;
	if (m->ifname && !(v[r->n_m].ifname = strdup(m->ifname)))
		c->err = -ENOMEM;
	r->n_m++;
}

void rule_verdict(struct cctx *c, struct model_rule *r, enum model_verdict v, const char *target)
{
	if (!r)
		return;
	r->verdict = v;
	if (target && !(r->target = strdup(target)))
		c->err = -ENOMEM;
}

/* ---- content-shared sets --------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool same_content(const struct model_set *s, const struct model_elem *e, size_t n, size_t w)
{
	if (s->n_elems != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (memcmp(s->elems[i].lo, e[i].lo, w) || memcmp(s->elems[i].hi, e[i].hi, w))
			return false;
	return true;
}

/* Sets by content hash, open addressing; out of memory only costs the
 * sharing (a linear scan takes over). */
static struct model_set *content_find(struct cctx *c, enum model_key key, bool interval, uint64_t h,
				      const struct model_elem *e, size_t n, size_t w)
{
	struct name_index *x = &c->content_ix;

	if (x->n != c->t->n_sets) {
		for (size_t i = 0; i < c->t->n_sets; i++) {
			struct model_set *s = c->t->sets[i];

			if (s->key == key && s->interval == interval && s->hash == h &&
			    same_content(s, e, n, w))
				return s;
		}
		return NULL;
	}
	for (size_t i = h & (x->cap - 1); x->cap && x->slot[i]; i = (i + 1) & (x->cap - 1)) {
		struct model_set *s = x->slot[i];

		if (s->key == key && s->interval == interval && s->hash == h &&
		    same_content(s, e, n, w))
			return s;
	}
	return NULL;
}

static void content_put(struct cctx *c, struct model_set *s)
{
	struct name_index *x = &c->content_ix;

	if (x->n != c->t->n_sets)
		return; /* given up: see content_find() */
	if ((x->n + 1) * 2 > x->cap) {
		struct name_index y = { .cap = x->cap ? x->cap * 2 : 64, .n = x->n };

		y.slot = calloc(y.cap, sizeof(*y.slot));
		if (!y.slot) {
			name_index_free(x);
			x->n = (size_t)-1;
			return;
		}
		for (size_t i = 0; i < x->cap; i++) {
			struct model_set *o = x->slot[i];
			size_t k;

			if (!o)
				continue;
			for (k = o->hash & (y.cap - 1); y.slot[k]; k = (k + 1) & (y.cap - 1))
				;
			y.slot[k] = o;
		}
		free(x->slot);
		*x = y;
	}
	{
		size_t k;

		for (k = s->hash & (x->cap - 1); x->slot[k]; k = (k + 1) & (x->cap - 1))
			;
		x->slot[k] = s;
		x->n++;
	}
}

/*
 * Identical contents share one set. A new set is named after its first
 * user (owner, e.g. "pi-allow-sys-mgmt.0.1": chain, rule, match), not
 * after its contents, so that when a rule's addresses change the set
 * keeps its name and a sync only adds and removes elements.
 */
const char *set_intern(struct cctx *c, enum model_key key, bool interval, struct model_elem *elems,
		       size_t n, const char *owner)
{
	return set_intern_normal(c, key, interval, elems, n, owner, false);
}

/* Only to find candidates for sharing: a word at a time will do. */
static uint64_t elems_hash(const struct model_elem *e, size_t n, size_t w)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		uint64_t x[4] = { 0 };

		memcpy(x, e[i].lo, w);
		memcpy(x + 2, e[i].hi, w);
		for (size_t k = 0; k < 4; k++)
			h = (h ^ x[k]) * 0x100000001b3ull;
	}
	return h;
}

/* A free name after owner. Set names are at most 255 bytes: long owners
 * keep their start and a hash of the whole. */
static void set_name(struct cctx *c, const char *owner, char name[256])
{
	char base[256];

	if (strlen(owner) < 200)
		snprintf(name, 256, "%s", owner);
	else
		snprintf(name, 256, "%.180s~%016llx", owner,
			 (unsigned long long)fnv(0xcbf29ce484222325ull, owner, strlen(owner)));
	if (!ix_find(c, name, true))
		return;
	memcpy(base, name, sizeof(base));
	for (unsigned salt = 2; ix_find(c, name, true); salt++)
		snprintf(name, 256, "%.200s-x%u", base, salt);
}

const char *set_intern_normal(struct cctx *c, enum model_key key, bool interval,
			      struct model_elem *elems, size_t n, const char *owner, bool normal)
{
	size_t w = model_key_width(key);
	struct model_set *s, **v;
	char name[256];
	uint64_t h;

	if (!normal) /* else the caller just normalised them */
		n = interval ? model_elems_normalise(elems, n, w) : model_elems_dedupe(elems, n, w);
	h = elems_hash(elems, n, w);
	s = content_find(c, key, interval, h, elems, n, w);
	if (s) {
		s->refs++;
		free(elems);
		return s->name;
	}
	set_name(c, owner, name);
	s = calloc(1, sizeof(*s));
	v = realloc(c->t->sets, (c->t->n_sets + 1) * sizeof(*v));
	if (!s || !v || !(s->name = strdup(name))) {
		free(s);
		if (v)
			c->t->sets = v;
		free(elems);
		c->err = -ENOMEM;
		return NULL;
	}
	c->t->sets = v;
	*s = (struct model_set){ .name = s->name,
				 .key = key,
				 .interval = interval,
				 .elems = elems,
				 .n_elems = n,
				 .refs = 1,
				 .hash = h };
	if (ix_sync(c, true))
		(void)ix_put(&c->set_ix, s, true);
	content_put(c, s);
	v[c->t->n_sets++] = s;
	return s->name;
}

struct model_set *set_add_map(struct cctx *c, const char *owner, enum model_key key)
{
	struct model_set *s = calloc(1, sizeof(*s)), **v;
	char name[256];

	set_name(c, owner, name);
	v = realloc(c->t->sets, (c->t->n_sets + 1) * sizeof(*v));
	if (v)
		c->t->sets = v;
	if (!s || !v || !(s->name = strdup(name))) {
		free(s);
		c->err = -ENOMEM;
		return NULL;
	}
	s->key = key;
	s->map = true;
	s->refs = 1;
	if (ix_sync(c, true))
		(void)ix_put(&c->set_ix, s, true);
	v[c->t->n_sets++] = s;
	return s;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (char *const *)a, y = (uintptr_t) * (char *const *)b;

	return (x > y) - (x < y);
}

static const char *const *sort_names;

static int cmp_name_idx(const void *a, const void *b)
{
	return strcmp(sort_names[*(const uint32_t *)a], sort_names[*(const uint32_t *)b]);
}

/* s's targets: the distinct chains of v, sorted by name; rank[i] is
 * where u[i] (the distinct chain pointers, sorted) went. */
static int map_targets(struct model_set *s, const char **u, size_t nu, uint32_t *rank)
{
	uint32_t *order = malloc((nu ? nu : 1) * sizeof(*order));

	s->targets = calloc(nu ? nu : 1, sizeof(*s->targets));
	if (!order || !s->targets) {
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nu; i++)
		order[i] = (uint32_t)i;
	sort_names = u;
	qsort(order, nu, sizeof(*order), cmp_name_idx);
	for (s->n_targets = 0; s->n_targets < nu; s->n_targets++) {
		rank[order[s->n_targets]] = (uint32_t)s->n_targets;
		if (!(s->targets[s->n_targets] = strdup(u[order[s->n_targets]]))) {
			free(order);
			return -ENOMEM;
		}
	}
	free(order);
	return 0;
}

int set_map_done(struct cctx *c, struct model_set *s, const struct map_elem *v, size_t n)
{
	size_t w = model_key_width(s->key), nu = 0;
	const char **u = malloc((n ? n : 1) * sizeof(*u));
	uint32_t *rank = malloc((n ? n : 1) * sizeof(*rank));

	s->keys = malloc(n ? n * w : 1);
	s->to = malloc((n ? n : 1) * sizeof(*s->to));
	if (!u || !rank || !s->keys || !s->to)
		goto fail;
	for (size_t i = 0; i < n; i++)
		u[i] = v[i].chain;
	qsort(u, n, sizeof(*u), cmp_ptr);
	for (size_t i = 0; i < n; i++)
		if (!nu || u[nu - 1] != u[i])
			u[nu++] = u[i];
	if (map_targets(s, u, nu, rank) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const char **at = bsearch(&v[i].chain, u, nu, sizeof(*u), cmp_ptr);

		memcpy(s->keys + i * w, v[i].key, w);
		s->to[i] = rank[at - u];
	}
	s->n_elems = n;
	s->hash = fnv(0xcbf29ce484222325ull, s->keys, n * w);
	free(u);
	free(rank);
	return 0;
fail:
	free(u);
	free(rank);
	return c->err = -ENOMEM;
}

struct model_prefix prefix_of(const struct cidr *c)
{
	struct model_prefix p = { .family = c->family, .len = c->len };

	memcpy(p.addr, c->addr, sizeof(p.addr));
	return p;
}

void cidr_range(const struct cidr *c, struct model_elem *e)
{
	struct model_prefix p = prefix_of(c);

	model_prefix_range(&p, e);
}

/* ---- set bookkeeping ------------------------------------------------------ */

void sets_count_refs(struct cctx *c)
{
	struct model_table *t = c->t;

	for (size_t s = 0; s < t->n_sets; s++)
		t->sets[s]->refs = 0;
	for (size_t i = 0; i < t->n_chains; i++)
		for (size_t k = 0; k < t->chains[i]->n_rules; k++) {
			const struct model_rule *r = &t->chains[i]->rules[k];
			struct model_set *s;

			if (r->target && (s = (struct model_set *)set_find(c, r->target)))
				s->refs++;
			for (size_t m = 0; m < r->n_m; m++)
				if (r->m[m].set &&
				    (s = (struct model_set *)set_find(c, r->m[m].set)))
					s->refs++;
		}
}

/* After merging (or mapping), the sets of the rules merged are used by
 * nothing: drop them. */
void sets_prune(struct cctx *c)
{
	struct model_table *t = c->t;
	size_t w = 0;

	sets_count_refs(c);
	for (size_t s = 0; s < t->n_sets; s++) {
		if (t->sets[s]->refs)
			t->sets[w++] = t->sets[s];
		else
			model_set_free(t->sets[s]);
	}
	t->n_sets = w;
	name_index_free(&c->set_ix);
	name_index_free(&c->content_ix);
}
