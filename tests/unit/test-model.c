/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The model's element arithmetic (interval normalisation, de-duplication,
 * prefixes as ranges and back), the merger of Allow policies
 * (nftablesMergeAllowPolicies) and the building of one model rule from a
 * Calico rule, checked on the compiled model.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "compile.h"

/* ---- elements ------------------------------------------------------------ */

static struct model_elem v4(unsigned a, unsigned b)
{
	struct model_elem e = { 0 };

	for (int i = 0; i < 4; i++) {
		e.lo[i] = (uint8_t)(a >> (24 - 8 * i));
		e.hi[i] = (uint8_t)(b >> (24 - 8 * i));
	}
	return e;
}

static struct model_elem port(unsigned lo, unsigned hi)
{
	struct model_elem e = { .lo = { (uint8_t)(lo >> 8), (uint8_t)lo },
				.hi = { (uint8_t)(hi >> 8), (uint8_t)hi } };

	return e;
}

static unsigned u32(const uint8_t *b)
{
	return (unsigned)b[0] << 24 | (unsigned)b[1] << 16 | (unsigned)b[2] << 8 | b[3];
}

static void test_normalise(void **state)
{
	/* out of order; overlapping; touching (x.255 then x+1.0); inside
	 * another; apart */
	struct model_elem e[] = {
		v4(0x0a000200, 0x0a0002ff), /* 10.0.2.0/24 */
		v4(0x0a000000, 0x0a0000ff), /* 10.0.0.0/24 */
		v4(0x0a000100, 0x0a0001ff), /* 10.0.1.0/24, touches both */
		v4(0x0a000010, 0x0a000020), /* inside 10.0.0.0/24 */
		v4(0xc0a80000, 0xc0a8ffff), /* 192.168.0.0/16 */
		v4(0x0a000300, 0x0a000300), /* 10.0.3.0, touches 10.0.2.255 */
	};
	size_t n = model_elems_normalise(e, 6, 4);

	(void)state;
	assert_int_equal(n, 2);
	assert_int_equal(u32(e[0].lo), 0x0a000000);
	assert_int_equal(u32(e[0].hi), 0x0a000300);
	assert_int_equal(u32(e[1].lo), 0xc0a80000);
	assert_int_equal(u32(e[1].hi), 0xc0a8ffff);
	/* normalised input stays as it is */
	assert_int_equal(model_elems_normalise(e, n, 4), 2);
	assert_int_equal(u32(e[0].hi), 0x0a000300);
}

static void test_normalise_edges(void **state)
{
	/* ports: 65535 next to nothing (no wrap), 0 and 1 touching */
	struct model_elem p[] = { port(65535, 65535), port(1, 1), port(0, 0), port(65534, 65534) };
	/* the whole IPv4 space absorbs everything */
	struct model_elem a[] = { v4(0x01020304, 0x01020304), v4(0, 0xffffffff) };
	size_t n = model_elems_normalise(p, 4, 2);

	(void)state;
	assert_int_equal(n, 2);
	assert_int_equal(p[0].lo[1], 0);
	assert_int_equal(p[0].hi[1], 1);
	assert_int_equal(p[1].lo[0] << 8 | p[1].lo[1], 65534);
	assert_int_equal(p[1].hi[0] << 8 | p[1].hi[1], 65535);
	assert_int_equal(model_elems_normalise(a, 2, 4), 1);
	assert_int_equal(u32(a[0].lo), 0);
	assert_int_equal(u32(a[0].hi), 0xffffffff);
	assert_int_equal(model_elems_normalise(a, 0, 4), 0);
}

static void test_dedupe(void **state)
{
	struct model_elem p[] = { port(443, 443), port(80, 80), port(443, 443), port(80, 80),
				  port(22, 22) };
	size_t n = model_elems_dedupe(p, 5, 2);

	(void)state;
	assert_int_equal(n, 3);
	assert_int_equal(p[0].lo[1], 22);
	assert_int_equal(p[1].lo[1], 80);
	assert_int_equal(p[2].lo[0] << 8 | p[2].lo[1], 443);
}

static void test_prefixes(void **state)
{
	struct model_prefix v6 = { .family = AF_INET6,
				   .len = 33,
				   .addr = { 0x20, 0x01, 0x0d, 0xb8, 0xff } };
	struct model_prefix p4 = { .family = AF_INET, .len = 20, .addr = { 10, 1, 0x1f, 9 } };
	struct model_elem e, r = v4(0x0a000001, 0x0a000002);
	unsigned len = 0;

	(void)state;
	model_prefix_range(&p4, &e); /* host bits are masked off */
	assert_int_equal(u32(e.lo), 0x0a011000);
	assert_int_equal(u32(e.hi), 0x0a011fff);
	assert_true(model_range_is_prefix(&e, 4, &len));
	assert_int_equal(len, 20);
	assert_false(model_range_is_prefix(&r, 4, &len)); /* .1-.2 is no prefix */
	model_prefix_range(&v6, &e);
	assert_int_equal(e.lo[4], 0x80);
	assert_int_equal(e.hi[4], 0xff);
	assert_int_equal(e.hi[15], 0xff);
	assert_int_equal(e.lo[15], 0);
	assert_true(model_range_is_prefix(&e, 16, &len));
	assert_int_equal(len, 33);
	assert_int_equal(model_key_width(MODEL_KEY_PROTO_PORT), 3);
}

/* ---- the compiler ---------------------------------------------------------- */

#define HEP                                                      \
	"apiVersion: projectcalico.org/v3\nkind: HostEndpoint\n" \
	"metadata: {name: n1-eth1, labels: {role: edge}}\n"      \
	"spec: {node: worker-1, interfaceName: eth1}\n"
#define GNP(name, order, action, proto, src, dst)                                         \
	"---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"              \
	"metadata: {name: " name "}\nspec: {order: " order ", selector: role == 'edge', " \
	"ingress: [{action: " action ", protocol: " proto ", source: " src ", "           \
	"destination: " dst "}]}\n"

static const char merge_text[] = HEP
	"---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\n"
	"metadata: {name: default}\nspec: {nftablesMergeAllowPolicies: MERGE}\n" GNP(
		"a", "1", "Allow", "TCP", "{nets: [10.0.0.0/25]}", "{ports: [80]}")
		GNP("b", "2", "Allow", "TCP", "{nets: [10.0.0.128/25]}", "{ports: [80]}")
			GNP("c", "3", "Allow", "TCP", "{nets: [192.168.0.0/16]}", "{ports: [80]}")
				GNP("d", "4", "Allow", "TCP", "{nets: [172.16.0.0/12]}",
				    "{ports: [443]}")
					GNP("e", "5", "Deny", "UDP",
					    "{nets: [10.1.0.0/16], notNets: [10.1.2.0/24]}",
					    "{ports: [53, '1000:2000', 1999]}");

static struct model_table *compile_text(const char *text)
{
	struct compile_opts o = { .node = "worker-1" };
	struct resource_list l = { 0 };
	struct model_table *t = NULL;
	struct diags d = { 0 };

	assert_int_equal(ruleset_load_buffer("test.yaml", text, strlen(text), &l, &d), 0);
	resource_list_sort(&l);
	assert_int_equal(ruleset_compile(l.v, l.n, &o, &t, NULL, &d), 0);
	resource_list_clear(&l);
	diags_clear(&d);
	return t;
}

static struct model_table *compile_merge(bool merge)
{
	char *text = strdup(merge_text), *p = strstr(text, "MERGE");
	struct model_table *t;

	assert_non_null(p);
	memcpy(p, merge ? "true }" : "false}", 6);
	t = compile_text(text);
	free(text);
	return t;
}

/* The rules of the endpoint chain that match a source address. */
static size_t saddr_rules(const struct model_chain *ch, const struct model_rule **v)
{
	size_t n = 0;

	for (size_t i = 0; i < ch->n_rules; i++)
		for (size_t k = 0; k < ch->rules[i].n_m; k++)
			if (ch->rules[i].m[k].kind == MODEL_M_SADDR) {
				v[n++] = &ch->rules[i];
				break;
			}
	return n;
}

static void test_merge(void **state)
{
	struct model_table *on = compile_merge(true), *off = compile_merge(false);
	const struct model_chain *ch_on = model_table_find_chain(on, "filter-in-eth1");
	const struct model_chain *ch_off = model_table_find_chain(off, "filter-in-eth1");
	const struct model_rule *r[16];
	const struct model_set *s;

	(void)state;
	assert_non_null(ch_on);
	assert_non_null(ch_off);
	/* off: one rule per policy; on: a, b, c merged, d (another port)
	 * and e (Deny) left alone */
	assert_int_equal(saddr_rules(ch_off, r), 5);
	assert_int_equal(saddr_rules(ch_on, r), 3);
	assert_int_equal(r[0]->verdict, MODEL_V_ACCEPT);
	assert_non_null(strstr(r[0]->comment, "3 allow rules merged"));
	s = NULL;
	for (size_t k = 0; k < r[0]->n_m; k++)
		if (r[0]->m[k].kind == MODEL_M_SADDR)
			s = model_table_find_set(on, r[0]->m[k].set);
	assert_non_null(s);
	assert_true(s->interval);
	/* the union, normalised: the two /25 make one /24 */
	assert_int_equal(s->n_elems, 2);
	assert_int_equal(u32(s->elems[0].lo), 0x0a000000);
	assert_int_equal(u32(s->elems[0].hi), 0x0a0000ff);
	assert_int_equal(u32(s->elems[1].lo), 0xc0a80000);
	assert_string_equal(r[1]->comment, "policy d ingress rule 0");
	assert_int_equal(r[2]->verdict, MODEL_V_DROP);
	model_table_free(on);
	model_table_free(off);
}

static const struct model_match *find(const struct model_rule *r, enum model_match_kind k, bool neg)
{
	for (size_t i = 0; i < r->n_m; i++)
		if (r->m[i].kind == k && r->m[i].neg == neg)
			return &r->m[i];
	return NULL;
}

static void test_rule_building(void **state)
{
	struct model_table *t = compile_merge(false);
	const struct model_chain *ch = model_table_find_chain(t, "filter-in-eth1");
	const struct model_rule *r = NULL;
	const struct model_match *m;
	const struct model_set *s;

	(void)state;
	for (size_t i = 0; ch && i < ch->n_rules; i++)
		if (ch->rules[i].comment &&
		    strcmp(ch->rules[i].comment, "policy e ingress rule 0") == 0)
			r = &ch->rules[i];
	assert_non_null(r);
	assert_int_equal(r->verdict, MODEL_V_DROP);
	m = find(r, MODEL_M_L4PROTO, false);
	assert_non_null(m);
	assert_int_equal(m->num, 17);
	/* nets: one prefix each, in the rule itself */
	m = find(r, MODEL_M_SADDR, false);
	assert_non_null(m);
	assert_null(m->set);
	assert_int_equal(m->family, 4);
	assert_int_equal(m->prefix.len, 16);
	assert_memory_equal(m->prefix.addr, ((uint8_t[]){ 10, 1, 0, 0 }), 4);
	m = find(r, MODEL_M_SADDR, true);
	assert_non_null(m);
	assert_int_equal(m->prefix.len, 24);
	assert_int_equal(m->prefix.addr[2], 2);
	/* ports: 53 and 1000-2000 (1999 inside it) in one interval set */
	m = find(r, MODEL_M_DPORT, false);
	assert_non_null(m);
	assert_non_null(m->set);
	s = model_table_find_set(t, m->set);
	assert_non_null(s);
	assert_int_equal(s->key, MODEL_KEY_PORT);
	assert_int_equal(s->n_elems, 2);
	assert_int_equal(s->elems[0].lo[1], 53);
	assert_int_equal(s->elems[1].lo[0] << 8 | s->elems[1].lo[1], 1000);
	assert_int_equal(s->elems[1].hi[0] << 8 | s->elems[1].hi[1], 2000);
	/* no family of its own: v4 nets make it a v4 rule, nothing else */
	assert_null(find(r, MODEL_M_DADDR, false));
	assert_null(find(r, MODEL_M_ICMP, false));
	model_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise), cmocka_unit_test(test_normalise_edges),
		cmocka_unit_test(test_dedupe),	  cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_merge),	  cmocka_unit_test(test_rule_building),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
