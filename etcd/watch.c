/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The watch: one long POST to /v3/watch whose answer is a stream of JSON
 * lines, driven by a curl multi handle so that the daemon's loop can wait
 * on it together with its own descriptors.
 *
 * The request body is sent whole: etcd 3.4's gateway (HTTP/1.1) answers a
 * chunked body only once it has ended, so requests cannot be added to a
 * running watch. Liveness therefore comes from etcd's progress
 * notifications (asked for with progress_notify) under a low-speed limit
 * set above the server's interval, and from TCP keepalive, which notices
 * a vanished peer in about 25 s. There is no total timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"

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
};

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
	return 0;
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
	struct curl_waitfd cw[8];
	int running = 0, numfds = 0, left;
	CURLMsg *msg;

	if (w->sink.state == ETCD_WATCH_COMPACTED)
		return -ECANCELED;
	if (n > 8)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		cw[i] = (struct curl_waitfd){ .fd = fds[i].fd,
					      .events = fds[i].events & POLLIN ? CURL_WAIT_POLLIN
									       : 0 };
	if (curl_multi_poll(w->m, cw, n, timeout_ms, &numfds) != CURLM_OK)
		return -EIO;
	for (unsigned i = 0; i < n; i++)
		fds[i].revents = cw[i].revents & CURL_WAIT_POLLIN ? POLLIN : 0;
	if (curl_multi_perform(w->m, &running) != CURLM_OK)
		return -EIO;
	while ((msg = curl_multi_info_read(w->m, &left)))
		if (msg->msg == CURLMSG_DONE)
			return finished(w, msg->data.result);
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
	if (w->h)
		curl_easy_cleanup(w->h);
	if (w->m)
		curl_multi_cleanup(w->m);
	curl_slist_free_all(w->hdrs);
	free(w->url);
	free(w->body);
	etcd_stream_clear(&w->st);
	free(w);
	return NULL;
}
