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

static void rule_free(struct nft_rule *r)
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

static void chain_free(struct nft_chain *ch)
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
	r->mark_set = src->mark_set;
	r->mark_and = src->mark_and;
	r->mark_or = src->mark_or;
	r->notrack = src->notrack;
	if (src->log_prefix && !(r->log_prefix = strdup(src->log_prefix)))
		c->err = -ENOMEM;
	rule_verdict(c, r, src->verdict, src->target);
}

static bool referenced(const struct nft_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_chains; i++)
		for (size_t k = 0; k < t->chains[i]->n_rules; k++) {
			const struct nft_rule *r = &t->chains[i]->rules[k];

			if ((r->verdict == NFT_V_JUMP || r->verdict == NFT_V_GOTO) &&
			    r->target && strcmp(r->target, name) == 0)
				return true;
		}
	for (size_t i = 0; i < t->n_sets; i++)
		for (size_t k = 0; t->sets[i]->key == NFT_KEY_IFNAME && k < t->sets[i]->n_elems; k++)
			if (t->sets[i]->elems[k].chain &&
			    strcmp(t->sets[i]->elems[k].chain, name) == 0)
				return true;
	return false;
}

void chains_prune(struct cctx *c)
{
	bool *keep = calloc(c->t->n_chains + 1, sizeof(*keep));
	size_t w = 0;

	if (!keep) {
		c->err = -ENOMEM;
		return;
	}
	/* Decide for all first: the test reads every chain's rules. */
	for (size_t i = 0; i < c->t->n_chains; i++)
		keep[i] = c->t->chains[i]->hook != NFT_HOOK_NONE ||
			  referenced(c->t, c->t->chains[i]->name);
	for (size_t i = 0; i < c->t->n_chains; i++) {
		if (keep[i])
			c->t->chains[w++] = c->t->chains[i];
		else
			chain_free(c->t->chains[i]);
	}
	c->t->n_chains = w;
	free(keep);
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

struct nft_chain *chain_find(struct cctx *c, const char *name)
{
	for (size_t i = 0; i < c->t->n_chains; i++)
		if (strcmp(c->t->chains[i]->name, name) == 0)
			return c->t->chains[i];
	return NULL;
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
	size_t w = c->family == AF_INET ? 4 : 16;

	memset(e, 0, sizeof(*e));
	for (size_t bit = 0; bit < w * 8; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));

		if (bit < c->len) {
			e->lo[bit / 8] |= c->addr[bit / 8] & m;
			e->hi[bit / 8] |= c->addr[bit / 8] & m;
		} else {
			e->hi[bit / 8] |= m;
		}
	}
}

static int cmp_bytes(const uint8_t *a, const uint8_t *b, size_t w)
{
	return memcmp(a, b, w);
}

/* a + 1 == b, on w big-endian bytes */
static bool adjacent(const uint8_t *a, const uint8_t *b, size_t w)
{
	uint8_t x[16];
	size_t i = w;

	memcpy(x, a, w);
	while (i-- > 0)
		if (++x[i] != 0)
			break;
	if (i == (size_t)-1)
		return false;	/* a was all ones */
	return memcmp(x, b, w) == 0;
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

/*
 * Identical contents share one set. A new set is named after its first
 * user (owner, e.g. "pi-allow-sys-mgmt.0.1": chain, rule, match), not
 * after its contents, so that when a rule's addresses change the set
 * keeps its name and a sync only adds and removes elements.
 */
const char *set_intern(struct cctx *c, enum nft_key key, bool interval,
		       struct nft_elem *elems, size_t n, const char *owner)
{
	size_t w = key_width(key);
	uint64_t h = 0xcbf29ce484222325ull;
	struct nft_set *s, **v;
	char name[256];

	if (interval) {
		n = elems_normalise(elems, n, w);
	} else if (n) {
		size_t k = 0;

		sort_width = w;
		qsort(elems, n, sizeof(*elems), cmp_elem);
		for (size_t i = 1; i < n; i++)
			if (memcmp(elems[i].lo, elems[k].lo, w))
				elems[++k] = elems[i];
		n = k + 1;
	}
	for (size_t i = 0; i < n; i++) {
		h = fnv(h, elems[i].lo, w);
		h = fnv(h, elems[i].hi, w);
	}
	for (size_t i = 0; i < c->t->n_sets; i++) {
		s = c->t->sets[i];
		if (s->key == key && s->interval == interval && s->hash == h &&
		    same_content(s, elems, n, w)) {
			s->refs++;
			elems_free(elems, n);
			return s->name;
		}
	}
	/* Set names are at most 255 bytes: long owners keep their start and
	 * a hash of the whole. */
	if (strlen(owner) < 200)
		snprintf(name, sizeof(name), "%s", owner);
	else
		snprintf(name, sizeof(name), "%.180s~%016llx", owner,
			 (unsigned long long)fnv(0xcbf29ce484222325ull, owner, strlen(owner)));
	if (nft_table_find_set(c->t, name)) {
		char base[256];

		memcpy(base, name, sizeof(base));
		for (unsigned salt = 2; nft_table_find_set(c->t, name); salt++)
			snprintf(name, sizeof(name), "%.200s-x%u", base, salt);
	}
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
	s->key = key;
	s->interval = interval;
	s->elems = elems;
	s->n_elems = n;
	s->refs = 1;
	s->hash = h;
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
