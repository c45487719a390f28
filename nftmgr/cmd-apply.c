/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nftmgr.h"

int cmd_apply(struct ctx *ctx, int argc, char **argv)
{
	return write_command(ctx, argc, argv, WRITE_APPLY);
}
