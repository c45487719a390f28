#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nftmgr against a real etcd (Debian's etcd-server), started here on the
# loopback of a network namespace of the test's own, data in a temp dir:
# the CLI writes what calicoctl writes and reads what it wrote, writes are
# all-or-nothing; a running daemon enforces keys written with etcdctl in
# Calico's layout (checked with real traffic from a client namespace),
# coalesces bursts, keeps the rules through an etcd outage, re-lists after
# a compaction, skips an invalid value; TLS with client certificates and
# user/password auth work and a wrong CA is refused clearly. TAP output.
set -u

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
PROBE=${PROBE_BIN:?}

. "$(dirname "$0")/../lib.sh"

need_netns
need_cmd etcd etcdctl openssl	# Debian: etcd-server etcd-client openssl

C=nsc-$$ N=nsn-$$

P=/calico/resources/v3/projectcalico.org
EP=http://127.0.0.1:23790
in_n() { ip netns exec "$N" "$@"; }
ectl() { in_n etcdctl --endpoints "$EP" "$@"; }
nm() { in_n env ETCD_ENDPOINTS="$EP" "$BIN" -c "$T/none.cfg" --node worker-1 "$@"; }
open_port() { ip netns exec "$C" "$PROBE" tcp 203.0.113.10 "$1" 300; }
closed_port() { ! open_port "$1"; }

# etcd_start NAME CLIENT-PORT PEER-PORT [ARGS...]: a one-member cluster
etcd_start() {
	local name=$1 cport=$2 pport=$3 scheme=http
	shift 3
	case "$*" in *--cert-file*) scheme=https ;; esac
	# exec: $! must be etcd itself, not a subshell around it
	(exec ip netns exec "$N" etcd --name "$name" --data-dir "$T/$name" \
		--listen-client-urls "$scheme://127.0.0.1:$cport" \
		--advertise-client-urls "$scheme://127.0.0.1:$cport" \
		--listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "$name=http://127.0.0.1:$pport" "$@" \
		>>"$T/$name.log" 2>&1) &
	echo $!
}

netns_add "$C" && netns_add "$N"
ip -n "$N" link add eth1 type veth peer name eth0 netns "$C"
ip -n "$N" addr add 203.0.113.10/24 dev eth1
ip -n "$C" addr add 203.0.113.1/24 dev eth0
for x in "$N eth1" "$C eth0" "$N lo" "$C lo"; do set -- $x; ip -n "$1" link set "$2" up; done
ip netns exec "$N" "$PROBE" listen tcp:8080 tcp:9090 tcp:9091 >/dev/null &
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec: {}\n' >"$T/none.cfg"

etcd_pid=$(etcd_start e1 23790 23800)
until_ok 10 ectl endpoint health || { echo "Bail out! etcd did not start"; cat "$T/e1.log"; exit 1; }

# --- the CLI on etcd ----------------------------------------------------
nm apply -f "$SRC/tests/netns/common/hep.yaml" >"$T/out" 2>&1
check "apply writes a HostEndpoint into etcd under Calico's key" \
	sh -c "ip netns exec $N etcdctl --endpoints $EP get $P/hostendpoints/worker-1-public --print-value-only | grep -q '\"interfaceName\":\"eth1\"'"
check "the stored value carries a uid and a creationTimestamp, as calicoctl's do" \
	sh -c "ip netns exec $N etcdctl --endpoints $EP get $P/hostendpoints/worker-1-public --print-value-only | grep -q '\"uid\":\"[0-9a-f-]\{36\}\",\"creationTimestamp\":\"20'"
ectl put "$P/globalnetworkpolicies/default.allow-8080" "$(cat "$SRC/tests/etcd/calicoctl-gnp.json")" >/dev/null
nm get gnp >"$T/out" 2>&1
check "get reads a policy written in calicoctl's layout (default.<name>)" grep -qx "allow-8080" "$T/out"
nm apply -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null 2>&1
uid=$(ectl get "$P/globalnetworkpolicies/default.allow-8080" --print-value-only | grep -o '"uid":"[^"]*"')
check "apply over an existing policy keeps its uid" test "$uid" = '"uid":"6ae3c9f7-1b2e-4d55-9a57-3c0e8e0f1f10"'
check "a policy is stored as default.<name>" \
	sh -c "ip netns exec $N etcdctl --endpoints $EP get --prefix $P/globalnetworkpolicies/ --keys-only | grep -qx '$P/globalnetworkpolicies/default.allow-8080'"

# Tiers: the Tier under Calico's key; a 3.31 key (<tier>.<name>) and a
# 3.32 bare key both read; a tier in use is not deleted.
cat >"$T/tier.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: security.staged}
spec: {tier: security, selector: all()}
EOF
nm apply -f "$T/tier.yaml" >"$T/out" 2>&1
check "apply writes a Tier under .../tiers/<name>" \
	sh -c "ip netns exec $N etcdctl --endpoints $EP get $P/tiers/security --print-value-only | grep -q '\"order\":100'"
check "  ... and a staged policy under .../stagedglobalnetworkpolicies/" \
	sh -c "ip netns exec $N etcdctl --endpoints $EP get $P/stagedglobalnetworkpolicies/security.staged --keys-only | grep -q ."
ectl put "$P/globalnetworkpolicies/bare-332" '{"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"bare-332"},"spec":{"tier":"security","selector":"all()","types":["Ingress"]}}' >/dev/null
ectl put "$P/globalnetworkpolicies/security.prefixed-331" '{"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"security.prefixed-331"},"spec":{"tier":"security","selector":"all()","types":["Ingress"]}}' >/dev/null
nm get gnp -o custom-columns=NAME,TIER >"$T/out" 2>&1
check "get reads a 3.32 bare key and a 3.31 tier-prefixed key" \
	sh -c "grep -qE '^bare-332 +security' $T/out && grep -qE '^security.prefixed-331 +security' $T/out"
nm get tier -o wide >"$T/out" 2>&1
check "get tier: the written one and the reserved ones" \
	sh -c "grep -qE '^security +100 +Deny' $T/out && grep -qE '^kube-admin +1000 +Pass' $T/out"
nm delete tier security >"$T/out" 2>&1
check "delete of a tier policies are in is refused" grep -q 'is in it' "$T/out"
ectl del "$P/globalnetworkpolicies/bare-332" >/dev/null
ectl del "$P/globalnetworkpolicies/security.prefixed-331" >/dev/null
nm delete -f "$T/tier.yaml" >/dev/null 2>&1
check "  ... and done once none is" sh -c "! ip netns exec $N etcdctl --endpoints $EP get $P/tiers/security --keys-only | grep -q ."
cat >"$T/anp.yaml" <<'EOF'
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: guard}
spec:
  priority: 5
  subject: {namespaces: {matchLabels: {ns: x}}}
  ingress: [{action: Deny, from: [{namespaces: {matchLabels: {ns: z}}}]}]
EOF
nm apply -f "$T/anp.yaml" >/dev/null 2>&1
check "an AdminNetworkPolicy is stored converted, in tier kube-admin" \
	sh -c "ip netns exec $N etcdctl --endpoints $EP get $P/globalnetworkpolicies/kanp.adminnetworkpolicy.guard --print-value-only | grep -q '\"tier\":\"kube-admin\"'"
nm delete -f "$T/anp.yaml" >/dev/null 2>&1

keys_before=$(ectl get --prefix /calico --keys-only | grep -c .)
cat >"$T/two.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: new-one}
spec: {order: 10, ingress: [{action: Allow, protocol: TCP, destination: {ports: [7000]}}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-8080}
spec: {order: 10, ingress: [{action: Allow, protocol: TCP, destination: {ports: [7001]}}]}
EOF
nm create -f "$T/two.yaml" >"$T/out" 2>&1
rc=$?
keys_after=$(ectl get --prefix /calico --keys-only | grep -c .)
check "create of two resources, one existing, fails and writes neither (exit $rc)" \
	test "$rc" = 1 -a "$keys_before" = "$keys_after"
check "  ... saying which one exists" grep -q "already exists: GlobalNetworkPolicy(allow-8080)" "$T/out"
printf -- '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: bad}\nspec: {order: x}\n' >>"$T/two.yaml"
nm apply -f "$T/two.yaml" >"$T/out" 2>&1
rc=$?
keys_after=$(ectl get --prefix /calico --keys-only | grep -c .)
check "apply with one invalid document writes nothing (exit $rc)" \
	test "$rc" = 1 -a "$keys_before" = "$keys_after"
check "  ... and locates the problem" grep -q "two.yaml:[0-9]*:[0-9]*: .*spec.order" "$T/out"
head -n 9 "$T/two.yaml" >"$T/ok.yaml"
nm apply -f "$T/ok.yaml" >"$T/out" 2>&1
keys_after=$(ectl get --prefix /calico --keys-only | grep -c .)
check "apply of two valid documents writes both in one transaction" \
	sh -c "grep -q 'Successfully applied 2' $T/out && test $keys_after = $((keys_before + 1))"
nm delete gnp new-one >/dev/null 2>&1
nm apply -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null 2>&1
nm delete gnp no-such >"$T/out" 2>&1
check "delete of a missing policy fails with calicoctl's message" \
	grep -q "resource does not exist: GlobalNetworkPolicy(no-such)" "$T/out"
# More resources than etcd's default --max-txn-ops (128) in one apply: in
# transactions of 128, all of them stored; deleted again the same way.
for i in $(seq 300); do
	printf -- '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: many-%d}\nspec: {nets: [10.%d.%d.0/24]}\n' "$i" $((i / 256)) $((i % 256))
done >"$T/many.yaml"
many() { ectl get --prefix /calico/resources/v3/projectcalico.org/globalnetworksets/ --keys-only | grep -c many-; }
nm apply --no-sync -f "$T/many.yaml" >"$T/out" 2>&1
n_many=$(many)
check "apply of 300 resources to an etcd allowing 128 operations per transaction stores all 300 ($n_many)" \
	sh -c "grep -q 'Successfully applied 300' $T/out && test $n_many = 300"
nm delete --no-sync -f "$T/many.yaml" >"$T/out" 2>&1
n_many=$(many)
check "  ... and delete of the 300 removes them all ($n_many left)" \
	sh -c "grep -q 'Successfully deleted 300' $T/out && test $n_many = 0"
# patch and label on etcd: the put is conditioned on the revision read.
nm patch gnp allow-8080 -p '{"spec":{"order":123}}' >"$T/out" 2>&1
check "patch on etcd writes the patched policy (order 123)" \
	sh -c "grep -q \"Successfully patched 1 'GlobalNetworkPolicy' resource\" $T/out && ip netns exec $N etcdctl --endpoints $EP get $P/globalnetworkpolicies/default.allow-8080 --print-value-only | grep -q '\"order\":123'"
nm label gnp allow-8080 owner=net >"$T/out" 2>&1
check "label on etcd sets the label" \
	sh -c "ip netns exec $N etcdctl --endpoints $EP get $P/globalnetworkpolicies/default.allow-8080 --print-value-only | grep -q '\"owner\":\"net\"'"
nm get gnp -o custom-columns=NAME,ORDER,LABELS >"$T/out" 2>&1
check "get -o custom-columns on etcd" grep -Eq '^allow-8080 +123 +owner=net *$' "$T/out"
nm label gnp allow-8080 owner --remove >"$T/out" 2>&1
check "label --remove on etcd" \
	sh -c "grep -q 'Successfully removed label owner' $T/out && ! ip netns exec $N etcdctl --endpoints $EP get $P/globalnetworkpolicies/default.allow-8080 --print-value-only | grep -q owner"
# Sixteen labels at once, each by its own process: every one that said it
# succeeded is stored; the others were told of the conflict. None lost.
pids=()
for i in $(seq 16); do
	nm label gnp allow-8080 "k$i=v$i" >"$T/l$i.out" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
ok_n=0 lost=0 conflicts=0
stored=$(ectl get "$P/globalnetworkpolicies/default.allow-8080" --print-value-only)
for i in $(seq 16); do
	if grep -q "^Successfully set label k$i" "$T/l$i.out"; then
		ok_n=$((ok_n + 1))
		grep -q "\"k$i\":\"v$i\"" <<<"$stored" || lost=$((lost + 1))
	elif grep -q "update conflict" "$T/l$i.out"; then
		conflicts=$((conflicts + 1))
	fi
done
check "16 concurrent labels on etcd: $ok_n stored, $conflicts told of a conflict, $lost lost" \
	test "$lost" = 0 -a "$ok_n" -ge 1 -a $((ok_n + conflicts)) = 16
# The same against the file datastore: the lock serialises them, all stored.
"$BIN" -c "$T/none.cfg" --datastore-dir "$T/fstore" apply --no-sync -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null 2>&1
pids=()
for i in $(seq 16); do
	"$BIN" -c "$T/none.cfg" --datastore-dir "$T/fstore" label gnp allow-8080 "k$i=v$i" --no-sync \
		>"$T/f$i.out" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
n_labels=$("$BIN" -c "$T/none.cfg" --datastore-dir "$T/fstore" get gnp allow-8080 -o yaml | grep -c '^    k[0-9]*: v')
check "16 concurrent labels on the file datastore: all 16 stored ($n_labels)" test "$n_labels" = 16
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  etcdEndpoints: http://127.0.0.1:23797,%s\n' "$EP" >"$T/failover.cfg"
in_n "$BIN" -c "$T/failover.cfg" get gnp >"$T/out" 2>&1
check "a dead first endpoint fails over to the next (datastoreType implied by etcdEndpoints)" \
	grep -qx "allow-8080" "$T/out"
in_n env ETCD_ENDPOINTS=http://127.0.0.1:23797 "$BIN" -c "$T/none.cfg" get gnp >"$T/out" 2>&1
rc=$?
check "no endpoint reachable: exit 1 and curl's reason (exit $rc)" \
	sh -c "test $rc = 1 && grep -q \"127.0.0.1:23797.*connect\" $T/out"

# --- the daemon -----------------------------------------------------------
# etcd unreachable at start: READY=1 all the same (no systemd restart loop),
# with a STATUS= saying why, and nothing committed.
ip netns exec "$N" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode(), flush=True)' "$T/notify-down" >"$T/notify-down.txt" &
npid=$!
until_ok 3 test -S "$T/notify-down"
ip netns exec "$N" env ETCD_ENDPOINTS=http://127.0.0.1:23797 NOTIFY_SOCKET="$T/notify-down" \
	"$BIN" -c "$T/none.cfg" --node worker-1 daemon 2>/dev/null &
down_pid=$!
check "etcd unreachable at start: READY=1 with STATUS=waiting for etcd, nothing committed" \
	until_ok 5 sh -c "grep -q '^READY=1' $T/notify-down.txt && grep -q '^STATUS=waiting for etcd' $T/notify-down.txt && ! ip netns exec $N nft list table inet nftmgr"
kill "$down_pid" "$npid" 2>/dev/null
wait "$down_pid" "$npid" 2>/dev/null
ectl del "$P/globalnetworkpolicies/default.allow-8080" >/dev/null
ip netns exec "$N" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode(), flush=True)' "$T/notify" >"$T/notify.txt" &
until_ok 3 test -S "$T/notify"
mkdir -p "$T/state"
ip netns exec "$N" env ETCD_ENDPOINTS="$EP" NOTIFY_SOCKET="$T/notify" DATASTORE_DIR="$T/state" "$BIN" -c "$T/none.cfg" \
	--node worker-1 daemon --metrics-address 127.0.0.1:9108 2>"$T/daemon.log" &
dpid=$!
check "the daemon commits at start: the endpoint is guarded, 8080 closed" \
	until_ok 5 sh -c "ip netns exec $N nft list chain inet nftmgr filter-in-eth1 >/dev/null 2>&1 && ! ip netns exec $C $PROBE tcp 203.0.113.10 8080 300"
check "READY=1 after the first commit, then STATUS= lines" \
	until_ok 3 sh -c "grep -q '^READY=1' $T/notify.txt && grep -q '^STATUS=table inet nftmgr in sync' $T/notify.txt"
ectl put "$P/globalnetworkpolicies/default.allow-8080" "$(cat "$SRC/tests/etcd/calicoctl-gnp.json")" >/dev/null
check "a policy put with etcdctl in Calico's layout opens 8080" until_ok 3 open_port 8080
check "  ... and 9090 stays closed" closed_port 9090
ectl del "$P/globalnetworkpolicies/default.allow-8080" >/dev/null
check "deleting the key closes 8080 again" until_ok 3 closed_port 8080

ectl put "$P/globalnetworkpolicies/default.broken" '{"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"default.broken"},"spec":{"order":"first"}}' >/dev/null
ectl put "$P/globalnetworkpolicies/default.allow-8080" "$(cat "$SRC/tests/etcd/calicoctl-gnp.json")" >/dev/null
check "an invalid value written into etcd is skipped; the rest still applies" until_ok 3 open_port 8080
check "  ... and reported with its key and field" \
	grep -q "skipped: $P/globalnetworkpolicies/default.broken: .*spec.order" "$T/daemon.log"
ectl del "$P/globalnetworkpolicies/default.broken" >/dev/null
kill -HUP "$dpid"
check "SIGHUP: the configuration is read again and etcd listed again" \
	until_ok 5 grep -q "re-list (revision [0-9]*): " "$T/daemon.log"
ectl del "$P/globalnetworkpolicies/default.allow-8080" >/dev/null
check "  ... and changes still arrive after it" until_ok 3 closed_port 8080
ectl put "$P/globalnetworkpolicies/default.allow-8080" "$(cat "$SRC/tests/etcd/calicoctl-gnp.json")" >/dev/null
until_ok 3 open_port 8080

# 500 puts in a burst, one process, as fast as etcd takes them
commits_before=$(grep -c 'change (revision [0-9]*): committed' "$T/daemon.log")
in_n python3 - "$EP" "$P" <<'PY' >/dev/null
import base64, json, sys, urllib.request
ep, p = sys.argv[1], sys.argv[2]
b = lambda s: base64.b64encode(s.encode()).decode()
for i in range(500):
    port = 20000 + i % 250
    pol = {"kind": "GlobalNetworkPolicy", "apiVersion": "projectcalico.org/v3",
           "metadata": {"name": "default.burst-%d" % (i % 250)},
           "spec": {"order": 500 + i % 250, "selector": "ibm.role == 'worker_public'",
                    "ingress": [{"action": "Allow", "protocol": "TCP",
                                 "destination": {"ports": [port + (i // 250) * 1000]}}]}}
    req = urllib.request.Request(ep + "/v3/kv/put", json.dumps(
        {"key": b(p + "/globalnetworkpolicies/default.burst-%d" % (i % 250)),
         "value": b(json.dumps(pol))}).encode())
    urllib.request.urlopen(req).read()
PY
burst_final() {
	local got
	got=$(in_n nft list table inet nftmgr | grep -o 'policy burst-[0-9]* ingress rule 0' | sort -u | wc -l)
	[ "$got" = 250 ] && in_n nft list table inet nftmgr | grep -q 'dport 21249' &&
		! in_n nft list table inet nftmgr | grep -q 'dport 20249'
}
check "500 puts in a burst: all 250 policies in force, each at its last value" until_ok 10 burst_final
sleep 0.5
commits=$(( $(grep -c 'change (revision [0-9]*): committed' "$T/daemon.log") - commits_before ))
check "  ... in $commits commits, far fewer than 500" test "$commits" -ge 1 -a "$commits" -le 50
# more keys than one range page (500): get pages through them at one revision
in_n python3 - "$EP" "$P" <<'PY'
import base64, json, sys, urllib.request
ep, p = sys.argv[1], sys.argv[2]
b = lambda s: base64.b64encode(s.encode()).decode()
for i in range(250, 650):
    pol = {"kind": "GlobalNetworkPolicy", "apiVersion": "projectcalico.org/v3",
           "metadata": {"name": "default.burst-%d" % i},
           "spec": {"order": 900, "ingress": [{"action": "Deny"}]}}
    urllib.request.urlopen(urllib.request.Request(ep + "/v3/kv/put", json.dumps(
        {"key": b(p + "/globalnetworkpolicies/default.burst-%d" % i),
         "value": b(json.dumps(pol))}).encode())).read()
PY
check "get lists 650 policies, more than one page of 500" \
	sh -c "test \$(ip netns exec $N env ETCD_ENDPOINTS=$EP $BIN -c $T/none.cfg get gnp | grep -c '^burst-') = 650"
in_n python3 - "$EP" "$P" <<'PY'
import base64, json, sys, urllib.request
ep, p = sys.argv[1], sys.argv[2]
k = base64.b64encode((p + "/globalnetworkpolicies/default.burst-").encode()).decode()
e = base64.b64encode((p + "/globalnetworkpolicies/default.burst.").encode()).decode()
urllib.request.urlopen(urllib.request.Request(ep + "/v3/kv/deleterange",
    json.dumps({"key": k, "range_end": e}).encode())).read()
PY
check "a prefix delete of the 650 removes them all" \
	until_ok 10 sh -c "! ip netns exec $N nft list table inet nftmgr | grep -q 'policy burst-'"

# an outage: etcd stopped for 10 s, then started again
http() {	# http PATH: the status line's code, then the body
	ip netns exec "$N" python3 -c '
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen("http://127.0.0.1:9108" + sys.argv[1], timeout=3)
    print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())' "$1"
}
metric() {	# metric NAME: its value
	http /metrics | awk -v n="$1" '$1 == n { print $2 }'
}
healthy() { [ "$(http /livez | head -1)" = 200 ] && [ "$(http /readyz | head -1)" = 200 ]; }
check "metrics: /livez and /readyz answer 200 once the first commit is done" healthy
commits=$(metric nftmgr_commits_total)
metrics_ok() {
	[ "${commits:-0}" -ge 3 ] && [ "$(metric nftmgr_endpoints)" = 1 ] &&
		[ "$(metric nftmgr_datastore_connected)" = 1 ] &&
		[ "$(metric nftmgr_commit_duration_seconds_count)" -ge "$commits" ]
}
check "metrics: commits counted (${commits:-none}), one endpoint, datastore connected, a duration histogram" metrics_ok
stop_etcd() {
	kill "$1"
	until_ok 10 sh -c "! kill -0 $1"
}
stop_etcd "$etcd_pid"
held=0
for i in $(seq 10); do
	open_port 8080 && held=$((held + 1))
	sleep 0.7
done
check "etcd down for 10 s: the rules stayed in force ($held/10 probes open)" test "$held" = 10
check "  ... and the daemon said it lost etcd" grep -q "lost the etcd watch" "$T/daemon.log"
down_seen() {
	[ "$(http /readyz | head -1)" = 503 ] && [ "$(metric nftmgr_datastore_connected)" = 0 ] &&
		[ "$(http /livez | head -1)" = 200 ]
}
check "  ... /readyz said 503 and datastore_connected 0, while /livez stayed 200" down_seen
etcd_pid=$(etcd_start e1 23790 23800)
until_ok 10 ectl endpoint health
sed "s/allow-8080/allow-9090/; s/8080/9090/" "$SRC/tests/etcd/calicoctl-gnp.json" >"$T/gnp9090.json"
ectl put "$P/globalnetworkpolicies/default.allow-9090" "$(cat "$T/gnp9090.json")" >/dev/null
check "after the restart a new change arrives (9090 opens)" until_ok 15 open_port 9090
ready() { [ "$(http /readyz | head -1)" = 200 ]; }
check "  ... and /readyz is 200 again" until_ok 5 ready

# compaction past the daemon's revision: the daemon is stopped while etcd
# restarts (its watch breaks), a change is made and history compacted
kill -STOP "$dpid"
stop_etcd "$etcd_pid"
etcd_pid=$(etcd_start e1 23790 23800)
until_ok 10 ectl endpoint health
ectl del "$P/globalnetworkpolicies/default.allow-9090" >/dev/null
sed "s/allow-8080/allow-9091/; s/8080/9091/" "$SRC/tests/etcd/calicoctl-gnp.json" >"$T/gnp9091.json"
ectl put "$P/globalnetworkpolicies/default.allow-9091" "$(cat "$T/gnp9091.json")" >/dev/null
rev=$(ectl endpoint status -w json | grep -o '"revision":[0-9]*' | head -1 | cut -d: -f2)
ectl compaction --physical "$rev" >/dev/null
kill -CONT "$dpid"
check "a compacted revision makes the daemon list everything again" \
	until_ok 20 grep -q "compacted revision .* away; listing everything again" "$T/daemon.log"
check "  ... and the rules are right afterwards (9091 open, 9090 closed)" \
	until_ok 10 sh -c "ip netns exec $C $PROBE tcp 203.0.113.10 9091 300 && ! ip netns exec $C $PROBE tcp 203.0.113.10 9090 300"

kill -TERM "$dpid"
wait "$dpid"
rc=$?
check "SIGTERM: the daemon exits 0 (exit $rc) and leaves the rules in force" \
	sh -c "test $rc = 0 && ip netns exec $C $PROBE tcp 203.0.113.10 9091 300"
check "the log lines carry journald priorities" \
	sh -c "! grep -v '^<[0-7]>' $T/daemon.log | grep -q ."

# The last-known-good copy: what the daemon committed last, for sync --boot
# before the network (and so etcd) is up. Here: our table deleted, etcd
# unreachable, and the same table back from the copy alone.
lkg=$T/state/etcd-last-known-good.yaml
check "the daemon kept a last-known-good copy of what it committed (allow-9091 in it)" \
	sh -c "test -s $lkg && grep -q 'name: allow-9091' $lkg && ! test -e $lkg.tmp"
listing() { ip netns exec "$N" nft list table inet nftmgr | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'; }
listing >"$T/before-boot.nft"
ip netns exec "$N" nft delete table inet nftmgr
boot() { in_n env ETCD_ENDPOINTS=http://127.0.0.1:23797 DATASTORE_DIR="$1" "$BIN" -c "$T/none.cfg" --node worker-1 sync --boot; }
boot "$T/state" >"$T/out" 2>&1
rc=$?
listing >"$T/after-boot.nft"
check "sync --boot with etcd unreachable: the table back from the copy, as the daemon had it (exit $rc)" \
	sh -c "test $rc = 0 && cmp -s $T/before-boot.nft $T/after-boot.nft && ip netns exec $C $PROBE tcp 203.0.113.10 9091 300"
mkdir -p "$T/empty-state"
boot "$T/empty-state" >"$T/out" 2>&1
rc=$?
listing >"$T/after-empty.nft"
check "sync --boot without a copy yet: exit 0, says so, commits nothing (exit $rc)" \
	sh -c "test $rc = 0 && grep -q 'No last-known-good copy' $T/out && cmp -s $T/before-boot.nft $T/after-empty.nft"

# --- user and password -------------------------------------------------------
ectl user add root:rootpw >/dev/null
ectl user grant-role root root >/dev/null
ectl auth enable >/dev/null
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  etcdEndpoints: %s\n  etcdUsername: root\n  etcdPassword: %s\n' "$EP" rootpw >"$T/auth.cfg"
in_n "$BIN" -c "$T/auth.cfg" get gnp >"$T/out" 2>&1
check "user and password: a token is obtained and used" grep -qx "allow-9091" "$T/out"
sed -i 's/rootpw/wrong/' "$T/auth.cfg"
in_n "$BIN" -c "$T/auth.cfg" get gnp >"$T/out" 2>&1
rc=$?
check "a wrong password: exit 1 with etcd's reason (exit $rc)" \
	sh -c "test $rc = 1 && grep -q 'authentication failed' $T/out"

# --- TLS with client certificates ------------------------------------------
mkcert() {	# mkcert NAME CA-NAME [SAN]
	openssl req -new -newkey rsa:2048 -nodes -keyout "$T/$1.key" -subj "/CN=$1" \
		-out "$T/$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "${3:-DNS:$1}" >"$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.crt" -CAkey "$T/$2.key" -CAcreateserial \
		-days 2 -extfile "$T/$1.ext" -out "$T/$1.crt" 2>/dev/null
}
for ca in ca other-ca; do
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$ca.key" -subj "/CN=$ca" \
		-days 2 -out "$T/$ca.crt" 2>/dev/null
done
mkcert server ca IP:127.0.0.1
mkcert client ca
tls_pid=$(etcd_start e2 23791 23801 --cert-file "$T/server.crt" --key-file "$T/server.key" \
	--trusted-ca-file "$T/ca.crt" --client-cert-auth --enable-v2=true)
until_ok 10 in_n etcdctl --endpoints https://127.0.0.1:23791 --cacert "$T/ca.crt" \
	--cert "$T/client.crt" --key "$T/client.key" endpoint health
tls_cfg() {
	printf 'apiVersion: v1\nkind: calicoApiConfig\nmetadata: {}\nspec:\n  etcdEndpoints: https://127.0.0.1:23791\n  etcdCACertFile: %s\n  etcdCertFile: %s\n  etcdKeyFile: %s\n' \
		"$T/$1.crt" "$T/client.crt" "$T/client.key" >"$T/tls.cfg"
}
tls_cfg ca
in_n "$BIN" -c "$T/tls.cfg" apply -f "$SRC/tests/netns/cases/05-allow-port.yaml" >"$T/out" 2>&1
in_n "$BIN" -c "$T/tls.cfg" get gnp >>"$T/out" 2>&1
check "TLS with CA, client certificate and key (v1 calicoApiConfig): write and read" \
	grep -qx "allow-8080" "$T/out"
# the same TLS for Calico 2.6's data over the v2 API
in_n curl -sf --cacert "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key" -XPUT \
	https://127.0.0.1:23791/v2/keys/calico/v1/policy/tier/default/policy/tls-v2 \
	--data-urlencode 'value={"selector":"all()","types":["ingress"]}' >/dev/null
in_n env DATASTORE_TYPE=etcdv2 "$BIN" -c "$T/tls.cfg" get gnp >"$T/out" 2>&1
check "TLS with etcdv2 (Calico 2.6's keys over the v2 API): read" grep -qx "tls-v2" "$T/out"
tls_cfg other-ca
in_n "$BIN" -c "$T/tls.cfg" get gnp >"$T/out" 2>&1
rc=$?
check "a wrong CA is refused: exit 1, with the certificate problem named (exit $rc)" \
	sh -c "test $rc = 1 && grep -qi 'certificate' $T/out"
sed -n 's/^/# /p' "$T/out" | head -3
kill "$tls_pid" "$etcd_pid" 2>/dev/null

if [ "$failed" -gt 0 ]; then
	echo "# daemon log:"
	sed 's/^/#   /' "$T/daemon.log"
fi
tap_done
