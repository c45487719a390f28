/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table nftmgr trace adds: which hooks get a marking chain for which
 * filter, what the marking rule matches, and the filters refused. The
 * kernel side (real packets, the table's removal) is tests/netns/trace.sh.
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

#include "compile.h"

static char *printed(const struct trace_filter *f)
{
	struct model_table *t = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	assert_int_equal(compile_trace_table("nftmgr-trace", f, &t), 0);
	m = open_memstream(&buf, &len);
	assert_non_null(m);
	assert_int_equal(model_table_print(t, m), 0);
	fclose(m);
	model_table_free(t);
	return buf;
}

static void test_in_filter(void **state)
{
	struct trace_filter f = { .iif = "eth1", .proto = 6, .dport = 30080 };
	char *s;

	assert_int_equal(cidr_parse("198.51.100.0/24", false, &f.src, NULL, 0), 0);
	f.has_src = true;
	s = printed(&f);
	/* before raw (-300): prerouting only, an input interface is unknown on output */
	assert_non_null(strstr(s, "type filter hook prerouting priority -350; policy accept;"));
	assert_null(strstr(s, "hook output"));
	assert_non_null(
		strstr(s, "iifname \"eth1\" ip saddr 198.51.100.0/24 meta l4proto tcp "
			  "th dport 30080 counter meta nftrace set 1 comment \"nftmgr trace\""));
	free(s);
}

static void test_out_and_forward(void **state)
{
	struct trace_filter out = { .oif = "eth1" }, fwd = { .iif = "eth0", .oif = "eth1" };
	char *s = printed(&out);

	assert_non_null(strstr(s, "type filter hook output priority -350; policy accept;"));
	assert_null(strstr(s, "hook prerouting"));
	assert_non_null(strstr(s, "oifname \"eth1\" counter meta nftrace set 1"));
	free(s);
	/* forwarded: marked on prerouting by its input interface */
	s = printed(&fwd);
	assert_non_null(strstr(s, "hook prerouting"));
	assert_null(strstr(s, "hook output"));
	assert_non_null(strstr(s, "iifname \"eth0\" counter meta nftrace set 1"));
	assert_null(strstr(s, "oifname"));
	free(s);
}

static void test_everything(void **state)
{
	struct trace_filter f = { 0 };
	char *s = printed(&f);

	assert_non_null(strstr(s, "hook prerouting"));
	assert_non_null(strstr(s, "hook output"));
	free(s);
}

static void test_refused(void **state)
{
	struct trace_filter icmp_port = { .proto = 1, .dport = 80 };
	struct trace_filter no_proto = { .sport = 80 };
	struct model_table *t = NULL;

	assert_int_equal(compile_trace_table("x", &icmp_port, &t), -EINVAL);
	assert_int_equal(compile_trace_table("x", &no_proto, &t), -EINVAL);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_filter),
		cmocka_unit_test(test_out_and_forward),
		cmocka_unit_test(test_everything),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
