/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The v2 watch: a long-polling GET (wait=true, recursive, waitIndex) on a
 * curl multi handle, sent again after each event from its modifiedIndex
 * + 1, so a burst is read event by event with nothing lost.
 *
 * etcd answers a long poll's headers at once and the body when an event
 * comes. Every poll ends after ETCD2_POLL_MS: if the headers came, it is
 * simply sent again; if not, the member is frozen or cut off and the
 * watch fails (the caller goes on from its index on the next member).
 * An index older than etcd's last 1,000 events is answered with HTTP 400
 * and errorCode 401: -ECANCELED, list again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"

#define ETCD2_POLL_MS 30000

struct etcd2_watch {
	struct etcd *e;
	CURLM *m;
	CURL *h;
	char *dir;
	int64_t index;	 /* waiting for events from here on */
	int64_t x_index; /* X-Etcd-Index of the current poll's headers */
	struct etcd_body b;
	bool running;
	const struct etcd2_watch_ops *ops;
	void *data;
	char errbuf[CURL_ERROR_SIZE];
};

static int poll_start(struct etcd2_watch *w)
{
	char query[96], *url;
	int r;

	snprintf(query, sizeof(query), "wait=true&recursive=true&waitIndex=%lld",
		 (long long)w->index);
	url = etcd2_url(w->e, w->dir, query);
	if (!url)
		return -ENOMEM;
	curl_easy_reset(w->h);
	w->b.n = 0;
	w->b.too_big = false;
	w->x_index = 0;
	r = etcd2_setup(w->e, w->h, url, w->errbuf, &w->b, &w->x_index);
	/* libcurl copies the URL */
	free(url);
	if (r < 0 || curl_easy_setopt(w->h, CURLOPT_TIMEOUT_MS, (long)ETCD2_POLL_MS) != CURLE_OK)
		return -EINVAL;
	if (curl_multi_add_handle(w->m, w->h) != CURLM_OK)
		return -EINVAL;
	w->running = true;
	return 0;
}

int etcd2_watch_start(struct etcd *e, const char *dir, int64_t index,
		      const struct etcd2_watch_ops *ops, void *data, struct etcd2_watch **ret)
{
	struct etcd2_watch *w = calloc(1, sizeof(*w));
	int r = -ENOMEM;

	if (!w)
		return r;
	w->e = e;
	w->index = index;
	w->ops = ops;
	w->data = data;
	w->dir = strdup(dir);
	w->m = curl_multi_init();
	w->h = curl_easy_init();
	if (w->dir && w->m && w->h)
		r = poll_start(w);
	if (r < 0) {
		etcd2_watch_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

static int fail(struct etcd2_watch *w, int r, const char *msg)
{
	etcd_set_error(w->e, "etcd %s: watch: %s", etcd_endpoint(w->e), msg);
	if (r != -ECANCELED)
		etcd_next_endpoint(w->e);
	return r;
}

/* A poll ended: deliver its event and poll again, or say why not. */
static int finished(struct etcd2_watch *w, CURLcode c)
{
	struct etcd2_event ev;
	long status = 0;
	char msg[256], why[300];
	int r;

	curl_multi_remove_handle(w->m, w->h);
	w->running = false;
	curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
	if (c == CURLE_OPERATION_TIMEDOUT && status == 200 && w->b.n == 0)
		return poll_start(w); /* a quiet member that answered */
	if (c != CURLE_OK)
		return fail(w, -EIO,
			    c == CURLE_OPERATION_TIMEDOUT
				    ? "no answer in time (a frozen or partitioned member)"
			    : w->errbuf[0] ? w->errbuf
					   : curl_easy_strerror(c));
	if (status != 200) {
		int code = etcd2_parse_error(w->b.p ? w->b.p : "", w->b.n, msg, sizeof(msg));

		snprintf(why, sizeof(why), "%s (HTTP %ld)", msg, status);
		return fail(w, code == 401 ? -ECANCELED : -EIO, why);
	}
	if (w->b.n == 0) /* an empty long poll: again */
		return poll_start(w);
	r = etcd2_parse_event(w->b.p, w->b.n, &ev);
	if (r < 0)
		return fail(w, r == -ENOMEM ? r : -EIO, "an event that does not parse");
	w->index = ev.modified_index + 1;
	r = ev.ignored ? 0 : w->ops->event(w->data, &ev);
	etcd2_event_clear(&ev);
	return r < 0 ? r : poll_start(w);
}

int etcd2_watch_poll(struct etcd2_watch *w, struct pollfd *fds, unsigned n, int timeout_ms)
{
	int running = 0, left, r;
	CURLMsg *msg;

	if (!w->running)
		return -EINVAL;
	r = etcd_multi_wait(w->m, fds, n, timeout_ms);
	if (r < 0)
		return r;
	while ((msg = curl_multi_info_read(w->m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		r = finished(w, msg->data.result);
		if (r < 0)
			return r;
		/* the next poll may already hold the next event */
		if (curl_multi_perform(w->m, &running) != CURLM_OK)
			return -EIO;
	}
	return 0;
}

int64_t etcd2_watch_index(const struct etcd2_watch *w)
{
	return w->index;
}

struct etcd2_watch *etcd2_watch_free(struct etcd2_watch *w)
{
	if (!w)
		return NULL;
	if (w->running)
		curl_multi_remove_handle(w->m, w->h);
	if (w->h)
		curl_easy_cleanup(w->h);
	if (w->m)
		curl_multi_cleanup(w->m);
	free(w->b.p);
	free(w->dir);
	free(w);
	return NULL;
}
