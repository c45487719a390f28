#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden tests: each namespace case's resources, exported for node
# worker-1, must print exactly tests/golden/expected/<case>.nft; the
# export must be byte-for-byte deterministic, and nft -c must accept it
# (when this runs as root with network namespaces).
# GOLDEN_REGENERATE=1 rewrites the expected files instead of comparing.
set -u

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
CASES=$SRC/tests/netns/cases
EXPECTED=$SRC/tests/golden/expected
. "$SRC/tests/lib.sh"
check_nft=false
[ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null && command -v nft >/dev/null && check_nft=true

export_case() {	# export_case FILE
	local common=(-f "$SRC/tests/netns/common/pod.yaml")
	grep -q '^# no-common-hep' "$1" || common+=(-f "$SRC/tests/netns/common/hep.yaml")
	# The version line is left out so that a release does not change
	# every golden file.
	"$BIN" --node worker-1 export "${common[@]}" -f "$1" \
		--local-address eth1=203.0.113.10 --local-address eth1=2001:db8:1::10 |
		grep -v '^# nftmgr '
}

for f in "$CASES"/*.yaml; do
	name=$(basename "$f" .yaml)
	out=$(export_case "$f")
	if [ "${GOLDEN_REGENERATE:-}" = 1 ]; then
		printf '%s\n' "$out" >"$EXPECTED/$name.nft"
	fi
	if diff -u "$EXPECTED/$name.nft" <(printf '%s\n' "$out") >"$T/diff" 2>&1; then
		tap OK "$name: export matches expected/$name.nft"
	else
		tap FAIL "$name: export differs from expected/$name.nft"
		sed 's/^/# /' "$T/diff"
	fi
	if [ "$out" = "$(export_case "$f")" ]; then
		tap OK "$name: export is deterministic"
	else
		tap FAIL "$name: two exports differ"
	fi
	if $check_nft; then
		if unshare -n nft -c -f - <<<"$out" 2>"$T/nft"; then
			tap OK "$name: nft -c accepts it"
		else
			tap FAIL "$name: nft -c rejects it"
			sed 's/^/# /' "$T/nft"
		fi
	fi
done
# The shared fixtures together (the seed's policy in both forms, the
# default public set, the tutorial and a host endpoint) export to a
# script nft accepts.
out=$("$BIN" --node worker-1 export -f "$SRC/tests/fixtures")
if [ -n "$out" ] && { ! $check_nft || unshare -n nft -c -f - <<<"$out"; }; then
	tap OK "fixtures: export of tests/fixtures/ is accepted"
else
	tap FAIL "fixtures: export of tests/fixtures/ is accepted"
fi
tap_done
