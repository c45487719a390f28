#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fleet bench (root; etcd-server installed): a 3-member etcd cluster
# and N node daemons (default 200), each in its own network namespace with
# its own host endpoint and the seed's policies; see fleet-bench.py for
# what is measured. Usage: tests/bench/fleet.sh [build dir] [N]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build}
N=${2:-200}
SRC=$(cd "$HERE/../.." && pwd)
BIN=$BUILD/nftmgr/nftmgr
. "$SRC/tests/lib.sh"
. "$SRC/tests/fleet/lib-fleet.sh"
need_netns
need_cmd etcd etcdctl python3
FLEET_NO_DAEMONS=1 fleet_up "$N" || { echo "the fleet did not start" >&2; note "$T"/m*.log; exit 1; }
echo "$(nproc) cores, $(free -g | awk '/^Mem/ {print $2}') GiB; $(uname -r); etcd $(etcd --version | head -n1 | awk '{print $3}')"
ip netns exec "$E" python3 "$HERE/fleet-bench.py" "$N" "$BIN" "nfn-$$-" "$EPS" \
	"${MEMBER_PID[1]},${MEMBER_PID[2]},${MEMBER_PID[3]}" "$T"
