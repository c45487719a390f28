/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netlink: nftables model -> libnftnl objects -> one libmnl batch.
 */
#ifndef NFTMGR_NETLINK_H
#define NFTMGR_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

struct nl_features {
	bool nf_tables;	    /* the kernel answered NFT_MSG_GETGEN */
	uint32_t genid;	    /* ruleset generation at probe time */
	int error;	    /* negative errno when nf_tables is false */
	bool owner_persist; /* tables can be owned and persistent (6.9+) */
	bool batch_end_ack; /* BATCH_END can be acknowledged (6.10+) */
};

/* Asks the kernel for the ruleset generation over NETLINK_NETFILTER.
 * Returns 0 with ret filled in (ret->error says why nf_tables is not
 * usable), or a negative errno if no socket could be opened. */
int nl_probe(struct nl_features *ret);
/* Fills in owner_persist and batch_end_ack with batches that change
 * nothing. Returns 0 or a negative errno. */
int nl_probe_features(struct nl_features *f);

/* Knobs for the tests, set once by the program before it commits. */
struct nl_options {
	/* ';'-separated rule comments: each such rule is sent as a jump to
	 * a chain that does not exist, so the kernel refuses the batch. */
	const char *fault_rules;
	/* Behave as on Linux before 6.2 (chains of verdict maps). */
	bool old_kernel;
};

void nl_set_options(const struct nl_options *o);

struct nl_commit_result {
	size_t messages;      /* netlink messages in the transaction */
	size_t bytes;	      /* bytes sent */
	uint32_t genid;	      /* generation the batch was built against */
	uint32_t genid_after; /* the generation with this commit in (0: unknown) */
	unsigned retries;     /* after ERESTART */
	size_t changes;	      /* objects and elements that differed */
	bool owned;	      /* the table is ours alone (owner + persist) */
	bool deferred;	      /* work left for the next sync (old kernels) */
	char error[2048];     /* what failed, in policy terms: a line an error */
};

/*
 * Replaces our table with t in one transaction that carries the ruleset
 * generation it was built against; retries a few times if another
 * process changed the ruleset meanwhile. Touches no other table. Returns
 * 0, or a negative errno with res->error saying which object (policy and
 * rule) the kernel refused and why; nothing is changed then.
 */
int nl_commit_replace(const struct model_table *t, struct nl_commit_result *res);

/*
 * Reads our table back and sends only what differs from t, in one
 * transaction (the whole table if it is missing or a set or base chain
 * changed type); nothing when nothing differs (res->messages == 0). With
 * diff non-NULL, prints what a sync would change there instead and sends
 * nothing. Same errors and retries as nl_commit_replace().
 */
int nl_sync(const struct model_table *t, FILE *diff, struct nl_commit_result *res);

/* A long-lived connection: while it is open, the table it committed is
 * owned by it (flush ruleset and other processes cannot touch it). */
struct mnl_socket;
struct mnl_socket *nl_sock_open(struct nl_commit_result *res);
void nl_sock_close(struct mnl_socket *nl);
/* Who our table is: the ruleset's generation now, and the table's handle
 * and incarnation (random bytes nftmgr gives a table it creates; zero for
 * one it did not). Enough to know nothing changed since a sync that left
 * the same three. */
struct nl_table_id {
	uint32_t genid;
	bool exists;
	uint64_t handle;
	uint8_t incarnation[16];
};
int nl_table_identity(const char *table, struct nl_table_id *ret);

/* nl_sync_on() for a daemon: a table whose owner is gone (ours, left by
 * an earlier run) is taken even when nothing else differs. */
int nl_sync_own(struct mnl_socket *nl, const struct model_table *t, struct nl_commit_result *res);
/* The ruleset's generation now: any transaction by anyone changes it. */
int nl_genid(struct mnl_socket *nl, uint32_t *ret);
int nl_sync_on(struct mnl_socket *nl, const struct model_table *t, FILE *diff,
	       struct nl_commit_result *res);

/*
 * The same without reading the table back: the difference from prev, the
 * table this socket committed last and still owns (so that no one else
 * can have changed it). Falls back to nl_sync_on() when prev is NULL or
 * the kernel cannot give us ownership.
 */
int nl_sync_from(struct mnl_socket *nl, const struct model_table *t, const struct model_table *prev,
		 struct nl_commit_result *res);

/*
 * Our table as the kernel has it now, whole: chains, sets with their
 * elements, rules with their counters. nl_restore() puts it back in one
 * transaction, replacing whatever the table has become since (deleting
 * it if there was none). This is what a commit awaiting confirmation
 * rolls back to.
 */
struct nl_saved;
int nl_save(const char *table, struct nl_saved **ret);
int nl_restore(const struct nl_saved *s, struct nl_commit_result *res);
bool nl_saved_exists(const struct nl_saved *s);
size_t nl_saved_rules(const struct nl_saved *s);
void nl_saved_free(struct nl_saved *s);

/*
 * nftrace. t is the marking table (compile_trace_table()); it is committed
 * owned by the tracer, so the kernel deletes it when the tracer stops or
 * the process dies. Events come from every table; nl_trace_read() runs cb
 * on those waiting on nl_trace_fd() (0: none, 1: some, negative errno).
 */
struct nl_trace_event {
	uint32_t id;   /* the packet */
	uint32_t type; /* NFT_TRACETYPE_RULE, _RETURN, _POLICY */
	char table[64];
	char chain[128];
	uint64_t handle; /* of the rule, 0 if none */
	bool has_verdict;
	int32_t verdict;  /* NF_ACCEPT, NF_DROP, NFT_JUMP, NFT_GOTO, ... */
	char target[128]; /* of a jump or goto */
	int32_t policy;	  /* of the base chain, for _POLICY */
	uint8_t nfproto;  /* NFPROTO_IPV4 or _IPV6 */
	char iif[16], oif[16];
	uint8_t l3[40], l4[8]; /* headers, when the kernel sent them */
	uint32_t l3_len, l4_len;
};

struct nl_tracer;
int nl_trace_start(const struct model_table *t, struct nl_tracer **ret, char *err, size_t len);
int nl_trace_fd(const struct nl_tracer *tr);
int nl_trace_read(struct nl_tracer *tr, int (*cb)(const struct nl_trace_event *ev, void *data),
		  void *data);
void nl_trace_stop(struct nl_tracer *tr);

/* The counter of every rule of table, with its chain and comment.
 * -ENOENT if there is no such table. */
struct nl_counter {
	uint64_t handle;
	char *chain;
	char *comment; /* "policy NAME ingress rule N", ... or NULL */
	uint64_t packets;
	uint64_t bytes;
};

int nl_counters(const char *table, struct nl_counter **ret, size_t *ret_n);
void nl_counters_free(struct nl_counter *v, size_t n);

#endif
