/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sync: datastore (or files) -> this node's kernel, in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--node NAME] sync [-f PATH ...] [--local-address IFACE=IP ...] [--full]\n"
		"       [--confirm-within DURATION] [--boot]\n\n"
		"Bring this node's nftmgr table in the kernel to the ruleset compiled from\n"
		"the datastore (or from PATH), in one atomic netlink transaction that\n"
		"carries only what differs (nothing, when nothing does). --full replaces\n"
		"the whole table instead. Nothing outside the table is touched; on\n"
		"failure nothing changes.\n\n"
		"--confirm-within 60s (or 2m, up to 1 h): unless 'nftmgr confirm' is run\n"
		"in time, the table is put back as it was before this sync, atomically,\n"
		"by a helper that outlives this command and its connection.\n\n"
		"--boot (for the unit that runs before the network): with etcd, commit\n"
		"the resources of the daemon's last commit, kept in the state directory,\n"
		"without contacting etcd; with the file datastore, as without it.\n",
		prog);
}

/* --boot with etcd: the daemon's last-known-good copy instead (the
 * network is not up); *boot_path is the caller's to free. Returns -1 to
 * go on, or an exit status. */
static int boot_paths(struct ctx *ctx, struct node_input *in, char **ret_path)
{
	char *boot_path = NULL;
	struct datastore *ds = NULL;
	int ret = ds_open(ctx, &ds);

	if (ret)
		return ret;
	if (ds_etcd(ds)) {
		boot_path = strdup(ds_lkg_path(ds));
		if (!boot_path) {
			ret = EXIT_FAIL;
		} else if (access(boot_path, F_OK) < 0) {
			printf("No last-known-good copy at %s yet (the daemon writes it after its "
			       "first commit): nothing committed\n", boot_path);
			ret = EXIT_OK;
		} else {
			in->paths[in->n_paths++] = boot_path;
			ret = -1;
		}
	} else {
		ret = -1;
	}
	*ret_path = boot_path;
	ds_free(ds);
	return ret;
}

int cmd_sync(struct ctx *ctx, int argc, char **argv)
{
	struct node_input in = { 0 };
	bool full = false;
	char *boot_path = NULL;
	int ret = node_args(ctx, argc, argv, &in, &full, usage);

	if (ret < 0 && in.boot && !in.n_paths)
		ret = boot_paths(ctx, &in, &boot_path);
	if (ret < 0)
		ret = sync_node(ctx, &in, full) < 0 ? EXIT_FAIL : EXIT_OK;
	node_input_clear(&in);
	free(boot_path);
	return ret;
}
