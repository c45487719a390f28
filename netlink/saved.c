/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Our table kept whole, to be put back: what a commit awaiting
 * confirmation rolls back to. Unlike the read-back of sync, which keeps
 * fingerprints to compare, this keeps the kernel's own objects (chains,
 * sets with every element, rules with their counters) as libnftnl parsed
 * them, and re-sends them, kernel handles dropped, in one transaction
 * that first deletes whatever the table has become.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nl-internal.h"

#define ELEMS_PER_MSG 256
#define MAX_RETRIES   5

struct objs {
	void **v;
	size_t n;
};

struct nl_saved {
	char *table;
	bool exists;
	struct objs chains, sets, rules;
};

static int objs_push(struct objs *o, void *x)
{
	void **v = realloc(o->v, (o->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	o->v = v;
	v[o->n++] = x;
	return 0;
}

static void clear_objs(struct nl_saved *s)
{
	for (size_t i = 0; i < s->chains.n; i++)
		nftnl_chain_free(s->chains.v[i]);
	for (size_t i = 0; i < s->sets.n; i++)
		nftnl_set_free(s->sets.v[i]);
	for (size_t i = 0; i < s->rules.n; i++)
		nftnl_rule_free(s->rules.v[i]);
	free(s->chains.v);
	free(s->sets.v);
	free(s->rules.v);
	s->chains = s->sets = s->rules = (struct objs){ 0 };
}

void nl_saved_free(struct nl_saved *s)
{
	if (!s)
		return;
	clear_objs(s);
	free(s->table);
	free(s);
}

bool nl_saved_exists(const struct nl_saved *s)
{
	return s->exists;
}

size_t nl_saved_rules(const struct nl_saved *s)
{
	return s->rules.n;
}

static int on_chain(const struct nlmsghdr *nlh, void *data)
{
	struct nl_saved *s = data;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return -ENOMEM;
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0 ||
	    strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), s->table) != 0) {
		nftnl_chain_free(c);
		return 0;
	}
	/* The kernel gives these; a new chain must not carry them. */
	nftnl_chain_unset(c, NFTNL_CHAIN_HANDLE);
	nftnl_chain_unset(c, NFTNL_CHAIN_USE);
	if (objs_push(&s->chains, c) < 0) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	return 0;
}

static int on_set(const struct nlmsghdr *nlh, void *data)
{
	struct nl_saved *s = data;
	struct nftnl_set *x = nftnl_set_alloc();

	if (!x)
		return -ENOMEM;
	if (nftnl_set_nlmsg_parse(nlh, x) < 0 ||
	    strcmp(nftnl_set_get_str(x, NFTNL_SET_TABLE), s->table) != 0) {
		nftnl_set_free(x);
		return 0;
	}
	nftnl_set_unset(x, NFTNL_SET_HANDLE);
	if (objs_push(&s->sets, x) < 0) {
		nftnl_set_free(x);
		return -ENOMEM;
	}
	return 0;
}

/* Elements are parsed into the set they belong to. */
static int on_elems(const struct nlmsghdr *nlh, void *data)
{
	return nftnl_set_elems_nlmsg_parse(nlh, data) < 0 ? -EINVAL : 0;
}

static int on_rule(const struct nlmsghdr *nlh, void *data)
{
	struct nl_saved *s = data;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), s->table) != 0) {
		nftnl_rule_free(r);
		return 0;
	}
	nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
	nftnl_rule_unset(r, NFTNL_RULE_POSITION);
	if (objs_push(&s->rules, r) < 0) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	return 0;
}

static int dump(struct mnl_socket *nl, struct nl_saved *s, uint16_t type, parse_fn fn)
{
	char buf[4096];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET,
						     NLM_F_DUMP | NLM_F_ACK, nl_next_seq());

	/* Sets and rules can be asked for by table; chains are filtered. */
	if (type == NFT_MSG_GETSET || type == NFT_MSG_GETRULE)
		mnl_attr_put_strz(nlh, type == NFT_MSG_GETSET ? NFTA_SET_TABLE : NFTA_RULE_TABLE,
				  s->table);
	return nl_talk(nl, nlh, fn, s);
}

static int dump_elems(struct mnl_socket *nl, struct nftnl_set *x)
{
	char buf[4096];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
						     NLM_F_DUMP | NLM_F_ACK, nl_next_seq());

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, nftnl_set_get_str(x, NFTNL_SET_TABLE));
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nftnl_set_get_str(x, NFTNL_SET_NAME));
	return nl_talk(nl, nlh, on_elems, x);
}

static int save_on(struct mnl_socket *nl, struct nl_saved *s)
{
	uint32_t flags;
	int r = nl_table_info(nl, s->table, &s->exists, &flags);

	if (r < 0 || !s->exists)
		return r;
	r = dump(nl, s, NFT_MSG_GETCHAIN, on_chain);
	if (r == 0)
		r = dump(nl, s, NFT_MSG_GETSET, on_set);
	for (size_t i = 0; r == 0 && i < s->sets.n; i++)
		r = dump_elems(nl, s->sets.v[i]);
	if (r == 0)
		r = dump(nl, s, NFT_MSG_GETRULE, on_rule);
	return r;
}

int nl_save(const char *table, struct nl_saved **ret)
{
	struct nl_commit_result res = { 0 };
	struct nl_saved *s = calloc(1, sizeof(*s));
	struct mnl_socket *nl;
	int r = -ENOMEM;

	if (!s || !(s->table = strdup(table)))
		goto fail;
	nl = nl_sock_open(&res);
	if (!nl) {
		r = errno ? -errno : -EIO;
		goto fail;
	}
	/* A dump interrupted by a concurrent change is read again. */
	for (unsigned i = 0;; i++) {
		uint32_t before = 0, after = 0;

		r = get_genid(nl, &before);
		if (r == 0)
			r = save_on(nl, s);
		if (r == 0)
			r = get_genid(nl, &after);
		if ((r == 0 && before == after) || (r < 0 && r != -EINTR) || i == MAX_RETRIES)
			break;
		clear_objs(s);
	}
	nl_sock_close(nl);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	nl_saved_free(s);
	return r;
}

/* ---- putting it back ----------------------------------------------------- */

static void put_obj(struct tx *tx, uint16_t type, uint16_t flags, const char *what,
		    void (*build)(struct nlmsghdr *nlh, void *obj), void *obj)
{
	void *buf = next_msg(tx, what);

	if (!buf)
		return;
	build(nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, tx->seq), obj);
	end_msg(tx);
}

static void build_chain(struct nlmsghdr *nlh, void *c)
{
	nftnl_chain_nlmsg_build_payload(nlh, c);
}

static void build_set(struct nlmsghdr *nlh, void *x)
{
	nftnl_set_nlmsg_build_payload(nlh, x);
}

static void build_rule(struct nlmsghdr *nlh, void *r)
{
	nftnl_rule_nlmsg_build_payload(nlh, r);
}

struct elems {
	struct tx *tx;
	struct nftnl_set *set;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int n;
};

static void elems_close(struct elems *e)
{
	if (!e->nlh)
		return;
	mnl_attr_nest_end(e->nlh, e->nest);
	end_msg(e->tx);
	e->nlh = NULL;
}

static int put_elem(struct nftnl_set_elem *el, void *data)
{
	struct elems *e = data;
	void *buf;

	if (e->nlh && e->n == ELEMS_PER_MSG)
		elems_close(e);
	if (!e->nlh) {
		buf = next_msg(e->tx, nftnl_set_get_str(e->set, NFTNL_SET_NAME));
		if (!buf)
			return -1;
		e->nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_INET, NLM_F_CREATE,
					       e->tx->seq);
		mnl_attr_put_strz(e->nlh, NFTA_SET_ELEM_LIST_TABLE,
				  nftnl_set_get_str(e->set, NFTNL_SET_TABLE));
		mnl_attr_put_strz(e->nlh, NFTA_SET_ELEM_LIST_SET,
				  nftnl_set_get_str(e->set, NFTNL_SET_NAME));
		e->nest = mnl_attr_nest_start(e->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		e->n = 0;
	}
	nftnl_set_elem_nlmsg_build(e->nlh, el, ++e->n);
	return 0;
}

static void build(struct tx *tx, const void *what_, uint32_t genid, bool exists, uint32_t flags)
{
	const struct nl_saved *s = what_;
	char what[300];

	/* nothing then and nothing now: an empty transaction */
	put_begin(tx, genid);
	if (exists) {
		put_table(tx, s->table, NFT_MSG_NEWTABLE, flags);
		put_table(tx, s->table, NFT_MSG_DELTABLE, 0);
	}
	if (s->exists) {
		tx->creating = true;
		put_table(tx, s->table, NFT_MSG_NEWTABLE, nl_table_flags_wanted());
		tx->creating = false;
		for (size_t i = 0; i < s->chains.n && !tx->err; i++) {
			snprintf(what, sizeof(what), "chain %s",
				 nftnl_chain_get_str(s->chains.v[i], NFTNL_CHAIN_NAME));
			put_obj(tx, NFT_MSG_NEWCHAIN, NLM_F_CREATE, what, build_chain,
				s->chains.v[i]);
		}
		for (size_t i = 0; i < s->sets.n && !tx->err; i++) {
			struct elems e = { .tx = tx, .set = s->sets.v[i] };

			snprintf(what, sizeof(what), "set %s",
				 nftnl_set_get_str(e.set, NFTNL_SET_NAME));
			nftnl_set_set_u32(e.set, NFTNL_SET_ID, (uint32_t)i + 1);
			put_obj(tx, NFT_MSG_NEWSET, NLM_F_CREATE, what, build_set, e.set);
			if (nftnl_set_elem_foreach(e.set, put_elem, &e) < 0)
				tx->err = -ENOMEM;
			elems_close(&e);
		}
		for (size_t i = 0; i < s->rules.n && !tx->err; i++) {
			snprintf(what, sizeof(what), "rule %zu of chain %s", i,
				 nftnl_rule_get_str(s->rules.v[i], NFTNL_RULE_CHAIN));
			put_obj(tx, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, what, build_rule,
				s->rules.v[i]);
		}
	}
	put_end(tx);
}

int nl_restore(const struct nl_saved *s, struct nl_commit_result *res)
{
	struct mnl_socket *nl;
	int r;

	*res = (struct nl_commit_result){ 0 };
	nl = nl_sock_open(res);
	if (!nl)
		return errno ? -errno : -EIO;
	r = nl_transact(nl, s->table, build, s, res);
	nl_sock_close(nl);
	return r;
}
