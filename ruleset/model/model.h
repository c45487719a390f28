/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * model: one nftables table as plain data, as the compiler builds it and as
 * the printer, explain and the netlink committer consume it. Depends on
 * nothing else of ours; never opens a socket.
 */
#ifndef NFTMGR_MODEL_H
#define NFTMGR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * One table, as the compiler builds it and as both the text printer and
 * the netlink committer consume it. Every string is owned by its object.
 */

enum model_key {
	MODEL_KEY_IPV4,	      /* ipv4_addr */
	MODEL_KEY_IPV6,	      /* ipv6_addr */
	MODEL_KEY_PORT,	      /* inet_service */
	MODEL_KEY_PROTO_PORT, /* inet_proto . inet_service */
	MODEL_KEY_IFNAME,     /* ifname : verdict (a verdict map) */
};

/* A set's element (verdict maps keep theirs packed, see model_set). */
struct model_elem {
	uint8_t lo[16]; /* addresses / ports big-endian; proto at [0] */
	uint8_t hi[16]; /* inclusive end, = lo for single values */
};

struct model_set {
	char *name;
	enum model_key key;
	bool interval;
	/* A verdict map (by address or interface name, exact keys) keeps
	 * its elements packed instead of in elems (2,000,000 of them at
	 * W-huge): key i at keys + i * model_key_width(key), sorted, going
	 * to chain targets[to[i]] (goto if go, else jump); the set owns the
	 * names. */
	bool map;
	bool go;
	/* The kernel's size: an address map holds at most this many (a
	 * hash of fixed size, filled without resizing); 0: none. */
	uint32_t size;
	uint8_t *keys;
	uint32_t *to;
	char **targets;
	size_t n_targets;
	struct model_elem *elems; /* every other set's */
	size_t n_elems;
	unsigned refs; /* rules using it */
	uint64_t hash; /* of the elements, to find equal sets */
};

enum model_match_kind {
	MODEL_M_NFPROTO, /* num: 4 or 6 */
	MODEL_M_L4PROTO, /* num */
	MODEL_M_SADDR,	 /* family + (set or cidr) */
	MODEL_M_DADDR,
	MODEL_M_SPORT, /* set or lo..hi */
	MODEL_M_DPORT,
	MODEL_M_ICMP,	    /* family, num = type, code if has_code;
				 * or a type range lo..hi when hi != 0 */
	MODEL_M_CT_STATE,   /* num: NFT_CT_* bits */
	MODEL_M_MARK,	    /* mask, value: meta mark & mask == value */
	MODEL_M_PROTO_PORT, /* meta l4proto . th dport @set (sport if num) */
	MODEL_M_IIFNAME,    /* iifname "name" (may end in *) */
	MODEL_M_OIFNAME,
};

enum {
	MODEL_CT_INVALID = 1 << 0,
	MODEL_CT_ESTABLISHED = 1 << 1,
	MODEL_CT_RELATED = 1 << 2,
};

/* An address prefix: family AF_INET or AF_INET6, len bits of addr. */
struct model_prefix {
	uint8_t family;
	uint8_t len;
	uint8_t addr[16];
};

struct model_match {
	enum model_match_kind kind;
	bool neg;
	uint8_t family; /* 4 or 6 for addresses and ICMP */
	bool has_code;
	uint32_t num;
	uint32_t code;
	uint32_t mask;
	uint32_t value;
	uint16_t lo, hi;	    /* single port or range */
	struct model_prefix prefix; /* single address */
	char *set;		    /* named set, or NULL */
	char *ifname;		    /* MODEL_M_IIFNAME, MODEL_M_OIFNAME */
};

enum model_verdict {
	MODEL_V_NONE, /* continue */
	MODEL_V_ACCEPT,
	MODEL_V_DROP,
	MODEL_V_RETURN,
	MODEL_V_JUMP,
	MODEL_V_GOTO,
	MODEL_V_VMAP_IIF, /* iifname vmap @target */
	MODEL_V_VMAP_OIF, /* oifname vmap @target */
	/* ip[6] saddr|daddr & <plen bits> vmap @target (an address map) */
	MODEL_V_VMAP_SADDR,
	MODEL_V_VMAP_DADDR,
};

struct model_rule {
	struct model_match *m;
	size_t n_m;
	bool mark_set; /* meta mark set meta mark & mark_and | mark_or */
	uint32_t mark_and;
	uint32_t mark_or;
	bool notrack;
	bool nftrace; /* meta nftrace set 1 (nftmgr trace's table) */
	char *log_prefix;
	enum model_verdict verdict;
	uint8_t family; /* MODEL_V_VMAP_SADDR/DADDR: 4 or 6 */
	uint8_t plen;	/* and the prefix length of the map's keys */
	char *target;	/* chain or map */
	char *comment;	/* "policy NAME ingress rule N", ... */
	/* The kernel's handle of this rule once committed (0: not known); a
	 * fact about the kernel, set by netlink/, never compared. */
	uint64_t handle;
};

enum model_hook {
	MODEL_HOOK_NONE,
	MODEL_HOOK_PREROUTING,
	MODEL_HOOK_INPUT,
	MODEL_HOOK_FORWARD,
	MODEL_HOOK_OUTPUT,
};

struct model_chain {
	char *name;
	enum model_hook hook; /* NONE: a regular chain */
	int prio;
	struct model_rule *rules;
	size_t n_rules;
	size_t cap;
};

struct model_table {
	char *name; /* family inet */
	struct model_chain **chains;
	size_t n_chains;
	struct model_set **sets;
	size_t n_sets;
};

struct model_table *model_table_free(struct model_table *t);
/* The table as an nft -f script that replaces any previous table of the
 * same name in one transaction and touches nothing else. */
int model_table_print(const struct model_table *t, FILE *f);
const struct model_set *model_table_find_set(const struct model_table *t, const char *name);
const struct model_chain *model_table_find_chain(const struct model_table *t, const char *name);
/* Frees what the rule holds (not the rule itself). */
void model_rule_free(struct model_rule *r);
/* Frees the chain and its rules. */
void model_chain_free(struct model_chain *ch);
void model_set_free(struct model_set *s);
/* Bytes of a key: 4, 16, 2, 3; 16 for an interface name (NUL-padded). */
size_t model_key_width(enum model_key k);
/* An address map's element i: its key, and the chain it jumps to. */
static inline const uint8_t *model_map_key(const struct model_set *s, size_t i)
{
	return s->keys + i * model_key_width(s->key);
}

static inline const char *model_map_target(const struct model_set *s, size_t i)
{
	return s->targets[s->to[i]];
}

/* The interval a prefix covers. */
void model_prefix_range(const struct model_prefix *p, struct model_elem *e);
/* Sorts and merges overlapping or touching ranges (interval sets);
 * returns the new count. */
size_t model_elems_normalise(struct model_elem *e, size_t n, size_t width);
/* Sorts and drops duplicates (exact-match sets); returns the new count. */
size_t model_elems_dedupe(struct model_elem *e, size_t n, size_t width);
/* True, with the prefix length, when lo..hi is exactly one prefix. */
bool model_range_is_prefix(const struct model_elem *e, size_t width, unsigned *ret_len);

/* Equality of the model's objects, as the kernel would see them. */
bool model_match_equal(const struct model_match *a, const struct model_match *b);
bool model_rule_equal(const struct model_rule *a, const struct model_rule *b);
bool model_chain_rules_equal(const struct model_chain *a, const struct model_chain *b);
bool model_set_elems_equal(const struct model_set *a, const struct model_set *b);

/* ---- explain ---- */

/* The first packet of a connection: with iif only it is for this host
 * (prerouting, input), with oif only it is from it (output), with both it
 * is forwarded (prerouting, forward). */
struct model_packet {
	uint8_t family; /* 4 or 6 */
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint8_t proto; /* 6 tcp, 17 udp, 1 icmp, 58 icmpv6, ... */
	uint16_t sport;
	uint16_t dport;
	int icmp_type; /* -1: none */
	int icmp_code;
	const char *iif;
	const char *oif;
	uint32_t mark;
};

struct model_explain {
	bool accepted;
	char why[128];	 /* the deciding rule's comment */
	char chain[128]; /* and its chain ("" if none decided) */
};

/* Walks p through t, printing each base chain and each matching rule to
 * f; fills ret with the verdict and the rule that decided. Returns 0 or
 * -EINVAL (neither interface given). */
int model_explain(const struct model_table *t, const struct model_packet *p, FILE *f,
		  struct model_explain *ret);

#endif
