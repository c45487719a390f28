#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Pods and Kubernetes NetworkPolicy as connectivity matrices.
#
# One node namespace holds nftmgr's table; nine pods hang off it as
# Calico wires them (namespaces x, y, z with pods a, b, c): each pod is a
# network namespace whose eth0 (10.244.N.1P/32) is the peer of the node's
# cali<ns><pod>, reached through proxy ARP on 169.254.1.1 and a /32 route.
# Every pod listens on TCP 80 and 81 and UDP 80 (and UDP 53), and every
# pod probes every pod on those three ports: a 9 x 9 matrix of cells like
# "o-o" (TCP 80 open, TCP 81 closed, UDP 80 open).
#
# A case (tests/netns/matrix/*.yaml) states its resources and the full
# expected matrix; common/matrix-base is what every case starts from (the
# namespaces and the nine WorkloadEndpoints). Directives, in comments:
#   # matrix: SRC CELL x9          one row per source pod, columns x/a .. z/c
#   # expect: SRC PROTO DST PORT open|closed   an extra probe (DST: pod)
#   # label: POD KEY=VALUE         an extra label on a pod's endpoint
#   # port: POD NAME PROTO NUMBER  a named port on a pod's endpoint
#   # counted: COMMENT             a rule with this comment counted packets
#   # step: TEXT                   starts the next step: the same pods,
#                                  a new set of resources (what follows)
# Steps are applied to the running node one after the other, without
# tearing anything down; cases too. MATRIX_LOAD=sync commits with
# `nftmgr sync` (incremental from the previous step or case) instead of
# nft -f of `nftmgr export`, and then also checks `nftmgr explain` against
# the kernel for x/a's row and z/c's column. A failure prints the expected
# and observed matrices side by side. TAP, one line per step.
set -u
. "$(dirname "$0")/../lib.sh"

BIN=${NFTMGR_BIN:?}
PROBE=${PROBE_BIN:?}
HERE=$(cd "$(dirname "$0")" && pwd)
N=nmx-node-$$
PODS=(x/a x/b x/c y/a y/b y/c z/a z/b z/c)


need_netns

netns_of() { echo "nmx-${1/\//-}-$$"; }	# x/a -> nmx-x-a-PID
iface_of() { echo "cali${1/\//}"; }		# x/a -> calixa
ip_of() {					# x/a -> 10.244.1.10
	local ns=${1%/*} pod=${1#*/}
	echo "10.244.$(( $(printf '%d' "'$ns") - 119 )).$(( $(printf '%d' "'$pod") - 87 ))"
}


# ---- the node and its pods ----------------------------------------------------

netns_add "$N"
ip -n "$N" link set lo up
ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1
# Proxy ARP answers for 169.254.1.1 only when the node has a route to it
# elsewhere, as a real node's default route gives.
ip -n "$N" link add uplink type veth peer name uplink-peer
ip -n "$N" link set uplink up
ip -n "$N" link set uplink-peer up
ip -n "$N" route add default dev uplink
for p in "${PODS[@]}"; do
	ns=$(netns_of "$p")
	wire_pod "$N" "$ns" "$(iface_of "$p")" "$(ip_of "$p")"
	mkfifo "$T/ready"
	ip netns exec "$ns" "$PROBE" listen tcp:80 tcp:81 udp:80 udp:53 >"$T/ready" &
	read -r -t 5 _ <"$T/ready"
	rm -f "$T/ready"
done

# ---- probing ----------------------------------------------------------------------

# observe MS: the observed matrix, one line per source pod, nine cells
# each; all sources probe at once.
observe() {
	local targets=() p i
	for p in "${PODS[@]}"; do
		targets+=("tcp:$(ip_of "$p"):80" "tcp:$(ip_of "$p"):81" "udp:$(ip_of "$p"):80")
	done
	local pids=()
	for i in "${!PODS[@]}"; do
		ip netns exec "$(netns_of "${PODS[$i]}")" "$PROBE" many "$1" "${targets[@]}" >"$T/obs.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in "${!PODS[@]}"; do
		sed -E 's/(...)/\1 /g; s/ $//' "$T/obs.$i"
	done
}

# expected FILE: the "# matrix:" rows of one step, cells only.
expected() {
	local p
	for p in "${PODS[@]}"; do
		grep -E "^# matrix: $p " "$1" | head -n 1 | sed -E "s|^# matrix: $p +||; s/ +/ /g; s/ +$//"
	done
}

side_by_side() {	# side_by_side EXPECTED OBSERVED
	local i=0 e o
	printf '# %-40s   %s\n' "expected (o open, - closed: tcp/80 tcp/81 udp/80)" "observed (* differs)"
	printf '#      %s     %s\n' "x/a x/b x/c y/a y/b y/c z/a z/b z/c" "x/a  x/b  x/c  y/a  y/b  y/c  z/a  z/b  z/c"
	while IFS= read -r e && IFS= read -r o <&3; do
		local cells=() oc ec k
		read -ra ec <<<"$e"
		read -ra oc <<<"$o"
		for k in 0 1 2 3 4 5 6 7 8; do
			if [ "${ec[$k]:-?}" = "${oc[$k]:-?}" ]; then cells+=("${oc[$k]} "); else cells+=("${oc[$k]:-???}*"); fi
		done
		printf '# %s  %s     %s\n' "${PODS[$i]}" "$e" "${cells[*]}"
		i=$((i + 1))
	done <"$1" 3<"$2"
}

# ---- resources ---------------------------------------------------------------------

# base STEP: the namespaces and workload endpoints, with the step's extra
# labels and named ports.
base() {
	local ns p pod
	for ns in x y z; do
		printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {ns: %s}}\n' "$ns" "$ns"
	done
	for p in "${PODS[@]}"; do
		ns=${p%/*} pod=${p#*/}
		cat <<EOF
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: worker--1-k8s-$pod-eth0
  namespace: $ns
  labels:
    pod: $pod
EOF
		grep -E "^# label: $p " "$1" | sed -E 's/^# label: [^ ]+ ([^=]+)=(.*)$/    \1: "\2"/'
		cat <<EOF
spec:
  node: worker-1
  orchestrator: k8s
  pod: $pod
  endpoint: eth0
  interfaceName: $(iface_of "$p")
  ipNetworks: [$(ip_of "$p")/32]
  profiles: [kns.$ns, ksa.$ns.default]
  serviceAccountName: default
  ports:
  - {name: serve-80-tcp, protocol: TCP, port: 80}
  - {name: serve-81-tcp, protocol: TCP, port: 81}
  - {name: serve-80-udp, protocol: UDP, port: 80}
EOF
		grep -E "^# port: $p " "$1" | awk '{ printf "  - {name: %s, protocol: %s, port: %s}\n", $4, $5, $6 }'
	done
}

load() {	# load STEPFILE: commits base + the step; 0 on success
	base "$1" >"$T/base.yaml"
	if [ "${MATRIX_LOAD:-nft}" = sync ]; then
		ip netns exec "$N" "$BIN" --node worker-1 sync -f "$T/base.yaml" -f "$1" >"$T/load.out" 2>&1
	else
		"$BIN" --node worker-1 export -f "$T/base.yaml" -f "$1" >"$T/script.nft" 2>"$T/load.out" &&
			ip netns exec "$N" nft -f "$T/script.nft" >>"$T/load.out" 2>&1
	fi
}

extra_checks() {	# extra_checks STEPFILE LABEL
	local from proto to port want got
	while read -r _ _ from proto to port want; do
		if ip netns exec "$(netns_of "$from")" "$PROBE" "$proto" "$(ip_of "$to")" "$port" 1000; then
			got=open
		else
			got=closed
		fi
		if [ "$got" = "$want" ]; then
			tap OK "$2: $from $proto $to:$port $want"
		else
			tap FAIL "$2: $from $proto $to:$port is $got, want $want"
		fi
	done < <(grep '^# expect:' "$1")
}

counted() {	# counted STEPFILE LABEL
	local what
	while read -r _ _ what; do
		if ip netns exec "$N" nft list table inet nftmgr |
		   grep -F "comment \"$what\"" | grep -q 'counter packets [1-9]'; then
			tap OK "$2: \"$what\" counted packets"
		else
			tap FAIL "$2: \"$what\" counted packets"
		fi
	done < <(grep '^# counted:' "$1")
}

# explain_agrees STEPFILE LABEL: nftmgr explain of the first packet of
# x/a's row and z/c's column, every port, against what the kernel did.
explain_agrees() {
	local i j k s d cell pr pt want got bad=0 row col
	local ports=("tcp 80" "tcp 81" "udp 80")
	mapfile -t row <"$T/got"
	for i in "${!PODS[@]}"; do
		for j in "${!PODS[@]}"; do
			s=${PODS[$i]} d=${PODS[$j]}
			[ "$s" = "$d" ] && continue
			[ "$s" = x/a ] || [ "$d" = z/c ] || continue
			read -ra col <<<"${row[$i]}"
			for k in 0 1 2; do
				read -r pr pt <<<"${ports[$k]}"
				cell=${col[$j]:$k:1}
				[ "$cell" = o ] && want=accept || want=drop
				got=$("$BIN" --node worker-1 explain -f "$T/base.yaml" -f "$1" \
					--in "$(iface_of "$s")" --out "$(iface_of "$d")" \
					--src "$(ip_of "$s")" --dst "$(ip_of "$d")" --proto "$pr" --dport "$pt" |
					sed -n 's/^verdict: \([a-z]*\).*/\1/p')
				if [ "$got" != "$want" ]; then
					bad=$((bad + 1))
					echo "# explain $s -> $d $pr/$pt: $got, the kernel: $want"
				fi
			done
		done
	done
	if [ "$bad" = 0 ]; then
		tap OK "$2: explain agrees with the kernel (x/a's row, z/c's column)"
	else
		tap FAIL "$2: explain disagrees with the kernel $bad times"
	fi
}

run_step() {	# run_step STEPFILE LABEL
	local label=$2
	if ! load "$1"; then
		tap FAIL "$label: loads"
		sed 's/^/# /' "$T/load.out"
		return
	fi
	expected "$1" >"$T/want"
	if [ "$(grep -c . "$T/want")" != 9 ]; then
		tap FAIL "$label: the case states 9 matrix rows"
		return
	fi
	observe 400 >"$T/got"
	# A cell that should be open may have missed a short timeout on a
	# busy machine: look again, longer, before calling it a failure.
	# (Closed cells cannot turn open by waiting.)
	if ! cmp -s "$T/want" "$T/got"; then
		observe 2000 >"$T/got"
	fi
	if cmp -s "$T/want" "$T/got"; then
		tap OK "$label: 243 probes as expected"
	else
		tap FAIL "$label: matrix differs"
		side_by_side "$T/want" "$T/got"
		ip netns exec "$N" nft list table inet nftmgr 2>&1 |
			grep -E 'chain|counter packets [1-9]' | sed 's/^/#   /'
	fi
	extra_checks "$1" "$label"
	counted "$1" "$label"
	[ "${MATRIX_LOAD:-nft}" = nft ] && explain_agrees "$1" "$label"
}

# The control: no table at all, every pod reaches every pod.
printf '# matrix: %s ooo ooo ooo ooo ooo ooo ooo ooo ooo\n' "${PODS[@]}" >"$T/open.step"
expected "$T/open.step" >"$T/want"
observe 2000 >"$T/got"
if cmp -s "$T/want" "$T/got"; then
	tap OK "without nftmgr's table every pod reaches every pod"
else
	tap FAIL "without nftmgr's table every pod reaches every pod"
	side_by_side "$T/want" "$T/got"
fi

cases=("$@")
[ ${#cases[@]} = 0 ] && cases=("$HERE"/matrix/*.yaml)
for f in "${cases[@]}"; do
	name=$(basename "$f" .yaml)
	rm -f "$T"/step.*
	# Split at "# step:" lines (the first one and what precedes it are
	# step 1).
	awk -v dir="$T" 'BEGIN { k = 1; out = dir "/step.1" }
		/^# step:/ && steps++ { k++; out = dir "/step." k }
		{ print > out }' "$f"
	k=1
	while [ -f "$T/step.$k" ]; do
		title=$(grep -m1 '^# step:' "$T/step.$k" | sed 's/^# step: *//')
		run_step "$T/step.$k" "$name${title:+ [$k: $title]}"
		k=$((k + 1))
	done
done

# Pods coming, going and changing address change set elements only: the
# incremental commit's plan (nftmgr diff) holds nothing but element
# changes, and its statistics are printed for the log.
element_only() {	# element_only LABEL FILE...
	local label=$1
	shift
	ip netns exec "$N" "$BIN" --node worker-1 diff -f "$T/base.yaml" "$@" >"$T/plan" 2>&1
	if [ -s "$T/plan" ] && ! grep -qvE '^~ set [^ ]+: \+[0-9]+ -[0-9]+ elements$' "$T/plan"; then
		tap OK "$label: set elements only ($(tr '\n' ';' <"$T/plan"))"
	else
		tap FAIL "$label: set elements only"
		sed 's/^/# /' "$T/plan"
	fi
	ip netns exec "$N" "$BIN" --node worker-1 sync -f "$T/base.yaml" "$@" | sed 's/^/# /'
}

if [ "${MATRIX_LOAD:-nft}" = sync ]; then
	cat >"$T/policy.yaml" <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-x, namespace: y}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: x}}
EOF
	: >"$T/none.step"
	base "$T/none.step" >"$T/base.yaml"
	ip netns exec "$N" "$BIN" --node worker-1 sync -f "$T/base.yaml" -f "$T/policy.yaml" >/dev/null
	cat >"$T/remote.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: worker--2-k8s-d-eth0, namespace: x, labels: {pod: d}}
spec: {node: worker-2, orchestrator: k8s, pod: d, endpoint: eth0, interfaceName: calixd,
       ipNetworks: [10.244.9.10/32], profiles: [kns.x]}
EOF
	element_only "a pod of x added on another node" -f "$T/policy.yaml" -f "$T/remote.yaml"
	sed -i 's|10.244.9.10/32|10.244.9.20/32|' "$T/remote.yaml"
	element_only "its address changed" -f "$T/policy.yaml" -f "$T/remote.yaml"
	element_only "the pod removed" -f "$T/policy.yaml"
	sed -i 's|\[10.244.1.10/32\]|[10.244.1.99/32]|' "$T/base.yaml"
	element_only "a local pod's address changed" -f "$T/policy.yaml"
fi

tap_done
