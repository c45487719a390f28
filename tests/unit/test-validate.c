/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One case per validation rule of SPEC.md section 2: the input must be
 * rejected with a problem at the exact field path and line, whose message
 * says what is wrong; and the nearest valid variant must be accepted.
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

#define LONG64	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG253 LONG64 LONG64 LONG64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define V3 \
	"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p}\nspec:\n"
#define WEP                                                                                      \
	"apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata: {name: w}\nspec:\n" \
	"  node: n1\n  orchestrator: k8s\n  pod: p\n  endpoint: eth0\n  interfaceName: cali1\n"
#define HEP \
	"apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n  node: n1\n  interfaceName: eth1\n"
#define V1 "apiVersion: v1\nkind: policy\nmetadata: {name: p}\nspec:\n"

struct vcase {
	const char *name;
	const char *yaml;
	const char *path; /* NULL: must be accepted */
	unsigned line;
	const char *msg; /* substring of the message */
};

static const struct vcase cases[] = {
	/* ports need a port protocol */
	{ "v1 sctp ports",
	  V1
	  "  ingress:\n  - action: allow\n    protocol: sctp\n    destination:\n      ports: [1]\n",
	  "spec.ingress[0].destination.ports", 9, "ports need protocol tcp or udp" },
	{ "v1 icmp notPorts",
	  V1
	  "  ingress:\n  - action: allow\n    protocol: icmp\n    source:\n      notPorts: [1]\n",
	  "spec.ingress[0].source.notPorts", 9, "ports need protocol" },
	{ "v1 protocol 7 ports",
	  V1 "  ingress:\n  - action: allow\n    protocol: 7\n    destination:\n      ports: [1]\n",
	  "spec.ingress[0].destination.ports", 9, "ports need protocol" },
	{ "v1 ports no protocol",
	  V1 "  ingress:\n  - action: allow\n    destination:\n      ports: [1]\n",
	  "spec.ingress[0].destination.ports", 8, "ports need protocol" },
	{ "v1 protocol 6 ports ok",
	  V1 "  ingress:\n  - action: allow\n    protocol: 6\n    destination:\n      ports: [1]\n",
	  NULL, 0, NULL },
	{ "v3 UDPLite ports",
	  V3
	  "  ingress:\n  - action: Allow\n    protocol: UDPLite\n    destination:\n      ports: [1]\n",
	  "spec.ingress[0].destination.ports", 9, "TCP, UDP or SCTP" },
	{ "v3 SCTP ports ok",
	  V3
	  "  ingress:\n  - action: Allow\n    protocol: SCTP\n    destination:\n      ports: [1, \"2:3\"]\n",
	  NULL, 0, NULL },
	{ "v3 numeric ports no protocol",
	  V3 "  ingress:\n  - action: Allow\n    destination:\n      ports: [80]\n",
	  "spec.ingress[0].destination.ports", 8, "ports need protocol" },
	{ "v3 named port no protocol ok",
	  V3 "  ingress:\n  - action: Allow\n    destination:\n      ports: [http]\n", NULL, 0,
	  NULL },
	{ "v1 named port",
	  V1
	  "  ingress:\n  - action: allow\n    protocol: tcp\n    destination:\n      ports: [http]\n",
	  "spec.ingress[0].destination.ports[0]", 9, "is not a port" },
	/* port 0 and ranges */
	{ "port 0",
	  V3
	  "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [0]\n",
	  "spec.ingress[0].destination.ports[0]", 9, "port 0" },
	{ "reversed range",
	  V3
	  "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports:\n      - 80\n      - 200:100\n",
	  "spec.ingress[0].destination.ports[1]", 11, "port range 200:100 is reversed" },
	{ "range 0",
	  V3
	  "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [\"0:10\"]\n",
	  "spec.ingress[0].destination.ports[0]", 9, "port 0" },
	{ "port too big",
	  V3
	  "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [65536]\n",
	  "spec.ingress[0].destination.ports[0]", 9, "out of range" },
	{ "plain range ok",
	  V1
	  "  ingress:\n  - action: deny\n    protocol: tcp\n    destination:\n      ports:\n      - 30000:32767\n",
	  NULL, 0, NULL },
	/* ICMP */
	{ "icmp type 255",
	  V3 "  ingress:\n  - action: Allow\n    protocol: ICMP\n    icmp: {type: 255}\n",
	  "spec.ingress[0].icmp.type", 8, "0 to 254" },
	{ "icmp code 256",
	  V3 "  ingress:\n  - action: Allow\n    protocol: ICMP\n    icmp: {type: 3, code: 256}\n",
	  "spec.ingress[0].icmp.code", 8, "0 to 255" },
	{ "icmp code without type",
	  V1 "  ingress:\n  - action: allow\n    protocol: icmp\n    icmp:\n      code: 3\n",
	  "spec.ingress[0].icmp", 9, "needs an ICMP type" },
	{ "v3 icmp needs ICMP protocol",
	  V3 "  ingress:\n  - action: Allow\n    protocol: TCP\n    icmp: {type: 8}\n",
	  "spec.ingress[0]", 8, "icmp needs protocol ICMP" },
	{ "v3 ICMP with ipVersion 6",
	  V3 "  ingress:\n  - action: Allow\n    ipVersion: 6\n    protocol: ICMP\n",
	  "spec.ingress[0]", 6, "ICMP needs ipVersion 4" },
	{ "v3 ICMPv6 with ipVersion 4",
	  V3 "  egress:\n  - action: Allow\n    ipVersion: 4\n    notProtocol: ICMPv6\n",
	  "spec.egress[0]", 6, "ICMPv6 needs ipVersion 6" },
	{ "v3 icmp ok",
	  V3
	  "  ingress:\n  - action: Allow\n    ipVersion: 6\n    protocol: ICMPv6\n    icmp: {type: 128, code: 0}\n",
	  NULL, 0, NULL },
	/* address families */
	{ "mixed families",
	  V3
	  "  ingress:\n  - action: Allow\n    source:\n      nets: [10.0.0.0/8]\n    destination:\n      nets: [\"fd00::/8\"]\n",
	  "spec.ingress[0]", 10, "both IPv4 and IPv6" },
	{ "ipVersion vs CIDR",
	  V3
	  "  ingress:\n  - action: Allow\n    ipVersion: 6\n    source:\n      notNets: [10.0.0.0/8]\n",
	  "spec.ingress[0]", 9, "does not match" },
	{ "v3 host bits",
	  V3 "  ingress:\n  - action: Allow\n    source:\n      nets: [10.1.2.3/8]\n",
	  "spec.ingress[0].source.nets[0]", 8, "host bits" },
	{ "v1 host bits ok",
	  V1 "  ingress:\n  - action: allow\n    source:\n      nets: [10.1.2.3/8]\n", NULL, 0,
	  NULL },
	{ "bad CIDR", V3 "  ingress:\n  - action: Allow\n    source:\n      nets: [10.0.0.0/33]\n",
	  "spec.ingress[0].source.nets[0]", 8, "not an IP address or CIDR" },
	{ "v1 net and nets",
	  V1
	  "  ingress:\n  - action: allow\n    source:\n      net: 10.0.0.0/8\n      nets: [10.1.0.0/16]\n",
	  "spec.ingress[0].source", 8, "only one of net" },
	/* policy-level rules */
	{ "preDNAT and doNotTrack",
	  V3 "  preDNAT: true\n  doNotTrack: true\n  applyOnForward: true\n", "spec", 5,
	  "cannot both be true" },
	{ "preDNAT egress rules", V1 "  preDNAT: true\n  egress:\n  - action: deny\n",
	  "spec.egress", 7, "cannot have egress rules" },
	{ "preDNAT Egress type", V3 "  preDNAT: true\n  applyOnForward: true\n  types: [Egress]\n",
	  "spec.types", 7, "cannot have the Egress type" },
	{ "v3 preDNAT needs applyOnForward", V3 "  preDNAT: true\n  ingress:\n  - action: Deny\n",
	  "spec", 5, "applyOnForward must be true" },
	{ "v3 doNotTrack needs applyOnForward", V3 "  doNotTrack: true\n  applyOnForward: false\n",
	  "spec", 5, "applyOnForward must be true" },
	{ "v1 preDNAT ok", V1 "  preDNAT: true\n  ingress:\n  - action: deny\n", NULL, 0, NULL },
	{ "repeated types", V3 "  types:\n  - Ingress\n  - Egress\n  - Egress\n", "spec.types[2]",
	  8, "specified more than once" },
	{ "v1 type case", V1 "  types: [Ingress]\n", "spec.types[0]", 5, "ingress or egress" },
	{ "v3 type case", V3 "  types: [ingress]\n", "spec.types[0]", 5, "Ingress or Egress" },
	{ "v1 applyOnForward is not v1", V1 "  applyOnForward: true\n", "spec.applyOnForward", 5,
	  "unknown field" },
	/* unknown fields everywhere */
	{ "unknown spec field", V3 "  selektor: all()\n", "spec.selektor", 5,
	  "unknown field \"selektor\"" },
	{ "unknown rule field", V3 "  ingress:\n  - action: Allow\n    sauce: {}\n",
	  "spec.ingress[0].sauce", 7, "unknown field" },
	{ "unknown entity field",
	  V3 "  ingress:\n  - action: Allow\n    source: {net: 10.0.0.0/8}\n",
	  "spec.ingress[0].source.net", 7, "unknown field" },
	{ "unknown metadata field",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: p\n  nodename: x\n",
	  "metadata.nodename", 5, "unknown field" },
	{ "unknown top-level field",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p}\nstatus: {}\n",
	  "status", 4, "unknown field" },
	{ "field given twice", V3 "  order: 1\n  order: 2\n", "spec.order", 6, "given twice" },
	/* case and values of actions, protocols, versions */
	{ "v1 action case", V1 "  ingress:\n  - action: Allow\n", "spec.ingress[0].action", 6,
	  "not one of allow" },
	{ "v3 action case", V3 "  ingress:\n  - action: deny\n", "spec.ingress[0].action", 6,
	  "not one of Allow" },
	{ "action missing", V3 "  ingress:\n  - protocol: TCP\n", "spec.ingress[0]", 6,
	  "action is required" },
	{ "action unknown", V1 "  ingress:\n  - action: allowfoo\n", "spec.ingress[0].action", 6,
	  "not one of" },
	{ "v1 protocol case", V1 "  ingress:\n  - action: allow\n    protocol: TCP\n",
	  "spec.ingress[0].protocol", 7, "must be written \"tcp\"" },
	{ "v3 protocol case", V3 "  ingress:\n  - action: Allow\n    protocol: icmpv6\n",
	  "spec.ingress[0].protocol", 7, "must be written \"ICMPv6\"" },
	{ "protocol 0", V1 "  ingress:\n  - action: allow\n    protocol: 0\n",
	  "spec.ingress[0].protocol", 7, "protocol number 0" },
	{ "protocol \"256\"", V1 "  ingress:\n  - action: allow\n    protocol: \"256\"\n",
	  "spec.ingress[0].protocol", 7, "out of range" },
	{ "protocol tcpfoo", V1 "  ingress:\n  - action: allow\n    protocol: tcpfoo\n",
	  "spec.ingress[0].protocol", 7, "unknown protocol" },
	{ "protocol \"255\" ok", V1 "  ingress:\n  - action: allow\n    protocol: \"255\"\n", NULL,
	  0, NULL },
	{ "ipVersion 5", V3 "  ingress:\n  - action: Allow\n    ipVersion: 5\n",
	  "spec.ingress[0].ipVersion", 7, "4 or 6" },
	{ "ipVersion 0", V1 "  ingress:\n  - action: allow\n    ipVersion: 0\n",
	  "spec.ingress[0].ipVersion", 7, "4 or 6" },
	/* selectors and global() */
	{ "bad selector", V3 "  selector: thing=hello &\n", "spec.selector", 5,
	  "invalid selector" },
	{ "global in policy selector", V3 "  selector: global()\n", "spec.selector", 5,
	  "global()" },
	{ "global in entity selector",
	  V3 "  ingress:\n  - action: Allow\n    source:\n      selector: \"  global()  \"\n",
	  "spec.ingress[0].source.selector", 8, "global()" },
	{ "global combined in namespaceSelector",
	  V3
	  "  ingress:\n  - action: Allow\n    source:\n      namespaceSelector: global() && all()\n",
	  "spec.ingress[0].source.namespaceSelector", 8, "stand alone" },
	{ "global alone in namespaceSelector ok",
	  V3
	  "  ingress:\n  - action: Allow\n    source:\n      namespaceSelector: \"  global()  \"\n",
	  NULL, 0, NULL },
	{ "selector starting with ! quoted ok", V3 "  selector: \"!has(a)\"\n", NULL, 0, NULL },
	/* names */
	{ "v3 GNP name with one dot (a 3.29-3.31 tier prefix)",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: a.b}\n",
	  NULL, 0, NULL },
	{ "v3 GNP name with two dots",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: a.b.c}\n",
	  "metadata", 3, "at most one dot" },
	{ "v3 NP name with two dots",
	  "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a.b.c}\n",
	  "metadata", 3, "invalid name" },
	{ "v3 NP knp.default. and a subdomain",
	  "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: knp.default.a.b.c}\n",
	  NULL, 0, NULL },
	{ "v3 NP ossg.default. and a subdomain",
	  "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: ossg.default.a.b}\n",
	  NULL, 0, NULL },
	{ "v3 GNP name of 253 (labels over 63 are fine)",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: " LONG253
	  "}\n",
	  NULL, 0, NULL },
	{ "v3 GNP name of 254",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: " LONG253
	  "a}\n",
	  "metadata", 3, "too long by 1 bytes" },
	{ "Tier name with a dot",
	  "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a.b}\n", "metadata", 3,
	  "no dots" },
	{ "Tier name of 64",
	  "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: " LONG64 "}\n",
	  "metadata", 3, "too long by 1 bytes" },
	{ "Tier defaultAction",
	  "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nspec: {defaultAction: Allow}\n",
	  "spec.defaultAction", 4, "Deny or Pass" },
	{ "Tier default: fixed order",
	  "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: default}\nspec: {order: 5}\n",
	  "spec", 4, "order 1000000 and defaultAction Deny" },
	{ "Tier kube-admin: fixed action",
	  "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: kube-admin}\nspec: {order: 1000, defaultAction: Deny}\n",
	  "spec", 4, "order 1000 and defaultAction Pass" },
	{ "Tier adminnetworkpolicy (3.29-3.31) as it was",
	  "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: adminnetworkpolicy}\nspec: {order: 1000, defaultAction: Pass}\n",
	  NULL, 0, NULL },
	{ "policy tier name with a dot", V3 "  tier: a.b\n", "spec.tier", 5, "no dots" },
	{ "stagedAction on an enforced kind", V3 "  stagedAction: Set\n", "spec.stagedAction", 5,
	  "unknown field" },
	{ "stagedAction value",
	  "apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata: {name: s}\nspec: {stagedAction: Remove}\n",
	  "spec.stagedAction", 4, "Set, Delete, Learn, Ignore" },
	{ "staged Delete with a selector",
	  "apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata: {name: s}\nspec: {stagedAction: Delete, tier: t, selector: all()}\n",
	  "spec", 4, "must be empty when stagedAction is Delete" },
	{ "staged Delete with a tier only",
	  "apiVersion: projectcalico.org/v3\nkind: StagedNetworkPolicy\nmetadata: {name: s, namespace: n}\nspec: {stagedAction: Delete, tier: t}\n",
	  NULL, 0, NULL },
	{ "BANP has no Pass",
	  "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  ingress: [{action: Pass, from: [{namespaces: {}}]}]\n",
	  "spec.ingress[0]", 6, "action must be one of Allow, Deny" },
	{ "ANP priority range",
	  "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec:\n  priority: 1001\n  subject: {namespaces: {}}\n",
	  "spec.priority", 5, "" },
	{ "CNP tier",
	  "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: a}\nspec:\n  tier: Middle\n  priority: 1\n  subject: {namespaces: {}}\n",
	  "spec", 5, "tier must be Admin or Baseline" },
	{ "ANP subject",
	  "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec:\n  priority: 1\n  subject: {}\n",
	  "spec.subject", 6, "subject needs namespaces or pods" },
	{ "ANP rule without peers",
	  "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n  ingress: [{action: Deny}]\n",
	  "spec.ingress[0]", 7, "at least one peer" },
	{ "ANP port protocol",
	  "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], ports: [{portNumber: {protocol: ICMP, port: 1}}]}]\n",
	  "spec.ingress[0].ports[0]", 7, "protocol must be TCP, UDP or SCTP" },
	/* Calico's validator, class by class (issue #14) */
	{ "WEP ipNetworks: one address each", WEP "  ipNetworks: [10.0.0.0/24]\n",
	  "spec.ipNetworks[0]", 10, "multiple addresses" },
	{ "WEP ipNetworks /32 and /128", WEP "  ipNetworks: [10.0.0.1/32, \"fd00::1/128\"]\n", NULL,
	  0, NULL },
	{ "WEP NAT inside the networks",
	  WEP
	  "  ipNetworks: [10.0.0.1/32]\n  ipNATs: [{internalIP: 10.0.0.2, externalIP: 192.0.2.1}]\n",
	  "spec.ipNATs", 11, "NAT is not in the endpoint networks" },
	{ "WEP NAT families",
	  WEP
	  "  ipNetworks: [10.0.0.1/32]\n  ipNATs: [{internalIP: 10.0.0.1, externalIP: \"fd00::1\"}]\n",
	  "spec.ipNATs[0]", 11, "mismatched IP versions" },
	{ "WEP NAT fine",
	  WEP
	  "  ipNetworks: [10.0.0.1/32]\n  ipNATs: [{internalIP: 10.0.0.1, externalIP: 192.0.2.1}]\n",
	  NULL, 0, NULL },
	{ "WEP gateway family", WEP "  ipv4Gateway: \"fd00::1\"\n", "spec.ipv4Gateway", 10,
	  "invalid IPv4 address" },
	{ "WEP containerID", WEP "  containerID: -abc\n", "spec.containerID", 10,
	  "invalid containerID" },
	{ "WEP port protocol without ports", WEP "  ports: [{name: x, protocol: ICMP, port: 80}]\n",
	  "spec.ports[0].protocol", 10, "does not support ports" },
	{ "WEP unnamed port needs a hostPort", WEP "  ports: [{protocol: TCP, port: 80}]\n",
	  "spec.ports[0]", 10, "needs a name unless it has a hostPort" },
	{ "WEP hostPort and hostIP",
	  WEP
	  "  ports: [{protocol: TCP, port: 80, hostPort: 8080, hostIP: 192.0.2.1}, {name: web, protocol: UDP, port: 53}]\n",
	  NULL, 0, NULL },
	{ "WEP hostIP", WEP "  ports: [{protocol: TCP, port: 80, hostPort: 8080, hostIP: nope}]\n",
	  "spec.ports[0].hostIP", 10, "invalid hostIP" },
	{ "WEP allowSpoofedSourcePrefixes",
	  WEP "  allowSpoofedSourcePrefixes: [10.0.0.0/8, nope]\n",
	  "spec.allowSpoofedSourcePrefixes[1]", 10, "invalid CIDR" },
	{ "HEP hostPort is a workload's",
	  HEP "  ports: [{name: x, protocol: TCP, port: 80, hostPort: 1}]\n",
	  "spec.ports[0].hostPort", 7, "unknown field" },
	{ "HEP profile names", HEP "  profiles: [Bad_Name]\n", "spec.profiles", 7, "invalid name" },
	{ "notNets catch-all", V3 "  ingress: [{action: Allow, source: {notNets: [0.0.0.0/0]}}]\n",
	  "spec.ingress[0].source.notNets[0]", 5, "catch-all" },
	{ "notNets ::/0", V3 "  ingress: [{action: Allow, destination: {notNets: [\"::/0\"]}}]\n",
	  "spec.ingress[0].destination.notNets[0]", 5, "catch-all" },
	{ "annotation key",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: a, annotations: {\"bad key\": x}}\n",
	  "metadata.annotations[bad key]", 3, "invalid annotation key" },
	{ "annotation key upper case is fine",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: a, annotations: {Example.COM/Key: x}}\n",
	  NULL, 0, NULL },
	{ "rule metadata annotations",
	  V3 "  ingress: [{action: Allow, metadata: {annotations: {\"bad key\": x}}}]\n",
	  "spec.ingress[0].metadata.annotations[bad key]", 5, "invalid annotation key" },
	{ "rule metadata unknown field",
	  V3 "  ingress: [{action: Allow, metadata: {labels: {a: b}}}]\n",
	  "spec.ingress[0].metadata.labels", 5, "unknown field" },
	{ "FelixConfiguration workloadSourceSpoofing",
	  "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec: {workloadSourceSpoofing: Some}\n",
	  "spec.workloadSourceSpoofing", 4, "Disabled or Any" },
	{ "services in an ingress source",
	  "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: s, namespace: n}\nspec:\n  ingress: [{action: Allow, source: {services: {name: web}}}]\n",
	  NULL, 0, NULL },
	{ "services in an egress destination of a GNP need a namespace",
	  V3 "  egress: [{action: Allow, destination: {services: {name: web}}}]\n",
	  "spec.egress[0]", 5, "must specify a namespace" },
	{ "services in an ingress destination",
	  V3 "  ingress: [{action: Allow, destination: {services: {name: web, namespace: n}}}]\n",
	  "spec.ingress[0]", 5, "not allowed in an ingress rule destinations" },
	{ "services with a selector",
	  V3
	  "  egress: [{action: Allow, destination: {selector: a == 'b', services: {name: web, namespace: n}}}]\n",
	  "spec.egress[0].destination", 5, "cannot be combined" },
	{ "services with destination ports",
	  V3
	  "  egress: [{action: Allow, protocol: TCP, destination: {ports: [80], services: {name: web, namespace: n}}}]\n",
	  "spec.egress[0]", 5, "ports cannot be given with destination services" },
	{ "services without a name",
	  V3 "  egress: [{action: Allow, destination: {services: {namespace: n}}}]\n",
	  "spec.egress[0].destination.services", 5, "needs a name" },
	{ "http on an Allow",
	  V3
	  "  ingress: [{action: Allow, protocol: TCP, http: {methods: [GET, PUT], paths: [{exact: /a}, {prefix: /b/}]}}]\n",
	  NULL, 0, NULL },
	{ "http on a Deny", V3 "  ingress: [{action: Deny, http: {methods: [GET]}}]\n",
	  "spec.ingress[0]", 5, "needs action Allow" },
	{ "http with UDP",
	  V3 "  ingress: [{action: Allow, protocol: UDP, http: {methods: [GET]}}]\n",
	  "spec.ingress[0]", 5, "protocol TCP" },
	{ "http in egress", V3 "  egress: [{action: Allow, http: {methods: [GET]}}]\n",
	  "spec.egress[0]", 5, "not allowed in egress rules" },
	{ "http method twice", V3 "  ingress: [{action: Allow, http: {methods: [GET, GET]}}]\n",
	  "spec.ingress[0].http", 5, "given twice" },
	{ "http path with both",
	  V3 "  ingress: [{action: Allow, http: {paths: [{exact: /a, prefix: /b}]}}]\n",
	  "spec.ingress[0].http.paths[0]", 5, "one of exact or prefix" },
	{ "http path form", V3 "  ingress: [{action: Allow, http: {paths: [{exact: a?b}]}}]\n",
	  "spec.ingress[0].http.paths[0]", 5, "invalid path" },
	{ "performanceHints", V3 "  performanceHints: [AssumeNeededOnEveryNode]\n", NULL, 0, NULL },
	{ "performanceHints unknown", V3 "  performanceHints: [Fast]\n", "spec.performanceHints[0]",
	  5, "unknown performance hint" },
	{ "v3 GNP name upper case",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: Abc}\n",
	  "metadata", 3, "invalid name" },
	{ "name missing",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {}\n", "metadata",
	  3, "missing 'name'" },
	{ "v3 NP knp name ok",
	  "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: knp.default.x, namespace: ns1}\n",
	  NULL, 0, NULL },
	{ "GNP has no namespace",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: a\n  namespace: x\n",
	  "metadata", 5, "not namespaced" },
	/* endpoints */
	{ "hep without interface and IPs",
	  "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n  node: n1\n",
	  "spec", 5, "no interface or expected IPs" },
	{ "v3 hep without node",
	  "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n  interfaceName: eth0\n",
	  "spec", 5, "no node" },
	{ "v1 hep without node",
	  "apiVersion: v1\nkind: hostEndpoint\nmetadata: {name: h}\nspec:\n  interfaceName: eth0\n",
	  "metadata", 3, "missing 'node'" },
	{ "hep interface too long",
	  "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n  node: n\n  interfaceName: abcdefghijklmnop\n",
	  "spec.interfaceName", 6, "invalid interface name" },
	{ "v1 hep interface with dot",
	  "apiVersion: v1\nkind: hostEndpoint\nmetadata: {name: h, node: n}\nspec:\n  interfaceName: eth0.1\n",
	  "spec.interfaceName", 5, "invalid interface name" },
	{ "hep expectedIPs CIDR",
	  "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n  node: n\n  expectedIPs: [10.0.0.1/32]\n",
	  "spec.expectedIPs[0]", 6, "not an IP address" },
	{ "hep star ok",
	  "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec:\n  node: n\n  interfaceName: \"*\"\n",
	  NULL, 0, NULL },
	{ "label key invalid",
	  "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: h\n  labels: {\"-bad\": x}\nspec: {node: n, interfaceName: eth0}\n",
	  "metadata.labels[-bad]", 5, "invalid label key" },
	{ "label value invalid",
	  "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: h\n  labels: {a: \"-x\"}\nspec: {node: n, interfaceName: eth0}\n",
	  "metadata.labels[a]", 5, "invalid label value" },
	{ "v1 label key not valid in v3",
	  "apiVersion: v1\nkind: hostEndpoint\nmetadata:\n  name: h\n  node: n\n  labels: {_a: x}\nspec: {interfaceName: eth0}\n",
	  "metadata.labels[_a]", 6, "invalid label key" },
	{ "networkset reserved label",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: s\n  labels: {projectcalico.org/namespace: x}\nspec:\n  nets: [10.0.0.0/8]\n",
	  "metadata.labels", 5, "reserved" },
	/* kinds and types */
	{ "unknown kind",
	  "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolice\nmetadata: {name: p}\n", "",
	  2, "unknown resource type" },
	{ "v1 kind case", "apiVersion: v1\nkind: Policy\nmetadata: {name: p}\n", "", 2,
	  "unknown resource type" },
	{ "ports as a map",
	  V3
	  "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: {a: 1}\n",
	  "spec.ingress[0].destination.ports", 9, "expected a list" },
	{ "order not a number", V3 "  order: high\n", "spec.order", 5, "expected a number" },
	{ "bool not a bool", V3 "  preDNAT: yes\n", "spec.preDNAT", 5, "true or false" },
	/* FelixConfiguration */
	{ "felix mark mask one bit",
	  "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec:\n  nftablesMarkMask: 0x10000\n",
	  "spec.nftablesMarkMask", 5, "at least 2 bits" },
	{ "felix failsafe string",
	  "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec:\n  failsafeInboundHostPorts: \"tcp:22,icmp:1\"\n",
	  "spec.failsafeInboundHostPorts", 5, "icmp:1" },
	{ "felix failsafe list",
	  "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec:\n  failsafeOutboundHostPorts:\n  - {protocol: tcp, port: 0}\n",
	  "spec.failsafeOutboundHostPorts[0].port", 6, "port 0" },
	{ "felix ok",
	  "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec:\n  failsafeInboundHostPorts: [{protocol: tcp, port: 22, net: 10.0.0.0/8}]\n  failsafeOutboundHostPorts: \"none\"\n  nftablesMarkMask: \"0xff000000\"\n  logSeverityScreen: Info\n",
	  NULL, 0, NULL },
	/* Kubernetes */
	{ "k8s bad operator",
	  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n, namespace: x}\nspec:\n  podSelector:\n    matchExpressions:\n    - {key: a, operator: Has}\n",
	  "spec.podSelector.matchExpressions[0]", 7, "unknown operator" },
	{ "k8s endPort below port",
	  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 80, endPort: 79}\n",
	  "spec.ingress[0].ports[0]", 8, "endPort" },
	{ "k8s unknown field",
	  "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec:\n  podSelector: {}\n  ingres: []\n",
	  "spec.ingres", 6, "unknown field" },
	/* syntax */
	{ "YAML syntax", V3 "  ingress:\n  - action: Allow\n   protocol: TCP\n", "", 7,
	  "YAML syntax" },
	{ "YAML alias", V3 "  selector: &a x\n  order: *a\n", "", 6, "aliases" },
};

static const struct diag *find(const struct diags *d, const char *path)
{
	for (size_t i = 0; i < d->n; i++) {
		const char *p = d->v[i].path ? d->v[i].path : "";

		if (strcmp(p, path) == 0)
			return &d->v[i];
	}
	return NULL;
}

static void dump(const struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = diag_format(&d->v[i]);

		print_message("  got: %s\n", s);
		free(s);
	}
}

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		struct resource_list l = { 0 };
		struct diags d = { 0 };
		const struct diag *g;
		int r = ruleset_load_buffer("case.yaml", c->yaml, strlen(c->yaml), &l, &d);

		if (!c->path) {
			if (r != 0) {
				dump(&d);
				fail_msg("case '%s' must be accepted", c->name);
			}
			assert_true(l.n >= 1);
		} else {
			if (r != -EINVAL)
				fail_msg("case '%s' must be rejected (r=%d)", c->name, r);
			assert_int_equal(l.n, 0);
			g = find(&d, c->path);
			if (!g || g->pos.line != c->line || !strstr(g->msg, c->msg)) {
				dump(&d);
				fail_msg("case '%s': want %s at line %u: %s", c->name, c->path,
					 c->line, c->msg);
			}
			assert_string_equal(g->file, "case.yaml");
		}
		resource_list_clear(&l);
		diags_clear(&d);
	}
}

/* Every problem in a file is reported, not only the first. */
static void test_all_problems(void **state)
{
	static const char text[] = V3
		"  order: x\n  ingress:\n  - action: allow\n  - action: Allow\n"
		"    protocol: TCP\n    destination: {ports: [\"9:1\"]}\n"
		"---\n" V1 "  bogus: 1\n";
	struct resource_list l = { 0 };
	struct diags d = { 0 };

	assert_int_equal(ruleset_load_buffer("f.yaml", text, strlen(text), &l, &d), -EINVAL);
	assert_int_equal(d.n, 4);
	assert_string_equal(d.v[0].path, "spec.order");
	assert_string_equal(d.v[1].path, "spec.ingress[0].action");
	assert_string_equal(d.v[2].path, "spec.ingress[1].destination.ports[0]");
	assert_string_equal(d.v[3].path, "spec.bogus");
	assert_int_equal(d.v[3].pos.line, 16);
	assert_string_equal(d.v[3].ident, "policy/p");
	resource_list_clear(&l);
	diags_clear(&d);
}

static void test_format(void **state)
{
	struct diag g = { .file = "f.yaml",
			  .pos = { 3, 7 },
			  .ident = "GlobalNetworkPolicy/x",
			  .path = "spec.ingress[1].destination.ports[0]",
			  .msg = "port range 200:100 is reversed" };
	char *s = diag_format(&g);

	assert_string_equal(
		s,
		"f.yaml:3:7: GlobalNetworkPolicy/x: spec.ingress[1].destination.ports[0]: port range 200:100 is reversed");
	free(s);
}

/* Limits: nothing an outsider sends can make us allocate without bound. */
static void test_limits(void **state)
{
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	size_t n = 200, len = 0;
	char *deep = malloc(n * 2 + 1);

	for (size_t i = 0; i < n; i++)
		deep[len++] = '[';
	for (size_t i = 0; i < n; i++)
		deep[len++] = ']';
	deep[len] = '\0';
	assert_int_equal(ruleset_load_buffer("deep.yaml", deep, len, &l, &d), -EINVAL);
	assert_non_null(strstr(d.v[0].msg, "nesting"));
	diags_clear(&d);
	assert_int_equal(ruleset_load_buffer("deep.json", deep, len, &l, &d), -EINVAL);
	diags_clear(&d);
	/* refused on its length alone, before a byte is read */
	setenv("NFTMGR_MAX_INPUT", "64K", 1);
	assert_int_equal(ruleset_load_buffer("big.yaml", deep, (64u << 10) + 1, &l, &d), -E2BIG);
	assert_non_null(strstr(d.v[0].msg, "NFTMGR_MAX_INPUT"));
	unsetenv("NFTMGR_MAX_INPUT");
	diags_clear(&d);
	free(deep);
}

/* Annotations: 256 KiB in all (keys and values), Kubernetes' limit. */
static void test_annotation_size(void **state)
{
	const size_t sizes[] = { 200 << 10, 262144 - 2, 262144 - 1, 300 << 10 };
	const int want[] = { 0, 0, -EINVAL, -EINVAL };

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct resource_list l = { 0 };
		struct diags d = { 0 };
		char *value = malloc(sizes[i] + 1), *doc;
		int r;

		assert_non_null(value);
		memset(value, 'v', sizes[i]);
		value[sizes[i]] = '\0';
		/* key "k" and "l": two bytes of keys beside the values */
		assert_true(asprintf(&doc,
				     "{\"apiVersion\": \"projectcalico.org/v3\", \"kind\": "
				     "\"GlobalNetworkPolicy\", \"metadata\": {\"name\": \"a\", "
				     "\"annotations\": {\"k\": \"%s\", \"l\": \"\"}}}",
				     value) > 0);
		r = ruleset_load_buffer("a.json", doc, strlen(doc), &l, &d);
		if (r != want[i])
			fail_msg("annotations of %zu bytes: %d, want %d", sizes[i] + 2, r, want[i]);
		if (r < 0) {
			assert_non_null(find(&d, "metadata.annotations"));
			assert_non_null(strstr(d.v[0].msg, "more than 262144"));
		}
		resource_list_clear(&l);
		diags_clear(&d);
		free(doc);
		free(value);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),		cmocka_unit_test(test_all_problems),
		cmocka_unit_test(test_format),		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_annotation_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
