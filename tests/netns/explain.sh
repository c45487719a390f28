#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# explain against the kernel: for every namespace case, the case's table
# is loaded (nft -f of the export) into a node namespace and real
# connections from a client namespace (TCP and UDP, IPv4 and IPv6, to
# ports that have listeners) are compared with what `nftmgr explain` says
# of the same packet: open must be accept, closed must be drop. TAP, one
# line per case.
set -u
. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
PROBE=${PROBE_BIN:?}
C=nec-$$ N=nen-$$

need_netns

client_and_node "$C" "$N" 6
ip netns exec "$N" "$PROBE" listen tcp:22 tcp:179 tcp:6060 tcp:7070 tcp:8080 tcp:9090 \
	udp:5353 udp:8080 >/dev/null &
sleep 0.3
ARGS=(--node worker-1 --local-address eth1=203.0.113.10 --local-address eth1=2001:db8:1::10)
PACKETS="4 tcp 22;4 tcp 179;4 tcp 6060;4 tcp 7070;4 tcp 8080;4 tcp 9090;4 udp 5353;4 udp 8080;6 tcp 8080;6 tcp 9090;6 tcp 22"

for f in "$SRC"/tests/netns/cases/*.yaml; do
	name=$(basename "$f" .yaml)
	in=(-f "$f")
	grep -q '^# no-common-hep' "$f" || in=(-f "$SRC/tests/netns/common/hep.yaml" "${in[@]}")
	"$BIN" "${ARGS[@]:0:2}" export "${in[@]}" "${ARGS[@]:2}" >"$T/x.nft" &&
		ip netns exec "$N" nft -f "$T/x.nft" || { echo "not ok $((++n)) - $name: load"; failed=$((failed + 1)); continue; }
	bad= checked=0 drops=0
	IFS=';' read -ra pkts <<<"$PACKETS"
	for pk in "${pkts[@]}"; do
		set -- $pk
		if [ "$1" = 4 ]; then src=203.0.113.1 dst=203.0.113.10; else src=2001:db8:1::1 dst=2001:db8:1::10; fi
		if ip netns exec "$C" "$PROBE" "$2" "$dst" "$3" 300; then kernel=accept; else kernel=drop; fi
		said=$("$BIN" "${ARGS[@]:0:2}" explain "${in[@]}" "${ARGS[@]:2}" --in eth1 \
			--src "$src" --dst "$dst" --proto "$2" --dport "$3" | sed -n 's/^verdict: \([a-z]*\),.*/\1/p')
		checked=$((checked + 1))
		[ "$kernel" = drop ] && drops=$((drops + 1))
		[ "$said" = "$kernel" ] || bad="$bad [$2 $dst $3: kernel $kernel, explain ${said:-nothing}]"
	done
	n=$((n + 1))
	if [ -z "$bad" ]; then
		echo "ok $n - $name: explain agrees with the kernel on $checked packets ($drops dropped)"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: explain disagrees with the kernel:$bad"
	fi
done
tap_done
