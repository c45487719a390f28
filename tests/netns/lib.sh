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

tap_done() {	# the plan line and the exit status
	echo "1..$n"
	exit $((failed > 0))
}
