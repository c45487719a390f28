# SPDX-License-Identifier: GPL-2.0-or-later
# The fleet's set-up, shared by tests/fleet/fleet.sh and tests/bench/fleet.sh
# (sourced after tests/lib.sh): namespace $E is the switch (bridge br0,
# 198.51.100.254, where the operator's commands run); each of the 3 etcd
# members has a namespace of its own on it (198.51.100.1-3, port 2379: a
# failsafe port, so that the nodes' host endpoints let the daemons reach
# etcd), and so does each node (198.51.100.11...), one daemon each; helpers
# to write policies and to look at every kernel.

E=nfe-$$
CLUSTER=
EPS=
WRITER=		# the endpoint writes go to (a member known to answer)
declare -A MEMBER_PID=()
declare -A DAEMON_PID=()
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec: {}\n' >"$T/none.cfg"

member_url() { echo "http://198.51.100.$1:2379"; }
node_ns() { echo "nfn-$$-$1"; }
member_ns() { echo "nfm-$$-$1"; }

# Joins namespace NS to the switch as ADDRESS through veth NAME.
wire() {	# wire NS NAME ADDRESS
	ip -n "$E" link add "$2" type veth peer name eth0 netns "$1"
	ip -n "$E" link set "$2" master br0 up
	ip -n "$1" addr add "$3/24" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" link set lo up
}
ectl() { ip netns exec "$E" etcdctl --dial-timeout 2s --command-timeout 5s "$@"; }

member_start() {	# member_start M new|existing
	local m=$1 peer="http://198.51.100.$1:2380"

	ip netns exec "$(member_ns "$m")" etcd --name "m$m" --data-dir "$T/m$m" \
		--listen-client-urls "$(member_url "$m")" --advertise-client-urls "$(member_url "$m")" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "$CLUSTER" --initial-cluster-state "$2" \
		--heartbeat-interval 100 --election-timeout 1000 >>"$T/m$m.log" 2>&1 &
	MEMBER_PID[$m]=$!
}

node_up() {	# node_up I: namespace, veth to the switch, daemon
	local ns
	ns=$(node_ns "$1")
	netns_add "$ns" || return 1
	wire "$ns" "vn$1" "198.51.100.$((10 + $1))"
	mkdir -p "$T/state$1"
	[ -n "${FLEET_NO_DAEMONS:-}" ] && return 0
	ip netns exec "$ns" env ETCD_ENDPOINTS="$EPS" DATASTORE_DIR="$T/state$1" \
		"$BIN" -c "$T/none.cfg" --node "node-$1" daemon ${FLEET_DAEMON_ARGS:-} \
		2>"$T/d$1.log" &
	DAEMON_PID[$1]=$!
}

# Writes with nftmgr's own CLI, as an operator would, to $WRITER.
nm_e() { ip netns exec "$E" env ETCD_ENDPOINTS="$WRITER" "$BIN" -c "$T/none.cfg" "$@"; }

# An operator retries a write the cluster refused while it elected a leader.
retry() { until_ok 10 "$@"; }

put_policy() {	# put_policy NAME PORT
	printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: %s}\nspec: {selector: role == "fleet", ingress: [{action: Allow, protocol: TCP, destination: {ports: [%s]}}]}\n' \
		"$1" "$2" >"$T/put-$1.yaml"
	retry nm_e apply -f "$T/put-$1.yaml"
}

del_policy() { retry nm_e delete gnp "$1"; }

has() {	# has I COMMENT
	ip netns exec "$(node_ns "$1")" nft list table inet nftmgr 2>/dev/null | grep -q "comment \"$2\""
}

count_have() {
	local i c=0
	for i in $(seq "$N"); do has "$i" "$1" && c=$((c + 1)); done
	echo "$c"
}

all_have() { [ "$(count_have "$1")" = "$N" ]; }

# The member a daemon watches now: its last "watching etcd URL" line (at
# start, or after a reconnection).
member_of() {
	local url
	url=$(grep -Eo 'watching etcd http://[0-9.:]* (from|for)' "$T/d$1.log" | tail -n 1 | cut -d' ' -f3)
	url=${url%:2379}
	[ -n "$url" ] && echo "${url##*.}"
}

daemons_on() {	# daemons_on M: the indexes of the daemons watching member M
	local i out=
	for i in $(seq "$N"); do [ "$(member_of "$i")" = "$1" ] && out="$out $i"; done
	echo $out
}

moved_off() {	# moved_off M I...: how many of daemons I... no longer watch member M
	local m=$1 i c=0
	shift
	for i; do [ "$(member_of "$i")" != "$m" ] && c=$((c + 1)); done
	echo "$c"
}

busiest_member() {
	local m best=1 n most=-1
	for m in 1 2 3; do
		n=$(wc -w <<<"$(daemons_on "$m")")
		[ "$n" -gt "$most" ] && most=$n best=$m
	done
	echo "$best"
}

# Every kernel as fleet.sh leaves the store: p1 on 7101, p2 gone, p3 there.
node_state_ok() {
	local t
	t=$(ip netns exec "$(node_ns "$1")" nft list table inet nftmgr 2>/dev/null)
	grep -q 'dport 7101 .*comment "policy p1 ingress rule 0"' <<<"$t" &&
		! grep -q 'policy p2 ' <<<"$t" && grep -q 'comment "policy p3 ingress rule 0"' <<<"$t"
}

all_state() {
	local i
	for i in $(seq "$N"); do node_state_ok "$i" || return 1; done
}

# fleet_up N: the cluster, the host endpoints, N daemons, all committed.
fleet_up() {
	local i m
	CLUSTER="m1=http://198.51.100.1:2380,m2=http://198.51.100.2:2380,m3=http://198.51.100.3:2380"
	EPS="$(member_url 1),$(member_url 2),$(member_url 3)"
	WRITER=$EPS
	netns_add "$E" || return 1
	ip -n "$E" link set lo up
	ip -n "$E" link add br0 type bridge
	ip -n "$E" addr add 198.51.100.254/24 dev br0
	ip -n "$E" link set br0 up
	for m in 1 2 3; do
		netns_add "$(member_ns "$m")" || return 1
		wire "$(member_ns "$m")" "vm$m" "198.51.100.$m"
	done
	for m in 1 2 3; do member_start "$m" new; done
	until_ok 20 ectl --endpoints "$EPS" endpoint health || return 1
	for i in $(seq "$1"); do
		printf -- '---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: node-%d-eth0, labels: {role: fleet}}\nspec: {node: node-%d, interfaceName: eth0}\n' "$i" "$i"
	done >"$T/heps.yaml"
	nm_e apply -f "$T/heps.yaml" >/dev/null || return 1
	nm_e apply -f "${FLEET_POLICIES:-$SRC/tests/fixtures/seed-deny-kube-node-port-services.v3.yaml}" >/dev/null ||
		return 1
	if [ -n "${FLEET_NO_DAEMONS:-}" ]; then	# the bench starts them itself
		for i in $(seq "$1"); do FLEET_NO_DAEMONS=1 node_up "$i" || return 1; done
		return 0
	fi
	for i in $(seq "$1"); do node_up "$i" || return 1; done
	for i in $(seq "$1"); do
		until_ok 30 ip netns exec "$(node_ns "$i")" nft list chain inet nftmgr filter-in-eth0 ||
			return 1
	done
}
