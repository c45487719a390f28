/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The etcd watch stream on arbitrary bytes. The first byte seeds the
 * chunk sizes; the rest is fed once whole and once in those chunks: the
 * events, the revision and the final state must not depend on where
 * libcurl happened to cut the stream. Every event key that came through
 * base64 must encode back to base64 that decodes to it again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "fuzz.h"

struct trace {
	char log[4096];
	size_t n;
};

static int on_event(void *data, const struct etcd_event *ev)
{
	struct trace *t = data;
	char *b = etcd_b64_encode(ev->key, strlen(ev->key)), *back = NULL;
	ssize_t len = b ? etcd_b64_decode(b, strlen(b), &back) : -1;

	if (b && (len < 0 || strcmp(back, ev->key) != 0))
		fuzz_fail("base64 round trip", ev->key);
	free(b);
	free(back);
	t->n += (size_t)snprintf(t->log + t->n, sizeof(t->log) - t->n, "%c%s@%lld;",
				 ev->deleted ? 'D' : 'P', ev->key, (long long)ev->mod_revision);
	if (t->n >= sizeof(t->log))
		t->n = sizeof(t->log) - 1;
	return 0;
}

static const struct etcd_watch_ops ops = { .event = on_event };

static void run(const uint8_t *p, size_t size, unsigned seed, struct trace *t,
		struct etcd_watch_sink *k)
{
	struct etcd_stream s = { 0 };
	size_t off = 0;
	int r = 0;

	*k = (struct etcd_watch_sink){ .ops = &ops, .data = t };
	while (off < size && r == 0) {
		size_t chunk = seed ? 1 + (seed + off * 7) % (seed % 13 + 1) : size;

		if (chunk > size - off)
			chunk = size - off;
		r = etcd_stream_feed(&s, (const char *)p + off, chunk, k);
		off += chunk;
	}
	if (r == 0)
		(void)etcd_stream_finish(&s, k);
	etcd_stream_clear(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace a = { .log = "" }, b = { .log = "" };
	struct etcd_watch_sink ka, kb;
	char da[64], db[64];

	if (size < 1)
		return 0;
	run(data + 1, size - 1, 0, &a, &ka);
	run(data + 1, size - 1, data[0] | 1u, &b, &kb);
	snprintf(da, sizeof(da), "state %d rev %lld", ka.state, (long long)ka.revision);
	snprintf(db, sizeof(db), "state %d rev %lld", kb.state, (long long)kb.revision);
	if (strcmp(a.log, b.log) != 0)
		fuzz_fail("events depend on chunking", a.log);
	if (strcmp(da, db) != 0 || ka.events != kb.events)
		fuzz_fail("state depends on chunking", da);
	return 0;
}
