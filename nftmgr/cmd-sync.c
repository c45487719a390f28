/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sync: datastore (or files) -> this node's kernel, in one transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [--node NAME] sync [-f PATH ...] [--local-address IFACE=IP ...] [--full]\n"
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
 * network is not up); *ret_path is the caller's to free. *ret_none (having
 * said so) when there is no copy yet. Returns 0 or a negative errno. */
static int boot_paths(struct ctx *ctx, struct node_input *in, char **ret_path, bool *ret_none)
{
	struct datastore *ds = NULL;
	int r = ds_open(ctx, &ds);

	*ret_path = NULL;
	if (r < 0 || !ds_etcd(ds)) {
		ds_free(ds);
		return r;
	}
	*ret_path = strdup(ds_lkg_path(ds));
	ds_free(ds);
	if (!*ret_path)
		return -ENOMEM;
	if (access(*ret_path, F_OK) < 0) {
		printf("No last-known-good copy at %s yet (the daemon writes it after its "
		       "first commit): nothing committed\n",
		       *ret_path);
		*ret_none = true;
		return 0;
	}
	in->paths[in->n_paths++] = *ret_path;
	return 0;
}

int cmd_sync(struct ctx *ctx, int argc, char **argv)
{
	struct node_input in = { 0 };
	bool full = false;
	char *boot_path = NULL;
	bool none = false;
	int ret = EXIT_USAGE, r = 0;

	if (node_args(ctx, argc, argv, &in, &full, usage) < 0)
		goto out;
	ret = EXIT_OK;
	if (in.help)
		goto out;
	if (in.boot && !in.n_paths) {
		r = boot_paths(ctx, &in, &boot_path, &none);
		if (none)
			goto out;
	}
	if (r == 0)
		r = sync_node(ctx, &in, full);
	ret = r < 0 ? EXIT_FAIL : EXIT_OK;
out:
	node_input_clear(&in);
	free(boot_path);
	return ret;
}
