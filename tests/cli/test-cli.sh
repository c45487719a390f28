#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The command line as an operator uses it, against a temporary datastore.
# TAP output. Needs NFTMGR_BIN, NFTMGR_SOURCE and NFTMGR_FIXTURES.
set -u

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
FIX=${NFTMGR_FIXTURES:?}
. "$SRC/tests/lib.sh"
TMP=$T

# A snapshot of a datastore: every file's path and content hash.
snapshot() {
	(cd "$1" && find . -type f ! -name .lock -print0 | sort -z | xargs -0r sha256sum)
}

# A config of our own, so that no /etc/nftmgr/nftmgr.cfg on the machine
# changes what the tests see.
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec:\n  datastoreType: file\n  datastoreDir: %s/default-store\n' "$TMP" >"$TMP/test.cfg"
nm() { "$BIN" -c "$TMP/test.cfg" "$@"; }


for f in "$FIX"/*.yaml; do
	check_status "validate $(basename "$f")" 0 nm validate -f "$f"
done
check_status "validate examples/" 0 nm validate -f "$SRC/examples"
expect "validate counts the examples" "$TMP/out" "^Successfully validated 9 resource\(s\)$"

# Three different mistakes, three located messages, exit 1.
cat >"$TMP/three.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: three
spec:
  selector: role == 'x' &&
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [80, "200:100"]
  - action: allow
YAML
check_status "three mistakes exit 1" 1 nm validate -f "$TMP/three.yaml"
if [ "$(wc -l <"$TMP/err")" = 3 ]; then tap OK "three messages"; else tap FAIL "three messages"; fi
expect "selector located" "$TMP/err" "three.yaml:6:[0-9]+: GlobalNetworkPolicy/three: spec.selector: invalid selector"
expect "reversed range located" "$TMP/err" "three.yaml:11:19: GlobalNetworkPolicy/three: spec.ingress\[0\].destination.ports\[1\]: port range 200:100 is reversed"
expect "action case located" "$TMP/err" "three.yaml:12:13: GlobalNetworkPolicy/three: spec.ingress\[1\].action: action \"allow\" is not one of"

# apply, get -o yaml, apply that elsewhere: the same datastore.
A="$TMP/a" B="$TMP/b"
check_status "apply default policies" 0 nm --datastore-dir "$A" apply --no-sync -f "$FIX/default-public-policies.v1.yaml"
expect "calicoctl message" "$TMP/out" "^Successfully applied 6 'GlobalNetworkPolicy' resource\(s\)$"
check_status "apply examples" 0 nm --datastore-dir "$A" apply --no-sync -f "$SRC/examples"
check_status "apply tutorial" 0 nm --datastore-dir "$A" apply --no-sync -f "$FIX/tutorial-lb-policies.v3.yaml"
# applied again as they are: counted, and no file written again (the
# same inodes); one of them changed: that one file alone is new
inodes() { (cd "$A" && find . -type f ! -name .lock -printf '%i %p\n' | sort -k2); }
inodes >"$TMP/inodes.before"
check_status "apply the same policies again" 0 nm --datastore-dir "$A" apply --no-sync -f "$FIX/default-public-policies.v1.yaml"
expect "  ... counted as applied" "$TMP/out" "^Successfully applied 6 'GlobalNetworkPolicy' resource\(s\)$"
inodes >"$TMP/inodes.after"
check "  ... and no file written again" cmp -s "$TMP/inodes.before" "$TMP/inodes.after"
sed 's/order: 1500$/order: 1501/' "$FIX/default-public-policies.v1.yaml" >"$TMP/one-order.yaml"
check "  (the copy changes one order)" test "$(diff "$FIX/default-public-policies.v1.yaml" "$TMP/one-order.yaml" | grep -c '^>')" = 1
check_status "apply with one policy changed" 0 nm --datastore-dir "$A" apply --no-sync -f "$TMP/one-order.yaml"
inodes >"$TMP/inodes.after"
check "  ... writes that one file alone" test "$(diff "$TMP/inodes.before" "$TMP/inodes.after" | grep -c '^>')" = 1
check_status "  ... and back" 0 nm --datastore-dir "$A" apply --no-sync -f "$FIX/default-public-policies.v1.yaml"
nm --datastore-dir "$A" get gnp -o yaml >"$TMP/gnp.yaml"
nm --datastore-dir "$A" get hep -o yaml >"$TMP/hep.yaml"
nm --datastore-dir "$A" get felixconfiguration -o json >"$TMP/felix.json"
check_status "apply get -o yaml output" 0 nm --datastore-dir "$B" apply --no-sync -f "$TMP/gnp.yaml"
check_status "apply get -o yaml output (hep)" 0 nm --datastore-dir "$B" apply --no-sync -f "$TMP/hep.yaml"
check_status "apply get -o json output from stdin" 0 nm --datastore-dir "$B" apply --no-sync -f - <"$TMP/felix.json"
if [ "$(snapshot "$A" | sed 's/ .*\// /')" = "$(snapshot "$B" | sed 's/ .*\// /')" ] &&
   diff <(cd "$A" && find . -type f ! -name .lock | sort) <(cd "$B" && find . -type f ! -name .lock | sort) >/dev/null; then
	tap OK "round trip gives an identical datastore"
else
	tap FAIL "round trip gives an identical datastore"
fi
nm --datastore-dir "$B" get gnp -o yaml >"$TMP/gnp2.yaml"
if cmp -s "$TMP/gnp.yaml" "$TMP/gnp2.yaml"; then tap OK "get -o yaml is stable"; else tap FAIL "get -o yaml is stable"; fi

# get tables
check_status "get gnp -o wide" 0 nm --datastore-dir "$A" get gnp -o wide
expect "wide header" "$TMP/out" "^NAME +ORDER +SELECTOR$"
expect "wide row" "$TMP/out" "^allow-icmp +1700 +ibm.role in \{\"master_public\", \"worker_public\"\}$"
expect "absent order" "$TMP/out" "^deny-kube-node-port-services +<nil> +"
check_status "get hep" 0 nm --datastore-dir "$A" get hostendpoints
expect "hep row" "$TMP/out" "^worker-1.worker-1-public +worker-1$"
check_status "get one by alias" 0 nm --datastore-dir "$A" get GNP allow-vrrp -o json
expect "json body" "$TMP/out" "\"protocol\": 112"
check_status "get missing name" 1 nm --datastore-dir "$A" get gnp no-such

# A failed apply leaves the datastore byte for byte as it was.
snapshot "$A" >"$TMP/before"
cat "$FIX/tutorial-lb-policies.v3.yaml" >"$TMP/mixed.yaml"
printf -- '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: new-good}\nspec: {}\n' >>"$TMP/mixed.yaml"
printf -- '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: new-bad}\nspec: {order: x}\n' >>"$TMP/mixed.yaml"
check_status "apply with one bad document fails" 1 nm --datastore-dir "$A" apply --no-sync -f "$TMP/mixed.yaml"
snapshot "$A" >"$TMP/after"
if cmp -s "$TMP/before" "$TMP/after"; then tap OK "datastore unchanged"; else tap FAIL "datastore unchanged"; fi

# create / replace / delete
check_status "create existing fails" 1 nm --datastore-dir "$A" create --no-sync -f "$FIX/tutorial-lb-policies.v3.yaml"
expect "create message" "$TMP/err" "resource already exists: GlobalNetworkPolicy\(deny-nodeports\)"
check_status "replace missing fails" 1 nm --datastore-dir "$TMP/c" replace --no-sync -f "$FIX/tutorial-lb-policies.v3.yaml"
snapshot "$A" >"$TMP/after"
if cmp -s "$TMP/before" "$TMP/after"; then tap OK "failed create changed nothing"; else tap FAIL "failed create changed nothing"; fi
check_status "replace existing" 0 nm --datastore-dir "$A" replace --no-sync -f "$FIX/tutorial-lb-policies.v3.yaml"
check_status "delete by kind and name" 0 nm --datastore-dir "$A" delete --no-sync gnp whitelist
check_status "deleted is gone" 1 nm --datastore-dir "$A" get gnp whitelist
check_status "delete missing fails" 1 nm --datastore-dir "$A" delete --no-sync -f "$FIX/tutorial-lb-policies.v3.yaml"
check_status "delete file" 0 nm --datastore-dir "$A" delete --no-sync -f "$FIX/tutorial-lb-policies.v3.yaml" --skip-not-exists
expect "delete message" "$TMP/out" "^Successfully deleted 2 'GlobalNetworkPolicy' resource\(s\)$"

# With the file datastore a write syncs this node's kernel at once (here in
# a namespace of the test's own).
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	unshare -n sh -c '"$@" >"$0.out" 2>&1 && nft list table inet nftmgr >/dev/null' "$TMP/sync" \
		"$BIN" -c "$TMP/test.cfg" --node worker-1 --datastore-dir "$TMP/s" apply -f "$SRC/examples"
	if [ $? = 0 ] && grep -q "^Synced table inet nftmgr" "$TMP/sync.out"; then
		tap OK "apply syncs the kernel"
	else
		tap FAIL "apply syncs the kernel"
	fi
else
	tap_skip "apply syncs the kernel" "needs root and namespaces"
fi

# usage and configuration
check_status "no command is a usage error" 2 "$BIN"
check_status "unknown command" 2 "$BIN" frobnicate
check_status "prefix is not a command" 2 "$BIN" val -f x
check_status "apply needs -f" 2 nm apply
check_status "get --help" 0 nm get --help
check_status "apply takes no --namespace" 2 nm apply -n x -f "$SRC/examples"
check_status "delete takes no --skip-exists" 2 nm delete --skip-exists gnp x
check_status "delete of a missing resource fails" 1 nm --datastore-dir "$TMP/empty" delete gnp nothing-here
expect "  ... and says which" "$TMP/err" "^Failed to delete any 'GlobalNetworkPolicy' resources: resource does not exist: GlobalNetworkPolicy\(nothing-here\)$"
check_status "delete --skip-not-exists of a missing resource succeeds" 0 \
	nm --datastore-dir "$TMP/empty" delete --no-sync --skip-not-exists gnp nothing-here
expect "  ... deleting nothing" "$TMP/out" "^Successfully deleted 0 'GlobalNetworkPolicy' resource\(s\)$"
# explain and trace share their packet options and checks
check_status "explain: --src must be an address" 2 \
	nm explain -f "$SRC/examples" --in eth1 --src 10.0.0.0/8 --dst 10.0.0.1
check_status "explain: ports need tcp, udp or sctp" 2 \
	nm explain -f "$SRC/examples" --in eth1 --src 10.0.0.2 --dst 10.0.0.1 --proto icmp --dport 80
expect "  ... and says so" "$TMP/err" "^--sport and --dport need --proto tcp, udp or sctp$"
check_status "explain: one family" 2 \
	nm explain -f "$SRC/examples" --in eth1 --src 10.0.0.2 --dst 2001:db8::1
check_status "trace: a bad port value" 2 nm trace --proto tcp --dport 70000
expect "  ... is named" "$TMP/err" "^bad value '70000'$"
printf 'apiVersion: v1\nkind: calicoApiConfig\nmetadata:\nspec:\n  datastoreType: etcdv2\n' >"$TMP/v2.cfg"
check_status "etcdv2 without endpoints" 1 "$BIN" -c "$TMP/v2.cfg" get gnp
expect "etcdv2 message" "$TMP/err" "etcdv2 datastore client: etcdEndpoints is empty"
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec:\n  datastoreType: file\n  datastoreDir: %s\n' "$A" >"$TMP/file.cfg"
check_status "datastoreDir from config" 0 "$BIN" -c "$TMP/file.cfg" get gnp allow-icmp

# ---- patch, label, convert, custom columns (calicoctl's verbs) ----------------
P="$TMP/p"
nm --datastore-dir "$P" apply --no-sync -f "$SRC/examples" >/dev/null
np() { nm --datastore-dir "$P" "$@"; }
check_status "patch: strategic (the default), JSON" 0 np patch gnp allow-icmp --no-sync -p '{"spec":{"order":42}}'
expect "  ... calicoctl's message" "$TMP/out" "^Successfully patched 1 'GlobalNetworkPolicy' resource$"
np get gnp allow-icmp -o yaml >"$TMP/icmp.yaml"
expect "  ... stored" "$TMP/icmp.yaml" "^  order: 42$"
check_status "patch: merge, YAML" 0 np patch globalnetworkpolicy allow-icmp --no-sync -t merge \
	-p $'metadata:\n  labels: {tier: edge}\nspec:\n  order: 7'
np get gnp allow-icmp -o yaml >"$TMP/icmp.yaml"
expect "  ... both fields" "$TMP/icmp.yaml" "^    tier: edge$"
expect "  ... the order" "$TMP/icmp.yaml" "^  order: 7$"
check_status "patch: json (test, replace, add)" 0 np patch gnp allow-icmp --no-sync -t json -p \
	'[{"op":"test","path":"/spec/order","value":7},{"op":"replace","path":"/spec/order","value":8},{"op":"add","path":"/metadata/annotations","value":{"k":"v"}}]'
np get gnp allow-icmp -o yaml >"$TMP/icmp.yaml"
expect "  ... applied in order" "$TMP/icmp.yaml" "^  order: 8$"
snapshot "$P" >"$TMP/before"
check_status "patch: a failed test refuses the whole patch" 1 np patch gnp allow-icmp --no-sync -t json -p \
	'[{"op":"replace","path":"/spec/order","value":1},{"op":"test","path":"/spec/order","value":99}]'
expect "  ... naming the operation" "$TMP/err" "\[1\]: test /spec/order: the value differs"
check_status "patch: an invalid result is refused" 1 np patch gnp allow-icmp --no-sync -p '{"spec":{"selector":"a =="}}'
expect "  ... naming the field" "$TMP/err" "GlobalNetworkPolicy/allow-icmp: spec.selector: invalid selector"
check_status "patch: the name cannot change" 1 np patch gnp allow-icmp --no-sync -t merge -p '{"metadata":{"name":"x"}}'
check_status "patch: a missing path" 1 np patch gnp allow-icmp --no-sync -t json -p '[{"op":"remove","path":"/spec/nothing"}]'
check_status "patch: a missing resource" 1 np patch gnp nothing-here --no-sync -p '{}'
expect "  ... says so" "$TMP/err" "resource does not exist: GlobalNetworkPolicy\(nothing-here\)"
snapshot "$P" >"$TMP/after"
if cmp -s "$TMP/before" "$TMP/after"; then tap OK "refused patches changed nothing"; else tap FAIL "refused patches changed nothing"; fi
check_status "patch: a bad type is a usage error" 2 np patch gnp allow-icmp -t strategic-ish -p '{}'
check_status "patch: -p is required" 2 np patch gnp allow-icmp

check_status "label: set" 0 np label gnp allow-icmp team=net --no-sync
expect "  ... calicoctl's message" "$TMP/out" "^Successfully set label team on gnp allow-icmp$"
check_status "label: an existing key needs --overwrite" 1 np label gnp allow-icmp team=sec --no-sync
expect "  ... says so" "$TMP/err" "key team is already present. please use '--overwrite'"
check_status "label: the same value needs none" 0 np label gnp allow-icmp team=net --no-sync
check_status "label: --overwrite" 0 np label gnp allow-icmp team=sec --overwrite --no-sync
expect "  ... updated" "$TMP/out" "^Successfully updated label team on gnp allow-icmp$"
np get gnp allow-icmp -o custom-columns=NAME,LABELS >"$TMP/labels"
expect "  ... stored" "$TMP/labels" "team=sec"
check_status "label: --remove" 0 np label gnp allow-icmp team --remove --no-sync
expect "  ... removed" "$TMP/out" "^Successfully removed label team from gnp allow-icmp$"
check_status "label: removing a missing key fails" 1 np label gnp allow-icmp team --remove --no-sync
expect "  ... says so" "$TMP/err" "cannot remove label of gnp allow-icmp, key team does not exist"
check_status "label: Calico's label syntax" 1 np label gnp allow-icmp 'bad key!=x' --no-sync
check_status "label: KEY=VALUE wanted" 2 np label gnp allow-icmp team --no-sync
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec:\n  datastoreType: file\n  datastoreDir: %s\n' "$P" >"$TMP/p.cfg"
check_status "calicoctl's command line: -c after the verb" 0 \
	"$BIN" label gnp allow-icmp from=calicoctl --no-sync -c "$TMP/p.cfg"
check_status "  ... and --config= with patch --patch= --type=" 0 \
	"$BIN" patch gnp allow-icmp --patch='{"spec":{"order":9}}' --type=merge --no-sync --config="$TMP/p.cfg"
np get gnp allow-icmp -o custom-columns=ORDER,LABELS >"$TMP/labels"
expect "  ... both in the store given by the config" "$TMP/labels" "^9 +from=calicoctl"

# convert: exactly the conversion nftmgr applies when loading, so the
# converted file exports the same ruleset as the original.
same=0 total=0
for f in "$FIX"/*.yaml "$SRC"/tests/netns/cases/*.yaml "$SRC"/tests/netns/matrix/*.yaml; do
	grep -q '^kind:' "$f" || continue
	total=$((total + 1))
	"$BIN" convert -f "$f" >"$TMP/conv.yaml" 2>"$TMP/conv.err" || continue
	"$BIN" --node worker-1 export -f "$SRC/tests/netns/common" -f "$f" \
		--local-address eth1=203.0.113.10 >"$TMP/x1.nft" 2>/dev/null
	"$BIN" --node worker-1 export -f "$SRC/tests/netns/common" -f "$TMP/conv.yaml" \
		--local-address eth1=203.0.113.10 >"$TMP/x2.nft" 2>/dev/null
	cmp -s "$TMP/x1.nft" "$TMP/x2.nft" && ! grep -q '^apiVersion: v1$\|^apiVersion: networking' \
		"$TMP/conv.yaml" && same=$((same + 1))
done
if [ "$same" = "$total" ] && [ "$total" -gt 30 ]; then
	tap OK "convert: all $total v1/v3/Kubernetes files export as their conversion does"
else
	tap FAIL "convert: $same of $total files export as their conversion does"
fi
check_status "convert: the seed's v1 policy" 0 "$BIN" convert -f "$FIX/seed-deny-kube-node-port-services.v1.yaml"
expect "  ... as v3" "$TMP/out" "^apiVersion: projectcalico.org/v3$"
check_status "convert -o json" 0 "$BIN" convert -o json -f "$FIX/default-public-policies.v1.yaml"
expect "  ... a List" "$TMP/out" '"kind": "GlobalNetworkPolicyList"'
printf 'apiVersion: v1\nkind: policy\nmetadata: {name: good}\nspec: {selector: a == "b"}\n---\napiVersion: v1\nkind: policy\nmetadata: {name: bad}\nspec: {selector: a ==}\n' >"$TMP/half.yaml"
check_status "convert: an invalid resource prints nothing" 1 "$BIN" convert -f "$TMP/half.yaml"
expect "  ... and is located" "$TMP/err" "half.yaml:[0-9]+:[0-9]+: .*spec.selector"
if [ ! -s "$TMP/out" ]; then tap OK "  ... stdout empty"; else tap FAIL "  ... stdout empty"; fi
check_status "convert --ignore-validation prints the others, exit 1" 1 "$BIN" convert --ignore-validation -f "$TMP/half.yaml"
expect "  ... the good one" "$TMP/out" "^  name: good$"
check_status "convert: bad output format" 2 "$BIN" convert -o xml -f "$TMP/half.yaml"

check_status "get -o custom-columns" 0 np get gnp -o custom-columns=NAME,ORDER,types,tier
expect "  ... headings" "$TMP/out" "^NAME +ORDER +TYPES +TIER *$"
expect "  ... a row" "$TMP/out" "^allow-all-outbound +2000 +Egress +default *$"
expect "  ... no order" "$TMP/out" "^deny-kube-node-port-services +<nil> +Ingress +default *$"
check_status "custom-columns: any field by its upper-case name" 0 np get hep -o custom-columns=NAME,INTERFACENAME,IPS,NODE
expect "  ... a host endpoint" "$TMP/out" "^worker-1.worker-1-public +eth1 +203.0.113.10 +worker-1 *$"
check_status "custom-columns: a field no resource sets is empty" 0 np get gnp allow-icmp -o custom-columns=NAME,DONOTTRACK
check_status "custom-columns: an unknown heading" 1 np get gnp -o custom-columns=NAME,BOGUS
expect "  ... calicoctl's message" "$TMP/err" "^unknown heading BOGUS, valid values are"
check_status "custom-columns: none" 2 np get gnp -o custom-columns=

# services: accepted as Calico does, and match nothing (Felix learns a
# Service's endpoints only from the Kubernetes datastore)
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: to-svc}\nspec:\n  selector: ibm.role == "worker_public"\n  types: [Egress]\n  egress:\n  - {action: Allow, destination: {services: {name: web, namespace: prod}}}\n  - {action: Deny, protocol: UDP}\n' >"$TMP/svc.yaml"
check_status "a services rule validates" 0 nm validate -f "$TMP/svc.yaml"
check_status "  ... and exports" 0 nm --node worker-1 export -f "$TMP/svc.yaml" -f "$FIX/public-host-endpoint.v1.yaml" --local-address eth1=203.0.113.10
check "  ... as no rule at all (the Deny after it is there)" sh -c "grep -q 'policy to-svc egress rule 1' $TMP/out && ! grep -q 'policy to-svc egress rule 0' $TMP/out"

# http: accepted as Calico accepts it, enforced at L3/L4 only, as Felix
# does without an L7 proxy (and printed back)
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: web-get}\nspec:\n  selector: ibm.role == "worker_public"\n  ingress:\n  - {action: Allow, protocol: TCP, destination: {ports: [8080]}, http: {methods: [GET], paths: [{prefix: /api}]}}\n' >"$TMP/http.yaml"
check_status "an http rule validates" 0 nm validate -f "$TMP/http.yaml"
check_status "  ... and exports" 0 nm --node worker-1 export -f "$TMP/http.yaml" -f "$FIX/public-host-endpoint.v1.yaml" --local-address eth1=203.0.113.10
expect "  ... as its L4 part" "$TMP/out" "dport 8080 counter accept comment \"policy web-get ingress rule 0\""
check_status "  ... and prints back with its http" 0 "$BIN" convert -f "$TMP/http.yaml" -o json
expect "  ... the match" "$TMP/out" "\"prefix\": \"/api\""

# the input limit: configurable, and named when exceeded
python3 -c '
print("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: many}\nspec:\n  nets:")
for i in range(6000):
    print("  - 10.%d.%d.0/24" % (i // 256, i % 256))' >"$TMP/big.yaml"
check_status "an input over NFTMGR_MAX_INPUT (64K) is refused" 1 env NFTMGR_MAX_INPUT=64K "$BIN" validate -f "$TMP/big.yaml"
expect "  ... naming the variable" "$TMP/err" "NFTMGR_MAX_INPUT"
check_status "  ... and accepted under a larger one (1M)" 0 env NFTMGR_MAX_INPUT=1M "$BIN" validate -f "$TMP/big.yaml"

# --- tiers and staged policies ----------------------------------------------
TD="$TMP/tiers-store"
# a 3.31 cluster's manifests (tier-prefixed names, the old tier names) and a
# 3.32 one's (bare names) apply unchanged
cat >"$TMP/tiers-331.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100, defaultAction: Deny}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.block-2222}
spec:
  tier: security
  order: 10
  selector: ibm.role == 'worker_public'
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [2222]}}, {action: Pass}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: adminnetworkpolicy.ops, namespace: prod}
spec:
  tier: adminnetworkpolicy
  selector: all()
  ingress: [{action: Pass}]
YAML
cat >"$TMP/tiers-332.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: platform}
spec: {order: 200, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-9090}
spec:
  tier: platform
  selector: ibm.role == 'worker_public'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [9090]}}]
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: allow-icmp}
spec: {stagedAction: Delete}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: open-8080}
spec:
  tier: platform
  selector: ibm.role == 'worker_public'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
YAML
check_status "a 3.31 cluster's tiered manifests apply" 0 nm --datastore-dir "$TD" apply --no-sync -f "$TMP/tiers-331.yaml"
check_status "a 3.32 cluster's (bare names, staged policies) apply" 0 nm --datastore-dir "$TD" apply --no-sync -f "$TMP/tiers-332.yaml"
check "  ... the Tier under Calico's key" test -f "$TD/calico/resources/v3/projectcalico.org/tiers/security"
check "  ... a tiered 3.31 name stored as it is" test -f "$TD/calico/resources/v3/projectcalico.org/globalnetworkpolicies/security.block-2222"
check "  ... a staged policy under its own plural" test -f "$TD/calico/resources/v3/projectcalico.org/stagedglobalnetworkpolicies/default.open-8080"
check_status "get tier -o wide" 0 nm --datastore-dir "$TD" get tier -o wide
expect "  ... heading" "$TMP/out" "^NAME +ORDER +DEFAULTACTION *$"
expect "  ... the reserved default tier, never written" "$TMP/out" "^default +1000000 +Deny *$"
expect "  ... kube-admin" "$TMP/out" "^kube-admin +1000 +Pass *$"
expect "  ... kube-baseline" "$TMP/out" "^kube-baseline +10000000 +Pass *$"
expect "  ... a written one" "$TMP/out" "^security +100 +Deny *$"
check_status "get np: the 3.31 tier name is kube-admin" 0 nm --datastore-dir "$TD" get np -n prod -o yaml
expect "  ... spec.tier" "$TMP/out" "^  tier: kube-admin$"
check_status "get sgnp -o wide" 0 nm --datastore-dir "$TD" get sgnp -o wide
expect "  ... a staged Delete" "$TMP/out" "^allow-icmp +default +<nil> +all\(\) +Delete *$"
expect "  ... a staged Set" "$TMP/out" "^open-8080 +platform +<nil> +ibm.role == \"worker_public\" +Set *$"
before=$(snapshot "$TD")
check_status "delete a tier a policy is in: refused" 1 nm --datastore-dir "$TD" delete tier security
expect "  ... naming the policy" "$TMP/err" "^Failed to delete 'Tier' resource security: GlobalNetworkPolicy security.block-2222 is in it$"
check_status "delete a reserved tier: refused" 1 nm --datastore-dir "$TD" delete tier kube-admin
expect "  ... saying so" "$TMP/err" "a reserved tier cannot be deleted"
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: x}\nspec: {tier: nope}\n' >"$TMP/notier.yaml"
check_status "a policy in a tier that does not exist: refused" 1 nm --datastore-dir "$TD" apply --no-sync -f "$TMP/notier.yaml"
expect "  ... saying which" "$TMP/err" "tier \"nope\" does not exist"
check "  ... the store as it was" test "$before" = "$(snapshot "$TD")"
check_status "the policy and its tier deleted together" 0 nm --datastore-dir "$TD" delete --no-sync -f "$TMP/tiers-331.yaml"
nm --datastore-dir "$TD" apply --no-sync -f "$FIX/default-public-policies.v1.yaml" >/dev/null 2>&1
nm --datastore-dir "$TD" apply --no-sync -f "$FIX/public-host-endpoint.v1.yaml" >/dev/null 2>&1
xp() { nm --datastore-dir "$TD" --node worker-1 explain --local-address eth1=203.0.113.10 --in eth1 --src 203.0.113.7 --dst 203.0.113.10 "$@"; }
check_status "explain names a deciding policy's tier" 0 xp --proto tcp --dport 9090
expect "  ... in its rule" "$TMP/out" "^verdict: accept, by policy allow-9090 ingress rule 0 \(tier platform\) in chain filter-in-eth1.tier-platform$"
expect "  ... and the tiers on the way" "$TMP/out" "tier platform$"
check_status "explain --staged: 8080 today and with the staged policies" 0 xp --staged --proto tcp --dport 8080
expect "  ... today: dropped" "$TMP/out" "^verdict: drop, by end of tier default in chain filter-in-eth1.tier-default$"
expect "  ... staged: allowed by the staged policy" "$TMP/out" "^verdict: accept, by policy open-8080 ingress rule 0 \(tier platform\)"
expect "  ... side by side" "$TMP/out" "^staged: drop -> accept \(changes\)$"
check_status "explain --staged: a staged Delete removes the enforced policy" 0 xp --staged --proto icmp --icmp-type 8
expect "  ... side by side" "$TMP/out" "^staged: accept -> drop \(changes\)$"
cat >"$TMP/sknp.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x}}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: worker--1-k8s-a-eth0, namespace: x}
spec: {node: worker-1, orchestrator: k8s, pod: a, endpoint: eth0, interfaceName: calixa, ipNetworks: [10.244.1.2/32], profiles: [kns.x]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata: {name: deny-all, namespace: x}
spec:
  stagedAction: Set
  podSelector: {}
  ingress: [{ports: [{port: 80}]}]
YAML
TK="$TMP/sknp-store"
check_status "a StagedKubernetesNetworkPolicy applies" 0 nm --datastore-dir "$TK" apply --no-sync -f "$TMP/sknp.yaml"
check "  ... under its own plural, by its own name" test -f "$TK/calico/resources/v3/projectcalico.org/stagedkubernetesnetworkpolicies/x/deny-all"
check_status "  ... and prints back as written" 0 nm --datastore-dir "$TK" get sknp deny-all -n x -o yaml
expect "  ... its Kubernetes spec" "$TMP/out" "^  podSelector: \{\}$"
check_status "explain --staged: the staged Kubernetes policy replaces knp.default.<name>" 0 \
	nm --datastore-dir "$TK" --node worker-1 explain --staged --in eth0 --out calixa --src 192.0.2.9 --dst 10.244.1.2 --proto tcp --dport 80
expect "  ... drop today, accept staged" "$TMP/out" "^staged: drop -> accept \(changes\)$"

tap_done
