/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan of an incremental sync: what differs between the model and our
 * table as read back from the kernel (or, when the table is owned and
 * nothing can have touched it, as we last committed it): sets to create,
 * elements to delete and add, chains new, changed or gone.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nl-internal.h"

#include "nl-internal.h"

static bool hook_matches(const struct model_chain *c, const struct kchain *k)
{
	static const uint32_t hooks[] = {
		[MODEL_HOOK_PREROUTING] = NF_INET_PRE_ROUTING,
		[MODEL_HOOK_INPUT] = NF_INET_LOCAL_IN,
		[MODEL_HOOK_FORWARD] = NF_INET_FORWARD,
		[MODEL_HOOK_OUTPUT] = NF_INET_LOCAL_OUT,
	};

	if ((c->hook != MODEL_HOOK_NONE) != k->base)
		return false;
	return !k->base || (hooks[c->hook] == k->hook && c->prio == k->prio);
}

static uint32_t set_flags(const struct model_set *s)
{
	return (s->interval ? NFT_SET_INTERVAL : 0) | (s->map ? NFT_SET_MAP : 0) |
	       (s->key == MODEL_KEY_PROTO_PORT ? NFT_SET_CONCAT : 0);
}

/* The model's elements in the kernel's terms. */
static struct kel *model_kels(const struct model_set *s, size_t *n)
{
	struct kel *v = calloc(s->n_elems ? s->n_elems : 1, sizeof(*v));
	uint32_t w = key_len(s->key);

	if (!v)
		return NULL;
	for (size_t i = 0; s->map && i < s->n_elems; i++) {
		memcpy(v[i].lo, model_map_key(s, i), w);
		memcpy(v[i].hi, v[i].lo, w);
		v[i].chain = model_map_target(s, i);
		v[i].jump = !s->go;
	}
	for (size_t i = 0; !s->map && i < s->n_elems; i++) {
		const struct model_elem *e = &s->elems[i];

		switch (s->key) {
		case MODEL_KEY_PROTO_PORT:
			v[i].lo[0] = e->lo[0];
			v[i].lo[4] = e->lo[1];
			v[i].lo[5] = e->lo[2];
			memcpy(v[i].hi, v[i].lo, w);
			break;
		default:
			memcpy(v[i].lo, e->lo, w);
			memcpy(v[i].hi, s->interval ? e->hi : e->lo, w);
			break;
		}
	}
	*n = s->n_elems;
	return v;
}

static size_t kel_w;

static int cmp_raw(const void *pa, const void *pb)
{
	const struct kraw *a = pa, *b = pb;
	int c = memcmp(a->lo, b->lo, kel_w);

	/* for one key, the end of a range before the start of the next */
	return c ? c
		 : (int)(b->hi[15] & NFT_SET_ELEM_INTERVAL_END) -
			       (int)(a->hi[15] & NFT_SET_ELEM_INTERVAL_END);
}

/* The kernel's elements as ranges: a start, then an end (exclusive)
 * flagged INTERVAL_END; a start with no end runs to the maximum. */
static struct kel *kernel_kels(struct kset *k, size_t *n)
{
	struct kel *v = calloc(k->n ? k->n : 1, sizeof(*v));
	size_t w = k->key_len, cnt = 0;

	if (!v)
		return NULL;
	kel_w = w;
	if (k->n) /* an empty set has no element array at all */
		qsort(k->e, k->n, sizeof(*k->e), cmp_raw);
	for (size_t i = 0; i < k->n; i++) {
		const struct kraw *e = &k->e[i];
		struct kel *x = &v[cnt];

		if (e->hi[15] & NFT_SET_ELEM_INTERVAL_END)
			continue; /* an end without a start: skip */
		memcpy(x->lo, e->lo, w);
		x->chain = e->chain;
		x->jump = e->jump;
		if (!(k->flags & NFT_SET_INTERVAL)) {
			memcpy(x->hi, e->lo, w);
		} else if (i + 1 < k->n && (k->e[i + 1].hi[15] & NFT_SET_ELEM_INTERVAL_END)) {
			memcpy(x->hi, k->e[i + 1].lo, w);
			for (size_t b = w; b-- > 0;)
				if (x->hi[b]-- != 0)
					break;
			i++;
		} else {
			memset(x->hi, 0xff, w);
		}
		cnt++;
	}
	*n = cnt;
	return v;
}

static int cmp_kel(const struct kel *a, const struct kel *b, size_t w)
{
	int c = memcmp(a->lo, b->lo, w);

	if (!c)
		c = memcmp(a->hi, b->hi, w);
	if (!c)
		c = strcmp(a->chain ? a->chain : "", b->chain ? b->chain : "");
	if (!c)
		c = (int)a->jump - (int)b->jump;
	return c;
}

static int qsort_kel(const void *a, const void *b)
{
	return cmp_kel(a, b, kel_w);
}

/* del = kernel - model, add = model - kernel, both sorted. */
static int diff_elems(struct kel *m, size_t nm, struct kel *k, size_t nk, size_t w,
		      struct set_plan *p)
{
	size_t i = 0, j = 0;

	kel_w = w;
	qsort(m, nm, sizeof(*m), qsort_kel);
	qsort(k, nk, sizeof(*k), qsort_kel);
	p->del = calloc(nk + 1, sizeof(*p->del));
	p->add = calloc(nm + 1, sizeof(*p->add));
	if (!p->del || !p->add)
		return -ENOMEM;
	while (i < nm || j < nk) {
		int c = i == nm ? 1 : j == nk ? -1 : cmp_kel(&m[i], &k[j], w);

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			p->add[p->n_add++] = m[i++];
		} else {
			p->del[p->n_del++] = k[j++];
		}
	}
	return 0;
}

static int plan_sets(const struct model_table *t, struct ksnap *ks, struct plan *p)
{
	p->sets = calloc(t->n_sets + 1, sizeof(*p->sets));
	if (!p->sets)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_sets && !p->full; i++) {
		const struct model_set *s = t->sets[i];
		struct kset *k = ksnap_set(ks, s->name);
		struct kel *m, *kk;
		size_t nm, nk;
		int r;

		if (!k) {
			p->sets[i].create = true;
			p->changes++;
			continue;
		}
		if (k->key_len != key_len(s->key) || k->size != s->size ||
		    (k->flags & ~NFT_SET_ANONYMOUS) != set_flags(s)) {
			p->full = true;
			break;
		}
		m = model_kels(s, &nm);
		kk = kernel_kels(k, &nk);
		r = m && kk ? diff_elems(m, nm, kk, nk, k->key_len, &p->sets[i]) : -ENOMEM;
		/* Element data points into the model and the snapshot, both
		 * alive until the plan is done. */
		free(m);
		free(kk);
		if (r < 0)
			return r;
		p->changes += p->sets[i].n_add + p->sets[i].n_del;
	}
	return 0;
}

static char *desired_fp(const struct model_rule *r, const struct nl_set_ids *ids)
{
	struct nftnl_rule *nr = nftnl_rule_alloc();
	char *fp = NULL;

	if (nr && nl_rule_build(nr, r, ids) == 0) {
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(nr);
		struct nftnl_expr *e;

		/* The kernel reports the default log level it applied. */
		while (it && (e = nftnl_expr_iter_next(it)))
			if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "log") == 0 &&
			    !nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL))
				nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL, 4);
		if (it)
			nftnl_expr_iter_destroy(it);
		fp = nl_rule_fingerprint(nr);
	}
	nftnl_rule_free(nr);
	return fp;
}

/* The old side of a changed chain: the rules we committed (trusted) or
 * the kernel's fingerprints and handles. */
struct old_rules {
	const struct model_chain *prev;
	char **fp;
	const uint64_t *handle;
	size_t n;
};

static uint64_t old_handle(const struct old_rules *o, size_t i)
{
	return o->prev ? o->prev->rules[i].handle : o->handle[i];
}

/* Keeps the handles of an unchanged chain's rules in the new model. */
static void carry_all(const struct model_chain *c, const struct old_rules *o)
{
	for (size_t i = 0; i < c->n_rules && i < o->n; i++)
		nl_record_handle(&c->rules[i], old_handle(o, i));
}

/* Rules equal at the start (head) and the end (tail), given new rule j's
 * fingerprint in fp[j] (kernel side) or the model (trusted side). */
static bool same_rule(const struct model_chain *c, char *const *fp, const struct old_rules *o,
		      size_t i, size_t j)
{
	return o->prev ? model_rule_equal(&o->prev->rules[i], &c->rules[j])
		       : strcmp(o->fp[i], fp[j]) == 0;
}

/* An in-place edit of changed chain c, when every handle it needs is
 * known and it sends fewer messages than a flush and re-add; the kept
 * rules' handles carried into c. *ret NULL: flush and re-add. */
static int chain_edit_make(const struct model_chain *c, char *const *fp, const struct old_rules *o,
			   struct chain_edit **ret)
{
	size_t head = 0, tail = 0, n = c->n_rules;
	struct chain_edit *e;

	*ret = NULL;
	while (head < o->n && head < n && same_rule(c, fp, o, head, head))
		head++;
	while (tail < o->n - head && tail < n - head &&
	       same_rule(c, fp, o, o->n - 1 - tail, n - 1 - tail))
		tail++;
	if ((o->n - head - tail) + (n - head - tail) > n + 1)
		return 0;
	for (size_t i = head ? head - 1 : 0; i < o->n - tail; i++)
		if (!old_handle(o, i))
			return 0;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->del = calloc(o->n - head - tail + 1, sizeof(*e->del)))) {
		free(e);
		return -ENOMEM;
	}
	e->head = head;
	e->tail = tail;
	e->anchor = head ? old_handle(o, head - 1) : 0;
	for (size_t i = head; i < o->n - tail; i++)
		e->del[e->n_del++] = old_handle(o, i);
	for (size_t i = 0; i < head; i++)
		nl_record_handle(&c->rules[i], old_handle(o, i));
	for (size_t k = 0; k < tail; k++)
		nl_record_handle(&c->rules[n - 1 - k], old_handle(o, o->n - 1 - k));
	*ret = e;
	return 0;
}

static void fps_free(char **fp, size_t n)
{
	for (size_t i = 0; fp && i < n; i++)
		free(fp[i]);
	free(fp);
}

/* 1 (and an edit in *edit, or NULL) when c differs from the kernel's
 * chain k, 0 when not (its handles carried), or -ENOMEM. */
static int chain_differs(const struct model_chain *c, const struct kchain *k,
			 const struct nl_set_ids *ids, struct chain_edit **edit)
{
	struct old_rules o = { .fp = k->fp, .handle = k->handle, .n = k->n_fp };
	char **fp = calloc(c->n_rules + 1, sizeof(*fp));
	bool differs = c->n_rules != k->n_fp;
	int r = 0;

	*edit = NULL;
	if (!fp)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_rules && r == 0; i++) {
		fp[i] = desired_fp(&c->rules[i], ids);
		if (!fp[i])
			r = -ENOMEM;
		else if (!differs && strcmp(fp[i], k->fp[i]) != 0)
			differs = true;
	}
	if (r == 0 && !differs)
		carry_all(c, &o);
	else if (r == 0)
		r = chain_edit_make(c, fp, &o, edit);
	fps_free(fp, c->n_rules);
	return r < 0 ? r : differs;
}

static int plan_chains(const struct model_table *t, struct ksnap *ks, const struct nl_set_ids *ids,
		       struct plan *p)
{
	p->chain_new = calloc(t->n_chains + 1, sizeof(bool));
	p->chain_changed = calloc(t->n_chains + 1, sizeof(bool));
	p->edits = calloc(t->n_chains + 1, sizeof(*p->edits));
	p->n_edits = t->n_chains;
	if (!p->chain_new || !p->chain_changed || !p->edits)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_chains && !p->full; i++) {
		const struct model_chain *c = t->chains[i];
		struct kchain *k = ksnap_chain(ks, c->name);
		int d;

		if (!k) {
			p->chain_new[i] = true;
			p->changes++;
			continue;
		}
		if (!hook_matches(c, k)) {
			p->full = true;
			break;
		}
		d = chain_differs(c, k, ids, &p->edits[i]);
		if (d < 0)
			return d;
		p->chain_changed[i] = d;
		p->changes += (size_t)d;
	}
	return 0;
}

/* Linux before 6.2 (or nl_options.old_kernel, for the tests). */
bool old_kernel(void)
{
	return nl_opts()->old_kernel || !nl_kernel_at_least(6, 2);
}

static bool map_target(struct ksnap *ks, const char *chain)
{
	for (size_t i = 0; i < ks->n_sets; i++)
		for (size_t k = 0; k < ks->sets[i].n; k++)
			if (ks->sets[i].e[k].chain && strcmp(ks->sets[i].e[k].chain, chain) == 0)
				return true;
	return false;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The model's chain names, sorted: whether the kernel's are among them,
 * by binary search. */
static const char **model_chain_names(const struct model_table *t)
{
	const char **v = malloc((t->n_chains ? t->n_chains : 1) * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < t->n_chains; i++)
		v[i] = t->chains[i]->name;
	qsort(v, t->n_chains, sizeof(*v), cmp_name);
	return v;
}

static int plan_gone(const struct model_table *t, struct ksnap *ks, struct plan *p)
{
	const char **names;

	p->chains_gone = calloc(ks->n_chains + 1, sizeof(char *));
	p->chains_flush_only = calloc(ks->n_chains + 1, sizeof(char *));
	if (!p->chains_flush_only)
		return -ENOMEM;
	p->sets_gone = calloc(ks->n_sets + 1, sizeof(char *));
	if (!p->chains_gone || !p->sets_gone)
		return -ENOMEM;
	names = model_chain_names(t);
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < ks->n_chains; i++) {
		const char *name = ks->chains[i].name;

		if (bsearch(&name, names, t->n_chains, sizeof(*names), cmp_name))
			continue;
		/* Before Linux 6.2, deleting a chain in the transaction that
		 * removes the map element pointing at it can fail: flush it
		 * now (its element goes), delete it next time. */
		if (old_kernel() && map_target(ks, name)) {
			p->chains_flush_only[p->n_chains_flush_only++] = name;
			continue;
		}
		p->chains_gone[p->n_chains_gone++] = name;
	}
	free(names);
	for (size_t i = 0; i < ks->n_sets; i++)
		if (!model_table_find_set(t, ks->sets[i].name))
			p->sets_gone[p->n_sets_gone++] = ks->sets[i].name;
	for (size_t i = 0; i < p->n_chains_flush_only; i++) {
		const struct kchain *k = ksnap_chain(ks, p->chains_flush_only[i]);

		p->changes += k && k->n_fp ? 1 : 0; /* already empty: nothing to do */
	}
	p->changes += p->n_chains_gone + p->n_sets_gone;
	return 0;
}

void plan_clear(struct plan *p, size_t n_sets)
{
	for (size_t i = 0; p->sets && i < n_sets; i++) {
		free(p->sets[i].del);
		free(p->sets[i].add);
	}
	free(p->sets);
	for (size_t i = 0; p->edits && i < p->n_edits; i++) {
		if (p->edits[i])
			free(p->edits[i]->del);
		free(p->edits[i]);
	}
	free(p->edits);
	free(p->chain_new);
	free(p->chain_changed);
	free(p->chains_gone);
	free(p->chains_flush_only);
	free(p->sets_gone);
	*p = (struct plan){ 0 };
}

int plan_make(const struct model_table *t, struct ksnap *ks, const struct nl_set_ids *ids,
	      struct plan *p)
{
	int r;

	/* Ownership is taken by creating the table, or by adopting it when
	 * it is persistent and its owner is gone (the kernel then clears
	 * OWNER and keeps PERSIST). */
	*p = (struct plan){ .full = !ks->exists ||
				    (ks->flags & NFT_TABLE_F_PERSIST) !=
					    (nl_table_flags_wanted() & NFT_TABLE_F_PERSIST) };
	if (p->full)
		return 0;
	r = plan_sets(t, ks, p);
	if (r == 0 && !p->full)
		r = plan_chains(t, ks, ids, p);
	if (r == 0 && !p->full)
		r = plan_gone(t, ks, p);
	return r;
}

/*
 * The plan against what this socket committed last (prev) instead of a
 * read-back: valid while the table is owned by the socket, since then no
 * one else can have changed it. Sets with the same elements and chains
 * with the same rules are left alone without looking at their contents
 * twice; only sets that changed are diffed element by element.
 */
/* Both tables come from the same compiler: objects usually sit at the
 * same index, so look there first. */
static const struct model_set *prev_set(const struct model_table *prev, size_t i, const char *name)
{
	if (i < prev->n_sets && strcmp(prev->sets[i]->name, name) == 0)
		return prev->sets[i];
	return model_table_find_set(prev, name);
}

static const struct model_chain *prev_chain(const struct model_table *prev, size_t i,
					    const char *name)
{
	if (i < prev->n_chains && strcmp(prev->chains[i]->name, name) == 0)
		return prev->chains[i];
	return model_table_find_chain(prev, name);
}

static int plan_trusted_sets(const struct model_table *t, const struct model_table *prev,
			     struct plan *p)
{
	p->sets = calloc(t->n_sets + 1, sizeof(*p->sets));
	if (!p->sets)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_sets && !p->full; i++) {
		const struct model_set *s = t->sets[i], *ps = prev_set(prev, i, s->name);
		struct kel *m, *k;
		size_t nm, nk;
		int r;

		if (!ps) {
			p->sets[i].create = true;
			p->changes++;
			continue;
		}
		if (ps->key != s->key || ps->interval != s->interval) {
			p->full = true;
			break;
		}
		if (model_set_elems_equal(s, ps))
			continue;
		m = model_kels(s, &nm);
		k = model_kels(ps, &nk);
		r = m && k ? diff_elems(m, nm, k, nk, key_len(s->key), &p->sets[i]) : -ENOMEM;
		free(m);
		free(k);
		if (r < 0)
			return r;
		p->changes += p->sets[i].n_add + p->sets[i].n_del;
	}
	return 0;
}

int plan_trusted(const struct model_table *t, const struct model_table *prev, struct plan *p)
{
	int r;

	*p = (struct plan){ 0 };
	r = plan_trusted_sets(t, prev, p);
	if (r < 0 || p->full)
		return r;
	p->chain_new = calloc(t->n_chains + 1, sizeof(bool));
	p->chain_changed = calloc(t->n_chains + 1, sizeof(bool));
	p->edits = calloc(t->n_chains + 1, sizeof(*p->edits));
	p->n_edits = t->n_chains;
	p->chains_gone = calloc(prev->n_chains + 1, sizeof(char *));
	p->chains_flush_only = calloc(1, sizeof(char *));
	p->sets_gone = calloc(prev->n_sets + 1, sizeof(char *));
	if (!p->chain_new || !p->chain_changed || !p->edits || !p->chains_gone ||
	    !p->chains_flush_only || !p->sets_gone)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_chains; i++) {
		const struct model_chain *c = t->chains[i];
		const struct model_chain *pc = prev_chain(prev, i, c->name);

		if (!pc) {
			p->chain_new[i] = true;
		} else if (pc->hook != c->hook || pc->prio != c->prio) {
			p->full = true;
			return 0;
		} else {
			struct old_rules o = { .prev = pc, .n = pc->n_rules };

			p->chain_changed[i] = !model_chain_rules_equal(c, pc);
			if (!p->chain_changed[i])
				carry_all(c, &o);
			else if (chain_edit_make(c, NULL, &o, &p->edits[i]) < 0)
				return -ENOMEM;
		}
		p->changes += p->chain_new[i] || p->chain_changed[i];
	}
	for (size_t i = 0; i < prev->n_chains; i++)
		if (!prev_chain(t, i, prev->chains[i]->name))
			p->chains_gone[p->n_chains_gone++] = prev->chains[i]->name;
	for (size_t i = 0; i < prev->n_sets; i++)
		if (!prev_set(t, i, prev->sets[i]->name))
			p->sets_gone[p->n_sets_gone++] = prev->sets[i]->name;
	p->changes += p->n_chains_gone + p->n_sets_gone;
	return 0;
}
