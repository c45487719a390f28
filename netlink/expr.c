/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Model rules -> libnftnl expressions, with the bytecode nft itself
 * generates for the same text (dependencies included), so that a table
 * committed here lists exactly as the exported script loaded with nft -f.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nl-internal.h"

struct rb {
	struct nftnl_rule *r;
	const struct nl_set_ids *ids;
	bool nfproto_done;
	uint8_t l4proto_done; /* a positive meta l4proto already matched */
	int err;
};

static struct nftnl_expr *add(struct rb *b, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e) {
		b->err = -ENOMEM;
		return NULL;
	}
	nftnl_rule_add_expr(b->r, e);
	return e;
}

static void meta_load(struct rb *b, uint32_t key)
{
	struct nftnl_expr *e = add(b, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void cmp(struct rb *b, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = add(b, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void payload(struct rb *b, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = add(b, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

static void bitwise(struct rb *b, const void *mask, const void * xor, uint32_t len)
{
	struct nftnl_expr *e = add(b, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
}

static void lookup(struct rb *b, const char *set, bool neg, bool vmap)
{
	struct nftnl_expr *e = add(b, "lookup");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, nl_set_id(b->ids, set));
	if (vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	/* Always set: the kernel reports the attribute even when 0, and
	 * read-back fingerprints must compare equal. */
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, neg ? NFT_LOOKUP_F_INV : 0);
}

static void range(struct rb *b, bool neg, const void *from, const void *to, uint32_t len)
{
	struct nftnl_expr *e = add(b, "range");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, neg ? NFT_RANGE_NEQ : NFT_RANGE_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, from, len);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, to, len);
}

static void nfproto(struct rb *b, int family)
{
	uint8_t v = family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;

	if (b->nfproto_done)
		return;
	meta_load(b, NFT_META_NFPROTO);
	cmp(b, NFT_CMP_EQ, &v, 1);
	b->nfproto_done = true;
}

static void l4proto(struct rb *b, uint8_t proto, bool neg)
{
	meta_load(b, NFT_META_L4PROTO);
	cmp(b, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, &proto, 1);
	if (!neg)
		b->l4proto_done = proto;
}

/* ip/ip6 saddr/daddr: a set lookup, or the prefix as nft compares it. */
static void addr(struct rb *b, const struct model_match *m)
{
	uint32_t w = m->family == 4 ? 4 : 16;
	uint32_t off = m->family == 4 ? (m->kind == MODEL_M_SADDR ? 12 : 16)
				      : (m->kind == MODEL_M_SADDR ? 8 : 24);
	uint32_t op = m->neg ? NFT_CMP_NEQ : NFT_CMP_EQ;
	unsigned len = m->prefix.len;

	nfproto(b, m->family);
	if (m->set) {
		payload(b, NFT_PAYLOAD_NETWORK_HEADER, off, w, NFT_REG_1);
		lookup(b, m->set, m->neg, false);
		return;
	}
	if (len % 8 == 0) {
		payload(b, NFT_PAYLOAD_NETWORK_HEADER, off, len / 8, NFT_REG_1);
		cmp(b, op, m->prefix.addr, len / 8);
		return;
	}
	{
		uint8_t mask[16] = { 0 }, zero[16] = { 0 };
		uint32_t bytes = (len + 7) / 8;

		for (unsigned i = 0; i < len; i++)
			mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		payload(b, NFT_PAYLOAD_NETWORK_HEADER, off, bytes, NFT_REG_1);
		bitwise(b, mask, zero, bytes);
		cmp(b, op, m->prefix.addr, bytes);
	}
}

static void port(struct rb *b, const struct model_match *m)
{
	uint16_t lo = htons(m->lo), hi = htons(m->hi);

	payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, m->kind == MODEL_M_SPORT ? 0 : 2, 2, NFT_REG_1);
	if (m->set)
		lookup(b, m->set, m->neg, false);
	else if (m->lo == m->hi)
		cmp(b, m->neg ? NFT_CMP_NEQ : NFT_CMP_EQ, &lo, 2);
	else
		range(b, m->neg, &lo, &hi, 2);
}

static void icmp(struct rb *b, const struct model_match *m)
{
	uint8_t proto = m->family == 6 ? 58 : 1;

	if (m->has_code && m->neg) {
		/* @th,0,16 != type.code: no dependency of its own */
		uint16_t v = htons((uint16_t)(m->num << 8 | m->code));

		payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, NFT_REG_1);
		cmp(b, NFT_CMP_NEQ, &v, 2);
		return;
	}
	/* An explicit meta l4proto satisfies the dependency; otherwise nft
	 * adds meta nfproto and meta l4proto. */
	if (b->l4proto_done != proto) {
		nfproto(b, m->family);
		l4proto(b, proto, false);
	}
	if (m->hi) {
		uint8_t lo = (uint8_t)m->lo, hi = (uint8_t)m->hi;

		payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
		range(b, m->neg, &lo, &hi, 1);
	} else if (m->has_code) {
		uint8_t v[2] = { (uint8_t)m->num, (uint8_t)m->code };

		payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, NFT_REG_1);
		cmp(b, NFT_CMP_EQ, v, 2);
	} else {
		uint8_t v = (uint8_t)m->num;

		payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
		cmp(b, m->neg ? NFT_CMP_NEQ : NFT_CMP_EQ, &v, 1);
	}
}

static void masked(struct rb *b, uint32_t mask, uint32_t value, bool neg)
{
	uint32_t zero = 0;

	bitwise(b, &mask, &zero, 4);
	cmp(b, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, &value, 4);
}

static void ifname(struct rb *b, const struct model_match *m)
{
	char buf[16] = { 0 };
	size_t n = strlen(m->ifname);
	bool wild = n && m->ifname[n - 1] == '*';

	meta_load(b, m->kind == MODEL_M_IIFNAME ? NFT_META_IIFNAME : NFT_META_OIFNAME);
	if (n > 16)
		n = 16;
	memcpy(buf, m->ifname, wild ? n - 1 : n);
	cmp(b, m->neg ? NFT_CMP_NEQ : NFT_CMP_EQ, buf, wild ? (uint32_t)n - 1 : 16);
}

static void match(struct rb *b, const struct model_match *m)
{
	switch (m->kind) {
	case MODEL_M_NFPROTO:
		b->nfproto_done = false;
		nfproto(b, (int)m->num);
		break;
	case MODEL_M_L4PROTO: l4proto(b, (uint8_t)m->num, m->neg); break;
	case MODEL_M_SADDR:
	case MODEL_M_DADDR: addr(b, m); break;
	case MODEL_M_SPORT:
	case MODEL_M_DPORT: port(b, m); break;
	case MODEL_M_ICMP: icmp(b, m); break;
	case MODEL_M_CT_STATE: {
		struct nftnl_expr *e = add(b, "ct");
		uint32_t bits = (m->num & MODEL_CT_INVALID ? 1 : 0) |
				(m->num & MODEL_CT_ESTABLISHED ? 2 : 0) |
				(m->num & MODEL_CT_RELATED ? 4 : 0);

		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
			nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
		}
		masked(b, bits, 0, !m->neg);
		break;
	}
	case MODEL_M_MARK:
		meta_load(b, NFT_META_MARK);
		masked(b, m->mask, m->value, m->neg);
		break;
	case MODEL_M_PROTO_PORT:
		meta_load(b, NFT_META_L4PROTO);
		payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, m->num ? 0 : 2, 2, NFT_REG32_01);
		lookup(b, m->set, m->neg, false);
		break;
	case MODEL_M_IIFNAME:
	case MODEL_M_OIFNAME: ifname(b, m); break;
	}
}

static void mark_set(struct rb *b, const struct model_rule *r)
{
	uint32_t mask = r->mark_and & ~r->mark_or, xor = r->mark_or;
	struct nftnl_expr *e;

	meta_load(b, NFT_META_MARK);
	bitwise(b, &mask, &xor, 4);
	e = add(b, "meta");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	}
}

static void nftrace_set(struct rb *b)
{
	struct nftnl_expr *e = add(b, "immediate");
	uint8_t one = 1;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &one, sizeof(one));
	}
	e = add(b, "meta");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_NFTRACE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	}
}

static void verdict(struct rb *b, const struct model_rule *r)
{
	static const int codes[] = {
		[MODEL_V_ACCEPT] = NF_ACCEPT,  [MODEL_V_DROP] = NF_DROP,
		[MODEL_V_RETURN] = NFT_RETURN, [MODEL_V_JUMP] = NFT_JUMP,
		[MODEL_V_GOTO] = NFT_GOTO,
	};
	struct nftnl_expr *e;

	switch (r->verdict) {
	case MODEL_V_NONE: return;
	case MODEL_V_VMAP_IIF:
	case MODEL_V_VMAP_OIF:
		meta_load(b, r->verdict == MODEL_V_VMAP_IIF ? NFT_META_IIFNAME : NFT_META_OIFNAME);
		lookup(b, r->target, false, true);
		return;
	case MODEL_V_VMAP_SADDR:
	case MODEL_V_VMAP_DADDR: {
		/* as nft generates ip saddr & MASK vmap @map */
		uint32_t w = r->family == 4 ? 4 : 16;
		uint32_t off = r->family == 4 ? (r->verdict == MODEL_V_VMAP_SADDR ? 12 : 16)
					      : (r->verdict == MODEL_V_VMAP_SADDR ? 8 : 24);
		uint8_t mask[16] = { 0 }, zero[16] = { 0 };

		nfproto(b, r->family);
		payload(b, NFT_PAYLOAD_NETWORK_HEADER, off, w, NFT_REG_1);
		if (r->plen < w * 8) {
			for (unsigned i = 0; i < r->plen; i++)
				mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
			bitwise(b, mask, zero, w);
		}
		lookup(b, r->target, false, true);
		return;
	}
	default: break;
	}
	e = add(b, "immediate");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)codes[r->verdict]);
	if (r->target)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, r->target);
}

static int comment(struct nftnl_rule *nr, const char *text)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 8);
	int r = 0;

	if (!u)
		return -ENOMEM;
	if (!nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, text) ||
	    nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				nftnl_udata_buf_len(u)) < 0)
		r = -ENOMEM;
	nftnl_udata_buf_free(u);
	return r;
}

int nl_rule_build(struct nftnl_rule *nr, const struct model_rule *r, const struct nl_set_ids *ids)
{
	struct rb b = { .r = nr, .ids = ids };

	for (size_t i = 0; i < r->n_m && !b.err; i++)
		match(&b, &r->m[i]);
	add(&b, "counter");
	if (r->mark_set)
		mark_set(&b, r);
	if (r->notrack)
		add(&b, "notrack");
	if (r->nftrace)
		nftrace_set(&b);
	if (r->log_prefix) {
		struct nftnl_expr *e = add(&b, "log");
		char prefix[140];

		snprintf(prefix, sizeof(prefix), "%s: ", r->log_prefix);
		if (e)
			nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	}
	verdict(&b, r);
	if (!b.err && r->comment)
		b.err = comment(nr, r->comment);
	return b.err;
}
