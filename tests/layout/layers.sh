#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The layering holds and is enforced: tools/check-layers passes on the
# tree and refuses a forbidden include (another layer's public header, or
# another folder's private one); the compiler itself cannot find a header
# a library was not given. TAP output. Needs NFTMGR_SOURCE, NFTMGR_BUILD.
set -u
SRC=${NFTMGR_SOURCE:?}
BUILD=${NFTMGR_BUILD:?}
. "$SRC/tests/lib.sh"

check "check-layers accepts the tree" "$SRC/tools/check-layers" "$SRC"

# a copy of the layers, one file changed
copy_with() {	# copy_with FILE LINE: $T/tree with LINE put in FILE
	rm -rf "$T/tree"
	mkdir -p "$T/tree"
	(cd "$SRC" && tar cf - ruleset netlink etcd nftmgr) | tar xf - -C "$T/tree"
	sed -i "0,/^#include \"/s//$2\n&/" "$T/tree/$1"
}
refused() {	# refused DESCRIPTION FILE LINE
	copy_with "$2" "$3"
	if "$SRC/tools/check-layers" "$T/tree" 2>"$T/why"; then
		tap FAIL "$1"
	elif grep -q "^$2:[0-9]*: .* may not include" "$T/why"; then
		tap OK "$1"
	else
		tap FAIL "$1 (not named)"
		note "$T/why"
	fi
}
refused "netlink/ may not include resource.h" netlink/commit.c '#include "resource.h"'
refused "store/ may not include resource/'s private header" ruleset/store/store.c \
	'#include "resource-internal.h"'
refused "model/ may not include compile.h" ruleset/model/print.c '#include "compile.h"'
refused "etcd/ may not include netlink.h" etcd/kv.c '#include "netlink.h"'
refused "compile/ may not include store.h" ruleset/compile/memo.c '#include "store.h"'

# The compiler: netlink/commit.c built with netlink's own include paths
# and an added #include "resource.h" does not compile.
cmd=$(python3 - "$BUILD/compile_commands.json" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1])):
    if c["file"].endswith("netlink/commit.c"):
        print(c["directory"] + "\t" + c["command"])
        break
PY
)
dir=${cmd%%$'\t'*} line=${cmd#*$'\t'}
copy_with netlink/commit.c '#include "resource.h"'
if [ -z "$cmd" ]; then
	tap FAIL "the compiler refuses netlink/ including resource.h (no compile command)"
else
	# the same command on the changed copy, output thrown away
	line=$(sed -E "s| -o [^ ]+| -o /dev/null|; s| -MD -MQ [^ ]+ -MF [^ ]+||; s| -c [^ ]+\$| -c $T/tree/netlink/commit.c|" <<<"$line")
	if (cd "$dir" && eval "$line") 2>"$T/cc.txt"; then
		tap FAIL "the compiler refuses netlink/ including resource.h"
	elif grep -q 'resource.h: No such file' "$T/cc.txt"; then
		tap OK "the compiler refuses netlink/ including resource.h"
	else
		tap FAIL "the compiler refuses netlink/ including resource.h (another error)"
		note "$T/cc.txt"
	fi
fi
tap_done
