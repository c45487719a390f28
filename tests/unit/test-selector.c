/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Selector cases: Calico's own parser test table (match / no match), the
 * selectors Calico rejects, and canonical forms. Every matching case is
 * also checked after a round trip through the canonical printer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "selector.h"

enum expect {
	NOMATCH,
	MATCH,
	REJECT
};

struct kv {
	const char *k, *v;
};

struct scase {
	const char *sel;
	struct kv labels[3];
	enum expect want;
};

#define L0                         \
	{                          \
		{                  \
			NULL, NULL \
		}                  \
	}
#define L1(a, b)             \
	{                    \
		{            \
			a, b \
		}            \
	}
#define L2(a, b, c, d)       \
	{                    \
		{ a, b },    \
		{            \
			c, d \
		}            \
	}

static const struct scase cases[] = {
	{ "a == \"b\"", L1("a", "b"), MATCH },
	{ "a == \"b\"", L2("a", "b", "c", "d"), MATCH },
	{ "a == \"b\"", L0, NOMATCH },
	{ "a == \"b\"", L1("a", "c"), NOMATCH },
	{ "a == \"b\"", L1("c", "d"), NOMATCH },
	{ "a == \"b\" && c == \"d\"", L2("a", "b", "c", "d"), MATCH },
	{ "a == \"b\" && c == \"d\"", L0, NOMATCH },
	{ "a == \"b\" && c == \"d\"", L2("a", "b", "c", "e"), NOMATCH },
	{ "a == \"b\" && c == \"d\"", L2("a", "c", "c", "d"), NOMATCH },
	{ "a == \"b\" && c == \"d\"", L1("c", "d"), NOMATCH },
	{ "a == \"b\" && c == \"d\"", L1("a", "b"), NOMATCH },
	{ "a == \"b\" || c == \"d\"", L2("a", "b", "c", "d"), MATCH },
	{ "a == \"b\" || c == \"d\"", L1("a", "b"), MATCH },
	{ "a == \"b\" || c == \"d\"", L1("c", "d"), MATCH },
	{ "a == \"b\" || c == \"d\"", L0, NOMATCH },
	{ "a == \"b\" || c == \"d\"", L2("a", "e", "c", "e"), NOMATCH },
	{ "a == \"b\" || c == \"d\"", L1("c", "e"), NOMATCH },
	{ "a == \"b\" || c == \"d\"", L1("a", "e"), NOMATCH },
	{ "a in {\"'\", '\"', \"c\"}", L1("a", "c"), MATCH },
	{ "a in {\"'\", '\"', \"c\"}", L1("a", "\""), MATCH },
	{ "a in {\"'\", '\"', \"c\"}", L1("a", "'"), MATCH },
	{ "a in {\"'\", '\"', \"c\"}", L0, NOMATCH },
	{ "a in {\"'\", '\"', \"c\"}", L1("a", "e"), NOMATCH },
	{ "a not in {\"'\", '\"', \"c\"}", L0, MATCH },
	{ "a not in {\"'\", '\"', \"c\"}", L1("a", "e"), MATCH },
	{ "a not in {\"'\", '\"', \"c\"}", L1("a", "c"), NOMATCH },
	{ "a not in {\"'\", '\"', \"c\"}", L1("a", "\""), NOMATCH },
	{ "a not in {\"'\", '\"', \"c\"}", L1("a", "'"), NOMATCH },
	{ "a == 'a'", L1("a", "a"), MATCH },
	{ "a == \"a\"", L1("a", "a"), MATCH },
	{ "a != \"b\"", L1("a", "a"), MATCH },
	{ "a != \"a\"", L0, MATCH },
	{ "a contains \"a\"", L1("a", "a"), MATCH },
	{ "a contains \"a\"", L1("a", "bab"), MATCH },
	{ "a contains \"a\"", L2("a", "aaa", "b", "c"), MATCH },
	{ "a contains \"a\"", L0, NOMATCH },
	{ "a contains \"a\"", L1("a", "b"), NOMATCH },
	{ "a contains \"a\"", L1("b", "aaa"), NOMATCH },
	{ "a starts with \"a\"", L1("a", "a"), MATCH },
	{ "a starts with \"a\"", L1("a", "abb"), MATCH },
	{ "a starts with \"a\"", L2("a", "aaa", "b", "c"), MATCH },
	{ "a starts with \"a\"", L0, NOMATCH },
	{ "a starts with \"a\"", L1("a", "b"), NOMATCH },
	{ "a starts with \"a\"", L1("a", "baa"), NOMATCH },
	{ "a starts with \"a\"", L1("b", "aaa"), NOMATCH },
	{ "a ends with \"a\"", L1("a", "a"), MATCH },
	{ "a ends with \"a\"", L1("a", "bba"), MATCH },
	{ "a ends with \"a\"", L2("a", "aaa", "b", "c"), MATCH },
	{ "a ends with \"a\"", L0, NOMATCH },
	{ "a ends with \"a\"", L1("a", "b"), NOMATCH },
	{ "a ends with \"a\"", L1("a", "aab"), NOMATCH },
	{ "a ends with \"a\"", L1("b", "aaa"), NOMATCH },
	{ "a in {\"a\"}", L1("a", "a"), MATCH },
	{ "!a in {\"a\"}", L1("a", "b"), MATCH },
	{ "a in {\"a\", \"b\"}", L1("a", "a"), MATCH },
	{ "a in {\"a\", \"b\"}", L1("a", "b"), MATCH },
	{ "a not in {\"d\", \"e\"}", L1("a", "a"), MATCH },
	{ "has(a)", L1("a", "b"), MATCH },
	{ "!has(a)", L1("b", "b"), MATCH },
	{ "", L0, MATCH },
	{ " ", L0, MATCH },
	{ "", L1("a", "b"), MATCH },
	{ "all()", L0, MATCH },
	{ " all()", L0, MATCH },
	{ " all()", L1("a", "b"), MATCH },
	{ "global()", L0, MATCH },
	{ " global()", L0, MATCH },
	{ " global()", L1("a", "b"), MATCH },
	{ "a == 'a'", L1("a", "b"), NOMATCH },
	{ "a == 'a'", L0, NOMATCH },
	{ "a != \"a\"", L1("a", "a"), NOMATCH },
	{ "a != 'a'", L1("a", "a"), NOMATCH },
	{ "a in {\"a\"}", L1("a", "b"), NOMATCH },
	{ "a not in {\"a\"}", L1("a", "a"), NOMATCH },
	{ "a in {\"a\", \"b\"}", L1("a", "c"), NOMATCH },
	{ "has(b)", L1("a", "b"), NOMATCH },
	{ "!!has(b)", L1("a", "b"), NOMATCH },
	{ "! has(a)", L1("a", "b"), NOMATCH },
	{ "!has(a)", L1("a", "b"), NOMATCH },
	{ "!!! has(a)", L1("a", "b"), NOMATCH },
	{ "!!!has(a)", L1("a", "b"), NOMATCH },
	{ "!! ! has(a)", L1("a", "b"), NOMATCH },
	{ "! !!has(a)", L1("a", "b"), NOMATCH },
	{ "a == 'a1' && b == 'b1'", L2("a", "a1", "b", "b1"), MATCH },
	{ "a == 'a1' && b != 'b1'", L2("a", "a1", "b", "b1"), NOMATCH },
	{ "a != 'a1' && b == 'b1'", L2("a", "a1", "b", "b1"), NOMATCH },
	{ "a != 'a1' && b != 'b1'", L2("a", "a1", "b", "b1"), NOMATCH },
	{ "a != 'a1' && !b == 'b1'", L2("a", "a1", "b", "b1"), NOMATCH },
	{ "!a == 'a1' && b == 'b1'", L2("a", "a1", "b", "b1"), NOMATCH },
	{ "has(a) && !has(b)", L1("a", "a"), MATCH },
	{ "!has(b) && has(a)", L1("a", "a"), MATCH },
	{ "!(!has(a) || has(b))", L1("a", "a"), MATCH },
	{ "!(has(b) || !has(a))", L1("a", "a"), MATCH },
	{ "a == 'a1' || b == 'b1'", L2("a", "a1", "b", "b1"), MATCH },
	{ "a == 'a1' || b != 'b1'", L2("a", "a1", "b", "b1"), MATCH },
	{ "a != 'a1' || b == 'b1'", L2("a", "a1", "b", "b1"), MATCH },
	{ "a != 'a1' || b != 'b1'", L2("a", "a1", "b", "b1"), NOMATCH },
	{ "! a == 'a1' || ! b == 'b1'", L2("a", "a1", "b", "b1"), NOMATCH },
	/* Beyond Calico's table: empty sets, spellings, the docs example. */
	{ "a in {}", L1("a", "x"), NOMATCH },
	{ "a not in {}", L1("a", "x"), MATCH },
	{ "a not in {}", L0, MATCH },
	{ "a notin {\"x\"}", L1("a", "x"), NOMATCH },
	{ "a not  in {\"x\"}", L1("a", "y"), MATCH },
	{ "a startswith 'x'", L1("a", "xy"), MATCH },
	{ "a endswith 'y'", L1("a", "xy"), MATCH },
	{ "a starts  with 'x'", L1("a", "yx"), NOMATCH },
	{ "a=='b'", L1("a", "b"), MATCH },
	{ "a!='b'", L1("a", "b"), NOMATCH },
	{ "(a==\"b\")", L1("a", "b"), MATCH },
	{ "label contains\"value\"", L1("label", "a value"), MATCH },
	{ "contains contains \"contains\"", L1("contains", "contains"), MATCH },
	{ "startswith starts with \"value\"", L1("startswith", "values"), MATCH },
	{ "has( foo )", L1("foo", ""), MATCH },
	{ "all( )", L0, MATCH },
	{ "\tall()\t", L0, MATCH },
	{ "a == ''", L1("a", ""), MATCH },
	{ "a == ''", L0, NOMATCH },
	{ "calico/k8s_ns == \"kube-system\" && k8s-app == \"kube-dns\"",
	  L2("calico/k8s_ns", "kube-system", "k8s-app", "kube-dns"), MATCH },
	{ "has(calico/k8s_NS-.1/role)", L1("calico/k8s_NS-.1/role", "x"), MATCH },
	{ "ibm.role in { 'worker_public', 'master_public' }", L1("ibm.role", "master_public"),
	  MATCH },
	{ "ibm.role in { 'worker_public', 'master_public' }", L1("ibm.role", "worker_private"),
	  NOMATCH },
	{ "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}", L0,
	  MATCH },
	{ "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}",
	  L2("my-label", "prod1", "role", "frontend"), MATCH },
	{ "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}",
	  L2("my-label", "dev", "role", "frontend"), NOMATCH },
	{ "(a == 'x' || b == 'y') && c == 'z'", L2("b", "y", "c", "z"), MATCH },
	{ "(a == 'x' || b == 'y') && c == 'z'", L1("b", "y"), NOMATCH },
	{ "a == 'x' || b == 'y' && c == 'z'", L1("a", "x"), MATCH },
	/* Rejected, as Calico's parser and tokenizer reject them. */
	{ "b contains b", L0, REJECT },
	{ "b starts with b", L0, REJECT },
	{ "b ends with b", L0, REJECT },
	{ "b == b", L0, REJECT },
	{ "'b1' == b", L0, REJECT },
	{ "b", L0, REJECT },
	{ "a b", L0, REJECT },
	{ "!", L0, REJECT },
	{ "foo == \"bar\" &", L0, REJECT },
	{ "foo == \"bar\" |", L0, REJECT },
	{ "foo != ||", L0, REJECT },
	{ "foo in {\"\", ||", L0, REJECT },
	{ "foo in \"\"", L0, REJECT },
	{ "\"FOO", L0, REJECT },
	{ "\"FOO'", L0, REJECT },
	{ "'FOO", L0, REJECT },
	{ "(", L0, REJECT },
	{ "(a == \"foo\"", L0, REJECT },
	{ ")", L0, REJECT },
	{ "()", L0, REJECT },
	{ "%", L0, REJECT },
	{ "a == \"b\" && %", L0, REJECT },
	{ "a == \"b\" || %", L0, REJECT },
	{ "a ", L0, REJECT },
	{ "has(foo) &&", L0, REJECT },
	{ "label == \"value", L0, REJECT },
	{ "label == 'value", L0, REJECT },
	{ "label = \"value\"", L0, REJECT },
	{ "all(", L0, REJECT },
	{ "global(", L0, REJECT },
	{ "has()", L0, REJECT },
	{ "has(foo", L0, REJECT },
	{ "has( foo ", L0, REJECT },
	{ "a == \"b\" & has(foo)", L0, REJECT },
	{ "a == \"b\" | has(foo)", L0, REJECT },
	{ "label starts foo \"value\"", L0, REJECT },
	{ "label inf \"value\"", L0, REJECT },
	{ "label ends foo \"value\"", L0, REJECT },
	{ "label ends withs \"value\"", L0, REJECT },
	{ "label squiggles \"value\"", L0, REJECT },
	{ "a notin\"bar\"&&!has(foo)||b in\"c\"", L0, REJECT },
	{ "a == 'b'\n", L0, REJECT },
	{ "a in {'x',}", L0, REJECT },
	{ "a in {'x' 'y'}", L0, REJECT },
	{ "has (a)", L0, REJECT },
	{ "a == 'x')", L0, REJECT },
	{ "a == 'x' b == 'y'", L0, REJECT },
};

static void set_labels(struct labels *l, const struct kv *kv)
{
	for (int i = 0; i < 3 && kv[i].k; i++)
		assert_int_equal(labels_set(l, kv[i].k, kv[i].v), 0);
}

static void check_case(const struct scase *c)
{
	struct selector *s = NULL, *again = NULL;
	struct selector_error err;
	struct labels l = { 0 };
	char *text;
	int r = selector_parse(c->sel, &s, &err);

	if (c->want == REJECT) {
		if (r == 0)
			fail_msg("selector accepted but must be rejected: [%s]", c->sel);
		assert_int_equal(r, -EINVAL);
		assert_true(err.msg[0] != '\0');
		return;
	}
	if (r != 0)
		fail_msg("selector rejected: [%s]: %s", c->sel, err.msg);
	set_labels(&l, c->labels);
	if (selector_match(s, &l) != (c->want == MATCH))
		fail_msg("[%s] should %smatch", c->sel, c->want == MATCH ? "" : "not ");
	/* The canonical text must parse to a selector with the same verdict
	 * and print identically again. */
	text = selector_format(s);
	assert_non_null(text);
	assert_int_equal(selector_parse(text, &again, &err), 0);
	assert_int_equal(selector_match(again, &l), c->want == MATCH);
	{
		char *text2 = selector_format(again);

		assert_string_equal(text, text2);
		free(text2);
	}
	free(text);
	selector_free(again);
	selector_free(s);
	labels_clear(&l);
}

static void test_table(void **state)
{
	size_t rows = sizeof(cases) / sizeof(cases[0]);

	assert_true(rows >= 100);
	for (size_t i = 0; i < rows; i++)
		check_case(&cases[i]);
}

static void test_canonical(void **state)
{
	static const char *const pairs[][2] = {
		{ "", "all()" },
		{ " all() ", "all()" },
		{ " (all() )", "all()" },
		{ "! (has( b)||! has(a ))", "!(has(b) || !has(a))" },
		{ "! (a == \"b\"&&! c != \"d\")", "!(a == \"b\" && !c != \"d\")" },
		{ "a == \"'\"", "a == \"'\"" },
		{ "a == '\"'", "a == '\"'" },
		{ "a!='\"'", "a != '\"'" },
		{ "a startswith '\"'", "a starts with '\"'" },
		{ "a endswith \"'\"", "a ends with \"'\"" },
		{ "a in {\"d\", \"a\", \"b\"}", "a in {\"a\", \"b\", \"d\"}" },
		{ "a in {\"z\", \"z\", \"x\", \"y\", \"x\", \"a\"}",
		  "a in {\"a\", \"x\", \"y\", \"z\"}" },
		{ "a notin {}", "a not in {}" },
		{ "(a == 'x' || b == 'y') && c == 'z'",
		  "(a == \"x\" || b == \"y\") && c == \"z\"" },
		{ "a == 'x' || (b == 'y' || c == 'z')", "a == \"x\" || b == \"y\" || c == \"z\"" },
		{ "!!has(a)", "has(a)" },
		{ "ibm.role in { 'worker_public', 'master_public' }",
		  "ibm.role in {\"master_public\", \"worker_public\"}" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct selector *s = NULL;
		struct selector_error err;
		char *t;

		assert_int_equal(selector_parse(pairs[i][0], &s, &err), 0);
		t = selector_format(s);
		assert_string_equal(t, pairs[i][1]);
		free(t);
		selector_free(s);
	}
}

static void test_label_length(void **state)
{
	char buf[600];
	struct selector *s = NULL;
	struct selector_error err;

	memset(buf, 'a', 512);
	strcpy(buf + 512, " == \"value\"");
	assert_int_equal(selector_parse(buf, &s, &err), 0);
	selector_free(s);
	memset(buf, 'a', 513);
	strcpy(buf + 513, " == \"value\"");
	assert_int_equal(selector_parse(buf, &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "512"));
}

static void test_error_offset(void **state)
{
	struct selector *s = NULL;
	struct selector_error err;

	assert_int_equal(selector_parse("a == 'b' && %", &s, &err), -EINVAL);
	assert_int_equal(err.offset, 12);
	assert_int_equal(selector_parse("a == 'b' && c", &s, &err), -EINVAL);
	assert_int_equal(err.offset, 13);
}

static void test_deep_nesting(void **state)
{
	char buf[4096];
	struct selector *s = NULL;
	struct selector_error err;
	size_t n = 0;

	for (int i = 0; i < 1000; i++)
		buf[n++] = '(';
	buf[n] = '\0';
	assert_int_equal(selector_parse(buf, &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "deep"));
}

static void test_global(void **state)
{
	struct selector *s = NULL;
	struct selector_error err;

	assert_int_equal(selector_parse(" global() ", &s, &err), 0);
	assert_true(selector_is_global(s));
	assert_true(selector_uses_global(s));
	selector_free(s);
	assert_int_equal(selector_parse("global() && all()", &s, &err), 0);
	assert_false(selector_is_global(s));
	assert_true(selector_uses_global(s));
	selector_free(s);
	assert_int_equal(selector_parse("a == 'b'", &s, &err), 0);
	assert_false(selector_uses_global(s));
	selector_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	     cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_label_length), cmocka_unit_test(test_error_offset),
		cmocka_unit_test(test_deep_nesting), cmocka_unit_test(test_global),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
