/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ruleset: policy resources (YAML/JSON -> structs), validation, selectors,
 * the file datastore and the config file. Never opens a socket.
 *
 * Conventions: functions that can fail return >= 0 on success and a negative
 * errno on failure; out-parameters are last and called ret_*. Nothing here
 * prints: problems with input are collected in a struct diags for the
 * caller to print.
 */
#ifndef NFTMGR_RULESET_H
#define NFTMGR_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Limits on what an outsider can make us allocate. */
#define RULESET_MAX_INPUT	(16u << 20)	/* bytes in one file or stream */
#define RULESET_MAX_DEPTH	64		/* nesting of YAML/JSON */
#define RULESET_MAX_NODES	(1u << 20)	/* values in one stream */
#define RULESET_MAX_SCALAR	(1u << 20)	/* bytes in one scalar */
#define RULESET_MAX_SELECTOR	(64u << 10)	/* bytes in one selector */
#define RULESET_MAX_DIAGS	1000		/* problems kept per run */
#define RULESET_MAX_FILES	10000		/* files read from a directory */

struct pos {
	uint32_t line;	/* 1-based; 0 = unknown */
	uint32_t col;	/* 1-based */
};

/* ---- diagnostics -------------------------------------------------------- */

struct diag {
	char *file;
	struct pos pos;
	char *ident;	/* "Kind/name", or NULL before it is known */
	char *path;	/* "spec.ingress[1].destination.ports[0]", or NULL */
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n;
	size_t cap;
	size_t dropped;	/* problems beyond RULESET_MAX_DIAGS */
};

/* Adds one problem; all strings may be NULL except msg. Out of memory is
 * counted in dropped. */
void diags_add(struct diags *d, const char *file, struct pos pos,
	       const char *ident, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Writes "FILE:LINE:COL: KIND/NAME: PATH: MSG" into a new string; caller
 * frees. Returns NULL on ENOMEM. */
char *diag_format(const struct diag *g);
void diags_clear(struct diags *d);

/* ---- labels ------------------------------------------------------------- */

struct label {
	char *key;
	char *value;
};

/* Sorted by key, unique keys. */
struct labels {
	struct label *v;
	size_t n;
};

/* Sets key to value (copies both), keeping the array sorted. */
int labels_set(struct labels *l, const char *key, const char *value);
const char *labels_get(const struct labels *l, const char *key);
void labels_clear(struct labels *l);

/* ---- selectors ---------------------------------------------------------- */

struct selector;

struct selector_error {
	size_t offset;		/* byte offset in the selector text */
	char msg[160];
};

/* Parses a Calico selector. Empty or blank text is all(). Returns 0 and a
 * new selector (free with selector_free()), or -EINVAL with err filled in,
 * or -ENOMEM. */
int selector_parse(const char *text, struct selector **ret,
		   struct selector_error *err);
struct selector *selector_free(struct selector *s);
bool selector_match(const struct selector *s, const struct labels *l);
/* Canonical text: normalised spacing, sorted and de-duplicated set members,
 * parentheses only where precedence needs them. Caller frees. */
char *selector_format(const struct selector *s);
/* True if global() appears anywhere / if the selector is exactly global(). */
bool selector_uses_global(const struct selector *s);
bool selector_is_global(const struct selector *s);
/* Every use of label from (has, ==, in, ...) becomes one of to. */
int selector_rename_label(struct selector *s, const char *from, const char *to);

/* ---- resources ---------------------------------------------------------- */

enum res_kind {
	RES_GLOBAL_NETWORK_POLICY,
	RES_NETWORK_POLICY,
	RES_HOST_ENDPOINT,
	RES_WORKLOAD_ENDPOINT,
	RES_GLOBAL_NETWORK_SET,
	RES_NETWORK_SET,
	RES_PROFILE,
	RES_FELIX_CONFIGURATION,
	RES_KIND_MAX
};

struct kind_info {
	const char *kind;	/* "GlobalNetworkPolicy" */
	const char *plural;	/* key segment, "globalnetworkpolicies" */
	bool namespaced;
	bool policy;		/* stored as default.<name> */
	const char *const *aliases;	/* CLI names, NULL-terminated */
};

const struct kind_info *kind_info(enum res_kind k);
/* Looks a CLI kind name or alias up, case-insensitively. Returns the kind
 * or -ENOENT. */
int kind_from_alias(const char *name);

enum action {
	ACTION_ALLOW,
	ACTION_DENY,
	ACTION_LOG,
	ACTION_PASS,
	ACTION_MAX
};

enum {
	POLICY_TYPE_INGRESS = 1 << 0,
	POLICY_TYPE_EGRESS = 1 << 1,
};

struct protocol {
	bool set;
	bool named;	/* written as a name (TCP) rather than a number */
	uint8_t num;
};

struct cidr {
	uint8_t family;	/* AF_INET or AF_INET6 */
	uint8_t len;
	uint8_t addr[16];
	struct pos pos;
};

/* Parses "10.0.0.0/8", "fd00::/8" or a bare address (full length). With
 * allow_host_bits the address is masked, else host bits are an error;
 * why gets the reason. Returns 0 or -EINVAL. */
/* A duration in whole seconds: "60", "60s", "2m"; 1..max. -EINVAL if it
 * is not one, -ERANGE if out of range. */
int duration_parse(const char *s, unsigned max, unsigned *ret);
int cidr_parse(const char *s, bool allow_host_bits, struct cidr *ret,
	       char *why, size_t whylen);
/* "10.0.0.0/8" (with_len) or "10.0.0.1". */
void cidr_format(const struct cidr *c, bool with_len, char *buf, size_t len);

struct port {
	uint16_t min;
	uint16_t max;
	char *name;	/* named port, min = max = 0 */
	struct pos pos;
};

struct icmp {
	bool set;
	bool has_type;
	bool has_code;
	uint8_t type;
	uint8_t code;
};

struct entity {
	struct cidr *nets;
	size_t n_nets;
	struct cidr *not_nets;
	size_t n_not_nets;
	char *selector;		/* canonical text, NULL if absent */
	char *not_selector;
	char *ns_selector;
	struct port *ports;
	size_t n_ports;
	struct port *not_ports;
	size_t n_not_ports;
	char **sa_names;	/* serviceAccounts.names */
	size_t n_sa_names;
	char *sa_selector;	/* serviceAccounts.selector */
};

struct rule {
	struct pos pos;
	enum action action;
	uint8_t ip_version;	/* 0 = both */
	struct protocol protocol;
	struct protocol not_protocol;
	struct icmp icmp;
	struct icmp not_icmp;
	struct entity src;
	struct entity dst;
};

struct policy_spec {
	bool has_order;
	double order;
	char *selector;		/* canonical; all() when empty */
	char *ns_selector;	/* GNP namespaceSelector */
	char *sa_selector;	/* serviceAccountSelector */
	struct rule *ingress;
	size_t n_ingress;
	struct rule *egress;
	size_t n_egress;
	unsigned types;		/* POLICY_TYPE_* */
	bool do_not_track;
	bool pre_dnat;
	bool apply_on_forward;
};

struct named_port {
	char *name;
	struct protocol protocol;
	uint16_t port;
};

struct endpoint_spec {
	char *node;
	char *iface;		/* interfaceName, "*" for all (HEP) */
	struct cidr *ips;	/* HEP expectedIPs / WEP ipNetworks */
	size_t n_ips;
	char **profiles;
	size_t n_profiles;
	struct named_port *ports;
	size_t n_ports;
	/* workload endpoints only */
	char *orchestrator;
	char *workload;
	char *pod;
	char *endpoint;
	char *container_id;
	char *mac;
	char *service_account;
};

struct netset_spec {
	struct cidr *nets;
	size_t n_nets;
};

struct profile_spec {
	struct rule *ingress;
	size_t n_ingress;
	struct rule *egress;
	size_t n_egress;
	struct labels labels_to_apply;
};

struct failsafe {
	struct protocol protocol;
	uint16_t port;
	bool has_net;
	struct cidr net;
};

struct felix_spec {
	bool has_failsafe_in;
	struct failsafe *failsafe_in;
	size_t n_failsafe_in;
	bool has_failsafe_out;
	struct failsafe *failsafe_out;
	size_t n_failsafe_out;
	char *interface_prefix;
	char *log_prefix;
	char *table_name;
	bool has_mark_mask;
	uint32_t mark_mask;
	bool has_merge_allow;
	bool merge_allow;	/* nftablesMergeAllowPolicies */
	char *ep_to_host;	/* defaultEndpointToHostAction: Drop|Return|Accept */
};

struct resource {
	enum res_kind kind;
	char *name;
	char *namespace;	/* namespaced kinds only */
	struct labels labels;
	struct labels annotations;
	char *uid;
	char *created;		/* creationTimestamp */
	char *file;		/* where it was read from */
	struct pos pos;
	uint64_t serial;	/* unique per decoded object (compile memo key) */
	union {
		struct policy_spec policy;	/* GNP, NP */
		struct endpoint_spec ep;	/* HEP, WEP */
		struct netset_spec netset;	/* GNS, NS */
		struct profile_spec profile;
		struct felix_spec felix;
	} u;
};

struct resource *resource_free(struct resource *r);

struct resource_list {
	struct resource **v;
	size_t n;
	size_t cap;
};

/* Takes ownership of r on every path. */
int resource_list_add(struct resource_list *l, struct resource *r);
void resource_list_clear(struct resource_list *l);
/* Sorts by kind, namespace, name (bytewise). */
void resource_list_sort(struct resource_list *l);

/* Policy order as Felix applies it: ascending order, absent last, ties by
 * name bytewise. Returns <0, 0, >0. */
int policy_compare(const struct resource *a, const struct resource *b);

/* ---- loading ------------------------------------------------------------ */

/*
 * Parses a YAML or JSON stream (several "---" documents; each a resource, a
 * sequence of resources or a ...List kind) into v3 resources appended to out.
 * Every problem is added to d with its location. Returns 0 when the whole
 * stream is valid, -EINVAL when d got problems (nothing is appended then),
 * -E2BIG for oversized input, -ENOMEM.
 */
int ruleset_load_buffer(const char *file, const char *buf, size_t len,
			struct resource_list *out, struct diags *d);
/* A file, a directory (its *.yaml, *.yml and *.json files in name order,
 * not recursive) or "-" for standard input. Same return values, plus
 * negative errno for I/O (also reported in d). All-or-nothing over every
 * file read. */
int ruleset_load_path(const char *path, struct resource_list *out,
		      struct diags *d);

/* Reads a whole file ("-": standard input), at most RULESET_MAX_INPUT
 * bytes, NUL-terminated. Caller frees. */
int ruleset_read_file(const char *path, char **ret, size_t *ret_len);
/* One resource from its stored v3 JSON (datastore value). */
int resource_from_storage(const char *file, const char *buf, size_t len,
			  struct resource **ret, struct diags *d);

/* ---- output ------------------------------------------------------------- */

/* One resource as compact v3 JSON for the datastore (policy names stored as
 * default.<name> unless knp.*). Caller frees. NULL on ENOMEM. */
char *resource_to_storage_json(const struct resource *r);
/* Writes resources as calicoctl would (-o yaml / -o json): a single
 * resource alone, several as a v3 ...List with items. Returns 0 or
 * negative errno. */
int resources_write_yaml(struct resource *const *v, size_t n, FILE *f);
int resources_write_json(struct resource *const *v, size_t n, FILE *f);

/* Datastore key: /calico/resources/v3/projectcalico.org/<plural>/[<ns>/]<name>
 * with policy names stored as default.<name>. Caller frees. */
char *resource_key(enum res_kind kind, const char *ns, const char *name);
/* Stored name of a policy (default.<name>, knp.* unchanged) and back.
 * Caller frees. */
char *policy_name_to_storage(const char *name);
char *policy_name_from_storage(const char *stored);

/* ---- the nftables model ------------------------------------------------- */

/*
 * One table, as the compiler builds it and as both the text printer and
 * the netlink committer consume it. Every string is owned by its object.
 */

enum nft_key {
	NFT_KEY_IPV4,		/* ipv4_addr */
	NFT_KEY_IPV6,		/* ipv6_addr */
	NFT_KEY_PORT,		/* inet_service */
	NFT_KEY_PROTO_PORT,	/* inet_proto . inet_service */
	NFT_KEY_IFNAME,		/* ifname : verdict (a verdict map) */
};

struct nft_elem {
	uint8_t lo[16];		/* addresses / ports big-endian; proto at [0] */
	uint8_t hi[16];		/* inclusive end, = lo for single values */
	char *ifname;		/* NFT_KEY_IFNAME */
	char *chain;		/* verdict map target */
	bool jump;		/* jump to it (else goto) */
};

struct nft_set {
	char *name;
	enum nft_key key;
	bool interval;
	struct nft_elem *elems;
	size_t n_elems;
	unsigned refs;		/* rules using it */
	uint64_t hash;		/* of the elements, to find equal sets */
};

enum nft_match_kind {
	NFT_M_NFPROTO,		/* num: 4 or 6 */
	NFT_M_L4PROTO,		/* num */
	NFT_M_SADDR,		/* family + (set or cidr) */
	NFT_M_DADDR,
	NFT_M_SPORT,		/* set or lo..hi */
	NFT_M_DPORT,
	NFT_M_ICMP,		/* family, num = type, code if has_code;
				 * or a type range lo..hi when hi != 0 */
	NFT_M_CT_STATE,		/* num: NFT_CT_* bits */
	NFT_M_MARK,		/* mask, value: meta mark & mask == value */
	NFT_M_PROTO_PORT,	/* meta l4proto . th dport @set (sport if num) */
	NFT_M_IIFNAME,		/* iifname "name" (may end in *) */
	NFT_M_OIFNAME,
};

enum {
	NFT_CT_INVALID = 1 << 0,
	NFT_CT_ESTABLISHED = 1 << 1,
	NFT_CT_RELATED = 1 << 2,
};

struct nft_match {
	enum nft_match_kind kind;
	bool neg;
	uint8_t family;		/* 4 or 6 for addresses and ICMP */
	bool has_code;
	uint32_t num;
	uint32_t code;
	uint32_t mask;
	uint32_t value;
	uint16_t lo, hi;	/* single port or range */
	struct cidr cidr;	/* single address */
	char *set;		/* named set, or NULL */
	char *ifname;		/* NFT_M_IIFNAME, NFT_M_OIFNAME */
};

enum nft_verdict {
	NFT_V_NONE,		/* continue */
	NFT_V_ACCEPT,
	NFT_V_DROP,
	NFT_V_RETURN,
	NFT_V_JUMP,
	NFT_V_GOTO,
	NFT_V_VMAP_IIF,		/* iifname vmap @target */
	NFT_V_VMAP_OIF,		/* oifname vmap @target */
};

struct nft_rule {
	struct nft_match *m;
	size_t n_m;
	bool mark_set;		/* meta mark set meta mark & mark_and | mark_or */
	uint32_t mark_and;
	uint32_t mark_or;
	bool notrack;
	bool nftrace;		/* meta nftrace set 1 (nftmgr trace's table) */
	char *log_prefix;
	enum nft_verdict verdict;
	char *target;		/* chain or map */
	char *comment;		/* "policy NAME ingress rule N", ... */
};

enum nft_hook {
	NFT_HOOK_NONE,
	NFT_HOOK_PREROUTING,
	NFT_HOOK_INPUT,
	NFT_HOOK_FORWARD,
	NFT_HOOK_OUTPUT,
};

struct nft_chain {
	char *name;
	enum nft_hook hook;	/* NONE: a regular chain */
	int prio;
	struct nft_rule *rules;
	size_t n_rules;
	size_t cap;
};

struct nft_table {
	char *name;		/* family inet */
	struct nft_chain **chains;
	size_t n_chains;
	struct nft_set **sets;
	size_t n_sets;
};

struct nft_table *nft_table_free(struct nft_table *t);
/* The table as an nft -f script that replaces any previous table of the
 * same name in one transaction and touches nothing else. */
int nft_table_print(const struct nft_table *t, FILE *f);
const struct nft_set *nft_table_find_set(const struct nft_table *t,
					 const char *name);
const struct nft_chain *nft_table_find_chain(const struct nft_table *t,
					     const char *name);
/* Equality of the model's objects, as the kernel would see them. */
bool nft_rule_equal(const struct nft_rule *a, const struct nft_rule *b);
bool nft_chain_rules_equal(const struct nft_chain *a, const struct nft_chain *b);
bool nft_set_elems_equal(const struct nft_set *a, const struct nft_set *b);

/* ---- explain ------------------------------------------------------------------ */

/* The first packet of a connection: with iif only it is for this host
 * (prerouting, input), with oif only it is from it (output), with both it
 * is forwarded (prerouting, forward). */
struct nft_packet {
	uint8_t family;			/* 4 or 6 */
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint8_t proto;			/* 6 tcp, 17 udp, 1 icmp, 58 icmpv6, ... */
	uint16_t sport;
	uint16_t dport;
	int icmp_type;			/* -1: none */
	int icmp_code;
	const char *iif;
	const char *oif;
	uint32_t mark;
};

struct nft_explain {
	bool accepted;
	char why[128];		/* the deciding rule's comment */
	char chain[128];	/* and its chain ("" if none decided) */
};

/* Walks p through t, printing each base chain and each matching rule to
 * f; fills ret with the verdict and the rule that decided. Returns 0 or
 * -EINVAL (neither interface given). */
int nft_explain(const struct nft_table *t, const struct nft_packet *p, FILE *f,
		struct nft_explain *ret);

/* ---- trace ------------------------------------------------------------------- */

/* Which packets nftmgr trace follows; unset fields match anything. */
struct nft_trace_filter {
	const char *iif, *oif;
	bool has_src, has_dst;	/* of one family; none: both families */
	struct cidr src, dst;
	uint8_t proto;
	uint16_t sport, dport;	/* need proto tcp, udp or sctp */
};

/* The table that sets nftrace on those packets, ahead of every other
 * table on prerouting and output. -EINVAL for ports without a protocol
 * that has them. */
int nft_trace_table(const char *name, const struct nft_trace_filter *f,
		    struct nft_table **ret);

/* ---- the compiler ----------------------------------------------------------- */

struct local_iface {
	char *name;
	struct cidr *addrs;
	size_t n_addrs;
};

struct compile_memo;

struct compile_opts {
	const char *node;			/* this node's name */
	const struct local_iface *ifaces;	/* for expectedIPs */
	size_t n_ifaces;
	/* Optional: what the last compile with this memo made of each
	 * policy, reused for policies that are the same objects (serial) when
	 * nothing else changed. The output is the same as without it. */
	struct compile_memo *memo;
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
 * table (free with nft_table_free()), or a negative errno.
 */
int ruleset_compile(struct resource *const *v, size_t n,
		    const struct compile_opts *o, struct nft_table **ret,
		    struct compile_stats *stats, struct diags *d);

/* ---- the file datastore ------------------------------------------------- */

struct store;

/* Opens (creating if needed) a datastore directory. Caller frees with
 * store_free(). */
int store_open(const char *dir, struct store **ret);
struct store *store_free(struct store *s);
/* Exclusive lock held until store_unlock() or store_free(). */
int store_lock(struct store *s);
void store_unlock(struct store *s);
/* Lists one kind (ns NULL: every namespace) into out. Corrupt files are
 * reported in d and skipped. */
int store_list(struct store *s, enum res_kind kind, const char *ns,
	       struct resource_list *out, struct diags *d);
/* Every resource of every kind. */
int store_list_all(struct store *s, struct resource_list *out,
		   struct diags *d);
/* 1 if present, 0 if not, negative errno. */
int store_exists(struct store *s, enum res_kind kind, const char *ns,
		 const char *name);
/* 1 with *ret (caller frees) if present, 0 if not, negative errno (an
 * unreadable file: -EINVAL, reported in d). */
int store_get(struct store *s, enum res_kind kind, const char *ns,
	      const char *name, struct resource **ret, struct diags *d);
/* Atomic: temp file, fsync, rename, fsync of the directory. */
int store_put(struct store *s, const struct resource *r);
/* -ENOENT if absent. */
int store_delete(struct store *s, enum res_kind kind, const char *ns,
		 const char *name);

/* ---- configuration ------------------------------------------------------ */

enum datastore_type {
	DATASTORE_FILE,
	DATASTORE_ETCDV3,
};

struct config {
	enum datastore_type type;
	char *datastore_dir;
	char *etcd_endpoints;
	char *etcd_key_file;
	char *etcd_cert_file;
	char *etcd_ca_cert_file;
	char *etcd_username;
	char *etcd_password;
};

#define CONFIG_DEFAULT_PATH	"/etc/nftmgr/nftmgr.cfg"
#define STORE_DEFAULT_DIR	"/var/lib/nftmgr"

/*
 * Reads a calicoctl.cfg-style file (v1 calicoApiConfig or v3
 * CalicoAPIConfig), then the environment (DATASTORE_TYPE, ETCD_ENDPOINTS,
 * ..., each also with a CALICO_ prefix), which wins over the file. A
 * missing file is fine unless must_exist. Problems go to d; returns 0,
 * -EINVAL or negative errno.
 */
int config_load(const char *path, bool must_exist, struct config *ret,
		struct diags *d);
void config_clear(struct config *c);

#endif
