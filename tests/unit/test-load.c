/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading: every shared fixture loads and validates; v1 converts to v3 as
 * calico-upgrade does; Kubernetes resources translate as Calico's
 * controllers translate them; streams, lists and JSON; and the round trip
 * load -> YAML -> load gives the same model (compared through the stored
 * JSON form, which holds every field of the model).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "resource.h"

static const char *fixtures(void)
{
	const char *d = getenv("NFTMGR_FIXTURES");

	return d ? d : "tests/fixtures";
}

static void load_ok(const char *text, struct resource_list *l)
{
	struct diags d = { 0 };
	int r = ruleset_load_buffer("t.yaml", text, strlen(text), l, &d);

	for (size_t i = 0; i < d.n; i++) {
		char *s = diag_format(&d.v[i]);

		print_message("%s\n", s);
		free(s);
	}
	assert_int_equal(r, 0);
	diags_clear(&d);
}

static char *to_yaml(struct resource_list *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(resources_write_yaml(l->v, l->n, f), 0);
	fclose(f);
	return buf;
}

/* The stored text is written without jansson: it must be what jansson
 * itself writes for the same tree (member order, escapes, numbers). */
static void assert_canonical(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	char *again;

	if (!j)
		fail_msg("stored text is not JSON (%s): %s", e.text, text);
	again = json_dumps(j, JSON_COMPACT);
	assert_string_equal(again, text);
	free(again);
	json_decref(j);
}

static void assert_round_trip(struct resource_list *l)
{
	struct resource_list again = { 0 };
	char *yaml = to_yaml(l);

	load_ok(yaml, &again);
	assert_int_equal(again.n, l->n);
	for (size_t i = 0; i < l->n; i++) {
		char *a = resource_to_storage_json(l->v[i]);
		char *b = resource_to_storage_json(again.v[i]);

		assert_string_equal(a, b);
		assert_canonical(a);
		free(a);
		free(b);
	}
	free(yaml);
	resource_list_clear(&again);
}

static void test_fixtures(void **state)
{
	struct dirent **names;
	int n = scandir(fixtures(), &names, NULL, alphasort), files = 0;

	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct resource_list l = { 0 };
		struct diags d = { 0 };

		if (strstr(names[i]->d_name, ".yaml") || strstr(names[i]->d_name, ".json")) {
			snprintf(path, sizeof(path), "%s/%s", fixtures(), names[i]->d_name);
			if (ruleset_load_path(path, &l, &d) != 0)
				fail_msg("fixture %s does not load", path);
			assert_true(l.n >= 1);
			assert_round_trip(&l);
			files++;
		}
		resource_list_clear(&l);
		diags_clear(&d);
		free(names[i]);
	}
	free(names);
	assert_true(files >= 5);
}

/* The seed's policy, v1 and v3, is the same v3 resource. */
static void test_seed_v1_equals_v3(void **state)
{
	char p1[4096], p3[4096];
	struct resource_list a = { 0 }, b = { 0 };
	struct diags d = { 0 };
	char *ja, *jb;
	const struct policy_spec *p;

	snprintf(p1, sizeof(p1), "%s/seed-deny-kube-node-port-services.v1.yaml", fixtures());
	snprintf(p3, sizeof(p3), "%s/seed-deny-kube-node-port-services.v3.yaml", fixtures());
	assert_int_equal(ruleset_load_path(p1, &a, &d), 0);
	assert_int_equal(ruleset_load_path(p3, &b, &d), 0);
	ja = resource_to_storage_json(a.v[0]);
	jb = resource_to_storage_json(b.v[0]);
	assert_string_equal(ja, jb);
	p = &a.v[0]->u.policy;
	assert_int_equal(a.v[0]->kind, RES_GLOBAL_NETWORK_POLICY);
	assert_true(p->pre_dnat && p->apply_on_forward && !p->has_order);
	assert_int_equal(p->types, POLICY_TYPE_INGRESS);
	assert_int_equal(p->n_ingress, 2);
	assert_int_equal(p->ingress[0].action, ACTION_DENY);
	assert_int_equal(p->ingress[0].protocol.num, 6);
	assert_int_equal(p->ingress[1].protocol.num, 17);
	assert_int_equal(p->ingress[0].dst.ports[0].min, 30000);
	assert_int_equal(p->ingress[0].dst.ports[0].max, 32767);
	assert_string_equal(p->selector, "ibm.role in {\"master_public\", \"worker_public\"}");
	free(ja);
	free(jb);
	resource_list_clear(&a);
	resource_list_clear(&b);
	diags_clear(&d);
}

static void test_v1_conversion(void **state)
{
	static const char text[] =
		"- apiVersion: v1\n  kind: policy\n  metadata: {name: Allow_SSH}\n"
		"  spec:\n    doNotTrack: true\n    ingress:\n    - action: pass\n"
		"      source:\n        tag: web\n        net: 10.1.2.3/8\n"
		"- apiVersion: v1\n  kind: hostEndpoint\n"
		"  metadata: {name: eth0, node: Node1, labels: {a: b}}\n"
		"  spec: {interfaceName: eth0, expectedIPs: [192.0.2.1], profiles: [p1]}\n"
		"- apiVersion: v1\n  kind: profile\n"
		"  metadata: {name: p1, tags: [t1], labels: {x: y}}\n"
		"  spec:\n    egress:\n    - action: allow\n"
		"- apiVersion: v1\n  kind: workloadEndpoint\n"
		"  metadata: {name: eth0, workload: ns1.pod-a, orchestrator: k8s, node: n1}\n"
		"  spec: {interfaceName: cali123, ipNetworks: [10.0.0.5/32]}\n";
	struct resource_list l = { 0 };
	const struct resource *r;

	load_ok(text, &l);
	assert_int_equal(l.n, 4);
	r = l.v[0];
	/* calico-upgrade: lower case, no dots, SHA-1 qualifier if changed. */
	assert_string_equal(r->name, "allow-ssh-8e692c81");
	assert_true(r->u.policy.apply_on_forward);
	assert_int_equal(r->u.policy.ingress[0].action, ACTION_PASS);
	assert_string_equal(r->u.policy.ingress[0].src.selector, "web == \"\"");
	assert_int_equal(r->u.policy.ingress[0].src.n_nets, 1);
	assert_int_equal(r->u.policy.ingress[0].src.nets[0].addr[1], 0);
	r = l.v[1];
	assert_int_equal(r->kind, RES_HOST_ENDPOINT);
	/* convertName("<normalised node>.<name>"); the node normalised */
	assert_string_equal(r->name, "node1.eth0");
	assert_string_equal(r->u.ep.node, "node1");
	assert_string_equal(labels_get(&r->labels, "a"), "b");
	r = l.v[2];
	assert_int_equal(r->kind, RES_PROFILE);
	assert_string_equal(labels_get(&r->u.profile.labels_to_apply, "x"), "y");
	assert_string_equal(labels_get(&r->u.profile.labels_to_apply, "t1"), "");
	r = l.v[3];
	assert_int_equal(r->kind, RES_WORKLOAD_ENDPOINT);
	assert_string_equal(r->namespace, "ns1");
	assert_string_equal(r->name, "n1-k8s-pod--a-eth0");
	assert_string_equal(r->u.ep.pod, "pod-a");
	assert_string_equal(labels_get(&r->labels, "projectcalico.org/namespace"), "ns1");
	assert_round_trip(&l);
	resource_list_clear(&l);
}

/* calico-upgrade renames the pods' namespace label in v1 selectors (and
 * only there: a v3 selector is taken as written). */
static void test_v1_k8s_ns(void **state)
{
	static const char text[] =
		"- apiVersion: v1\n  kind: policy\n  metadata: {name: allow-egress-pods}\n"
		"  spec:\n    selector: has(calico/k8s_ns)\n    types: [egress]\n    egress:\n"
		"    - action: allow\n      destination:\n"
		"        selector: calico/k8s_ns == 'kube-system' && k8s-app == 'kube-dns'\n"
		"    - action: allow\n      destination:\n"
		"        notSelector: calico/k8s_ns in {'a', 'b'} || role == 'calico/k8s_ns'\n"
		"---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
		"metadata: {name: v3-as-written}\nspec:\n  selector: has(calico/k8s_ns)\n";
	struct resource_list l = { 0 };
	const struct resource *r;

	(void)state;
	load_ok(text, &l);
	assert_int_equal(l.n, 2);
	r = l.v[0];
	assert_string_equal(r->u.policy.selector, "has(projectcalico.org/namespace)");
	assert_string_equal(
		r->u.policy.egress[0].dst.selector,
		"projectcalico.org/namespace == \"kube-system\" && k8s-app == \"kube-dns\"");
	/* a value that spells the old name is a value, not a label */
	assert_string_equal(
		r->u.policy.egress[1].dst.not_selector,
		"projectcalico.org/namespace in {\"a\", \"b\"} || role == \"calico/k8s_ns\"");
	assert_string_equal(l.v[1]->u.policy.selector, "has(calico/k8s_ns)");
	resource_list_clear(&l);
}

static void test_types_default(void **state)
{
	static const char text[] =
		"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: a}\n"
		"spec: {}\n---\n"
		"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: b}\n"
		"spec: {egress: [{action: Allow}]}\n---\n"
		"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: c}\n"
		"spec: {ingress: [{action: Deny}], egress: [{action: Allow}]}\n---\n"
		"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: d}\n"
		"spec: {ingress: [{action: Deny}], types: [Egress]}\n";
	struct resource_list l = { 0 };

	load_ok(text, &l);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[0]->u.policy.types, POLICY_TYPE_INGRESS);
	assert_string_equal(l.v[0]->u.policy.selector, "all()");
	assert_int_equal(l.v[1]->u.policy.types, POLICY_TYPE_EGRESS);
	assert_int_equal(l.v[2]->u.policy.types, POLICY_TYPE_INGRESS | POLICY_TYPE_EGRESS);
	assert_int_equal(l.v[3]->u.policy.types, POLICY_TYPE_EGRESS);
	resource_list_clear(&l);
}

static void test_order(void **state)
{
	static const char text[] =
		"- {apiVersion: projectcalico.org/v3, kind: GlobalNetworkPolicy, metadata: {name: z}, spec: {order: 10}}\n"
		"- {apiVersion: projectcalico.org/v3, kind: GlobalNetworkPolicy, metadata: {name: none-b}}\n"
		"- {apiVersion: projectcalico.org/v3, kind: GlobalNetworkPolicy, metadata: {name: a}, spec: {order: 10}}\n"
		"- {apiVersion: projectcalico.org/v3, kind: GlobalNetworkPolicy, metadata: {name: none-a}}\n"
		"- {apiVersion: projectcalico.org/v3, kind: GlobalNetworkPolicy, metadata: {name: m}, spec: {order: 2.5}}\n";
	struct resource_list l = { 0 };

	load_ok(text, &l);
	/* m(2.5) < a(10) < z(10) < none-a < none-b */
	assert_true(policy_compare(l.v[4], l.v[2]) < 0);
	assert_true(policy_compare(l.v[2], l.v[0]) < 0);
	assert_true(policy_compare(l.v[0], l.v[3]) < 0);
	assert_true(policy_compare(l.v[3], l.v[1]) < 0);
	assert_true(policy_compare(l.v[1], l.v[3]) > 0);
	assert_int_equal(policy_compare(l.v[1], l.v[1]), 0);
	resource_list_clear(&l);
}

/* test_k8s's ingress: the peers crossed with the protocols. */
static void check_k8s_ingress(const struct policy_spec *p)
{
	const struct rule *r;

	/* 2 peers x 2 protocols */
	assert_int_equal(p->n_ingress, 4);
	r = &p->ingress[0];
	assert_int_equal(r->action, ACTION_ALLOW);
	assert_int_equal(r->protocol.num, 6);
	assert_int_equal(r->dst.n_ports, 3);
	assert_int_equal(r->dst.ports[1].min, 8000);
	assert_int_equal(r->dst.ports[1].max, 9000);
	assert_string_equal(r->dst.ports[2].name, "http");
	assert_string_equal(r->src.selector,
			    "projectcalico.org/orchestrator == \"k8s\" && role == \"fe\"");
	assert_string_equal(r->src.ns_selector, "team in {\"a\", \"b\"}");
	assert_int_equal(p->ingress[1].protocol.num, 17);
	assert_int_equal(p->ingress[1].dst.ports[0].min, 53);
	r = &p->ingress[2];
	assert_int_equal(r->src.n_nets, 1);
	assert_int_equal(r->src.n_not_nets, 1);
	assert_null(r->src.selector);
}

static void test_k8s(void **state)
{
	static const char text[] =
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: web, namespace: x}\n"
		"spec:\n"
		"  podSelector: {matchLabels: {app: web}}\n"
		"  policyTypes: [Ingress, Egress]\n"
		"  ingress:\n"
		"  - from:\n"
		"    - podSelector: {matchLabels: {role: fe}}\n"
		"      namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [a, b]}]}\n"
		"    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}\n"
		"    ports:\n"
		"    - {protocol: TCP, port: 80}\n"
		"    - {protocol: UDP, port: 53}\n"
		"    - {port: 8000, endPort: 9000}\n"
		"    - {port: http}\n"
		"  egress: []\n"
		"---\n"
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {team: a}}\n";
	struct resource_list l = { 0 };
	const struct policy_spec *p;

	load_ok(text, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0]->kind, RES_NETWORK_POLICY);
	assert_string_equal(l.v[0]->name, "knp.default.web");
	assert_string_equal(l.v[0]->namespace, "x");
	p = &l.v[0]->u.policy;
	assert_true(p->has_order && p->order == 1000);
	assert_string_equal(p->selector,
			    "projectcalico.org/orchestrator == \"k8s\" && app == \"web\"");
	assert_int_equal(p->types, POLICY_TYPE_INGRESS | POLICY_TYPE_EGRESS);
	assert_int_equal(p->n_egress, 0);
	check_k8s_ingress(p);
	assert_int_equal(l.v[1]->kind, RES_PROFILE);
	assert_string_equal(l.v[1]->name, "kns.x");
	assert_string_equal(labels_get(&l.v[1]->u.profile.labels_to_apply, "pcns.team"), "a");
	assert_string_equal(
		labels_get(&l.v[1]->u.profile.labels_to_apply, "pcns.projectcalico.org/name"), "x");
	assert_round_trip(&l);
	resource_list_clear(&l);
}

static void test_streams(void **state)
{
	static const char list[] =
		"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSetList\nitems:\n"
		"- apiVersion: projectcalico.org/v3\n  kind: GlobalNetworkSet\n"
		"  metadata: {name: s1, labels: {a: b}}\n  spec: {nets: [10.0.0.0/8, \"fd00::/8\"]}\n"
		"- apiVersion: projectcalico.org/v3\n  kind: GlobalNetworkSet\n"
		"  metadata: {name: s2}\n";
	static const char json[] =
		"{\"apiVersion\": \"projectcalico.org/v3\", \"kind\": \"Profile\",\n"
		" \"metadata\": {\"name\": \"p\"}, \"spec\": {\"labelsToApply\": {\"k\": \"v\"}}}\n"
		"[{\"apiVersion\": \"projectcalico.org/v3\", \"kind\": \"NetworkSet\",\n"
		"  \"metadata\": {\"name\": \"n\", \"namespace\": \"ns\"}, \"spec\": {\"nets\": [\"192.0.2.0/24\"]}}]\n";
	static const char bad_json[] =
		"{\"apiVersion\": \"projectcalico.org/v3\", \"kind\": \"Profile\",\n"
		" \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\"ingres\": []}}\n";
	struct resource_list l = { 0 };
	struct diags d = { 0 };

	load_ok(list, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0]->u.netset.n_nets, 2);
	resource_list_clear(&l);
	assert_int_equal(ruleset_load_buffer("x.json", json, strlen(json), &l, &d), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1]->namespace, "ns");
	assert_round_trip(&l);
	resource_list_clear(&l);
	/* JSON problems are located too. */
	assert_int_equal(ruleset_load_buffer("x.json", bad_json, strlen(bad_json), &l, &d),
			 -EINVAL);
	assert_string_equal(d.v[0].path, "spec.ingres");
	assert_int_equal(d.v[0].pos.line, 3);
	assert_int_equal(d.v[0].pos.col, 12);
	diags_clear(&d);
}

/* A rich v3 resource of every kind survives load -> YAML -> load. */
static void test_round_trip_rich(void **state)
{
	static const char text[] =
		"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
		"metadata: {name: rich, labels: {a: b}, annotations: {note: \"x: y\"}}\n"
		"spec:\n  order: 10.5\n  selector: \"!has(x) || a in {'1', '0'}\"\n"
		"  namespaceSelector: has(team)\n  serviceAccountSelector: all()\n"
		"  applyOnForward: true\n  doNotTrack: true\n"
		"  types: [Ingress, Egress]\n"
		"  ingress:\n  - action: Log\n    ipVersion: 4\n    protocol: ICMP\n"
		"    icmp: {type: 8, code: 0}\n    notICMP: {type: 3}\n"
		"  - action: Pass\n    protocol: 132\n    notProtocol: UDP\n"
		"    source:\n      nets: [10.0.0.0/8]\n      notNets: [10.1.0.0/16]\n"
		"      selector: a == 'true'\n      notSelector: b == '80'\n"
		"      namespaceSelector: global()\n      ports: [\"80\", 443, \"1000:2000\"]\n"
		"      notPorts: [22]\n"
		"      serviceAccounts: {names: [sa1, sa2], selector: k == 'v'}\n"
		"  egress:\n  - action: Deny\n    destination: {ports: [http, \"8080\"]}\n    protocol: TCP\n"
		"---\n"
		"apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h1, labels: {\"example.com/role\": \"true\"}}\n"
		"spec:\n  node: n1\n  interfaceName: eth0\n  expectedIPs: [192.0.2.1, \"2001:db8::1\"]\n"
		"  profiles: [p1, p2]\n  ports: [{name: http, protocol: TCP, port: 80}]\n"
		"---\n"
		"apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata: {name: w, namespace: ns}\n"
		"spec:\n  orchestrator: k8s\n  node: n1\n  pod: p\n  endpoint: eth0\n  containerID: abc\n"
		"  interfaceName: cali1\n  ipNetworks: [10.0.0.1/32]\n  mac: \"aa:bb:cc:dd:ee:ff\"\n"
		"  serviceAccountName: sa\n  profiles: [kns.ns]\n"
		"---\n"
		"apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: node.n1}\n"
		"spec:\n  failsafeInboundHostPorts: \"tcp:22, udp:[fd00::/8]:68\"\n"
		"  failsafeOutboundHostPorts: []\n  interfacePrefix: cali,tap\n  logPrefix: nftmgr\n"
		"  nftablesTableName: mytable\n  nftablesMarkMask: 0xffff0000\n";
	struct resource_list l = { 0 };

	load_ok(text, &l);
	assert_int_equal(l.n, 4);
	assert_true(l.v[3]->u.felix.has_failsafe_out);
	assert_int_equal(l.v[3]->u.felix.n_failsafe_out, 0);
	assert_int_equal(l.v[3]->u.felix.n_failsafe_in, 2);
	assert_int_equal(l.v[3]->u.felix.mark_mask, 0xffff0000u);
	assert_round_trip(&l);
	resource_list_clear(&l);
}

/* Strings that need every escape jansson writes, multi-byte UTF-8 kept
 * as it is, orders that are not integers; and a name that is not UTF-8
 * is refused rather than stored. */
static void test_storage_text(void **state)
{
	static const char text[] = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
				   "metadata:\n  name: odd\n  annotations:\n"
				   "    q: \"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\x01\\x1f\\x7f\"\n"
				   "    u: \"\u00e9 \u20ac \U0001F600\"\n"
				   "spec: {order: 0.1, selector: \"a == '\\u00e9'\"}\n"
				   "---\n"
				   "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
				   "metadata: {name: big}\nspec: {order: 1e20}\n"
				   "---\n"
				   "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
				   "metadata: {name: neg}\nspec: {order: -7}\n";
	struct resource_list l = { 0 };
	char *s, *bad;

	load_ok(text, &l);
	assert_int_equal(l.n, 3);
	s = resource_to_storage_json(l.v[0]);
	assert_non_null(strstr(s, "\"q\":\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\""));
	assert_non_null(strstr(s, "\"u\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""));
	assert_non_null(strstr(s, "\"order\":0.10000000000000001,"));
	free(s);
	s = resource_to_storage_json(l.v[1]);
	assert_non_null(strstr(s, "\"order\":1e20,"));
	free(s);
	s = resource_to_storage_json(l.v[2]);
	assert_non_null(strstr(s, "\"order\":-7,"));
	free(s);
	assert_round_trip(&l);
	bad = l.v[2]->name;
	l.v[2]->name = strdup("x\xc3(");
	assert_null(resource_to_storage_json(l.v[2]));
	free(l.v[2]->name);
	l.v[2]->name = strdup("x\xed\xa0\x80"); /* a surrogate, as UTF-8 */
	assert_null(resource_to_storage_json(l.v[2]));
	free(l.v[2]->name);
	l.v[2]->name = bad;
	resource_list_clear(&l);
}

static void test_duplicate_in_input(void **state)
{
	char dir[] = "/tmp/nftmgr-dup-XXXXXX", p[256];
	static const char gnp[] =
		"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: a}\n";
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/one.yaml", dir);
	f = fopen(p, "w");
	fprintf(f, "%s---\n%sspec: {order: 1}\n", gnp, gnp);
	fclose(f);
	assert_int_equal(ruleset_load_path(p, &l, &d), -EINVAL);
	assert_int_equal(l.n, 0);
	assert_non_null(strstr(d.v[0].msg, "also defined, differently, at"));
	assert_int_equal(d.v[0].pos.line, 5);
	diags_clear(&d);
	/* The same definition twice is kept once. */
	f = fopen(p, "w");
	fprintf(f, "%s---\n%s", gnp, gnp);
	fclose(f);
	assert_int_equal(ruleset_load_path(p, &l, &d), 0);
	assert_int_equal(l.n, 1);
	resource_list_clear(&l);
	remove(p);
	remove(dir);
}

static void assert_cnp(const struct resource *c);

/* Kubernetes admin policies as Calico converts them: tier, order, subject,
 * one rule per (protocol, peer), protocols sorted (named ports first),
 * fail-closed rules, Accept as Allow; round trip of the converted form. */
static void test_admin_policies(void **state)
{
	static const char text[] =
		"apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
		"metadata: {name: guard}\nspec:\n  priority: 34\n"
		"  subject: {namespaces: {matchLabels: {ns: x}}}\n  ingress:\n"
		"  - action: Allow\n    from: [{namespaces: {matchLabels: {ns: y}}}, "
		"{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}]\n"
		"    ports: [{portNumber: {protocol: UDP, port: 53}}, {namedPort: web}, "
		"{portRange: {protocol: TCP, start: 80, end: 81}}]\n"
		"  egress:\n  - {action: Pass, to: [{nodes: {}}]}\n"
		"  - {action: Allow, to: [{nodes: {}}]}\n"
		"  - {action: Deny, to: [{networks: [10.0.0.0/8]}, {domainNames: [a.example]}]}\n"
		"---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
		"metadata: {name: c}\nspec:\n  tier: Baseline\n  priority: 3\n"
		"  subject: {namespaces: {}}\n"
		"  ingress: [{action: Accept, from: [{namespaces: {}}], "
		"protocols: [{sctp: {}}]}]\n";
	struct resource_list l = { 0 };
	const struct resource *a, *c;
	const struct policy_spec *p;

	(void)state;
	load_ok(text, &l);
	assert_int_equal(l.n, 2);
	a = l.v[0];
	c = l.v[1];
	p = &a->u.policy;
	assert_string_equal(a->name, "kanp.adminnetworkpolicy.guard");
	assert_string_equal(p->tier, "kube-admin");
	assert_true(p->has_order);
	assert_int_equal((int)p->order, 34);
	assert_string_equal(p->selector, "projectcalico.org/orchestrator == \"k8s\"");
	assert_string_equal(p->ns_selector, "ns == \"x\"");
	/* ("", TCP, UDP) x 2 peers */
	assert_int_equal(p->n_ingress, 6);
	assert_false(p->ingress[0].protocol.set);
	assert_string_equal(p->ingress[0].dst.ports[0].name, "web");
	assert_string_equal(p->ingress[0].src.ns_selector, "ns == \"y\"");
	assert_null(p->ingress[0].src.selector);
	assert_string_equal(p->ingress[1].src.selector,
			    "projectcalico.org/orchestrator == \"k8s\" && app == \"a\"");
	assert_int_equal(p->ingress[2].protocol.num, 6);
	assert_int_equal(p->ingress[2].dst.ports[0].max, 81);
	assert_int_equal(p->ingress[4].protocol.num, 17);
	/* a Pass to nodes fails closed (Deny), an Allow is dropped, and a
	 * Deny with one bad peer becomes one unconditional Deny */
	assert_int_equal(p->n_egress, 2);
	assert_int_equal(p->egress[0].action, ACTION_DENY);
	assert_int_equal(p->egress[0].dst.n_nets, 0);
	assert_int_equal(p->egress[1].action, ACTION_DENY);
	assert_int_equal(p->egress[1].dst.n_nets, 0);
	assert_int_equal(p->types, POLICY_TYPE_INGRESS | POLICY_TYPE_EGRESS);
	assert_cnp(c);
	assert_round_trip(&l);
	resource_list_clear(&l);
}

static void assert_cnp(const struct resource *c)
{
	assert_string_equal(c->name, "kcnp.c");
	assert_string_equal(c->u.policy.tier, "kube-baseline");
	assert_int_equal(c->u.policy.ingress[0].action, ACTION_ALLOW);
	assert_int_equal(c->u.policy.ingress[0].protocol.num, 132);
	assert_int_equal(c->u.policy.ingress[0].dst.n_ports, 0);
	assert_int_equal(c->u.policy.types, POLICY_TYPE_INGRESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_seed_v1_equals_v3),
		cmocka_unit_test(test_v1_conversion),
		cmocka_unit_test(test_v1_k8s_ns),
		cmocka_unit_test(test_types_default),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_k8s),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_round_trip_rich),
		cmocka_unit_test(test_storage_text),
		cmocka_unit_test(test_duplicate_in_input),
		cmocka_unit_test(test_admin_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
