#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# etcd benchmarks (root; etcd-server installed): W-big stored in a real
# etcd in a namespace; the daemon's initial sync from etcd, beside a
# one-shot sync of the same policies from files; then the latency from a
# put to the kernel holding the changed rule over 200 changes, with W-big
# loaded and, as the baseline, with a small ruleset (the examples).
# Usage: tests/bench/etcd.sh [build dir]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build}
BIN=$BUILD/nftmgr/nftmgr
W=$(mktemp -d)
NS=nsb-$$
EP=http://127.0.0.1:23790
cleanup() {
	pkill -f -- "--data-dir $W/" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

python3 "$HERE/gen-wbig.py" yaml "$W/in"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth1 type veth peer name eth1-peer
ip -n "$NS" addr add 192.0.2.1/24 dev eth1
ip -n "$NS" link set eth1 up
# W-big goes in as one transaction of 1,001 puts: above etcd's defaults
# (128 operations, 1.5 MiB per request), so this etcd allows more.
ip netns exec "$NS" etcd --name b --data-dir "$W/etcd" --listen-client-urls "$EP" \
	--advertise-client-urls "$EP" --listen-peer-urls http://127.0.0.1:23800 \
	--initial-advertise-peer-urls http://127.0.0.1:23800 \
	--initial-cluster b=http://127.0.0.1:23800 --max-txn-ops 4096 \
	--max-request-bytes 33554432 >"$W/etcd.log" 2>&1 &
for _ in $(seq 100); do
	ip netns exec "$NS" etcdctl --endpoints "$EP" endpoint health >/dev/null 2>&1 && break
	sleep 0.1
done
mkdir "$W/state"	# the daemon's last-known-good copy, not the host's
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec: {etcdEndpoints: "%s", datastoreDir: "%s"}\n' "$EP" "$W/state" >"$W/etcd.cfg"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns "$BIN" -c "$W/etcd.cfg" apply -f "$W/in" >/dev/null

echo "== one-shot sync of W-big from files (baseline for the initial sync)"
in_ns "$BIN" --node bench sync --full -f "$W/in" | sed -n 's/^  //p'
echo "== one-shot incremental sync from files, one rule's CIDR list changed (baseline for a change)"
python3 - "$W/in/policies.yaml" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
docs = t.split("---\n")
for i, d in enumerate(docs):
    if "name: p0500}" in d:
        nets = re.findall(r"nets: \[([^\]]*)\]", d)
        docs[i] = d.replace(nets[3], "10.255.255.0/24" + nets[3][nets[3].index(","):], 1)
open(sys.argv[1], "w").write("---\n".join(docs))
PY
in_ns "$BIN" --node bench sync -f "$W/in" | sed -n 's/^  //p'
in_ns nft delete table inet nftmgr
echo "== daemon on etcd, W-big: initial sync and put-to-kernel latency"
ip netns exec "$NS" python3 "$HERE/etcd-latency.py" "$EP" ${CHANGES:-200} -- \
	"$BIN" -c "$W/etcd.cfg" --node bench daemon
in_ns nft delete table inet nftmgr
echo "== daemon on etcd, W-big: pod put/delete to kernel (no policy selects the pods)"
ip netns exec "$NS" env LATENCY_KIND=pod python3 "$HERE/etcd-latency.py" "$EP" ${CHANGES:-200} -- \
	"$BIN" -c "$W/etcd.cfg" --node bench daemon
in_ns nft delete table inet nftmgr
echo "== baseline: the same with the compile memo off (every change compiles every policy)"
ip netns exec "$NS" env LATENCY_KIND=pod NFTMGR_COMPILE_MEMO=0 python3 "$HERE/etcd-latency.py" \
	"$EP" ${CHANGES:-200} -- "$BIN" -c "$W/etcd.cfg" --node bench daemon
in_ns nft delete table inet nftmgr
echo "== the same latency with a small ruleset (the examples + one W-big policy)"
in_ns etcdctl --endpoints "$EP" del --prefix /calico/ >/dev/null
in_ns "$BIN" -c "$W/etcd.cfg" apply -f "$HERE/../../examples" >/dev/null
mkdir "$W/small"
cp "$W/in/hep.yaml" "$W/small/"
python3 - "$W/in/policies.yaml" >"$W/small/one.yaml" <<'PY'
import sys
docs = open(sys.argv[1]).read().split("---\n")
print("---\n" + [d for d in docs if "name: p0500}" in d][0])
PY
in_ns "$BIN" -c "$W/etcd.cfg" apply -f "$W/small" >/dev/null
ip netns exec "$NS" python3 "$HERE/etcd-latency.py" "$EP" ${CHANGES:-200} -- \
	"$BIN" -c "$W/etcd.cfg" --node bench daemon
