/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to compile/: its context and the model builders. */
#ifndef NFTMGR_COMPILE_INTERNAL_H
#define NFTMGR_COMPILE_INTERNAL_H

#include <stdlib.h>

#include "compile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

#define MAX_FAILSAFE 1024

enum dir {
	DIR_IN,
	DIR_OUT,
};

/* A policed interface of this node and the host or workload endpoint
 * governing it. */
struct hep_if {
	char *ifname;		    /* "*" for all interfaces */
	const struct resource *hep; /* HostEndpoint or WorkloadEndpoint */
	struct labels labels;	    /* profiles' labelsToApply, then its own */
};

struct felix {
	const struct failsafe *fs_in;
	size_t n_fs_in;
	const struct failsafe *fs_out;
	size_t n_fs_out;
	const char *iface_prefix; /* comma-separated */
	const char *log_prefix;
	const char *table;
	uint32_t mask;
	bool merge_allow;
	bool ep_to_host_accept; /* defaultEndpointToHostAction Accept/Return */
	bool spoof_any;		/* workloadSourceSpoofing: Any */
};

/* How an Allow ends, per stage: the verdict itself where it is final for
 * the base chain (filter input/output, preDNAT, untracked), with a mark
 * where a later stage must know; mark-and-return where more follows in
 * the same base chain (forward: the egress endpoint). */
enum chain_mode {
	MODE_FILTER,
	MODE_PREDNAT,
	MODE_UNTRACKED,
	MODE_FORWARD,
};

/* Names to chains or sets: open addressing, rebuilt when it falls out
 * of step with the table (after pruning). */
struct name_index {
	void **slot;
	size_t cap;
	size_t n;
};

/* A tier as the compile sees it: written, reserved, or only named by a
 * policy (not existing: last, with an end-of-tier drop, as Felix). */
struct tier_info {
	const char *name;
	bool exists;
	struct tier_spec spec;
};

struct cctx {
	struct model_table *t;
	struct name_index chain_ix;
	struct name_index set_ix;
	struct name_index content_ix; /* sets by content hash */
	const struct compile_opts *o;
	struct diags *d;
	struct resource *const *res;
	size_t n_res;
	struct felix fx;
	uint32_t mark_accept;
	uint32_t mark_pass;
	const struct resource **policies; /* sorted, Felix order: by tier, then order */
	size_t n_policies;
	struct tier_info *tiers; /* sorted as Felix sorts them */
	size_t n_tiers;
	struct hep_if *ifs;
	size_t n_ifs;
	struct hep_if *wls; /* this node's workload interfaces */
	size_t n_wls;
	int err;	      /* first fatal error (-ENOMEM) */
	enum chain_mode mode; /* of the policy chain being filled */
	bool used_eps;	      /* that chain read endpoints (selectors, named ports) */
	const char *cur_tier; /* that chain's policy's tier, if not default */
};

/* build.c */
struct model_chain *chain_add(struct cctx *c, const char *name, enum model_hook hook, int prio);
struct model_chain *chain_find(struct cctx *c, const char *name);
const struct model_set *set_find(struct cctx *c, const char *name);
/* An address map's element while the map is made. */
struct map_elem {
	uint8_t key[16];
	const char *chain;
};

/* A new, empty address map named after name; set_map_done() gives it its
 * elements, sorted by key (packed into the map, the names copied). */
struct model_set *set_add_map(struct cctx *c, const char *name, enum model_key key);
int set_map_done(struct cctx *c, struct model_set *s, const struct map_elem *v, size_t n);
/* addr-map.c: runs of rules on disjoint addresses as verdict maps */
void addr_maps(struct cctx *c);
/* merge.c: nftablesMergeAllowPolicies */
void merge_allow_runs(struct cctx *c, struct model_chain *ch, size_t from);
/* build.c: each set's refs, the rules naming it (as a match or a map);
 * sets no rule names any more (after merging or mapping) freed. */
void sets_count_refs(struct cctx *c);
void sets_prune(struct cctx *c);
/* A named port resolved to one number: the endpoints that give the name
 * that number. */
struct named_variant {
	const char *name;
	uint8_t proto; /* 0: any */
	uint16_t port;
};

/* A rule as compiled: itself, or, when its destination or source has
 * named ports, one rule for its numeric ports and one per number a name
 * resolves to (named ports are per endpoint, as Calico resolves them),
 * the two sides crossed. Each variant is a shallow copy whose port lists
 * point into the variant (port, sport) or at arrays it owns. */
struct variant {
	struct rule rule;
	struct named_variant nv;  /* destination */
	struct named_variant snv; /* source */
	struct port port, sport;
	struct port *numeric, *snumeric;
};

struct variants {
	struct variant *v;
	size_t n;
};

/* variants.c: a rule's variants (vs is the caller's: variants_free()). */
void rule_variants(struct cctx *c, const struct rule *r, struct variants *vs);
void variants_free(struct variants *vs);

/* memo.c: policy chains of the previous compile, reused when neither the
 * policy nor anything else it could depend on changed; endpoints count
 * only for the chains that read them (c->used_eps). */
void memo_begin(struct cctx *c);
void memo_end(struct cctx *c, bool ok);
bool memo_replay(struct cctx *c, const char *chain, const struct resource *p, enum dir dir,
		 enum chain_mode mode);
void memo_record(struct cctx *c, const struct model_chain *ch, const struct resource *p,
		 enum dir dir, enum chain_mode mode);
void name_index_free(struct name_index *x);
struct model_rule *rule_add(struct cctx *c, struct model_chain *ch, const char *comment);
void rule_match(struct cctx *c, struct model_rule *r, const struct model_match *m);
void rule_verdict(struct cctx *c, struct model_rule *r, enum model_verdict v, const char *target);
void rule_copy(struct cctx *c, struct model_chain *ch, const struct model_rule *src);
/* What a rule does (marks, notrack, log, verdict), copied onto r. */
void rule_copy_actions(struct cctx *c, struct model_rule *r, const struct model_rule *src);
/* Removes regular chains nothing jumps or goes to. */
void chains_prune(struct cctx *c);
/* Takes elems. Returns the name of the set with that content (shared),
 * or of a new one named owner. */
const char *set_intern(struct cctx *c, enum model_key key, bool interval, struct model_elem *elems,
		       size_t n, const char *owner);
/* The same for elements the caller has just normalised (intervals). */
const char *set_intern_normal(struct cctx *c, enum model_key key, bool interval,
			      struct model_elem *elems, size_t n, const char *owner, bool normal);
struct model_prefix prefix_of(const struct cidr *c);
void cidr_range(const struct cidr *c, struct model_elem *e);
char *chain_name(const char *prefix, const char *ns, const char *name);

/* An address list of one family, as ranges; NULL elems = no constraint. */
struct addrs {
	struct model_elem *e;
	size_t n;
	size_t cap; /* of e, when addrs_add() allocated it; else 0 */
	bool constrained;
	bool selector; /* from a selector: always a named set */
};

/* One compiled rule, before it becomes an model_rule. */
struct crule {
	int family; /* 0, 4 or 6 */
	struct protocol proto, not_proto;
	struct icmp icmp, not_icmp;
	struct addrs src[2], dst[2];	     /* [0] positive, [1] negative */
	struct addrs src_sel[2], dst_sel[2]; /* selectors, same */
	struct model_elem *sport[2], *dport[2];
	size_t n_sport[2], n_dport[2];
	enum action action;
	unsigned first, last; /* Calico rule indexes */
};

/* emit-rule.c: r as one rule at the end of ch, commented "WHAT NAME
 * ingress|egress rule N" (or "rules N-M" when merged). */
void crule_emit(struct cctx *c, struct model_chain *ch, struct crule *r, const char *what,
		const char *name, enum dir dir);

/* A stage of Calico's rendering, for one direction. */
enum stage_kind {
	STAGE_UNTRACKED,
	STAGE_PREDNAT,
	STAGE_FILTER,
	STAGE_FORWARD,
	STAGE_WORKLOAD,
};

struct stage {
	enum stage_kind kind;
	enum dir dir;
	const char *map; /* dispatch map and endpoint chain prefix */
};

/* endpoint-chain.c: h's chain for stage s (NULL when the stage has
 * nothing for it), named after the stage's map and the interface. */
const char *endpoint_chain(struct cctx *c, const struct stage *s, const struct hep_if *h);
/* A rule matching meta mark & mask == value (!= with neg), verdict v. */
void mark_rule(struct cctx *c, struct model_chain *ch, uint32_t mask, uint32_t value, bool neg,
	       enum model_verdict v, const char *comment);
/* Clears the accept and pass bits an earlier stage may have left. */
void clear_marks(struct cctx *c, struct model_chain *ch);

/* compile-rule.c */
const char *policy_chain(struct cctx *c, const struct resource *p, enum dir dir,
			 enum chain_mode mode);
bool policy_has_pass(const struct resource *p, enum dir dir);
const char *profile_chain(struct cctx *c, const struct resource *p, enum dir dir,
			  enum chain_mode mode);

/* select.c */
/* The tier policy p is in. */
const struct tier_info *tier_of(struct cctx *c, const struct resource *p);
const struct resource *find_resource(struct cctx *c, enum res_kind k, const char *ns,
				     const char *name);
bool policy_selects(struct cctx *c, const struct resource *p, const struct hep_if *h);
/* The labels an endpoint is selected by (host or workload). */
int endpoint_labels(struct cctx *c, const struct resource *ep, struct labels *out);
/* Does endpoint-like resource r match the entity's selector sel, seen
 * from a policy in namespace pol_ns (NULL for global policies)? */
bool entity_selects(struct cctx *c, const struct entity *e, const char *sel, const char *pol_ns,
		    const struct resource *r);
/* The addresses of an endpoint or network set; NULL, 0 for other kinds. */
const struct cidr *endpoint_addrs(const struct resource *r, size_t *n);

#endif
