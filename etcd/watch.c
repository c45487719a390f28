/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The watch: one long POST to /v3/watch whose answer is a stream of JSON
 * lines, driven by a curl multi handle so that the daemon's loop can wait
 * on it together with its own descriptors.
 *
 * The request body is sent whole: etcd 3.4's gateway (HTTP/1.1) answers a
 * chunked body only once it has ended, so requests cannot be added to a
 * running watch, and a frozen member (stopped, or cut off without a reset)
 * keeps the stream open and silent. Liveness comes from beside it: every
 * ETCD_HEARTBEAT_MS a request goes to the same member, on the same multi
 * handle: GET /version (served by etcd's HTTP layer alone: 200 daemons
 * cost a member 2% of a core where linearizable reads cost 16%), and
 * every ETCD_HEARTBEAT_READ_EVERY-th a linearizable read of one absent
 * key, which goes through the leader. A member that does not answer
 * within ETCD_HEARTBEAT_TIMEOUT_MS, or answers the read that it has no
 * leader, ends the watch (the caller resumes from its last revision on
 * the next member). The watch also carries gRPC's require-leader metadata
 * (Grpc-Metadata-Hasleader through the JSON gateway), so a member that
 * loses its leader ends it too. Progress notifications under a low-speed
 * limit and TCP keepalive stay as the last resort.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etcd-internal.h"

#define HEARTBEAT_KEY "/calico/nftmgr/heartbeat"

struct etcd_watch {
	struct etcd *e;
	CURLM *m;
	CURL *h;
	struct curl_slist *hdrs;
	char *url;
	char *body;
	unsigned idle_s;
	struct etcd_stream st;
	struct etcd_watch_sink sink;
	char errbuf[CURL_ERROR_SIZE];
	/* the heartbeat */
	CURL *hb;
	char *hb_url, *hb_body, *hb_version_url;
	unsigned hb_n; /* heartbeats sent */
	struct etcd_body hb_answer;
	bool hb_running;
	uint64_t hb_next; /* monotonic ms */
	char hb_errbuf[CURL_ERROR_SIZE];
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static size_t on_hb(char *p, size_t size, size_t nmemb, void *data)
{
	struct etcd_body *b = data;

	return etcd_append(&b->p, &b->n, &b->cap, p, size * nmemb) < 0 ? 0 : size * nmemb;
}

static int hb_setup(struct etcd_watch *w)
{
	json_t *req = json_pack("{s:o, s:b}", "key",
				etcd_json_b64(HEARTBEAT_KEY, strlen(HEARTBEAT_KEY)), "count_only",
				1);
	CURLcode c = CURLE_OK;

	w->hb_body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	w->hb = curl_easy_init();
	if (!w->hb_body || !w->hb || etcd_curl_common(w->e, w->hb, w->hb_errbuf) < 0 ||
	    asprintf(&w->hb_url, "%s/v3/kv/range", etcd_endpoint(w->e)) < 0 ||
	    asprintf(&w->hb_version_url, "%s/version", etcd_endpoint(w->e)) < 0)
		return -ENOMEM;
	c |= curl_easy_setopt(w->hb, CURLOPT_HTTPHEADER, w->hdrs);
	c |= curl_easy_setopt(w->hb, CURLOPT_TIMEOUT_MS, (long)ETCD_HEARTBEAT_TIMEOUT_MS);
	c |= curl_easy_setopt(w->hb, CURLOPT_WRITEFUNCTION, on_hb);
	c |= curl_easy_setopt(w->hb, CURLOPT_WRITEDATA, &w->hb_answer);
	return c == CURLE_OK ? 0 : -EINVAL;
}

/* Starts the next heartbeat when one is due; returns
 * the ms until one is due (-1: none to wait for). */
static int hb_due(struct etcd_watch *w)
{
	uint64_t now = now_ms();

	/* also before "created": a member that froze after the request
	 * went out would never answer it */
	if (w->hb_running || w->sink.state == ETCD_WATCH_COMPACTED ||
	    w->sink.state == ETCD_WATCH_FAILED)
		return -1;
	if (!w->hb_next)
		w->hb_next = now + ETCD_HEARTBEAT_MS;
	if (now < w->hb_next)
		return (int)(w->hb_next - now);
	w->hb_answer.n = 0;
	if (w->hb_n++ % ETCD_HEARTBEAT_READ_EVERY == 0) {
		curl_easy_setopt(w->hb, CURLOPT_URL, w->hb_url);
		curl_easy_setopt(w->hb, CURLOPT_POSTFIELDS, w->hb_body);
	} else {
		curl_easy_setopt(w->hb, CURLOPT_URL, w->hb_version_url);
		curl_easy_setopt(w->hb, CURLOPT_HTTPGET, 1L);
	}
	if (curl_multi_add_handle(w->m, w->hb) == CURLM_OK)
		w->hb_running = true;
	return -1;
}

/* A heartbeat came back: NULL when the member answered as a member with
 * a leader does, else why not. */
static const char *hb_verdict(struct etcd_watch *w, CURLcode c)
{
	long status = 0;
	json_t *j;
	const char *why = NULL;

	curl_multi_remove_handle(w->m, w->hb);
	w->hb_running = false;
	w->hb_next = now_ms() + ETCD_HEARTBEAT_MS;
	if (c != CURLE_OK)
		return c == CURLE_OPERATION_TIMEDOUT ? "no answer to the heartbeat in time "
						       "(a frozen or partitioned member)"
						     : curl_easy_strerror(c);
	curl_easy_getinfo(w->hb, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		return NULL;
	/* Unavailable (14) or DeadlineExceeded (4): no leader, no quorum;
	 * anything else (auth, ...) is an answer from a working member. */
	j = json_loadb(w->hb_answer.p ? w->hb_answer.p : "", w->hb_answer.n, 0, NULL);
	if (j && (json_integer_value(json_object_get(j, "code")) == 14 ||
		  json_integer_value(json_object_get(j, "code")) == 4))
		why = "the member has no leader";
	json_decref(j);
	return why;
}

static size_t on_stream(char *p, size_t size, size_t nmemb, void *data)
{
	struct etcd_watch *w = data;

	return etcd_stream_feed(&w->st, p, size * nmemb, &w->sink) < 0 ? 0 : size * nmemb;
}

static int create_line(struct etcd_watch *w, const char *prefix, int64_t rev)
{
	size_t plen = strlen(prefix);
	char end[512];
	json_t *req;

	if (!plen || plen >= sizeof(end))
		return -EINVAL;
	memcpy(end, prefix, plen);
	end[plen - 1]++; /* our prefixes end in '/': no 0xff byte */
	req = json_pack("{s:{s:o, s:o, s:I, s:b}}", "create_request", "key",
			etcd_json_b64(prefix, plen), "range_end", etcd_json_b64(end, plen),
			"start_revision", (json_int_t)rev, "progress_notify", 1);
	w->body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	return w->body ? 0 : -ENOMEM;
}

static int setup(struct etcd_watch *w)
{
	struct etcd *e = w->e;
	CURLcode c = CURLE_OK;

	w->hdrs = etcd_headers(e);
	if (w->hdrs)
		w->hdrs = curl_slist_append(w->hdrs, "Grpc-Metadata-Hasleader: true");
	if (!w->hdrs || asprintf(&w->url, "%s/v3/watch", etcd_endpoint(e)) < 0)
		return -ENOMEM;
	w->m = curl_multi_init();
	w->h = curl_easy_init();
	if (!w->m || !w->h || etcd_curl_common(e, w->h, w->errbuf) < 0)
		return -ENOMEM;
	c |= curl_easy_setopt(w->h, CURLOPT_URL, w->url);
	c |= curl_easy_setopt(w->h, CURLOPT_HTTPHEADER, w->hdrs);
	c |= curl_easy_setopt(w->h, CURLOPT_POSTFIELDS, w->body);
	c |= curl_easy_setopt(w->h, CURLOPT_WRITEFUNCTION, on_stream);
	c |= curl_easy_setopt(w->h, CURLOPT_WRITEDATA, w);
	if (w->idle_s) {
		c |= curl_easy_setopt(w->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		c |= curl_easy_setopt(w->h, CURLOPT_LOW_SPEED_TIME, (long)w->idle_s);
	}
	if (c != CURLE_OK || curl_multi_add_handle(w->m, w->h) != CURLM_OK)
		return -EINVAL;
	return hb_setup(w);
}

int etcd_watch_start(struct etcd *e, const char *prefix, int64_t start_rev, unsigned idle_s,
		     const struct etcd_watch_ops *ops, void *data, struct etcd_watch **ret)
{
	struct etcd_watch *w = calloc(1, sizeof(*w));
	int r = w ? 0 : -ENOMEM;

	if (r == 0) {
		w->e = e;
		w->idle_s = idle_s;
		w->sink.ops = ops;
		w->sink.data = data;
		w->sink.revision = start_rev > 0 ? start_rev - 1 : 0;
		r = etcd_ensure_auth(e);
	}
	r = r ?: create_line(w, prefix, start_rev);
	r = r ?: setup(w);
	if (r < 0) {
		etcd_watch_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

/* The transfer ended: the last line, then why. */
static int finished(struct etcd_watch *w, CURLcode c)
{
	long status = 0;
	int r = etcd_stream_finish(&w->st, &w->sink);

	if (w->sink.state == ETCD_WATCH_COMPACTED)
		return -ECANCELED;
	curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
	if (w->sink.state == ETCD_WATCH_FAILED || r < 0)
		etcd_set_error(w->e, "etcd %s: %s", etcd_endpoint(w->e), w->sink.error);
	else if (c != CURLE_OK)
		etcd_set_error(w->e, "etcd %s: watch: %s", etcd_endpoint(w->e),
			       w->errbuf[0] ? w->errbuf : curl_easy_strerror(c));
	else
		etcd_set_error(w->e, "etcd %s: the watch stream ended (HTTP %ld)",
			       etcd_endpoint(w->e), status);
	/* the next attempt goes to another endpoint */
	etcd_next_endpoint(w->e);
	return -EIO;
}

int etcd_watch_poll(struct etcd_watch *w, struct pollfd *fds, unsigned n, int timeout_ms)
{
	int left, due, r;
	CURLMsg *msg;

	if (w->sink.state == ETCD_WATCH_COMPACTED)
		return -ECANCELED;
	due = hb_due(w);
	if (due >= 0 && (timeout_ms < 0 || due < timeout_ms))
		timeout_ms = due;
	r = etcd_multi_wait(w->m, fds, n, timeout_ms);
	if (r < 0)
		return r;
	while ((msg = curl_multi_info_read(w->m, &left))) {
		const char *why;

		if (msg->msg != CURLMSG_DONE)
			continue;
		if (msg->easy_handle != w->hb)
			return finished(w, msg->data.result);
		why = hb_verdict(w, msg->data.result);
		if (why) {
			etcd_set_error(w->e, "etcd %s: %s", etcd_endpoint(w->e), why);
			etcd_next_endpoint(w->e);
			return -EIO;
		}
	}
	return w->sink.state == ETCD_WATCH_COMPACTED ? -ECANCELED : 0;
}

int64_t etcd_watch_revision(const struct etcd_watch *w)
{
	return w->sink.revision;
}

bool etcd_watch_created(const struct etcd_watch *w)
{
	return w->sink.state == ETCD_WATCH_RUNNING;
}

struct etcd_watch *etcd_watch_free(struct etcd_watch *w)
{
	if (!w)
		return NULL;
	if (w->m && w->h)
		curl_multi_remove_handle(w->m, w->h);
	if (w->m && w->hb && w->hb_running)
		curl_multi_remove_handle(w->m, w->hb);
	if (w->h)
		curl_easy_cleanup(w->h);
	if (w->hb)
		curl_easy_cleanup(w->hb);
	free(w->hb_url);
	free(w->hb_version_url);
	free(w->hb_body);
	free(w->hb_answer.p);
	if (w->m)
		curl_multi_cleanup(w->m);
	curl_slist_free_all(w->hdrs);
	free(w->url);
	free(w->body);
	etcd_stream_clear(&w->st);
	free(w);
	return NULL;
}
