/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Least privilege for the daemon outside systemd too. Once it has started
 * (netlink socket, metrics listener, datastore open) it keeps only
 * CAP_NET_ADMIN: effective, permitted and bounding sets, nothing
 * inheritable or ambient, and no new privileges; what the unit's
 * CapabilityBoundingSet gives under systemd. And an etcd password handed
 * in the environment is wiped from the process's initial environment,
 * which /proc/PID/environ shows (of the daemon and of every child it
 * forks), and kept in the heap for the next reload only.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nftmgr.h"

extern char **environ;

void secrets_scrub_env(void)
{
	static const char *const names[] = { "ETCD_PASSWORD", "CALICO_ETCD_PASSWORD" };

	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		size_t len = strlen(names[n]);

		for (char **e = environ; e && *e; e++) {
			char *copy;

			if (strncmp(*e, names[n], len) != 0 || (*e)[len] != '=')
				continue;
			copy = strdup(*e + len + 1);
			/* the bytes /proc/PID/environ reads */
			memset(*e + len + 1, 'x', strlen(*e + len + 1));
			if (copy)
				setenv(names[n], copy, 1);
			free(copy);
			break;
		}
	}
}

int privileges_drop(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { 0 };
	unsigned i = CAP_TO_INDEX(CAP_NET_ADMIN);
	__u32 bit = CAP_TO_MASK(CAP_NET_ADMIN), keep;

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	keep = d[i].permitted & bit;
	/* The bounding set needs CAP_SETPCAP to shrink: without it (a
	 * unit that already bounds it) this changes nothing. */
	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (c != CAP_NET_ADMIN)
			(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	d[i].effective = d[i].permitted = keep;
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
