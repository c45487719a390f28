#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Calico 2.6's datastore (root; etcd-server installed): the seed's keys in
# a real etcd with its v2 API, in a namespace; the put-to-kernel latency
# of a daemon on etcdv2, and beside it, as the baseline, the same daemon
# on etcdv3 after 'upgrade' moved the same data (the v3 put latency,
# measured by etcd-latency.py's method on the same etcd).
# Usage: tests/bench/etcdv2.sh [build dir]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build}
BIN=$BUILD/nftmgr/nftmgr
W=$(mktemp -d)
NS=nsv2-$$
EP=http://127.0.0.1:23990
cleanup() {
	pkill -f -- "--data-dir $W/" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth1 type veth peer name eth1-peer
ip -n "$NS" addr add 203.0.113.10/24 dev eth1
ip -n "$NS" link set eth1 up
in_ns etcd --name b --data-dir "$W/etcd" --enable-v2=true --listen-client-urls "$EP" \
	--advertise-client-urls "$EP" --listen-peer-urls http://127.0.0.1:24000 \
	--initial-advertise-peer-urls http://127.0.0.1:24000 \
	--initial-cluster b=http://127.0.0.1:24000 >"$W/etcd.log" 2>&1 &
for _ in $(seq 100); do
	in_ns curl -sf "$EP/version" >/dev/null && break
	sleep 0.1
done
grep -v '^#' "$HERE/../fixtures/seed-etcdv2.keys" | while read -r k v; do
	in_ns curl -sf -XPUT "$EP/v2/keys$k" --data-urlencode "value=$v" >/dev/null
done
mkdir "$W/state"
for v in 2 3; do
	printf 'apiVersion: v1\nkind: calicoApiConfig\nmetadata: {}\nspec: {datastoreType: etcdv%s, etcdEndpoints: "%s", datastoreDir: "%s"}\n' \
		"$v" "$EP" "$W/state" >"$W/v$v.cfg"
done

echo "== daemon on etcdv2 (the seed's policies): put to kernel"
in_ns python3 "$HERE/etcdv2-latency.py" "$EP" ${CHANGES:-200} -- \
	"$BIN" -c "$W/v2.cfg" --node worker-1 daemon
in_ns nft delete table inet nftmgr

(cd "$W" && in_ns env NFTMGR_TEST_UPGRADE_SETTLE_MS=0 "$BIN" upgrade start --no-prompts \
	--apiconfigv1 "$W/v2.cfg" --apiconfigv3 "$W/v3.cfg" >/dev/null &&
	in_ns "$BIN" upgrade complete --no-prompts --apiconfigv3 "$W/v3.cfg" >/dev/null)
in_ns etcdctl --endpoints "$EP" get --print-value-only \
	/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.allow-bench |
	python3 -c 'import json,sys; p=json.load(sys.stdin); p["metadata"]["name"]="default.p0500"
p["spec"]["ingress"][0]["source"]={"nets":["10.0.0.0/24"]}; p["spec"]["ingress"]=[p["spec"]["ingress"][0]]*4
print(json.dumps(p))' >"$W/p0500.json"
in_ns etcdctl --endpoints "$EP" put /calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.p0500 \
	"$(cat "$W/p0500.json")" >/dev/null
echo "== baseline: the same data on etcdv3 after upgrade: put to kernel"
in_ns python3 "$HERE/etcd-latency.py" "$EP" ${CHANGES:-200} -- \
	"$BIN" -c "$W/v3.cfg" --node worker-1 daemon | sed -n '1p'
