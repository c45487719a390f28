/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resource: policy resources from YAML/JSON (Calico v1 and v3, Kubernetes)
 * to validated structs, and back to v3 JSON/YAML; located diagnostics;
 * the calicoctl-style config file, decoded the same way.
 * Depends on selector/ only. Never opens a socket, never prints.
 *
 * Conventions: functions that can fail return >= 0 on success and a negative
 * errno on failure; out-parameters are last and called ret_*. Problems with
 * input are collected in a struct diags for the caller to print.
 */
#ifndef NFTMGR_RESOURCE_H
#define NFTMGR_RESOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "selector.h"

/* Limits on what an outsider can make us allocate. The input limit is
 * configurable (NFTMGR_MAX_INPUT: bytes, or with a K, M or G suffix; at
 * most 4 GiB), and the values one stream may hold follow it (one per 16
 * bytes, as 16 MiB and 1,048,576 values once were). */
#define RULESET_MAX_INPUT_DEFAULT (64u << 20)
#define RULESET_MAX_DEPTH	  64 /* nesting of YAML/JSON */
/* The input limit in force and the values that go with it. */
size_t ruleset_max_input(void);
size_t ruleset_max_values(void);
#define RULESET_MAX_SCALAR (1u << 20) /* bytes in one scalar */
#define RULESET_MAX_DIAGS  1000	      /* problems kept per run */
#define RULESET_MAX_FILES  10000      /* files read from a directory */

struct pos {
	uint32_t line; /* 1-based; 0 = unknown */
	uint32_t col;  /* 1-based */
};

/* ---- diagnostics ---- */

struct diag {
	char *file;
	struct pos pos;
	char *ident; /* "Kind/name", or NULL before it is known */
	char *path;  /* "spec.ingress[1].destination.ports[0]", or NULL */
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n;
	size_t cap;
	size_t dropped; /* problems beyond RULESET_MAX_DIAGS */
};

/* Adds one problem; all strings may be NULL except msg. Out of memory is
 * counted in dropped. */
void diags_add(struct diags *d, const char *file, struct pos pos, const char *ident,
	       const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Writes "FILE:LINE:COL: KIND/NAME: PATH: MSG" into a new string; caller
 * frees. Returns NULL on ENOMEM. */
char *diag_format(const struct diag *g);
void diags_clear(struct diags *d);

/* ---- resources ---- */

enum res_kind {
	RES_GLOBAL_NETWORK_POLICY,
	RES_NETWORK_POLICY,
	RES_HOST_ENDPOINT,
	RES_WORKLOAD_ENDPOINT,
	RES_GLOBAL_NETWORK_SET,
	RES_NETWORK_SET,
	RES_PROFILE,
	RES_FELIX_CONFIGURATION,
	RES_TIER,
	RES_STAGED_GLOBAL_NETWORK_POLICY, /* stored and listed, never enforced */
	RES_STAGED_NETWORK_POLICY,
	RES_STAGED_K8S_NETWORK_POLICY, /* a Kubernetes NetworkPolicy, staged */
	RES_KIND_MAX
};

struct kind_info {
	const char *kind;   /* "GlobalNetworkPolicy" */
	const char *plural; /* key segment, "globalnetworkpolicies" */
	bool namespaced;
	bool policy;		    /* a policy spec; stored as default.<name> */
	const char *const *aliases; /* CLI names, NULL-terminated */
};

const struct kind_info *kind_info(enum res_kind k);
/* Whether name (any case) is a field of the kind's v3 metadata or spec. */
bool kind_has_field(enum res_kind k, const char *name);
/* Looks a CLI kind name or alias up, case-insensitively. Returns the kind
 * or -ENOENT. */
int kind_from_alias(const char *name);
/* Staged policies: a policy spec that is never enforced. */
bool kind_is_staged(enum res_kind k);
/* The enforced kind a staged one stands for (others: itself). */
enum res_kind kind_enforced(enum res_kind k);

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
	bool named; /* written as a name (TCP) rather than a number */
	uint8_t num;
};

struct cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
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
int cidr_parse(const char *s, bool allow_host_bits, struct cidr *ret, char *why, size_t whylen);
/* "10.0.0.0/8" (with_len) or "10.0.0.1". */
void cidr_format(const struct cidr *c, bool with_len, char *buf, size_t len);

struct port {
	uint16_t min;
	uint16_t max;
	char *name; /* named port, min = max = 0 */
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
	char *selector; /* canonical text, NULL if absent */
	char *not_selector;
	char *ns_selector;
	struct port *ports;
	size_t n_ports;
	struct port *not_ports;
	size_t n_not_ports;
	char **sa_names; /* serviceAccounts.names */
	size_t n_sa_names;
	char *sa_selector; /* serviceAccounts.selector */
	char *svc_name;	   /* services: matches nothing here (see choices) */
	char *svc_ns;
};

struct rule {
	struct pos pos;
	enum action action;
	uint8_t ip_version; /* 0 = both */
	struct protocol protocol;
	struct protocol not_protocol;
	struct icmp icmp;
	struct icmp not_icmp;
	struct entity src;
	struct entity dst;
	char *http; /* the http match as written (JSON): not enforced, see choices */
};

enum staged_action {
	STAGED_SET, /* the default */
	STAGED_DELETE,
	STAGED_LEARN,
	STAGED_IGNORE,
};

/* "Set", "Delete", "Learn", "Ignore". */
const char *staged_action_name(enum staged_action a);

struct policy_spec {
	char *tier; /* canonical tier name; NULL: "default" */
	enum staged_action staged_action;
	char *k8s_spec; /* StagedKubernetesNetworkPolicy: its spec as written (JSON) */
	bool has_order;
	double order;
	char *selector;	   /* canonical; all() when empty */
	char *ns_selector; /* GNP namespaceSelector */
	char *sa_selector; /* serviceAccountSelector */
	struct rule *ingress;
	size_t n_ingress;
	struct rule *egress;
	size_t n_egress;
	unsigned types; /* POLICY_TYPE_* */
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
	char *iface;	  /* interfaceName, "*" for all (HEP) */
	struct cidr *ips; /* HEP expectedIPs / WEP ipNetworks */
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
	struct cidr *spoof; /* allowSpoofedSourcePrefixes */
	size_t n_spoof;
	struct cidr *nat_internal; /* ipNATs[].internalIP (checked only) */
	size_t n_nat;
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
	bool merge_allow; /* nftablesMergeAllowPolicies */
	char *ep_to_host; /* defaultEndpointToHostAction: Drop|Return|Accept */
	bool has_spoof_any;
	bool spoof_any; /* workloadSourceSpoofing: Any */
};

/* Tiers: order ascending, then name; defaultAction at the end of a tier
 * in which no policy decided. */
#define TIER_DEFAULT	   "default"
#define TIER_KUBE_ADMIN	   "kube-admin"
#define TIER_KUBE_BASELINE "kube-baseline"

struct tier_spec {
	bool has_order;
	double order;
	enum action default_action; /* ACTION_DENY or ACTION_PASS */
};

/* The tier a policy spec is in ("default" when it names none). */
const char *policy_tier(const struct policy_spec *p);
/* A tier name as nftmgr keeps it: 3.29-3.31's adminnetworkpolicy and
 * baselineadminnetworkpolicy are 3.32's kube-admin and kube-baseline. */
const char *tier_canonical(const char *name);
/* The tiers that exist without being written (default, kube-admin,
 * kube-baseline): true and their fixed spec in *ret. */
bool tier_reserved(const char *name, struct tier_spec *ret);

struct resource {
	enum res_kind kind;
	char *name;
	char *namespace; /* namespaced kinds only */
	struct labels labels;
	struct labels annotations;
	char *uid;
	char *created; /* creationTimestamp */
	char *file;    /* where it was read from */
	struct pos pos;
	uint64_t serial; /* unique per decoded object (compile memo key) */
	union {
		struct policy_spec policy; /* GNP, NP */
		struct endpoint_spec ep;   /* HEP, WEP */
		struct netset_spec netset; /* GNS, NS */
		struct profile_spec profile;
		struct felix_spec felix;
		struct tier_spec tier;
	} u;
};

struct resource *resource_free(struct resource *r);

/* The Felix settings that hold on node: FelixConfiguration "default",
 * then "node.<node>" over it, field by field. ret's strings and arrays
 * point into v (not to be freed). Returns 0 or -ENOMEM. */
int felix_settings(struct resource *const *v, size_t n, const char *node, struct felix_spec *ret);

struct resource_list {
	struct resource **v;
	size_t n;
	size_t cap;
};

/* Takes ownership of r on every path. */
int resource_list_add(struct resource_list *l, struct resource *r);
/* Appends the reserved tiers l does not hold (they exist unwritten). */
int tiers_add_reserved(struct resource_list *l);
void resource_list_clear(struct resource_list *l);
/* Sorts by kind, namespace, name (bytewise). */
void resource_list_sort(struct resource_list *l);

/* Policy order within a tier as Felix 3.32 applies it: ascending order,
 * absent last, ties by name, then namespace, then kind. Returns <0, 0,
 * >0. */
int policy_compare(const struct resource *a, const struct resource *b);

/* ---- loading ---- */

/*
 * Parses a YAML or JSON stream (several "---" documents; each a resource, a
 * sequence of resources or a ...List kind) into v3 resources appended to out.
 * Every problem is added to d with its location. Returns 0 when the whole
 * stream is valid, -EINVAL when d got problems (nothing is appended then),
 * -E2BIG for oversized input, -ENOMEM.
 */
int ruleset_load_buffer(const char *file, const char *buf, size_t len, struct resource_list *out,
			struct diags *d);
/* The same, but the resources that decoded are appended even when others
 * did not (-EINVAL, the problems in d): for convert --ignore-validation. */
int ruleset_load_buffer_partial(const char *file, const char *buf, size_t len,
				struct resource_list *out, struct diags *d);
/* A file, a directory (its *.yaml, *.yml and *.json files in name order,
 * not recursive) or "-" for standard input. Same return values, plus
 * negative errno for I/O (also reported in d). All-or-nothing over every
 * file read. */
int ruleset_load_path(const char *path, struct resource_list *out, struct diags *d);

/* Reads a whole file ("-": standard input), at most ruleset_max_input()
 * bytes, NUL-terminated. Caller frees. */
int ruleset_read_file(const char *path, char **ret, size_t *ret_len);
/* One resource from its stored v3 JSON (datastore value). */
int resource_from_storage(const char *file, const char *buf, size_t len, struct resource **ret,
			  struct diags *d);

/* ---- patches ---- */

enum patch_type {
	PATCH_STRATEGIC, /* calicoctl's default: objects merge, lists replace */
	PATCH_MERGE,	 /* JSON Merge Patch, RFC 7386 */
	PATCH_JSON,	 /* JSON Patch, RFC 6902 */
};

/* "strategic", "merge" or "json"; -EINVAL for anything else. */
int patch_type_parse(const char *s);
/* Applies patch (JSON or YAML text) to r's v3 form and decodes the result
 * as a whole, as apply would. Returns 0 and a new resource in *ret (caller
 * frees), or -EINVAL with the operation or field that failed in d (also
 * when the patch would change the kind, name or namespace), -E2BIG,
 * -ENOMEM. r is not changed. */
int resource_patch(const struct resource *r, const char *patch, size_t len, enum patch_type t,
		   struct resource **ret, struct diags *d);

/* ---- output ---- */

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

/* ---- Calico 2.6's datastore: etcd v2 keys under /calico/v1 ---- */

#define BACKEND_V1_PREFIX "/calico/v1/"
#define BACKEND_V1_READY  "/calico/v1/Ready"

struct backend_kv {
	const char *key; /* the whole key */
	const char *value;
	size_t len;
};

enum backend_v1_kind {
	BACKEND_V1_OTHER, /* not read: IP pools, node data, Ready, ... */
	BACKEND_V1_POLICY,
	BACKEND_V1_PROFILE, /* three keys: rules, tags, labels */
	BACKEND_V1_HOST_ENDPOINT,
	BACKEND_V1_WORKLOAD_ENDPOINT,
	BACKEND_V1_CONFIG, /* Felix settings, one key each, global or per host */
};

/* What key is part of, and the length of the prefix the keys of that
 * object share (0 for BACKEND_V1_OTHER). */
size_t backend_v1_object(const char *key, enum backend_v1_kind *ret);

/* Leave out what calico-upgrade leaves out: objects the controllers write
 * again (knp.default.* policies, k8s_ns.* and openstack-sg-* profiles,
 * OpenStack endpoints) and Felix settings nftmgr does not use. */
#define BACKEND_V1_UPGRADE (1u << 0)

/*
 * The objects of kvs (sorted by key) as v3 resources, each converted as
 * the v1 manifest it stands for (see 'convert'); r->file is the object's
 * first key. An object that does not decode is reported in d and left out;
 * what is left out on purpose (Felix settings nftmgr does not use, and with
 * BACKEND_V1_UPGRADE the controllers' objects) goes to skipped (may be
 * NULL), one entry each with the reason. Returns 0 or -ENOMEM.
 */
int backend_v1_decode(const struct backend_kv *kvs, size_t n, unsigned flags,
		      struct resource_list *out, struct diags *d, struct diags *skipped);

/* ---- configuration ---- */

enum datastore_type {
	DATASTORE_FILE,
	DATASTORE_ETCDV3,
	DATASTORE_ETCDV2, /* Calico 2.6's /calico/v1 keys, read-only */
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

#define CONFIG_DEFAULT_PATH "/etc/nftmgr/nftmgr.cfg"
#define STORE_DEFAULT_DIR   "/var/lib/nftmgr"

/*
 * Reads a calicoctl.cfg-style file (v1 calicoApiConfig or v3
 * CalicoAPIConfig), then the environment (DATASTORE_TYPE, ETCD_ENDPOINTS,
 * ..., each also with a CALICO_ prefix), which wins over the file. A
 * missing file is fine unless must_exist. Problems go to d; returns 0,
 * -EINVAL or negative errno.
 */
int config_load(const char *path, bool must_exist, struct config *ret, struct diags *d);
/* The same for calico-upgrade's --apiconfigv1: the environment is
 * APIV1_ETCD_ENDPOINTS, ... (also with a CALICO_ prefix), and endpoints
 * without a datastoreType mean etcdv2, as calicoctl 1.x read them. */
int config_load_apiv1(const char *path, bool must_exist, struct config *ret, struct diags *d);
void config_clear(struct config *c);

#endif
