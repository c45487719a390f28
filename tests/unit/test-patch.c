/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Patches: the examples of RFC 7386 (JSON Merge Patch, appendix A) and RFC
 * 6902 (JSON Patch, appendix A) on plain documents, the strategic merge
 * directives, and patches on a resource: validated as a whole, never
 * changing its identity, never changing the original.
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "resource-internal.h"

struct example {
	const char *doc, *patch, *want; /* want NULL: refused */
};

static void run(const struct example *x, size_t n, enum patch_type t)
{
	for (size_t i = 0; i < n; i++) {
		json_t *doc = json_loads(x[i].doc, JSON_DECODE_ANY, NULL), *want;
		struct diags d = { 0 };
		int e;

		assert_non_null(doc);
		e = patch_apply_doc(&doc, x[i].patch, strlen(x[i].patch), t, "test", &d);
		if (!x[i].want) {
			if (e == 0)
				fail_msg("example %zu (%s) was not refused", i, x[i].patch);
			assert_true(d.n > 0);
		} else {
			want = json_loads(x[i].want, JSON_DECODE_ANY, NULL);
			if (e != 0 || !json_equal(doc, want)) {
				char *got = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY)
						: NULL;

				fail_msg("example %zu: %s gives %s (%d), not %s", i, x[i].patch,
					 got ? got : "nothing", e, x[i].want);
			}
			json_decref(want);
		}
		json_decref(doc);
		diags_clear(&d);
	}
}

static void test_merge_rfc7386(void **state)
{
	static const struct example x[] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
		  "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
		/* the RFC's non-object patches replace the document: a
		 * resource is an object, so they are refused */
		{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", NULL },
		{ "{\"a\":\"foo\"}", "null", NULL },
		{ "{\"a\":\"foo\"}", "\"bar\"", NULL },
		/* the same patches written in YAML */
		{ "{\"a\":{\"b\":\"c\"}}", "a: {b: d, c: null}", "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":1}", "a: '2'\nb: [x, 3, true]", "{\"a\":\"2\",\"b\":[\"x\",3,true]}" },
	};

	(void)state;
	run(x, sizeof(x) / sizeof(x[0]), PATCH_MERGE);
}

static void test_json_rfc6902(void **state)
{
	static const struct example x[] = {
		/* A.1 - A.16 */
		{ "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
		  "{\"baz\":\"qux\",\"foo\":\"bar\"}" },
		{ "{\"foo\":[\"bar\",\"baz\"]}",
		  "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
		  "{\"foo\":[\"bar\",\"qux\",\"baz\"]}" },
		{ "{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
		  "{\"foo\":\"bar\"}" },
		{ "{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
		  "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]", "{\"foo\":[\"bar\",\"baz\"]}" },
		{ "{\"baz\":\"qux\",\"foo\":\"bar\"}",
		  "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
		  "{\"baz\":\"boo\",\"foo\":\"bar\"}" },
		{ "{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
		  "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
		  "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}" },
		{ "{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
		  "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
		  "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}" },
		{ "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
		  "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
		  "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
		  "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}" },
		{ "{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]",
		  NULL },
		{ "{\"foo\":\"bar\"}",
		  "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
		  "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}" },
		{ "{\"foo\":\"bar\"}",
		  "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
		  "{\"foo\":\"bar\",\"baz\":\"qux\"}" },
		{ "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]",
		  NULL },
		{ "{\"foo\":\"bar\"}",
		  "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"op\":\"remove\"}]",
		  NULL },
		{ "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
		  "{\"/\":9,\"~1\":10}" },
		{ "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]",
		  NULL },
		{ "{\"foo\":[\"bar\"]}",
		  "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
		  "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}" },
	};

	(void)state;
	run(x, sizeof(x) / sizeof(x[0]), PATCH_JSON);
}

static void test_json_more(void **state)
{
	static const struct example x[] = {
		{ "{\"a\":[1,2]}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
		  "{\"a\":[1,2],\"b\":[1,2]}" },
		{ "{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/c\"}]",
		  NULL },
		{ "{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":3}]", NULL },
		{ "{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/01\"}]", NULL },
		{ "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]", NULL },
		{ "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", NULL },
		{ "{\"a\":1}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", NULL },
		{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":2}]", NULL },
		{ "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/~2\",\"value\":2}]", NULL },
		{ "{\"a\":1}", "{\"op\":\"add\"}", NULL },
		/* the first failing operation leaves nothing done */
		{ "{\"a\":1}",
		  "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},{\"op\":\"remove\",\"path\":\"/c\"}]",
		  NULL },
		/* YAML */
		{ "{\"a\":1}", "- {op: replace, path: /a, value: 5}", "{\"a\":5}" },
	};

	(void)state;
	run(x, sizeof(x) / sizeof(x[0]), PATCH_JSON);
}

static void test_strategic(void **state)
{
	static const struct example x[] = {
		/* lists replace (Calico's types have no merge keys) */
		{ "{\"a\":[1,2],\"b\":{\"c\":1,\"d\":2}}", "{\"a\":[3],\"b\":{\"c\":null}}",
		  "{\"a\":[3],\"b\":{\"d\":2}}" },
		{ "{\"b\":{\"c\":1,\"d\":2}}", "{\"b\":{\"$patch\":\"replace\",\"e\":3}}",
		  "{\"b\":{\"e\":3}}" },
		{ "{\"b\":{\"c\":1},\"f\":1}", "{\"b\":{\"$patch\":\"delete\"}}", "{\"f\":1}" },
		{ "{\"b\":{}}", "{\"b\":{\"$patch\":\"merge\"}}", NULL },
		{ "{\"b\":[1]}", "{\"$setElementOrder/b\":[1]}", NULL },
		{ "{\"b\":1}", "{\"$patch\":\"delete\"}", NULL },
	};

	(void)state;
	run(x, sizeof(x) / sizeof(x[0]), PATCH_STRATEGIC);
}

static struct resource *load_one(const char *text)
{
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	struct resource *r;

	assert_int_equal(ruleset_load_buffer("t.yaml", text, strlen(text), &l, &d), 0);
	assert_int_equal(l.n, 1);
	r = l.v[0];
	l.v[0] = NULL;
	resource_list_clear(&l);
	return r;
}

static void test_resource(void **state)
{
	struct resource *r = load_one(
		"apiVersion: projectcalico.org/v3\n"
		"kind: NetworkPolicy\nmetadata: {name: p, namespace: x}\n"
		"spec: {order: 10, selector: a == 'b', ingress: [{action: Allow}]}\n");
	static const char *const refused[] = {
		"{\"metadata\":{\"name\":\"q\"}}",	/* identity */
		"{\"metadata\":{\"namespace\":\"y\"}}", /* identity */
		"{\"kind\":\"GlobalNetworkPolicy\"}",	/* identity */
		"{\"spec\":{\"selector\":\"a ==\"}}",	/* validation */
		"{\"spec\":{\"order\":\"x\"}}",		/* validation */
		"{\"spec\":{\"bogus\":1}}",		/* an unknown field */
		"{\"spec\":{\"ingress\":[{\"action\":\"allow\"}]}}",
	};
	struct resource *out = NULL;
	struct diags d = { 0 };
	const char *ok = "spec: {order: 5, ingress: [{action: Deny, protocol: TCP}]}";

	(void)state;
	assert_int_equal(resource_patch(r, ok, strlen(ok), PATCH_STRATEGIC, &out, &d), 0);
	assert_true(out->u.policy.order == 5);
	assert_int_equal(out->u.policy.n_ingress, 1);
	assert_int_equal(out->u.policy.ingress[0].action, ACTION_DENY);
	assert_string_equal(out->u.policy.selector, "a == \"b\"");
	assert_string_equal(out->namespace, "x");
	assert_true(r->u.policy.order == 10); /* the original is untouched */
	resource_free(out);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		out = NULL;
		if (resource_patch(r, refused[i], strlen(refused[i]), PATCH_MERGE, &out, &d) == 0)
			fail_msg("%s was not refused", refused[i]);
		assert_null(out);
		assert_true(d.n > 0);
		diags_clear(&d);
	}
	assert_int_equal(patch_type_parse("json"), PATCH_JSON);
	assert_int_equal(patch_type_parse("strategic"), PATCH_STRATEGIC);
	assert_int_equal(patch_type_parse("Merge"), -EINVAL);
	resource_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_rfc7386), cmocka_unit_test(test_json_rfc6902),
		cmocka_unit_test(test_json_more),     cmocka_unit_test(test_strategic),
		cmocka_unit_test(test_resource),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
