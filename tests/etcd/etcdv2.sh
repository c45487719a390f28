#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Calico 2.6's datastore: a real etcd with its v2 API on (Debian's 3.4,
# --enable-v2) on the loopback of a namespace of the test's own, the seed
# cluster's keys written in Felix 2.6's layout with curl. The CLI reads
# them and refuses to write; a daemon on etcdv2 guards the node with real
# traffic (a NodePort closed before kube-proxy's DNAT, the failsafe port
# open, default deny), follows puts, deletes, a deleted directory, the
# Ready flag, an etcd outage and a cleared event window; then 'upgrade'
# dry-run (reports, a name that needs normalising, a tag-only rule),
# start, a second start refused, abort, start again, complete; the export
# from v3 equals the one from v2; and the daemon moves from v2 to v3 on
# SIGHUP while a prober checks the node all along. TAP output.
set -u

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
PROBE=${PROBE_BIN:?}

. "$(dirname "$0")/../lib.sh"

need_netns
need_cmd etcd etcdctl curl python3

C=n2c-$$ N=n2n-$$ POD=n2p-$$
EP=http://127.0.0.1:23990
V2=$EP/v2/keys
P3=/calico/resources/v3/projectcalico.org
in_n() { ip netns exec "$N" "$@"; }
put2() { in_n curl -sf -XPUT "$V2$1" --data-urlencode "value=$2" >/dev/null; }
del2() { in_n curl -sf -XDELETE "$V2$1${2:+?$2}" >/dev/null; }
get2() { in_n curl -sf "$V2$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["node"]["value"])'; }
ectl() { in_n etcdctl --endpoints "$EP" "$@"; }
nm() { in_n "$BIN" -c "$T/v2.cfg" --node worker-1 "$@"; }
open_port() { ip netns exec "$C" "$PROBE" tcp 203.0.113.10 "$1" 300; }
closed_port() { ! open_port "$1"; }

etcd_start() {
	(exec ip netns exec "$N" etcd --name v2 --data-dir "$T/etcd" --enable-v2=true \
		--listen-client-urls "$EP" --advertise-client-urls "$EP" \
		--listen-peer-urls http://127.0.0.1:24000 \
		--initial-advertise-peer-urls http://127.0.0.1:24000 \
		--initial-cluster v2=http://127.0.0.1:24000 >>"$T/etcd.log" 2>&1) &
	etcd_pid=$!
	until_ok 10 in_n curl -sf "$EP/version"
}

client_and_node "$C" "$N"
# proxy ARP answers the pod for 169.254.1.1 only with a route to it elsewhere
ip -n "$N" route add default via 203.0.113.1
wire_pod "$N" "$POD" cali0 10.244.1.2
in_n sysctl -qw net.ipv4.ip_forward=1
in_n nft -f - <<'NFT'
table ip kubeproxy {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 30080 dnat to 10.244.1.2:80
	}
}
NFT
in_n "$PROBE" listen tcp:22 tcp:8080 tcp:9090 >/dev/null &
ip netns exec "$POD" "$PROBE" listen tcp:80 >/dev/null &
for f in v2 v3; do
	printf 'apiVersion: v1\nkind: calicoApiConfig\nmetadata: {}\nspec:\n  datastoreType: etcd%s\n  etcdEndpoints: %s\n  datastoreDir: %s\n' \
		"$f" "$EP" "$T/state" >"$T/$f.cfg"
done
printf 'apiVersion: v1\nkind: calicoApiConfig\nmetadata: {}\nspec:\n  etcdEndpoints: %s\n' "$EP" >"$T/apiv1.cfg"
mkdir -p "$T/state"

etcd_start || { echo "Bail out! etcd did not start"; cat "$T/etcd.log"; exit 1; }
grep -v '^#' "$SRC/tests/fixtures/seed-etcdv2.keys" | while read -r k v; do put2 "$k" "$v"; done
check "the seed's keys are in etcd's v2 store (curl)" test "$(get2 /calico/v1/Ready)" = true
check "before any table: the NodePort reaches the pod through DNAT, 8080 is open" \
	until_ok 5 sh -c "ip netns exec $C $PROBE tcp 203.0.113.10 30080 300 && ip netns exec $C $PROBE tcp 203.0.113.10 8080 300"

# --- the CLI on etcdv2 ------------------------------------------------------
nm get gnp >"$T/out" 2>&1
check "get lists the seed's seven policies from /calico/v1" test "$(grep -c . "$T/out")" = 8
expect "  ... with deny-kube-node-port-services" "$T/out" "^deny-kube-node-port-services"
in_n env DATASTORE_TYPE=etcdv2 ETCD_ENDPOINTS="$EP" "$BIN" get hep -o yaml >"$T/out" 2>&1
expect "DATASTORE_TYPE=etcdv2 (calicoctl 1.x's variable): the host endpoint, converted" \
	"$T/out" "^  name: worker-1.worker-1-public"
nm get felixconfiguration -o yaml >"$T/out" 2>&1
expect "Felix settings: per host (DefaultEndpointToHostAction ACCEPT)" "$T/out" \
	"defaultEndpointToHostAction: Accept"
expect "  ... and global (LogPrefix)" "$T/out" "logPrefix: calico-packet"
keys=$(in_n curl -sf "$V2/calico/v1?recursive=true" | grep -o '"key"' | wc -l)
check_status "apply on etcdv2 is refused" 1 nm apply -f "$SRC/tests/fixtures/tutorial-lb-policies.v3.yaml"
expect "  ... as read-only, pointing to upgrade" "$T/err" "read-only to nftmgr: move it .* 'nftmgr upgrade'"
check_status "delete on etcdv2 is refused" 1 nm delete gnp allow-icmp
check "  ... and /calico/v1 is exactly as it was" \
	test "$(in_n curl -sf "$V2/calico/v1?recursive=true" | grep -o '"key"' | wc -l)" = "$keys"
nm export >"$T/export-v2.nft" 2>"$T/err"
expect "export from etcdv2: the preDNAT chain of eth1" "$T/export-v2.nft" "prednat-in-eth1"

# --- the daemon on etcdv2 ---------------------------------------------------
in_n python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode(), flush=True)' "$T/notify" >"$T/notify.txt" &
until_ok 3 test -S "$T/notify"
# not through in_n: $! must be the daemon itself (ip and env exec it)
ip netns exec "$N" env NOTIFY_SOCKET="$T/notify" "$BIN" -c "$T/v2.cfg" --node worker-1 daemon \
	2>"$T/daemon.log" &
dpid=$!
check "daemon on etcdv2: the NodePort is closed before DNAT" until_ok 5 closed_port 30080
check "  ... the failsafe port 22 stays open" open_port 22
check "  ... default deny: 8080 closed" closed_port 8080
check "  ... READY=1" until_ok 3 grep -q '^READY=1' "$T/notify.txt"
check_status "diff from etcdv2 against the daemon's table: exit 0" 0 nm diff
expect "  ... nothing to change" "$T/out" "^[Nn]o changes: table inet nftmgr is up to date$"
allow() {	# allow PORT: a Felix 2.6 policy value allowing TCP to PORT on the public HEP
	printf '{"order":100,"inbound_rules":[{"action":"allow","protocol":"tcp","dst_ports":[%s]}],"selector":"ibm.role == '"'"'worker_public'"'"'","types":["ingress"]}' "$1"
}
put2 /calico/v1/policy/tier/default/policy/allow-8080 "$(allow 8080)"
check "a policy put in the v2 layout opens 8080" until_ok 3 open_port 8080
del2 /calico/v1/policy/tier/default/policy/allow-8080
check "deleting it closes 8080 again" until_ok 3 closed_port 8080
# the key holds libcalico-go's escape %2f (in a URL: %252f)
put2 "/calico/v1/policy/tier/default/policy/Allow%252f9090" "$(allow 9090)"
check "an escaped name (Allow%2f9090) opens 9090" until_ok 3 open_port 9090
nm get gnp >"$T/out" 2>&1
expect "  ... and is listed normalised (allow.9090 without dots, hash suffix)" "$T/out" "^allow-9090-[0-9a-f]{8}$"
del2 "/calico/v1/policy/tier/default/policy/Allow%252f9090"
check "  ... deleted by its escaped key" until_ok 3 closed_port 9090

# Ready=false pauses, as Felix 2.6 did: the rules stay, nothing new
put2 /calico/v1/Ready false
check "Ready=false: STATUS= says the datastore is not ready" \
	until_ok 3 grep -q '^STATUS=datastore not ready' "$T/notify.txt"
put2 /calico/v1/policy/tier/default/policy/allow-8080 "$(allow 8080)"
sleep 0.5
check "  ... a policy put meanwhile is not committed (8080 closed)" closed_port 8080
check "  ... the rules in force stay (30080 closed, 22 open)" sh -c "! ip netns exec $C $PROBE tcp 203.0.113.10 30080 300 && ip netns exec $C $PROBE tcp 203.0.113.10 22 300"
put2 /calico/v1/Ready true
check "Ready=true again: the policy put meanwhile is committed" until_ok 3 open_port 8080
del2 /calico/v1/policy/tier/default/policy/allow-8080
until_ok 3 closed_port 8080

# a directory deleted: every key under it goes (the host endpoint)
hep=$(get2 /calico/v1/host/worker-1/endpoint/worker-1-public)
del2 /calico/v1/host/worker-1 "recursive=true"
check "deleting /calico/v1/host/worker-1 removes its host endpoint: 8080 unguarded" until_ok 3 open_port 8080
put2 /calico/v1/host/worker-1/endpoint/worker-1-public "$hep"
check "  ... put back: guarded again" until_ok 3 closed_port 8080

# etcd down: the rules stay; back: a change arrives
kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null
sleep 1
check "etcd stopped: the rules stay (30080 closed, 22 open, 8080 closed)" \
	sh -c "! ip netns exec $C $PROBE tcp 203.0.113.10 30080 300 && ip netns exec $C $PROBE tcp 203.0.113.10 22 300 && ! ip netns exec $C $PROBE tcp 203.0.113.10 8080 300"
etcd_start
put2 /calico/v1/policy/tier/default/policy/allow-8080 "$(allow 8080)"
check "etcd back: a later put arrives" until_ok 15 open_port 8080

# the event window: 1,100 writes while the daemon is stopped clear its index
kill -STOP "$dpid"
del2 /calico/v1/policy/tier/default/policy/allow-8080
in_n python3 -c '
import sys, urllib.request
for i in range(1100):
    r = urllib.request.Request(sys.argv[1] + "/calico/v1/host/other/bird_ip", data=b"value=%d" % i, method="PUT")
    urllib.request.urlopen(r).read()' "$V2"
kill -CONT "$dpid"
check "an index older than etcd's 1,000 events: the daemon lists again" \
	until_ok 10 grep -q "has cleared the events from index .* listing everything again" "$T/daemon.log"
check "  ... and the delete made meanwhile is in force (8080 closed)" until_ok 3 closed_port 8080

# --- upgrade ---------------------------------------------------------------
put2 /calico/v1/policy/tier/default/policy/Allow_SSH \
	'{"order":50,"inbound_rules":[{"action":"allow","protocol":"tcp","src_tag":"bastion","dst_ports":[2222]}],"selector":"ibm.role == '"'"'worker_public'"'"'","types":["ingress"]}'
put2 /calico/v1/policy/tier/default/policy/knp.default.prod.web '{"selector":"calico/k8s_ns == '"'"'prod'"'"'","types":["ingress"]}'
until_ok 3 grep -q "knp.default.prod.web" <(nm get gnp 2>&1)
up() { (cd "$T" && in_n env NFTMGR_TEST_UPGRADE_SETTLE_MS=200 "$BIN" upgrade "$@" --apiconfigv1 "$T/apiv1.cfg" --apiconfigv3 "$T/v3.cfg" --output-dir "$T/report" --no-prompts); }
up dry-run >"$T/out" 2>&1
check "upgrade dry-run succeeds" test $? = 0
expect "  ... a name that needs normalising: Allow_SSH -> allow-ssh-8e692c81 (calico-upgrade's hash)" \
	"$T/report/convertednames" "^/calico/v1/policy/tier/default/policy/Allow_SSH -> $P3/globalnetworkpolicies/default.allow-ssh-8e692c81$"
expect "  ... the host endpoint as <node>.<name>" "$T/report/convertednames" "hostendpoints/worker-1.worker-1-public$"
expect "  ... the controller's knp.default policy left out, and why" "$T/report/skipped" \
	"knp.default.prod.web: owned by the Kubernetes policy controller"
check "  ... nothing changed: no v3 key, Ready still true" \
	sh -c "test -z \"\$(ip netns exec $N etcdctl --endpoints $EP get --prefix /calico/resources --keys-only)\" && test \"\$(ip netns exec $N curl -sf $V2/calico/v1/Ready | grep -o '\"value\":\"true\"')\""
up start >"$T/out" 2>&1
check "upgrade start succeeds" test $? = 0
check "  ... Ready is false" test "$(get2 /calico/v1/Ready)" = false
check "  ... the daemon on etcdv2 pauses" until_ok 3 grep -q "the datastore is not ready" "$T/daemon.log"
ectl get "$P3/globalnetworkpolicies/default.allow-ssh-8e692c81" --print-value-only >"$T/out"
expect "  ... the tag-only rule became a selector (bastion == \"\")" "$T/out" '"selector":"bastion == \\"\\""'
ectl get "$P3/clusterinformations/default" --print-value-only >"$T/out"
expect "  ... ClusterInformation says datastoreReady false" "$T/out" '"datastoreReady":false'
expect "  ... with the cluster's GUID and version" "$T/out" '"calicoVersion":"v2.6.8"'
up start >"$T/out" 2>&1
check "a second start is refused" test $? = 1
up abort >"$T/out" 2>&1
check "upgrade abort: Ready true again" sh -c "test \"\$(ip netns exec $N curl -sf $V2/calico/v1/Ready | grep -o '\"value\":\"[a-z]*\"')\" = '\"value\":\"true\"'"
check "  ... the v3 data left in place" sh -c "ip netns exec $N etcdctl --endpoints $EP get $P3/clusterinformations/default --keys-only | grep -q ."
check "  ... the daemon resumes" until_ok 3 grep -q "the datastore is ready again" "$T/daemon.log"
up start >"$T/out" 2>&1
check "start over the v3 data without --ignore-v3-data is refused" test $? = 1
expect "  ... naming the v3 keys" "$T/out" "already holds .* --ignore-v3-data"
up start --ignore-v3-data >"$T/out" 2>&1
check "start --ignore-v3-data succeeds" test $? = 0
up complete >"$T/out" 2>&1
check "upgrade complete: datastoreReady true" \
	sh -c "ip netns exec $N etcdctl --endpoints $EP get $P3/clusterinformations/default --print-value-only | grep -q '\"datastoreReady\":true'"

# The controller-owned policy is not migrated (kube-controllers writes it
# again); without it, v2 and v3 give the node the same ruleset.
del2 /calico/v1/policy/tier/default/policy/knp.default.prod.web
nm export >"$T/export-v2.nft" 2>&1
in_n "$BIN" -c "$T/v3.cfg" --node worker-1 export >"$T/export-v3.nft" 2>&1
check "the export from v3 equals the export from v2" cmp -s "$T/export-v2.nft" "$T/export-v3.nft"

# the daemon moves from v2 to v3: config changed, SIGHUP; a prober watches
in_n python3 -c '
import subprocess, sys, time
end = time.time() + 4
bad = 0
while time.time() < end:
    for port, want in ((22, 0), (30080, 1), (8080, 1)):
        rc = subprocess.call([sys.argv[1], "netns", "exec", sys.argv[2], sys.argv[3], "tcp", "203.0.113.10", str(port), "200"])
        if (rc != 0) != bool(want):
            bad += 1
print(bad)' "$(command -v ip)" "$C" "$PROBE" >"$T/prober.txt" 2>/dev/null &
prober=$!
sleep 1
sed -i 's/etcdv2/etcdv3/' "$T/v2.cfg"
kill -HUP "$dpid"
check "SIGHUP with the v3 configuration: the daemon moves from etcdv2 to etcdv3" \
	until_ok 5 grep -q "reload: moving from etcdv2 to etcdv3" "$T/daemon.log"
wait "$prober"
check "  ... and the prober saw 22 open, 30080 and 8080 closed all along" test "$(cat "$T/prober.txt")" = 0
ectl put "$P3/globalnetworkpolicies/default.allow-8080" "$(cat "$SRC/tests/etcd/calicoctl-gnp.json")" >/dev/null
check "  ... a v3 put then reaches it (8080 open)" until_ok 3 open_port 8080

kill "$dpid"; wait "$dpid"
check "the daemon exits 0 on SIGTERM" test $? = 0

# etcd's v2 authentication: a user and password, as HTTP basic auth
in_n curl -sf -XPUT "$EP/v2/auth/users/root" -d '{"user":"root","password":"s3cret"}' >/dev/null
in_n curl -sf -XPUT "$EP/v2/auth/enable" >/dev/null
in_n curl -sf -u root:s3cret -XPUT "$EP/v2/auth/roles/guest" \
	-d '{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}' >/dev/null
check_status "v2 auth on, no user: refused" 1 in_n env DATASTORE_TYPE=etcdv2 "$BIN" -c "$T/apiv1.cfg" get gnp
expect "  ... with etcd's reason" "$T/err" "requires user authentication"
check_status "etcdUsername/etcdPassword: read" 0 in_n env DATASTORE_TYPE=etcdv2 ETCD_USERNAME=root ETCD_PASSWORD=s3cret \
	"$BIN" -c "$T/apiv1.cfg" get gnp
expect "  ... the policies" "$T/out" "^deny-kube-node-port-services"
check_status "a wrong password: refused" 1 in_n env DATASTORE_TYPE=etcdv2 ETCD_USERNAME=root ETCD_PASSWORD=wrong \
	"$BIN" -c "$T/apiv1.cfg" get gnp
if [ "${failed:-0}" != 0 ]; then
	note "$T/daemon.log"
fi
tap_done
