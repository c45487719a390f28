/* SPDX-License-Identifier: GPL-2.0-or-later */
/* version: nftmgr, libnftnl and libmnl versions, and the kernel's features. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <yaml.h>

#include "config.h"
#include "etcd.h"
#include "netlink.h"
#include "nftmgr.h"

int cmd_version(struct ctx *ctx, int argc, char **argv)
{
	struct nl_features f;
	struct utsname u;
	int r;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
			fprintf(stderr, "Usage: %s version\n", ctx->prog);
			return EXIT_USAGE;
		}
		printf("Usage: %s version\n\nPrint versions and the kernel features found.\n",
		       ctx->prog);
		return EXIT_OK;
	}
	printf("nftmgr %s\n", NFTMGR_VERSION);
	printf("libraries: libnftnl %s, libmnl %s, libyaml %s, jansson %s, %s\n",
	       NFTMGR_NFTNL_VERSION, NFTMGR_MNL_VERSION, yaml_get_version_string(),
	       jansson_version_str(), etcd_transport_version());
	if (uname(&u) == 0)
		printf("kernel: %s %s\n", u.sysname, u.release);
	r = nl_probe(&f);
	if (r < 0)
		printf("nf_tables: no netlink socket (%s)\n", strerror(-r));
	else if (!f.nf_tables)
		printf("nf_tables: not usable (%s)\n", strerror(-f.error));
	else
		printf("nf_tables: available, ruleset generation %u (transactions carry it)\n",
		       f.genid);
	if (r == 0 && f.nf_tables && nl_probe_features(&f) == 0) {
		printf("table owner+persist: %s\n",
		       f.owner_persist
			       ? "yes"
			       : "no (Linux 6.9+; without it another tool's flush ruleset removes the table)");
		printf("batch end acknowledgement: %s\n",
		       f.batch_end_ack ? "yes" : "no (Linux 6.10+)");
	}
	return EXIT_OK;
}
