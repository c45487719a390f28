#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Commits awaiting confirmation, against a real kernel and real traffic.
# The client reaches the node on TCP 8080 (its "ssh"); a policy change
# moves the allowed port to 9090 and so locks it out. Without a confirm
# (and with the operator's whole session killed) the table and the
# stored resources come back as they were; with one they stay. The
# kernel's own listing is the oracle for "as they were". TAP output.
set -u
. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
PROBE=${PROBE_BIN:?}
C=nsc-$$ N=nsn-$$ E=nse-$$
# no helper may outlive the test: roll back whatever still waits
rollback_all() {
	for ns in "$N" "$E"; do
		ip netns exec "$ns" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" confirm \
			--rollback >/dev/null 2>&1
	done
}
at_exit rollback_all

need_netns

client_and_node "$C" "$N"
netns_add "$E"
ip netns exec "$N" "$PROBE" listen tcp:8080 tcp:9090 >/dev/null &
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec: {datastoreType: file}\n' >"$T/cfg"
nm() { ip netns exec "$N" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" --node worker-1 "$@"; }
reach() { ip netns exec "$C" "$PROBE" tcp 203.0.113.10 "$1" 300; }
# The table as the kernel lists it, counters aside (traffic moves them).
listing() {
	ip netns exec "${2:-$N}" nft list table inet "${1:-nftmgr}" 2>&1 |
		sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'
}
stored() { nm get gnp -o yaml 2>&1 | grep -v -e resourceVersion -e creationTimestamp -e uid:; }
# check NAME FILE-A FILE-B: the same, else the difference
same() {
	if cmp -s "$2" "$3"; then tap OK "$1"; else tap FAIL "$1"; diff "$2" "$3" | sed 's/^/# /'; fi
}
pending() { nm confirm --status | grep -q '^pending'; }

cat >"$T/move.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-8080}
spec:
  selector: ibm.role == 'worker_public'
  ingress:
  - action: Allow
    protocol: TCP
    destination: {ports: [9090]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-9091}
spec:
  selector: ibm.role == 'worker_public'
  ingress:
  - action: Allow
    protocol: TCP
    destination: {nets: [198.51.100.0/24], ports: ["9091:9099"]}
  - action: Allow
    protocol: TCP
    destination: {nets: ["2001:db8:9::/64"], ports: ["9091:9099"]}
EOF

nm apply -f "$SRC/tests/netns/common/hep.yaml" >/dev/null
nm apply -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null
if reach 8080 && ! reach 9090; then
	tap OK "before: the client reaches the node on 8080, not 9090"
else
	tap FAIL "before: the client reaches the node on 8080, not 9090"
fi
listing >"$T/before.nft"
stored >"$T/before.store"

# 1. The operator's session applies the change and dies with everything
#    it started (kill -9 of its whole session, as when ssh is cut).
setsid bash -c "$(declare -f nm); N=$N BIN=$BIN T=$T; nm apply --confirm-within 4s -f $T/move.yaml; sleep 60" \
	>"$T/session.out" 2>&1 &
for _ in $(seq 50); do grep -q Awaiting "$T/session.out" && break; sleep 0.1; done
sid=$(ps -o sid= -p $! | tr -d ' ')
[ -n "$sid" ] && pkill -9 -s "$sid"
if grep -q "^Awaiting confirmation: run 'nftmgr confirm' within 4 s" "$T/session.out" &&
   ! reach 8080 && reach 9090 && ! ps -o pid= -s "$sid" | grep -q .; then
	tap OK "apply --confirm-within: committed, the client is locked out of 8080, the session is gone"
else
	tap FAIL "apply --confirm-within: committed, the client is locked out of 8080, the session is gone"
	sed 's/^/# /' "$T/session.out"
fi
listing >"$T/moved.nft"
stored >"$T/moved.store"
if pending && grep -q 9091-9099 "$T/moved.nft" && grep -q allow-9091 "$T/moved.store"; then
	tap OK "the helper outlived the session; the change is in the kernel and the store"
else
	tap FAIL "the helper outlived the session; the change is in the kernel and the store"
fi
for _ in $(seq 60); do pending || break; sleep 0.1; done
if ! pending && reach 8080 && ! reach 9090; then
	tap OK "no confirm came: at the deadline the client reaches 8080 again, 9090 is closed"
else
	tap FAIL "no confirm came: at the deadline the client reaches 8080 again, 9090 is closed"
fi
listing >"$T/rolled.nft"
same "rolled back: the kernel's listing of the table equals the one before" \
	"$T/before.nft" "$T/rolled.nft"
stored >"$T/rolled.store"
same "rolled back: the stored resources equal the ones before (allow-9091 gone)" \
	"$T/before.store" "$T/rolled.store"

# 2. The same change, confirmed (over another path): it stays.
nm apply --confirm-within 3s -f "$T/move.yaml" >"$T/apply2.out" 2>&1
listing >"$T/moved2.nft"
if nm confirm >"$T/confirm.out" && grep -q '^confirmed' "$T/confirm.out"; then
	tap OK "confirm: the helper answers 'confirmed'"
else
	tap FAIL "confirm: the helper answers 'confirmed'"
	sed 's/^/# /' "$T/apply2.out" "$T/confirm.out"
fi
sleep 3.5
if ! reach 8080 && reach 9090 && ! pending; then
	tap OK "confirmed: past the deadline the change stays (8080 closed, 9090 open)"
else
	tap FAIL "confirmed: past the deadline the change stays (8080 closed, 9090 open)"
fi
listing >"$T/kept.nft"
same "confirmed: the kernel's listing is the one committed" "$T/moved2.nft" "$T/kept.nft"
if nm confirm >/dev/null 2>&1; then
	tap FAIL "confirm with nothing pending fails"
else
	tap OK "confirm with nothing pending fails"
fi

# 3. sync --confirm-within from files, rolled back at once on request;
#    a second commit awaiting confirmation is refused and changes nothing.
nm sync --confirm-within 2m -f "$SRC/tests/netns/common/hep.yaml" \
	-f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null
listing >"$T/synced.nft"
stored >"$T/synced.store"
nm apply --confirm-within 1m -f "$SRC/tests/netns/cases/05-allow-port.yaml" >"$T/second.out" 2>&1
st=$?
listing >"$T/second.nft"
stored >"$T/second.store"
if [ $st = 1 ] && grep -q "awaits confirmation already" "$T/second.out" &&
   cmp -s "$T/synced.nft" "$T/second.nft" && cmp -s "$T/synced.store" "$T/second.store"; then
	tap OK "a second --confirm-within while one waits: refused, exit 1, kernel and store untouched"
else
	tap FAIL "a second --confirm-within while one waits: refused, exit 1, kernel and store untouched"
	sed 's/^/# /' "$T/second.out"
fi
if reach 8080 && nm confirm --rollback | grep -q '^rolled back' && ! reach 8080 && ! pending; then
	tap OK "confirm --rollback: back at once (8080 closed again)"
else
	tap FAIL "confirm --rollback: back at once (8080 closed again)"
fi
listing >"$T/back.nft"
same "confirm --rollback: the listing equals the confirmed one" "$T/kept.nft" "$T/back.nft"
stored >"$T/back.store"
same "sync --confirm-within leaves the store alone when rolled back" "$T/moved.store" "$T/back.store"

# 4. No table before: rolling back removes ours and touches no other.
ip netns exec "$E" nft add table inet other
ee() { ip netns exec "$E" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" --node worker-1 "$@"; }
ee sync --confirm-within 1 >/dev/null
have=$(ip netns exec "$E" nft list tables | sort | tr '\n' ' ')
sleep 1.5
for _ in $(seq 30); do ee confirm --status | grep -q '^pending' || break; sleep 0.1; done
after=$(ip netns exec "$E" nft list tables | tr '\n' ' ')
if [ "$have" = "table inet nftmgr table inet other " ] && [ "$after" = "table inet other " ]; then
	tap OK "no table before: the rollback deletes ours, the other table stays"
else
	tap FAIL "no table before: the rollback deletes ours, the other table stays ($have / $after)"
fi

# 5. Bad input: exit 1 (2 for a bad duration), nothing pending, nothing changed.
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: x}\nspec: {order: many}\n' \
	>"$T/bad.yaml"
nm apply --confirm-within 5s -f "$T/bad.yaml" >/dev/null 2>&1
b1=$?
nm sync --confirm-within 5s -f "$T/bad.yaml" >/dev/null 2>&1
b2=$?
nm sync --confirm-within 2h >/dev/null 2>&1
b3=$?
nm apply --confirm-within 0 -f "$T/move.yaml" >/dev/null 2>&1
b4=$?
listing >"$T/bad.nft"
if [ "$b1 $b2 $b3 $b4" = "1 1 2 2" ] && ! pending && cmp -s "$T/kept.nft" "$T/bad.nft"; then
	tap OK "bad input or duration: exit 1/2, nothing awaits confirmation, the kernel unchanged"
else
	tap FAIL "bad input or duration: exit 1/2, nothing awaits confirmation, the kernel unchanged ($b1 $b2 $b3 $b4)"
fi

# 6. A full ruleset (the bundled examples: maps, interval sets, v6) comes
#    back exactly.
nm sync -f "$SRC/examples" >/dev/null
listing >"$T/ex.nft"
nm sync --confirm-within 1m -f "$SRC/tests/netns/common/hep.yaml" >/dev/null
listing >"$T/ex-changed.nft"
nm confirm --rollback >/dev/null
listing >"$T/ex-back.nft"
if ! cmp -s "$T/ex.nft" "$T/ex-changed.nft" && grep -q deny-kube-node-port-services "$T/ex.nft"; then
	tap OK "the examples' table ($(grep -c . "$T/ex.nft") lines) was replaced by another"
else
	tap FAIL "the examples' table was replaced by another"
fi
same "and came back exactly as the kernel listed it" "$T/ex.nft" "$T/ex-back.nft"

# 7. delete --confirm-within: the deleted policy comes back, in the store and
#    in the kernel.
nm sync >/dev/null
listing >"$T/del-before.nft"
stored >"$T/del-before.store"
reach 9090 && open_before=1 || open_before=0
nm delete gnp allow-8080 --confirm-within 1m >"$T/del.out" 2>&1
if [ $open_before = 1 ] && ! reach 9090 && ! nm get gnp allow-8080 >/dev/null 2>&1 && pending; then
	tap OK "delete --confirm-within: the policy is gone from the store and the kernel (9090 closed)"
else
	tap FAIL "delete --confirm-within: the policy is gone from the store and the kernel (9090 closed)"
	sed 's/^/# /' "$T/del.out"
fi
nm confirm --rollback >/dev/null
listing >"$T/del-after.nft"
stored >"$T/del-after.store"
if reach 9090 && cmp -s "$T/del-before.nft" "$T/del-after.nft" &&
   cmp -s "$T/del-before.store" "$T/del-after.store"; then
	tap OK "rolled back: the policy is stored again, 9090 open, the listing as before"
else
	tap FAIL "rolled back: the policy is stored again, 9090 open, the listing as before"
	diff "$T/del-before.store" "$T/del-after.store" | sed 's/^/# /'
fi
tap_done
