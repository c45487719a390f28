#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scale, W-big (1,000 policies, 200,000 CIDRs) beside W-huge (10,000
# policies, 2,000,000 CIDRs), in one run (root): full sync into an empty
# namespace, a sync with nothing to change, one rule's CIDR list changed,
# peak RSS of each, and the floor: nft -f of the same addresses as one
# interval set per policy, nothing else. Then the file datastore and the
# daemon: apply --no-sync of the policies in one file, daemon start to
# committed, one policy changed in the store to committed, the daemon's
# RSS, and its CPU at rest over IDLE seconds (default 600; the resync
# runs every 60 s).
# Usage: [IDLE=600] tests/bench/scale.sh [build dir]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build}
BIN=$BUILD/nftmgr/nftmgr
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
ARGS=(--local-address eth1=192.0.2.1)

timed() {	# timed OUT COMMAND...: "seconds peakKB" of one run, its output in OUT
	local out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$W/time" "$@" >"$out" 2>&1
	cat "$W/time"
}

one() {	# one NAME POLICIES
	local name=$1 p=$2 d=$W/$1
	python3 "$HERE/gen-wbig.py" yaml "$d/in" "$p"
	python3 "$HERE/gen-wbig.py" sets "$d/floor.nft" "$p"
	# p0000 rule 3 with another CIDR list, as the incremental change
	mkdir -p "$d/in2"
	cp "$d/in/hep.yaml" "$d/in2/"
	python3 - "$d/in/policies.yaml" "$d/in2/policies.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
i = text.index("name: p0000}")
for _ in range(4):
    i = text.index("nets: [", i) + 7
end = text.index("]", i)
open(sys.argv[2], "w").write(text[:i] + "203.0.113.0/24, 198.51.100.0/24" + text[end:])
PY
	cat >"$d/run.sh" <<INNER
set -e
cd "$d"
echo "full \$(timed full.out "$BIN" --node bench sync -f in ${ARGS[*]})"
echo "noop \$(timed noop.out "$BIN" --node bench sync -f in ${ARGS[*]})"
echo "inc \$(timed inc.out "$BIN" --node bench sync -f in2 ${ARGS[*]})"
INNER
	(export -f timed; export W; unshare -n bash "$d/run.sh") >"$d/res"
	echo "floor $(timed "$d/floor.out" unshare -n nft -f "$d/floor.nft")" >>"$d/res"
	sed -n 2p "$d/full.out" >"$d/full.detail"
	sed -n 1p "$d/full.out" >"$d/full.line"
	sed -n 2p "$d/inc.out" >"$d/inc.detail"
}

# the daemon on the file datastore, in a namespace of its own
daemon_run() {	# daemon_run NAME
	local d=$W/$1
	python3 - "$d/in2/policies.yaml" "$d/one-change.yaml" <<'PY'
import sys
docs = open(sys.argv[1]).read().split("---\n")
open(sys.argv[2], "w").write(next(x for x in docs if "name: p0000}" in x))
PY
	cat >"$d/daemon.sh" <<INNER
set -e
cd "$d"
cfg=\$(mktemp)
printf 'apiVersion: projectcalico.org/v3\\nkind: CalicoAPIConfig\\nmetadata:\\nspec: {datastoreType: file}\\n' >"\$cfg"
nm() { "$BIN" -c "\$cfg" --datastore-dir "$d/store" --node bench "\$@"; }
ip link add eth1 type veth peer name eth1p
ip addr add 192.0.2.1/24 dev eth1
nm apply --no-sync -f in/hep.yaml >/dev/null
# apply's syncfs would also write out whatever the bench left dirty (the
# generated inputs, the floor's script: 200 MB at W-huge): that first
sync
echo "apply \$(timed apply.out "$BIN" -c "\$cfg" --datastore-dir "$d/store" --node bench apply --no-sync -f in/policies.yaml)"
s=\$(date +%s.%N)
"$BIN" -c "\$cfg" --datastore-dir "$d/store" --node bench daemon 2>daemon.log &
pid=\$!
until grep -q '^<6>start: ' daemon.log; do sleep 0.05; done
e=\$(date +%s.%N)
echo "dstart \$(echo "\$e - \$s" | bc | awk '{ printf "%.3f", \$1 }') \$(awk '/VmRSS/ { print \$2 }' /proc/\$pid/status)"
s=\$(date +%s.%N)
nm apply --no-sync -f one-change.yaml >/dev/null
until grep -q '^<6>change: ' daemon.log; do sleep 0.01; done
e=\$(date +%s.%N)
echo "dchange \$(echo "\$e - \$s" | bc | awk '{ printf "%.3f", \$1 }') \$(awk '/VmRSS/ { print \$2 }' /proc/\$pid/status)"
grep '^<6>change: ' daemon.log | head -n 1 >dchange.line
touch measured
t0=\$(awk '{ print \$14 + \$15 }' /proc/\$pid/stat)
sleep ${IDLE:-600}
t1=\$(awk '{ print \$14 + \$15 }' /proc/\$pid/stat)
echo "idle \$(echo "scale=4; 100 * (\$t1 - \$t0) / \$(getconf CLK_TCK) / ${IDLE:-600}" | bc | awk '{ printf "%.3f", \$1 }') \$(grep -c 'as our last commit left it' daemon.log)"
kill \$pid
wait \$pid || true
INNER
	# at rest in the background, once started and changed: the next
	# measurement does not run beside this one's
	(export -f timed; export W; unshare -n bash "$d/daemon.sh") >>"$d/res" &
	until [ -e "$d/measured" ]; do sleep 0.2; done
}

one big 1000
one huge 10000
daemon_run big
daemon_run huge
wait
col() { awk -v k="$2" -v f="$3" '$1 == k { print $f }' "$W/$1/res"; }
printf '%-44s %14s %14s\n' "" "W-big" "W-huge"
for row in "full sync into an empty namespace:full" "sync with nothing to change:noop" \
	"one rule's CIDR list changed:inc" "floor, nft -f of the addresses alone:floor"; do
	label=${row%%:*} k=${row##*:}
	printf '%-44s %12s s %12s s\n' "$label" "$(col big "$k" 2)" "$(col huge "$k" 2)"
	printf '%-44s %11s MB %11s MB\n' "  peak RSS" "$(( $(col big "$k" 3) / 1024 ))" \
		"$(( $(col huge "$k" 3) / 1024 ))"
done
printf '%-44s %12s s %12s s\n' "apply --no-sync, one file, file datastore" "$(col big apply 2)" \
	"$(col huge apply 2)"
printf '%-44s %12s s %12s s\n' "daemon start to committed" "$(col big dstart 2)" \
	"$(col huge dstart 2)"
printf '%-44s %12s s %12s s\n' "daemon: one policy changed in the store" "$(col big dchange 2)" \
	"$(col huge dchange 2)"
printf '%-44s %11s MB %11s MB\n' "  daemon RSS" "$(( $(col big dchange 3) / 1024 ))" \
	"$(( $(col huge dchange 3) / 1024 ))"
printf '%-44s %12s %% %12s %%\n' "daemon CPU at rest over ${IDLE:-600} s (one core)" \
	"$(col big idle 2)" "$(col huge idle 2)"
printf '%-44s %14s %14s\n' "  resyncs that read nothing back" "$(col big idle 3)" "$(col huge idle 3)"
for n in big huge; do
	echo "W-$n daemon change: $(cat "$W/$n/dchange.line")"
	echo "W-$n full sync: $(cat "$W/$n/full.line")"
	echo "  $(cat "$W/$n/full.detail")"
	echo "W-$n incremental: $(cat "$W/$n/inc.detail")"
done
