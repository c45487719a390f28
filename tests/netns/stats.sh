#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Counters in policy terms, against real traffic: get -o wide counts a
# policy's packets per policy and per rule, get hep -o wide per endpoint,
# stats shows each endpoint chain's rules. TAP output.
set -u
. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
PROBE=${PROBE_BIN:?}
C=nsc-$$ N=nsn-$$

need_netns

client_and_node "$C" "$N"
ip netns exec "$N" "$PROBE" listen tcp:8080 tcp:9090 >/dev/null &
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec: {datastoreType: file}\n' >"$T/cfg"
nm() { ip netns exec "$N" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" --node worker-1 "$@"; }
nm apply -f "$SRC/tests/netns/common/hep.yaml" >/dev/null
nm apply -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null
sleep 0.3
for i in 1 2 3; do ip netns exec "$C" "$PROBE" tcp 203.0.113.10 8080 500; done
for i in 1 2; do ip netns exec "$C" "$PROBE" tcp 203.0.113.10 9090 300; done

nm get gnp -o wide >"$T/gnp.txt"
pk=$(awk '$1 == "allow-8080" { print $(NF - 1) }' "$T/gnp.txt")
rule=$(awk '$1 == "ingress" && $2 == "rule" && $3 == "0" { print $(NF - 1) }' "$T/gnp.txt")
if [ "${pk:-0}" -ge 3 ] && [ "$pk" = "$rule" ]; then
	tap OK "get gnp -o wide: the policy counted its 3 connections ($pk packets), rule 0 alike"
else
	tap FAIL "get gnp -o wide: the policy counted its 3 connections"
	sed 's/^/# /' "$T/gnp.txt"
fi
nm get hep -o wide >"$T/hep.txt"
hp=$(awk '$1 == "worker-1-public" { print $(NF - 1) }' "$T/hep.txt")
if [ "${hp:-0}" -gt "$pk" ]; then
	tap OK "get hep -o wide: the endpoint counted more than the policy ($hp packets)"
else
	tap FAIL "get hep -o wide: the endpoint counted more than the policy"
	sed 's/^/# /' "$T/hep.txt"
fi
nm stats >"$T/stats.txt"
denied=$(awk '$1 == "filter-in-eth1" && $2 == "no" && $3 == "policy" { print $(NF - 1) }' "$T/stats.txt")
if [ "${denied:-0}" -ge 2 ]; then
	tap OK "stats: the endpoint's 'no policy allowed' rule counted the denied connections ($denied)"
else
	tap FAIL "stats: the endpoint's 'no policy allowed' rule counted the denied connections"
	sed 's/^/# /' "$T/stats.txt"
fi
# Policies in an address map (case 34): each still counts its own packets,
# in its rule's chain of its own.
nm apply -f "$SRC/tests/netns/cases/34-address-maps.yaml" >/dev/null
if ip netns exec "$N" nft list table inet nftmgr | grep -q 'ip saddr & 255.255.255.248 vmap'; then
	tap OK "address maps: case 34's policies are in a map"
else
	tap FAIL "address maps: case 34's policies are in a map"
fi
for i in 1 2; do ip netns exec "$C" "$PROBE" tcp 203.0.113.10 9090 300; done
nm get gnp -o wide >"$T/gnp2.txt"
deny=$(awk '$1 == "deny-9090" { print $(NF - 1) }' "$T/gnp2.txt")
other=$(awk '$1 == "v4-0" { print $(NF - 1) }' "$T/gnp2.txt")
if [ "${deny:-0}" -ge 2 ] && [ "${other:-x}" = 0 ]; then
	tap OK "get gnp -o wide: deny-9090 counted its dropped connections ($deny packets) through the map, v4-0 none"
else
	tap FAIL "get gnp -o wide: deny-9090 counted its dropped connections through the map, v4-0 none"
	sed 's/^/# /' "$T/gnp2.txt"
fi
tap_done
