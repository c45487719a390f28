/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Patch documents on arbitrary bytes: the first byte picks the type
 * (strategic, merge, JSON), the rest is the patch, applied to a policy.
 * A patch either is refused with a reason, or gives a resource of the
 * same kind, name and namespace that prints as YAML and loads back into
 * the same model; the original never changes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "resource.h"

static const char base[] =
	"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
	"metadata: {name: p, namespace: x, labels: {a: b}}\n"
	"spec:\n  order: 10\n  selector: a == 'b'\n  types: [Ingress, Egress]\n"
	"  ingress: [{action: Allow, protocol: TCP, source: {nets: [10.0.0.0/8]},"
	" destination: {ports: [80, '1000:2000']}}]\n"
	"  egress: [{action: Deny, destination: {selector: c == 'd'}}]\n";

static struct resource *base_resource(void)
{
	struct resource_list l = { 0 };
	struct diags d = { 0 };
	struct resource *r = NULL;

	if (ruleset_load_buffer("base.yaml", base, strlen(base), &l, &d) != 0 || l.n != 1)
		fuzz_fail("the base policy does not load", base);
	r = l.v[0];
	l.v[0] = NULL;
	resource_list_clear(&l);
	diags_clear(&d);
	return r;
}

static void check(const struct resource *r, const struct resource *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (out->kind != r->kind || strcmp(out->name, r->name) ||
	    strcmp(out->namespace, r->namespace))
		fuzz_fail("a patch changed the resource's identity", out->name);
	if (!f || resources_write_yaml((struct resource *const *)&out, 1, f) < 0 || fflush(f))
		fuzz_fail("the patched resource does not print", out->name);
	fclose(f);
	fuzz_load_round_trip("patched.yaml", (const uint8_t *)text, len);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct resource *r;
	struct resource *out = NULL;
	struct diags d = { 0 };
	int e;

	if (!r)
		r = base_resource();
	if (size < 1)
		return 0;
	e = resource_patch(r, (const char *)data + 1, size - 1, (enum patch_type)(data[0] % 3),
			   &out, &d);
	if (e == 0)
		check(r, out);
	else if (d.n == 0 && e == -EINVAL)
		fuzz_fail("a patch refused without a reason", "");
	if (r->u.policy.order != 10 || r->u.policy.n_ingress != 1 || r->labels.n != 1)
		fuzz_fail("a patch changed the original", "");
	resource_free(out);
	diags_clear(&d);
	return 0;
}
