/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's parts: the loop (cmd-daemon.c), the etcd source
 * (daemon-etcd.c) and its v2 variant (daemon-etcdv2.c). */
#ifndef NFTMGR_DAEMON_H
#define NFTMGR_DAEMON_H

#include <stdint.h>

#include "nftmgr.h"

#define SETTLE_MS	     100   /* files: a burst of writes becomes one commit */
#define ETCD_BURST_MS	     100   /* etcd: changes this soon after a commit are a burst, */
#define ETCD_BURST_SETTLE_MS 25	   /* committed after this much quiet ... */
#define ETCD_MAX_WAIT_MS     100   /* ... but never later than this after the first */
#define RESYNC_MS	     60000 /* drift repair */
#define LKG_DELAY_MS	     30000 /* etcd: the last-known-good copy, at most this often */
#define LKG_QUIET_MS	     1000  /* ... and once commits have paused this long */
#define WATCH_IDLE_S	     660   /* above etcd's 10 min progress interval */
#define BACKOFF_MIN_MS	     200
#define BACKOFF_MAX_MS	     5000

struct mnl_socket;
struct etcd_watch;
struct etcd2_watch;

/* The resources as etcd has them, by key. */
struct cache_entry {
	char *key;
	struct resource *r; /* NULL: the value does not decode (skipped) */
};

struct cache {
	struct cache_entry *v;
	size_t n;
	size_t cap;
};

/* etcd v2: the keys under /calico/v1 as they are, sorted, and the objects
 * (key prefixes) an event touched since the last decode. */
struct raw_kv {
	char *key;
	char *value;
	size_t len;
};

struct raw_store {
	struct raw_kv *v;
	size_t n;
	size_t cap;
	char **dirty;
	size_t n_dirty;
	size_t cap_dirty;
};

struct daemon {
	struct ctx *ctx;
	struct node_input in;
	struct mnl_socket *nl;
	struct datastore *ds;
	char *dir; /* file datastore */
	int ino;
	int sfd;
	bool ready;    /* the first commit is done */
	bool notified; /* READY=1 sent to systemd */
	bool stop;
	bool reload;		       /* SIGHUP */
	struct metrics *metrics;       /* NULL: off */
	struct model_table *committed; /* in force, ours alone; NULL: read back */
	uint32_t genid;		       /* the ruleset's generation after it */
	bool deferred;		       /* it left work for the next sync */
	unsigned long commits;
	unsigned long failures;
	/* etcd */
	struct cache cache;
	int64_t rev; /* the cache is complete up to here */
	struct etcd_watch *w;
	unsigned backoff_ms;
	bool connected;
	bool lkg_dirty;	    /* a commit since the copy was written */
	bool lkg_ok;	    /* the cache is what was committed last */
	uint64_t lkg_due;   /* not before (monotonic ms) */
	uint64_t lkg_quiet; /* nor before this (LKG_QUIET_MS after a commit) */
	int lkg_pid;	    /* the child writing it, 0 if none */
	/* etcd v2 (Calico 2.6's data) */
	bool v2;
	struct raw_store raw;
	struct etcd2_watch *w2;
	bool paused;	   /* v2 Ready not "true", v3 datastoreReady false */
	bool v3_not_ready; /* ClusterInformation says datastoreReady: false */
};

/* Events are coalesced: the commit waits for quiet (see daemon-etcd.c). */
struct pending {
	struct daemon *d;
	bool any;
	uint64_t first_ms;
	uint64_t last_ms;
	uint64_t commit_ms; /* of the last commit of changes */
};

__attribute__((format(printf, 2, 3))) void logp(int prio, const char *fmt, ...);
uint64_t mono_ms(void);
enum commit_why {
	WHY_START,
	WHY_CHANGE, /* diffed against the table committed last */
	WHY_RESYNC, /* the others read the kernel's table back */
	WHY_RELOAD,
	WHY_RELIST,
};

/* Compiles v and commits it; logs the outcome, with the datastore's
 * revision when rev >= 0. */
int daemon_commit(struct daemon *d, struct resource *const *v, size_t n, enum commit_why why,
		  int64_t rev);
/* Whether the periodic resync must read the kernel back: only if some
 * transaction (anyone's) came after our last commit. */
bool daemon_resync_due(struct daemon *d);
/* The period of that resync, in ms. */
int resync_ms(void);
/* Reads signals; returns false when it is time to stop. */
bool daemon_signals(struct daemon *d);

/* The etcd source: list, commit, watch, until a stop signal. */
void daemon_run_etcd(struct daemon *d);
void cache_clear(struct cache *c);
/* Logs each value left out, with its key: "skipped: KEY: ...". */
void log_skipped(const struct diags *dg);
/* In v, n elements of size bytes sorted by a first member char *key: the
 * index of key, or where it would go (*found false). */
size_t keyed_pos(const void *v, size_t n, size_t size, const char *key, bool *found);
/* Takes r (NULL: a value that does not decode) on every path. */
int cache_set(struct cache *c, const char *key, struct resource *r);
void cache_del(struct cache *c, const char *key);

/* The etcd v2 source (daemon-etcdv2.c): a full list into the raw store
 * and the cache; the watch from there; before a commit, the objects
 * events touched decoded again, and whether Ready is "true". */
int v2_relist(struct daemon *d);
int v2_watch_start(struct daemon *d, struct pending *p);
bool v2_refresh(struct daemon *d);
void raw_clear(struct raw_store *s);

#endif
