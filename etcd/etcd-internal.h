/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to etcd/: the client's state and the HTTP/JSON helpers. */
#ifndef NFTMGR_ETCD_INTERNAL_H
#define NFTMGR_ETCD_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>

#include "etcd.h"

struct etcd {
	char *endpoints[ETCD_MAX_ENDPOINTS];
	size_t n_endpoints;
	size_t cur; /* the endpoint in use */
	char *ca_file;
	char *cert_file;
	char *key_file;
	char *username;
	char *password;
	char *token; /* from /v3/auth/authenticate */
	CURL *h;     /* unary calls; keeps its connection */
	int code;    /* gRPC code of the last etcd error */
	char error[512];
};

/* A response body, bounded by ETCD_MAX_RESPONSE. */
struct etcd_body {
	char *p;
	size_t n;
	size_t cap;
	bool too_big;
};

__attribute__((format(printf, 2, 3))) void etcd_set_error(struct etcd *e, const char *fmt, ...);
/* The options every transfer shares: TLS files, close-on-exec sockets,
 * connect timeout, keepalive, http(s) only, no redirects. */
int etcd_curl_common(struct etcd *e, CURL *h, char *errbuf);
/* Content-Type and, once authenticated, the token. Caller frees. */
struct curl_slist *etcd_headers(const struct etcd *e);
/* libcurl's write callback into a struct etcd_body. */
size_t etcd_on_body(char *p, size_t size, size_t nmemb, void *data);
/* Transport errors move on to the next endpoint; answers do not. */
bool etcd_transport_error(CURLcode c);
/* Waits at most timeout_ms for m or for fds (revents filled in), then
 * lets m work. 0 or -EIO (-EINVAL: more than 8 fds). */
int etcd_multi_wait(CURLM *m, struct pollfd *fds, unsigned n, int timeout_ms);
/* POSTs req to path ("/v3/kv/range") on the current endpoint, failing
 * over to the others on transport errors, authenticating when asked.
 * Returns 0 with *ret the decoded answer, or a negative errno. */
int etcd_call(struct etcd *e, const char *path, const json_t *req, json_t **ret);
void etcd_next_endpoint(struct etcd *e);
/* Gets a token if a user is configured and none is held. */
int etcd_ensure_auth(struct etcd *e);
int64_t etcd_json_int64(const json_t *j);
/* Appends len bytes to a buffer kept NUL-terminated, bounded by
 * ETCD_MAX_RESPONSE: 0, -E2BIG or -ENOMEM. */
int etcd_append(char **buf, size_t *n, size_t *cap, const char *p, size_t len);
/* v2: the URL of key (percent-encoded) with query on the current
 * endpoint; caller frees. */
char *etcd2_url(const struct etcd *e, const char *key, const char *query);
/* v2: a GET of url into b, X-Etcd-Index into *index, basic auth. */
int etcd2_setup(struct etcd *e, CURL *h, const char *url, char *errbuf, struct etcd_body *b,
		int64_t *index);
/* A base64 JSON string of len bytes at p; NULL on ENOMEM. */
json_t *etcd_json_b64(const void *p, size_t len);

#endif
