/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to resource/: the located value tree and the decoder context. */
#ifndef NFTMGR_RULESET_INTERNAL_H
#define NFTMGR_RULESET_INTERNAL_H

#include <jansson.h>

#include "resource.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

/* A parsed YAML/JSON value with where it came from. */
enum value_type {
	VALUE_SCALAR,
	VALUE_SEQ,
	VALUE_MAP,
};

enum scalar_type {
	SCALAR_NULL,
	SCALAR_BOOL,
	SCALAR_INT,
	SCALAR_FLOAT,
	SCALAR_STR,
};

struct value {
	enum value_type type;
	bool quoted; /* quoted or tagged !!str: never resolved */
	struct pos pos;
	char *str; /* scalars */
	size_t len;
	struct value **kids; /* seq: items; map: key0, val0, key1, ... */
	size_t n;	     /* entries in kids */
};

struct value_budget {
	size_t nodes;
	size_t max; /* 0: ruleset_max_values(), read on first use */
};

struct value *value_free(struct value *n);
int value_add_kid(struct value *parent, struct value *kid);
/* YAML 1.2 core schema resolution of a scalar. */
enum scalar_type value_scalar_type(const struct value *n);
/* Value for key in a map node, or NULL. */
const struct value *value_map_get(const struct value *map, const char *key);

/* Each callback gets one document root; return negative to stop. */
typedef int (*doc_fn)(void *userdata, const struct value *root);

/* Streams of documents. Syntax problems go to d; returns 0, -EINVAL when
 * d got problems, -ENOMEM. */
int value_parse_yaml(const char *file, const char *buf, size_t len, doc_fn fn, void *userdata,
		     struct diags *d);
int value_parse_json(const char *file, const char *buf, size_t len, doc_fn fn, void *userdata,
		     struct diags *d);
/* A jansson value as a tree without positions. NULL on ENOMEM or depth. */
struct value *value_from_json(const json_t *j, unsigned depth, struct value_budget *b);

/* Decoder context: where we are, for messages. */
enum api_version {
	API_V1,
	API_V3,
	API_K8S,
};

struct dctx {
	struct diags *d;
	const char *file;
	enum api_version ver;
	char ident[320];
	char path[1024];
	size_t plen;
	unsigned errors;
};

size_t dctx_push(struct dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same as dctx_push(c, "[%zu]", i). */
size_t dctx_push_index(struct dctx *c, size_t i);
/* values.c: v in decimal at p (no NUL, no printf); the digits written. */
size_t put_uint(char *p, size_t v);
void dctx_pop(struct dctx *c, size_t saved);
void dctx_err(struct dctx *c, const struct value *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Table-driven decoding of a map: every key must be a known field. */
struct field {
	const char *name;
	void (*fn)(struct dctx *c, const struct value *n, void *out);
	size_t off;
};

void decode_fields(struct dctx *c, const struct value *map, const struct field *f, size_t nf,
		   void *base);
/* Whether a field table has name (any case). */
bool fields_have(const struct field *f, size_t n, const char *name);
bool decode_expect(struct dctx *c, const struct value *n, enum value_type t);

/* Scalar field decoders (out points at the field). */
void dec_string(struct dctx *c, const struct value *n, void *out);
void dec_bool(struct dctx *c, const struct value *n, void *out);
void dec_string_list(struct dctx *c, const struct value *n, void *out);
void dec_labels(struct dctx *c, const struct value *n, void *out);
void dec_annotations(struct dctx *c, const struct value *n, void *out);
void dec_ignore(struct dctx *c, const struct value *n, void *out);
bool dec_uint(struct dctx *c, const struct value *n, uint64_t max, uint64_t *ret);

/* Values. */
int protocol_parse(struct dctx *c, const struct value *n, struct protocol *ret);
const char *protocol_name(uint8_t num, enum api_version ver);

/* Rules and specs. */
/* Calico's named-port syntax: [a-zA-Z0-9_.-]{1,128}. */
bool port_name_ok(const char *s);
void dec_rules(struct dctx *c, const struct value *n, void *out);
void rule_free_contents(struct rule *r);
void rules_free(struct rule *v, size_t n);
void dec_selector(struct dctx *c, const struct value *n, void *out);
void dec_policy_types(struct dctx *c, const struct value *n, void *out);
bool validate_name(struct dctx *c, const struct value *at, enum res_kind k, const char *name);
bool validate_label_key(const char *k, enum api_version ver);
bool validate_label_value(const char *v);
bool validate_namespace(const char *ns);

/* A Tier once named: the reserved ones' fixed spec checked, the
 * 3.29-3.31 names made 3.32's. */
void tier_named(struct dctx *c, const struct value *spec, struct resource *r);
/* endpoint-fields.c: endpoint fields as Calico's validator checks them. */
void dec_hep_ports(struct dctx *c, const struct value *n, void *out);
void dec_wep_ports(struct dctx *c, const struct value *n, void *out);
void dec_nats(struct dctx *c, const struct value *n, void *out);
void dec_gw4(struct dctx *c, const struct value *n, void *out);
void dec_gw6(struct dctx *c, const struct value *n, void *out);
void dec_container_id(struct dctx *c, const struct value *n, void *out);
void dec_spoof(struct dctx *c, const struct value *n, void *out);
/* After a workload's spec: networks single addresses, NATs inside them. */
void wep_check(struct dctx *c, const struct value *spec, const struct endpoint_spec *e);
/* The spec of r (its kind set) from spec, which may be NULL. */
void decode_spec(struct dctx *c, const struct value *spec, struct resource *r);
/* One document root to resources (appended to out). */
void decode_document(struct dctx *c, const struct value *root, struct resource_list *out);
/* A resource from its JSON tree, used by datastores. */
struct resource *decode_one(struct dctx *c, const struct value *root);

/* A FelixConfiguration spec field nftmgr reads or accepts (any case). */
bool felix_has_field(const char *name);
void felix_dec_spec(struct dctx *c, const struct value *spec, struct felix_spec *f);

/* Kubernetes resources translated to Calico v3 ones (k8s.c, and
 * k8s-admin.c for the admin and cluster network policies). */
struct k8s_meta {
	char *name;
	char *namespace;
	struct labels labels;
	struct labels annotations;
	char *uid;
	char *created;
};

struct expr_in {
	bool valid;
	char *key;
	char *op;
	struct {
		char **v;
		size_t n;
	} values;
};

struct label_selector {
	struct labels match;
	struct expr_in *exprs;
	size_t n_exprs;
	bool present;
};

void dec_label_selector(struct dctx *c, const struct value *n, void *out);
void label_selector_clear(struct label_selector *s);
/* A Kubernetes label selector as canonical Calico selector text; pods
 * also get projectcalico.org/orchestrator == 'k8s'. */
char *k8s_selector(struct dctx *c, const struct value *at, const struct label_selector *s,
		   bool pods);
int add_cidr(struct dctx *c, const struct value *at, const char *s, struct cidr **v, size_t *n);
/* Appends *r to the list, which takes its contents on every path. */
int rule_push(struct rule **v, size_t *n, struct rule *r);
/* Keeps a pointer to the field's value node. */
void dec_node_ptr(struct dctx *c, const struct value *n, void *out);
bool k8s_meta(struct dctx *c, const struct value *root, struct k8s_meta *m);
void k8s_meta_clear(struct k8s_meta *m);
void k8s_check_top(struct dctx *c, const struct value *root);
struct resource *k8s_decode_network_policy(struct dctx *c, const struct value *root);
struct resource *k8s_decode_namespace(struct dctx *c, const struct value *root);
/* Calico's StagedKubernetesNetworkPolicy: a Kubernetes NetworkPolicy's
 * spec with stagedAction, kept as written for output. */
struct resource *k8s_decode_staged_network_policy(struct dctx *c, const struct value *root);
/* AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy. */
struct resource *k8s_decode_admin_policy(struct dctx *c, const struct value *root,
					 const char *kind);

/* patch.c: a patch (JSON or YAML text) applied to *doc, which it may
 * replace (or free and set to NULL on failure); problems in d, named
 * after ident. 0, -EINVAL, -E2BIG. */
int patch_apply_doc(json_t **doc, const char *patch, size_t len, enum patch_type t,
		    const char *ident, struct diags *d);
/* A value tree as JSON; NULL on ENOMEM or (*bad_key) a key that is not
 * a scalar. */
json_t *value_to_json(const struct value *v, bool *bad_key);
/* The same as compact JSON text; caller frees; NULL on failure. */
char *value_json_text(const struct value *v);
/* decode-spec.c: Set, Delete, Learn or Ignore into a policy_spec. */
void dec_staged_action(struct dctx *c, const struct value *n, void *out);
/* Output: a resource as a jansson object. storage: stored policy name. */
json_t *resource_to_json(const struct resource *r, bool storage);

/* json-write.c: compact JSON text as json_dumps(JSON_COMPACT) writes it,
 * built in order without a tree. A failure (no memory, a string that is
 * not UTF-8) sticks: jw_done() then frees and returns NULL. */
struct jw {
	char *buf;
	size_t len, cap;
	bool comma; /* this level has a member: the next gets a ',' */
	bool bad;
};
void jw_open(struct jw *w, char c); /* '{' or '[' */
void jw_close(struct jw *w, char c);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);
/* key and string, nothing when s is NULL */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_int(struct jw *w, long long v);
/* JSON text as it is (true, false); NULL fails the writer */
void jw_raw(struct jw *w, const char *text);
/* a jansson value, dumped compact; NULL fails the writer */
void jw_json(struct jw *w, const json_t *j);
/* the text (caller frees), or NULL */
char *jw_done(struct jw *w);

#endif
