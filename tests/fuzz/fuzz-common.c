/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the fuzz targets share: failing loudly, the YAML round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "fuzz.h"
#include "resource.h"

void fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz property broken: %s: %s\n", what, detail ? detail : "");
	abort();
}

static char *yaml_of(struct resource_list *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (resources_write_yaml(l->v, l->n, f) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/* The stored text (written without jansson) is what jansson writes for
 * the same tree. */
static void assert_canonical(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	char *again = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!again || strcmp(again, text) != 0)
		fuzz_fail("stored text is not jansson's compact JSON", text);
	free(again);
	json_decref(j);
}

void fuzz_load_round_trip(const char *name, const uint8_t *data, size_t size)
{
	struct resource_list l = { 0 }, again = { 0 };
	struct diags d = { 0 };
	char *yaml = NULL;

	if (ruleset_load_buffer(name, (const char *)data, size, &l, &d) < 0 || !l.n)
		goto out;
	yaml = yaml_of(&l);
	if (!yaml)
		goto out;
	diags_clear(&d);
	if (ruleset_load_buffer("again.yaml", yaml, strlen(yaml), &again, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.v[i].msg);
		fuzz_fail("printed YAML does not load again", yaml);
	}
	if (again.n != l.n)
		fuzz_fail("round trip changed the number of resources", yaml);
	for (size_t i = 0; i < l.n; i++) {
		char *a = resource_to_storage_json(l.v[i]);
		char *b = resource_to_storage_json(again.v[i]);

		if (a && b && strcmp(a, b) != 0)
			fuzz_fail("round trip changed a resource", a);
		if (a)
			assert_canonical(a);
		free(a);
		free(b);
	}
out:
	free(yaml);
	resource_list_clear(&l);
	resource_list_clear(&again);
	diags_clear(&d);
}
