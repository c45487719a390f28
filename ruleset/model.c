/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Building the nftables model: chains, rules and content-shared sets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile.h"

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

static void match_free(struct nft_match *m)
{
	free(m->set);
	free(m->ifname);
}

void rule_free(struct nft_rule *r)
{
	for (size_t i = 0; i < r->n_m; i++)
		match_free(&r->m[i]);
	free(r->m);
	free(r->log_prefix);
	free(r->target);
	free(r->comment);
}

void elems_free(struct nft_elem *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].ifname);
		free(e[i].chain);
	}
	free(e);
}

void chain_free(struct nft_chain *ch)
{
	for (size_t k = 0; k < ch->n_rules; k++)
		rule_free(&ch->rules[k]);
	free(ch->rules);
	free(ch->name);
	free(ch);
}

/* Deep copy of a rule at the end of chain ch. */
void rule_copy(struct cctx *c, struct nft_chain *ch, const struct nft_rule *src)
{
	struct nft_rule *r = rule_add(c, ch, src->comment);

	if (!r)
		return;
	for (size_t i = 0; i < src->n_m; i++)
		rule_match(c, r, &src->m[i]);
	rule_copy_actions(c, r, src);
}

void rule_copy_actions(struct cctx *c, struct nft_rule *r, const struct nft_rule *src)
{
	if (!r)
		return;
	r->mark_set = src->mark_set;
	r->mark_and = src->mark_and;
	r->mark_or = src->mark_or;
	r->notrack = src->notrack;
	r->nftrace = src->nftrace;
	if (src->log_prefix && !(r->log_prefix = strdup(src->log_prefix)))
		c->err = -ENOMEM;
	rule_verdict(c, r, src->verdict, src->target);
}

static const struct nft_table *sort_t;

static int cmp_chain_idx(const void *pa, const void *pb)
{
	return strcmp(sort_t->chains[*(const size_t *)pa]->name,
		      sort_t->chains[*(const size_t *)pb]->name);
}

/* Marks the chain called name, found by binary search in idx. */
static void mark(const struct nft_table *t, const size_t *idx, bool *keep, const char *name)
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
	const struct nft_table *t = c->t;
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
		keep[i] = t->chains[i]->hook != NFT_HOOK_NONE;
	}
	sort_t = t;
	qsort(idx, t->n_chains, sizeof(*idx), cmp_chain_idx);
	for (size_t i = 0; i < t->n_chains; i++)
		for (size_t k = 0; k < t->chains[i]->n_rules; k++) {
			const struct nft_rule *r = &t->chains[i]->rules[k];

			if (r->verdict == NFT_V_JUMP || r->verdict == NFT_V_GOTO)
				mark(t, idx, keep, r->target);
		}
	for (size_t i = 0; i < t->n_sets; i++)
		for (size_t k = 0; t->sets[i]->key == NFT_KEY_IFNAME && k < t->sets[i]->n_elems; k++)
			mark(t, idx, keep, t->sets[i]->elems[k].chain);
	for (size_t i = 0; i < t->n_chains; i++) {
		if (keep[i])
			c->t->chains[w++] = c->t->chains[i];
		else
			chain_free(c->t->chains[i]);
	}
	c->t->n_chains = w;
	name_index_free(&c->chain_ix);
	free(keep);
	free(idx);
}

struct nft_table *nft_table_free(struct nft_table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_chains; i++)
		chain_free(t->chains[i]);
	free(t->chains);
	for (size_t i = 0; i < t->n_sets; i++) {
		elems_free(t->sets[i]->elems, t->sets[i]->n_elems);
		free(t->sets[i]->name);
		free(t->sets[i]);
	}
	free(t->sets);
	free(t->name);
	free(t);
	return NULL;
}

/* Chain names: the prefix, then the name with anything nft would not take
 * unquoted turned into '_'. */
char *chain_name(const char *prefix, const char *ns, const char *name)
{
	char *s;

	if (asprintf(&s, "%s%s%s%s", prefix, ns ? ns : "", ns ? "." : "",
		     name) < 0)
		return NULL;
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		      *p == '.'))
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
	return set ? ((const struct nft_set *)p)->name : ((const struct nft_chain *)p)->name;
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
			if (ix_put(x, set ? (void *)c->t->sets[i] : (void *)c->t->chains[i], set) < 0) {
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

struct nft_chain *chain_find(struct cctx *c, const char *name)
{
	return ix_find(c, name, false);
}

const struct nft_set *set_find(struct cctx *c, const char *name)
{
	return ix_find(c, name, true);
}

struct nft_chain *chain_add(struct cctx *c, const char *name,
			    enum nft_hook hook, int prio)
{
	struct nft_chain *ch = calloc(1, sizeof(*ch));
	struct nft_chain **v;

	if (!ch || !(ch->name = strdup(name)))
		goto oom;
	ch->hook = hook;
	ch->prio = prio;
	v = realloc(c->t->chains, (c->t->n_chains + 1) * sizeof(*v));
	if (!v)
		goto oom;
	c->t->chains = v;
	if (ix_sync(c, false))
		(void)ix_put(&c->chain_ix, ch, false);	/* out of step: rebuilt */
	v[c->t->n_chains++] = ch;
	return ch;
oom:
	if (ch)
		free(ch->name);
	free(ch);
	c->err = -ENOMEM;
	return NULL;
}

struct nft_rule *rule_add(struct cctx *c, struct nft_chain *ch,
			  const char *comment)
{
	struct nft_rule *v;

	if (!ch)
		return NULL;
	v = grow(ch->rules, ch->n_rules, &ch->cap, sizeof(*v));
	if (!v) {
		c->err = -ENOMEM;
		return NULL;
	}
	ch->rules = v;
	v = &ch->rules[ch->n_rules++];
	*v = (struct nft_rule){ 0 };
	if (comment && !(v->comment = strndup(comment, 127)))
		c->err = -ENOMEM;
	return v;
}

void rule_match(struct cctx *c, struct nft_rule *r, const struct nft_match *m)
{
	struct nft_match *v;

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

void rule_verdict(struct cctx *c, struct nft_rule *r, enum nft_verdict v,
		  const char *target)
{
	if (!r)
		return;
	r->verdict = v;
	if (target && !(r->target = strdup(target)))
		c->err = -ENOMEM;
}

/* ---- ranges ------------------------------------------------------------------ */

void cidr_range(const struct cidr *c, struct nft_elem *e)
{
	size_t w = c->family == AF_INET ? 4 : 16, full = c->len / 8;

	memset(e, 0, sizeof(*e));
	memcpy(e->lo, c->addr, full);
	memcpy(e->hi, c->addr, full);
	if (full < w) {
		uint8_t m = (uint8_t)(0xff00 >> (c->len % 8));

		e->lo[full] = c->addr[full] & m;
		e->hi[full] = (uint8_t)(e->lo[full] | ~m);
		memset(e->hi + full + 1, 0xff, w - full - 1);
	}
}

/* Keys are 2 to 16 bytes: a loop beats a call to memcmp. */
static inline int cmp_bytes(const uint8_t *a, const uint8_t *b, size_t w)
{
	for (size_t i = 0; i < w; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* a + 1 == b, on w big-endian bytes */
static bool adjacent(const uint8_t *a, const uint8_t *b, size_t w)
{
	size_t i = w;

	/* a = P x ff..ff and b = P (x+1) 00..00 */
	while (i > 0 && a[i - 1] == 0xff && b[i - 1] == 0)
		i--;
	if (i == 0 || a[i - 1] == 0xff || (uint8_t)(a[i - 1] + 1) != b[i - 1])
		return false;
	return cmp_bytes(a, b, i - 1) == 0;
}

static size_t sort_width;

static int cmp_elem(const void *pa, const void *pb)
{
	const struct nft_elem *a = pa, *b = pb;
	int r = cmp_bytes(a->lo, b->lo, sort_width);

	return r ? r : cmp_bytes(a->hi, b->hi, sort_width);
}

size_t elems_normalise(struct nft_elem *e, size_t n, size_t width)
{
	size_t w = 0;

	if (n == 0)
		return 0;
	/* Already in order, apart and not touching (normalised before):
	 * nothing to do. */
	for (w = 1; w < n; w++)
		if (cmp_bytes(e[w - 1].hi, e[w].lo, width) >= 0 ||
		    adjacent(e[w - 1].hi, e[w].lo, width))
			break;
	if (w == n)
		return n;
	w = 0;
	sort_width = width;
	qsort(e, n, sizeof(*e), cmp_elem);
	for (size_t r = 1; r < n; r++) {
		struct nft_elem *cur = &e[w];

		if (cmp_bytes(e[r].lo, cur->hi, width) <= 0 ||
		    adjacent(cur->hi, e[r].lo, width)) {
			if (cmp_bytes(e[r].hi, cur->hi, width) > 0)
				memcpy(cur->hi, e[r].hi, width);
		} else {
			e[++w] = e[r];
		}
	}
	return w + 1;
}

bool range_is_prefix(const struct nft_elem *e, size_t width, unsigned *ret_len)
{
	size_t bits = width * 8, len;

	/* Find the longest common prefix; the rest must be 0s in lo and
	 * 1s in hi. */
	for (len = 0; len < bits; len++) {
		uint8_t m = (uint8_t)(0x80 >> (len % 8));

		if ((e->lo[len / 8] & m) != (e->hi[len / 8] & m))
			break;
	}
	for (size_t b = len; b < bits; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));

		if ((e->lo[b / 8] & m) || !(e->hi[b / 8] & m))
			return false;
	}
	*ret_len = (unsigned)len;
	return true;
}

/* ---- content-shared sets --------------------------------------------------- */

static size_t key_width(enum nft_key k)
{
	switch (k) {
	case NFT_KEY_IPV4:
		return 4;
	case NFT_KEY_IPV6:
		return 16;
	case NFT_KEY_PORT:
		return 2;
	case NFT_KEY_PROTO_PORT:
		return 3;
	case NFT_KEY_IFNAME:
		return 0;
	}
	return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool same_content(const struct nft_set *s, const struct nft_elem *e,
			 size_t n, size_t w)
{
	if (s->n_elems != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (memcmp(s->elems[i].lo, e[i].lo, w) ||
		    memcmp(s->elems[i].hi, e[i].hi, w))
			return false;
	return true;
}

/* Sets by content hash, open addressing; out of memory only costs the
 * sharing (a linear scan takes over). */
static struct nft_set *content_find(struct cctx *c, enum nft_key key, bool interval,
				    uint64_t h, const struct nft_elem *e, size_t n, size_t w)
{
	struct name_index *x = &c->content_ix;

	if (x->n != c->t->n_sets) {
		for (size_t i = 0; i < c->t->n_sets; i++) {
			struct nft_set *s = c->t->sets[i];

			if (s->key == key && s->interval == interval && s->hash == h &&
			    same_content(s, e, n, w))
				return s;
		}
		return NULL;
	}
	for (size_t i = h & (x->cap - 1); x->cap && x->slot[i]; i = (i + 1) & (x->cap - 1)) {
		struct nft_set *s = x->slot[i];

		if (s->key == key && s->interval == interval && s->hash == h &&
		    same_content(s, e, n, w))
			return s;
	}
	return NULL;
}

static void content_put(struct cctx *c, struct nft_set *s)
{
	struct name_index *x = &c->content_ix;

	if (x->n != c->t->n_sets)
		return;		/* given up: see content_find() */
	if ((x->n + 1) * 2 > x->cap) {
		struct name_index y = { .cap = x->cap ? x->cap * 2 : 64, .n = x->n };

		y.slot = calloc(y.cap, sizeof(*y.slot));
		if (!y.slot) {
			name_index_free(x);
			x->n = (size_t)-1;
			return;
		}
		for (size_t i = 0; i < x->cap; i++) {
			struct nft_set *o = x->slot[i];
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
const char *set_intern(struct cctx *c, enum nft_key key, bool interval,
		       struct nft_elem *elems, size_t n, const char *owner)
{
	return set_intern_normal(c, key, interval, elems, n, owner, false);
}

/* Sorted, without duplicates (exact-match sets). */
static size_t elems_dedupe(struct nft_elem *e, size_t n, size_t w)
{
	size_t k = 0;

	if (!n)
		return 0;
	sort_width = w;
	qsort(e, n, sizeof(*e), cmp_elem);
	for (size_t i = 1; i < n; i++)
		if (memcmp(e[i].lo, e[k].lo, w))
			e[++k] = e[i];
	return k + 1;
}

/* Only to find candidates for sharing: a word at a time will do. */
static uint64_t elems_hash(const struct nft_elem *e, size_t n, size_t w)
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

const char *set_intern_normal(struct cctx *c, enum nft_key key, bool interval,
			      struct nft_elem *elems, size_t n, const char *owner,
			      bool normal)
{
	size_t w = key_width(key);
	struct nft_set *s, **v;
	char name[256];
	uint64_t h;

	if (!normal)	/* else the caller just normalised them */
		n = interval ? elems_normalise(elems, n, w) : elems_dedupe(elems, n, w);
	h = elems_hash(elems, n, w);
	s = content_find(c, key, interval, h, elems, n, w);
	if (s) {
		s->refs++;
		elems_free(elems, n);
		return s->name;
	}
	set_name(c, owner, name);
	s = calloc(1, sizeof(*s));
	v = realloc(c->t->sets, (c->t->n_sets + 1) * sizeof(*v));
	if (!s || !v || !(s->name = strdup(name))) {
		free(s);
		if (v)
			c->t->sets = v;
		elems_free(elems, n);
		c->err = -ENOMEM;
		return NULL;
	}
	c->t->sets = v;
	*s = (struct nft_set){ .name = s->name, .key = key, .interval = interval,
			       .elems = elems, .n_elems = n, .refs = 1, .hash = h };
	if (ix_sync(c, true))
		(void)ix_put(&c->set_ix, s, true);
	content_put(c, s);
	v[c->t->n_sets++] = s;
	return s->name;
}

const struct nft_set *nft_table_find_set(const struct nft_table *t,
					 const char *name)
{
	for (size_t i = 0; i < t->n_sets; i++)
		if (strcmp(t->sets[i]->name, name) == 0)
			return t->sets[i];
	return NULL;
}

const struct nft_chain *nft_table_find_chain(const struct nft_table *t,
					     const char *name)
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

static bool cidr_eq(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

bool match_eq(const struct nft_match *a, const struct nft_match *b)
{
	return a->kind == b->kind && a->neg == b->neg && a->family == b->family &&
	       a->has_code == b->has_code && a->num == b->num && a->code == b->code &&
	       a->mask == b->mask && a->value == b->value && a->lo == b->lo &&
	       a->hi == b->hi && cidr_eq(&a->cidr, &b->cidr) && str_eq(a->set, b->set) &&
	       str_eq(a->ifname, b->ifname);
}

bool nft_rule_equal(const struct nft_rule *a, const struct nft_rule *b)
{
	if (a->n_m != b->n_m || a->mark_set != b->mark_set || a->mark_and != b->mark_and ||
	    a->mark_or != b->mark_or || a->notrack != b->notrack || a->nftrace != b->nftrace ||
	    a->verdict != b->verdict ||
	    !str_eq(a->log_prefix, b->log_prefix) || !str_eq(a->target, b->target) ||
	    !str_eq(a->comment, b->comment))
		return false;
	for (size_t i = 0; i < a->n_m; i++)
		if (!match_eq(&a->m[i], &b->m[i]))
			return false;
	return true;
}

bool nft_chain_rules_equal(const struct nft_chain *a, const struct nft_chain *b)
{
	if (a->n_rules != b->n_rules)
		return false;
	for (size_t i = 0; i < a->n_rules; i++)
		if (!nft_rule_equal(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}

bool nft_set_elems_equal(const struct nft_set *a, const struct nft_set *b)
{
	if (a->key != b->key || a->interval != b->interval || a->n_elems != b->n_elems ||
	    a->hash != b->hash)
		return false;
	for (size_t i = 0; i < a->n_elems; i++) {
		const struct nft_elem *x = &a->elems[i], *y = &b->elems[i];

		if (memcmp(x->lo, y->lo, sizeof(x->lo)) || memcmp(x->hi, y->hi, sizeof(x->hi)) ||
		    !str_eq(x->ifname, y->ifname) || !str_eq(x->chain, y->chain) ||
		    x->jump != y->jump)
			return false;
	}
	return true;
}
