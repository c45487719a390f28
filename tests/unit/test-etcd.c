/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pure parts of etcd/: base64, the watch stream, Calico's keys. The
 * client itself is tested against a real etcd (tests/etcd/run.sh). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "etcd.h"

static void test_b64_vectors(void **state)
{
	/* RFC 4648, section 10 */
	static const char *const v[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
		{ "/policies/a", "L3BvbGljaWVzL2E=" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *enc = etcd_b64_encode(v[i][0], strlen(v[i][0])), *dec = NULL;

		assert_string_equal(enc, v[i][1]);
		assert_int_equal(etcd_b64_decode(enc, strlen(enc), &dec), strlen(v[i][0]));
		assert_string_equal(dec, v[i][0]);
		free(enc);
		free(dec);
	}
}

static void test_b64_rejects(void **state)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z===", "Zm9v!A==", "Zh==", "Zm9=", "Zg==Zg==", "====",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *dec = NULL;

		assert_int_equal(etcd_b64_decode(bad[i], strlen(bad[i]), &dec), -1);
		assert_null(dec);
	}
}

static void test_b64_binary(void **state)
{
	unsigned char all[256];
	char *enc, *dec = NULL;

	(void)state;
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	enc = etcd_b64_encode(all, sizeof(all));
	assert_int_equal(etcd_b64_decode(enc, strlen(enc), &dec), 256);
	assert_memory_equal(dec, all, sizeof(all));
	free(enc);
	free(dec);
}

struct seen {
	char log[1024];
	size_t n;
};

static int on_event(void *data, const struct etcd_event *ev)
{
	struct seen *s = data;

	s->n += (size_t)snprintf(s->log + s->n, sizeof(s->log) - s->n, "%s %s %.*s @%lld\n",
				 ev->deleted ? "DEL" : "PUT", ev->key, (int)ev->value_len,
				 ev->value ? ev->value : "", (long long)ev->mod_revision);
	return 0;
}

static const struct etcd_watch_ops ops = { .event = on_event };

/* The transcript of the reference notes: created (replay follows),
 * two puts in one message, a delete, a progress notification. */
static const char transcript[] =
	"{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":true}}\n"
	"{\"result\":{\"header\":{\"revision\":\"5\"},\"events\":["
	"{\"kv\":{\"key\":\"L3BvbGljaWVzL2I=\",\"mod_revision\":\"3\",\"value\":\"eDogMQ==\"}},"
	"{\"kv\":{\"key\":\"L3BvbGljaWVzL2I=\",\"mod_revision\":\"4\",\"value\":\"eDogMg==\"}}]}}\n"
	"{\"result\":{\"header\":{\"revision\":\"7\"},\"events\":[{\"type\":\"DELETE\","
	"\"kv\":{\"key\":\"L3BvbGljaWVzL2E=\",\"mod_revision\":\"7\"}}]}}\n"
	"{\"result\":{\"header\":{\"revision\":\"11\"}}}\n";

static const char expected[] =
	"PUT /policies/b x: 1 @3\nPUT /policies/b x: 2 @4\nDEL /policies/a  @7\n";

static void test_stream_every_chunking(void **state)
{
	(void)state;
	for (size_t chunk = 1; chunk <= sizeof(transcript); chunk++) {
		struct etcd_watch_sink k;
		struct etcd_stream st = { 0 };
		struct seen s = { .log = "" };

		k = (struct etcd_watch_sink){ .ops = &ops, .data = &s, .revision = 2 };
		for (size_t off = 0; off < sizeof(transcript) - 1; off += chunk) {
			size_t len = sizeof(transcript) - 1 - off;

			assert_int_equal(etcd_stream_feed(&st, transcript + off,
							  len < chunk ? len : chunk, &k),
					 0);
		}
		assert_int_equal(etcd_stream_finish(&st, &k), 0);
		assert_string_equal(s.log, expected);
		assert_int_equal(k.state, ETCD_WATCH_RUNNING);
		/* the progress notification moved it past the last event */
		assert_int_equal(k.revision, 11);
		etcd_stream_clear(&st);
	}
}

static void test_stream_created_does_not_advance(void **state)
{
	struct etcd_watch_sink k = { .ops = &ops, .revision = 2 };
	struct etcd_stream st = { 0 };
	struct seen s = { .log = "" };
	const char *m = "{\"result\":{\"header\":{\"revision\":\"50\"},\"created\":true}}\n";

	(void)state;
	k.data = &s;
	assert_int_equal(etcd_stream_feed(&st, m, strlen(m), &k), 0);
	assert_int_equal(k.revision, 2);
	etcd_stream_clear(&st);
}

static void test_stream_compacted(void **state)
{
	struct etcd_watch_sink k = { .ops = &ops };
	struct etcd_stream st = { 0 };
	struct seen s = { .log = "" };
	const char *m =
		"{\"result\":{\"header\":{},\"canceled\":true,\"compact_revision\":\"8\"}}\n"
		"{\"result\":{\"header\":{\"revision\":\"9\"},\"events\":[]}}\n";

	(void)state;
	k.data = &s;
	assert_int_equal(etcd_stream_feed(&st, m, strlen(m), &k), -ECANCELED);
	assert_int_equal(k.state, ETCD_WATCH_COMPACTED);
	assert_int_equal(k.compact_revision, 8);
	etcd_stream_clear(&st);
}

static void test_stream_errors(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} v[] = {
		{ "{\"error\":{\"grpc_code\":14,\"message\":\"transport is closing\"}}",
		  "etcd ended the watch: transport is closing" },
		{ "{\"error\":\"x\",\"code\":16,\"message\":\"etcdserver: invalid auth token\"}",
		  "etcd ended the watch: etcdserver: invalid auth token" },
		{ "{\"result\":", "etcd sent a watch message that is not JSON: " },
		{ "[1]", "etcd sent a watch message with neither result nor error" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct etcd_watch_sink k = { .ops = &ops };
		struct etcd_stream st = { 0 };
		struct seen s = { .log = "" };

		k.data = &s;
		/* no newline: the last object of a stream that ended */
		assert_int_equal(etcd_stream_feed(&st, v[i].text, strlen(v[i].text), &k), 0);
		assert_true(etcd_stream_finish(&st, &k) < 0);
		assert_int_equal(k.state, ETCD_WATCH_FAILED);
		assert_non_null(strstr(k.error, v[i].message));
		etcd_stream_clear(&st);
	}
}

static void test_calico_keys(void **state)
{
	static const struct {
		const char *key;
		int ret;
		enum res_kind kind;
		const char *ns, *name;
	} v[] = {
		{ CALICO_PREFIX "globalnetworkpolicies/default.allow-icmp", 1,
		  RES_GLOBAL_NETWORK_POLICY, NULL, "default.allow-icmp" },
		{ CALICO_PREFIX "networkpolicies/kube-system/knp.default.x", 1, RES_NETWORK_POLICY,
		  "kube-system", "knp.default.x" },
		{ CALICO_PREFIX "hostendpoints/worker-1-public", 1, RES_HOST_ENDPOINT, NULL,
		  "worker-1-public" },
		{ CALICO_PREFIX "ippools/default-ipv4-ippool", 0, 0, NULL, NULL },
		{ CALICO_PREFIX "networkpolicies/only-a-name", 0, 0, NULL, NULL },
		{ CALICO_PREFIX "globalnetworkpolicies/a/b", 0, 0, NULL, NULL },
		{ CALICO_PREFIX "globalnetworkpolicies/", 0, 0, NULL, NULL },
		{ CALICO_PREFIX "networkpolicies//x", 0, 0, NULL, NULL },
		{ "/calico/v1/policy/tier/default/policy/x", 0, 0, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		enum res_kind kind;
		char *ns = NULL, *name = NULL;
		int r = calico_key_parse(v[i].key, &kind, &ns, &name);

		assert_int_equal(r, v[i].ret);
		if (r != 1)
			continue;
		assert_int_equal(kind, v[i].kind);
		if (v[i].ns)
			assert_string_equal(ns, v[i].ns);
		else
			assert_null(ns);
		assert_string_equal(name, v[i].name);
		free(ns);
		free(name);
	}
}

static void test_calico_value_must_match_key(void **state)
{
	const char *val = "{\"kind\":\"GlobalNetworkPolicy\",\"apiVersion\":"
			  "\"projectcalico.org/v3\",\"metadata\":{\"name\":\"default.other\"},"
			  "\"spec\":{}}";
	struct resource *r = NULL;
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(calico_kv_decode(CALICO_PREFIX "globalnetworkpolicies/default.other", val,
					  strlen(val), &r, &d),
			 1);
	assert_string_equal(r->name, "other");
	resource_free(r);
	r = NULL;
	assert_int_equal(calico_kv_decode(CALICO_PREFIX "globalnetworkpolicies/default.mine", val,
					  strlen(val), &r, &d),
			 -EINVAL);
	assert_null(r);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "not what the key names"));
	diags_clear(&d);
}

/* A fleet's daemons, keyed by node name, spread over the members: with 3
 * members none serves more than half of 200 nodes (nor, with 5, more than
 * a third), and a node always starts at the same member. */
static void test_spread(void **state)
{
	const size_t sizes[] = { 3, 5 };

	(void)state;
	for (size_t s = 0; s < 2; s++) {
		size_t per[5] = { 0 }, n = sizes[s];

		for (int i = 1; i <= 200; i++) {
			char node[32];

			snprintf(node, sizeof(node), "worker-%d", i);
			assert_true(etcd_spread_index(node, n) < n);
			assert_int_equal(etcd_spread_index(node, n), etcd_spread_index(node, n));
			per[etcd_spread_index(node, n)]++;
		}
		for (size_t m = 0; m < n; m++) {
			if (per[m] > (n == 3 ? 100u : 67u) || per[m] < 200 / n / 2)
				fail_msg("member %zu of %zu serves %zu of 200 nodes", m, n, per[m]);
		}
	}
	assert_int_equal(etcd_spread_index("x", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_rejects),
		cmocka_unit_test(test_b64_binary),
		cmocka_unit_test(test_stream_every_chunking),
		cmocka_unit_test(test_stream_created_does_not_advance),
		cmocka_unit_test(test_stream_compacted),
		cmocka_unit_test(test_stream_errors),
		cmocka_unit_test(test_calico_keys),
		cmocka_unit_test(test_calico_value_must_match_key),
		cmocka_unit_test(test_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
