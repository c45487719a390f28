#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The cost of --confirm-within on W-big (1,000 policies, 200,000 set
# elements), each beside its baseline in the same run (root):
#  an incremental sync of one rule's CIDR list with --confirm-within (which
#  first saves the whole table) against the same sync without it;
#  'confirm --rollback' (the whole table put back in one transaction)
#  against nft -f of the same table's export (delete + all, one transaction).
# Usage: tests/bench/confirm.sh [build dir]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build}
BIN=$BUILD/nftmgr/nftmgr
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

python3 "$HERE/gen-wbig.py" yaml "$W/in"
mkdir -p "$W/in2"
cp "$W/in/hep.yaml" "$W/in2/"
sed '0,/11.0.0.0\/24/s//198.51.100.0\/24/' "$W/in/policies.yaml" >"$W/in2/policies.yaml"
# The export declares the table before deleting it, which nft cannot do to
# a table nftmgr committed (owner + persist flags); the same transaction
# without that line: delete, then everything.
"$BIN" --node bench export -f "$W/in" --local-address eth1=192.0.2.1 |
	sed '0,/^table inet nftmgr$/{/^table inet nftmgr$/d}' >"$W/export.nft"

cat >"$W/inner.sh" <<INNER
set -eu
now() { date +%s.%N; }
A=(--node bench)
L=(--local-address eth1=192.0.2.1)
"$BIN" "\${A[@]}" sync -f "$W/in" "\${L[@]}" >/dev/null
best_plain= best_confirm= best_back= best_nft=
for i in 1 2 3; do
	# baseline: the change without confirmation, and back
	s=\$(now); "$BIN" "\${A[@]}" sync -f "$W/in2" "\${L[@]}" >/dev/null; e=\$(now)
	t=\$(echo "\$e - \$s" | bc)
	[ -z "\$best_plain" ] || [ "\$(echo "\$t < \$best_plain" | bc)" = 1 ] && best_plain=\$t
	"$BIN" "\${A[@]}" sync -f "$W/in" "\${L[@]}" >/dev/null
	# the same with --confirm-within: save first, fork the helper
	s=\$(now); "$BIN" "\${A[@]}" sync --confirm-within 5m -f "$W/in2" "\${L[@]}" >/dev/null; e=\$(now)
	t=\$(echo "\$e - \$s" | bc)
	[ -z "\$best_confirm" ] || [ "\$(echo "\$t < \$best_confirm" | bc)" = 1 ] && best_confirm=\$t
	s=\$(now); "$BIN" confirm --rollback >"$W/back.out"; e=\$(now)
	t=\$(echo "\$e - \$s" | bc)
	[ -z "\$best_back" ] || [ "\$(echo "\$t < \$best_back" | bc)" = 1 ] && best_back=\$t
	# baseline: the whole table by nft -f of its export
	s=\$(now); nft -f "$W/export.nft"; e=\$(now)
	t=\$(echo "\$e - \$s" | bc)
	[ -z "\$best_nft" ] || [ "\$(echo "\$t < \$best_nft" | bc)" = 1 ] && best_nft=\$t
done
printf '%.3f %.3f %.3f %.3f\n' "\$best_plain" "\$best_confirm" "\$best_back" "\$best_nft"
cat "$W/back.out"
INNER
out=$(unshare -n bash "$W/inner.sh")
set -- $(echo "$out" | head -n 1)
echo "W-big: 1,000 policies x 10 rules x 20 /24 CIDRs (200,000 elements), one host endpoint"
echo "incremental sync, one rule's CIDR list changed (best of 3):     $1 s"
echo "  the same with --confirm-within (saves the table first):       $2 s"
echo "confirm --rollback: the whole table back, one transaction:      $3 s"
echo "  baseline: nft -f of the same table's export:                  $4 s"
echo "  $(echo "$out" | tail -n 1)"
