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
check_status "etcdv2 refused" 1 "$BIN" -c "$TMP/v2.cfg" get gnp
expect "etcdv2 message" "$TMP/err" "only Calico's v3 API"
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec:\n  datastoreType: file\n  datastoreDir: %s\n' "$A" >"$TMP/file.cfg"
check_status "datastoreDir from config" 0 "$BIN" -c "$TMP/file.cfg" get gnp allow-icmp

tap_done
