/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The watch stream: one JSON object per line, cut by libcurl at arbitrary
 * places. Lines are reassembled here and each message is decoded into
 * events, progress and the watch's state. No I/O, so it can be fuzzed.
 *
 * Revisions: a message with events advances the watch to its newest
 * event's mod_revision, a progress notification to its header revision.
 * The "created" header is not trusted, because history replayed from the
 * start revision arrives after it and may come in several messages.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd-internal.h"

int etcd_append(char **buf, size_t *n, size_t *cap, const char *p, size_t len)
{
	if (*n + len > ETCD_MAX_RESPONSE)
		return -E2BIG;
	if (*n + len + 1 > *cap) {
		size_t c = *cap ? *cap : 4096;
		char *b;

		while (c < *n + len + 1)
			c *= 2;
		b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *n, p, len);
	*n += len;
	(*buf)[*n] = '\0';
	return 0;
}

int64_t etcd_json_int64(const json_t *j)
{
	const char *s;
	char *end;
	long long v;

	if (json_is_integer(j))
		return json_integer_value(j);
	s = json_string_value(j);
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno || *end ? 0 : v;
}

/* what, then ": detail" if there is one */
static void sink_fail(struct etcd_watch_sink *k, const char *what, const char *detail)
{
	k->state = ETCD_WATCH_FAILED;
	snprintf(k->error, sizeof(k->error), "%s%s%s", what, detail ? ": " : "",
		 detail ? detail : "");
}

static int deliver(struct etcd_watch_sink *k, const json_t *ev)
{
	const json_t *kv = json_object_get(ev, "kv");
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *kb = json_string_value(json_object_get(kv, "key"));
	const char *vb = json_string_value(json_object_get(kv, "value"));
	struct etcd_event e = { .deleted = type && strcmp(type, "DELETE") == 0 };
	char *key = NULL, *value = NULL;
	ssize_t kl, vl = 0;
	int r = 0;

	if (!kb || (type && !e.deleted && strcmp(type, "PUT") != 0))
		return 0;
	kl = etcd_b64_decode(kb, strlen(kb), &key);
	if (kl < 0 || strlen(key) != (size_t)kl)
		goto out; /* not a key of ours: ours are plain paths */
	if (!e.deleted) {
		vl = etcd_b64_decode(vb ? vb : "", vb ? strlen(vb) : 0, &value);
		if (vl < 0)
			goto out;
	}
	e.key = key;
	e.value = value;
	e.value_len = (size_t)vl;
	e.mod_revision = etcd_json_int64(json_object_get(kv, "mod_revision"));
	if (e.mod_revision > k->revision)
		k->revision = e.mod_revision;
	k->events++;
	if (k->ops && k->ops->event)
		r = k->ops->event(k->data, &e);
out:
	free(key);
	free(value);
	return r;
}

static int decode_result(struct etcd_watch_sink *k, const json_t *res)
{
	const json_t *events = json_object_get(res, "events");
	const json_t *hdr = json_object_get(res, "header");
	size_t i;
	json_t *ev;

	if (json_is_true(json_object_get(res, "canceled"))) {
		k->compact_revision = etcd_json_int64(json_object_get(res, "compact_revision"));
		if (k->compact_revision > 0) {
			k->state = ETCD_WATCH_COMPACTED;
			return -ECANCELED;
		}
		sink_fail(k, "etcd canceled the watch",
			  json_string_value(json_object_get(res, "cancel_reason"))
				  ?: "no reason given");
		return -ECONNABORTED;
	}
	if (json_is_true(json_object_get(res, "created"))) {
		k->state = ETCD_WATCH_RUNNING;
		return 0;
	}
	if (json_array_size(events)) {
		json_array_foreach(events, i, ev)
		{
			int r = deliver(k, ev);

			if (r < 0) {
				sink_fail(k, "the event handler stopped the watch", NULL);
				return r;
			}
		}
	} else if (k->state == ETCD_WATCH_RUNNING) {
		int64_t rev = etcd_json_int64(json_object_get(hdr, "revision"));

		if (rev > k->revision)
			k->revision = rev;
	}
	if (k->ops && k->ops->revision)
		k->ops->revision(k->data, k->revision);
	return 0;
}

static int decode_line(struct etcd_watch_sink *k, const char *p, size_t len)
{
	json_error_t err;
	json_t *j, *res, *e;
	int r;

	while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
		len--;
	if (!len)
		return 0;
	j = json_loadb(p, len, 0, &err);
	if (!j) {
		sink_fail(k, "etcd sent a watch message that is not JSON", err.text);
		return -EPROTO;
	}
	res = json_object_get(j, "result");
	e = json_object_get(j, "error");
	if (json_is_object(res)) {
		r = decode_result(k, res);
	} else if (e) {
		/* a stream error is an object; an answer to a bad request
		 * (HTTP 4xx) has the message beside a string "error" */
		const char *m = json_string_value(json_object_get(e, "message"))
					?: json_string_value(json_object_get(j, "message"));

		sink_fail(k, "etcd ended the watch", m ? m : "unknown error");
		r = -ECONNABORTED;
	} else {
		sink_fail(k, "etcd sent a watch message with neither result nor error", NULL);
		r = -EPROTO;
	}
	json_decref(j);
	return r;
}

int etcd_stream_feed(struct etcd_stream *s, const char *p, size_t len, struct etcd_watch_sink *sink)
{
	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t take = nl ? (size_t)(nl - p) : len;
		int r;

		if (sink->state >= ETCD_WATCH_COMPACTED)
			return sink->state == ETCD_WATCH_COMPACTED ? -ECANCELED : -EPROTO;
		r = etcd_append(&s->buf, &s->n, &s->cap, p, take);
		if (r == -E2BIG)
			sink_fail(sink, "a watch message exceeds 64 MiB", NULL);
		if (r < 0)
			return r;
		p += take;
		len -= take;
		if (!nl)
			break;
		p++;
		len--;
		r = decode_line(sink, s->buf, s->n);
		s->n = 0;
		if (r < 0)
			return r;
	}
	return 0;
}

int etcd_stream_finish(struct etcd_stream *s, struct etcd_watch_sink *sink)
{
	int r = 0;

	if (s->n && sink->state < ETCD_WATCH_COMPACTED)
		r = decode_line(sink, s->buf, s->n);
	s->n = 0;
	return r;
}

void etcd_stream_clear(struct etcd_stream *s)
{
	free(s->buf);
	*s = (struct etcd_stream){ 0 };
}
