/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nftmgr: Calico network policy on nftables. The command table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink.h"
#include "nftmgr.h"

static const struct command commands[] = {
	{ "apply", cmd_apply, "create or replace resources from files" },
	{ "create", cmd_create, "create resources; fail if any exists" },
	{ "replace", cmd_replace, "replace resources; fail if any is missing" },
	{ "delete", cmd_delete, "delete resources by file or by kind and name" },
	{ "patch", cmd_patch, "change one resource in place by a patch" },
	{ "label", cmd_label, "set or remove a label of a resource" },
	{ "get", cmd_get, "list resources" },
	{ "validate", cmd_validate, "check resource files without storing them" },
	{ "convert", cmd_convert, "print v1 and Kubernetes manifests as v3 resources" },
	{ "upgrade", cmd_upgrade, "move Calico 2.6's etcd v2 data to the v3 layout" },
	{ "export", cmd_export, "print this node's ruleset as an nft -f script" },
	{ "daemon", cmd_daemon, "keep this node's kernel in sync with the datastore" },
	{ "diff", cmd_diff, "print what a sync would change in the kernel" },
	{ "sync", cmd_sync, "bring this node's table in the kernel up to date, atomically" },
	{ "confirm", cmd_confirm, "keep (or roll back) a commit made with --confirm-within" },
	{ "stats", cmd_stats, "kernel counters per endpoint, stage and rule" },
	{ "explain", cmd_explain, "which policy and rule decide a packet (no kernel needed)" },
	{ "trace", cmd_trace, "follow real packets through this node's table, in policy terms" },
	{ "version", cmd_version, "print versions and kernel features" },
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [-c FILE] [--node NAME] [--datastore-dir DIR] COMMAND [ARGS]\n\n"
		"Commands:\n",
		prog);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n", prog);
}

/* Builds for testing only (meson -Dtest_knobs): NFTMGR_TEST_FAULT_RULE
 * makes the kernel refuse the named rules, NFTMGR_TEST_OLD_KERNEL takes
 * the path of Linux before 6.2 (tests/netns/sync.sh). */
static void test_knobs(void)
{
#if NFTMGR_TEST_KNOBS
	struct nl_options o = {
		.fault_rules = getenv("NFTMGR_TEST_FAULT_RULE"),
		.old_kernel = getenv("NFTMGR_TEST_OLD_KERNEL") != NULL,
	};

	nl_set_options(&o);
#endif
}

/* calicoctl takes -c/--config after the command too ("calicoctl patch gnp
 * x -p ... -c FILE"): taken out of the command's arguments here, so that
 * its command lines work unchanged. No command uses -c for anything else. */
static int config_after_command(struct ctx *ctx, int *argc, char **argv)
{
	int w = 1, i;

	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "%s needs a FILE\n", a);
				return -EINVAL;
			}
			ctx->config_path = argv[++i];
			ctx->config_explicit = true;
		} else if (strncmp(a, "--config=", 9) == 0) {
			ctx->config_path = a + 9;
			ctx->config_explicit = true;
		} else {
			argv[w++] = argv[i];
		}
	}
	while (i < *argc)
		argv[w++] = argv[i++];
	argv[w] = NULL;
	*argc = w;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'N' },
		{ "datastore-dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx ctx = { .config_path = CONFIG_DEFAULT_PATH, .prog = argv[0] };
	int c;

	test_knobs();
	/* '+': stop at the command, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx.config_path = optarg;
			ctx.config_explicit = true;
			break;
		case 'N': ctx.node = optarg; break;
		case 'D': ctx.datastore_dir = optarg; break;
		case 'h': usage(stdout, argv[0]); return EXIT_OK;
		default: usage(stderr, argv[0]); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr, argv[0]);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		argc -= optind;
		argv += optind;
		if (config_after_command(&ctx, &argc, argv) < 0)
			return EXIT_USAGE;
		optind = 0; /* reset getopt for the command */
		return commands[i].fn(&ctx, argc, argv);
	}
	fprintf(stderr, "%s: unknown command '%s'\n", argv[0], argv[optind]);
	usage(stderr, argv[0]);
	return EXIT_USAGE;
}
