/* SPDX-License-Identifier: GPL-2.0-or-later */
/* v1 names to v3 names (calico-upgrade's rules) and the SHA-1 they use. */
#ifndef NFTMGR_NAMES_H
#define NFTMGR_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void sha1(const void *data, size_t len, uint8_t out[20]);
/* calico-upgrade's convertName / convertNameNoDots. Caller frees. */
char *v1_name_convert(const char *v1, bool no_dots);

#endif
