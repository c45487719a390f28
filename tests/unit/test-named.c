/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Named ports resolve per endpoint, as Calico resolves them, on both
 * sides of a rule: pod a calls port 80 "web", pod b calls 81 "web". A rule
 * from source {app == web, ports [web, 9000]} to destination port web
 * must match a's address with source port 80 and b's with 81 (never a
 * with 81), 9000 from either, and destination 80 only to a, 81 only to b:
 * 3 source variants x 2 destination variants. Checked on the compiled
 * model, set elements included.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "compile.h"

static const char text[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n"
	"---\napiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\n"
	"metadata: {name: worker--1-k8s-a-eth0, namespace: default, labels: {app: web}}\n"
	"spec: {node: worker-1, orchestrator: k8s, pod: a, endpoint: eth0, interfaceName: calia,\n"
	"  ipNetworks: [10.244.0.1/32], ports: [{name: web, protocol: TCP, port: 80}]}\n"
	"---\napiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\n"
	"metadata: {name: worker--1-k8s-b-eth0, namespace: default, labels: {app: web}}\n"
	"spec: {node: worker-1, orchestrator: k8s, pod: b, endpoint: eth0, interfaceName: calib,\n"
	"  ipNetworks: [10.244.0.2/32], ports: [{name: web, protocol: TCP, port: 81}]}\n"
	"---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
	"metadata: {name: from-web-port}\nspec:\n  selector: all()\n  ingress:\n"
	"  - action: Allow\n    protocol: TCP\n"
	"    source: {selector: app == 'web', ports: [web, 9000]}\n"
	"    destination: {ports: [web]}\n";

/* The last octets of the addresses a set holds, as "1", "2" or "1-2". */
static void set_text(const struct model_table *t, const char *name, char *out, size_t len)
{
	const struct model_set *s = model_table_find_set(t, name);

	assert_non_null(s);
	assert_int_equal(s->n_elems, 1);
	if (s->elems[0].lo[3] == s->elems[0].hi[3])
		snprintf(out, len, "%u", s->elems[0].lo[3]);
	else
		snprintf(out, len, "%u-%u", s->elems[0].lo[3], s->elems[0].hi[3]);
}

static void test_named_both_sides(void **state)
{
	static const char *const want[] = {
		"src 1-2 sport 9000 -> dst 1 dport 80", "src 1 sport 80 -> dst 1 dport 80",
		"src 2 sport 81 -> dst 1 dport 80",	"src 1-2 sport 9000 -> dst 2 dport 81",
		"src 1 sport 80 -> dst 2 dport 81",	"src 2 sport 81 -> dst 2 dport 81",
	};
	char path[] = "/tmp/test-named-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	struct compile_opts o = { .node = "worker-1" };
	struct resource_list l = { 0 };
	struct model_table *t = NULL;
	const struct model_chain *ch;
	struct diags d = { 0 };

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(ruleset_load_path(path, &l, &d), 0);
	unlink(path);
	resource_list_sort(&l);
	assert_int_equal(ruleset_compile(l.v, l.n, &o, &t, NULL, &d), 0);
	ch = model_table_find_chain(t, "pfi-from-web-port");
	assert_non_null(ch);
	assert_int_equal(ch->n_rules, 6);
	for (size_t i = 0; i < ch->n_rules; i++) {
		const struct model_rule *r = &ch->rules[i];
		char src[16] = "", dst[16] = "", got[128];
		unsigned sport = 0, dport = 0;

		for (size_t k = 0; k < r->n_m; k++) {
			const struct model_match *m = &r->m[k];

			if (m->kind == MODEL_M_SADDR)
				set_text(t, m->set, src, sizeof(src));
			else if (m->kind == MODEL_M_DADDR)
				set_text(t, m->set, dst, sizeof(dst));
			else if (m->kind == MODEL_M_SPORT && !m->set && m->lo == m->hi)
				sport = m->lo;
			else if (m->kind == MODEL_M_DPORT && !m->set && m->lo == m->hi)
				dport = m->lo;
		}
		snprintf(got, sizeof(got), "src %s sport %u -> dst %s dport %u", src, sport, dst,
			 dport);
		assert_string_equal(got, want[i]);
	}
	model_table_free(t);
	resource_list_clear(&l);
	diags_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_both_sides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
