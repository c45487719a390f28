/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Commits that must be confirmed. Before a commit, our table is saved
 * whole and a helper is forked that outlives the command: its own
 * session, no terminal, nothing open but a listening socket. Unless
 * 'nftmgr confirm' reaches it before the deadline, it puts the saved
 * table back in one transaction (and, after apply, the stored resources
 * as they were). Killing the command, or the connection it ran over,
 * does not stop it.
 *
 * The socket is an abstract unix socket named after the table, so it
 * lives in the network namespace whose ruleset it guards, vanishes with
 * the helper, and binding it is the lock: one pending commit per table.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "netlink.h"
#include "nftmgr.h"

#define REPLY_MAX 600

static socklen_t sock_addr(const char *table, struct sockaddr_un *sa)
{
	int n;

	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	/* sun_path[0] = '\0': the abstract namespace */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "nftmgr/confirm/%s", table);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) - 1)
		n = (int)sizeof(sa->sun_path) - 2;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int confirm_opt(const char *arg, unsigned *ret)
{
	if (duration_parse(arg, CONFIRM_MAX_SECONDS, ret) == 0)
		return 0;
	fprintf(stderr, "--confirm-within wants 1 s to %u s (60, 60s, 2m), not '%s'\n",
		CONFIRM_MAX_SECONDS, arg);
	return -EINVAL;
}

int confirm_usable(struct datastore *ds, bool no_sync)
{
	if (!no_sync && !ds_etcd(ds))
		return 0;
	fprintf(stderr, "--confirm-within needs the file datastore and a sync (with etcd, "
			"run 'nftmgr sync --confirm-within' on the node)\n");
	return -EOPNOTSUPP;
}

/* ---- the helper ---------------------------------------------------------- */

struct helper {
	struct ctx *ctx;
	const char *table;
	struct nl_saved *saved;
	const struct undo *undo;
	time_t deadline;     /* wall clock, for messages */
	struct timespec end; /* monotonic: the real deadline */
	int lfd, pfd, sfd;
};

/* Milliseconds to the deadline, on the monotonic clock (a clock set by
 * NTP meanwhile must not move it); 0 once it passed. */
static long left_ms(const struct helper *h)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (h->end.tv_sec - now.tv_sec) * 1000 + (h->end.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

static void close_all_but(int a, int b, int c)
{
	int keep[3] = { a, b, c }, lo = 3;

	/* ascending, so that each gap between kept fds can be closed */
	for (int i = 0; i < 3; i++)
		for (int k = i + 1; k < 3; k++)
			if (keep[k] < keep[i]) {
				int x = keep[i];

				keep[i] = keep[k];
				keep[k] = x;
			}
	for (int i = 0; i < 3; i++) {
		if (keep[i] > lo)
			close_range((unsigned)lo, (unsigned)keep[i] - 1, 0);
		if (keep[i] >= lo)
			lo = keep[i] + 1;
	}
	close_range((unsigned)lo, ~0u, 0);
}

static int restore_store(struct helper *h, char *msg, size_t len)
{
	const struct undo *u = h->undo;
	struct datastore *ds = NULL;
	int64_t *revs = calloc(u->n_put + u->n_del + 1, sizeof(*revs));
	size_t done = 0;
	int r = -ENOMEM;

	if (!revs)
		goto out;
	if (ds_open(h->ctx, &ds) != 0) {
		r = -EIO;
		goto out;
	}
	r = ds_lock(ds);
	if (r == 0)
		r = ds_put_all(ds, u->put, revs, u->n_put, &done);
	if (r == 0)
		r = ds_delete_all(ds, u->del, revs, u->n_del, &done);
	ds_unlock(ds);
out:
	if (r < 0)
		snprintf(msg, len, "; the stored resources could not be put back: %s",
			 strerror(-r));
	else
		snprintf(msg, len, "; %zu stored resource(s) put back, %zu removed", u->n_put,
			 u->n_del);
	ds_free(ds);
	free(revs);
	return r;
}

/* The kernel first: it is what locks people out. */
static int roll_back(struct helper *h, const char *why, char *reply, size_t len)
{
	struct nl_commit_result res;
	char store[200] = "";
	int r = nl_restore(h->saved, &res), s = 0;

	if (h->undo && (h->undo->n_put || h->undo->n_del))
		s = restore_store(h, store, sizeof(store));
	if (r < 0)
		snprintf(reply, len, "rollback failed (%s): %.400s%s\n", why, res.error, store);
	else
		snprintf(reply, len, "rolled back (%s): table inet %s restored as it was%s\n", why,
			 h->table, store);
	syslog(r < 0 || s < 0 ? LOG_ERR : LOG_WARNING, "%.*s", (int)strcspn(reply, "\n"), reply);
	return r < 0 || s < 0 ? -1 : 0;
}

/* Only root, or whoever started the helper, may answer it. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	       (cred.uid == 0 || cred.uid == geteuid());
}

/* One request: "confirm", "rollback" or "status". Returns true when the
 * helper's work is over. */
static bool serve(struct helper *h, int fd)
{
	char req[32] = "", reply[REPLY_MAX];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n = 0;
	bool over = false;

	if (!peer_allowed(fd)) {
		snprintf(reply, sizeof(reply), "refused: not allowed\n");
	} else {
		if (poll(&p, 1, 2000) == 1)
			n = read(fd, req, sizeof(req) - 1);
		req[n > 0 ? n : 0] = '\0';
		req[strcspn(req, "\n")] = '\0';
		if (strcmp(req, "confirm") == 0) {
			snprintf(reply, sizeof(reply), "confirmed: table inet %s is kept\n",
				 h->table);
			syslog(LOG_NOTICE, "commit to table inet %s confirmed", h->table);
			over = true;
		} else if (strcmp(req, "rollback") == 0) {
			roll_back(h, "asked for", reply, sizeof(reply));
			over = true;
		} else if (strcmp(req, "status") == 0) {
			snprintf(reply, sizeof(reply),
				 "pending: table inet %s is rolled back in %ld s "
				 "unless confirmed\n",
				 h->table, (left_ms(h) + 999) / 1000);
		} else {
			snprintf(reply, sizeof(reply), "refused: unknown request\n");
		}
	}
	(void)!write(fd, reply, strlen(reply));
	return over;
}

static int helper_run(struct helper *h)
{
	struct pollfd p[3] = {
		{ .fd = h->lfd, .events = POLLIN },
		{ .fd = h->pfd, .events = POLLIN },
		{ .fd = h->sfd, .events = POLLIN },
	};
	char reply[REPLY_MAX];

	for (;;) {
		long left = left_ms(h);
		int fd, n;

		if (left <= 0)
			return roll_back(h, "not confirmed in time", reply, sizeof(reply));
		n = poll(p, 3, (int)left);
		if (n < 0 && errno != EINTR)
			return roll_back(h, "poll failed", reply, sizeof(reply));
		if (n <= 0)
			continue;
		if (p[2].revents) {
			/* SIGTERM (a session being torn down, say): the safe way. */
			return roll_back(h, "terminated", reply, sizeof(reply));
		}
		if (p[1].revents) {
			char c = 0;

			/* 'X': the commit failed, nothing changed. Nothing read
			 * (the command died): the commit may have happened. */
			if (read(h->pfd, &c, 1) == 1 && c == 'X')
				return 0;
			p[1].fd = -1;
		}
		if (p[0].revents & POLLIN) {
			fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			bool over = serve(h, fd);

			close(fd);
			if (over)
				return 0;
		}
	}
}

static void helper_main(struct helper *h)
{
	sigset_t set;
	int null;

	setsid();
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	h->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	close_all_but(h->lfd, h->pfd, h->sfd);
	if (chdir("/") < 0)
		syslog(LOG_WARNING, "chdir /: %m");
	openlog("nftmgr-confirm", LOG_PID, LOG_DAEMON);
	helper_run(h);
}

/* The helper's listening socket: binding it is the lock. Returns the fd
 * or a negative errno, having printed why. */
static int listen_confirm(const char *table)
{
	struct sockaddr_un sa;
	socklen_t salen = sock_addr(table, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0) {
		e = -errno;
		fprintf(stderr, "Cannot open the confirmation socket: %s\n", strerror(-e));
		return e;
	}
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 4) < 0) {
		e = -errno;
		if (e == -EADDRINUSE)
			fprintf(stderr,
				"A commit to table inet %s awaits confirmation already: "
				"confirm it ('nftmgr confirm') or roll it back ('nftmgr confirm "
				"--rollback') first\n",
				table);
		else
			fprintf(stderr, "Cannot open the confirmation socket: %s\n", strerror(-e));
		close(fd);
		return e;
	}
	return fd;
}

int confirm_arm(struct ctx *ctx, const char *table, unsigned seconds, const struct undo *undo,
		struct confirm *ret)
{
	struct helper h = { .ctx = ctx, .table = table, .undo = undo, .sfd = -1 };
	int pfd[2] = { -1, -1 }, r;
	pid_t pid = -1;

	h.lfd = listen_confirm(table);
	if (h.lfd < 0)
		return h.lfd;
	r = nl_save(table, &h.saved);
	if (r < 0)
		fprintf(stderr, "Cannot save table inet %s to roll back to: %s\n", table,
			strerror(-r));
	else if (pipe2(pfd, O_CLOEXEC) < 0)
		fprintf(stderr, "pipe: %s\n", strerror(-(r = -errno)));
	if (r == 0) {
		fflush(NULL);
		h.deadline = time(NULL) + seconds;
		clock_gettime(CLOCK_MONOTONIC, &h.end);
		h.end.tv_sec += seconds;
		pid = fork();
	}
	if (pid == 0) {
		close(pfd[1]);
		h.pfd = pfd[0];
		helper_main(&h);
		_exit(0);
	}
	nl_saved_free(h.saved);
	close(h.lfd);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (r == 0 && pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(-(r = -errno)));
		close(pfd[1]);
	}
	if (r < 0)
		return r;
	*ret = (struct confirm){
		.pid = (int)pid, .fd = pfd[1], .seconds = seconds, .deadline = (long long)h.deadline
	};
	return 0;
}

void confirm_done(struct confirm *c, bool committed)
{
	time_t deadline = (time_t)c->deadline;
	char when[32] = "";
	struct tm tm;

	if (c->fd < 0)
		return;
	(void)!write(c->fd, committed ? "C" : "X", 1);
	close(c->fd);
	c->fd = -1;
	if (!committed)
		return;
	if (localtime_r(&deadline, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("Awaiting confirmation: run 'nftmgr confirm' within %u s, or the previous "
	       "ruleset is restored at %s (helper pid %d)\n",
	       c->seconds, when, c->pid);
}

/* ---- nftmgr confirm ------------------------------------------------------ */

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s confirm [--rollback | --status]\n\n"
		"Keep the commit made with --confirm-within (sync, apply, create,\n"
		"replace, delete), so that it is not rolled back at its deadline.\n\n"
		"      --rollback   roll it back now instead\n"
		"      --status     say whether a commit awaits confirmation\n",
		prog);
}

/* Sends req to the helper guarding table and reads its one-line reply.
 * Returns 1 with the reply, 0 when no helper listens, or -errno. */
static int ask_helper(const char *table, const char *req, char *reply, size_t len)
{
	struct sockaddr_un sa;
	socklen_t salen = sock_addr(table, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 1;
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0 || write(fd, req, strlen(req)) < 0) {
		r = errno == ECONNREFUSED || errno == ENOENT ? 0 : -errno;
		close(fd);
		return r;
	}
	/* A rollback takes one transaction; a minute is plenty. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 60 },
			 sizeof(struct timeval));
	while (got < len - 1 && (n = read(fd, reply + got, len - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	reply[got] = '\0';
	return got ? 1 : -ETIMEDOUT;
}

int cmd_confirm(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rollback", no_argument, NULL, 'r' },
		{ "status", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *req = "confirm\n", *table;
	char reply[REPLY_MAX];
	int c, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'r')
			req = "rollback\n";
		else if (c == 's')
			req = "status\n";
		else if (c == 'h')
			return usage(stdout, ctx->prog), EXIT_OK;
		else
			return usage(stderr, ctx->prog), EXIT_USAGE;
	}
	if (optind != argc)
		return usage(stderr, ctx->prog), EXIT_USAGE;
	table = table_name(ctx);
	r = ask_helper(table, req, reply, sizeof(reply));
	if (r == 0) {
		printf("No commit to table inet %s awaits confirmation\n", table);
		return strcmp(req, "status\n") == 0 ? EXIT_OK : EXIT_FAIL;
	}
	if (r == -ETIMEDOUT) {
		fprintf(stderr, "The confirmation helper did not answer\n");
		return EXIT_FAIL;
	}
	if (r < 0) {
		fprintf(stderr, "Cannot reach the confirmation helper: %s\n", strerror(-r));
		return EXIT_FAIL;
	}
	fputs(reply, strncmp(reply, "refused", 7) == 0 || strncmp(reply, "rollback failed", 15) == 0
			     ? stderr
			     : stdout);
	return strncmp(reply, "confirmed", 9) == 0 || strncmp(reply, "rolled back", 11) == 0 ||
			       strncmp(reply, "pending", 7) == 0
		       ? EXIT_OK
		       : EXIT_FAIL;
}
