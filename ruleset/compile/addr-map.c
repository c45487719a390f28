/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address maps: a run of rules in a chain, each matching one positive
 * source (or destination) address set of one family, the sets pairwise
 * disjoint, becomes a lookup of the packet's address in a verdict map per
 * prefix length, which jumps to a chain holding the one rule whose set
 * holds the address, minus that match:
 *
 *   ip saddr & 255.255.255.0 vmap @filter-in-eth1.saddr-<id>-24
 *   chain r<hash> { tcp dport @ports counter accept }
 *
 * Evaluated in order, at most one rule of such a run can match a packet
 * (the sets do not overlap), so running that rule alone and going on after
 * the run when it does not decide is the same; its counter and comment
 * stay its own (per-policy counters still count). A new connection then
 * does a hash lookup per prefix length instead of a set lookup per rule.
 * The maps are hashes of prefixes, not interval trees: Linux inserts a
 * million hashed elements in a few seconds, a million intervals in one
 * tree in minutes (tests/bench/scale.sh).
 *
 * Only rules whose effect does not depend on the chain they run in take
 * part: no return, jump or goto. Runs shorter than ADDR_MAP_MIN stay as
 * they are (a lookup per rule costs little there, and the script stays
 * plain).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile-internal.h"

#define ADDR_MAP_MIN 8
/* A map ends after a rule whose hash says so once it holds MAP_SOFT
 * elements, and at MAP_HARD in any case: Linux dumps a set from its
 * start again for every message of the dump, so reading back a map costs
 * the square of its size; cut where the content says, a rule coming or
 * going moves only its own map's boundaries. */
#define MAP_SOFT     16384
#define MAP_HARD     65536
#define MAP_SIZE_MIN 16
#define MAX_PLEN     128 /* prefix lengths 0..128 */
/* Ranges open at once while looking for overlaps; more than this and the
 * run is left as it is. */
#define MAX_ACTIVE   64

/* The ranges of a run, packed: lo and hi of the family's width, then the
 * rule's index in the run (2,000,000 IPv4 ranges take 24 MB, not 80). */
struct ranges {
	uint8_t *b;
	size_t n, cap, w, stride;
};

static size_t sort_w;

static uint8_t *range_at(const struct ranges *v, size_t i)
{
	return v->b + i * v->stride;
}

static uint32_t range_rule(const uint8_t *x, size_t w)
{
	uint32_t k;

	memcpy(&k, x + 2 * w, sizeof(k));
	return k;
}

static int cmp_range(const void *pa, const void *pb)
{
	int c = memcmp(pa, pb, sort_w);
	uint32_t a = range_rule(pa, sort_w), b = range_rule(pb, sort_w);

	return c ? c : (a > b) - (a < b);
}

/* The index of r's one positive address match of kind k and family fam
 * (fam 0: any, set on return), or -1. */
static int addr_match(const struct model_rule *r, enum model_match_kind k, uint8_t *fam)
{
	int at = -1;

	if (r->verdict != MODEL_V_NONE && r->verdict != MODEL_V_ACCEPT &&
	    r->verdict != MODEL_V_DROP)
		return -1;
	for (size_t i = 0; i < r->n_m; i++) {
		const struct model_match *m = &r->m[i];

		if (m->kind != k || m->neg)
			continue;
		if (at >= 0)
			return -1;
		at = (int)i;
	}
	if (at < 0 || (*fam && r->m[at].family != *fam))
		return -1;
	*fam = r->m[at].family;
	return at;
}

/* The number of ranges of address match m, or -ENOENT for a set not ours
 * to read. */
static long count_ranges(struct cctx *c, const struct model_match *m)
{
	const struct model_set *s = m->set ? set_find(c, m->set) : NULL;

	if (m->set && (!s || s->map || !s->interval))
		return -ENOENT;
	return s ? (long)s->n_elems : 1;
}

/* The ranges of rule k's address match m, appended to v (room made). */
static void take(struct cctx *c, const struct model_match *m, uint32_t k, struct ranges *v)
{
	const struct model_set *s = m->set ? set_find(c, m->set) : NULL;
	size_t add = s ? s->n_elems : 1;

	for (size_t i = 0; i < add; i++) {
		uint8_t *x = range_at(v, v->n++);
		struct model_elem e;

		if (s)
			e = s->elems[i];
		else
			model_prefix_range(&m->prefix, &e);
		memcpy(x, e.lo, v->w);
		memcpy(x + v->w, e.hi, v->w);
		memcpy(x + 2 * v->w, &k, sizeof(k));
	}
}

/* last[b]: the latest rule before b in the run whose addresses overlap
 * b's, or -1. Returns -E2BIG when too many ranges nest. */
static int overlaps(const struct ranges *v, long *last)
{
	const uint8_t *active[MAX_ACTIVE];
	size_t na = 0, w = v->w;

	for (size_t i = 0; i < v->n; i++) {
		const uint8_t *x = range_at(v, i);
		uint32_t q = range_rule(x, w);
		size_t keep = 0;

		for (size_t a = 0; a < na; a++)
			if (memcmp(active[a] + w, x, w) >= 0)
				active[keep++] = active[a];
		na = keep;
		for (size_t a = 0; a < na; a++) {
			uint32_t p = range_rule(active[a], w);

			if (p < q && last[q] < (long)p)
				last[q] = (long)p;
			if (q < p && last[p] < (long)q)
				last[p] = (long)q;
		}
		if (na == MAX_ACTIVE)
			return -E2BIG;
		active[na++] = x;
	}
	return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* A name for the chain holding rule r without match at: its content's
 * hash, so that the same rule keeps its chain when others come and go. */
static uint64_t rule_hash(const struct model_rule *r, int at)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < r->n_m; i++) {
		const struct model_match *m = &r->m[i];
		uint32_t f[10] = { m->kind, m->neg,  m->family, m->has_code, m->num,
				   m->code, m->mask, m->value,	m->lo,	     m->hi };

		if ((int)i == at)
			continue;
		h = fnv(h, f, sizeof(f));
		h = fnv(h, &m->prefix, sizeof(m->prefix));
		h = fnv_str(fnv_str(h, m->set), m->ifname);
	}
	{
		uint32_t f[6] = { r->mark_set, r->mark_and, r->mark_or,
				  r->notrack,  r->nftrace,  r->verdict };

		h = fnv(h, f, sizeof(f));
	}
	h = fnv_str(h, r->log_prefix);
	h = fnv_str(h, r->target);
	return fnv_str(h, r->comment);
}

/* Whether chain rc holds exactly rule r without match at. */
static bool holds(const struct model_chain *rc, const struct model_rule *r, int at)
{
	struct model_rule tmp = *r;
	bool same;

	if (rc->n_rules != 1 || r->n_m == 0)
		return false;
	tmp.m = malloc(r->n_m * sizeof(*tmp.m));
	if (!tmp.m)
		return false;
	tmp.n_m = 0;
	for (size_t i = 0; i < r->n_m; i++)
		if ((int)i != at)
			tmp.m[tmp.n_m++] = r->m[i];
	same = model_rule_equal(&rc->rules[0], &tmp);
	free(tmp.m);
	return same;
}

/* Rule r minus match at, alone in a chain named after its content (the
 * same rule on two interfaces shares it; a short name, as every map
 * element carries it), or the chain that already holds exactly that. */
static const char *rule_chain(struct cctx *c, const struct model_rule *r, int at)
{
	uint64_t h = rule_hash(r, at);
	char name[64];
	struct model_chain *rc;
	struct model_rule *n;

	snprintf(name, sizeof(name), "r%016llx", (unsigned long long)h);
	for (unsigned salt = 2; (rc = chain_find(c, name)); salt++) {
		if (holds(rc, r, at))
			return rc->name;
		snprintf(name, sizeof(name), "r%016llx-%u", (unsigned long long)h, salt);
	}
	rc = chain_add(c, name, MODEL_HOOK_NONE, 0);
	n = rc ? rule_add(c, rc, r->comment) : NULL;
	if (!n)
		return NULL;
	for (size_t i = 0; i < r->n_m; i++)
		if ((int)i != at)
			rule_match(c, n, &r->m[i]);
	rule_copy_actions(c, n, r);
	return c->err ? NULL : rc->name;
}

/* The prefixes of lo..hi, appended to e (which has room for 2 * bits). */
static size_t split_prefixes(const uint8_t *lo, const uint8_t *hi, size_t w, uint8_t *len,
			     struct model_elem *e)
{
	uint8_t cur[16];
	size_t n = 0;

	memcpy(cur, lo, w);
	for (;;) {
		unsigned bits = (unsigned)w * 8, tz = 0;
		uint8_t end[16];
		bool over = false;

		/* the largest prefix starting at cur, within hi */
		while (tz < bits && !(cur[(bits - 1 - tz) / 8] & (1u << (tz % 8))))
			tz++;
		for (;;) {
			memcpy(end, cur, w);
			for (unsigned i = 0; i < tz; i++)
				end[(bits - 1 - i) / 8] |= (uint8_t)(1u << (i % 8));
			if (memcmp(end, hi, w) <= 0)
				break;
			tz--;
		}
		memset(&e[n], 0, sizeof(e[n]));
		memcpy(e[n].lo, cur, w);
		memcpy(e[n].hi, end, w);
		len[n++] = (uint8_t)(bits - tz);
		if (memcmp(end, hi, w) == 0)
			return n;
		memcpy(cur, end, w);
		for (size_t b = w; b-- > 0;) {
			if (++cur[b] != 0)
				break;
			if (b == 0)
				over = true;
		}
		if (over)
			return n;
	}
}

static int cmp_key(const void *pa, const void *pb)
{
	return memcmp(((const struct map_elem *)pa)->key, ((const struct map_elem *)pb)->key,
		      sort_w);
}

/* Every prefix of the address match of each rule of run: counted per
 * prefix length (out NULL) or appended to out[its length]. */
static void map_fill(struct cctx *c, const struct model_rule *run, const int *at, size_t n,
		     size_t w, const char *const *target, size_t *count, struct map_elem **out)
{
	struct model_elem tmp[256];
	uint8_t tlen[256];

	for (size_t k = 0; k < n; k++) {
		const struct model_match *m = &run[k].m[at[k]];
		const struct model_set *s = m->set ? set_find(c, m->set) : NULL;
		size_t ne = s ? s->n_elems : 1;

		for (size_t i = 0; i < ne; i++) {
			struct model_elem e;
			unsigned len;
			size_t np = 1;

			if (s)
				e = s->elems[i];
			else
				model_prefix_range(&m->prefix, &e);
			if (model_range_is_prefix(&e, w, &len)) {
				tmp[0] = e;
				tlen[0] = (uint8_t)len;
			} else {
				np = split_prefixes(e.lo, e.hi, w, tlen, tmp);
			}
			for (size_t j = 0; j < np; j++) {
				struct map_elem *x;

				if (!out) {
					count[tlen[j]]++;
					continue;
				}
				x = &out[tlen[j]][count[tlen[j]]++];
				*x = (struct map_elem){ .chain = target[k] };
				memcpy(x->key, tmp[j].lo, w);
			}
		}
	}
}

/* The rule looking the address up in map ms of prefix length l. */
static void map_rule(struct cctx *c, struct model_rule *r, const struct model_set *ms,
		     enum model_match_kind kind, uint8_t fam, size_t l, size_t n)
{
	char comment[128];

	snprintf(comment, sizeof(comment), "%zu rules by %s address (/%zu)", n,
		 kind == MODEL_M_SADDR ? "source" : "destination", l);
	*r = (struct model_rule){
		.verdict = kind == MODEL_M_SADDR ? MODEL_V_VMAP_SADDR : MODEL_V_VMAP_DADDR,
		.family = fam,
		.plen = (uint8_t)l,
		.target = strdup(ms->name),
		.comment = strdup(comment),
	};
	if (!r->target || !r->comment)
		c->err = -ENOMEM;
}

/* A map's size in the kernel: room for a quarter more, a power of two.
 * Given a size, Linux makes a hash of that many buckets and more at once
 * (nft_hash) instead of one it resizes as elements come (rhashtable: the
 * inserts of a W-huge sync spent 13% of all samples in
 * rhashtable_insert_slow); the size is also a limit, so a map that grows
 * past it is made again under another name. */
static uint32_t map_size(size_t n)
{
	uint32_t size = MAP_SIZE_MIN;

	while (size < n + n / 4 && size < UINT32_MAX / 2)
		size *= 2;
	return size;
}

/* The elements of each prefix length's map of a run, before the maps
 * are made. */
struct run_elems {
	size_t count[MAX_PLEN + 1];
	struct map_elem *v[MAX_PLEN + 1];
	struct model_set *map[MAX_PLEN + 1];
};

static void run_elems_free(struct run_elems *e)
{
	for (size_t l = 0; l <= MAX_PLEN; l++)
		free(e->v[l]);
}

/* Room for the elements map_fill() counted; the counts start again. */
static int run_elems_alloc(struct run_elems *e, size_t bits)
{
	for (size_t l = 0; l <= bits; l++) {
		if (e->count[l] && !(e->v[l] = malloc(e->count[l] * sizeof(*e->v[l]))))
			return -ENOMEM;
		e->count[l] = 0;
	}
	return 0;
}

/* One map per prefix length over rules [0, n) of run, and the rules that
 * look the packet up in them (longest prefixes first), appended to out. */
static void map_run(struct cctx *c, struct model_chain *ch, const struct model_rule *run,
		    const int *at, size_t n, enum model_match_kind kind, uint8_t fam,
		    struct model_rule *out, size_t *n_out)
{
	size_t w = fam == 4 ? 4 : 16, bits = w * 8;
	const char **target = calloc(n, sizeof(*target));
	struct run_elems *e = calloc(1, sizeof(*e));

	if (!target || !e) {
		c->err = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < n && !c->err; k++)
		if (!(target[k] = rule_chain(c, &run[k], at[k])) && !c->err)
			c->err = -ENOMEM; /* chain_add() or rule_add() failed */
	if (c->err)
		goto out;
	map_fill(c, run, at, n, w, target, e->count, NULL);
	if (run_elems_alloc(e, bits) < 0) {
		c->err = -ENOMEM;
		goto out;
	}
	map_fill(c, run, at, n, w, target, e->count, e->v);
	for (size_t l = 0; l <= bits && !c->err; l++) {
		uint32_t size = map_size(e->count[l]);
		char name[256];

		if (!e->count[l])
			continue;
		/* named after its first rule (stable while that stays) and its
		 * size: outgrown, it is another map */
		snprintf(name, sizeof(name), "%s.%s-%08x-%zu-s%u", ch->name,
			 kind == MODEL_M_SADDR ? "saddr" : "daddr",
			 (unsigned)rule_hash(&run[0], at[0]), l, size);
		e->map[l] = set_add_map(c, name, fam == 4 ? MODEL_KEY_IPV4 : MODEL_KEY_IPV6);
		if (e->map[l])
			e->map[l]->size = size;
	}
	sort_w = w;
	for (size_t l = bits + 1; l-- > 0 && !c->err;) {
		if (!e->map[l])
			continue;
		qsort(e->v[l], e->count[l], sizeof(*e->v[l]), cmp_key);
		if (set_map_done(c, e->map[l], e->v[l], e->count[l]) == 0)
			map_rule(c, &out[(*n_out)++], e->map[l], kind, fam, l, n);
		free(e->v[l]);
		e->v[l] = NULL;
	}
out:
	if (e)
		run_elems_free(e);
	free(e);
	free(target);
}

/* The end of the longest run of rules from i mappable by kind. */
static size_t run_end(const struct model_chain *ch, size_t i, enum model_match_kind kind,
		      uint8_t *fam)
{
	size_t j = i;

	*fam = 0;
	while (j < ch->n_rules && addr_match(&ch->rules[j], kind, fam) >= 0)
		j++;
	return j;
}

/* A mapped rule goes; the set it matched, once no rule names it, gives
 * its elements back at once (the maps hold as many). */
static void rule_drop(struct cctx *c, struct model_rule *r, int at)
{
	struct model_set *s = r->m[at].set ? (struct model_set *)set_find(c, r->m[at].set) : NULL;

	if (s && s->refs && --s->refs == 0 && !s->targets) {
		free(s->elems);
		s->elems = NULL;
		s->n_elems = 0;
	}
	model_rule_free(r);
	*r = (struct model_rule){ 0 };
}

static bool reserve(struct cctx *c, struct model_rule **out, size_t *cap, size_t need)
{
	struct model_rule *x;
	size_t nc;

	if (need <= *cap)
		return true;
	nc = 2 * need;
	x = realloc(*out, nc * sizeof(*x));
	if (!x) {
		c->err = -ENOMEM;
		return false;
	}
	*out = x;
	*cap = nc;
	return true;
}

/* Rules [from, to) of ch as they are, appended to out. */
static void keep(struct cctx *c, const struct model_chain *ch, size_t from, size_t to,
		 struct model_rule **out, size_t *n_out, size_t *cap)
{
	if (!reserve(c, out, cap, *n_out + (to - from)))
		return;
	memcpy(*out + *n_out, ch->rules + from, (to - from) * sizeof(**out));
	*n_out += to - from;
}

/* Rules [i, j) of ch, each with its address match at[k - i]: cut where a
 * rule's addresses meet an earlier one's, the pieces long enough mapped,
 * the rest kept. Returns whether anything was mapped. */
/* The ranges of rules [i, j) (j cut before a set not ours to read),
 * sorted; their sizes in size[]. */
static int run_ranges(struct cctx *c, struct model_chain *ch, size_t i, size_t *j, const int *at,
		      size_t w, struct ranges *v, size_t *size)
{
	size_t total = 0;

	for (size_t k = i; k < *j; k++) {
		long n = count_ranges(c, &ch->rules[k].m[at[k - i]]);

		if (n < 0) {
			*j = k;
			break;
		}
		size[k - i] = (size_t)n;
		total += (size_t)n;
	}
	*v = (struct ranges){ .w = w, .stride = 2 * w + sizeof(uint32_t) };
	v->b = malloc((total ? total : 1) * v->stride);
	if (!v->b)
		return -ENOMEM;
	for (size_t k = i; k < *j; k++)
		take(c, &ch->rules[k].m[at[k - i]], (uint32_t)(k - i), v);
	sort_w = w;
	qsort(v->b, v->n, v->stride, cmp_range);
	return 0;
}

static bool map_runs(struct cctx *c, struct model_chain *ch, size_t i, size_t j, const int *at,
		     enum model_match_kind kind, uint8_t fam, struct model_rule **out,
		     size_t *n_out, size_t *cap)
{
	size_t w = fam == 4 ? 4 : 16;
	struct ranges v = { 0 };
	long *last = calloc(j - i, sizeof(*last));
	size_t *size = calloc(j - i, sizeof(*size));
	size_t end = j;
	bool mapped = false;

	if (!last || !size || run_ranges(c, ch, i, &j, at, w, &v, size) < 0) {
		c->err = -ENOMEM;
		goto out;
	}
	for (size_t k = i; k < j; k++)
		last[k - i] = -1;
	if (j - i < ADDR_MAP_MIN || overlaps(&v, last) < 0) {
		keep(c, ch, i, j, out, n_out, cap);
		goto out;
	}
	free(v.b); /* before the maps take as much */
	v.b = NULL;
	for (size_t s = i; s < j && !c->err;) {
		size_t e = s + 1, n = size[s - i];

		while (e < j && last[e - i] < (long)(s - i) && n < MAP_HARD &&
		       !(n >= MAP_SOFT && rule_hash(&ch->rules[e - 1], at[e - 1 - i]) % 4 == 0))
			n += size[e++ - i];
		if (e - s < ADDR_MAP_MIN) {
			keep(c, ch, s, e, out, n_out, cap);
		} else if (reserve(c, out, cap, *n_out + w * 8 + 1)) {
			map_run(c, ch, ch->rules + s, at + (s - i), e - s, kind, fam, *out, n_out);
			for (size_t k = s; k < e; k++)
				rule_drop(c, &ch->rules[k], at[k - i]);
			mapped = true;
		}
		s = e;
	}
out:
	keep(c, ch, j, end, out, n_out, cap); /* after a set not ours to read */
	free(v.b);
	free(last);
	free(size);
	return mapped;
}

static void chain_maps(struct cctx *c, size_t ci)
{
	struct model_chain *ch = c->t->chains[ci];
	struct model_rule *out = NULL;
	size_t n_out = 0, cap = 0;
	bool changed = false;

	if (ch->hook != MODEL_HOOK_NONE || strlen(ch->name) > 200)
		return;
	for (size_t i = 0; i < ch->n_rules && !c->err;) {
		enum model_match_kind kind = MODEL_M_SADDR;
		uint8_t fam;
		size_t j = run_end(ch, i, kind, &fam);
		int *at;

		if (j - i < ADDR_MAP_MIN) {
			kind = MODEL_M_DADDR;
			j = run_end(ch, i, kind, &fam);
		}
		if (j - i < ADDR_MAP_MIN) {
			j = j > i ? j : i + 1;
			keep(c, ch, i, j, &out, &n_out, &cap);
			i = j;
			continue;
		}
		at = calloc(j - i, sizeof(*at));
		if (!at) {
			c->err = -ENOMEM;
			break;
		}
		fam = 0;
		for (size_t k = i; k < j; k++)
			at[k - i] = addr_match(&ch->rules[k], kind, &fam);
		changed |= map_runs(c, ch, i, j, at, kind, fam, &out, &n_out, &cap);
		free(at);
		i = j;
	}
	if (c->err || !changed) {
		free(out);
		return;
	}
	free(ch->rules);
	ch->rules = out;
	ch->n_rules = ch->cap = n_out;
}

void addr_maps(struct cctx *c)
{
	size_t n = c->t->n_chains;

	sets_count_refs(c);
	for (size_t i = 0; i < n && !c->err; i++)
		chain_maps(c, i);
}
