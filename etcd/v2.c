/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * etcd's v2 keys API (/v2/keys), which Calico 2.6 kept its data in:
 * recursive GETs, a compare-and-swap PUT, over the same client as v3 (TLS
 * files, endpoints and failover); a user and password go as HTTP basic
 * authentication, as the v2 API wants them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "etcd-internal.h"

#define UNARY_MS 30000
#define SILENT_S 2 /* as the v3 calls: a silent member is left */

/* Keys hold libcalico-go's escapes (%2f): everything but unreserved
 * characters and '/' is percent-encoded. */
char *etcd2_url(const struct etcd *e, const char *key, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(key), w = 0;
	char *path = malloc(3 * n + 1), *url = NULL;

	if (!path)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)key[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~/", ch)) {
			path[w++] = (char)ch;
		} else {
			path[w++] = '%';
			path[w++] = hex[ch >> 4];
			path[w++] = hex[ch & 15];
		}
	}
	path[w] = '\0';
	if (asprintf(&url, "%s/v2/keys%s%s%s", etcd_endpoint(e), path, query ? "?" : "",
		     query ? query : "") < 0)
		url = NULL;
	free(path);
	return url;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *data)
{
	static const char name[] = "X-Etcd-Index:";
	size_t len = size * nmemb;
	int64_t *index = data;

	if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0)
		*index = strtoll(p + sizeof(name) - 1, NULL, 10);
	return len;
}

int etcd2_setup(struct etcd *e, CURL *h, const char *url, char *errbuf, struct etcd_body *b,
		int64_t *index)
{
	CURLcode c = CURLE_OK;

	if (etcd_curl_common(e, h, errbuf) < 0)
		return -EINVAL;
	c |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	c |= curl_easy_setopt(h, CURLOPT_URL, url);
	c |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, etcd_on_body);
	c |= curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	c |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	c |= curl_easy_setopt(h, CURLOPT_HEADERDATA, index);
	if (e->username) {
		c |= curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		c |= curl_easy_setopt(h, CURLOPT_USERNAME, e->username);
		c |= curl_easy_setopt(h, CURLOPT_PASSWORD, e->password ? e->password : "");
	}
	return c == CURLE_OK ? 0 : -EINVAL;
}

struct answer {
	long status;
	int64_t index;
	struct etcd_body b;
};

/* One request to one endpoint: form (may be NULL) makes it a PUT. */
static int request_once(struct etcd *e, const char *key, const char *query, const char *form,
			struct answer *a)
{
	char errbuf[CURL_ERROR_SIZE], *url = etcd2_url(e, key, query);
	CURLcode c;
	int r = -ENOMEM;

	curl_easy_reset(e->h);
	*a = (struct answer){ 0 };
	if (!url || etcd2_setup(e, e->h, url, errbuf, &a->b, &a->index) < 0 ||
	    curl_easy_setopt(e->h, CURLOPT_TIMEOUT_MS, (long)UNARY_MS) != CURLE_OK ||
	    curl_easy_setopt(e->h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
	    curl_easy_setopt(e->h, CURLOPT_LOW_SPEED_TIME, (long)SILENT_S) != CURLE_OK)
		goto out;
	if (form && (curl_easy_setopt(e->h, CURLOPT_CUSTOMREQUEST, "PUT") != CURLE_OK ||
		     curl_easy_setopt(e->h, CURLOPT_POSTFIELDS, form) != CURLE_OK))
		goto out;
	c = curl_easy_perform(e->h);
	if (c != CURLE_OK) {
		etcd_set_error(e, "etcd %s: %s", etcd_endpoint(e),
			       a->b.too_big ? "answer larger than 64 MiB"
			       : errbuf[0]  ? errbuf
					    : curl_easy_strerror(c));
		r = a->b.too_big ? -E2BIG : etcd_transport_error(c) ? -EHOSTUNREACH : -EIO;
		goto out;
	}
	curl_easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, &a->status);
	r = 0;
out:
	free(url);
	if (r < 0)
		free(a->b.p);
	return r;
}

/* With failover to the next endpoints on transport errors. */
static int request(struct etcd *e, const char *key, const char *query, const char *form,
		   struct answer *a)
{
	int r = -EHOSTUNREACH;

	e->code = 0;
	for (size_t tried = 0; tried < e->n_endpoints; tried++) {
		r = request_once(e, key, query, form, a);
		if (r != -EHOSTUNREACH)
			break;
		etcd_next_endpoint(e);
	}
	return r;
}

/* An answer other than 200: its errorCode in e->code, message set. */
static int answer_error(struct etcd *e, const char *key, const struct answer *a)
{
	char msg[256];

	if (a->status == 404 && (!a->b.p || a->b.p[0] != '{')) {
		etcd_set_error(e, "etcd %s: no v2 API here (etcd 3.4 serves it with --enable-v2)",
			       etcd_endpoint(e));
		return -ENOTSUP;
	}
	e->code = etcd2_parse_error(a->b.p ? a->b.p : "", a->b.n, msg, sizeof(msg));
	etcd_set_error(e, "etcd %s: %s: %s (HTTP %ld)", etcd_endpoint(e), key, msg, a->status);
	if (a->status == 401 || a->status == 403)
		return -EACCES;
	return e->code == 100 ? -ENOENT : -EPROTO;
}

static int get_tree(struct etcd *e, const char *key, const char *query, struct etcd2_kvs *out)
{
	struct answer a;
	int r = request(e, key, query, NULL, &a);

	*out = (struct etcd2_kvs){ 0 };
	if (r < 0)
		return r;
	if (a.status == 200) {
		r = etcd2_parse_tree(a.b.p ? a.b.p : "", a.b.n, out);
		if (r == -EPROTO)
			etcd_set_error(e, "etcd %s: %s: an answer that is not a v2 node",
				       etcd_endpoint(e), key);
		if (r == -E2BIG)
			etcd_set_error(e, "etcd %s: more than %u keys", etcd_endpoint(e),
				       ETCD_MAX_KEYS);
	} else {
		r = answer_error(e, key, &a);
		if (r == -ENOENT) /* absent: nothing under it */
			r = 0;
	}
	out->index = a.index;
	free(a.b.p);
	return r;
}

int etcd2_list(struct etcd *e, const char *dir, struct etcd2_kvs *out)
{
	return get_tree(e, dir, "recursive=true&quorum=true", out);
}

int etcd2_get(struct etcd *e, const char *key, struct etcd2_kvs *out)
{
	return get_tree(e, key, "quorum=true", out);
}

int etcd2_set(struct etcd *e, const char *key, const char *value, const char *prev_value, bool *ok)
{
	char *v = curl_easy_escape(e->h, value, 0), *pv = NULL, *form = NULL, *query = NULL;
	struct answer a = { 0 };
	int r = -ENOMEM;

	if (!v || (prev_value && !(pv = curl_easy_escape(e->h, prev_value, 0))))
		goto out;
	if (asprintf(&form, "value=%s", v) < 0 ||
	    (pv && asprintf(&query, "prevValue=%s", pv) < 0)) {
		form = query = NULL;
		goto out;
	}
	r = request(e, key, query, form, &a);
	if (r < 0)
		goto out;
	*ok = a.status == 200 || a.status == 201;
	if (!*ok) {
		r = answer_error(e, key, &a);
		/* compare failed (101) or absent (100): not written */
		if (prev_value && (e->code == 101 || e->code == 100))
			r = 0;
	}
out:
	free(a.b.p);
	curl_free(v);
	curl_free(pv);
	free(form);
	free(query);
	return r;
}
