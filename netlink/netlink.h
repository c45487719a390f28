/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netlink: nftables model -> libnftnl objects -> one libmnl batch.
 * This first piece only probes the kernel; the committer lands with the
 * compiler (see README, "Status").
 */
#ifndef NFTMGR_NETLINK_H
#define NFTMGR_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

struct nl_features {
	bool nf_tables;		/* the kernel answered NFT_MSG_GETGEN */
	uint32_t genid;		/* ruleset generation at probe time */
	int error;		/* negative errno when nf_tables is false */
};

/* Asks the kernel for the ruleset generation over NETLINK_NETFILTER.
 * Returns 0 with ret filled in (ret->error says why nf_tables is not
 * usable), or a negative errno if no socket could be opened. */
int nl_probe(struct nl_features *ret);

#endif
