# SPDX-License-Identifier: GPL-2.0-or-later
# What the namespace test scripts share: TAP output and the skip when the
# machine cannot run them. Sourced, not run.

n=0
failed=0

tap() {	# tap OK|FAIL description
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi
}

# Exits with a TAP skip unless we are root with network namespaces and nft.
need_netns() {
	if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null || ! command -v nft >/dev/null; then
		echo "1..0 # SKIP needs root, network namespaces and nft"
		exit 0
	fi
}

# client_and_node C N [6]: namespaces C and N joined by a veth pair, the
# node's eth1 (203.0.113.10, with 6 also 2001:db8:1::10) facing the
# client's eth0 (203.0.113.1, 2001:db8:1::1).
client_and_node() {
	ip netns add "$1" && ip netns add "$2" || return 1
	ip -n "$2" link add eth1 type veth peer name eth0 netns "$1"
	ip -n "$2" addr add 203.0.113.10/24 dev eth1
	ip -n "$1" addr add 203.0.113.1/24 dev eth0
	if [ "${3:-}" = 6 ]; then
		ip -n "$2" addr add 2001:db8:1::10/64 dev eth1 nodad
		ip -n "$1" addr add 2001:db8:1::1/64 dev eth0 nodad
	fi
	for x in "$2 eth1" "$1 eth0" "$2 lo" "$1 lo"; do set -- $x; ip -n "$1" link set "$2" up; done
}

# wire_pod NODE POD IFACE ADDR: the pod's namespace behind IFACE on the
# node, as Calico's CNI plugin wires it: ADDR/32 on the pod's eth0, a
# default route via 169.254.1.1 answered by proxy ARP, a /32 route on the
# node.
wire_pod() {
	ip netns add "$2" || return 1
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

tap_done() {	# the plan line and the exit status
	echo "1..$n"
	exit $((failed > 0))
}
