#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nftmgr trace against the kernel: for real packets (v4 and v6, TCP and
# UDP, for the host and from it) the path trace prints must end in the
# verdict the traffic itself met and in the very words explain uses for
# the same packet (policy, rule, chain). The marking table must go away
# with the command, even when it is killed. TAP output.
set -u
. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
PROBE=${PROBE_BIN:?}
C=ntc-$$ N=ntn-$$ E=nte-$$

need_netns

client_and_node "$C" "$N" 6
netns_add "$E"
ip netns exec "$N" "$PROBE" listen tcp:22 tcp:8080 tcp:9090 udp:8080 >/dev/null &
ip netns exec "$C" "$PROBE" listen tcp:7000 >/dev/null &
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec: {datastoreType: file}\n' >"$T/cfg"
nm() { ip netns exec "$N" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" --node worker-1 "$@"; }
nm apply -f "$SRC/tests/netns/common/hep.yaml" >/dev/null
nm apply -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null
sleep 0.3

# trace_one NAME TRACE-ARGS -- EXPLAIN-ARGS -- PROBE-NS PROBE-ARGS
trace_one() {
	local name=$1 targs=() eargs=() ns pargs kernel said traced
	shift
	while [ "$1" != -- ]; do targs+=("$1"); shift; done
	shift
	while [ "$1" != -- ]; do eargs+=("$1"); shift; done
	shift
	ns=$1
	shift
	nm trace "${targs[@]}" --count 1 --duration 5s >"$T/trace.out" 2>&1 &
	local pid=$!
	for _ in $(seq 50); do grep -q '^Tracing' "$T/trace.out" && break; sleep 0.1; done
	if ip netns exec "$ns" "$PROBE" "$@" 300; then kernel=accept; else kernel=drop; fi
	wait $pid
	traced=$(grep '^verdict:' "$T/trace.out" | head -1)
	said=$(nm explain "${eargs[@]}" | grep '^verdict:')
	if [ -n "$traced" ] && [ "$traced" = "$said" ] && [ "${traced#verdict: $kernel,}" != "$traced" ]; then
		tap OK "$name: the kernel's $kernel; trace and explain agree: ${traced#verdict: }"
	else
		tap FAIL "$name: kernel $kernel / trace '${traced:-nothing}' / explain '$said'"
		sed 's/^/# /' "$T/trace.out"
	fi
}

v4=(--src 203.0.113.1 --dst 203.0.113.10)
v6=(--src 2001:db8:1::1 --dst 2001:db8:1::10)
trace_one "tcp 8080 (v4), allowed by the policy" --in eth1 --proto tcp --dport 8080 -- \
	--in eth1 "${v4[@]}" --proto tcp --dport 8080 -- "$C" tcp 203.0.113.10 8080
trace_one "tcp 9090 (v4), no policy allows it" --in eth1 --proto tcp --dport 9090 -- \
	--in eth1 "${v4[@]}" --proto tcp --dport 9090 -- "$C" tcp 203.0.113.10 9090
trace_one "udp 8080 (v4), TCP only in the policy" --in eth1 --proto udp --dport 8080 -- \
	--in eth1 "${v4[@]}" --proto udp --dport 8080 -- "$C" udp 203.0.113.10 8080
trace_one "tcp 8080 (v6), allowed by the policy" --in eth1 --src 2001:db8:1::/64 --proto tcp --dport 8080 -- \
	--in eth1 "${v6[@]}" --proto tcp --dport 8080 -- "$C" tcp 2001:db8:1::10 8080
trace_one "tcp 22 (v6), failsafe" --in eth1 --proto tcp --dport 22 -- \
	--in eth1 "${v6[@]}" --proto tcp --dport 22 -- "$C" tcp 2001:db8:1::10 22
trace_one "tcp 7000 from the host (output), default deny" --out eth1 --proto tcp --dport 7000 -- \
	--out eth1 --src 203.0.113.10 --dst 203.0.113.1 --proto tcp --dport 7000 -- "$N" tcp 203.0.113.1 7000

if grep -q '^packet 1: out eth1 tcp 203.0.113.10:[0-9]* -> 203.0.113.1:7000$' "$T/trace.out" &&
   grep -q '^  filter-output: dispatch -> goto filter-out-eth1$' "$T/trace.out"; then
	tap OK "the path names the packet and each rule it met in our chains"
else
	tap FAIL "the path names the packet and each rule it met in our chains"
	sed 's/^/# /' "$T/trace.out"
fi

# Tiers: the deciding rule names its tier, the path the tiers it went through.
nm apply -f "$SRC/tests/netns/cases/25-tiers-pass-and-order.yaml" >/dev/null
sleep 0.3
trace_one "tcp 9090 (v4), denied in tier security" --in eth1 --proto tcp --dport 9090 -- \
	--in eth1 "${v4[@]}" --proto tcp --dport 9090 -- "$C" tcp 203.0.113.10 9090
expect "  ... the verdict names the tier" "$T/trace.out" "^verdict: drop, by policy security.deny-9090 ingress rule 0 \(tier security\)"
trace_one "tcp 8080 (v4), passed by tier security, allowed in default" --in eth1 --proto tcp --dport 8080 -- \
	--in eth1 "${v4[@]}" --proto tcp --dport 8080 -- "$C" tcp 203.0.113.10 8080
expect "  ... the path goes through both tiers" "$T/trace.out" "tier security"
expect "  ... and the default tier" "$T/trace.out" "tier default"

tables=$(ip netns exec "$N" nft list tables | tr '\n' ' ')
# no function or subshell in between: $! is the command itself
ip netns exec "$N" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" trace --duration 30s \
	>"$T/killed.out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q '^Tracing' "$T/killed.out" && break; sleep 0.1; done
during=$(ip netns exec "$N" nft list tables | tr '\n' ' ')
kill -9 $pid
wait $pid 2>/dev/null
sleep 0.2
after=$(ip netns exec "$N" nft list tables | tr '\n' ' ')
if [ "$tables" = "table inet nftmgr " ] && [ "$during" = "table inet nftmgr table inet nftmgr-trace " ] &&
   [ "$after" = "$tables" ]; then
	tap OK "the marking table exists while tracing and goes away with the command, even killed -9"
else
	tap FAIL "the marking table goes away with the command ($tables / $during / $after)"
fi

ip netns exec "$E" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" trace --duration 1 >"$T/none.out" 2>&1
st=$?
if [ $st = 1 ] && grep -q "not in the kernel" "$T/none.out" &&
   [ -z "$(ip netns exec "$E" nft list tables)" ]; then
	tap OK "no table of ours: exit 1, a clear message, nothing added"
else
	tap FAIL "no table of ours: exit 1, a clear message, nothing added (exit $st)"
fi
nm trace --dport 80 >/dev/null 2>&1
b1=$?
nm trace --src 10.0.0.0/8 --dst 2001:db8::1 >/dev/null 2>&1
b2=$?
nm trace --duration 2h >/dev/null 2>&1
b3=$?
if [ "$b1 $b2 $b3" = "2 2 2" ]; then
	tap OK "bad filters and durations: exit 2"
else
	tap FAIL "bad filters and durations: exit 2 ($b1 $b2 $b3)"
fi
tap_done
