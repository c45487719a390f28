/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One transaction that replaces our table with the model: BATCH_BEGIN
 * (carrying the generation id it was built against), NEWTABLE + DELTABLE
 * (so the delete cannot fail), NEWTABLE, sets, elements, chains, rules,
 * BATCH_END, sent in one sendmsg(). Each message's sequence number is
 * remembered with what it carries, so a kernel error names the policy
 * and rule that caused it. Success means no error for any sequence
 * number, BATCH_BEGIN included.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>

#include "nl-internal.h"

#define PAGE_SIZE_BATCH (256u << 10)
#define ELEMS_PER_MSG	400 /* well under the 64 KiB attribute limit */
#define MAX_RETRIES	5

/* nft's datatype numbers, which nft needs to print sets. */
enum {
	TYPE_INET_PROTO = 12,
	TYPE_INET_SERVICE = 13,
	TYPE_IPADDR = 7,
	TYPE_IP6ADDR = 8,
	TYPE_IFNAME = 41,
};

uint32_t nl_set_id(const struct nl_set_ids *ids, const char *name)
{
	for (size_t i = 0; i < ids->t->n_sets; i++)
		if (strcmp(ids->t->sets[i]->name, name) == 0)
			return ids->base + (uint32_t)i;
	return 0;
}

void *next_msg(struct tx *tx, const char *what)
{
	char **v;

	if (tx->seqs.n == tx->seqs.cap) {
		size_t cap = tx->seqs.cap ? tx->seqs.cap * 2 : 256;
		const struct model_rule **rv;

		v = realloc(tx->seqs.what, cap * sizeof(*v));
		if (v)
			tx->seqs.what = v;
		rv = v ? realloc(tx->seqs.rule, cap * sizeof(*rv)) : NULL;
		if (!rv) {
			tx->err = -ENOMEM;
			return NULL;
		}
		tx->seqs.rule = rv;
		tx->seqs.cap = cap;
	}
	tx->seqs.rule[tx->seqs.n] = NULL;
	tx->seqs.what[tx->seqs.n++] = what ? strdup(what) : NULL;
	tx->msgs++;
	return nftnl_batch_buffer(tx->b);
}

void end_msg(struct tx *tx)
{
	if (nftnl_batch_update(tx->b) < 0)
		tx->err = -ENOMEM;
	tx->seq++;
}

static bool flags_refused;

uint32_t nl_table_flags_wanted(void)
{
	return flags_refused ? 0 : NL_TABLE_FLAGS;
}

void nl_table_flags_refused(void)
{
	flags_refused = true;
}

/* A table we create gets an incarnation: random bytes in its userdata
 * (a TLV nft does not know, so it shows nothing). */
static void put_incarnation(struct nftnl_table *t)
{
	uint8_t ud[18] = { UDATA_TABLE_INCARNATION, 16 };

	if (getrandom(ud + 2, 16, 0) == 16)
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, ud, sizeof(ud));
}

void put_table(struct tx *tx, const char *name, uint16_t type, uint32_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	char what[300];
	void *buf;

	snprintf(what, sizeof(what), "table %s", name);
	buf = next_msg(tx, what);
	if (!t || !buf) {
		nftnl_table_free(t);
		tx->err = -ENOMEM;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (type == NFT_MSG_NEWTABLE) {
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, flags);
		if (flags & NFT_TABLE_F_OWNER)
			tx->table_seq = tx->seq;
		if (tx->creating)
			put_incarnation(t);
	}
	nftnl_table_nlmsg_build_payload(
		nftnl_table_nlmsg_build_hdr(buf, type, NFPROTO_INET,
					    type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0, tx->seq),
		t);
	nftnl_table_free(t);
	end_msg(tx);
}

static uint32_t key_type(enum model_key k)
{
	switch (k) {
	case MODEL_KEY_IPV4: return TYPE_IPADDR;
	case MODEL_KEY_IPV6: return TYPE_IP6ADDR;
	case MODEL_KEY_PORT: return TYPE_INET_SERVICE;
	case MODEL_KEY_PROTO_PORT: return TYPE_INET_PROTO << 6 | TYPE_INET_SERVICE;
	case MODEL_KEY_IFNAME: return TYPE_IFNAME;
	}
	return 0;
}

uint32_t key_len(enum model_key k)
{
	static const uint32_t len[] = {
		[MODEL_KEY_IPV4] = 4,	    [MODEL_KEY_IPV6] = 16,   [MODEL_KEY_PORT] = 2,
		[MODEL_KEY_PROTO_PORT] = 8, [MODEL_KEY_IFNAME] = 16,
	};

	return len[k];
}

struct nftnl_set *set_new(const char *table, const struct model_set *s, uint32_t id)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);
	uint32_t flags = 0;

	if (!ns || !u) {
		nftnl_set_free(ns);
		nftnl_udata_buf_free(u);
		return NULL;
	}
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(ns, NFTNL_SET_ID, id);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, key_type(s->key));
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, key_len(s->key));
	if (s->size)
		nftnl_set_set_u32(ns, NFTNL_SET_DESC_SIZE, s->size);
	if (s->interval)
		flags |= NFT_SET_INTERVAL;
	if (s->map) {
		flags |= NFT_SET_MAP;
		nftnl_set_set_u32(ns, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(ns, NFTNL_SET_DATA_LEN, 0);
	}
	if (s->key == MODEL_KEY_PROTO_PORT)
		flags |= NFT_SET_CONCAT;
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, flags);
	if (s->key == MODEL_KEY_PROTO_PORT) {
		uint8_t fields[2] = { 1, 2 };

		nftnl_set_set_data(ns, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	}
	/* nft records the key byte order for itself (2 = big endian). */
	nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, s->key == MODEL_KEY_IFNAME ? 1 : 2);
	nftnl_set_set_data(ns, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	return ns;
}

static bool all_ones(const uint8_t *a, size_t w)
{
	for (size_t i = 0; i < w; i++)
		if (a[i] != 0xff)
			return false;
	return true;
}

int elem_add(struct nftnl_set *ns, const void *key, uint32_t len, uint32_t flags, const char *chain,
	     bool jump)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e)
		return -ENOMEM;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	if (chain) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT,
				       (uint32_t)(jump ? NFT_JUMP : NFT_GOTO));
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(ns, e);
	return 0;
}

/* One element of the model as kernel elements: an interval is a start
 * and an end (exclusive) flagged INTERVAL_END. */
static int elem_encode(struct nftnl_set *ns, const struct model_set *s, const struct model_elem *el)
{
	uint8_t k[16] = { 0 };
	size_t w;

	switch (s->key) {
	case MODEL_KEY_PROTO_PORT:
		k[0] = el->lo[0];
		k[4] = el->lo[1];
		k[5] = el->lo[2];
		return elem_add(ns, k, 8, 0, NULL, false);
	default: break;
	}
	w = key_len(s->key);
	if (!s->interval)
		return elem_add(ns, el->lo, (uint32_t)w, 0, NULL, false);
	if (elem_add(ns, el->lo, (uint32_t)w, 0, NULL, false) < 0)
		return -ENOMEM;
	if (all_ones(el->hi, w))
		return 0; /* open interval up to the maximum */
	memcpy(k, el->hi, w);
	for (size_t i = w; i-- > 0;)
		if (++k[i] != 0)
			break;
	return elem_add(ns, k, (uint32_t)w, NFT_SET_ELEM_INTERVAL_END, NULL, false);
}

void put_set(struct tx *tx, const char *table, const struct model_set *s, uint32_t id)
{
	struct nftnl_set *ns = set_new(table, s, id);
	char what[300];
	void *buf;

	snprintf(what, sizeof(what), "set %s", s->name);
	buf = next_msg(tx, what);
	if (!ns || !buf) {
		nftnl_set_free(ns);
		tx->err = -ENOMEM;
		return;
	}
	nftnl_set_nlmsg_build_payload(nftnl_set_nlmsg_build_hdr(buf, NFT_MSG_NEWSET, NFPROTO_INET,
								NLM_F_CREATE, tx->seq),
				      ns);
	end_msg(tx);
	/* Elements go in messages of bounded size. */
	for (size_t i = 0; i < s->n_elems && !tx->err; i += ELEMS_PER_MSG) {
		struct nftnl_set *part = set_new(table, s, id);
		size_t end = i + ELEMS_PER_MSG < s->n_elems ? i + ELEMS_PER_MSG : s->n_elems;

		snprintf(what, sizeof(what), "elements of set %s", s->name);
		buf = next_msg(tx, what);
		if (!part || !buf) {
			nftnl_set_free(part);
			tx->err = -ENOMEM;
			break;
		}
		for (size_t k = i; k < end; k++)
			if ((s->map ? elem_add(part, model_map_key(s, k), key_len(s->key), 0,
					       model_map_target(s, k), !s->go)
				    : elem_encode(part, s, &s->elems[k])) < 0)
				tx->err = -ENOMEM;
		nftnl_set_elems_nlmsg_build_payload(
			nftnl_set_elem_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_INET,
						       NLM_F_CREATE, tx->seq),
			part);
		nftnl_set_free(part);
		end_msg(tx);
	}
	nftnl_set_free(ns);
}

void put_chain(struct tx *tx, const char *table, const struct model_chain *ch)
{
	static const uint32_t hooks[] = {
		[MODEL_HOOK_PREROUTING] = NF_INET_PRE_ROUTING,
		[MODEL_HOOK_INPUT] = NF_INET_LOCAL_IN,
		[MODEL_HOOK_FORWARD] = NF_INET_FORWARD,
		[MODEL_HOOK_OUTPUT] = NF_INET_LOCAL_OUT,
	};
	struct nftnl_chain *c = nftnl_chain_alloc();
	char what[300];
	void *buf;

	snprintf(what, sizeof(what), "chain %s", ch->name);
	buf = next_msg(tx, what);
	if (!c || !buf) {
		nftnl_chain_free(c);
		tx->err = -ENOMEM;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, ch->name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (ch->hook != MODEL_HOOK_NONE) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hooks[ch->hook]);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, ch->prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(nftnl_chain_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN,
								    NFPROTO_INET, NLM_F_CREATE,
								    tx->seq),
					c);
	nftnl_chain_free(c);
	end_msg(tx);
}

static struct nl_options options;

void nl_set_options(const struct nl_options *o)
{
	options = *o;
}

const struct nl_options *nl_opts(void)
{
	return &options;
}

/* Is comment one of the ';'-separated list? */
static bool listed(const char *list, const char *comment)
{
	size_t n = strlen(comment);

	for (const char *p = list; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
		if (strncmp(p, comment, n) == 0 && (p[n] == ';' || p[n] == 0))
			return true;
	return false;
}

/* Test knob (nl_options.fault_rules): the rule becomes a jump to a chain
 * that does not exist, so that the kernel refuses the batch half-way. */
static const struct model_rule *fault(const struct model_rule *r, struct model_rule *bad)
{
	if (!options.fault_rules || !r->comment || !listed(options.fault_rules, r->comment))
		return r;
	*bad = *r;
	bad->verdict = MODEL_V_JUMP;
	bad->target = (char *)"no-such-chain";
	bad->mark_set = false;
	return bad;
}

void put_rule(struct tx *tx, const char *table, const struct model_chain *ch, size_t i,
	      const struct nl_set_ids *ids, uint64_t at, bool append, bool echo)
{
	const struct model_rule *r = &ch->rules[i];
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct model_rule bad;
	uint16_t flags = NLM_F_CREATE | (append ? NLM_F_APPEND : 0) | (echo ? NLM_F_ECHO : 0);
	char what[300];
	void *buf;

	snprintf(what, sizeof(what), "%s%s(chain %s, rule %zu)", r->comment ? r->comment : "",
		 r->comment ? " " : "", ch->name, i);
	buf = next_msg(tx, what);
	if (!nr || !buf) {
		nftnl_rule_free(nr);
		tx->err = -ENOMEM;
		return;
	}
	if (echo)
		tx->seqs.rule[tx->seqs.n - 1] = r;
	nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, ch->name);
	nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (at)
		nftnl_rule_set_u64(nr, NFTNL_RULE_POSITION, at);
	if (nl_rule_build(nr, fault(r, &bad), ids) < 0)
		tx->err = -ENOMEM;
	nftnl_rule_nlmsg_build_payload(
		nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET, flags, tx->seq), nr);
	nftnl_rule_free(nr);
	end_msg(tx);
}

void put_rules(struct tx *tx, const char *table, const struct model_chain *ch,
	       const struct nl_set_ids *ids, bool echo)
{
	for (size_t i = 0; i < ch->n_rules && !tx->err; i++)
		put_rule(tx, table, ch, i, ids, 0, true, echo);
}

void put_begin(struct tx *tx, uint32_t genid)
{
	struct nlmsghdr *nlh = nftnl_batch_begin(next_msg(tx, "transaction"), tx->seq);

	/* The kernel refuses the batch with ERESTART if the ruleset
	 * changed since genid was read. */
	mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	end_msg(tx);
}

bool nl_kernel_at_least(unsigned major, unsigned minor)
{
	struct utsname u;
	unsigned a = 0, b = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &a, &b) != 2)
		return false;
	return a > major || (a == major && b >= minor);
}

/* Whether BATCH_END is acknowledged (Linux 6.10+; nftmgr version probes
 * it for real). Its ACK then confirms that the transaction committed. */
static bool end_ack(void)
{
	static int known = -1;

	if (known < 0)
		known = nl_kernel_at_least(6, 10);
	return known;
}

void put_end(struct tx *tx)
{
	struct nlmsghdr *nlh = nftnl_batch_end(next_msg(tx, "transaction end"), tx->seq);

	if (nlh && end_ack()) {
		nlh->nlmsg_flags |= NLM_F_ACK;
		tx->end_seq = tx->seq;
	}
	end_msg(tx);
}

/* The table whole: if it exists, declared with the flags it has (which
 * also adopts an orphaned persistent table of ours) and deleted; then
 * created with our flags, and everything in it. */
static void build(struct tx *tx, const struct model_table *t, uint32_t genid, bool exists,
		  uint32_t flags)
{
	struct nl_set_ids ids = { .t = t, .base = 1 };

	put_begin(tx, genid);
	if (exists) {
		put_table(tx, t->name, NFT_MSG_NEWTABLE, flags);
		put_table(tx, t->name, NFT_MSG_DELTABLE, 0);
	}
	tx->creating = true;
	put_table(tx, t->name, NFT_MSG_NEWTABLE, nl_table_flags_wanted());
	tx->creating = false;
	for (size_t i = 0; i < t->n_chains && !tx->err; i++)
		put_chain(tx, t->name, t->chains[i]);
	for (size_t i = 0; i < t->n_sets && !tx->err; i++)
		put_set(tx, t->name, t->sets[i], ids.base + (uint32_t)i);
	for (size_t i = 0; i < t->n_chains && !tx->err; i++)
		put_rules(tx, t->name, t->chains[i], &ids, false);
	put_end(tx);
}

/* One try: the generation and the table's state read, fn's batch built
 * against them and sent. */
static int attempt(struct mnl_socket *nl, const char *table, tx_build_fn fn, const void *what,
		   struct nl_commit_result *res)
{
	struct tx tx = { .seq = (uint32_t)time(NULL) };
	struct nl_errors errs = { 0 };
	uint32_t genid = 0;
	bool exists = false;
	int r;

	uint32_t flags = 0;

	r = get_genid(nl, &genid);
	if (r == 0)
		r = nl_table_info(nl, table, &exists, &flags);
	if (r < 0) {
		snprintf(res->error, sizeof(res->error), "cannot read the ruleset state: %s",
			 strerror(-r));
		return r;
	}
	tx.b = nftnl_batch_alloc(PAGE_SIZE_BATCH, NL_MSG_MAX);
	if (!tx.b)
		return -ENOMEM;
	tx.seqs.first = tx.seq;
	fn(&tx, what, genid, exists, flags);
	r = tx.err;
	if (r == 0)
		r = send_batch(nl, &tx, &errs, &res->bytes);
	/* A kernel without owner/persist (before 5.12/6.9) refuses the
	 * flags: go on without them; version says so. */
	if (r == 0 && errs.n && errs.seq[0] == tx.table_seq && tx.table_seq &&
	    (errs.err[0] == -EOPNOTSUPP || errs.err[0] == -EINVAL)) {
		nl_table_flags_refused();
		r = -ERESTART;
	} else if (r == 0 && errs.n) {
		describe(&tx, &errs, res->error, sizeof(res->error));
		r = errs.err[0];
	} else if (r < 0 && !res->error[0]) {
		snprintf(res->error, sizeof(res->error), "sending the transaction: %s",
			 strerror(-r));
	}
	res->messages = tx.msgs;
	res->genid = genid;
	res->genid_after = r == 0 ? genid_next(genid) : 0;
	res->owned = nl_table_flags_wanted() != 0;
	seqmap_clear(&tx.seqs);
	nftnl_batch_free(tx.b);
	return r;
}

struct mnl_socket *nl_sock_open(struct nl_commit_result *res)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	int e;

	if (!nl) {
		snprintf(res->error, sizeof(res->error), "netlink: %s", strerror(errno));
		return NULL;
	}
	/* Extended ACKs: the kernel may point at the offending attribute. */
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &(int){ 1 }, sizeof(int));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		snprintf(res->error, sizeof(res->error), "netlink: %s", strerror(e));
		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	return nl;
}

void nl_sock_close(struct mnl_socket *nl)
{
	if (nl)
		mnl_socket_close(nl);
}

int nl_transact(struct mnl_socket *nl, const char *table, tx_build_fn fn, const void *what,
		struct nl_commit_result *res)
{
	int r;

	/* Someone else committed between our read of the generation and
	 * our batch: read it again and retry, a bounded number of times. */
	for (;;) {
		res->error[0] = '\0';
		r = attempt(nl, table, fn, what, res);
		if (r != -ERESTART || res->retries >= MAX_RETRIES)
			break;
		res->retries++;
	}
	return r;
}

static void build_replace(struct tx *tx, const void *t, uint32_t genid, bool exists, uint32_t flags)
{
	build(tx, t, genid, exists, flags);
}

int nl_commit_replace_on(struct mnl_socket *nl, const struct model_table *t,
			 struct nl_commit_result *res)
{
	return nl_transact(nl, t->name, build_replace, t, res);
}

int nl_commit_replace(const struct model_table *t, struct nl_commit_result *res)
{
	struct mnl_socket *nl;
	int r;

	*res = (struct nl_commit_result){ 0 };
	nl = nl_sock_open(res);
	if (!nl)
		return errno ? -errno : -EIO;
	r = nl_commit_replace_on(nl, t, res);
	mnl_socket_close(nl);
	return r;
}
