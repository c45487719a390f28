#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Namespace tests: each case gets a fresh topology of its own,
#
#   client (eth0 203.0.113.1, 2001:db8:1::1)
#     |
#   node   (eth1 203.0.113.10, 2001:db8:1::10; cali0 10.244.1.1)  <- nftmgr's table
#     |        kube-proxy stand-in: NodePort 30080 and LoadBalancer
#   pod    (eth0 10.244.1.2)   203.0.113.50:80 DNATed to 10.244.1.2:80
#
# loads `nftmgr export` of the case on the node with nft -f, and checks
# real TCP, UDP and ICMP traffic against the case's "# expect:" lines:
#   # expect: FROM PROTO ADDRESS PORT open|closed    (FROM: client|node|pod)
# Other directives: "# export: system" exports inside the node namespace
# with its real addresses instead of --local-address; "# no-common-hep"
# leaves out common/hep.yaml (common/pod.yaml, the pod's workload endpoint,
# is always loaded). NETNS_LOAD=sync commits with nftmgr sync
# instead of nft -f. TAP output, one line per expectation.
set -u
. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
PROBE=${PROBE_BIN:?}
HERE=$(cd "$(dirname "$0")" && pwd)


need_netns

PIDS=()
NSS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	PIDS=()
	NSS=()
}
at_exit cleanup

listen() {	# listen NS SPEC...
	local ns=$1 fifo
	shift
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	ip netns exec "$ns" "$PROBE" listen "$@" >"$fifo" &
	PIDS+=($!)
	read -r -t 5 _ <"$fifo"
	rm -f "$fifo"
}

topology() {	# topology ID
	C=nmc-$1 N=nmn-$1 P=nmp-$1
	for ns in $C $N $P; do ip netns add "$ns" && NSS+=("$ns") && ip -n "$ns" link set lo up; done
	ip -n "$N" link add eth1 type veth peer name eth0 netns "$C"
	ip -n "$N" link add cali0 type veth peer name eth0 netns "$P"
	ip -n "$N" addr add 203.0.113.10/24 dev eth1
	ip -n "$N" addr add 2001:db8:1::10/64 dev eth1 nodad
	ip -n "$N" addr add 10.244.1.1/24 dev cali0
	ip -n "$C" addr add 203.0.113.1/24 dev eth0
	ip -n "$C" addr add 2001:db8:1::1/64 dev eth0 nodad
	ip -n "$P" addr add 10.244.1.2/24 dev eth0
	for l in "$N eth1" "$N cali0" "$C eth0" "$P eth0"; do
		set -- $l
		ip -n "$1" link set "$2" up
	done
	ip -n "$C" route add 203.0.113.50/32 via 203.0.113.10
	ip -n "$P" route add default via 10.244.1.1
	ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$N" nft -f - <<'NFT'
table ip kubeproxy {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		meta l4proto { tcp, udp } th dport 30080 dnat to 10.244.1.2:80
		ip daddr 203.0.113.50 meta l4proto { tcp, udp } th dport 80 dnat to 10.244.1.2:80
	}
}
NFT
	listen "$N" tcp:22 tcp:179 tcp:6060 tcp:7070 tcp:8080 tcp:9090 udp:5353 udp:8080
	listen "$P" tcp:80 udp:80
	listen "$C" tcp:179 tcp:9000 udp:53
}

check() {	# check NS FROM PROTO ADDR PORT WANT
	local got
	if [ "$3" = ping ]; then
		ip netns exec "$1" ping -q -c 1 -W 1 "$4" >/dev/null 2>&1
	else
		ip netns exec "$1" "$PROBE" "$3" "$4" "$5" 500
	fi
	[ $? = 0 ] && got=open || got=closed
	if [ "$got" = "$6" ]; then
		tap OK "$CASE: $2 $3 $4 $5 $6"
	else
		tap FAIL "$CASE: $2 $3 $4 $5 is $got, want $6"
		# What the table saw, for whoever reads the log.
		ip netns exec "$N" nft list table inet nftmgr 2>&1 |
			grep -E 'chain|counter packets [1-9]' | sed 's/^/# /'
	fi
}

run_case() {	# run_case FILE ID
	local file=$1 id=$2 script args=() common=(-f "$HERE/common/pod.yaml")
	CASE=$(basename "$file" .yaml)
	topology "$id"
	grep -q '^# no-common-hep' "$file" || common+=(-f "$HERE/common/hep.yaml")
	if grep -q '^# export: system' "$file"; then
		script=$(ip netns exec "$N" "$BIN" --node worker-1 export "${common[@]}" -f "$file")
	else
		args=(--local-address eth1=203.0.113.10 --local-address eth1=2001:db8:1::10)
		script=$("$BIN" --node worker-1 export "${common[@]}" -f "$file" "${args[@]}")
	fi
	# Loaded twice: the second load replaces the first, nothing else.
	if [ "${NETNS_LOAD:-nft}" = sync ]; then
		local sync=(ip netns exec "$N" "$BIN" --node worker-1 sync "${common[@]}" -f "$file" "${args[@]}")
		# From another case's table first, so that the case's own
		# table arrives by an incremental sync.
		ip netns exec "$N" "$BIN" --node worker-1 sync -f "$HERE/common/hep.yaml" -f "$HERE/common/pod.yaml" \
			-f "$HERE/cases/04-seed-v1-default-policies.yaml" "${args[@]}" >/dev/null
		if "${sync[@]}" >/dev/null && "${sync[@]}" >/dev/null &&
		   [ "$(ip netns exec "$N" nft list tables | sort | tr '\n' ' ')" = "table inet nftmgr table ip kubeproxy " ]; then
			tap OK "$CASE: nftmgr sync commits, twice, next to kube-proxy's table"
		else
			tap FAIL "$CASE: nftmgr sync commits"
		fi
	elif ip netns exec "$N" nft -f - <<<"$script" && ip netns exec "$N" nft -f - <<<"$script" &&
	   [ "$(ip netns exec "$N" nft list tables | sort | tr '\n' ' ')" = "table inet nftmgr table ip kubeproxy " ]; then
		tap OK "$CASE: export loads with nft -f, twice, next to kube-proxy's table"
	else
		tap FAIL "$CASE: export loads with nft -f"
	fi
	while read -r _ _ from proto addr port want; do
		local ns=$C
		[ "$from" = node ] && ns=$N
		[ "$from" = pod ] && ns=$P
		check "$ns" "$from" "$proto" "$addr" "$port" "$want"
	done < <(grep '^# expect:' "$file")
	cleanup
}

id=$$
cases=("$@")
[ ${#cases[@]} = 0 ] && cases=("$HERE"/cases/*.yaml)
for f in "${cases[@]}"; do
	id=$((id + 1))
	run_case "$f" "$id"
done
tap_done
