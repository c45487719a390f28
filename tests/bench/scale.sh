#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scale, W-big (1,000 policies, 200,000 CIDRs) beside W-huge (10,000
# policies, 2,000,000 CIDRs), in one run (root): full sync into an empty
# namespace, a sync with nothing to change, one rule's CIDR list changed,
# peak RSS of each, and the floor: nft -f of the same addresses as one
# interval set per policy, nothing else.
# Usage: tests/bench/scale.sh [build dir]
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

one big 1000
one huge 10000
col() { awk -v k="$2" -v f="$3" '$1 == k { print $f }' "$W/$1/res"; }
printf '%-44s %14s %14s\n' "" "W-big" "W-huge"
for row in "full sync into an empty namespace:full" "sync with nothing to change:noop" \
	"one rule's CIDR list changed:inc" "floor, nft -f of the addresses alone:floor"; do
	label=${row%%:*} k=${row##*:}
	printf '%-44s %12s s %12s s\n' "$label" "$(col big "$k" 2)" "$(col huge "$k" 2)"
	printf '%-44s %11s MB %11s MB\n' "  peak RSS" "$(( $(col big "$k" 3) / 1024 ))" \
		"$(( $(col huge "$k" 3) / 1024 ))"
done
for n in big huge; do
	echo "W-$n full sync: $(cat "$W/$n/full.line")"
	echo "  $(cat "$W/$n/full.detail")"
	echo "W-$n incremental: $(cat "$W/$n/inc.detail")"
done
