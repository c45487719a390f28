/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The compile memo must not change the output. A node's resources evolve
 * as in the daemon (unchanged resources stay the same objects): every
 * namespace case is added in turn, a policy is replaced by a fresh copy,
 * one is removed, the endpoint is replaced; after each step the table
 * compiled with the memo prints exactly as the one compiled without, and
 * the memo is seen to be used.
 */
#include <errno.h>
#include <glob.h>
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

static char *print(const struct model_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(model_table_print(t, f), 0);
	fclose(f);
	return buf;
}

/* Compiles l without the memo, then twice with it (the second time
 * every policy chain can be replayed): all three must print the same. */
static void same_output(struct resource_list *l, struct compile_memo *memo)
{
	static const struct cidr a = { .family = 2, .len = 32, .addr = { 203, 0, 113, 10 } };
	struct local_iface ifc = { .name = "eth1", .addrs = (struct cidr *)&a, .n_addrs = 1 };
	struct compile_opts with = {
		.node = "worker-1", .ifaces = &ifc, .n_ifaces = 1, .memo = memo
	};
	struct compile_opts without = with;
	struct model_table *t1 = NULL, *t2 = NULL;
	struct diags d = { 0 };
	char *p1, *p2;

	without.memo = NULL;
	resource_list_sort(l);
	assert_int_equal(ruleset_compile(l->v, l->n, &without, &t2, NULL, &d), 0);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(ruleset_compile(l->v, l->n, &with, &t1, NULL, &d), 0);
		p1 = print(t1);
		p2 = print(t2);
		assert_string_equal(p1, p2);
		free(p1);
		free(p2);
		model_table_free(t1);
	}
	model_table_free(t2);
	diags_clear(&d);
}

static void load(const char *path, struct resource_list *l)
{
	struct diags d = { 0 };

	assert_int_equal(ruleset_load_path(path, l, &d), 0);
	diags_clear(&d);
}

/* Replaces the resource called name by a fresh decode of path's. */
static void renew(struct resource_list *l, const char *path, const char *name)
{
	struct resource_list fresh = { 0 };
	bool done = false;

	load(path, &fresh);
	for (size_t i = 0; i < l->n; i++)
		for (size_t k = 0; k < fresh.n; k++)
			if (!done && strcmp(l->v[i]->name, name) == 0 &&
			    strcmp(fresh.v[k]->name, name) == 0 &&
			    l->v[i]->kind == fresh.v[k]->kind) {
				struct resource *x = l->v[i];

				l->v[i] = fresh.v[k];
				fresh.v[k] = x;
				done = true;
			}
	assert_true(done);
	resource_list_clear(&fresh);
}

static void test_memo_same_table(void **state)
{
	const char *src = getenv("NFTMGR_SOURCE");
	struct compile_memo *memo = compile_memo_new();
	struct resource_list l = { 0 };
	char pattern[4096], hep[4096];
	glob_t g;

	(void)state;
	assert_non_null(src);
	snprintf(hep, sizeof(hep), "%s/tests/netns/common/hep.yaml", src);
	snprintf(pattern, sizeof(pattern), "%s/tests/netns/cases/*.yaml", src);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 20);
	load(hep, &l);
	same_output(&l, memo);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct resource_list add = { 0 };

		load(g.gl_pathv[i], &add);
		for (size_t k = 0; k < add.n; k++) {
			bool dup = false;

			for (size_t j = 0; j < l.n; j++)
				dup |= l.v[j]->kind == add.v[k]->kind &&
				       strcmp(l.v[j]->name, add.v[k]->name) == 0;
			if (!dup) {
				assert_int_equal(resource_list_add(&l, add.v[k]), 0);
				add.v[k] = NULL;
			}
		}
		for (size_t k = 0; k < add.n; k++)
			resource_free(add.v[k]);
		free(add.v);
		same_output(&l, memo);
	}
	/* a policy changed (a new object), then one gone, then the endpoint */
	renew(&l, g.gl_pathv[4], "allow-8080");
	same_output(&l, memo);
	for (size_t i = 0; i < l.n; i++)
		if (kind_info(l.v[i]->kind)->policy) {
			resource_free(l.v[i]);
			l.v[i] = l.v[--l.n];
			break;
		}
	same_output(&l, memo);
	renew(&l, hep, "worker-1-public");
	same_output(&l, memo);
	/* the memo was really used: at least one replay per step */
	assert_true(compile_memo_hits(memo) >= g.gl_pathc);
	globfree(&g);
	resource_list_clear(&l);
	compile_memo_free(memo);
}

/* Pods come and go: chains of policies written with nets and port numbers
 * stay in the memo, those whose selectors or named ports read endpoints
 * are compiled again, and the table is the same as without a memo. */
static const char pods_yaml[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n"
	"---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
	"metadata: {name: worker-1-public, labels: {ibm.role: worker_public}}\n"
	"spec: {node: worker-1, interfaceName: eth1, expectedIPs: [203.0.113.10]}\n"
	"---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
	"metadata: {name: by-nets}\nspec:\n  selector: all()\n  ingress:\n"
	"  - {action: Allow, protocol: TCP, source: {nets: [10.0.0.0/8]}, destination: {ports: [22]}}\n"
	"---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
	"metadata: {name: by-selector}\nspec:\n  selector: all()\n  ingress:\n"
	"  - {action: Allow, source: {selector: app == 'web'}}\n"
	"---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
	"metadata: {name: by-named-port}\nspec:\n  selector: all()\n  ingress:\n"
	"  - {action: Allow, protocol: TCP, destination: {ports: [http]}}\n";

#define WEP_YAML                                                                                  \
	"apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\n"                              \
	"metadata: {name: worker--1-k8s-%s-eth0, namespace: default, labels: {app: web}}\n"       \
	"spec: {node: worker-1, orchestrator: k8s, pod: %s, endpoint: eth0, interfaceName: %s,\n" \
	"  ipNetworks: [%s/32], profiles: [kns.default],\n"                                       \
	"  ports: [{name: http, protocol: TCP, port: %d}]}\n"

static void add_yaml(struct resource_list *l, const char *text)
{
	char path[] = "/tmp/test-memo-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	{
		struct resource_list add = { 0 };

		load(path, &add);
		for (size_t i = 0; i < add.n; i++)
			assert_int_equal(resource_list_add(l, add.v[i]), 0);
		free(add.v);
	}
	unlink(path);
}

static void add_pod(struct resource_list *l, const char *pod, const char *ifname, const char *addr,
		    int port)
{
	char text[1024];

	snprintf(text, sizeof(text), WEP_YAML, pod, pod, ifname, addr, port);
	add_yaml(l, text);
}

static void test_memo_pod_churn(void **state)
{
	struct compile_memo *memo = compile_memo_new();
	struct resource_list l = { 0 };
	unsigned long before;
	char *p;

	(void)state;
	add_yaml(&l, pods_yaml);
	add_pod(&l, "web-1", "cali1", "10.244.0.1", 80);
	same_output(&l, memo);
	/* a second pod: its address and its port number must appear, so the
	 * selector and named-port chains cannot be the remembered ones */
	add_pod(&l, "web-2", "cali2", "10.244.0.2", 8080);
	before = compile_memo_hits(memo);
	same_output(&l, memo);
	/* by-nets was replayed at least once per endpoint direction it has */
	assert_true(compile_memo_hits(memo) > before);
	{
		static const struct cidr a = { .family = 2,
					       .len = 32,
					       .addr = { 203, 0, 113, 10 } };
		struct local_iface ifc = { .name = "eth1",
					   .addrs = (struct cidr *)&a,
					   .n_addrs = 1 };
		struct compile_opts o = {
			.node = "worker-1", .ifaces = &ifc, .n_ifaces = 1, .memo = memo
		};
		struct model_table *t = NULL;
		struct diags d = { 0 };

		resource_list_sort(&l);
		assert_int_equal(ruleset_compile(l.v, l.n, &o, &t, NULL, &d), 0);
		p = print(t);
		assert_non_null(strstr(p, "10.244.0.2"));
		assert_non_null(strstr(p, "8080"));
		free(p);
		model_table_free(t);
		diags_clear(&d);
	}
	resource_list_clear(&l);
	compile_memo_free(memo);
}

static struct model_table *compile_plain(struct resource_list *l)
{
	static const struct cidr a = { .family = 2, .len = 32, .addr = { 203, 0, 113, 10 } };
	struct local_iface ifc = { .name = "eth1", .addrs = (struct cidr *)&a, .n_addrs = 1 };
	struct compile_opts o = { .node = "worker-1", .ifaces = &ifc, .n_ifaces = 1 };
	struct model_table *t = NULL;
	struct diags d = { 0 };

	resource_list_sort(l);
	assert_int_equal(ruleset_compile(l->v, l->n, &o, &t, NULL, &d), 0);
	diags_clear(&d);
	return t;
}

static char *print_set(struct model_set *s)
{
	struct model_table one = { .name = (char *)"t", .sets = &s, .n_sets = 1 };

	return print(&one);
}

/* Every set of a named as in b: model_set_elems_equal() says equal
 * exactly when both print the same; returns how many differ. */
static size_t count_unequal(const struct model_table *a, const struct model_table *b)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_sets; i++) {
		struct model_set *y = (struct model_set *)model_table_find_set(b, a->sets[i]->name);
		char *pa, *pb;

		if (!y)
			continue;
		pa = print_set(a->sets[i]);
		pb = print_set(y);
		assert_int_equal(model_set_elems_equal(a->sets[i], y), strcmp(pa, pb) == 0);
		n += strcmp(pa, pb) != 0;
		free(pa);
		free(pb);
	}
	return n;
}

/* Policy name of case 34 again, one rule: action on TCP port from net. */
static void replace_policy(struct resource_list *l, const char *name, const char *net,
			   const char *action, int port)
{
	char text[1024];
	int order = strcmp(name, "deny-9090") == 0 ? 11 : 10 + (name[3] - '0');

	snprintf(text, sizeof(text),
		 "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
		 "metadata: {name: %s}\nspec:\n  order: %d\n"
		 "  selector: ibm.role == 'worker_public'\n"
		 "  ingress: [{action: %s, protocol: TCP, source: {nets: [%s]},"
		 " destination: {ports: [%d]}}]\n",
		 name, order, action, net, port);
	add_yaml(l, text);
	/* the old one goes (the new one is last) */
	for (size_t i = 0; i + 1 < l->n; i++)
		if (strcmp(l->v[i]->name, name) == 0) {
			resource_free(l->v[i]);
			l->v[i] = l->v[--l->n];
			return;
		}
	fail_msg("no policy %s", name);
}

/* Verdict maps (by address, by interface) keep their elements packed,
 * their targets sorted by name: two compiles of the same resources give
 * equal maps, and a changed net makes its map (only) differ. */
static void test_maps_compare(void **state)
{
	const char *src = getenv("NFTMGR_SOURCE");
	struct resource_list l = { 0 };
	struct model_table *t1, *t2, *t3;
	char path[4096];
	size_t addr_maps = 0, if_maps = 0;

	(void)state;
	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/tests/netns/common/hep.yaml", src);
	load(path, &l);
	snprintf(path, sizeof(path), "%s/tests/netns/cases/34-address-maps.yaml", src);
	load(path, &l);
	add_yaml(&l, pods_yaml);
	add_pod(&l, "web-1", "cali1", "10.244.0.1", 80);
	add_pod(&l, "web-2", "cali2", "10.244.0.2", 8080);
	t1 = compile_plain(&l);
	t2 = compile_plain(&l);
	for (size_t i = 0; i < t1->n_sets; i++) {
		const struct model_set *s = t1->sets[i];

		addr_maps += s->map && s->key != MODEL_KEY_IFNAME && s->n_targets >= 2;
		if_maps += s->map && s->key == MODEL_KEY_IFNAME && s->n_elems >= 2;
	}
	assert_true(addr_maps >= 2); /* IPv4 and IPv6 */
	assert_true(if_maps >= 2);   /* wl-from, wl-to */
	assert_int_equal(count_unequal(t1, t2), 0);
	/* deny-9090's nets move: its /29 map differs, the others do not */
	replace_policy(&l, "deny-9090", "203.0.113.64/29", "Deny", 9090);
	t3 = compile_plain(&l);
	assert_int_equal(count_unequal(t1, t3), 1);
	model_table_free(t3);
	/* and its port: the same keys, another target chain */
	replace_policy(&l, "deny-9090", "203.0.113.0/29", "Deny", 9091);
	t3 = compile_plain(&l);
	assert_int_equal(count_unequal(t1, t3), 1);
	model_table_free(t3);
	/* two /16 rules of different ports trade nets: the same keys and
	 * chains, the elements pointing elsewhere */
	replace_policy(&l, "deny-9090", "203.0.113.0/29", "Deny", 9090);
	replace_policy(&l, "v4-3", "10.1.0.0/16", "Allow", 7071);
	model_table_free(t1);
	t1 = compile_plain(&l);
	replace_policy(&l, "v4-3", "10.2.0.0/16", "Allow", 7071);
	replace_policy(&l, "v4-4", "10.1.0.0/16", "Allow", 7070);
	t3 = compile_plain(&l);
	assert_int_equal(count_unequal(t1, t3), 1);
	model_table_free(t1);
	model_table_free(t2);
	model_table_free(t3);
	resource_list_clear(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo_same_table),
		cmocka_unit_test(test_memo_pod_churn),
		cmocka_unit_test(test_maps_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
