/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The program: commands, exit statuses and the helpers they share.
 * Conventions: cmd_* return exit statuses (EXIT_OK, EXIT_FAIL, EXIT_USAGE);
 * every other function returns 0 or a negative errno, having printed why
 * when it fails. */
#ifndef NFTMGR_NFTMGR_H
#define NFTMGR_NFTMGR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "compile.h"
#include "store.h"

/* meson -Dtest_knobs=false (packages) leaves it undefined */
#ifndef NFTMGR_TEST_KNOBS
#define NFTMGR_TEST_KNOBS 0
#endif

/* Exit statuses, as calicoctl. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

/* Global options, parsed by main() before the command. */
struct ctx {
	const char *config_path;
	bool config_explicit;
	const char *node;
	const char *datastore_dir;
	const char *prog;
	bool spread; /* the daemon: start at the member the node's name picks */
};

struct command {
	const char *name;
	int (*fn)(struct ctx *ctx, int argc, char **argv);
	const char *summary;
};

int cmd_apply(struct ctx *ctx, int argc, char **argv);
int cmd_create(struct ctx *ctx, int argc, char **argv);
int cmd_replace(struct ctx *ctx, int argc, char **argv);
int cmd_delete(struct ctx *ctx, int argc, char **argv);
int cmd_get(struct ctx *ctx, int argc, char **argv);
int cmd_validate(struct ctx *ctx, int argc, char **argv);
int cmd_version(struct ctx *ctx, int argc, char **argv);
int cmd_export(struct ctx *ctx, int argc, char **argv);
int cmd_sync(struct ctx *ctx, int argc, char **argv);
int cmd_diff(struct ctx *ctx, int argc, char **argv);
int cmd_daemon(struct ctx *ctx, int argc, char **argv);
int cmd_stats(struct ctx *ctx, int argc, char **argv);
int cmd_explain(struct ctx *ctx, int argc, char **argv);
int cmd_confirm(struct ctx *ctx, int argc, char **argv);
int cmd_trace(struct ctx *ctx, int argc, char **argv);
int cmd_patch(struct ctx *ctx, int argc, char **argv);
int cmd_label(struct ctx *ctx, int argc, char **argv);
int cmd_convert(struct ctx *ctx, int argc, char **argv);
int cmd_upgrade(struct ctx *ctx, int argc, char **argv);

/* confirm.c: commits that are rolled back unless confirmed. */
struct datastore;
struct undo {		       /* the stored resources to put back */
	struct resource **put; /* their versions before the write */
	size_t n_put;
	struct resource **del; /* written where there was none */
	size_t n_del;
};

struct confirm {
	int pid;
	int fd; /* to the helper: how the commit went */
	unsigned seconds;
	long long deadline;
};

/* --confirm-within's value; prints why it is refused (-EINVAL). */
int confirm_opt(const char *arg, unsigned *ret);
/* Whether a write can be confirmed: the file datastore, and a sync;
 * prints why not (-EOPNOTSUPP). */
int confirm_usable(struct datastore *ds, bool no_sync);
/* Saves table as it is and forks the helper that restores it (and the
 * resources of undo, when not NULL) unless confirmed within seconds.
 * Prints its own errors; fails if a commit awaits confirmation already. */
int confirm_arm(struct ctx *ctx, const char *table, unsigned seconds, const struct undo *undo,
		struct confirm *ret);
/* Tells the helper whether the commit happened (if not, it has nothing
 * to roll back and leaves); prints the deadline. */
void confirm_done(struct confirm *c, bool committed);
#define CONFIRM_MAX_SECONDS 3600

/* node.c: what export and sync share. */
struct node_input {
	char **paths; /* -f PATH...; none: the datastore */
	size_t n_paths;
	struct local_iface *ifs;
	size_t n_ifs;
	bool own_ifs;		   /* --local-address given */
	bool daemon;		   /* set by the daemon: accept its options */
	struct compile_memo *memo; /* the etcd daemon's, across compiles */
	const char *metrics;	   /* --metrics-address HOST:PORT */
	unsigned confirm_within;   /* sync --confirm-within: seconds */
	bool boot;		   /* sync --boot */
	bool help;		   /* --help was printed */
	struct confirm *armed;	   /* already armed by the caller */
};

void ifaces_free(struct local_iface *v, size_t n);
int ifaces_from_system(struct local_iface **v, size_t *n);
int iface_from_arg(const char *arg, struct local_iface **v, size_t *n);
int load_resources(struct ctx *ctx, char **paths, size_t n_paths, struct resource_list *l);
/* Compiles this node's table; prints its own errors. */
int node_table(struct ctx *ctx, struct node_input *in, struct model_table **ret,
	       struct compile_stats *stats);
/* The same from resources in hand (not taken over). */
int node_compile(struct ctx *ctx, struct node_input *in, struct resource *const *v, size_t n,
		 struct model_table **ret, struct compile_stats *stats);
void node_input_clear(struct node_input *in);

/* sync-stamp.c: a sync nothing can have changed for (same inputs, and
 * the table as our last sync left it) does nothing. */
struct sync_digest {
	uint64_t a, b;
};
/* What a sync of in would compile from, hashed; -EOPNOTSUPP when it must
 * sync anyway (etcd, --confirm-within, --boot, unreadable input). */
int sync_stamp_digest(struct ctx *ctx, const struct node_input *in, struct sync_digest *d);
/* Whether this network namespace's stamp has d and the kernel's table is
 * as that sync left it (then *table is its name). */
bool sync_stamp_fresh(const struct sync_digest *d, char *table, size_t len);
/* After a sync of inputs d that left table at generation genid. */
void sync_stamp_write(const struct sync_digest *d, const char *table, uint32_t genid);
/* Parses -f, --local-address, --full (when full is non-NULL) and --help
 * (in->help). Returns 0, or a negative errno after printing why. */
int node_args(struct ctx *ctx, int argc, char **argv, struct node_input *in, bool *full,
	      void (*usage)(FILE *f, const char *prog));
/* Compiles and syncs this node's kernel (incremental, or whole with
 * full), printing the outcome. Returns 0 or a negative errno. */
int sync_node(struct ctx *ctx, struct node_input *in, bool full);

/* modify.c: patch and label. One stored resource is read, changed by fn
 * and written back only if it is still the version read (etcd: its
 * revision; the file datastore: under the lock); then done() prints the
 * outcome and this node syncs (file datastore, unless no_sync). */
struct modify {
	const char *verb; /* "patch", "label": for messages */
	const char *kind, *name, *ns;
	bool no_sync;
	/* A new resource from old; prints why not. */
	int (*fn)(const struct resource *old, struct resource **ret, void *data);
	void (*done)(void *data);
	void *data;
};

int modify_run(struct ctx *ctx, const struct modify *m);

/* get-columns.c: get -o custom-columns; prints the table, or why a
 * heading is unknown (-EINVAL). */
int columns_print(const struct resource_list *l, enum res_kind k, char *const *cols, size_t n);

/* privileges.c: the daemon keeps CAP_NET_ADMIN alone once started, and an
 * etcd password from the environment is wiped from /proc/PID/environ. */
int privileges_drop(void);
void secrets_scrub_env(void);

/* policy-counters.c: kernel counters in policy terms. */
struct nl_counter;
struct counters {
	struct nl_counter *v;
	size_t n;
};

const char *table_name(struct ctx *ctx);
int counters_load(struct ctx *ctx, struct counters *c);
void counters_clear(struct counters *c);
void counters_policy(const struct counters *c, const char *label, uint64_t *packets,
		     uint64_t *bytes);
void counters_iface(const struct counters *c, const char *iface, uint64_t *packets,
		    uint64_t *bytes);

/* datastore.c: the file datastore or etcd, behind one face. */
struct datastore;
struct etcd;

/* Loads the config and opens the datastore it names. Returns 0 or a
 * negative errno, having printed why. */
int ds_open(struct ctx *ctx, struct datastore **ret);
struct datastore *ds_free(struct datastore *ds);
/* NULL for the file datastore. */
struct etcd *ds_etcd(struct datastore *ds);
/* Calico 2.6's layout over etcd's v2 API: read-only (writes are refused
 * with -EROFS, pointing to 'upgrade'). */
bool ds_is_etcdv2(const struct datastore *ds);
/* The file datastore holds r already, byte for byte, as old. */
bool ds_holds(const struct datastore *ds, const struct resource *r, const struct resource *old);
/* Tiers as Calico's client keeps them (tiers.c): with del, no reserved
 * tier and none a stored policy names is deleted; else every policy of in
 * names a tier that exists. 0, or a negative errno after saying why. */
int tiers_check(struct datastore *ds, const struct resource_list *in, bool del);
/* 0, or -EROFS after saying that etcdv2 is read-only. */
int ds_writable(const struct datastore *ds);
/* etcd: where the daemon keeps the resources of its last commit, for
 * sync --boot to commit before the network (and etcd) is up; in the
 * configured datastoreDir. NULL for the file datastore. */
#define LKG_FILE "etcd-last-known-good.yaml"
const char *ds_lkg_path(const struct datastore *ds);
const char *ds_where(const struct datastore *ds);
/* The file datastore's writer lock; nothing for etcd (transactions). */
int ds_lock(struct datastore *ds);
void ds_unlock(struct datastore *ds);
/* One kind (kind < 0: all) into out; undecodable entries reported in d. */
int ds_list(struct datastore *ds, int kind, struct resource_list *out, struct diags *d);
/* The stored version of r: 1 with *old (may stay NULL when unreadable;
 * caller frees) and its revision (etcd), 0 if absent, negative errno. */
int ds_get(struct datastore *ds, const struct resource *r, struct resource **old, int64_t *rev);
/* uid and creationTimestamp: kept from old, else new ones. */
int ds_stamp(struct resource *r, const struct resource *old);
/* Writes (deletes) every v[i] whose revs[i] is not -1, all or nothing on
 * etcd, where revs[i] is the revision ds_get() saw (0: absent) and a
 * key changed since then fails the whole write with -ESTALE. */
int ds_put_all(struct datastore *ds, struct resource *const *v, const int64_t *revs, size_t n,
	       size_t *done);
int ds_delete_all(struct datastore *ds, struct resource *const *v, const int64_t *revs, size_t n,
		  size_t *done);

/* packet-args.c: the packet options of explain and trace. */
struct packet_args {
	const char *iif, *oif;
	bool has_src, has_dst;
	struct cidr src, dst; /* addresses or prefixes, as the command takes */
	bool has_proto;
	uint8_t proto;
	uint16_t sport, dport;
};

#define PACKET_LONG_OPTIONS                                                                       \
	{ "in", required_argument, NULL, 'i' }, { "out", required_argument, NULL, 'o' },          \
		{ "src", required_argument, NULL, 's' }, { "dst", required_argument, NULL, 'd' }, \
		{ "proto", required_argument, NULL, 'p' },                                        \
		{ "sport", required_argument, NULL, 'S' },                                        \
	{                                                                                         \
		"dport", required_argument, NULL, 'D'                                             \
	}

/* Takes getopt's opt and arg when opt is a packet option: 1 when it was
 * one, 0 when not, -EINVAL after printing why the value is bad. */
int packet_opt(int opt, const char *arg, struct packet_args *pa);
/* The checks across options (one family; ports need tcp, udp or sctp);
 * prints why and returns -EINVAL. */
int packet_args_check(const struct packet_args *pa);

/* Helpers (util.c). */
void print_diags(const struct diags *d);
/* The file datastore's directory, from --datastore-dir or the config.
 * Caller frees. */
int ctx_store_dir(struct ctx *ctx, char **ret);
/* "Kind" when every resource has one kind, else NULL. */
const char *common_kind(struct resource *const *v, size_t n);
const char *node_name(const struct ctx *ctx);
/* Why a datastore write failed, for the user. */
const char *write_error(int e);
/* "tcp", "udp", "sctp", "icmp", "icmpv6" or 0..255; -EINVAL if none. */
int proto_from_arg(const char *s);
/* 0..max; -EINVAL if not a number in range. */
int num_from_arg(const char *s, long max);
/* "NAMESPACE/NAME", or "NAME" for a global kind, in buf. */
const char *resource_path(const struct resource *r, char *buf, size_t len);
/* KIND NAME [-n NS] as a resource holding only its kind, name and
 * namespace ("default" for namespaced kinds). */
int named_resource(const char *kind, const char *name, const char *ns, struct resource **ret);
/* Syncs this node after a write, telling c (if not NULL) how it went.
 * Returns 0 or a negative errno, having printed why. */
int after_write_sync(struct ctx *ctx, struct confirm *c);

#endif
