#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile datastore content against a running daemon, a real etcd on the
# loopback of a namespace (tests/etcd/hostile-put.py writes it): an 8 MB
# value, a value that is not UTF-8, JSON nested 100,000 deep, a value of
# the wrong kind under a key, 50,000 keys outside Calico's layout, 10,000
# puts from 16 clients at once (one client waits for each put's fsync:
# about 400 a second; 16 reach about 1,700, 48 no more than 1,850: etcd's
# own ceiling on this 2-core machine, so not 10,000 in one second). Each
# bad value is skipped with one log line naming its key, foreign keys are
# ignored, the burst is coalesced;
# the rest of the ruleset stays enforced, the daemon keeps running, and
# its memory stays bounded (peak under 96 MB, resident under 48 MB at the
# end; 192 and 128 MB under ASan). TAP output.
set -u
SRC=${NFTMGR_SOURCE:?}
BIN=${NFTMGR_BIN:?}
. "$SRC/tests/lib.sh"
need_netns
need_cmd etcd etcdctl python3

N=nhn-$$
EP=http://127.0.0.1:23890
P=/calico/resources/v3/projectcalico.org
netns_add "$N"
ip -n "$N" link set lo up
ip -n "$N" link add eth1 type veth peer name eth1p
ip -n "$N" link set eth1 up
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec: {}\n' >"$T/none.cfg"
# An 8 MB value needs a larger request limit than etcd's 1.5 MiB default.
ip netns exec "$N" etcd --name h1 --data-dir "$T/h1" --listen-client-urls "$EP" \
	--advertise-client-urls "$EP" --listen-peer-urls http://127.0.0.1:23900 \
	--initial-advertise-peer-urls http://127.0.0.1:23900 \
	--initial-cluster h1=http://127.0.0.1:23900 --max-request-bytes 16777216 \
	--quota-backend-bytes 4294967296 >"$T/etcd.log" 2>&1 &
until_ok 10 ip netns exec "$N" etcdctl --endpoints "$EP" endpoint health ||
	{ echo "Bail out! etcd did not start"; note "$T/etcd.log"; exit 1; }
nm() { ip netns exec "$N" env ETCD_ENDPOINTS="$EP" "$BIN" -c "$T/none.cfg" --node worker-1 "$@"; }
hostile() { ip netns exec "$N" python3 "$SRC/tests/etcd/hostile-put.py" "$EP" "$@"; }
has_rule() { ip netns exec "$N" nft list table inet nftmgr 2>/dev/null | grep -q "comment \"$1\""; }

nm apply -f "$SRC/tests/netns/common/hep.yaml" >/dev/null
nm apply -f "$SRC/tests/netns/cases/05-allow-port.yaml" >/dev/null
# The memory bounds (peak, and resident at the end): 96 and 48 MB; under
# ASan (shadow memory, a quarantine kept at 16 MB here) 192 and 128 MB.
PEAK=96 REST=48
if ldd "$BIN" | grep -q libasan; then
	PEAK=192 REST=128
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
fi
mkdir -p "$T/state"
ip netns exec "$N" env ETCD_ENDPOINTS="$EP" DATASTORE_DIR="$T/state" "$BIN" -c "$T/none.cfg" \
	--node worker-1 daemon 2>"$T/daemon.log" &
pid=$!
until_ok 10 has_rule "policy allow-8080 ingress rule 0" ||
	{ echo "Bail out! the daemon did not commit"; note "$T/daemon.log"; exit 1; }

skipped_once() {	# skipped_once DESCRIPTION KEY-SUFFIX
	local lines
	until_ok 10 grep -q "skipped: $P/globalnetworkpolicies/$2:" "$T/daemon.log"
	lines=$(grep -c "skipped: $P/globalnetworkpolicies/$2:" "$T/daemon.log")
	if [ "$lines" = 1 ] && kill -0 "$pid" 2>/dev/null && has_rule "policy allow-8080 ingress rule 0"; then
		tap OK "$1: skipped, one log line naming the key; the rest enforced"
	else
		tap FAIL "$1: skipped, one log line naming the key ($lines); the rest enforced"
		note "$T/daemon.log"
	fi
}

hostile big && skipped_once "an 8 MB value" default.big
hostile utf8 && skipped_once "a value that is not UTF-8" default.badutf8
hostile deep && skipped_once "JSON nested 100,000 deep" default.deep
hostile wrong && skipped_once "a HostEndpoint under a GlobalNetworkPolicy key" default.wrong
hostile foreign
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: after-foreign}\nspec: {ingress: [{action: Allow, protocol: TCP, destination: {ports: [7777]}}]}\n' |
	nm apply -f - >/dev/null
if until_ok 10 has_rule "policy after-foreign ingress rule 0" && kill -0 "$pid" 2>/dev/null &&
	! grep -q 'ippools/foreign' "$T/daemon.log"; then
	tap OK "50,000 keys outside Calico's layout: ignored (no log line each), later changes arrive"
else
	tap FAIL "50,000 keys outside Calico's layout: ignored, later changes arrive"
	note "$T/daemon.log"
fi
before=$(grep -c 'change (revision [0-9]*): committed' "$T/daemon.log")
hostile burst >"$T/burst.txt"
last=$(sed -n 's/.*last port \([0-9]*\)/\1/p' "$T/burst.txt")
if until_ok 15 sh -c "ip netns exec $N nft list table inet nftmgr | grep -q 'dport $last .*policy burst ingress rule 0'"; then
	commits=$(($(grep -c 'change (revision [0-9]*): committed' "$T/daemon.log") - before))
	tap OK "10,000 puts ($(cut -d';' -f1 "$T/burst.txt")): the last one enforced, in $commits commits"
else
	tap FAIL "10,000 puts: the last one enforced"
	note "$T/burst.txt" "$T/daemon.log"
fi
if kill -0 "$pid" 2>/dev/null; then tap OK "the daemon ran throughout"; else tap FAIL "the daemon ran throughout"; fi
# The peak is the 8 MB value's: read, decoded from base64, parsed and
# decoded into a resource before it is refused, about eight times its
# size; what stays afterwards is the ruleset's.
hwm=$(awk '/^VmHWM/ {print int($2 / 1024)}' /proc/$pid/status 2>/dev/null)
rss=$(awk '/^VmRSS/ {print int($2 / 1024)}' /proc/$pid/status 2>/dev/null)
if [ -n "$hwm" ] && [ "$hwm" -lt "$PEAK" ] && [ "$rss" -lt "$REST" ]; then
	tap OK "its memory stays bounded: peak ${hwm} MB (under $PEAK), resident ${rss} MB at the end (under $REST)"
else
	tap FAIL "its memory stays bounded: peak ${hwm:-?} MB (under $PEAK), resident ${rss:-?} MB at the end (under $REST)"
fi
kill -TERM "$pid"
wait "$pid"
tap_done
