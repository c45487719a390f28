/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compile: resources + this node -> one model table (stages, endpoint
 * chains, policy chains, sets), the compile memo, and the trace table.
 * Depends on resource/, selector/ and model/.
 */
#ifndef NFTMGR_COMPILE_H
#define NFTMGR_COMPILE_H

#include "model.h"
#include "resource.h"

struct local_iface {
	char *name;
	struct cidr *addrs;
	size_t n_addrs;
};

struct compile_memo;

struct compile_opts {
	const char *node;		  /* this node's name */
	const struct local_iface *ifaces; /* for expectedIPs */
	size_t n_ifaces;
	/* Optional: what the last compile with this memo made of each
	 * policy, reused for policies that are the same objects (serial) when
	 * nothing else changed. The output is the same as without it. */
	struct compile_memo *memo;
	/* Optional: called once the compile reads the resources no more
	 * (before the address maps), so that a caller done with them can
	 * free them early: at W-huge they are a third of the peak. */
	void (*inputs_done)(void *data);
	void *inputs_done_data;
};

struct compile_memo *compile_memo_new(void);
struct compile_memo *compile_memo_free(struct compile_memo *m);
/* Policy chains replayed so far (for tests and logs). */
unsigned long compile_memo_hits(const struct compile_memo *m);

/* Statistics of one compilation. */
struct compile_stats {
	size_t endpoints;
	size_t policies;
	size_t chains;
	size_t rules;
	size_t sets;
	size_t elements;
};

/*
 * Resources + this node -> one nftables table. Problems that only show
 * when resources meet (none yet are fatal) go to d. Returns 0 and a new
 * table (free with model_table_free()), or a negative errno.
 */
int ruleset_compile(struct resource *const *v, size_t n, const struct compile_opts *o,
		    struct model_table **ret, struct compile_stats *stats, struct diags *d);

/* ---- trace ---- */

/* Which packets nftmgr trace follows; unset fields match anything. */
struct trace_filter {
	const char *iif, *oif;
	bool has_src, has_dst; /* of one family; none: both families */
	struct cidr src, dst;
	uint8_t proto;
	uint16_t sport, dport; /* need proto tcp, udp or sctp */
};

/* The table that sets nftrace on those packets, ahead of every other
 * table on prerouting and output. -EINVAL for ports without a protocol
 * that has them. */
int compile_trace_table(const char *name, const struct trace_filter *f, struct model_table **ret);

#endif
