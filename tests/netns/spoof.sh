#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Anti-spoofing on workload interfaces, with real traffic. Pod v admits
# UDP/TCP 80 from pod t only (a Kubernetes policy). Pod a, root in its own
# namespace, adds t's address to its interface and sends from it: the
# packet would satisfy the policy, and must be dropped on a's interface
# before any policy (the "anti-spoofing" rule counts it; v's own counter,
# in v's namespace, sees nothing). The same over IPv6, where a's endpoint
# has no IPv6 address at all (so its IPv6 is dropped whole, neighbour
# discovery aside). t itself still gets through, and a pod readdressed
# keeps working after an incremental sync. TAP output.
set -u
. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
PROBE=${PROBE_BIN:?}
N=nsp-$$
PODS=(a t v)
declare -A ADDR=([a]=10.244.1.2 [t]=10.244.1.3 [v]=10.244.1.4)
declare -A ADDR6=([a]=fd00:10::2 [t]=fd00:10::3 [v]=fd00:10::4)
pod_ns() { echo "nsp-$1-$$"; }

need_netns

# The node and its pods, wired as Calico's CNI plugin does.
netns_add "$N"
ip -n "$N" link set lo up
ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$N" link add uplink type veth peer name uplink-peer
ip -n "$N" link set uplink up
ip -n "$N" link set uplink-peer up
ip -n "$N" route add default dev uplink
for p in "${PODS[@]}"; do
	ns=$(pod_ns "$p")
	wire_pod "$N" "$ns" "cali$p" "${ADDR[$p]}"
	# IPv6 as Calico wires it: a link-local gateway on the host side
	ip -n "$N" addr add fe80::1/64 dev "cali$p" nodad
	ip -n "$ns" addr add "${ADDR6[$p]}/128" dev eth0 nodad
	ip -n "$ns" -6 route add default via fe80::1 dev eth0
	ip -n "$N" -6 route add "${ADDR6[$p]}/128" dev "cali$p"
done
ip netns exec "$(pod_ns v)" "$PROBE" listen tcp:80 udp:80 >/dev/null &
# v's own view of what reaches it, outside nftmgr's namespace
ip netns exec "$(pod_ns v)" nft -f - <<'NFT'
table inet observe {
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 80 ip saddr 10.244.1.3 counter comment "from t"
		udp dport 80 ip6 saddr fd00:10::3 counter comment "from t, IPv6"
	}
}
NFT
seen() {	# seen [6]: datagrams v got from t's address
	ip netns exec "$(pod_ns v)" nft list table inet observe |
		sed -nE "s/.*counter packets ([0-9]+).*comment \"from t${1:+, IPv6}\"/\1/p"
}

wep() {	# wep POD LABEL ADDRESSES
	cat <<EOY
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: worker--1-k8s-$1-eth0
  namespace: default
  labels: {$2}
spec:
  node: worker-1
  orchestrator: k8s
  pod: $1
  endpoint: eth0
  interfaceName: cali$1
  ipNetworks: [$3]
  profiles: [kns.default]
EOY
}
{
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n'
	# a's endpoint is IPv4 only, whatever its interface holds
	wep a "role: attacker" "${ADDR[a]}/32"
	wep t "role: trusted" "${ADDR[t]}/32, \"${ADDR6[t]}/128\""
	wep v "app: victim" "${ADDR[v]}/32, \"${ADDR6[v]}/128\""
	cat <<'EOY'
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-trusted, namespace: default}
spec:
  podSelector: {matchLabels: {app: victim}}
  ingress:
  - from: [podSelector: {matchLabels: {role: trusted}}]
    ports: [{protocol: UDP, port: 80}, {protocol: TCP, port: 80}]
EOY
} >"$T/pods.yaml"
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec: {datastoreType: file}\n' >"$T/cfg"
nm() { ip netns exec "$N" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" --node worker-1 "$@"; }
from() { local p=$1; shift; ip netns exec "$(pod_ns "$p")" env ${SRC:+PROBE_SOURCE=$SRC} "$PROBE" "$@" 300; }
spoof_count() { nm stats | awk '$1 == "wl-from-calia" && $2 == "anti-spoofing" { s += $(NF - 1) } END { print s + 0 }'; }

nm apply -f "$T/pods.yaml" >/dev/null || { echo "Bail out! apply failed"; exit 1; }

if from t udp "${ADDR[v]}" 80 && from t tcp "${ADDR[v]}" 80 && [ "$(seen)" = 1 ]; then
	tap OK "t reaches v on UDP and TCP 80 (v saw 1 datagram from t)"
else
	tap FAIL "t reaches v on UDP and TCP 80 (v saw $(seen) datagrams from t)"
fi
if ! from a udp "${ADDR[v]}" 80 && ! from a tcp "${ADDR[v]}" 80; then
	tap OK "a, from its own address, does not reach v"
else
	tap FAIL "a, from its own address, does not reach v"
fi

ip -n "$(pod_ns a)" addr add "${ADDR[t]}/32" dev eth0
before=$(spoof_count)
SRC=${ADDR[t]} from a udp "${ADDR[v]}" 80
SRC=${ADDR[t]} from a udp "${ADDR[v]}" 80
after=$(spoof_count)
if [ "$(seen)" = 1 ] && [ $((after - before)) -ge 2 ]; then
	tap OK "a claiming t's address: dropped by anti-spoofing ($((after - before)) packets), v saw nothing"
else
	tap FAIL "a claiming t's address: v saw $(seen) datagrams from t (1 expected), anti-spoofing counted $((after - before))"
	nm stats | grep -E "wl-from-calia" | sed 's/^/# /'
fi
if ! SRC=${ADDR[t]} from a tcp "${ADDR[v]}" 80; then
	tap OK "a claiming t's address over TCP: no connection"
else
	tap FAIL "a claiming t's address over TCP: no connection"
fi

# IPv6: t gets through; a, whose endpoint has no IPv6 address, sends none,
# whether from the address its interface has or from t's.
if from t udp "${ADDR6[v]}" 80 && from t tcp "${ADDR6[v]}" 80 && [ "$(seen 6)" = 1 ]; then
	tap OK "IPv6: t reaches v on UDP and TCP 80 (v saw 1 datagram from t)"
else
	tap FAIL "IPv6: t reaches v on UDP and TCP 80 (v saw $(seen 6) datagrams from t)"
fi
before=$(spoof_count)
from a udp "${ADDR6[v]}" 80
after=$(spoof_count)
if [ $((after - before)) -ge 1 ]; then
	tap OK "IPv6 from a, whose endpoint has none: dropped by anti-spoofing ($((after - before)) packets)"
else
	tap FAIL "IPv6 from a, whose endpoint has none: dropped by anti-spoofing (counted $((after - before)))"
fi
ip -n "$(pod_ns a)" addr add "${ADDR6[t]}/128" dev eth0 nodad
SRC=${ADDR6[t]} from a udp "${ADDR6[v]}" 80
SRC=${ADDR6[t]} from a udp "${ADDR6[v]}" 80
if [ "$(seen 6)" = 1 ] && [ $(($(spoof_count) - after)) -ge 2 ]; then
	tap OK "IPv6: a claiming t's address: dropped, v saw nothing"
else
	tap FAIL "IPv6: a claiming t's address: v saw $(seen 6) datagrams from t (1 expected)"
fi

# t moves to a new address: the sync changes set elements only, and the
# old address is now a's to claim no more than before.
ip -n "$(pod_ns t)" addr add 10.244.1.30/32 dev eth0
ip -n "$N" route add 10.244.1.30/32 dev calit scope link
sed -i "s|ipNetworks: \[${ADDR[t]}/32,|ipNetworks: [10.244.1.30/32,|" "$T/pods.yaml"
nm apply --no-sync -f "$T/pods.yaml" >/dev/null
plan=$(nm diff)
nm sync >/dev/null
if SRC=10.244.1.30 from t udp "${ADDR[v]}" 80 && ! SRC=${ADDR[t]} from t udp "${ADDR[v]}" 80 &&
   ! grep -qvE '^[~#]|set ' <<<"$plan"; then
	tap OK "t readdressed: its new address passes, the old one is spoofing now; elements only"
else
	tap FAIL "t readdressed: its new address passes, the old one is spoofing now; elements only"
	sed 's/^/# /' <<<"$plan"
fi

# allowSpoofedSourcePrefixes: a may send from t's new address. Without
# FelixConfiguration workloadSourceSpoofing: Any, Felix treats such an
# endpoint as missing: a's interface is unknown and dropped whole; with
# Any, that prefix passes anti-spoofing (and v's policy, as t's address).
ip netns exec "$(pod_ns v)" nft add rule inet observe input udp dport 80 ip saddr 10.244.1.30 counter comment '"from t2"'
seen2() {
	ip netns exec "$(pod_ns v)" nft list table inet observe |
		sed -nE 's/.*counter packets ([0-9]+).*comment "from t2"/\1/p'
}
ip -n "$(pod_ns a)" addr add 10.244.1.30/32 dev eth0
base=$(seen2)
sed -i "/pod: a$/,/profiles:/ s|^  ipNetworks: \(.*\)$|  ipNetworks: \1\n  allowSpoofedSourcePrefixes: [10.244.1.30/32]|" "$T/pods.yaml"
nm apply -f "$T/pods.yaml" >/dev/null
SRC=10.244.1.30 from a udp "${ADDR[v]}" 80
if [ "$(seen2)" = "$base" ] && ! nm export | grep -q 'chain wl-from-calia '; then
	tap OK "allowSpoofedSourcePrefixes without workloadSourceSpoofing: a's endpoint is as if absent, nothing passes"
else
	tap FAIL "allowSpoofedSourcePrefixes without workloadSourceSpoofing: v saw $(($(seen2) - base))"
fi
printf -- '---\napiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec: {workloadSourceSpoofing: Any}\n' >>"$T/pods.yaml"
nm apply -f "$T/pods.yaml" >/dev/null
SRC=10.244.1.30 from a udp "${ADDR[v]}" 80
SRC=10.244.1.30 from a udp "${ADDR[v]}" 80
if [ $(($(seen2) - base)) -ge 2 ]; then
	tap OK "workloadSourceSpoofing: Any: a sends from its allowed prefix, v sees it"
else
	tap FAIL "workloadSourceSpoofing: Any: v saw $(($(seen2) - base)) datagrams from the allowed prefix"
	nm export | grep -A3 "own-v4" | sed 's/^/# /'
fi
before=$(spoof_count)
SRC=${ADDR[t]} from a udp "${ADDR[v]}" 80
if [ $(($(spoof_count) - before)) -ge 1 ]; then
	tap OK "  ... and anything else it claims is still dropped by anti-spoofing"
else
	tap FAIL "  ... and anything else it claims is still dropped by anti-spoofing"
fi
tap_done
