/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * convert: v1 manifests and Kubernetes NetworkPolicy printed as Calico v3
 * resources, by the very conversion nftmgr applies when it loads them, so
 * that the converted file exports the same ruleset as the original.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftmgr.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s convert -f PATH [-o yaml|json] [--ignore-validation]\n\n"
		"Print the resources of PATH (a file or - for standard input; Calico v1\n"
		"or v3, Kubernetes NetworkPolicy and Namespace) as Calico v3 resources,\n"
		"one alone, several as a List. A resource that does not convert or\n"
		"validate is reported with its location and nothing is printed;\n"
		"--ignore-validation prints the others and leaves it out.\n",
		prog);
}

static int convert_run(const char *path, bool json, bool ignore)
{
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int r = ruleset_read_file(path, &buf, &len);

	if (r < 0) {
		fprintf(stderr,
			"Failed to execute command: failed to create resources from file: "
			"%s: %s\n",
			path,
			r == -E2BIG ? "input larger than the limit (NFTMGR_MAX_INPUT)"
				    : strerror(-r));
		return r;
	}
	r = ignore ? ruleset_load_buffer_partial(path, buf, len, &l, &d)
		   : ruleset_load_buffer(path, buf, len, &l, &d);
	print_diags(&d);
	if (r < 0 && !ignore)
		fprintf(stderr, "Failed to execute command: converted manifest resource(s) failed "
				"validation (above). Re-run the command with '--ignore-validation' "
				"flag to see the converted output of the others\n");
	if ((r == 0 || (ignore && r == -EINVAL)) && l.n) {
		int w = json ? resources_write_json(l.v, l.n, stdout)
			     : resources_write_yaml(l.v, l.n, stdout);

		r = w < 0 ? w : r;
	} else if (r == 0) {
		fprintf(stderr, "No resources specified in file\n");
		r = -ENODATA;
	}
	resource_list_clear(&l);
	diags_clear(&d);
	free(buf);
	return r;
}

int cmd_convert(struct ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "ignore-validation", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *out = "yaml";
	bool ignore = false;
	int c;

	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		if (c == 'f')
			path = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == 'I')
			ignore = true;
		else if (c == 'h')
			return usage(stdout, ctx->prog), EXIT_OK;
		else
			return usage(stderr, ctx->prog), EXIT_USAGE;
	}
	if (!path || optind != argc)
		return usage(stderr, ctx->prog), EXIT_USAGE;
	if (strcmp(out, "yaml") && strcmp(out, "yml") && strcmp(out, "json")) {
		fprintf(stderr, "unrecognized output format '%s'\n", out);
		return EXIT_USAGE;
	}
	return convert_run(path, strcmp(out, "json") == 0, ignore) < 0 ? EXIT_FAIL : EXIT_OK;
}
