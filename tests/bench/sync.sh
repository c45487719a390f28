#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Netlink benchmarks, each beside its baseline in the same run (root):
#  W-big full sync into an empty namespace, against nft -f of nftmgr's
#  export and nft -f of the same policies with one anonymous set per rule;
#  peak RSS of the sync; an incremental sync after one rule's CIDR list
#  changed; new TCP connections per second through W-big against no table,
#  and through W-big with nftablesMergeAllowPolicies.
# Usage: tests/bench/sync.sh [build dir]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build}
BIN=$BUILD/nftmgr/nftmgr
W=$(mktemp -d)
NS=()
cleanup() {
	for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	kill $(jobs -p) 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

python3 "$HERE/gen-wbig.py" yaml "$W/in"
python3 "$HERE/gen-wbig.py" anon "$W/anon.nft"
ARGS=(--node bench -f "$W/in" --local-address eth1=192.0.2.1)
"$BIN" "${ARGS[@]:0:2}" export "${ARGS[@]:2}" >"$W/export.nft"

secs() {	# secs COMMAND...: wall time of one run
	local s e
	s=$(date +%s.%N)
	"$@" >/dev/null
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}

best() {	# best RUNS COMMAND...
	local runs=$1 b= t
	shift
	for _ in $(seq "$runs"); do
		t=$(secs "$@")
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	printf '%.3f' "$b"
}

sync_fresh() { unshare -n "$BIN" --node bench sync -f "$W/in" --local-address eth1=192.0.2.1; }
nft_fresh() { unshare -n nft -f "$1"; }

t_sync=$(best 3 sync_fresh)
full=$(unshare -n "$BIN" --node bench sync -f "$W/in" --local-address eth1=192.0.2.1 | tr '\n' ' ')
rss=$( { /usr/bin/time -f '%M' unshare -n "$BIN" --node bench sync -f "$W/in" \
	--local-address eth1=192.0.2.1 >/dev/null; } 2>&1 | tail -n 1)
t_export=$(best 3 nft_fresh "$W/export.nft")
t_anon=$(best 1 nft_fresh "$W/anon.nft")

# Incremental: policy p0500 rule 3 gets another CIDR list, and back.
mkdir -p "$W/in2"
cp "$W/in/hep.yaml" "$W/in2/"
python3 - "$W/in/policies.yaml" "$W/in2/policies.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
start = text.index("name: p0500}")
i = start
for _ in range(4):
    i = text.index("nets: [", i) + 7
end = text.index("]", i)
text = text[:i] + "203.0.113.0/24, 198.51.100.0/24" + text[end:]
open(sys.argv[2], "w").write(text)
PY
cat >"$W/inc.sh" <<INNER
"$BIN" --node bench sync -f "$W/in" --local-address eth1=192.0.2.1 >/dev/null
best=
for i in 1 2 3 4 5; do
	for d in in2 in; do
		s=\$(date +%s.%N)
		"$BIN" --node bench sync -f "$W/\$d" --local-address eth1=192.0.2.1 >"$W/inc.out"
		e=\$(date +%s.%N)
		t=\$(echo "\$e - \$s" | bc)
		if [ -z "\$best" ] || [ "\$(echo "\$t < \$best" | bc)" = 1 ]; then best=\$t; fi
	done
done
printf '%.3f\n' "\$best"
cat "$W/inc.out"
INNER
inc=$(unshare -n bash "$W/inc.sh")
t_inc=$(echo "$inc" | head -n 1)
inc_line=$(echo "$inc" | tail -n 2 | tr '\n' ' ')
# Compile + read-back alone: a sync that finds nothing to do.
cat >"$W/noop.sh" <<INNER
"$BIN" --node bench sync -f "$W/in" --local-address eth1=192.0.2.1 >/dev/null
s=\$(date +%s.%N)
"$BIN" --node bench sync -f "$W/in" --local-address eth1=192.0.2.1 >/dev/null
e=\$(date +%s.%N)
printf '%.3f\n' "\$(echo "\$e - \$s" | bc)"
INNER
t_noop=$(unshare -n bash "$W/noop.sh")

# Dataplane: client -> node:8080 through W-big (a last policy allows the
# client, so every new connection walks all 1,000 policies) or no table,
# each in namespaces of its own (a connection's conntrack entries must not
# meet the next measurement's), best of 3 runs of 3 s with a C client
# that connects and resets (tests/bench/connrate.c).
cat >"$W/allow.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: zz-allow-client}
spec:
  order: 5000
  selector: role == 'public'
  ingress: [{action: Allow, protocol: TCP, source: {nets: [192.0.2.2/32]}, destination: {ports: [8080]}}]
  egress: [{action: Allow}]
YAML
printf 'apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec: {nftablesMergeAllowPolicies: true}\n' >"$W/felix.yaml"
RATE=$BUILD/tests/connrate
conns() {	# conns [nftmgr -f arguments]: best of 3
	local C=nbc-$$ N=nbn-$$ best=0 r lp
	ip netns add "$C" && NS+=("$C")
	ip netns add "$N" && NS+=("$N")
	ip -n "$N" link add eth1 type veth peer name eth0 netns "$C"
	ip -n "$N" addr add 192.0.2.1/24 dev eth1
	ip -n "$C" addr add 192.0.2.2/24 dev eth0
	for x in "$N eth1" "$C eth0" "$N lo" "$C lo"; do ip -n "${x% *}" link set "${x#* }" up; done
	ip netns exec "$N" "$RATE" listen 8080 >/dev/null &
	lp=$!
	sleep 0.3
	[ $# = 0 ] || ip netns exec "$N" "$BIN" --node bench sync "$@" --local-address eth1=192.0.2.1 >/dev/null
	for _ in 1 2 3; do
		r=$(ip netns exec "$C" "$RATE" 192.0.2.1 8080 3 | cut -d' ' -f1)
		[ "$r" -gt "$best" ] && best=$r
	done
	kill "$lp"
	wait "$lp" 2>/dev/null
	ip netns del "$C"
	ip netns del "$N"
	echo "$best"
}
bare=$(conns)
loaded=$(conns -f "$W/in" -f "$W/allow.yaml")
merged=$(conns -f "$W/in" -f "$W/allow.yaml" -f "$W/felix.yaml")
pct() { echo "$(( 100 * $1 / bare ))%"; }

echo "W-big: 1,000 policies x 10 rules x 20 /24 CIDRs, ports {80, 443, 8000:9000}, one host endpoint"
echo "full sync into an empty namespace (best of 3):            ${t_sync} s   peak RSS $((rss / 1024)) MB"
echo "  ${full}"
echo "baseline (a): nft -f of nftmgr's export (best of 3):      ${t_export} s"
echo "baseline (b): nft -f, one anonymous set per rule (1 run): ${t_anon} s"
echo "incremental sync, one rule's CIDR list changed (best of 10): ${t_inc} s"
echo "  ${inc_line}"
echo "sync with nothing to change (compile + read back):        ${t_noop} s"
echo "new TCP connections/s through the node, no table:         ${bare}"
echo "new TCP connections/s through the node, W-big loaded:     ${loaded} ($(pct "$loaded"))"
echo "  same, nftablesMergeAllowPolicies: true:                 ${merged} ($(pct "$merged"))"
