#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nftmgr sync against the real kernel, each check in fresh namespaces:
#  - for every namespace case, the table sync commits lists exactly as the
#    exported script loaded with nft -f in a second namespace;
#  - a batch the kernel refuses half-way changes nothing, and the error
#    names the policy and rule;
#  - a sync next to another process changing the ruleset all the time
#    still commits (generation id, retries).
# TAP output.
set -u
. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
SRC=${NFTMGR_SOURCE:?}
CASES=$SRC/tests/netns/cases
ARGS=(--local-address eth1=203.0.113.10 --local-address eth1=2001:db8:1::10)

# nft 1.0.6 has no name for the persist flag and prints "flags " for our
# table; the flags are checked apart.
noflags() {
	sed '/^\tflags/{N;d}' "$1"
}


need_netns

inputs() {	# inputs CASE: the -f arguments for a case
	grep -q '^# no-common-hep' "$1" || printf '%s\n' -f "$SRC/tests/netns/common/hep.yaml"
	printf '%s\n' -f "$1"
}

for f in "$CASES"/*.yaml; do
	name=$(basename "$f" .yaml)
	mapfile -t in < <(inputs "$f")
	unshare -n bash -c '"$@" >/dev/null && nft list table inet nftmgr' _ \
		"$BIN" --node worker-1 sync "${in[@]}" "${ARGS[@]}" >"$T/sync.txt" 2>&1
	"$BIN" --node worker-1 export "${in[@]}" "${ARGS[@]}" >"$T/export.nft"
	unshare -n bash -c 'nft -f "$1" && nft list table inet nftmgr' _ "$T/export.nft" >"$T/nft.txt" 2>&1
	if [ -s "$T/sync.txt" ] && diff -u "$T/nft.txt" <(noflags "$T/sync.txt") >"$T/diff" 2>&1; then
		tap OK "$name: table after sync lists as nft -f of the export"
	else
		tap FAIL "$name: table after sync lists as nft -f of the export"
		sed 's/^/# /' "$T/diff" | head -40
	fi
done

# Listings compared as sets of blocks: an incremental sync appends new
# sets and chains, so their order in the listing is not the export's.
blocks() {
	awk 'BEGIN { RS = "\n\n" } { gsub(/\n+$/, ""); print $0 "\n@@" }' "$1" |
		awk 'BEGIN { RS = "@@\n" } NF { print }' | sort
}

# Incremental: a second sync sends nothing; going from one case to the
# next gives the table the next case exports.
prev=""
for f in "$CASES"/*.yaml; do
	name=$(basename "$f" .yaml)
	mapfile -t in < <(inputs "$f")
	"$BIN" --node worker-1 export "${in[@]}" "${ARGS[@]}" >"$T/export.nft"
	unshare -n bash -c 'nft -f "$1" && nft list table inet nftmgr' _ "$T/export.nft" >"$T/nft.txt" 2>&1
	if [ -n "$prev" ]; then
		mapfile -t pin < <(inputs "$prev")
		cat >"$T/inc.sh" <<INNER
"$BIN" --node worker-1 sync ${pin[*]} ${ARGS[*]} >/dev/null || exit 9
"$BIN" --node worker-1 sync ${in[*]} ${ARGS[*]} >/dev/null || exit 9
"$BIN" --node worker-1 sync ${in[*]} ${ARGS[*]} >"$T/second.txt" || exit 9
nft list table inet nftmgr >"$T/inc.txt"
INNER
		if unshare -n bash "$T/inc.sh" && noflags "$T/inc.txt" >"$T/inc2.txt" &&
		   diff <(blocks "$T/nft.txt") <(blocks "$T/inc2.txt") >"$T/diff"; then
			tap OK "$(basename "$prev" .yaml) -> $name: incremental sync gives the exported table"
		else
			tap FAIL "$(basename "$prev" .yaml) -> $name: incremental sync gives the exported table"
			sed 's/^/# /' "$T/diff" | head -30
		fi
		if grep -q "is up to date: nothing sent" "$T/second.txt"; then
			tap OK "$name: a second sync sends nothing"
		else
			tap FAIL "$name: a second sync sends nothing"
			sed 's/^/# /' "$T/second.txt"
		fi
	fi
	prev=$f
done

# Addresses that change in a rule change set elements only.
cat >"$T/v1.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: mgmt}
spec:
  selector: ibm.role == 'worker_public'
  ingress:
  - {action: Allow, source: {nets: [198.51.100.0/24, 192.0.2.0/25, 192.0.2.200/32]}}
YAML
sed 's|192.0.2.200/32|192.0.2.201/32, 198.18.0.0/15|' "$T/v1.yaml" >"$T/v2.yaml"
cat >"$T/cidr.sh" <<INNER
"$BIN" --node worker-1 sync -f $SRC/tests/netns/common/hep.yaml -f $T/v1.yaml ${ARGS[*]} >/dev/null || exit 9
"$BIN" --node worker-1 diff -f $SRC/tests/netns/common/hep.yaml -f $T/v2.yaml ${ARGS[*]} >"$T/plan.txt"
INNER
unshare -n bash "$T/cidr.sh"
if [ "$(cat "$T/plan.txt")" = "~ set pi-mgmt.0.0: +2 -1 elements" ]; then
	tap OK "a changed CIDR list changes set elements only"
else
	tap FAIL "a changed CIDR list changes set elements only"
	sed 's/^/# /' "$T/plan.txt"
fi

# Big sets: tens of thousands of elements go in many full-size element
# messages across batch pages, whole and incremental (under ASan in CI).
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
def pol(off):
    v4 = ", ".join("10.%d.%d.%d/32" % ((i * 2 + off) >> 16 & 255, (i * 2 + off) >> 8 & 255, (i * 2 + off) & 255) for i in range(20000))
    v6 = ", ".join("2001:db8:%x::%x/128" % (i, off + 2 * i) for i in range(4000))
    return ("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: big}\n"
            "spec:\n  selector: ibm.role == 'worker_public'\n  ingress:\n"
            "  - {action: Allow, source: {nets: [%s]}}\n  - {action: Allow, source: {nets: [%s]}}\n" % (v4, v6))
open(t + "/big1.yaml", "w").write(pol(0))
open(t + "/big2.yaml", "w").write(pol(1))
PY
cat >"$T/big.sh" <<INNER
H=$SRC/tests/netns/common/hep.yaml
"$BIN" --node worker-1 sync --full -f \$H -f $T/big1.yaml ${ARGS[*]} >/dev/null || exit 7
"$BIN" --node worker-1 sync -f \$H -f $T/big2.yaml ${ARGS[*]} >/dev/null || exit 8
nft list table inet nftmgr >"$T/big-sync.txt"
INNER
unshare -n bash "$T/big.sh"
rc=$?
"$BIN" --node worker-1 export -f "$SRC/tests/netns/common/hep.yaml" -f "$T/big2.yaml" "${ARGS[@]}" >"$T/big.nft"
unshare -n bash -c 'nft -f "$1" && nft list table inet nftmgr' _ "$T/big.nft" >"$T/big-nft.txt" 2>&1
if [ "$rc" = 0 ] && diff -q "$T/big-nft.txt" <(noflags "$T/big-sync.txt") >/dev/null; then
	tap OK "24,000-element sets: full then incremental sync list as nft -f of the export"
else
	tap FAIL "24,000-element sets: full then incremental sync list as nft -f of the export (exit $rc)"
fi

# An address map that outgrows its size (the kernel's limit for it) is
# made again under its new size's name, and shrinks back the same way.
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
def pols(extra):
    out = []
    for p in range(8):
        nets = ["10.%d.%d.0/24" % (p, 2 * i) for i in range(1 + (extra if p == 0 else 0))]
        out.append("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                   "metadata: {name: m%d}\nspec:\n  order: %d\n"
                   "  selector: ibm.role == 'worker_public'\n  ingress:\n"
                   "  - {action: Allow, protocol: TCP, source: {nets: [%s]}, "
                   "destination: {ports: [%d]}}\n" % (p, 10 + p, ", ".join(nets), 7000 + p))
    return "---\n".join(out)
open(t + "/grow1.yaml", "w").write(pols(0))
open(t + "/grow2.yaml", "w").write(pols(30))
PY
cat >"$T/grow.sh" <<INNER
H=$SRC/tests/netns/common/hep.yaml
"$BIN" --node worker-1 sync -f \$H -f $T/grow1.yaml ${ARGS[*]} >/dev/null || exit 7
nft list table inet nftmgr >"$T/grow-a.txt"
"$BIN" --node worker-1 sync -f \$H -f $T/grow2.yaml ${ARGS[*]} >/dev/null || exit 8
nft list table inet nftmgr >"$T/grow-b.txt"
"$BIN" --node worker-1 sync -f \$H -f $T/grow1.yaml ${ARGS[*]} >/dev/null || exit 9
nft list table inet nftmgr >"$T/grow-c.txt"
INNER
unshare -n bash "$T/grow.sh"
rc=$?
grow_ok=true
for x in a:grow1 b:grow2 c:grow1; do
	"$BIN" --node worker-1 export -f "$SRC/tests/netns/common/hep.yaml" -f "$T/${x#*:}.yaml" \
		"${ARGS[@]}" >"$T/grow.nft"
	unshare -n bash -c 'nft -f "$1" && nft list table inet nftmgr' _ "$T/grow.nft" >"$T/grow-nft.txt" 2>&1
	blocks "$T/grow-nft.txt" >"$T/grow-want"
	blocks <(noflags "$T/grow-${x%%:*}.txt") >"$T/grow-have"
	cmp -s "$T/grow-want" "$T/grow-have" || grow_ok=false
done
if [ "$rc" = 0 ] && $grow_ok && grep -q 'saddr-.*-24-s16 {' "$T/grow-a.txt" &&
	grep -q 'saddr-.*-24-s64 {' "$T/grow-b.txt" && ! grep -q -- '-s16 {' "$T/grow-b.txt" &&
	! grep -q -- '-s64 {' "$T/grow-c.txt"; then
	tap OK "a map outgrowing its size is made again with the next size, and back"
else
	tap FAIL "a map outgrowing its size is made again with the next size, and back (exit $rc)"
	grep -h 'map .*saddr' "$T"/grow-?.txt | sed 's/^/# /'
fi

# Before Linux 6.2 a chain a verdict map pointed at is flushed in the
# transaction that removes the map element, and deleted by the next one
# (the path is forced here with NFTMGR_TEST_OLD_KERNEL).
mapfile -t in3 < <(inputs "$CASES/03-seed-closes-nodeport.yaml")
mapfile -t in5 < <(inputs "$CASES/05-allow-port.yaml")
cat >"$T/old.sh" <<INNER
"$BIN" --node worker-1 sync ${in3[*]} ${ARGS[*]} >/dev/null || exit 9
NFTMGR_TEST_OLD_KERNEL=1 "$BIN" --node worker-1 sync ${in5[*]} ${ARGS[*]} >/dev/null || exit 9
nft list chain inet nftmgr prednat-in-eth1 >"$T/old1.txt" || exit 8
nft list map inet nftmgr prednat-in >"$T/old-map.txt" || exit 8
NFTMGR_TEST_OLD_KERNEL=1 "$BIN" --node worker-1 sync ${in5[*]} ${ARGS[*]} >/dev/null || exit 9
nft list chain inet nftmgr prednat-in-eth1 >/dev/null 2>&1 && exit 7
exit 0
INNER
if unshare -n bash "$T/old.sh" && ! grep -q counter "$T/old1.txt" && ! grep -q eth1 "$T/old-map.txt"; then
	tap OK "old kernels: a map's chain is flushed with its element, deleted by the next sync"
else
	tap FAIL "old kernels: a map's chain is flushed with its element, deleted by the next sync"
fi

# A refused batch leaves the previous table exactly as it was.
seed=$CASES/03-seed-closes-nodeport.yaml
mapfile -t in < <(inputs "$seed")
mapfile -t in2 < <(inputs "$CASES/05-allow-port.yaml")
cat >"$T/refused.sh" <<INNER
"$BIN" --node worker-1 sync ${in[*]} ${ARGS[*]} >/dev/null || exit 9
nft list table inet nftmgr >"$T/before.txt"
NFTMGR_TEST_FAULT_RULE="policy allow-8080 ingress rule 0" \
	"$BIN" --node worker-1 sync ${in2[*]} ${ARGS[*]} 2>"$T/err.txt"
echo "rc=\$?" >"$T/rc.txt"
nft list table inet nftmgr >"$T/after.txt"
INNER
unshare -n bash "$T/refused.sh"
rc=$(cat "$T/rc.txt" 2>/dev/null)
if [ "$rc" = rc=1 ] && cmp -s "$T/before.txt" "$T/after.txt" && [ -s "$T/before.txt" ]; then
	tap OK "refused batch: exit 1, previous table unchanged"
else
	tap FAIL "refused batch: exit 1 ($rc), previous table unchanged"
fi
if grep -qE "policy allow-8080 ingress rule 0 \(chain [a-z0-9.-]+, rule [0-9]+\): kernel rejected it: No such file or directory" "$T/err.txt"; then
	tap OK "refused batch: the error names the policy and rule"
else
	tap FAIL "refused batch: the error names the policy and rule"
	sed 's/^/# /' "$T/err.txt"
fi

# Every error of a refused batch is reported, each in policy terms.
cat >"$T/refused2.sh" <<INNER
NFTMGR_TEST_FAULT_RULE="policy allow-8080 ingress rule 0;no policy allowed" \
	"$BIN" --node worker-1 sync ${in2[*]} ${ARGS[*]} 2>"$T/err2.txt"
echo "rc=\$?" >"$T/rc2.txt"
nft list table inet nftmgr >/dev/null 2>&1 && echo present >>"$T/rc2.txt"
INNER
unshare -n bash "$T/refused2.sh"
if [ "$(cat "$T/rc2.txt" 2>/dev/null)" = rc=1 ] &&
	grep -qE "policy allow-8080 ingress rule 0 \(chain [a-z0-9.-]+, rule [0-9]+\): kernel rejected it" "$T/err2.txt" &&
	grep -qE "no policy allowed \(chain [a-z0-9.-]+, rule [0-9]+\): kernel rejected it" "$T/err2.txt"; then
	tap OK "two refused rules: both named, exit 1, no table left"
else
	tap FAIL "two refused rules: both named, exit 1, no table left"
	sed 's/^/# /' "$T/rc2.txt" "$T/err2.txt"
fi

# A sync that nothing can have changed for does nothing (the stamp); a
# changed file, or the table changed by another process, still syncs.
mkdir -p "$T/st"
cp "$SRC/tests/netns/common/hep.yaml" "$CASES/05-allow-port.yaml" "$T/st/"
cat >"$T/stamp.sh" <<INNER
set -u
s() { "$BIN" --node worker-1 sync -f "$T/st" ${ARGS[*]}; }
s >"$T/st1.txt" && s >"$T/st2.txt"
printf -- '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: more}\nspec: {ingress: [{action: Allow, protocol: TCP, destination: {ports: [7777]}}]}\n' >>"$T/st/05-allow-port.yaml"
s >"$T/st3.txt" && s >"$T/st4.txt"
nft flush chain inet nftmgr filter-in-eth1
s >"$T/st5.txt"
nft list chain inet nftmgr filter-in-eth1 >"$T/st5.nft"
INNER
unshare -n bash "$T/stamp.sh"
if grep -q '^Synced' "$T/st1.txt" && grep -q 'as the last sync left them' "$T/st2.txt" &&
	! grep -q 'load and compile' "$T/st2.txt"; then
	tap OK "a second sync with the same inputs and table does nothing, not even compile"
else
	tap FAIL "a second sync with the same inputs and table does nothing, not even compile"
	sed 's/^/# /' "$T/st1.txt" "$T/st2.txt"
fi
if grep -q '^Synced' "$T/st3.txt" && grep -q 'as the last sync left them' "$T/st4.txt"; then
	tap OK "  ... a changed file syncs (and the next sync does nothing again)"
else
	tap FAIL "  ... a changed file syncs (and the next sync does nothing again)"
	sed 's/^/# /' "$T/st3.txt" "$T/st4.txt"
fi
if grep -q '^Synced' "$T/st5.txt" && grep -q 'policy more ingress rule 0' "$T/st5.nft"; then
	tap OK "  ... the table changed by another process (flush chain) is repaired"
else
	tap FAIL "  ... the table changed by another process (flush chain) is repaired"
	sed 's/^/# /' "$T/st5.txt" "$T/st5.nft"
fi

# Another process changes the ruleset without pause while we sync.
unshare -n bash -c '
	( while :; do nft add table inet other; nft delete table inet other; sleep 0.01; done ) 2>/dev/null &
	churn=$!
	ok=0
	for i in $(seq 20); do "$@" >/dev/null && ok=$((ok + 1)); done
	kill $churn
	echo "$ok"' _ "$BIN" --node worker-1 sync "${in[@]}" "${ARGS[@]}" >"$T/churn.txt" 2>&1
if [ "$(tail -n 1 "$T/churn.txt")" = 20 ]; then
	tap OK "20 syncs beside a process changing the ruleset all succeed"
else
	tap FAIL "20 syncs beside a process changing the ruleset all succeed"
	sed 's/^/# /' "$T/churn.txt" | tail -5
fi
tap_done
