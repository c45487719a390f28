#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A fleet on one etcd cluster: three etcd members, each in a namespace of
# its own on a bridge (198.51.100.1-3), and N node
# daemons, each in its own network namespace with its own host endpoint,
# given the same endpoint list. Checked (TAP): the daemons spread over the
# members (none serves more than half); a put reaches every kernel; with a
# member killed (connections reset) the daemons on it move at once; with
# a member frozen (SIGSTOP: connections open, silent) they leave it within
# 5 s; changes made meanwhile all arrive, none lost; with a member cut off
# from its peers (no leader) they leave it too. N is FLEET_N (6).
#
# tests/bench/fleet.sh runs the same with N=200 and measures.
set -u
SRC=${NFTMGR_SOURCE:?}
BIN=${NFTMGR_BIN:?}
. "$SRC/tests/lib.sh"
. "$SRC/tests/fleet/lib-fleet.sh"

need_netns
need_cmd etcd etcdctl
N=${FLEET_N:-6}

fleet_up "$N" || { echo "Bail out! the fleet did not start"; note "$T"/m*.log; exit 1; }

# ---- spread -----------------------------------------------------------------
declare -A per=()
for i in $(seq "$N"); do
	m=$(member_of "$i")
	per[$m]=$((${per[$m]:-0} + 1))
done
most=0
for m in "${!per[@]}"; do [ "${per[$m]}" -gt "$most" ] && most=${per[$m]}; done
if [ "${#per[@]}" -ge 2 ] && [ $((most * 2)) -le "$N" ]; then
	tap OK "the $N daemons spread over the members (${per[*]}): none serves more than half"
else
	tap FAIL "the $N daemons spread over the members (${per[*]})"
fi

# ---- healthy ------------------------------------------------------------------
put_policy p1 7001
if until_ok 5 all_have "policy p1 ingress rule 0"; then
	tap OK "healthy: a policy put reaches all $N kernels"
else
	tap FAIL "healthy: a policy put reaches all $N kernels ($(count_have "policy p1 ingress rule 0") have it)"
fi

# ---- a member killed ----------------------------------------------------------------
victim=$(busiest_member)
on_victim=$(daemons_on "$victim")
kill -9 "${MEMBER_PID[$victim]}"
wait "${MEMBER_PID[$victim]}" 2>/dev/null
put_policy p2 7002
if until_ok 5 all_have "policy p2 ingress rule 0"; then
	tap OK "member $victim killed: a put still reaches all $N kernels"
else
	tap FAIL "member $victim killed: a put still reaches all $N kernels ($(count_have "policy p2 ingress rule 0") have it)"
fi
moved=$(moved_off "$victim" $on_victim)
if [ "$moved" = "$(wc -w <<<"$on_victim")" ]; then
	tap OK "  ... the daemons on it ($(wc -w <<<"$on_victim")) moved to other members"
else
	tap FAIL "  ... the daemons on it moved to other members ($moved of $(wc -w <<<"$on_victim"))"
fi
member_start "$victim" existing
until_ok 15 ectl endpoint health --endpoints "$(member_url "$victim")" ||
	{ echo "Bail out! member $victim did not come back"; exit 1; }

# ---- a member frozen ------------------------------------------------------------------
# Daemons that moved away stay where they are; freeze a member that serves some.
victim=$(busiest_member)
on_victim=$(daemons_on "$victim")
kill -STOP "${MEMBER_PID[$victim]}"
frozen_at=$(date +%s%N)
WRITER=$(member_url $((victim % 3 + 1)))	# the operator's writes go elsewhere
# changes while it is frozen: a new policy, one changed, one deleted
put_policy p3 7003
put_policy p1 7101
del_policy p2
if until_ok 8 all_have "policy p3 ingress rule 0"; then
	took=$((($(date +%s%N) - frozen_at) / 1000000))
	tap OK "member $victim frozen: a put reaches all $N kernels (${took} ms after the freeze)"
else
	tap FAIL "member $victim frozen: a put reaches all $N kernels ($(count_have "policy p3 ingress rule 0") have it)"
fi
left=0
for i in $on_victim; do grep -q "frozen or partitioned member\|has no leader" "$T/d$i.log" && left=$((left + 1)); done
if [ "$left" = "$(wc -w <<<"$on_victim")" ] && [ "$(wc -w <<<"$on_victim")" -gt 0 ]; then
	tap OK "  ... the $left daemons on it left it, saying why"
else
	tap FAIL "  ... the daemons on it left it, saying why ($left of $(wc -w <<<"$on_victim"))"
	note "$T/d$(head -n1 <<<"$on_victim" | cut -d' ' -f1).log"
fi
# nothing lost: p1 changed, p2 gone, p3 there, everywhere
if until_ok 8 all_state; then
	tap OK "  ... and every kernel has every change made meanwhile (p1 changed, p2 deleted, p3 new)"
else
	tap FAIL "  ... every kernel has every change made meanwhile"
fi
# the command line with the frozen member as its first endpoint moves on
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec: {etcdEndpoints: "%s,%s"}\n' \
	"$(member_url "$victim")" "$WRITER" >"$T/cli.cfg"
t0=$(date +%s%N)
ip netns exec "$E" "$BIN" -c "$T/cli.cfg" get gnp >"$T/cli.out" 2>&1
st=$?
took=$((($(date +%s%N) - t0) / 1000000))
# (curl's low-speed window: a POST's own bytes count for some seconds)
if [ $st = 0 ] && grep -qx p3 "$T/cli.out" && [ "$took" -lt 20000 ]; then
	tap OK "  ... the command line, its first endpoint frozen, answers from the next (${took} ms, not the 30 s of a call)"
else
	tap FAIL "  ... the command line, its first endpoint frozen, answers from the next (exit $st, ${took} ms)"
	note "$T/cli.out"
fi
kill -CONT "${MEMBER_PID[$victim]}"
WRITER=$EPS
until_ok 15 ectl endpoint health --endpoints "$EPS" >/dev/null

# ---- a member partitioned from its peers --------------------------------------------
# It still answers clients, but has no leader: require-leader ends its
# watches, and the heartbeat's linearizable read (every third) fails; its
# daemons leave.
victim=$(busiest_member)
on_victim=$(daemons_on "$victim")
ip netns exec "$(member_ns "$victim")" nft -f - <<NFT
table inet partition {
	chain input {
		type filter hook input priority 0;
		tcp dport 2380 drop
		tcp sport 2380 drop
	}
	chain output {
		type filter hook output priority 0;
		tcp dport 2380 drop
		tcp sport 2380 drop
	}
}
NFT
WRITER=$(member_url $((victim % 3 + 1)))
put_policy p4 7004
if until_ok 10 all_have "policy p4 ingress rule 0"; then
	tap OK "member $victim cut off from its peers: a put reaches all $N kernels"
else
	tap FAIL "member $victim cut off from its peers: a put reaches all $N kernels ($(count_have "policy p4 ingress rule 0") have it)"
fi
moved=$(moved_off "$victim" $on_victim)
if [ "$moved" = "$(wc -w <<<"$on_victim")" ] && [ "$moved" -gt 0 ]; then
	tap OK "  ... the $moved daemons on it left it"
else
	tap FAIL "  ... the daemons on it left it ($moved of $(wc -w <<<"$on_victim"))"
	note "$T/d$(cut -d' ' -f1 <<<"$on_victim").log"
fi
ip netns exec "$(member_ns "$victim")" nft delete table inet partition
# every daemon still alive, none restarted
alive=0
for i in $(seq "$N"); do kill -0 "${DAEMON_PID[$i]}" 2>/dev/null && alive=$((alive + 1)); done
if [ "$alive" = "$N" ]; then tap OK "all $N daemons ran throughout"; else tap FAIL "$alive of $N daemons ran throughout"; fi
tap_done
