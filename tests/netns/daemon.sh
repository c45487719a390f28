#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nftmgr daemon with the file datastore, in a network namespace of its
# own: commits at start, follows the store, coalesces bursts, owns the
# table while it runs (flush ruleset and other processes cannot touch it),
# leaves the rules in force when stopped, and a new daemon adopts them.
# TAP output.
set -u

. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}

need_netns

# The suite runs in a network namespace of its own (unshare -n), sharing
# tests/lib.sh and $T with this script.
cat >"$T/inner.sh" <<'INNER'
set -u
BIN=$1 SRC=$2 LIB_T=$3
. "$SRC/tests/lib.sh"
# has_rule COMMENT: a rule with that comment is in the table (short
# policies are copied into the endpoint chains, so look at rules)
has_rule() {
	nft list table inet nftmgr 2>/dev/null | grep -q "comment \"$1\""
}
nm() { "$BIN" -c "$T/none.cfg" --datastore-dir "$T/store" --node worker-1 "$@"; }
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec: {datastoreType: file}\n' >"$T/none.cfg"
ip link add eth1 type veth peer name eth1-peer && ip addr add 203.0.113.10/24 dev eth1
nm apply --no-sync -f "$SRC/tests/netns/common/hep.yaml" >/dev/null
"$BIN" -c "$T/none.cfg" --datastore-dir "$T/store" --node worker-1 daemon 2>"$T/daemon.log" &
pid=$!
if until_ok 5 nft list chain inet nftmgr filter-in-eth1; then
	tap OK "the daemon commits this node's table at start"
else
	tap FAIL "the daemon commits this node's table at start"
fi
nm apply --no-sync -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null
if until_ok 3 has_rule "policy allow-8080 ingress rule 0"; then
	tap OK "a policy written to the store reaches the kernel"
else
	tap FAIL "a policy written to the store reaches the kernel"
fi
nft flush ruleset
if has_rule "policy allow-8080 ingress rule 0"; then
	tap OK "flush ruleset leaves the table the running daemon owns"
else
	tap FAIL "flush ruleset leaves the table the running daemon owns"
fi
if ! nft delete table inet nftmgr 2>/dev/null && nft list table inet nftmgr >/dev/null 2>&1; then
	tap OK "another process cannot delete the table"
else
	tap FAIL "another process cannot delete the table"
fi
nm delete --no-sync gnp allow-8080 >/dev/null
if until_ok 3 sh -c '! nft list table inet nftmgr | grep -q "policy allow-8080 "'; then
	tap OK "a policy deleted from the store leaves the kernel"
else
	tap FAIL "a policy deleted from the store leaves the kernel"
fi
before=$(grep -c 'change: committed' "$T/daemon.log")
for i in $(seq -w 1 40); do
	printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: burst-%s}\nspec: {order: %s, ingress: [{action: Allow, protocol: TCP, destination: {ports: [%s]}}]}\n' \
		"$i" "$i" "$((9000 + 10#$i))" >"$T/b.yaml"
	nm apply --no-sync -f "$T/b.yaml" >/dev/null
done
if until_ok 5 has_rule "policy burst-40 ingress rule 0" && sleep 0.5 &&
   [ "$(nft list table inet nftmgr | grep -c 'comment "policy burst-.. ingress rule 0"')" = 40 ]; then
	tap OK "40 writes in a burst all reach the kernel"
else
	tap FAIL "40 writes in a burst all reach the kernel"
fi
commits=$(( $(grep -c 'change: committed' "$T/daemon.log") - before ))
if [ "$commits" -lt 40 ]; then
	tap OK "the burst took $commits commits, not 40"
else
	tap FAIL "the burst took $commits commits, not fewer than 40"
fi
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" = 0 ] && has_rule "policy burst-40 ingress rule 0"; then
	tap OK "SIGTERM stops the daemon and leaves the rules in force"
else
	tap FAIL "SIGTERM stops the daemon and leaves the rules in force (exit $rc)"
fi
"$BIN" -c "$T/none.cfg" --datastore-dir "$T/store" --node worker-1 daemon 2>"$T/daemon2.log" &
pid=$!
nm apply --no-sync -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null
if until_ok 5 has_rule "policy allow-8080 ingress rule 0"; then
	tap OK "a new daemon adopts the table and goes on"
else
	tap FAIL "a new daemon adopts the table and goes on"
	sed 's/^/# /' "$T/daemon2.log"
fi
# apply --confirm-within while the daemon owns the table: the command's own
# sync cannot commit, but the daemon takes the change from the store; no
# confirm comes, the helper puts the store back, and the daemon follows.
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: unconfirmed}\nspec: {ingress: [{action: Allow, protocol: TCP, destination: {ports: [7777]}}]}\n' >"$T/u.yaml"
nm apply --confirm-within 3s -f "$T/u.yaml" >"$T/u.out" 2>&1
if until_ok 3 has_rule "policy unconfirmed ingress rule 0" && nm confirm --status | grep -q '^pending'; then
	tap OK "apply --confirm-within under the daemon: the daemon commits the change, a rollback awaits"
else
	tap FAIL "apply --confirm-within under the daemon: the daemon commits the change, a rollback awaits"
	sed 's/^/# /' "$T/u.out"
fi
if until_ok 8 sh -c '! nft list table inet nftmgr | grep -q "policy unconfirmed "' &&
   ! nm get gnp unconfirmed >/dev/null 2>&1 && has_rule "policy allow-8080 ingress rule 0"; then
	tap OK "  ... not confirmed: the store is put back and the daemon takes the policy out again"
else
	tap FAIL "  ... not confirmed: the store is put back and the daemon takes the policy out again"
fi
kill -TERM "$pid"
wait "$pid"
# The periodic resync (every 400 ms here) reads nothing back while the
# ruleset's generation is the one our last commit left; once another
# transaction (another table) came, it reads the table back.
NFTMGR_TEST_RESYNC_MS=400 "$BIN" -c "$T/none.cfg" --datastore-dir "$T/store" --node worker-1 \
	daemon 2>"$T/daemon3.log" &
pid=$!
until_ok 5 grep -q 'start: ' "$T/daemon3.log"
sleep 1.5
if grep -q 'as our last commit left it' "$T/daemon3.log" && ! grep -q 'resync: up to date' "$T/daemon3.log"; then
	tap OK "the periodic resync reads nothing back while the generation is ours"
else
	tap FAIL "the periodic resync reads nothing back while the generation is ours"
	sed 's/^/# /' "$T/daemon3.log"
fi
nft add table inet other
if until_ok 3 grep -q 'resync: up to date' "$T/daemon3.log"; then
	tap OK "  ... after another table's transaction it reads the table back"
else
	tap FAIL "  ... after another table's transaction it reads the table back"
	sed 's/^/# /' "$T/daemon3.log"
fi
nft delete table inet other
kill -TERM "$pid"
wait "$pid"
# Type=notify: READY=1 once the table is committed, then STATUS= lines.
python3 - "$T/notify" >"$T/notify.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(10)
try:
    while True:
        msg = s.recv(4096).decode()
        print(msg, flush=True)
        if "READY=1" in msg:
            break
except socket.timeout:
    pass
PY
listener=$!
until_ok 3 test -S "$T/notify"
NOTIFY_SOCKET=$T/notify "$BIN" -c "$T/none.cfg" --datastore-dir "$T/store" --node worker-1 daemon 2>/dev/null &
pid=$!
wait "$listener"
if grep -q '^READY=1' "$T/notify.txt" && nft list table inet nftmgr >/dev/null 2>&1; then
	tap OK "the daemon tells systemd READY=1 after the first commit"
else
	tap FAIL "the daemon tells systemd READY=1 after the first commit"
	sed 's/^/# /' "$T/notify.txt"
fi
kill -TERM "$pid"
wait "$pid"
# Least privilege, started as root by hand: CAP_NET_ADMIN alone once up,
# a password given in the environment gone from /proc/PID/environ, the
# metrics given a port alone on the loopback, the store 0600 in 0700.
ip link set lo up
ETCD_PASSWORD=never-shown "$BIN" -c "$T/none.cfg" --datastore-dir "$T/store" --node worker-1 \
	daemon --metrics-address 9199 2>"$T/daemon3.log" &
pid=$!
until_ok 5 sh -c "grep -q 'start:' $T/daemon3.log"
caps=$(grep -E '^Cap(Eff|Prm|Bnd|Inh|Amb):' /proc/$pid/status | awk '{print $2}' | tr '\n' ' ')
# CapInh CapPrm CapEff CapBnd CapAmb, in the order /proc lists them
if [ "$caps" = "0000000000000000 0000000000001000 0000000000001000 0000000000001000 0000000000000000 " ]; then
	tap OK "started as root, the daemon keeps CAP_NET_ADMIN alone"
else
	tap FAIL "started as root, the daemon keeps CAP_NET_ADMIN alone ($caps)"
fi
if grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$pid/status; then
	tap OK "  ... and no new privileges"
else
	tap FAIL "  ... and no new privileges"
fi
if ! tr '\0' '\n' </proc/$pid/environ | grep -q never-shown && ! grep -q never-shown "$T/daemon3.log" &&
   ! tr '\0' ' ' </proc/$pid/cmdline | grep -q never-shown; then
	tap OK "a password in the environment is in neither /proc/PID/environ, the command line nor the log"
else
	tap FAIL "a password in the environment is in neither /proc/PID/environ, the command line nor the log"
fi
if ss -ltnH | awk '{print $4}' | grep -qx '127.0.0.1:9199'; then
	tap OK "--metrics-address PORT listens on 127.0.0.1 only"
else
	tap FAIL "--metrics-address PORT listens on 127.0.0.1 only"
	ss -ltn | sed 's/^/# /'
fi
nm apply --no-sync -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null
if until_ok 3 has_rule "policy allow-8080 ingress rule 0"; then
	tap OK "  ... and still commits what the store says"
else
	tap FAIL "  ... and still commits what the store says"
fi
modes=$( (stat -c '%a' "$T/store"; find "$T/store" -mindepth 1 -type d -exec stat -c '%a' {} +) | sort -u | tr '\n' ' ')
fmodes=$(find "$T/store" -type f ! -name .lock -exec stat -c '%a' {} + | sort -u | tr '\n' ' ')
if [ "$modes" = "700 " ] && [ "$fmodes" = "600 " ]; then
	tap OK "the file datastore: directories 0700, files 0600"
else
	tap FAIL "the file datastore: directories 0700, files 0600 (dirs: $modes files: $fmodes)"
fi
kill -TERM "$pid"
wait "$pid"
tap_done
INNER
unshare -n bash "$T/inner.sh" "$BIN" "$SRC" "$T"
