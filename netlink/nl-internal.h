/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to netlink/. */
#ifndef NFTMGR_NL_INTERNAL_H
#define NFTMGR_NL_INTERNAL_H

#include <libnftnl/rule.h>

struct mnl_socket;

/* Linux 6.9; Debian 12's headers stop at OWNER. */
#ifndef NFT_TABLE_F_PERSIST
#define NFT_TABLE_F_PERSIST 0x4
#endif
#define NL_TABLE_FLAGS (NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST)

/* Flags we ask for: owner + persist, or 0 once the kernel refused them. */
uint32_t nl_table_flags_wanted(void);
void nl_table_flags_refused(void);

#include "netlink.h"

/* Sets created in a batch are referred to by id as well as by name. */
struct nl_set_ids {
	const struct model_table *t;
	uint32_t base;
};

uint32_t nl_set_id(const struct nl_set_ids *ids, const char *name);
/* Fills nr with the expressions of r. Returns 0 or -ENOMEM. */
int nl_rule_build(struct nftnl_rule *nr, const struct model_rule *r, const struct nl_set_ids *ids);

/* The largest message a transaction holds (a page of set elements stays
 * under the 64 KiB attribute limit): a batch page must be able to run
 * over by this much, as libnftnl copies a message that crossed the page
 * end into the next page only after it was written. */
#define NL_MSG_MAX (UINT16_MAX + 4096u)

/* commit.c: building and sending one transaction. */
struct nftnl_batch;
struct nftnl_set;

struct seqmap {
	char **what;			/* indexed by seq - first */
	const struct model_rule **rule; /* the rule a NEWRULE carried, its handle echoed */
	size_t n, cap;
	uint32_t first;
};

/* The kernel's answers to one batch: every error, in the order received
 * (the first decides the retry logic); beyond NL_ERRORS_KEPT only counted. */
#define NL_ERRORS_KEPT 8

struct nl_errors {
	size_t n;
	size_t more;
	uint32_t seq[NL_ERRORS_KEPT];
	int err[NL_ERRORS_KEPT];
};

struct tx {
	struct nftnl_batch *b;
	struct seqmap seqs;
	uint32_t seq;
	int err;
	size_t msgs;
	uint32_t table_seq; /* the NEWTABLE carrying our flags */
	uint32_t end_seq;   /* BATCH_END, when its ACK is asked for */
	bool end_acked;
	bool creating; /* the NEWTABLE that creates it: with an incarnation */
};

/* The type of the table userdata TLV holding the incarnation (nft knows
 * type 0, a comment, and ignores others). */
#define UDATA_TABLE_INCARNATION 0x6e

void *next_msg(struct tx *tx, const char *what);
void end_msg(struct tx *tx);
void put_begin(struct tx *tx, uint32_t genid);
void put_end(struct tx *tx);
bool nl_kernel_at_least(unsigned major, unsigned minor);
void put_table(struct tx *tx, const char *name, uint16_t type, uint32_t flags);
void put_set(struct tx *tx, const char *table, const struct model_set *s, uint32_t id);
void put_chain(struct tx *tx, const char *table, const struct model_chain *ch);
/* With echo, the kernel sends each rule back with its handle, which the
 * drain records in the model rule (see seqmap). */
void put_rules(struct tx *tx, const char *table, const struct model_chain *ch,
	       const struct nl_set_ids *ids, bool echo);
/* One NEWRULE; at is the handle to insert after (NLM_F_APPEND), or 0 for
 * the start of the chain (with append false) or its end (true). */
void put_rule(struct tx *tx, const char *table, const struct model_chain *ch, size_t i,
	      const struct nl_set_ids *ids, uint64_t at, bool append, bool echo);
/* A handle learned for r (the model records facts about the kernel). */
void nl_record_handle(const struct model_rule *r, uint64_t handle);
uint32_t key_len(enum model_key k);
struct nftnl_set *set_new(const char *table, const struct model_set *s, uint32_t id);
int elem_add(struct nftnl_set *ns, const void *key, uint32_t len, uint32_t flags, const char *chain,
	     bool jump);
void seqmap_clear(struct seqmap *m);
int get_genid(struct mnl_socket *nl, uint32_t *ret);
uint32_t genid_next(uint32_t genid);
/* Sends the batch and drains the kernel's answers into errs. Returns 0
 * (errs->n == 0: committed), or a negative errno if it could not be sent
 * or a receive failed (ENOBUFS: answers were lost). */
int send_batch(struct mnl_socket *nl, struct tx *tx, struct nl_errors *errs, size_t *ret_bytes);
/* Every error of errs as "WHAT: kernel rejected it: WHY" lines, WHAT the
 * object (policy and rule) the message carried. */
void describe(const struct tx *tx, const struct nl_errors *errs, char *out, size_t len);
/* The test knobs set with nl_set_options(). */
const struct nl_options *nl_opts(void);
int nl_commit_replace_on(struct mnl_socket *nl, const struct model_table *t,
			 struct nl_commit_result *res);
/* Builds one transaction with fn, against the ruleset generation and
 * table's state (exists, flags) read just before, sends it, and retries
 * a few times when another process committed in between. A kernel that
 * refuses our table flags is retried without them. Errors in res. */
typedef void (*tx_build_fn)(struct tx *tx, const void *what, uint32_t genid, bool exists,
			    uint32_t flags);
int nl_transact(struct mnl_socket *nl, const char *table, tx_build_fn fn, const void *what,
		struct nl_commit_result *res);
/* Whether our table exists and with which flags. */
int nl_table_info(struct mnl_socket *nl, const char *name, bool *ret_exists, uint32_t *ret_flags);

/* readback.c: our table as the kernel has it. */
struct nlmsghdr;
typedef int (*parse_fn)(const struct nlmsghdr *nlh, void *data);
/* Sends one request and runs fn on every reply until the dump is done. */
int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, parse_fn fn, void *data);
uint32_t nl_next_seq(void);

struct kchain {
	char *name;
	bool base;
	uint32_t hook;
	int32_t prio;
	char **fp;	  /* rule fingerprints, in order */
	uint64_t *handle; /* and their handles */
	size_t n_fp;
};

/* A kernel set element as dumped: its key in lo, its flags in hi[15]
 * until the ranges are rebuilt (plan.c), its verdict's chain (owned). */
struct kraw {
	uint8_t lo[16], hi[16];
	char *chain;
	bool jump;
};

struct kset {
	char *name;
	uint32_t flags;
	uint32_t key_len;
	uint32_t key_type;
	uint32_t size; /* 0: none */
	struct kraw *e;
	size_t n, cap;
};

struct ksnap {
	bool exists;
	uint32_t flags; /* table flags */
	uint64_t handle;
	uint8_t incarnation[16]; /* from the table's userdata; zero if none */
	struct kchain *chains;
	size_t n_chains, cap_chains;
	bool sorted; /* chains by name */
	struct kset *sets;
	size_t n_sets;
};

int nl_snapshot(struct mnl_socket *nl, const char *table, struct ksnap *ret);
void ksnap_clear(struct ksnap *s);
struct kset *ksnap_set(struct ksnap *s, const char *name);
struct kchain *ksnap_chain(struct ksnap *s, const char *name);
/* Expressions (without counters) and comment of a rule; caller frees. */
char *nl_rule_fingerprint(struct nftnl_rule *r);

/* ---- plan.c: what an incremental sync sends ---- */

/* A set element as the kernel keys it: range lo..hi (inclusive) of
 * key_len bytes, or an ifname and its chain. */
struct kel {
	uint8_t lo[16], hi[16];
	const char *chain;
	bool jump;
};

struct set_plan {
	bool create;
	struct kel *del, *add;
	size_t n_del, n_add;
};

/* A changed chain edited in place: its first head and last tail rules
 * kept, the rules between deleted by handle and the new ones inserted
 * after anchor (the last kept head rule; 0: at the start). */
struct chain_edit {
	size_t head, tail;
	uint64_t anchor;
	uint64_t *del;
	size_t n_del;
};

struct plan {
	bool full;
	bool *chain_new, *chain_changed;
	struct chain_edit **edits; /* per chain; NULL: flush and re-add it */
	size_t n_edits;
	struct set_plan *sets;
	const char **chains_gone, **sets_gone;
	size_t n_chains_gone, n_sets_gone;
	const char **chains_flush_only; /* see plan_gone() */
	size_t n_chains_flush_only;
	size_t changes;
};

/* Linux before 6.2 (or nl_options.old_kernel, for the tests). */
bool old_kernel(void);
/* The plan against the kernel's table ks. */
int plan_make(const struct model_table *t, struct ksnap *ks, const struct nl_set_ids *ids,
	      struct plan *p);
/* The plan against prev, the table we last committed (owned, so that
 * nothing else can have changed it). */
int plan_trusted(const struct model_table *t, const struct model_table *prev, struct plan *p);
void plan_clear(struct plan *p, size_t n_sets);

#endif
