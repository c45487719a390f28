# SPDX-License-Identifier: GPL-2.0-or-later
# What every shell suite shares, sourced first (bash, set -u):
#
#   TAP        tap OK|FAIL DESC, tap_skip DESC REASON, check DESC CMD...,
#              check_status DESC WANT CMD..., expect DESC FILE REGEX,
#              note FILE..., tap_done
#   waiting    until_ok SECONDS CMD...
#   skipping   need_netns, need_cmd CMD... (a TAP skip on a machine that
#              cannot run the suite; under NFTMGR_CI a failure, so that CI
#              cannot pass with a suite that did not run)
#   cleanup    $T, a temporary directory; netns_add NAME; at_exit CMD.
#              On exit: the at_exit commands, background jobs and every
#              process in our namespaces killed, the namespaces deleted,
#              $T removed (unless an outer script handed it in as LIB_T).
#   topology   client_and_node C N [6], wire_pod NODE POD IFACE ADDR

n=0
failed=0
_lib_netns=()
_lib_hooks=()
_lib_own_t=
if [ -n "${LIB_T:-}" ]; then	# a directory handed in by an outer script
	T=$LIB_T
else
	T=$(mktemp -d)
	_lib_own_t=1
fi

tap() {	# tap OK|FAIL DESCRIPTION
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}

note() {	# note FILE...: the last 40 lines of each, as TAP comments
	local f
	for f; do
		[ -s "$f" ] && tail -n 40 "$f" | sed 's/^/# /'
	done
	return 0
}

check() {	# check DESCRIPTION COMMAND...: OK when COMMAND succeeds
	local desc=$1
	shift
	if "$@" >"$T/check.log" 2>&1; then
		tap OK "$desc"
	else
		tap FAIL "$desc"
		note "$T/check.log"
	fi
}

# check_status DESCRIPTION WANT COMMAND...: OK when COMMAND exits with
# WANT; its output stays in $T/out and $T/err for expect.
check_status() {
	local desc=$1 want=$2 got
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" = "$want" ]; then
		tap OK "$desc"
	else
		tap FAIL "$desc (exit $got, want $want)"
		note "$T/out" "$T/err"
	fi
}

expect() {	# expect DESCRIPTION FILE REGEX: a line of FILE matches
	if grep -qE -- "$3" "$2"; then
		tap OK "$1"
	else
		tap FAIL "$1: no line matches /$3/"
		note "$2"
	fi
}

until_ok() {	# until_ok SECONDS COMMAND...: true once COMMAND succeeds in time
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while [ "$(date +%s%N)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

tap_skip() {	# tap_skip DESCRIPTION REASON: one test that cannot run here
	if [ -n "${NFTMGR_CI:-}" ]; then
		tap FAIL "$1: cannot run here: $2 (NFTMGR_CI)"
		return
	fi
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

skip_all() {	# skip_all REASON
	if [ -n "${NFTMGR_CI:-}" ]; then
		echo "not ok 1 - cannot run here: $1 (NFTMGR_CI: every suite must run)"
		echo "1..1"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

need_netns() {
	if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null || ! command -v nft >/dev/null; then
		skip_all "needs root, network namespaces and nft"
	fi
}

need_cmd() {	# need_cmd COMMAND...
	local c
	for c; do
		command -v "$c" >/dev/null || skip_all "needs $c"
	done
}

at_exit() {	# at_exit COMMAND: run (eval'd) on exit, before the rest
	_lib_hooks+=("$1")
}

netns_add() {	# netns_add NAME: a namespace deleted on exit
	ip netns add "$1" || return 1
	_lib_netns+=("$1")
}

_lib_cleanup() {
	local h ns
	for h in "${_lib_hooks[@]}"; do
		eval "$h"
	done
	kill $(jobs -p) 2>/dev/null
	for ns in "${_lib_netns[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	wait 2>/dev/null
	for ns in "${_lib_netns[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$_lib_own_t" ] && rm -rf "$T"
	return 0
}
trap _lib_cleanup EXIT

tap_done() {	# the plan line and the exit status
	echo "1..$n"
	exit $((failed > 0))
}

# client_and_node C N [6]: namespaces C and N joined by a veth pair, the
# node's eth1 (203.0.113.10, with 6 also 2001:db8:1::10) facing the
# client's eth0 (203.0.113.1, 2001:db8:1::1).
client_and_node() {
	netns_add "$1" && netns_add "$2" || return 1
	ip -n "$2" link add eth1 type veth peer name eth0 netns "$1"
	ip -n "$2" addr add 203.0.113.10/24 dev eth1
	ip -n "$1" addr add 203.0.113.1/24 dev eth0
	if [ "${3:-}" = 6 ]; then
		ip -n "$2" addr add 2001:db8:1::10/64 dev eth1 nodad
		ip -n "$1" addr add 2001:db8:1::1/64 dev eth0 nodad
	fi
	for x in "$2 eth1" "$1 eth0" "$2 lo" "$1 lo"; do
		set -- $x
		ip -n "$1" link set "$2" up
	done
}

# wire_pod NODE POD IFACE ADDR: the pod's namespace behind IFACE on the
# node, as Calico's CNI plugin wires it: ADDR/32 on the pod's eth0, a
# default route via 169.254.1.1 answered by proxy ARP, a /32 route on the
# node.
wire_pod() {
	netns_add "$2" || return 1
	ip -n "$2" link set lo up
	ip -n "$1" link add "$3" type veth peer name eth0 netns "$2"
	ip -n "$2" addr add "$4/32" dev eth0
	ip -n "$2" link set eth0 up
	ip -n "$2" route add 169.254.1.1 dev eth0 scope link
	ip -n "$2" route add default via 169.254.1.1 dev eth0
	ip -n "$1" link set "$3" up
	ip netns exec "$1" sysctl -qw "net.ipv4.conf.$3.proxy_arp=1" "net.ipv4.neigh.$3.proxy_delay=0"
	ip -n "$1" route add "$4/32" dev "$3" scope link
}
