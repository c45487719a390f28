/* SPDX-License-Identifier: GPL-2.0-or-later */
/* v1 names to v3 names, by calico-upgrade's rules. */
#ifndef NFTMGR_NAMES_H
#define NFTMGR_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* calico-upgrade's convertName / convertNameNoDots. Caller frees. */
char *v1_name_convert(const char *v1, bool no_dots);
/* calico-upgrade's ConvertNodeName: normalised, no hash suffix. */
char *v1_node_name_convert(const char *v1);

#endif
