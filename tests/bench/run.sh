#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Export benchmark, side by side with its baselines in the same run:
#  1. nftmgr export of W-big (1,000 policies x 10 rules x 20 CIDRs);
#  2. nft -f of that export into a fresh network namespace;
#  3. nft -f of the same policies with one anonymous set per rule.
# Usage: tests/bench/run.sh [NFTMGR_BIN]   (root, for the namespaces)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-${NFTMGR_BIN:-$HERE/../../build/nftmgr/nftmgr}}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

python3 "$HERE/gen-wbig.py" yaml "$W/in"
python3 "$HERE/gen-wbig.py" anon "$W/anon.nft"

best() {	# best RUNS COMMAND...: the fastest wall time in seconds
	local runs=$1 b=
	shift
	for _ in $(seq "$runs"); do
		local s e t
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
	done
	printf '%.3f' "$b"
}

load() {	# load FILE: nft -f into a fresh namespace
	unshare -n nft -f "$1"
}

"$BIN" --node bench export -f "$W/in" --local-address eth1=192.0.2.1 >"$W/export.nft"
t_export=$(best 5 "$BIN" --node bench export -f "$W/in" --local-address eth1=192.0.2.1)
t_load=$(best 3 load "$W/export.nft")
t_anon=$(best 1 load "$W/anon.nft")
sets=$(grep -c '^	set ' "$W/export.nft")
rules=$(grep -c 'counter' "$W/export.nft")
echo "W-big: 1,000 policies x 10 rules x 20 /24 CIDRs, ports {80, 443, 8000:9000}, one host endpoint"
echo "nftmgr export (best of 5):                       ${t_export} s"
echo "nft -f of nftmgr's export (best of 3):           ${t_load} s   ($sets named sets, $rules rules)"
echo "nft -f, one anonymous set per rule (1 run):      ${t_anon} s   (10,000 rules with 2 anonymous sets each)"
