/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * upgrade: calico-upgrade's job for the data nftmgr reads. Calico 2.6's
 * etcd v2 data (/calico/v1) is converted as the etcdv2 datastore reads it,
 * less what the controllers write again, and written to Calico's v3 layout
 * in etcd transactions, with ClusterInformation "default" saying
 * datastoreReady: false; 'complete' sets it true. 'start' first pauses
 * Calico networking by a compare-and-swap of /calico/v1/Ready from true to
 * false (Felix 2.6, and nftmgr's etcdv2 daemons, then keep their rules);
 * 'abort' sets it true again and leaves any v3 data in place.
 * The reports in --output-dir: convertednames, nameclashes,
 * conversionerrors, skipped.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "etcd.h"
#include "nftmgr.h"
#include "upgrade.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s upgrade dry-run|start|complete|abort [--apiconfigv1 FILE]\n"
		"       [--apiconfigv3 FILE] [--output-dir DIR] [--ignore-v3-data] "
		"[--no-prompts]\n\n"
		"Move a Calico 2.6 cluster's policy data from etcd v2 (/calico/v1) to\n"
		"Calico's v3 layout, as calico-upgrade did:\n"
		"  dry-run   check and convert, write the reports, change nothing\n"
		"  start     check, pause Calico networking (Ready=false), convert again\n"
		"            and write the v3 data (datastoreReady: false)\n"
		"  complete  set datastoreReady: true in v3; then move each node's daemon\n"
		"            to the v3 configuration and send it SIGHUP\n"
		"  abort     set Ready=true in v1 again (v3 data is left in place)\n\n"
		"  --apiconfigv1 FILE  the v1 side (default %s; APIV1_ETCD_* variables)\n"
		"  --apiconfigv3 FILE  the v3 side (default %s; ETCD_* variables)\n"
		"  --output-dir DIR    the reports (default %s)\n"
		"  --ignore-v3-data    migrate even if the v3 store holds data\n"
		"  --no-prompts        do not ask before start, complete and abort\n",
		prog, UPGRADE_V1_CFG, UPGRADE_V3_CFG, UPGRADE_REPORT_DIR);
}

/* Opens one side; v1 must name etcdv2, v3 etcdv3. */
static int open_side(const char *path, bool v1, struct etcd **ret)
{
	struct diags d = { 0 };
	struct etcd_opts o;
	struct config c;
	char err[256] = "";
	int r = v1 ? config_load_apiv1(path, false, &c, &d) : config_load(path, false, &c, &d);

	print_diags(&d);
	diags_clear(&d);
	if (r < 0)
		return r;
	if (c.type != (v1 ? DATASTORE_ETCDV2 : DATASTORE_ETCDV3)) {
		fprintf(stderr, "%s: the %s side must be datastoreType %s\n", path,
			v1 ? "v1" : "v3", v1 ? "etcdv2" : "etcdv3");
		config_clear(&c);
		return -EINVAL;
	}
	o = (struct etcd_opts){
		.endpoints = c.etcd_endpoints,
		.ca_file = c.etcd_ca_cert_file,
		.cert_file = c.etcd_cert_file,
		.key_file = c.etcd_key_file,
		.username = c.etcd_username,
		.password = c.etcd_password,
	};
	r = etcd_open(&o, ret, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "%s: %s\n", path, err[0] ? err : strerror(-r));
	config_clear(&c);
	return r;
}

static bool confirmed(const struct upgrade *u, const char *what)
{
	char line[16];

	if (u->no_prompts)
		return true;
	printf("%s\nType \"yes\" to go on: ", what);
	fflush(stdout);
	return fgets(line, sizeof(line), stdin) && strcmp(line, "yes\n") == 0;
}

/* Sets v1's Ready from `from` to `to`; false (said why) if it was not
 * `from`. */
static int set_ready(struct upgrade *u, const char *from, const char *to)
{
	bool ok = false;
	int r = etcd2_set(u->v1, BACKEND_V1_READY, to, from, &ok);

	if (r < 0) {
		fprintf(stderr, "%s\n", etcd_error(u->v1));
		return r;
	}
	if (!ok) {
		fprintf(stderr, "%s is not \"%s\": %s\n", BACKEND_V1_READY, from,
			strcmp(to, "false") == 0 ? "Calico networking is already paused (an "
						   "upgrade in progress? 'upgrade abort' ends it)"
						 : "no paused upgrade to abort");
		return -EALREADY;
	}
	return 0;
}

static int settle(void)
{
	const char *v = NFTMGR_TEST_KNOBS ? getenv("NFTMGR_TEST_UPGRADE_SETTLE_MS") : NULL;
	long ms = v ? strtol(v, NULL, 10) : UPGRADE_SETTLE_MS;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	printf("Calico networking is paused; waiting %ld ms for writes in flight to land\n", ms);
	fflush(stdout);
	return nanosleep(&ts, NULL) < 0 ? -errno : 0;
}

static int do_start(struct upgrade *u)
{
	int r;

	if (!confirmed(u, "This pauses Calico networking (new endpoints get no policy) until "
			  "'upgrade complete' or 'upgrade abort'."))
		return -ECANCELED;
	r = set_ready(u, "true", "false");
	if (r < 0)
		return r;
	r = settle();
	/* what was read before the pause may have changed: read again */
	upgrade_data_clear(u);
	if (r == 0)
		r = upgrade_check(u);
	if (r == 0)
		r = upgrade_write_v3(u);
	if (r < 0 && set_ready(u, "false", "true") == 0)
		fprintf(stderr, "The upgrade did not complete; Calico networking resumed "
				"(Ready=true). Fix what is reported and start again.\n");
	else if (r < 0)
		fprintf(stderr, "The upgrade did not complete; run 'upgrade abort'.\n");
	if (r == 0)
		printf("Migrated %zu resources to v3 (datastoreReady: false). Check the reports "
		       "in %s, then run 'upgrade complete'.\n",
		       u->l.n, u->outdir);
	return r;
}

static int do_complete(struct upgrade *u)
{
	int r;

	if (!confirmed(u, "This lets Calico 3 (and nftmgr on etcdv3) act on the v3 data."))
		return -ECANCELED;
	r = upgrade_set_v3_ready(u);
	if (r == 0)
		printf("datastoreReady is true. Move each node's nftmgr daemon to the v3 "
		       "configuration and send it SIGHUP; Calico 2.6 stays paused for good.\n");
	return r;
}

static int do_abort(struct upgrade *u)
{
	int r;

	if (!confirmed(u, "This resumes Calico 2.6 networking (Ready=true); v3 data is left."))
		return -ECANCELED;
	r = set_ready(u, "false", "true");
	if (r == 0)
		printf("Calico networking resumed (%s is true); v3 data was left in place.\n",
		       BACKEND_V1_READY);
	return r;
}

static int run(struct upgrade *u, const char *verb)
{
	bool needs_v1 = strcmp(verb, "complete") != 0;
	int r = 0;

	if (needs_v1)
		r = open_side(u->v1cfg, true, &u->v1);
	if (r == 0)
		r = open_side(u->v3cfg, false, &u->v3);
	if (r < 0)
		return r;
	if (strcmp(verb, "complete") == 0)
		return do_complete(u);
	if (strcmp(verb, "abort") == 0)
		return do_abort(u);
	r = upgrade_check(u);
	if (r < 0 || strcmp(verb, "dry-run") == 0) {
		if (r == 0)
			printf("Dry run: %zu resources would be migrated; nothing was changed. "
			       "Reports in %s\n",
			       u->l.n, u->outdir);
		return r;
	}
	return do_start(u);
}

int cmd_upgrade(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "apiconfigv1", required_argument, NULL, '1' },
		{ "apiconfigv3", required_argument, NULL, '3' },
		{ "output-dir", required_argument, NULL, 'o' },
		{ "ignore-v3-data", no_argument, NULL, 'I' },
		{ "no-prompts", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const verbs[] = { "dry-run", "start", "complete", "abort" };
	struct upgrade u = { .v1cfg = UPGRADE_V1_CFG,
			     .v3cfg = UPGRADE_V3_CFG,
			     .outdir = UPGRADE_REPORT_DIR };
	const char *verb;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == '1')
			u.v1cfg = optarg;
		else if (c == '3')
			u.v3cfg = optarg;
		else if (c == 'o')
			u.outdir = optarg;
		else if (c == 'I')
			u.ignore_v3 = true;
		else if (c == 'n')
			u.no_prompts = true;
		else if (c == 'h')
			return usage(stdout, ctx->prog), EXIT_OK;
		else
			return usage(stderr, ctx->prog), EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return usage(stderr, ctx->prog), EXIT_USAGE;
	verb = argv[optind];
	for (c = 0; c < 4 && strcmp(verb, verbs[c]) != 0; c++)
		;
	if (c == 4) {
		fprintf(stderr, "unknown upgrade command '%s'\n", verb);
		return usage(stderr, ctx->prog), EXIT_USAGE;
	}
	r = run(&u, verb);
	upgrade_data_clear(&u);
	etcd_free(u.v1);
	etcd_free(u.v3);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}
