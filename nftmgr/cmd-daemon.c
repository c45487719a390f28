/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon: keep this node's kernel in sync with the datastore. The table is
 * committed at start, then again after every change (bursts coalesced over
 * a settle window) and periodically, to repair drift. With the file
 * datastore changes come from inotify, with etcd from a watch
 * (daemon-etcd.c). The netlink socket stays open: while the daemon runs,
 * the table is owned by it, so no other process (nor flush ruleset) can
 * change it. Stopping, or losing the datastore, never flushes: the rules
 * in force stay.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "etcd.h"
#include "metrics.h"
#include "netlink.h"

#define WATCH_MASK \
	(IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE_SELF)

/* NFTMGR_TEST_LOG_MONOTONIC (test builds): each line carries the
 * monotonic clock in microseconds, "<N>[us] ...", so that a benchmark
 * reading many daemons' logs times each line when it was written, not
 * when the benchmark got round to reading it. */
static bool log_monotonic(void)
{
#if NFTMGR_TEST_KNOBS
	static int on = -1;

	if (on < 0)
		on = getenv("NFTMGR_TEST_LOG_MONOTONIC") != NULL;
	return on;
#else
	return false;
#endif
}

void logp(int prio, const char *fmt, ...)
{
	va_list ap;

	/* journald reads the priority from a <N> prefix on stderr */
	fprintf(stderr, "<%d>", prio);
	if (log_monotonic()) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "[%llu] ",
			(unsigned long long)ts.tv_sec * 1000000 +
				(unsigned long long)ts.tv_nsec / 1000);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [-c FILE] [--node NAME] [--datastore-dir DIR] daemon "
		"[--local-address IFACE=IP ...] [--metrics-address HOST:PORT]\n\n"
		"Keep this node's nftmgr table in sync with the datastore: commit at\n"
		"start, after every change (file datastore: coalesced over %d ms; etcd:\n"
		"at once, a burst after %d ms of quiet, at most %d ms) and every %d s.\n"
		"While it runs the table is owned by it. SIGTERM stops it and leaves the\n"
		"rules in force; SIGHUP re-reads the configuration. --metrics-address\n"
		"serves Prometheus metrics on /metrics and health on /livez and /readyz\n"
		"(off by default).\n",
		prog, SETTLE_MS, ETCD_BURST_SETTLE_MS, ETCD_MAX_WAIT_MS, RESYNC_MS / 1000);
}

/* Watches every directory of the store (new ones are added as they come). */
static void watch_tree(struct daemon *d, const char *path, unsigned depth)
{
	DIR *dir;
	struct dirent *e;

	if (depth > 8 || inotify_add_watch(d->ino, path, WATCH_MASK) < 0)
		return;
	dir = opendir(path);
	if (!dir)
		return;
	while ((e = readdir(dir))) {
		char *sub;

		if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		if (asprintf(&sub, "%s/%s", path, e->d_name) < 0)
			continue;
		watch_tree(d, sub, depth + 1);
		free(sub);
	}
	closedir(dir);
}

/* True if the events name something other than our own temporary and
 * lock files. */
static bool drain_inotify(struct daemon *d)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;
	ssize_t n;

	while ((n = read(d->ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (!ev->len || ev->name[0] != '.' || (ev->mask & IN_ISDIR))
				relevant = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return relevant;
}

static const char *const why_names[] = {
	[WHY_START] = "start",	 [WHY_CHANGE] = "change",  [WHY_RESYNC] = "resync",
	[WHY_RELOAD] = "reload", [WHY_RELIST] = "re-list",
};

/* A commit went through: log it, tell systemd, keep the table if ours. */
static void committed(struct daemon *d, const char *label, struct model_table **t,
		      const struct compile_stats *st, const struct nl_commit_result *res,
		      uint64_t compile_ms, uint64_t commit_ms)
{
	d->commits += res->messages ? 1 : 0;
	logp(6,
	     "%s: %s (%zu chains, %zu rules, %zu sets; %zu messages, %zu bytes; "
	     "compile %llu ms, commit %llu ms)",
	     label, res->messages ? "committed" : "up to date", st->chains, st->rules, st->sets,
	     res->messages, res->bytes, (unsigned long long)compile_ms,
	     (unsigned long long)commit_ms);
	if (!d->notified)
		sd_notify(0, "READY=1");
	d->ready = d->notified = true;
	sd_notifyf(0,
		   "STATUS=table inet %s in sync: %zu policies, %zu endpoints, "
		   "%lu commits",
		   (*t)->name, st->policies, st->endpoints, d->commits);
	if (res->owned) {
		d->committed = *t;
		*t = NULL;
		d->genid = res->genid_after;
		d->deferred = res->deferred;
	}
}

/* RESYNC_MS, or NFTMGR_TEST_RESYNC_MS in test builds. */
int resync_ms(void)
{
	const char *v = NFTMGR_TEST_KNOBS ? getenv("NFTMGR_TEST_RESYNC_MS") : NULL;
	long ms = v ? strtol(v, NULL, 10) : 0;

	return ms > 0 && ms <= RESYNC_MS ? (int)ms : RESYNC_MS;
}

bool daemon_resync_due(struct daemon *d)
{
	uint32_t g = 0;

	if (!d->committed || !d->genid || d->deferred || nl_genid(d->nl, &g) < 0 || g != d->genid)
		return true;
	logp(7, "resync: the ruleset is at generation %u, as our last commit left it", g);
	return false;
}

int daemon_commit(struct daemon *d, struct resource *const *v, size_t n, enum commit_why why,
		  int64_t rev)
{
	struct compile_stats st = { 0 };
	struct nl_commit_result res;
	struct model_table *t = NULL, *old;
	uint64_t t0 = mono_ms(), t1;
	int r = node_compile(d->ctx, &d->in, v, n, &t, &st);
	char label[64];

	t1 = mono_ms();
	snprintf(label, sizeof(label), rev >= 0 ? "%s (revision %lld)" : "%s", why_names[why],
		 (long long)rev);
	if (r < 0) {
		d->failures++;
		metrics_commit(d->metrics, (double)(t1 - t0) / 1e3, r, false, false, &st);
		logp(3, "%s: cannot compile the ruleset; the rules in force stay", label);
		return r;
	}
	/* a change is diffed against what we committed (the table is ours
	 * alone); start, reload and the periodic resync read the kernel */
	if (why == WHY_CHANGE && d->committed)
		r = nl_sync_from(d->nl, t, d->committed, &res);
	else
		r = nl_sync_own(d->nl, t, &res);
	metrics_commit(d->metrics, (double)(mono_ms() - t0) / 1e3, r, r >= 0 && res.messages,
		       why == WHY_RESYNC || why == WHY_RELOAD, &st);
	/* freed once the outcome is told: 200k elements take a while */
	old = d->committed;
	d->committed = NULL;
	if (r < 0) {
		d->failures++;
		logp(3, "%s: sync failed, the rules in force stay: %s", label, res.error);
	} else {
		committed(d, label, &t, &st, &res, t1 - t0, mono_ms() - t1);
	}
	model_table_free(old);
	model_table_free(t);
	return r;
}

static int file_commit(struct daemon *d, enum commit_why why)
{
	struct resource_list l = { 0 };
	int r = load_resources(d->ctx, NULL, 0, &l);

	if (r < 0)
		logp(3, "%s: cannot read the datastore; the rules in force stay", why_names[why]);
	else
		r = daemon_commit(d, l.v, l.n, why, -1);
	resource_list_clear(&l);
	return r;
}

static int setup(struct daemon *d)
{
	struct nl_commit_result res = { 0 };
	sigset_t mask;

	if (ds_open(d->ctx, &d->ds) != 0)
		return -EIO;
	d->nl = nl_sock_open(&res);
	if (!d->nl) {
		logp(3, "%s", res.error);
		return -EIO;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sfd < 0)
		return -errno;
	if (ds_etcd(d->ds))
		return 0;
	d->dir = strdup(ds_where(d->ds));
	d->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (!d->dir || d->ino < 0)
		return -errno;
	watch_tree(d, d->dir, 0);
	return 0;
}

bool daemon_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			logp(6, "SIGHUP: re-reading the configuration");
			d->reload = true;
			continue;
		}
		logp(6, "signal %u: stopping; the rules stay in force", si.ssi_signo);
		d->stop = true;
	}
	return !d->stop;
}

static void run_file(struct daemon *d)
{
	bool pending = false;

	(void)file_commit(d, WHY_START);
	for (;;) {
		metrics_connected(d->metrics, true); /* a directory: always there */
		struct pollfd p[2] = { { .fd = d->sfd, .events = POLLIN },
				       { .fd = d->ino, .events = POLLIN } };
		int r = poll(p, 2, pending ? SETTLE_MS : resync_ms());

		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && (p[0].revents & POLLIN) && !daemon_signals(d))
			break;
		if (d->reload) {
			d->reload = false;
			(void)file_commit(d, WHY_RELOAD);
		}
		if (r > 0 && (p[1].revents & POLLIN)) {
			if (drain_inotify(d))
				pending = true;
			watch_tree(d, d->dir, 0);
			continue; /* settle: wait for quiet */
		}
		if (r == 0 && (pending || daemon_resync_due(d)))
			(void)file_commit(d, pending ? WHY_CHANGE : WHY_RESYNC);
		pending = pending && r != 0;
	}
}

/* The metrics listener (bound while privileged), then privileges down to
 * CAP_NET_ADMIN. Returns 0 or -1 after logging why. */
static int serve(struct daemon *d)
{
	char err[256];
	int r;

	if (d->in.metrics && metrics_start(d->in.metrics, &d->metrics, err, sizeof(err)) < 0) {
		logp(3, "cannot start: %s", err);
		return -1;
	}
	if (d->metrics)
		logp(6, "serving /metrics, /livez and /readyz on %s", d->in.metrics);
	r = privileges_drop();
	if (r < 0) {
		logp(3, "cannot start: dropping capabilities: %s", strerror(-r));
		return -1;
	}
	return 0;
}

int cmd_daemon(struct ctx *ctx, int argc, char **argv)
{
	struct daemon d = { .ctx = ctx, .sfd = -1, .ino = -1 };
	int ret;

	d.in.daemon = true;
	ctx->spread = true;
	secrets_scrub_env();
	ret = EXIT_USAGE;
	if (node_args(ctx, argc, argv, &d.in, NULL, usage) < 0)
		goto out;
	ret = EXIT_OK;
	if (d.in.help)
		goto out;
	ret = EXIT_FAIL;
	if (d.in.n_paths) {
		usage(stderr, ctx->prog);
		ret = EXIT_USAGE;
		goto out;
	}
	if (setup(&d) < 0) {
		logp(3, "cannot start: %s", strerror(errno ? errno : EIO));
		goto out;
	}
	if (serve(&d) < 0)
		goto out;
	logp(6, "watching %s %s for node %s",
	     !ds_etcd(d.ds)	  ? "directory"
	     : ds_is_etcdv2(d.ds) ? "etcd (v2 API)"
				  : "etcd",
	     ds_etcd(d.ds) ? etcd_endpoint(ds_etcd(d.ds)) : ds_where(d.ds), node_name(ctx));
	if (ds_etcd(d.ds))
		daemon_run_etcd(&d);
	else
		run_file(&d);
	sd_notify(0, "STOPPING=1");
	ret = EXIT_OK;
out:
	metrics_stop(d.metrics);
	compile_memo_free(d.in.memo);
	etcd_watch_free(d.w);
	etcd2_watch_free(d.w2);
	raw_clear(&d.raw);
	cache_clear(&d.cache);
	model_table_free(d.committed);
	nl_sock_close(d.nl);
	if (d.ino >= 0)
		close(d.ino);
	if (d.sfd >= 0)
		close(d.sfd);
	free(d.dir);
	ds_free(d.ds);
	node_input_clear(&d.in);
	return ret;
}
