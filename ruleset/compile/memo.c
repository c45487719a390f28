/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The compile memo: the daemon recompiles everything after every change,
 * but most policies did not change. A policy's chain depends on the policy
 * and on everything that is not a policy (network sets, profiles,
 * namespaces, Felix settings, this node and its addresses), so when those
 * are the same objects as last time (compared by serial) and the policy
 * is too, its chain is replayed from the memo instead of compiled. Host
 * and workload endpoints count only for the chains that read them (a
 * selector's addresses, a named port): pods coming and going leave the
 * chains of policies written with nets and port numbers alone in the memo.
 *
 * Replay redoes what is not local to the chain: each set is interned
 * again (shared with an equal set, named after its owner), in the same
 * order as a compile would, so the table is the same as without a memo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile-internal.h"

struct memo_set {
	enum model_key key;
	bool interval;
	struct model_elem *e;
	size_t n;
};

struct memo_entry {
	char *chain;
	uint64_t serial;
	enum dir dir;
	enum chain_mode mode;
	struct model_chain *copy; /* detached: not in any table */
	struct memo_set *sets;	  /* one per set match, in order */
	size_t n_sets;
	bool used;
	bool uses_eps; /* read endpoints when compiled */
};

struct compile_memo {
	uint64_t *world; /* serials of every resource but policies and endpoints */
	size_t n_world;
	uint64_t *eps; /* serials of the endpoints */
	size_t n_eps;
	char *opts; /* node and addresses, as text */
	struct memo_entry *v;
	size_t n, cap;
	size_t next; /* where the next lookup likely is */
	unsigned long hits, misses;
};

struct compile_memo *compile_memo_new(void)
{
	return calloc(1, sizeof(struct compile_memo));
}

static void entry_clear(struct memo_entry *e)
{
	free(e->chain);
	if (e->copy)
		model_chain_free(e->copy);
	for (size_t i = 0; i < e->n_sets; i++)
		free(e->sets[i].e);
	free(e->sets);
	*e = (struct memo_entry){ 0 };
}

static void entries_clear(struct compile_memo *m)
{
	for (size_t i = 0; i < m->n; i++)
		entry_clear(&m->v[i]);
	m->n = 0;
}

unsigned long compile_memo_hits(const struct compile_memo *m)
{
	return m ? m->hits : 0;
}

struct compile_memo *compile_memo_free(struct compile_memo *m)
{
	if (!m)
		return NULL;
	entries_clear(m);
	free(m->v);
	free(m->world);
	free(m->eps);
	free(m->opts);
	free(m);
	return NULL;
}

static char *opts_text(const struct compile_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s|", o->node ? o->node : "");
	for (size_t i = 0; i < o->n_ifaces; i++) {
		fprintf(f, "%s:", o->ifaces[i].name);
		for (size_t k = 0; k < o->ifaces[i].n_addrs; k++) {
			const struct cidr *a = &o->ifaces[i].addrs[k];

			fprintf(f, "%u/%u/", a->family, a->len);
			for (size_t b = 0; b < sizeof(a->addr); b++)
				fprintf(f, "%02x", a->addr[b]);
			fputc(',', f);
		}
		fputc(';', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool same_serials(const uint64_t *a, size_t n, const uint64_t *b, size_t nb)
{
	if (!a || n != nb || (n && memcmp(a, b, n * sizeof(*a)) != 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!a[i])
			return false; /* not tracked: may differ */
	return true;
}

/* Forgets everything when anything but the policies and endpoints
 * changed; when endpoints did, what read them. */
void memo_begin(struct cctx *c)
{
	struct compile_memo *m = c->o->memo;
	uint64_t *world, *eps;
	size_t n = 0, ne = 0, w = 0;
	char *opts;

	if (!m)
		return;
	world = calloc(c->n_res + 1, sizeof(*world));
	eps = calloc(c->n_res + 1, sizeof(*eps));
	opts = opts_text(c->o);
	for (size_t i = 0; world && eps && i < c->n_res; i++) {
		enum res_kind k = c->res[i]->kind;

		if (k == RES_HOST_ENDPOINT || k == RES_WORKLOAD_ENDPOINT)
			eps[ne++] = c->res[i]->serial;
		else if (!kind_info(k)->policy)
			world[n++] = c->res[i]->serial;
	}
	if (!opts || !m->opts || strcmp(opts, m->opts) != 0 || !eps ||
	    !same_serials(world, n, m->world, m->n_world)) {
		entries_clear(m);
	} else if (!same_serials(eps, ne, m->eps, m->n_eps)) {
		for (size_t i = 0; i < m->n; i++) {
			if (m->v[i].uses_eps)
				entry_clear(&m->v[i]);
			else
				m->v[w++] = m->v[i];
		}
		m->n = w;
		m->next = 0;
	}
	free(m->world);
	free(m->eps);
	free(m->opts);
	m->world = world;
	m->n_world = n;
	m->eps = eps;
	m->n_eps = ne;
	m->opts = opts;
	for (size_t i = 0; i < m->n; i++)
		m->v[i].used = false;
}

/* Drops the entries of policies that are gone (or all, after a failure). */
void memo_end(struct cctx *c, bool ok)
{
	struct compile_memo *m = c->o->memo;
	size_t w = 0;

	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		if (ok && m->v[i].used)
			m->v[w++] = m->v[i];
		else
			entry_clear(&m->v[i]);
	}
	m->n = w;
	if (!ok) {
		free(m->opts);
		m->opts = NULL; /* start afresh next time */
	}
}

/* Policies come in the same order every time: try where the last hit
 * left off first. */
static struct memo_entry *find(struct compile_memo *m, const char *chain)
{
	for (size_t k = 0; k < m->n; k++) {
		size_t i = (m->next + k) % m->n;

		if (strcmp(m->v[i].chain, chain) == 0) {
			m->next = i + 1;
			return &m->v[i];
		}
	}
	return NULL;
}

/* One remembered rule into ch as rule i, its sets interned anew; *k
 * walks the entry's sets. */
static void replay_rule(struct cctx *c, struct model_chain *ch, const struct memo_entry *e,
			size_t i, size_t *k)
{
	const struct model_rule *src = &e->copy->rules[i];
	struct model_rule *r = rule_add(c, ch, src->comment);

	for (size_t j = 0; r && j < src->n_m; j++) {
		struct model_match mm = src->m[j];
		const struct memo_set *ms;
		struct model_elem *copy;
		char owner[300];

		if (mm.set) {
			ms = &e->sets[(*k)++];
			copy = malloc((ms->n ? ms->n : 1) * sizeof(*copy));
			if (!copy) {
				c->err = -ENOMEM;
				return;
			}
			memcpy(copy, ms->e, ms->n * sizeof(*copy));
			/* the owner a compile would give: chain.rule.match */
			snprintf(owner, sizeof(owner), "%s.%zu.%zu", ch->name, i, j);
			mm.set = (char *)set_intern_normal(c, ms->key, ms->interval, copy, ms->n,
							   owner, true);
			if (!mm.set)
				return;
		}
		rule_match(c, r, &mm);
	}
	rule_copy_actions(c, r, src);
}

bool memo_replay(struct cctx *c, const char *chain, const struct resource *p, enum dir dir,
		 enum chain_mode mode)
{
	struct compile_memo *m = c->o->memo;
	struct memo_entry *e = m && p->serial ? find(m, chain) : NULL;
	struct model_chain *ch;
	size_t k = 0;

	if (!e || e->serial != p->serial || e->dir != dir || e->mode != mode) {
		if (m)
			m->misses++;
		return false;
	}
	ch = chain_add(c, chain, MODEL_HOOK_NONE, 0);
	for (size_t i = 0; ch && i < e->copy->n_rules && c->err == 0; i++)
		replay_rule(c, ch, e, i, &k);
	e->used = true;
	m->hits++;
	return true;
}

static int record_sets(struct cctx *c, struct memo_entry *e)
{
	for (size_t i = 0; i < e->copy->n_rules; i++)
		for (size_t j = 0; j < e->copy->rules[i].n_m; j++) {
			const char *name = e->copy->rules[i].m[j].set;
			const struct model_set *s = name ? set_find(c, name) : NULL;
			struct memo_set *v, *ms;

			if (!name)
				continue;
			/* elements are copied flat: no names inside */
			if (!s || s->map)
				return -ENOENT;
			v = realloc(e->sets, (e->n_sets + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			e->sets = v;
			ms = &v[e->n_sets++];
			*ms = (struct memo_set){ .key = s->key,
						 .interval = s->interval,
						 .n = s->n_elems };
			ms->e = malloc((s->n_elems ? s->n_elems : 1) * sizeof(*ms->e));
			if (!ms->e)
				return -ENOMEM;
			memcpy(ms->e, s->elems, s->n_elems * sizeof(*ms->e));
		}
	return 0;
}

void memo_record(struct cctx *c, const struct model_chain *ch, const struct resource *p,
		 enum dir dir, enum chain_mode mode)
{
	struct compile_memo *m = c->o->memo;
	struct memo_entry *e;

	if (!m || !p->serial || !ch || c->err)
		return;
	e = find(m, ch->name);
	if (e) {
		entry_clear(e);
	} else {
		if (m->n == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 64;
			struct memo_entry *v = realloc(m->v, cap * sizeof(*v));

			if (!v)
				return; /* not remembered: only slower */
			m->v = v;
			m->cap = cap;
		}
		e = &m->v[m->n++];
		*e = (struct memo_entry){ 0 };
	}
	e->chain = strdup(ch->name);
	e->serial = p->serial;
	e->dir = dir;
	e->mode = mode;
	e->used = true;
	e->uses_eps = c->used_eps;
	e->copy = calloc(1, sizeof(*e->copy));
	if (!e->chain || !e->copy)
		goto fail;
	for (size_t i = 0; i < ch->n_rules; i++)
		rule_copy(c, e->copy, &ch->rules[i]);
	if (c->err == 0 && record_sets(c, e) == 0)
		return;
fail:
	/* an entry that cannot be complete must not exist */
	entry_clear(e);
	*e = m->v[--m->n];
}
