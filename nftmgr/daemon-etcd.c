/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon on etcd: list everything under Calico's prefix at one
 * revision, commit, then watch from that revision + 1 and keep a cache of
 * the resources by key, so that a change costs one compile and one
 * incremental commit and no re-read of the store. Bursts are coalesced:
 * the commit waits for ETCD_BURST_SETTLE_MS of quiet, at most
 * ETCD_MAX_WAIT_MS; a lone change is committed at once.
 *
 * A compacted start revision means events were lost: re-list. A lost
 * connection: reconnect with backoff and resume from the revision the
 * cache is complete up to; meanwhile the rules in force stay. A value that
 * does not decode is reported and its key treated as absent, so what is
 * enforced does not depend on what came before.
 *
 * After a commit the resources are also written to a last-known-good copy
 * in the state directory (by a forked child, at most every LKG_DELAY_MS,
 * once commits have paused for LKG_QUIET_MS, and at stop), which 'sync
 * --boot' commits before the network, and so etcd, is up. The pause keeps
 * the copy out of a burst of changes: a fleet's daemons all change at
 * once, and 200 forks and fsyncs at once delayed the next change by up to
 * 0.5 s on a 2-core machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "etcd.h"
#include "metrics.h"

void cache_clear(struct cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		resource_free(c->v[i].r);
	}
	free(c->v);
	*c = (struct cache){ 0 };
}

size_t keyed_pos(const void *v, size_t n, size_t size, const char *key, bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int k = strcmp(*(char *const *)((const char *)v + mid * size), key);

		if (k == 0) {
			*found = true;
			return mid;
		}
		if (k < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static size_t cache_pos(const struct cache *c, const char *key, bool *found)
{
	return keyed_pos(c->v, c->n, sizeof(*c->v), key, found);
}

/* Takes r (which may be NULL: skipped value) on every path. */
int cache_set(struct cache *c, const char *key, struct resource *r)
{
	bool found;
	size_t i = cache_pos(c, key, &found);
	char *k;

	if (found) {
		resource_free(c->v[i].r);
		c->v[i].r = r;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct cache_entry *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return resource_free(r), -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	k = strdup(key);
	if (!k)
		return resource_free(r), -ENOMEM;
	memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof(*c->v));
	c->v[i] = (struct cache_entry){ .key = k, .r = r };
	c->n++;
	return 0;
}

void cache_del(struct cache *c, const char *key)
{
	bool found;
	size_t i = cache_pos(c, key, &found);

	if (!found)
		return;
	free(c->v[i].key);
	resource_free(c->v[i].r);
	memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof(*c->v));
	c->n--;
}

void log_skipped(const struct diags *dg)
{
	for (size_t i = 0; i < dg->n; i++) {
		char *s = diag_format(&dg->v[i]);

		logp(4, "skipped: %s", s ? s : dg->v[i].msg);
		free(s);
	}
}

/* Decodes one value into the cache; 0 when the key is not ours. */
static int cache_put(struct cache *c, const char *key, const char *value, size_t len)
{
	struct resource *r = NULL;
	struct diags dg = { 0 };
	int k = calico_kv_decode(key, value, len, &r, &dg);

	log_skipped(&dg);
	diags_clear(&dg);
	if (k == 0 || k == -ENOMEM)
		return k;
	return cache_set(c, key, k == 1 ? r : NULL);
}

static int on_event(void *data, const struct etcd_event *ev)
{
	struct pending *p = data;
	struct daemon *d = p->d;
	enum res_kind kind;
	char *ns = NULL, *name = NULL;
	int k = calico_key_parse(ev->key, &kind, &ns, &name);

	free(ns);
	free(name);
	if (ev->mod_revision > d->rev)
		d->rev = ev->mod_revision;
	if (strcmp(ev->key, CALICO_CLUSTER_INFO_KEY) == 0) {
		d->v3_not_ready = !ev->deleted &&
				  calico_datastore_ready(ev->value, ev->value_len) == 0;
		k = 1; /* a commit, or a pause, is due */
	} else if (k <= 0) {
		return k;
	}
	if (ev->deleted)
		cache_del(&d->cache, ev->key);
	else if (cache_put(&d->cache, ev->key, ev->value, ev->value_len) < 0)
		return -ENOMEM;
	p->last_ms = mono_ms();
	if (!p->any)
		p->first_ms = p->last_ms;
	p->any = true;
	return 0;
}

static int relist(struct daemon *d)
{
	struct cache fresh = { 0 };
	struct etcd_kvs kvs;
	int r;

	if (d->v2)
		return v2_relist(d);
	r = etcd_list_prefix(ds_etcd(d->ds), CALICO_PREFIX, 0, &kvs);
	if (r < 0)
		return r;
	d->v3_not_ready = false;
	for (size_t i = 0; i < kvs.n && r >= 0; i++) {
		if (strcmp(kvs.v[i].key, CALICO_CLUSTER_INFO_KEY) == 0)
			d->v3_not_ready = calico_datastore_ready(kvs.v[i].value,
								 kvs.v[i].value_len) == 0;
		r = cache_put(&fresh, kvs.v[i].key, kvs.v[i].value, kvs.v[i].value_len);
	}
	if (r >= 0) {
		cache_clear(&d->cache);
		d->cache = fresh;
		d->rev = kvs.revision;
	} else {
		cache_clear(&fresh);
	}
	etcd_kvs_clear(&kvs);
	return r;
}

static struct resource **cache_resources(struct daemon *d, size_t *ret_n)
{
	struct resource **v = malloc((d->cache.n ? d->cache.n : 1) * sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; v && i < d->cache.n; i++)
		if (d->cache.v[i].r)
			v[n++] = d->cache.v[i].r;
	*ret_n = n;
	return v;
}

/* Calico's pause during an upgrade: v2's Ready flag not "true" (Felix 2.6
 * stopped), v3's ClusterInformation with datastoreReady false (Felix 3
 * waits). Nothing new is committed then; the rules in force stay. */
static bool datastore_ready(struct daemon *d, bool ready)
{
	if (!ready && !d->paused) {
		logp(4,
		     "the datastore is not ready (%s; Calico networking is paused): the "
		     "rules in force stay, nothing new is committed",
		     d->v2 ? BACKEND_V1_READY " is not \"true\""
			   : "ClusterInformation default has datastoreReady false");
		sd_notify(0, "READY=1\nSTATUS=datastore not ready (Calico networking paused); "
			     "the rules in force stay");
		d->notified = true;
	} else if (ready && d->paused) {
		logp(5, "the datastore is ready again: committing");
	}
	d->paused = !ready;
	return ready;
}

static int commit_cache(struct daemon *d, enum commit_why why)
{
	size_t n;
	struct resource **v;
	int r;

	if (!datastore_ready(d, d->v2 ? v2_refresh(d) : !d->v3_not_ready))
		return 0; /* paused: the rules in force stay */
	v = cache_resources(d, &n);
	if (!v)
		return -ENOMEM;
	r = daemon_commit(d, v, n, why, d->rev);
	free(v);
	d->lkg_ok = r >= 0;
	if (r >= 0 && why != WHY_RESYNC) {
		d->lkg_quiet = mono_ms() + LKG_QUIET_MS;
		if (!d->lkg_dirty && !d->lkg_due)
			d->lkg_due = mono_ms();
		d->lkg_dirty = true;
	}
	return r;
}

/* fsync()s the directory holding path, so that a rename in it lasts. */
static int fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1, r = 0;

	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

/* The resources of the last commit, written whole beside the copy,
 * fsynced and renamed over it: a crash leaves the old copy or the new.
 * Returns 0 or a negative errno (-ENOENT: no state directory). */
static int lkg_write_file(const char *path, struct resource *const *v, size_t n)
{
	char *tmp = NULL;
	FILE *f;
	int fd, r;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return r;
	}
	r = resources_write_yaml(v, n, f);
	if (r == 0 && (fflush(f) != 0 || fsync(fileno(f)) < 0))
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r == 0)
		r = fsync_dir(path);
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static void lkg_report(const char *path, int r, size_t n)
{
	if (r == -ENOENT)
		logp(6, "no state directory for %s: no last-known-good copy", path);
	else if (r < 0)
		logp(4, "cannot write the last-known-good copy %s: %s", path, strerror(-r));
	else
		logp(7, "last-known-good copy written: %zu resources", n);
}

/* Reaps the writer; with wait, waits for it. */
static void lkg_reap(struct daemon *d, bool wait)
{
	int status;
	pid_t p;

	if (!d->lkg_pid)
		return;
	p = waitpid(d->lkg_pid, &status, wait ? 0 : WNOHANG);
	if (p == 0)
		return;
	d->lkg_pid = 0;
	/* the child's exit status is the errno it met */
	if (p > 0 && WIFEXITED(status) && WEXITSTATUS(status))
		lkg_report(ds_lkg_path(d->ds), -WEXITSTATUS(status), 0);
}

/* Writing W-big's copy takes a few hundred milliseconds, which the daemon's
 * loop must not wait for: a forked child writes it from its copy of the
 * cache (a consistent snapshot, for free) and exits; the daemon reaps it.
 * At stop (sync), the daemon writes it itself. */
static void lkg_write(struct daemon *d, bool sync)
{
	const char *path = ds_lkg_path(d->ds);
	struct resource **v = NULL;
	size_t n = 0;
	pid_t pid;
	int r;

	if (!path || d->lkg_pid)
		return;
	d->lkg_dirty = false;
	d->lkg_due = mono_ms() + LKG_DELAY_MS;
	v = cache_resources(d, &n);
	if (!v) {
		lkg_report(path, -ENOMEM, 0);
		return;
	}
	if (sync) {
		lkg_report(path, lkg_write_file(path, v, n), n);
		free(v);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* behind the daemon's own work on a busy node */
		(void)setpriority(PRIO_PROCESS, 0, 10);
		r = lkg_write_file(path, v, n);
		_exit(r < 0 ? (-r & 0xff) : 0);
	}
	if (pid < 0) {
		lkg_report(path, lkg_write_file(path, v, n), n);
	} else {
		d->lkg_pid = (int)pid;
		logp(7, "writing the last-known-good copy: %zu resources (pid %d)", n, (int)pid);
	}
	free(v);
}

/* Due, and the cache is exactly what was committed (no event pending,
 * the last commit went through). */
static bool lkg_due(const struct daemon *d, const struct pending *p)
{
	return d->lkg_dirty && d->lkg_ok && !p->any && !d->lkg_pid && mono_ms() >= d->lkg_due &&
	       mono_ms() >= d->lkg_quiet;
}

/* Waits for a signal or the end of the backoff, which then grows. */
static void back_off(struct daemon *d)
{
	struct pollfd p = { .fd = d->sfd, .events = POLLIN };

	if (poll(&p, 1, (int)d->backoff_ms) > 0)
		(void)daemon_signals(d);
	d->backoff_ms = d->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d->backoff_ms * 2;
}

static void reload(struct daemon *d)
{
	struct datastore *ds = NULL;

	d->reload = false;
	if (ds_open(d->ctx, &ds) != 0 || !ds_etcd(ds)) {
		logp(3, "reload: the new configuration does not name a usable etcd; "
			"keeping the old one");
		ds_free(ds);
		return;
	}
	if (d->v2 != ds_is_etcdv2(ds))
		logp(5,
		     "reload: moving from %s to %s; the rules in force stay until the "
		     "first commit from it replaces them",
		     d->v2 ? "etcdv2" : "etcdv3", ds_is_etcdv2(ds) ? "etcdv2" : "etcdv3");
	ds_free(d->ds);
	d->ds = ds;
	d->w = etcd_watch_free(d->w);
	d->w2 = etcd2_watch_free(d->w2);
	d->v2 = ds_is_etcdv2(ds);
	d->paused = d->v3_not_ready = false;
	raw_clear(&d->raw);
}

/* Lists and commits, or backs off; true when the cache is fresh. */
static bool list_and_commit(struct daemon *d)
{
	enum commit_why why = d->ready ? WHY_RELIST : WHY_START;
	int r = relist(d);

	if (r < 0) {
		logp(4, "%s: cannot list etcd (%s); the rules in force stay, retrying in %u ms",
		     why == WHY_START ? "start" : "re-list", etcd_error(ds_etcd(d->ds)),
		     d->backoff_ms);
		d->connected = false;
		/* Started all the same: systemd must not kill and restart us
		 * while etcd is away (the rules in force stay); /readyz says
		 * 503 until the first commit. */
		if (!d->notified) {
			sd_notifyf(0,
				   "READY=1\nSTATUS=waiting for etcd (%s); the rules in force "
				   "stay",
				   etcd_error(ds_etcd(d->ds)));
			d->notified = true;
		}
		back_off(d);
		return false;
	}
	d->connected = true;
	(void)commit_cache(d, why);
	return true;
}

static int wait_ms(const struct pending *p, uint64_t next_resync)
{
	uint64_t now = mono_ms(), until = next_resync;

	if (p->any) {
		/* Changes coming on the heels of a commit are a burst: a quiet
		 * time makes fewer, bigger commits of it (500 puts from one
		 * client: 12-21 commits; 28-71 with 5 ms, the gaps of etcd's
		 * own fsyncs). A lone change is committed once the watch's
		 * data is read (a transaction's events come in one response):
		 * waiting 5 ms more was 5 ms of a fleet's 100 ms. */
		if (!p->commit_ms || p->first_ms >= p->commit_ms + ETCD_BURST_MS)
			return 0;
		until = p->last_ms + ETCD_BURST_SETTLE_MS;
		if (p->first_ms + ETCD_MAX_WAIT_MS < until)
			until = p->first_ms + ETCD_MAX_WAIT_MS;
	}
	return until > now ? (int)(until - now) : 0;
}

/* The wait, shortened to when the last-known-good copy is due, if it can
 * be written then. */
static int lkg_wait(const struct daemon *d, const struct pending *p, int wait)
{
	uint64_t now = mono_ms(), due;
	int w;

	if (d->lkg_pid) /* reap the writer soon */
		return wait < 100 ? wait : 100;
	if (!d->lkg_dirty || !d->lkg_ok || p->any)
		return wait;
	due = d->lkg_due > d->lkg_quiet ? d->lkg_due : d->lkg_quiet;
	w = due > now ? (int)(due - now) : 0;
	return w < wait ? w : wait;
}

static const struct etcd_watch_ops watch_ops = { .event = on_event };

static void watch_step(struct daemon *d, struct pending *p, int timeout_ms, bool *need_list)
{
	struct pollfd fd = { .fd = d->sfd, .events = POLLIN };
	int r;

	if (!d->w && !d->w2) {
		r = d->v2 ? v2_watch_start(d, p)
			  : etcd_watch_start(ds_etcd(d->ds), CALICO_PREFIX, d->rev + 1,
					     WATCH_IDLE_S, &watch_ops, p, &d->w);
		if (r < 0) {
			logp(4, "cannot watch etcd: %s; retrying in %u ms",
			     etcd_error(ds_etcd(d->ds)), d->backoff_ms);
			back_off(d);
			return;
		}
	}
	r = d->v2 ? etcd2_watch_poll(d->w2, &fd, 1, timeout_ms)
		  : etcd_watch_poll(d->w, &fd, 1, timeout_ms);
	if (fd.revents & POLLIN)
		(void)daemon_signals(d);
	if ((d->v2 || etcd_watch_created(d->w)) && !d->connected) {
		logp(6, "watching etcd %s from revision %lld", etcd_endpoint(ds_etcd(d->ds)),
		     (long long)d->rev + 1);
		d->connected = true;
		d->backoff_ms = BACKOFF_MIN_MS;
	}
	if (r == -ECANCELED) {
		logp(4, "etcd %s %lld away; listing everything again",
		     d->v2 ? "has cleared the events from index" : "compacted revision",
		     (long long)d->rev + 1);
		*need_list = true;
	} else if (r < 0) {
		logp(4, "lost the etcd watch (%s); the rules in force stay, reconnecting in %u ms",
		     etcd_error(ds_etcd(d->ds)), d->backoff_ms);
		d->connected = false;
	}
	if (r < 0) {
		d->w = etcd_watch_free(d->w);
		d->w2 = etcd2_watch_free(d->w2);
	}
	if (r < 0 && r != -ECANCELED)
		back_off(d);
}

/* NFTMGR_COMPILE_MEMO=0 turns the memo off: the benchmarks' baseline. */
static bool memo_wanted(void)
{
	const char *v = getenv("NFTMGR_COMPILE_MEMO");

	return !v || strcmp(v, "0") != 0;
}

void daemon_run_etcd(struct daemon *d)
{
	struct pending p = { .d = d };
	uint64_t next_resync = 0;
	bool need_list = true;

	d->backoff_ms = BACKOFF_MIN_MS;
	d->v2 = ds_is_etcdv2(d->ds);
	/* the cache keeps unchanged resources as the same objects: a change
	 * recompiles only the policies it touched */
	d->in.memo = memo_wanted() ? compile_memo_new() : NULL;
	while (!d->stop) {
		metrics_connected(d->metrics, d->connected);
		if (d->reload) {
			reload(d);
			need_list = true;
		}
		if (need_list) {
			d->w = etcd_watch_free(d->w);
			d->w2 = etcd2_watch_free(d->w2);
			p.any = false;
			if (!list_and_commit(d))
				continue;
			need_list = false;
			next_resync = mono_ms() + (uint64_t)resync_ms();
		}
		watch_step(d, &p, lkg_wait(d, &p, wait_ms(&p, next_resync)), &need_list);
		if (p.any && !need_list && wait_ms(&p, next_resync) == 0) {
			p.any = false;
			(void)commit_cache(d, WHY_CHANGE);
			p.commit_ms = mono_ms();
		}
		if (!p.any && mono_ms() >= next_resync) {
			if (daemon_resync_due(d))
				(void)commit_cache(d, WHY_RESYNC);
			next_resync = mono_ms() + (uint64_t)resync_ms();
		}
		lkg_reap(d, false);
		if (lkg_due(d, &p))
			lkg_write(d, false);
	}
	/* stopping: what was committed last, even if not yet due */
	lkg_reap(d, true);
	if (d->lkg_dirty && d->lkg_ok && !p.any)
		lkg_write(d, true);
}
