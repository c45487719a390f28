/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The connection to etcd: endpoints with failover, TLS files, token auth,
 * and one unary call (POST JSON, bounded JSON answer).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "etcd-internal.h"

#define CONNECT_MS 3000
#define UNARY_MS   30000 /* a unary call; never used for the watch */
/* A member that sends not one byte of an answer for this long (curl's
 * low-speed check; a POST's own bytes keep its average up for some more
 * seconds) is taken for frozen or cut off, and the call moves on to the
 * next endpoint, as after a refused connection: a fleet's command line
 * does not wait UNARY_MS on a frozen first endpoint (about 11 s instead;
 * a large transaction may keep etcd silent for seconds). */
#define SILENT_S   5

const char *etcd_transport_version(void)
{
	return curl_version();
}

void etcd_set_error(struct etcd *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->error, sizeof(e->error), fmt, ap);
	va_end(ap);
}

const char *etcd_error(const struct etcd *e)
{
	return e->error;
}

int etcd_error_code(const struct etcd *e)
{
	return e->code;
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->endpoints[e->cur];
}

void etcd_next_endpoint(struct etcd *e)
{
	e->cur = (e->cur + 1) % e->n_endpoints;
}

static int add_endpoint(struct etcd *e, const char *p, size_t len, char *err, size_t errlen)
{
	while (len && (p[len - 1] == '/' || p[len - 1] == ' '))
		len--;
	while (len && *p == ' ')
		p++, len--;
	if (!len)
		return 0;
	if (e->n_endpoints == ETCD_MAX_ENDPOINTS || len > 512) {
		snprintf(err, errlen, "etcdEndpoints: at most %d endpoints of 512 characters",
			 ETCD_MAX_ENDPOINTS);
		return -EINVAL;
	}
	if (strncmp(p, "http://", 7) != 0 && strncmp(p, "https://", 8) != 0) {
		snprintf(err, errlen, "etcdEndpoints: '%.*s' is not an http:// or https:// URL",
			 (int)len, p);
		return -EINVAL;
	}
	e->endpoints[e->n_endpoints] = strndup(p, len);
	if (!e->endpoints[e->n_endpoints])
		return -ENOMEM;
	e->n_endpoints++;
	return 0;
}

static int dup_opt(char **dst, const char *src)
{
	if (!src || !*src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

size_t etcd_spread_index(const char *key, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return n ? (size_t)(h % n) : 0;
}

int etcd_open(const struct etcd_opts *o, struct etcd **ret, char *err, size_t errlen)
{
	struct etcd *e = calloc(1, sizeof(*e));
	const char *p = o->endpoints ? o->endpoints : "";
	int r = e ? 0 : -ENOMEM;

	while (r == 0 && *p) {
		size_t len = strcspn(p, ",");

		r = add_endpoint(e, p, len, err, errlen);
		p += len + (p[len] == ',');
	}
	if (r == 0 && !e->n_endpoints) {
		snprintf(err, errlen, "etcdEndpoints is empty: give at least one URL");
		r = -EINVAL;
	}
	if (r == 0 && (!o->username) != (!o->password)) {
		snprintf(err, errlen, "etcdUsername and etcdPassword go together");
		r = -EINVAL;
	}
	if (r == 0)
		r = dup_opt(&e->ca_file, o->ca_file) ?: dup_opt(&e->cert_file, o->cert_file) ?:
		    dup_opt(&e->key_file, o->key_file) ?: dup_opt(&e->username, o->username) ?:
		    dup_opt(&e->password, o->password);
	if (r == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		r = -ENOMEM;
	if (r == 0 && !(e->h = curl_easy_init()))
		r = -ENOMEM;
	if (r == 0 && o->spread_key)
		e->cur = etcd_spread_index(o->spread_key, e->n_endpoints);
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		etcd_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

struct etcd *etcd_free(struct etcd *e)
{
	if (!e)
		return NULL;
	for (size_t i = 0; i < e->n_endpoints; i++)
		free(e->endpoints[i]);
	if (e->h)
		curl_easy_cleanup(e->h);
	free(e->ca_file);
	free(e->cert_file);
	free(e->key_file);
	free(e->username);
	if (e->password)
		explicit_bzero(e->password, strlen(e->password));
	free(e->password);
	free(e->token);
	free(e);
	return NULL;
}

static curl_socket_t open_cloexec(void *data, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)data;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Three unanswered keepalive probes, 5 s apart, after 10 s of silence:
 * a vanished peer is noticed in about 25 s. */
static int sockopt(void *data, curl_socket_t fd, curlsocktype purpose)
{
	int cnt = 3;

	(void)data;
	(void)purpose;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	return CURL_SOCKOPT_OK;
}

int etcd_curl_common(struct etcd *e, CURL *h, char *errbuf)
{
	CURLcode c = CURLE_OK;

	errbuf[0] = '\0';
	c |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	c |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c |= curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_cloexec);
	c |= curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, sockopt);
	c |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
	c |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	c |= curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
	c |= curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
	c |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	c |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	c |= curl_easy_setopt(h, CURLOPT_POST, 1L);
	if (e->ca_file)
		c |= curl_easy_setopt(h, CURLOPT_CAINFO, e->ca_file);
	if (e->cert_file)
		c |= curl_easy_setopt(h, CURLOPT_SSLCERT, e->cert_file);
	if (e->key_file)
		c |= curl_easy_setopt(h, CURLOPT_SSLKEY, e->key_file);
	return c == CURLE_OK ? 0 : -EINVAL;
}

struct curl_slist *etcd_headers(const struct etcd *e)
{
	struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json"), *n;
	char *auth;

	if (!l || !e->token)
		return l;
	if (asprintf(&auth, "Authorization: %s", e->token) < 0)
		return curl_slist_free_all(l), NULL;
	n = curl_slist_append(l, auth);
	free(auth);
	if (!n)
		curl_slist_free_all(l);
	return n;
}

size_t etcd_on_body(char *p, size_t size, size_t nmemb, void *data)
{
	struct etcd_body *b = data;
	size_t len = size * nmemb;
	int r = etcd_append(&b->p, &b->n, &b->cap, p, len);

	b->too_big = r == -E2BIG;
	return r < 0 ? 0 : len;
}

bool etcd_transport_error(CURLcode c)
{
	return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
	       c == CURLE_OPERATION_TIMEDOUT || c == CURLE_SEND_ERROR || c == CURLE_RECV_ERROR ||
	       c == CURLE_GOT_NOTHING || c == CURLE_SSL_CONNECT_ERROR ||
	       c == CURLE_PEER_FAILED_VERIFICATION;
}

/* One POST to one endpoint. 0: *ret is the JSON answer (HTTP status in
 * *status); negative errno: transport failure, message in e->error. */
static int post_once(struct etcd *e, const char *path, const char *body, long *status, json_t **ret)
{
	struct curl_slist *hdrs = etcd_headers(e);
	struct etcd_body b = { 0 };
	char errbuf[CURL_ERROR_SIZE], *url = NULL;
	json_error_t jerr;
	CURLcode c;
	int r = -ENOMEM;

	curl_easy_reset(e->h);
	if (!hdrs || asprintf(&url, "%s%s", e->endpoints[e->cur], path) < 0)
		goto out;
	if (etcd_curl_common(e, e->h, errbuf) < 0 ||
	    curl_easy_setopt(e->h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e->h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(e->h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(e->h, CURLOPT_TIMEOUT_MS, (long)UNARY_MS) != CURLE_OK ||
	    curl_easy_setopt(e->h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
	    curl_easy_setopt(e->h, CURLOPT_LOW_SPEED_TIME, (long)SILENT_S) != CURLE_OK ||
	    curl_easy_setopt(e->h, CURLOPT_WRITEFUNCTION, etcd_on_body) != CURLE_OK ||
	    curl_easy_setopt(e->h, CURLOPT_WRITEDATA, &b) != CURLE_OK)
		goto out;
	c = curl_easy_perform(e->h);
	if (c != CURLE_OK) {
		etcd_set_error(e, "etcd %s: %s", e->endpoints[e->cur],
			       b.too_big   ? "answer larger than 64 MiB"
			       : errbuf[0] ? errbuf
					   : curl_easy_strerror(c));
		r = b.too_big ? -E2BIG : etcd_transport_error(c) ? -EHOSTUNREACH : -EIO;
		goto out;
	}
	curl_easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, status);
	*ret = json_loadb(b.p ? b.p : "", b.n, 0, &jerr);
	r = 0;
	if (!*ret) {
		etcd_set_error(e, "etcd %s%s: HTTP %ld with an answer that is not JSON (%s)",
			       e->endpoints[e->cur], path, *status, jerr.text);
		r = -EPROTO;
	}
out:
	free(b.p);
	free(url);
	curl_slist_free_all(hdrs);
	return r;
}

static int authenticate(struct etcd *e)
{
	json_t *req = json_pack("{s:s, s:s}", "name", e->username, "password", e->password);
	json_t *ans = NULL;
	const char *tok;
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	long status = 0;
	int r = body ? post_once(e, "/v3/auth/authenticate", body, &status, &ans) : -ENOMEM;

	if (body)
		explicit_bzero(body, strlen(body));
	free(body);
	json_decref(req);
	if (r < 0)
		return r;
	tok = json_string_value(json_object_get(ans, "token"));
	free(e->token);
	e->token = tok ? strdup(tok) : NULL;
	if (!tok)
		etcd_set_error(e, "etcd %s: authentication as '%s' failed: %s",
			       e->endpoints[e->cur], e->username,
			       json_string_value(json_object_get(ans, "message")) ?: "no token");
	json_decref(ans);
	return tok ? (e->token ? 0 : -ENOMEM) : -EACCES;
}

/* An error answer: {"error":..., "message":..., "code":N}. */
static int answer_error(struct etcd *e, const char *path, long status, json_t *ans)
{
	const char *msg = json_string_value(json_object_get(ans, "message"));

	e->code = (int)json_integer_value(json_object_get(ans, "code"));
	etcd_set_error(e, "etcd %s%s: %s (HTTP %ld)", e->endpoints[e->cur], path,
		       msg ? msg : "error without a message", status);
	if (e->code == 16)
		return -EACCES;
	if (e->code == 11)
		return -ERANGE;
	return -EPROTO;
}

int etcd_ensure_auth(struct etcd *e)
{
	int r = 0;

	for (size_t tried = 0; e->username && !e->token && tried < e->n_endpoints; tried++) {
		r = authenticate(e);
		if (r != -EHOSTUNREACH)
			break;
		etcd_next_endpoint(e);
	}
	return r;
}

int etcd_call(struct etcd *e, const char *path, const json_t *req, json_t **ret)
{
	char *body = json_dumps(req, JSON_COMPACT);
	bool authed = false;
	size_t tried = 0;
	int r = -ENOMEM;

	e->code = 0;
	while (body) {
		json_t *ans = NULL;
		long status = 0;

		r = 0;
		if (e->username && !e->token && !authed) {
			authed = true;
			r = authenticate(e);
			if (r < 0 && r != -EHOSTUNREACH)
				break;
		}
		if (r == 0)
			r = post_once(e, path, body, &status, &ans);
		if (r == -EHOSTUNREACH) {
			etcd_next_endpoint(e);
			authed = false;
			free(e->token);
			e->token = NULL;
			if (++tried == e->n_endpoints)
				break;
			continue;
		}
		if (r < 0)
			break;
		if (status == 200) {
			*ret = ans;
			break;
		}
		r = answer_error(e, path, status, ans);
		json_decref(ans);
		if (r == -EACCES && e->username && !authed) {
			free(e->token);
			e->token = NULL; /* expired: once more with a new one */
			continue;
		}
		break;
	}
	free(body);
	return r;
}

json_t *etcd_json_b64(const void *p, size_t len)
{
	char *s = etcd_b64_encode(p, len);
	json_t *j = s ? json_string(s) : NULL;

	free(s);
	return j;
}

int etcd_multi_wait(CURLM *m, struct pollfd *fds, unsigned n, int timeout_ms)
{
	struct curl_waitfd cw[8];
	int numfds = 0, running = 0;

	if (n > 8)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		cw[i] = (struct curl_waitfd){ .fd = fds[i].fd,
					      .events = fds[i].events & POLLIN ? CURL_WAIT_POLLIN
									       : 0 };
	if (curl_multi_poll(m, cw, n, timeout_ms, &numfds) != CURLM_OK)
		return -EIO;
	for (unsigned i = 0; i < n; i++)
		fds[i].revents = cw[i].revents & CURL_WAIT_POLLIN ? POLLIN : 0;
	return curl_multi_perform(m, &running) == CURLM_OK ? 0 : -EIO;
}
