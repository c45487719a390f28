#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Packages, as CI checks them (root, on the CI machine itself): build the
# .deb, lintian it, install it with apt-get, run the installed binary on
# the installed examples, check the units, remove it; build the RPM.
# TAP output. Installs and removes the package: not for a developer's
# machine (run by .ci/run only).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
out=$T
chmod 755 "$out"

check "the .deb builds (dpkg-buildpackage -us -uc -b)" tools/build-deb "$out/deb"
deb=$(ls "$out"/deb/nftmgr_*.deb 2>/dev/null | head -n 1)
chmod -R a+rX "$out"
check "lintian reports no errors or warnings" \
	su nobody -s /bin/sh -c "lintian --pedantic --fail-on error,warning,pedantic '$deb'"
check "apt-get installs it" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb"
check "the installed binary runs: nftmgr version" /usr/sbin/nftmgr version
check "the packaged binary reads no NFTMGR_TEST_* variable" sh -c "! grep -q NFTMGR_TEST_ /usr/sbin/nftmgr"
check "it exports the installed examples, and nft accepts the script" sh -c \
	"/usr/sbin/nftmgr --node worker-1 export -f /usr/share/nftmgr/examples \
	 --local-address eth1=203.0.113.10 | unshare -n nft -c -f -"
check "the configuration is a conffile" grep -qx /etc/nftmgr/nftmgr.cfg /var/lib/dpkg/info/nftmgr.conffiles
check "the service is installed, neither enabled nor started" sh -c \
	"test -f /lib/systemd/system/nftmgr.service && \
	 ! test -e /etc/systemd/system/multi-user.target.wants/nftmgr.service"
check "systemd-analyze verify accepts the units" \
	systemd-analyze verify /lib/systemd/system/nftmgr.service /lib/systemd/system/nftmgr-restore.service
check "the man pages are installed" sh -c "man -w nftmgr && man -w 5 nftmgr.cfg && man -w 5 nftmgr-policy"
check "apt-get removes it" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq nftmgr
check "the RPM builds (rpmbuild -bb)" tools/build-rpm "$out/rpm"
tap_done
