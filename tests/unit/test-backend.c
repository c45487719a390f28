/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calico 2.6's etcd v2 layout (backend_v1_decode): the seed cluster's keys
 * (tests/fixtures/seed-etcdv2.keys) must give the same v3 resources as the
 * v1 manifests they were written from; then one case per rule of the
 * layout: escapes, absent types, next-tier, negations, ICMP, workload
 * endpoints, Felix settings, bad values, and what 'upgrade' leaves out.
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

#include "resource.h"

struct kvs {
	struct backend_kv v[64];
	char *lines[64];
	size_t n;
};

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct backend_kv *)a)->key, ((const struct backend_kv *)b)->key);
}

/* "KEY VALUE" lines (# comments), sorted by key as etcd lists them. */
static void kvs_parse(struct kvs *k, const char *text)
{
	char *copy = strdup(text), *save = NULL;

	assert_non_null(copy);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp;

		if (l[0] == '#')
			continue;
		assert_true(k->n < 64);
		k->lines[k->n] = strdup(l);
		sp = strchr(k->lines[k->n], ' ');
		assert_non_null(sp);
		*sp = '\0';
		k->v[k->n] = (struct backend_kv){ k->lines[k->n], sp + 1, strlen(sp + 1) };
		k->n++;
	}
	free(copy);
	qsort(k->v, k->n, sizeof(k->v[0]), kv_cmp);
}

static void kvs_clear(struct kvs *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->lines[i]);
	k->n = 0;
}

static char *as_json(struct resource_list *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	resource_list_sort(l);
	assert_int_equal(resources_write_json(l->v, l->n, f), 0);
	fclose(f);
	return buf;
}

static char *fixture(const char *name)
{
	char *path, *buf;
	size_t len;

	assert_true(asprintf(&path, "%s/%s", getenv("NFTMGR_FIXTURES"), name) > 0);
	assert_int_equal(ruleset_read_file(path, &buf, &len), 0);
	free(path);
	return buf;
}

static void load(struct resource_list *l, const char *name, const char *text)
{
	struct diags d = { 0 };

	assert_int_equal(ruleset_load_buffer(name, text, strlen(text), l, &d), 0);
	diags_clear(&d);
}

static const char seed_extra_v1[] =
	"apiVersion: v1\nkind: hostEndpoint\n"
	"metadata: {name: worker-1-public, node: worker-1, labels: {ibm.role: worker_public}}\n"
	"spec: {interfaceName: eth1, expectedIPs: [203.0.113.10], profiles: [public]}\n"
	"---\napiVersion: v1\nkind: profile\n"
	"metadata: {name: public, tags: [public-iface], labels: {tier-role: edge}}\n"
	"spec:\n  ingress: []\n  egress:\n  - action: allow\n    protocol: udp\n"
	"    destination: {tag: dns-servers, ports: [53]}\n"
	"---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\n"
	"metadata: {name: default}\nspec: {logPrefix: calico-packet}\n"
	"---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\n"
	"metadata: {name: node.worker-1}\nspec: {defaultEndpointToHostAction: Accept}\n";

static void test_seed_same_as_v1(void **state)
{
	struct resource_list got = { 0 }, want = { 0 };
	struct diags d = { 0 }, skipped = { 0 };
	char *keys = fixture("seed-etcdv2.keys"), *a, *b;
	const char *files[] = { "default-public-policies.v1.yaml",
				"seed-deny-kube-node-port-services.v1.yaml" };
	struct kvs k = { 0 };

	(void)state;
	kvs_parse(&k, keys);
	assert_int_equal(backend_v1_decode(k.v, k.n, 0, &got, &d, &skipped), 0);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "# %s: %s\n", d.v[i].file, d.v[i].msg);
	assert_int_equal(d.n, 0);
	/* left out on purpose: a Felix setting nftmgr has no use for */
	assert_int_equal(skipped.n, 1);
	assert_non_null(strstr(skipped.v[0].file, "IpInIpEnabled"));
	diags_clear(&skipped);
	for (size_t i = 0; i < 2; i++) {
		char *t = fixture(files[i]);

		load(&want, files[i], t);
		free(t);
	}
	load(&want, "extra", seed_extra_v1);
	assert_int_equal(got.n, 11);
	a = as_json(&got);
	b = as_json(&want);
	assert_string_equal(a, b);
	/* each resource names the key it came from */
	for (size_t i = 0; i < got.n; i++)
		assert_int_equal(strncmp(got.v[i]->file, "/calico/v1/", 11), 0);
	free(a);
	free(b);
	free(keys);
	kvs_clear(&k);
	resource_list_clear(&got);
	resource_list_clear(&want);
}

/* Decodes text; returns the one resource of kind k (fails on others). */
static struct resource_list decode_text(const char *text, unsigned flags, size_t want_diags,
					struct diags *skipped)
{
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	struct kvs k = { 0 };

	kvs_parse(&k, text);
	assert_int_equal(backend_v1_decode(k.v, k.n, flags, &l, &d, skipped), 0);
	for (size_t i = 0; i < d.n && d.n != want_diags; i++)
		fprintf(stderr, "# %s: %s\n", d.v[i].file, d.v[i].msg);
	assert_int_equal(d.n, want_diags);
	diags_clear(&d);
	kvs_clear(&k);
	return l;
}

static void test_policy_fields(void **state)
{
	struct resource_list l = decode_text(
		"/calico/v1/policy/tier/default/policy/Allow%2fSSH {\"order\":10,"
		"\"inbound_rules\":[{\"action\":\"next-tier\",\"!src_net\":\"10.1.2.3/8\"},"
		"{\"protocol\":\"icmp\",\"icmp_type\":8,\"!icmp_type\":3,\"!icmp_code\":1},"
		"{\"action\":\"deny\",\"protocol\":\"tcp\",\"!protocol\":\"udp\",\"src_tag\":\"bastion\","
		"\"dst_ports\":[22,\"2048:4000\"],\"log_prefix\":\"x\"}],"
		"\"selector\":\"calico/k8s_ns == 'prod'\"}\n"
		"/calico/v1/policy/tier/default/policy/pre {\"pre_dnat\":true,\"selector\":\"\","
		"\"types\":[\"ingress\",\"egress\"]}\n",
		0, 0, NULL);
	const struct resource *p, *q;

	(void)state;
	assert_int_equal(l.n, 2);
	resource_list_sort(&l);
	/* "Allow/SSH": '/' became '.', then no dots, then the hash suffix */
	p = strncmp(l.v[0]->name, "allow", 5) == 0 ? l.v[0] : l.v[1];
	q = p == l.v[0] ? l.v[1] : l.v[0];
	assert_int_equal(strncmp(p->name, "allow-ssh-", 10), 0);
	assert_int_equal(strlen(p->name), 18);
	/* absent types: both directions, as Felix 2.6 */
	assert_int_equal(p->u.policy.types, POLICY_TYPE_INGRESS | POLICY_TYPE_EGRESS);
	assert_string_equal(p->u.policy.selector, "projectcalico.org/namespace == \"prod\"");
	assert_int_equal(p->u.policy.n_ingress, 3);
	assert_int_equal(p->u.policy.ingress[0].action, ACTION_PASS);
	assert_int_equal(p->u.policy.ingress[0].src.n_not_nets, 1);
	assert_int_equal(p->u.policy.ingress[0].src.not_nets[0].len, 8);
	assert_int_equal(p->u.policy.ingress[0].src.not_nets[0].addr[1], 0); /* masked */
	assert_int_equal(p->u.policy.ingress[1].action, ACTION_ALLOW);	     /* no action */
	assert_true(p->u.policy.ingress[1].icmp.has_type);
	assert_int_equal(p->u.policy.ingress[1].icmp.type, 8);
	assert_true(p->u.policy.ingress[1].not_icmp.has_code);
	assert_int_equal(p->u.policy.ingress[2].action, ACTION_DENY);
	assert_true(p->u.policy.ingress[2].not_protocol.set);
	assert_string_equal(p->u.policy.ingress[2].src.selector, "bastion == \"\"");
	assert_int_equal(p->u.policy.ingress[2].dst.n_ports, 2);
	assert_int_equal(p->u.policy.ingress[2].dst.ports[1].max, 4000);
	/* preDNAT: Egress dropped, as calico-upgrade does; applyOnForward */
	assert_int_equal(q->u.policy.types, POLICY_TYPE_INGRESS);
	assert_true(q->u.policy.pre_dnat);
	assert_true(q->u.policy.apply_on_forward);
	resource_list_clear(&l);
}

static void test_endpoints(void **state)
{
	struct resource_list l = decode_text(
		"/calico/v1/host/node-1/workload/k8s/prod.web-1/endpoint/eth0 {\"state\":\"active\","
		"\"name\":\"cali0123\",\"active_instance_id\":\"\",\"mac\":\"ee:ee:ee:ee:ee:ee\","
		"\"profile_ids\":[\"k8s_ns.prod\"],\"ipv4_nets\":[\"10.244.1.5/32\"],"
		"\"ipv6_nets\":null,\"labels\":{\"app\":\"web\",\"calico/k8s_ns\":\"prod\"}}\n"
		"/calico/v1/host/node-1/workload/k8s/prod.gone/endpoint/eth0 {\"state\":\"\","
		"\"name\":\"\",\"active_instance_id\":\"\",\"mac\":null,\"profile_ids\":null,"
		"\"ipv4_nets\":null,\"ipv6_nets\":null}\n"
		"/calico/v1/host/node-1/endpoint/by-ip {\"expected_ipv4_addrs\":[\"192.0.2.1\"],"
		"\"expected_ipv6_addrs\":[\"2001:db8::1\"]}\n",
		0, 0, NULL);
	const struct resource *w, *h;

	(void)state;
	assert_int_equal(l.n, 2); /* the endpoint without an interface is deleted */
	resource_list_sort(&l);
	h = l.v[0];
	w = l.v[1];
	assert_int_equal(h->kind, RES_HOST_ENDPOINT);
	assert_string_equal(h->name, "node-1.by-ip");
	assert_null(h->u.ep.iface);
	assert_int_equal(h->u.ep.n_ips, 2);
	assert_int_equal(h->u.ep.ips[1].family, 10 /* AF_INET6 */);
	assert_int_equal(w->kind, RES_WORKLOAD_ENDPOINT);
	assert_string_equal(w->namespace, "prod");
	assert_string_equal(w->u.ep.pod, "web-1");
	assert_string_equal(w->u.ep.iface, "cali0123");
	assert_string_equal(labels_get(&w->labels, "projectcalico.org/namespace"), "prod");
	assert_int_equal(w->u.ep.n_ips, 1);
	resource_list_clear(&l);
}

static void test_felix_settings(void **state)
{
	struct diags skipped = { 0 };
	struct resource_list l =
		decode_text("/calico/v1/config/FailsafeInboundHostPorts tcp:22,udp:68,tcp:10250\n"
			    "/calico/v1/config/FailsafeOutboundHostPorts none\n"
			    "/calico/v1/config/LogPrefix \n"
			    "/calico/v1/config/ReportingIntervalSecs 30\n"
			    "/calico/v1/host/Node-2/config/DefaultEndpointToHostAction RETURN\n",
			    BACKEND_V1_UPGRADE, 0, &skipped);
	const struct resource *g, *h;

	(void)state;
	assert_int_equal(l.n, 2);
	resource_list_sort(&l);
	g = l.v[0];
	h = l.v[1];
	assert_string_equal(g->name, "default");
	assert_int_equal(g->u.felix.n_failsafe_in, 3);
	assert_int_equal(g->u.felix.failsafe_in[2].port, 10250);
	assert_true(g->u.felix.has_failsafe_out);
	assert_int_equal(g->u.felix.n_failsafe_out, 0);
	assert_null(g->u.felix.log_prefix);	     /* empty: ignored, as Felix does */
	assert_string_equal(h->name, "node.node-2"); /* normalised */
	assert_string_equal(h->u.felix.ep_to_host, "Return");
	assert_int_equal(skipped.n, 1);
	assert_non_null(strstr(skipped.v[0].file, "ReportingIntervalSecs"));
	diags_clear(&skipped);
	resource_list_clear(&l);
}

static void test_bad_values_and_upgrade_skips(void **state)
{
	struct diags skipped = { 0 };
	struct resource_list l = decode_text(
		"/calico/v1/policy/tier/default/policy/broken {\"inbound_rules\":[{\"action\"\n"
		"/calico/v1/policy/tier/default/policy/wrong-kind [1,2]\n"
		"/calico/v1/policy/tier/default/policy/bad-action {\"inbound_rules\":"
		"[{\"action\":\"reject\"}],\"selector\":\"\"}\n"
		"/calico/v1/policy/tier/gold/policy/other {\"selector\":\"\"}\n"
		"/calico/v1/policy/tier/default/policy/knp.default.prod.web {\"selector\":\"\"}\n"
		"/calico/v1/policy/profile/k8s_ns.prod/labels {\"calico/k8s_ns\":\"prod\"}\n"
		"/calico/v1/policy/profile/k8s_ns.prod/rules {}\n"
		"/calico/v1/policy/profile/k8s_ns.prod/tags []\n"
		"/calico/v1/policy/tier/default/policy/good {\"selector\":\"\"}\n",
		BACKEND_V1_UPGRADE, 4, &skipped);

	(void)state;
	/* the broken ones and the other tier are reported; the others load */
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0]->name, "good");
	assert_int_equal(skipped.n, 2);
	diags_clear(&skipped);
	resource_list_clear(&l);
	/* without the upgrade flag the controllers' objects are read */
	l = decode_text(
		"/calico/v1/policy/tier/default/policy/knp.default.prod.web "
		"{\"selector\":\"\"}\n"
		"/calico/v1/policy/profile/k8s_ns.prod/labels {\"calico/k8s_ns\":\"prod\"}\n",
		0, 0, NULL);
	assert_int_equal(l.n, 2);
	resource_list_clear(&l);
}

static void test_object_keys(void **state)
{
	static const struct {
		const char *key;
		enum backend_v1_kind kind;
		size_t len;
	} cases[] = {
		{ "/calico/v1/policy/tier/default/policy/a", BACKEND_V1_POLICY, 39 },
		{ "/calico/v1/policy/tier/default/metadata", BACKEND_V1_OTHER, 0 },
		{ "/calico/v1/policy/profile/p/rules", BACKEND_V1_PROFILE, 28 },
		{ "/calico/v1/host/h/endpoint/e", BACKEND_V1_HOST_ENDPOINT, 28 },
		{ "/calico/v1/host/h/workload/k8s/ns.p/endpoint/eth0", BACKEND_V1_WORKLOAD_ENDPOINT,
		  49 },
		{ "/calico/v1/host/h/config/LogPrefix", BACKEND_V1_CONFIG, 25 },
		{ "/calico/v1/config/LogPrefix", BACKEND_V1_CONFIG, 18 },
		{ "/calico/v1/host/h/metadata", BACKEND_V1_OTHER, 0 },
		{ "/calico/v1/Ready", BACKEND_V1_OTHER, 0 },
		{ "/calico/v1/ipam/v4/pool/10.0.0.0-8", BACKEND_V1_OTHER, 0 },
		{ "/calico/ipam/v2/host/h", BACKEND_V1_OTHER, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum backend_v1_kind k;
		size_t len = backend_v1_object(cases[i].key, &k);

		assert_int_equal(k, cases[i].kind);
		assert_int_equal(len, cases[i].len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_same_as_v1),
		cmocka_unit_test(test_policy_fields),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_felix_settings),
		cmocka_unit_test(test_bad_values_and_upgrade_skips),
		cmocka_unit_test(test_object_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
