/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's metrics and health over HTTP (libmicrohttpd), off unless
 * --metrics-address is given: /metrics in Prometheus' text format,
 * /livez (the daemon's loop is alive), /readyz (the first commit is done
 * and the datastore is connected). libmicrohttpd answers from its own
 * thread; the numbers it reads are guarded by one mutex.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct metrics {
	struct MHD_Daemon *httpd;
	pthread_mutex_t lock;
	unsigned long bucket[N_BUCKETS + 1]; /* + Inf */
	double sum;
	unsigned long count;
	unsigned long commits;
	unsigned long failures;
	unsigned long resyncs;
	struct compile_stats st;
	bool connected;
	bool committed;
	double last_commit; /* seconds since the epoch, 0: never */
	uint64_t heartbeat; /* CLOCK_MONOTONIC s of the loop's last turn */
};

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static char *render(struct metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned long cum = 0;

	if (!f)
		return NULL;
	fputs("# HELP nftmgr_commit_duration_seconds Time to compile the ruleset and commit it.\n"
	      "# TYPE nftmgr_commit_duration_seconds histogram\n",
	      f);
	for (size_t i = 0; i <= N_BUCKETS; i++) {
		cum += m->bucket[i];
		if (i < N_BUCKETS)
			fprintf(f, "nftmgr_commit_duration_seconds_bucket{le=\"%g\"} %lu\n",
				buckets[i], cum);
		else
			fprintf(f, "nftmgr_commit_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
	}
	fprintf(f,
		"nftmgr_commit_duration_seconds_sum %.6f\n"
		"nftmgr_commit_duration_seconds_count %lu\n",
		m->sum, m->count);
	fprintf(f,
		"# HELP nftmgr_commits_total Transactions that changed the kernel's table.\n"
		"# TYPE nftmgr_commits_total counter\nnftmgr_commits_total %lu\n"
		"# HELP nftmgr_commit_failures_total Compiles or commits that failed (the rules in force stayed).\n"
		"# TYPE nftmgr_commit_failures_total counter\nnftmgr_commit_failures_total %lu\n"
		"# HELP nftmgr_resyncs_total Periodic and requested syncs against the kernel's table.\n"
		"# TYPE nftmgr_resyncs_total counter\nnftmgr_resyncs_total %lu\n",
		m->commits, m->failures, m->resyncs);
	fprintf(f,
		"# HELP nftmgr_policies Policies in the table in force.\n"
		"# TYPE nftmgr_policies gauge\nnftmgr_policies %zu\n"
		"# HELP nftmgr_endpoints Host endpoints of this node in the table in force.\n"
		"# TYPE nftmgr_endpoints gauge\nnftmgr_endpoints %zu\n"
		"# HELP nftmgr_set_elements Elements of all sets in the table in force.\n"
		"# TYPE nftmgr_set_elements gauge\nnftmgr_set_elements %zu\n",
		m->st.policies, m->st.endpoints, m->st.elements);
	fprintf(f,
		"# HELP nftmgr_datastore_connected 1 while the datastore is reachable.\n"
		"# TYPE nftmgr_datastore_connected gauge\nnftmgr_datastore_connected %d\n"
		"# HELP nftmgr_last_commit_timestamp_seconds When the last sync succeeded.\n"
		"# TYPE nftmgr_last_commit_timestamp_seconds gauge\n"
		"nftmgr_last_commit_timestamp_seconds %.3f\n",
		m->connected, m->last_commit);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body,
			     const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct metrics *m = cls;
	unsigned status = MHD_HTTP_OK;
	char *body = NULL;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET only\n"), "text/plain");
	pthread_mutex_lock(&m->lock);
	if (strcmp(url, "/metrics") == 0) {
		body = render(m);
	} else if (strcmp(url, "/livez") == 0) {
		/* the loop turns at least every resync interval */
		bool alive = mono_s() - m->heartbeat <= 3 * 60;

		status = alive ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
		body = strdup(alive ? "ok\n" : "the daemon's loop is stuck\n");
	} else if (strcmp(url, "/readyz") == 0) {
		bool ready = m->committed && m->connected;

		status = ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
		body = strdup(ready	      ? "ok\n"
			      : !m->committed ? "no commit yet\n"
					      : "the datastore is not connected\n");
	} else {
		status = MHD_HTTP_NOT_FOUND;
		body = strdup("/metrics, /livez or /readyz\n");
	}
	pthread_mutex_unlock(&m->lock);
	return reply(c, status, body,
		     strcmp(url, "/metrics") == 0 ? "text/plain; version=0.0.4" : "text/plain");
}

/* HOST:PORT with a numeric IPv4 address or [IPv6]; a PORT alone (or
 * :PORT) is on the loopback, 127.0.0.1: the metrics are not for the
 * network unless an address says so. */
static int parse_address(const char *s, struct sockaddr_storage *ss)
{
	const char *colon = strrchr(s, ':');
	char host[64], loop[80];
	char *end;
	unsigned long port;

	if (!colon || colon == s) {
		if (strlen(s) > 8)
			return -EINVAL;
		snprintf(loop, sizeof(loop), "127.0.0.1:%s", colon ? colon + 1 : s);
		s = loop;
		colon = strrchr(s, ':');
	}
	if ((size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port == 0 || port > 65535)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
	}
}

int metrics_start(const char *address, struct metrics **ret, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct metrics *m;

	if (parse_address(address, &ss) < 0) {
		snprintf(err, errlen,
			 "--metrics-address wants HOST:PORT with a numeric "
			 "address (127.0.0.1:9108, [::1]:9108) or a PORT (on 127.0.0.1), not '%s'",
			 address);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	m->heartbeat = mono_s();
	m->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
					    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				    0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR,
				    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 16u,
				    MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->httpd) {
		snprintf(err, errlen, "cannot serve metrics on %s: %s", address,
			 strerror(errno ? errno : EADDRINUSE));
		pthread_mutex_destroy(&m->lock);
		free(m);
		return -EADDRINUSE;
	}
	*ret = m;
	return 0;
}

struct metrics *metrics_stop(struct metrics *m)
{
	if (!m)
		return NULL;
	MHD_stop_daemon(m->httpd);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return NULL;
}

void metrics_commit(struct metrics *m, double seconds, int result, bool changed, bool resync,
		    const struct compile_stats *st)
{
	size_t b = 0;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	while (b < N_BUCKETS && seconds > buckets[b])
		b++;
	m->bucket[b]++;
	m->sum += seconds;
	m->count++;
	m->resyncs += resync;
	if (result < 0) {
		m->failures++;
	} else {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		m->commits += changed;
		m->st = *st;
		m->committed = true;
		m->last_commit = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	}
	pthread_mutex_unlock(&m->lock);
}

void metrics_connected(struct metrics *m, bool connected)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->connected = connected;
	m->heartbeat = mono_s();
	pthread_mutex_unlock(&m->lock);
}
