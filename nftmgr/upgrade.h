/* SPDX-License-Identifier: GPL-2.0-or-later */
/* upgrade's parts: the verbs (cmd-upgrade.c) and the checks, reports and
 * v3 writes (upgrade.c). */
#ifndef NFTMGR_UPGRADE_H
#define NFTMGR_UPGRADE_H

#include "nftmgr.h"

#define UPGRADE_V1_CFG	    "/etc/calico/apiconfigv1.cfg"
#define UPGRADE_V3_CFG	    "/etc/calico/apiconfigv3.cfg"
#define UPGRADE_REPORT_DIR  "calico-upgrade-report"
#define UPGRADE_SETTLE_MS   15000 /* after the pause, as calico-upgrade */
#define UPGRADE_MIN_VERSION "v2.6.5"

#ifndef NFTMGR_TEST_KNOBS
#define NFTMGR_TEST_KNOBS 0
#endif

struct etcd;

struct upgrade {
	const char *v1cfg;
	const char *v3cfg;
	const char *outdir;
	bool no_prompts;
	bool ignore_v3;
	struct etcd *v1;
	struct etcd *v3;
	/* what upgrade_check() read */
	struct resource_list l;
	char *version; /* /calico/v1/config/CalicoVersion, ... */
	char *guid;
	char *type;
};

/* The version gate, the v3 store empty (unless ignore_v3), a snapshot of
 * v1 converted, name clashes; the reports written. Returns 0, -EINVAL
 * after reporting problems, or a negative errno. */
int upgrade_check(struct upgrade *u);
/* Every converted resource and ClusterInformation (datastoreReady false)
 * written to v3, in transactions of at most 128 operations. */
int upgrade_write_v3(struct upgrade *u);
/* ClusterInformation default: datastoreReady true. */
int upgrade_set_v3_ready(struct upgrade *u);
void upgrade_data_clear(struct upgrade *u);

#endif
