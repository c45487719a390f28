/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Incremental sync: read our table back, compare it with the model and
 * send only the difference, in one transaction:
 *
 *   new sets and their elements, new chains, element deletions and
 *   additions in kept sets, changed chains flushed and refilled, rules of
 *   new chains, vanished chains flushed then deleted, vanished sets
 *
 * in that order, so that nothing is referenced before it exists or
 * deleted while referenced. Nothing differs: nothing is sent. A missing
 * table, or a set or base chain whose type changed, is replaced whole.
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

#define MAX_RETRIES   10
#define ELEMS_PER_MSG 400

/* ---- the transaction ---------------------------------------------------- */

static void put_kels(struct tx *tx, const char *table, const struct model_set *s, uint32_t id,
		     const struct kel *v, size_t n, uint16_t type)
{
	uint32_t w = key_len(s->key);
	char what[300];

	for (size_t i = 0; i < n && !tx->err; i += ELEMS_PER_MSG) {
		struct nftnl_set *ns = set_new(table, s, id);
		size_t end = i + ELEMS_PER_MSG < n ? i + ELEMS_PER_MSG : n;
		void *buf;

		snprintf(what, sizeof(what), "%s elements of set %s",
			 type == NFT_MSG_NEWSETELEM ? "adding" : "deleting", s->name);
		buf = next_msg(tx, what);
		if (!ns || !buf) {
			nftnl_set_free(ns);
			tx->err = -ENOMEM;
			return;
		}
		for (size_t k = i; k < end; k++) {
			uint8_t e[16];
			bool open = true;

			if (elem_add(ns, v[k].lo, w, 0, v[k].chain, v[k].jump) < 0)
				tx->err = -ENOMEM;
			if (!s->interval)
				continue;
			memcpy(e, v[k].hi, w);
			for (size_t b = w; b-- > 0;)
				if (++e[b] != 0) {
					open = false;
					break;
				}
			if (!open && elem_add(ns, e, w, NFT_SET_ELEM_INTERVAL_END, NULL, false) < 0)
				tx->err = -ENOMEM;
		}
		nftnl_set_elems_nlmsg_build_payload(
			nftnl_set_elem_nlmsg_build_hdr(
				buf, type, NFPROTO_INET,
				type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, tx->seq),
			ns);
		nftnl_set_free(ns);
		end_msg(tx);
	}
}

/* A DELRULE: the rule with handle, or with handle 0 every rule of the
 * chain (a flush). */
static void put_delrule(struct tx *tx, const char *table, const char *chain, uint64_t handle)
{
	struct nftnl_rule *r;
	char what[300];
	void *buf;

	if (handle)
		snprintf(what, sizeof(what), "deleting a rule of chain %s", chain);
	else
		snprintf(what, sizeof(what), "flushing chain %s", chain);
	buf = next_msg(tx, what);
	r = buf ? nftnl_rule_alloc() : NULL;
	if (!r) {
		tx->err = -ENOMEM;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	if (handle)
		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nftnl_rule_nlmsg_build_payload(
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_DELRULE, NFPROTO_INET, 0, tx->seq), r);
	nftnl_rule_free(r);
	end_msg(tx);
}

static void put_flush(struct tx *tx, const char *table, const char *chain, bool del)
{
	struct nftnl_chain *c;
	char what[300];
	void *buf;

	if (!del) {
		put_delrule(tx, table, chain, 0);
		return;
	}
	snprintf(what, sizeof(what), "deleting chain %s", chain);
	buf = next_msg(tx, what);
	c = buf ? nftnl_chain_alloc() : NULL;
	if (!c) {
		tx->err = -ENOMEM;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_nlmsg_build_payload(
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_DELCHAIN, NFPROTO_INET, 0, tx->seq), c);
	nftnl_chain_free(c);
	end_msg(tx);
}

/* A chain edited in place: the replaced rules deleted by handle, the
 * new ones inserted after the anchor (or at the start) in reverse order,
 * so that each lands before the one inserted just before it. */
static void put_edit(struct tx *tx, const char *table, const struct model_chain *ch,
		     const struct chain_edit *e, const struct nl_set_ids *ids)
{
	for (size_t i = 0; i < e->n_del && !tx->err; i++)
		put_delrule(tx, table, ch->name, e->del[i]);
	for (size_t i = ch->n_rules - e->tail; i-- > e->head && !tx->err;)
		put_rule(tx, table, ch, i, ids, e->anchor, e->anchor != 0, true);
}

static void put_delset(struct tx *tx, const char *table, const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();
	char what[300];
	void *buf;

	snprintf(what, sizeof(what), "deleting set %s", name);
	buf = next_msg(tx, what);
	if (!s || !buf) {
		nftnl_set_free(s);
		tx->err = -ENOMEM;
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_nlmsg_build_payload(
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_DELSET, NFPROTO_INET, 0, tx->seq), s);
	nftnl_set_free(s);
	end_msg(tx);
}

static void build_incremental(struct tx *tx, const struct model_table *t, const struct plan *p,
			      const struct nl_set_ids *ids, uint32_t genid)
{
	put_begin(tx, genid);
	/* Adopts the table if it is ours and orphaned (persistent). */
	put_table(tx, t->name, NFT_MSG_NEWTABLE, nl_table_flags_wanted());
	/* chains first: a map's elements may jump to new ones */
	for (size_t i = 0; i < t->n_chains; i++)
		if (p->chain_new[i])
			put_chain(tx, t->name, t->chains[i]);
	for (size_t i = 0; i < t->n_sets; i++)
		if (p->sets[i].create)
			put_set(tx, t->name, t->sets[i], ids->base + (uint32_t)i);
	for (size_t i = 0; i < t->n_sets; i++) {
		const struct set_plan *sp = &p->sets[i];

		if (sp->create)
			continue;
		put_kels(tx, t->name, t->sets[i], ids->base + (uint32_t)i, sp->del, sp->n_del,
			 NFT_MSG_DELSETELEM);
		put_kels(tx, t->name, t->sets[i], ids->base + (uint32_t)i, sp->add, sp->n_add,
			 NFT_MSG_NEWSETELEM);
	}
	for (size_t i = 0; i < t->n_chains; i++) {
		if (p->chain_changed[i] && p->edits[i]) {
			put_edit(tx, t->name, t->chains[i], p->edits[i], ids);
			continue;
		}
		if (p->chain_changed[i])
			put_flush(tx, t->name, t->chains[i]->name, false);
		/* echoed: the handles of the rules for the next edit */
		if (p->chain_changed[i] || p->chain_new[i])
			put_rules(tx, t->name, t->chains[i], ids, true);
	}
	for (size_t i = 0; i < p->n_chains_flush_only; i++)
		put_flush(tx, t->name, p->chains_flush_only[i], false);
	for (size_t i = 0; i < p->n_chains_gone; i++)
		put_flush(tx, t->name, p->chains_gone[i], false);
	/* sets after the rules using them, chains after the maps jumping
	 * to them */
	for (size_t i = 0; i < p->n_sets_gone; i++)
		put_delset(tx, t->name, p->sets_gone[i]);
	for (size_t i = 0; i < p->n_chains_gone; i++)
		put_flush(tx, t->name, p->chains_gone[i], true);
	put_end(tx);
}

static void print_plan(FILE *f, const struct model_table *t, const struct plan *p)
{
	if (p->full) {
		fprintf(f, "+ table inet %s (%zu chains, %zu sets): replaced whole\n", t->name,
			t->n_chains, t->n_sets);
		return;
	}
	for (size_t i = 0; i < t->n_sets; i++) {
		const struct set_plan *sp = &p->sets[i];

		if (sp->create)
			fprintf(f, "+ set %s (%zu elements)\n", t->sets[i]->name,
				t->sets[i]->n_elems);
		else if (sp->n_add || sp->n_del)
			fprintf(f, "~ set %s: +%zu -%zu elements\n", t->sets[i]->name, sp->n_add,
				sp->n_del);
	}
	for (size_t i = 0; i < t->n_chains; i++)
		if (p->chain_changed[i] && p->edits[i])
			fprintf(f, "~ chain %s: -%zu +%zu rules (of %zu)\n", t->chains[i]->name,
				p->edits[i]->n_del,
				t->chains[i]->n_rules - p->edits[i]->head - p->edits[i]->tail,
				t->chains[i]->n_rules);
		else if (p->chain_new[i] || p->chain_changed[i])
			fprintf(f, "%c chain %s (%zu rules)\n", p->chain_new[i] ? '+' : '~',
				t->chains[i]->name, t->chains[i]->n_rules);
	for (size_t i = 0; i < p->n_chains_gone; i++)
		fprintf(f, "- chain %s\n", p->chains_gone[i]);
	for (size_t i = 0; i < p->n_chains_flush_only; i++)
		fprintf(f, "- chain %s (flushed now, deleted by the next sync)\n",
			p->chains_flush_only[i]);
	for (size_t i = 0; i < p->n_sets_gone; i++)
		fprintf(f, "- set %s\n", p->sets_gone[i]);
	if (!p->changes)
		fprintf(f, "no changes: table inet %s is up to date\n", t->name);
}

/* The plan against prev, the table this socket committed, or else
 * against what the kernel has (read into ks). */
static int plan_against(struct mnl_socket *nl, const struct model_table *t,
			const struct model_table *prev, struct ksnap *ks,
			const struct nl_set_ids *ids, struct plan *p)
{
	int r;

	if (prev)
		return plan_trusted(t, prev, p);
	r = nl_snapshot(nl, t->name, ks);
	/* A dump the kernel interrupted because the ruleset changed under it
	 * (NLM_F_DUMP_INTR) is retried like a stale generation. */
	if (r == -EINTR)
		return -ERESTART;
	return r < 0 ? r : plan_make(t, ks, ids, p);
}

/* Our table, left by a run whose socket is gone: a daemon takes it even
 * when nothing else differs (the NEWTABLE every incremental batch has). */
static bool orphaned(const struct plan *p, const struct ksnap *ks)
{
	return !p->full && ks->exists && !(ks->flags & NFT_TABLE_F_OWNER) &&
	       (nl_table_flags_wanted() & NFT_TABLE_F_OWNER);
}

/* The incremental batch for plan p, sent. */
static int send_incremental(struct mnl_socket *nl, const struct model_table *t,
			    const struct plan *p, const struct nl_set_ids *ids, uint32_t genid,
			    struct nl_commit_result *res)
{
	struct tx tx = { .seq = (uint32_t)time(NULL) };
	struct nl_errors errs = { 0 };
	int r;

	tx.b = nftnl_batch_alloc(256u << 10, NL_MSG_MAX);
	if (!tx.b)
		return -ENOMEM;
	tx.seqs.first = tx.seq;
	build_incremental(&tx, t, p, ids, genid);
	r = tx.err;
	if (r == 0)
		r = send_batch(nl, &tx, &errs, &res->bytes);
	if (r == 0 && errs.n) {
		describe(&tx, &errs, res->error, sizeof(res->error));
		r = errs.err[0];
	} else if (r < 0) {
		snprintf(res->error, sizeof(res->error), "sending the transaction: %s",
			 strerror(-r));
	}
	res->messages = tx.msgs;
	res->genid_after = r == 0 ? genid_next(genid) : 0;
	res->owned = nl_table_flags_wanted() != 0;
	seqmap_clear(&tx.seqs);
	nftnl_batch_free(tx.b);
	return r;
}

static int attempt_sync(struct mnl_socket *nl, const struct model_table *t,
			const struct model_table *prev, FILE *diff, bool adopt,
			struct nl_commit_result *res)
{
	struct nl_set_ids ids = { .t = t, .base = 1 };
	struct ksnap ks = { 0 };
	struct plan p = { 0 };
	uint32_t genid = 0;
	int r;

	r = get_genid(nl, &genid);
	if (r == 0)
		r = plan_against(nl, t, prev, &ks, &ids, &p);
	if (r < 0) {
		if (r != -ERESTART)
			snprintf(res->error, sizeof(res->error), "reading table %s back: %s",
				 t->name, strerror(-r));
		goto out;
	}
	p.changes += adopt && orphaned(&p, &ks);
	res->genid = res->genid_after = genid;
	res->deferred = p.n_chains_flush_only > 0;
	res->changes = p.full ? t->n_chains + t->n_sets : p.changes;
	if (diff) {
		print_plan(diff, t, &p);
	} else if (p.full) {
		plan_clear(&p, t->n_sets);
		ksnap_clear(&ks);
		return nl_commit_replace_on(nl, t, res);
	} else if (p.changes) {
		r = send_incremental(nl, t, &p, &ids, genid, res);
	}
out:
	plan_clear(&p, t->n_sets);
	ksnap_clear(&ks);
	return r;
}

static int sync_retrying(struct mnl_socket *nl, const struct model_table *t,
			 const struct model_table *prev, FILE *diff, bool adopt,
			 struct nl_commit_result *res)
{
	int r;

	*res = (struct nl_commit_result){ 0 };
	for (;;) {
		res->error[0] = '\0';
		r = attempt_sync(nl, t, prev, diff, adopt, res);
		if (r != -ERESTART || res->retries >= MAX_RETRIES)
			break;
		res->retries++;
	}
	if (r == -ERESTART && !res->error[0])
		snprintf(res->error, sizeof(res->error),
			 "the ruleset kept changing under us; gave up after %u attempts",
			 res->retries + 1);
	return r;
}

int nl_sync_on(struct mnl_socket *nl, const struct model_table *t, FILE *diff,
	       struct nl_commit_result *res)
{
	return sync_retrying(nl, t, NULL, diff, false, res);
}

int nl_sync_own(struct mnl_socket *nl, const struct model_table *t, struct nl_commit_result *res)
{
	return sync_retrying(nl, t, NULL, NULL, true, res);
}

int nl_sync_from(struct mnl_socket *nl, const struct model_table *t, const struct model_table *prev,
		 struct nl_commit_result *res)
{
	/* trusting prev needs the table to be ours alone, the same table
	 * (nftablesTableName may change), and no chain deletion deferred by an
	 * old kernel */
	if (!prev || !nl_table_flags_wanted() || old_kernel() || strcmp(prev->name, t->name) != 0)
		prev = NULL;
	return sync_retrying(nl, t, prev, NULL, true, res);
}

int nl_sync(const struct model_table *t, FILE *diff, struct nl_commit_result *res)
{
	struct mnl_socket *nl;
	int r;

	*res = (struct nl_commit_result){ 0 };
	nl = nl_sock_open(res);
	if (!nl)
		return errno ? -errno : -EIO;
	r = nl_sync_on(nl, t, diff, res);
	mnl_socket_close(nl);
	return r;
}
