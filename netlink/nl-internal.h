/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to netlink/. */
#ifndef NFTMGR_NL_INTERNAL_H
#define NFTMGR_NL_INTERNAL_H

#include <libnftnl/rule.h>

#include "netlink.h"

/* Sets created in a batch are referred to by id as well as by name. */
struct nl_set_ids {
	const struct nft_table *t;
	uint32_t base;
};

uint32_t nl_set_id(const struct nl_set_ids *ids, const char *name);
/* Fills nr with the expressions of r. Returns 0 or -ENOMEM. */
int nl_rule_build(struct nftnl_rule *nr, const struct nft_rule *r,
		  const struct nl_set_ids *ids);

#endif
