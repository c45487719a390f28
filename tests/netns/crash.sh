#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash safety, kept proven: the daemon (file datastore) is killed with
# SIGKILL at random moments while policies change, 30 times, with a
# prober running all along from a client namespace: a port no policy
# allows is never open, the failsafe SSH port never closed; after each
# restart the table equals the one the store compiles to. And a write to
# a file datastore on a full file system is refused with a clear message
# and leaves the store as it was. TAP output.
set -u
. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
PROBE=${PROBE_BIN:?}
C=ncc-$$ N=ncn-$$ S=ncs-$$
ROUNDS=${CRASH_ROUNDS:-30}

need_netns

client_and_node "$C" "$N"
netns_add "$S"
ip netns exec "$N" "$PROBE" listen tcp:22 tcp:8080 tcp:9999 >/dev/null &
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec: {datastoreType: file}\n' >"$T/cfg"
nm() { ip netns exec "$N" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" --node worker-1 "$@"; }
nm apply -f "$SRC/tests/netns/common/hep.yaml" >/dev/null
nm apply -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null

# The prober: 22 must answer, 9999 (no policy allows it) must not.
ip netns exec "$C" bash -c '
	while [ ! -e "$1/stop" ]; do
		"$2" tcp 203.0.113.10 22 200 || echo "$(date +%T.%N) 22 closed"
		"$2" tcp 203.0.113.10 9999 200 && echo "$(date +%T.%N) 9999 open"
		sleep 0.02
	done' _ "$T" "$PROBE" >"$T/violations" 2>&1 &
prober=$!

# The changes the daemon is killed among: policies appear, change, vanish.
policy() {	# policy NAME PORT
	printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: %s}\nspec: {selector: ibm.role == "worker_public", ingress: [{action: Allow, protocol: TCP, destination: {ports: [%s]}}]}\n' "$1" "$2"
}

# The table in force, and the one the store compiles to (nft -f of the
# export in a scratch namespace), both listed by nft, counters aside.
# The owner and persist flags and blank lines aside too (the daemon owns
# its table; nft -f does not).
norm() { sed -E 's/counter packets [0-9]+ bytes [0-9]+ //; s/ # progname [^ ]+$//; /^\tflags /d; /^$/d'; }
listing() { ip netns exec "$1" nft list table inet nftmgr 2>/dev/null | norm; }
expected() {
	ip netns exec "$S" nft delete table inet nftmgr 2>/dev/null
	nm export --local-address eth1=203.0.113.10 | ip netns exec "$S" nft -f - && listing "$S"
}

same_as_store() { listing "$N" | cmp -s - "$T/want.txt"; }

bad=0
for round in $(seq "$ROUNDS"); do
	ip netns exec "$N" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" --node worker-1 daemon \
		2>>"$T/daemon.log" &
	pid=$!
	for k in 1 2 3; do
		policy "p$k" $((7000 + (round * 3 + k) % 50)) | nm apply --no-sync -f - >/dev/null
		sleep "0.0$((RANDOM % 10))"
	done
	nm delete --no-sync gnp "p$((round % 3 + 1))" >/dev/null
	sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	# restarted: it catches up with the store
	ip netns exec "$N" "$BIN" -c "$T/cfg" --datastore-dir "$T/store" --node worker-1 daemon \
		2>>"$T/daemon.log" &
	pid=$!
	expected >"$T/want.txt"
	if ! until_ok 5 same_as_store; then
		bad=$((bad + 1))
		listing "$N" | diff "$T/want.txt" - | head -20 >"$T/diff.$round"
	fi
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
done
touch "$T/stop"
wait "$prober"
if [ "$bad" = 0 ]; then
	tap OK "$ROUNDS daemons killed with SIGKILL among changes: after each restart the table equals the store's"
else
	tap FAIL "$ROUNDS daemons killed with SIGKILL among changes: $bad restarts left another table"
	note "$T"/diff.*
fi
if [ ! -s "$T/violations" ]; then
	tap OK "  ... and all along, port 9999 (no policy) was never open, the failsafe 22 never closed"
else
	tap FAIL "  ... port 9999 open or 22 closed at some moment"
	note "$T/violations"
fi

# A full file system: the write is refused, clearly, and nothing changes.
unshare -m bash -c '
	set -u
	T=$1 BIN=$2 SRC=$3
	mkdir -p "$T/full" && mount -t tmpfs -o size=64k tmpfs "$T/full" || exit 99
	"$BIN" -c "$T/cfg" --datastore-dir "$T/full/store" apply --no-sync \
		-f "$SRC/tests/netns/common/hep.yaml" >/dev/null || exit 98
	(cd "$T/full/store" && find . -type f -exec sha256sum {} + | sort) >"$T/full-before"
	# fill what is left
	dd if=/dev/zero of="$T/full/filler" bs=4k 2>/dev/null
	"$BIN" -c "$T/cfg" --datastore-dir "$T/full/store" apply --no-sync \
		-f "$SRC/examples" >"$T/full-out" 2>&1
	echo "rc=$?" >"$T/full-rc"
	(cd "$T/full/store" && find . -type f -exec sha256sum {} + | sort) >"$T/full-after"
	umount "$T/full"' _ "$T" "$BIN" "$SRC"
if [ "$(cat "$T/full-rc" 2>/dev/null)" = rc=1 ] && grep -q 'No space left on device' "$T/full-out" &&
	cmp -s "$T/full-before" "$T/full-after"; then
	tap OK "a full file system: apply exits 1 with 'No space left on device', the store unchanged"
else
	tap FAIL "a full file system: apply exits 1 with 'No space left on device', the store unchanged"
	note "$T/full-rc" "$T/full-out"
fi
tap_done
