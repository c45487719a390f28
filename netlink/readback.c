/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading our table back from the kernel: chains with a fingerprint of
 * each rule (its expressions as libnftnl prints them, counters left out,
 * and its comment), sets with their elements as ranges. Enough to diff
 * against the model without turning bytecode back into matches.
 */
#include <errno.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nl-internal.h"

static int cb_adapter(const struct nlmsghdr *nlh, void *data)
{
	void **ctx = data;

	return ((parse_fn)ctx[0])(nlh, ctx[1]) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Sends one request and runs fn on every reply until the dump is done. */
int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, parse_fn fn, void *data)
{
	const size_t size = 1u << 17;
	char *buf = malloc(size);
	uint32_t portid = mnl_socket_get_portid(nl), seq = nlh->nlmsg_seq;
	void *ctx[2] = { (void *)fn, data };
	int n, r = 0;

	if (!buf)
		return -ENOMEM;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		free(buf);
		return -errno;
	}
	while ((n = (int)mnl_socket_recvfrom(nl, buf, size)) > 0) {
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb_adapter, ctx);
		if (r < 0)
			r = -errno;
		if (r <= 0)
			break;
	}
	if (n < 0)
		r = -errno;
	free(buf);
	return r < 0 ? r : 0;
}

uint32_t nl_next_seq(void)
{
	static uint32_t seq;

	if (!seq)
		seq = (uint32_t)time(NULL) * 16;
	return ++seq;
}

char *nl_rule_fingerprint(struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	char *buf = NULL, tmp[1024];
	const uint8_t *ud;
	uint32_t udlen = 0;
	size_t len = 0;
	FILE *f;

	if (!it)
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f) {
		nftnl_expr_iter_destroy(it);
		return NULL;
	}
	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (name && strcmp(name, "counter") == 0)
			continue;
		nftnl_expr_snprintf(tmp, sizeof(tmp), e, NFTNL_OUTPUT_DEFAULT, 0);
		fprintf(f, "[%s %s]", name ? name : "?", tmp);
	}
	nftnl_expr_iter_destroy(it);
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &udlen);
	fputc('|', f);
	for (uint32_t i = 0; ud && i < udlen; i++)
		fprintf(f, "%02x", ud[i]);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- the snapshot -------------------------------------------------------- */

static int cmp_kchain(const void *a, const void *b)
{
	return strcmp(((const struct kchain *)a)->name, ((const struct kchain *)b)->name);
}

/* A new chain at the end (a dump's names are unique: no search). */
static struct kchain *kchain_append(struct ksnap *s, const char *name)
{
	struct kchain *v;

	if (s->n_chains == s->cap_chains) {
		size_t cap = s->cap_chains ? 2 * s->cap_chains : 64;

		v = realloc(s->chains, cap * sizeof(*v));
		if (!v)
			return NULL;
		s->chains = v;
		s->cap_chains = cap;
	}
	v = &s->chains[s->n_chains];
	*v = (struct kchain){ .name = strdup(name) };
	if (!v->name)
		return NULL;
	s->n_chains++;
	s->sorted = false;
	return v;
}

/* By name: a binary search once the chains are sorted (10,000 chains and
 * their rules would otherwise cost 10,000 x 10,000 compares). */
static struct kchain *kchain_get(struct ksnap *s, const char *name, bool create)
{
	if (s->sorted) {
		struct kchain key = { .name = (char *)name };
		struct kchain *v = bsearch(&key, s->chains, s->n_chains, sizeof(*v), cmp_kchain);

		if (v)
			return v;
	} else {
		for (size_t i = 0; i < s->n_chains; i++)
			if (strcmp(s->chains[i].name, name) == 0)
				return &s->chains[i];
	}
	return create ? kchain_append(s, name) : NULL;
}

struct kset *ksnap_set(struct ksnap *s, const char *name)
{
	for (size_t i = 0; i < s->n_sets; i++)
		if (strcmp(s->sets[i].name, name) == 0)
			return &s->sets[i];
	return NULL;
}

struct kchain *ksnap_chain(struct ksnap *s, const char *name)
{
	return kchain_get(s, name, false);
}

void ksnap_clear(struct ksnap *s)
{
	for (size_t i = 0; i < s->n_chains; i++) {
		for (size_t k = 0; k < s->chains[i].n_fp; k++)
			free(s->chains[i].fp[k]);
		free(s->chains[i].fp);
		free(s->chains[i].handle);
		free(s->chains[i].name);
	}
	free(s->chains);
	for (size_t i = 0; i < s->n_sets; i++) {
		for (size_t k = 0; k < s->sets[i].n; k++)
			free(s->sets[i].e[k].chain);
		free(s->sets[i].e);
		free(s->sets[i].name);
	}
	free(s->sets);
	*s = (struct ksnap){ 0 };
}

static int on_table(const struct nlmsghdr *nlh, void *data)
{
	struct ksnap *s = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return -ENOMEM;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
		uint32_t len = 0;
		const uint8_t *ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);

		s->exists = true;
		s->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
		s->handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
		/* our one TLV: type, length 16, the bytes */
		if (ud && len == 18 && ud[0] == UDATA_TABLE_INCARNATION && ud[1] == 16)
			memcpy(s->incarnation, ud + 2, 16);
	}
	nftnl_table_free(t);
	return 0;
}

struct ctx {
	struct ksnap *s;
	const char *table;
	struct kset *set;
	int err;
};

static int on_chain(const struct nlmsghdr *nlh, void *data)
{
	struct ctx *c = data;
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct kchain *k;

	if (!ch)
		return -ENOMEM;
	if (nftnl_chain_nlmsg_parse(nlh, ch) == 0 &&
	    strcmp(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), c->table) == 0) {
		k = kchain_append(c->s, nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME));
		if (!k) {
			nftnl_chain_free(ch);
			return -ENOMEM;
		}
		k->base = nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM);
		if (k->base) {
			k->hook = nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM);
			k->prio = nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO);
		}
	}
	nftnl_chain_free(ch);
	return 0;
}

static int on_rule(const struct nlmsghdr *nlh, void *data)
{
	struct ctx *c = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct kchain *k;
	uint64_t *h, handle;
	char *fp, **v;

	if (!r)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), c->table) != 0) {
		nftnl_rule_free(r);
		return 0;
	}
	k = kchain_get(c->s, nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), true);
	fp = nl_rule_fingerprint(r);
	handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	nftnl_rule_free(r);
	v = k && fp ? realloc(k->fp, (k->n_fp + 1) * sizeof(*v)) : NULL;
	if (v)
		k->fp = v;
	h = v ? realloc(k->handle, (k->n_fp + 1) * sizeof(*h)) : NULL;
	if (!h) {
		free(fp);
		return -ENOMEM;
	}
	k->handle = h;
	h[k->n_fp] = handle;
	v[k->n_fp++] = fp;
	return 0;
}

static int on_set(const struct nlmsghdr *nlh, void *data)
{
	struct ctx *c = data;
	struct nftnl_set *ns = nftnl_set_alloc();
	struct kset *v;

	if (!ns)
		return -ENOMEM;
	if (nftnl_set_nlmsg_parse(nlh, ns) == 0 &&
	    strcmp(nftnl_set_get_str(ns, NFTNL_SET_TABLE), c->table) == 0 &&
	    !(nftnl_set_get_u32(ns, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)) {
		v = realloc(c->s->sets, (c->s->n_sets + 1) * sizeof(*v));
		if (!v) {
			nftnl_set_free(ns);
			return -ENOMEM;
		}
		c->s->sets = v;
		v = &v[c->s->n_sets++];
		*v = (struct kset){ .name = strdup(nftnl_set_get_str(ns, NFTNL_SET_NAME)),
				    .flags = nftnl_set_get_u32(ns, NFTNL_SET_FLAGS),
				    .key_len = nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN),
				    .key_type = nftnl_set_get_u32(ns, NFTNL_SET_KEY_TYPE),
				    .size = nftnl_set_is_set(ns, NFTNL_SET_DESC_SIZE)
						    ? nftnl_set_get_u32(ns, NFTNL_SET_DESC_SIZE)
						    : 0 };
	}
	nftnl_set_free(ns);
	return 0;
}

static int elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct ctx *c = data;
	struct kset *s = c->set;
	struct kraw *v, *x;
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		v = realloc(s->e, cap * sizeof(*v));
		if (!v)
			return -1;
		s->e = v;
		s->cap = cap;
	}
	x = &s->e[s->n++];
	*x = (struct kraw){ 0 };
	if (key && len <= sizeof(x->lo))
		memcpy(x->lo, key, len);
	/* hi[15] carries the element flags until ranges are rebuilt */
	x->hi[15] = (uint8_t)(nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS)
				      ? nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS)
				      : 0);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
		x->chain = strdup(nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
	x->jump = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT) &&
		  (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT) == NFT_JUMP;
	return 0;
}

static int on_elems(const struct nlmsghdr *nlh, void *data)
{
	struct ctx *c = data;
	struct nftnl_set *ns = nftnl_set_alloc();
	int r = 0;

	if (!ns)
		return -ENOMEM;
	if (nftnl_set_elems_nlmsg_parse(nlh, ns) == 0 && nftnl_set_elem_foreach(ns, elem_cb, c) < 0)
		r = -ENOMEM;
	nftnl_set_free(ns);
	return r;
}

static int dump_elems(struct mnl_socket *nl, struct ctx *c, struct kset *k)
{
	char buf[4096];
	struct nftnl_set *ns = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	int r;

	if (!ns)
		return -ENOMEM;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, c->table);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, k->name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP | NLM_F_ACK,
				    nl_next_seq());
	nftnl_set_elems_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	c->set = k;
	r = nl_talk(nl, nlh, on_elems, c);
	return r;
}

/* Our table alone (no chains, sets or rules) into s; a missing one is
 * not an error (s->exists false). */
static int get_table(struct mnl_socket *nl, const char *name, struct ksnap *s)
{
	char buf[4096];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int r;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, nl_next_seq());
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	r = nl_talk(nl, nlh, on_table, s);
	return r == -ENOENT ? 0 : r;
}

int nl_table_info(struct mnl_socket *nl, const char *name, bool *ret_exists, uint32_t *ret_flags)
{
	struct ksnap s = { 0 };
	int r = get_table(nl, name, &s);

	*ret_exists = s.exists;
	*ret_flags = s.flags;
	return r;
}

int nl_table_identity(const char *table, struct nl_table_id *ret)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	struct ksnap s = { 0 };
	int r;

	*ret = (struct nl_table_id){ 0 };
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		r = -errno;
	else if ((r = get_genid(nl, &ret->genid)) == 0)
		r = get_table(nl, table, &s);
	ret->exists = s.exists;
	ret->handle = s.handle;
	memcpy(ret->incarnation, s.incarnation, sizeof(ret->incarnation));
	if (nl)
		mnl_socket_close(nl);
	return r;
}

int nl_snapshot(struct mnl_socket *nl, const char *table, struct ksnap *ret)
{
	struct ksnap s = { 0 };
	struct ctx c = { .s = &s, .table = table };
	char buf[4096];
	struct nlmsghdr *nlh;
	int r = get_table(nl, table, &s);

	if (r == 0 && !s.exists) {
		*ret = s;
		return 0;
	}
	if (r == 0) {
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET,
					    NLM_F_DUMP | NLM_F_ACK, nl_next_seq());
		r = nl_talk(nl, nlh, on_chain, &c);
	}
	if (r == 0 && s.n_chains) {
		qsort(s.chains, s.n_chains, sizeof(*s.chains), cmp_kchain);
		s.sorted = true;
	}
	if (r == 0) {
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET,
					    NLM_F_DUMP | NLM_F_ACK, nl_next_seq());
		r = nl_talk(nl, nlh, on_set, &c);
	}
	for (size_t i = 0; r == 0 && i < s.n_sets; i++)
		r = dump_elems(nl, &c, &s.sets[i]);
	if (r == 0) {
		struct nftnl_rule *rule = nftnl_rule_alloc();

		if (!rule) {
			r = -ENOMEM;
		} else {
			nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, table);
			nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
						    NLM_F_DUMP | NLM_F_ACK, nl_next_seq());
			nftnl_rule_nlmsg_build_payload(nlh, rule);
			nftnl_rule_free(rule);
			r = nl_talk(nl, nlh, on_rule, &c);
		}
	}
	if (r < 0) {
		ksnap_clear(&s);
		return r;
	}
	*ret = s;
	return 0;
}
