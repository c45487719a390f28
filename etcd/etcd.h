/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * etcd: the etcdv3 datastore over etcd's v3 JSON gateway (libcurl +
 * jansson), and Calico's v3 key layout on top of it.
 *
 * Keys are C strings (Calico's keys are ASCII paths); values are byte
 * strings with a length. Every response is bounded (ETCD_MAX_RESPONSE),
 * every revision is an int64 that etcd sends as a JSON string.
 */
#ifndef NFTMGR_ETCD_H
#define NFTMGR_ETCD_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "resource.h"

#define ETCD_MAX_RESPONSE  (64u << 20) /* one unary answer or watch message */
#define ETCD_MAX_KEYS	   1000000u    /* one listing */
#define ETCD_PAGE	   500	       /* keys per range request */
#define ETCD_MAX_ENDPOINTS 16

/* The libcurl version the client speaks through. */
const char *etcd_transport_version(void);

struct etcd_opts {
	const char *endpoints; /* comma-separated URLs */
	const char *ca_file;
	const char *cert_file;
	const char *key_file;
	const char *username;
	const char *password;
	/* Where the client starts in the endpoint list: the member the hash
	 * of this key picks (a fleet's daemons, keyed by node name, spread
	 * over the members); NULL: the first, as calicoctl. */
	const char *spread_key;
};

struct etcd;

/* Checks the options (no connection is made yet). Returns 0, -EINVAL with
 * a message in err, or -ENOMEM. */
int etcd_open(const struct etcd_opts *o, struct etcd **ret, char *err, size_t errlen);
struct etcd *etcd_free(struct etcd *e);
/* The index etcd_open() starts at for key among n endpoints. */
size_t etcd_spread_index(const char *key, size_t n);
/* What the last failed call said, with the endpoint it was talking to. */
const char *etcd_error(const struct etcd *e);
/* The gRPC status code of the last error etcd returned (0: none; 11 is
 * OutOfRange, e.g. a compacted revision). */
int etcd_error_code(const struct etcd *e);
/* The endpoint requests go to now (it moves on after a failure). */
const char *etcd_endpoint(const struct etcd *e);

struct etcd_kv {
	char *key;
	char *value; /* NUL-terminated for convenience */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
};

struct etcd_kvs {
	struct etcd_kv *v;
	size_t n;
	int64_t revision; /* the store's revision the listing is from */
};

void etcd_kvs_clear(struct etcd_kvs *l);

/* Every key under prefix at one revision (rev 0: the current one), page
 * by page. Returns 0 or a negative errno (message in etcd_error()). */
int etcd_list_prefix(struct etcd *e, const char *prefix, int64_t rev, struct etcd_kvs *out);
/* One key; out->n is 0 when absent. */
int etcd_get(struct etcd *e, const char *key, struct etcd_kvs *out);
/* Returns the new revision in *rev (may be NULL). */
int etcd_put(struct etcd *e, const char *key, const char *value, size_t len, int64_t *rev);
/* *deleted (may be NULL): how many keys went. */
int etcd_delete(struct etcd *e, const char *key, int64_t *deleted);
/* Deletes every key that starts with prefix. */
int etcd_delete_prefix(struct etcd *e, const char *prefix, int64_t *deleted);
/* Compacts history up to rev (used by tests and tools). */
int etcd_compact(struct etcd *e, int64_t rev);

enum etcd_cond {
	ETCD_ANY,	  /* no condition */
	ETCD_ABSENT,	  /* create only if absent: version == 0 */
	ETCD_PRESENT,	  /* replace only if present: version > 0 */
	ETCD_AT_REVISION, /* unchanged since rev: mod_revision == rev */
};

struct etcd_op {
	bool del;
	const char *key;
	const char *value;
	size_t len;
	enum etcd_cond cond;
	int64_t rev; /* for ETCD_AT_REVISION */
};

/*
 * One transaction: every condition is checked, then either every
 * operation is done (*ok true) or none (*ok false). Returns 0 or a negative
 * errno (etcd refused the request, e.g. more operations than its
 * --max-txn-ops).
 */
int etcd_txn(struct etcd *e, const struct etcd_op *ops, size_t n, bool *ok, int64_t *rev);

/* ---- the watch stream --------------------------------------------------- */

struct etcd_event {
	bool deleted;
	const char *key;
	const char *value; /* NULL on delete */
	size_t value_len;
	int64_t mod_revision;
};

struct etcd_watch_ops {
	/* An event; returning a negative errno stops the watch. */
	int (*event)(void *data, const struct etcd_event *ev);
	/* After each message: the store's revision it is current up to. */
	void (*revision)(void *data, int64_t revision);
};

/*
 * Newline-delimited JSON split across arbitrary chunks. A message longer
 * than ETCD_MAX_RESPONSE is an error. Pure: no I/O, fuzzed.
 */
struct etcd_stream {
	char *buf;
	size_t n;
	size_t cap;
};

enum etcd_watch_state {
	ETCD_WATCH_STARTING,
	ETCD_WATCH_RUNNING,   /* created */
	ETCD_WATCH_COMPACTED, /* canceled: start revision compacted */
	ETCD_WATCH_FAILED,    /* error object, bad message, or ended */
};

struct etcd_watch_sink {
	const struct etcd_watch_ops *ops;
	void *data;
	enum etcd_watch_state state;
	int64_t revision; /* highest header revision seen */
	int64_t compact_revision;
	unsigned long events;
	char error[256];
};

/* Feeds bytes; complete lines are decoded into sink. Returns 0, or a
 * negative errno after which the stream is failed (sink->error says why). */
int etcd_stream_feed(struct etcd_stream *s, const char *p, size_t len,
		     struct etcd_watch_sink *sink);
/* End of transfer: decodes a last line without its newline. */
int etcd_stream_finish(struct etcd_stream *s, struct etcd_watch_sink *sink);
void etcd_stream_clear(struct etcd_stream *s);

struct etcd_watch;

/* The watch's heartbeat (see watch.c): a request to the member every
 * ETCD_HEARTBEAT_MS, every ETCD_HEARTBEAT_READ_EVERY-th (the first
 * included) a linearizable read of one absent key, the others GET
 * /version; no answer within ETCD_HEARTBEAT_TIMEOUT_MS ends the watch, so
 * a frozen member is left within their sum. */
#define ETCD_HEARTBEAT_MS	  1000
#define ETCD_HEARTBEAT_TIMEOUT_MS 2000
#define ETCD_HEARTBEAT_READ_EVERY 3

/*
 * Starts a watch on every key under prefix from start_rev on, asking for
 * progress notifications; the transfer fails when not one byte arrived in
 * idle_s seconds (0: no such limit), so idle_s must be above the server's
 * progress interval (etcd's default: 600 s). No total timeout.
 */
int etcd_watch_start(struct etcd *e, const char *prefix, int64_t start_rev, unsigned idle_s,
		     const struct etcd_watch_ops *ops, void *data, struct etcd_watch **ret);
/*
 * Waits at most timeout_ms for the watch or for one of fds (revents are
 * filled in), and delivers what arrived. Returns 0 while the watch goes
 * on, -ECANCELED if its start revision was compacted (a full re-list is
 * needed), or another negative errno when it ended (message in
 * etcd_error(); start a new one to go on: the next endpoint is tried).
 */
int etcd_watch_poll(struct etcd_watch *w, struct pollfd *fds, unsigned n, int timeout_ms);
/* The highest revision the watch has delivered or was told about. */
int64_t etcd_watch_revision(const struct etcd_watch *w);
bool etcd_watch_created(const struct etcd_watch *w);
struct etcd_watch *etcd_watch_free(struct etcd_watch *w);

/* ---- base64 (standard alphabet, padded) --------------------------------- */

/* Caller frees; NULL on ENOMEM. */
char *etcd_b64_encode(const void *p, size_t len);
/* Returns the decoded length (buffer NUL-terminated, caller frees) or -1
 * on bad input or ENOMEM. */
ssize_t etcd_b64_decode(const char *s, size_t len, char **ret);

/* ---- Calico's v3 layout ------------------------------------------------- */

#define CALICO_PREFIX "/calico/resources/v3/projectcalico.org/"

/*
 * A key of Calico's layout, split: 1 if it names one of our kinds (kind,
 * ns or NULL, and the stored name are filled in; free *ns and *name), 0 if
 * it is some other Calico key (ippools, nodes, ...), negative errno.
 */
int calico_key_parse(const char *key, enum res_kind *kind, char **ns, char **name);
/* One stored value as a resource; problems go to d located at the key. */
int calico_kv_decode(const char *key, const char *value, size_t len, struct resource **ret,
		     struct diags *d);
/*
 * Every resource of ours in the store at one revision (*rev). Values that
 * do not decode are reported in d and skipped. Returns 0 or a negative
 * errno (message in etcd_error()).
 */
int calico_list(struct etcd *e, struct resource_list *out, struct diags *d, int64_t *rev);

/* ClusterInformation "default": what calico-upgrade writes, and what
 * Felix 3 (and the daemon) wait on while datastoreReady is false. */
#define CALICO_CLUSTER_INFO_KEY CALICO_PREFIX "clusterinformations/default"

struct calico_cluster_info {
	const char *guid; /* from v1 ClusterGUID, ... (NULL: left out) */
	const char *type;
	const char *version;
	const char *uid;
	const char *created;
};

/* spec.datastoreReady of a stored ClusterInformation: 0 when false, 1
 * when true or absent, -EINVAL when the value is not one. */
int calico_datastore_ready(const char *value, size_t len);
/* Stored values, caller frees; NULL on ENOMEM (or a value that is not a
 * ClusterInformation, for the second). */
char *calico_cluster_info_json(const struct calico_cluster_info *ci, bool ready);
char *calico_cluster_info_set_ready(const char *value, size_t len, bool ready);

/* ---- etcd's v2 API: Calico 2.6's datastore ------------------------------ */

struct etcd2_kv {
	char *key;
	char *value; /* NUL-terminated for convenience */
	size_t value_len;
	int64_t modified_index;
};

struct etcd2_kvs {
	struct etcd2_kv *v;
	size_t n;
	int64_t index; /* X-Etcd-Index of the answer: watch from index + 1 */
};

void etcd2_kvs_clear(struct etcd2_kvs *l);

/* Every leaf key under dir (a recursive, linearizable GET), sorted
 * bytewise; an absent dir has none. Returns 0 or a negative errno
 * (message in etcd_error()); -ENOTSUP when the server has no v2 API. */
int etcd2_list(struct etcd *e, const char *dir, struct etcd2_kvs *out);
/* One key: out->n is 0 when it is absent. */
int etcd2_get(struct etcd *e, const char *key, struct etcd2_kvs *out);
/* Sets key; with prev_value only if it holds exactly that now (*ok false,
 * and nothing written, when it does not or is absent). */
int etcd2_set(struct etcd *e, const char *key, const char *value, const char *prev_value, bool *ok);

struct etcd2_event {
	bool deleted;
	bool dir;     /* a directory: a delete removes every key under it */
	bool ignored; /* an action that changes nothing */
	char *key;
	char *value; /* upserts of keys */
	size_t value_len;
	int64_t modified_index;
};

/* Pure parsers of answers (fuzzed). The tree: leaves only, sorted. */
int etcd2_parse_tree(const char *buf, size_t len, struct etcd2_kvs *out);
int etcd2_parse_event(const char *buf, size_t len, struct etcd2_event *ev);
void etcd2_event_clear(struct etcd2_event *ev);
/* An error answer's errorCode (0 if none) and "message: cause" in msg. */
int etcd2_parse_error(const char *buf, size_t len, char *msg, size_t msglen);

struct etcd2_watch_ops {
	/* One event; a negative errno stops the watch. */
	int (*event)(void *data, const struct etcd2_event *ev);
};

struct etcd2_watch;

/*
 * A recursive watch on dir from index on: a long-polling GET, sent again
 * after each event from its modifiedIndex + 1. Driven like the v3 watch:
 * etcd2_watch_poll() waits at most timeout_ms for it or for fds, and
 * returns 0 while it goes on, -ECANCELED when etcd no longer has the
 * events from the index on (error 401: list again, and watch from the
 * listing's index + 1), another negative errno when it failed (the next
 * endpoint is tried by the next watch).
 */
int etcd2_watch_start(struct etcd *e, const char *dir, int64_t index,
		      const struct etcd2_watch_ops *ops, void *data, struct etcd2_watch **ret);
int etcd2_watch_poll(struct etcd2_watch *w, struct pollfd *fds, unsigned n, int timeout_ms);
/* The index the watch waits from now. */
int64_t etcd2_watch_index(const struct etcd2_watch *w);
struct etcd2_watch *etcd2_watch_free(struct etcd2_watch *w);

/*
 * Every resource of Calico 2.6's layout (/calico/v1) as backend_v1_decode()
 * gives them with flags, read at the etcd index *index (may be NULL);
 * *ready: the Ready flag is "true". Returns 0 or a negative errno (message
 * in etcd_error()).
 */
int calico_v1_list(struct etcd *e, unsigned flags, struct resource_list *out, struct diags *d,
		   struct diags *skipped, int64_t *index, bool *ready);

#endif
