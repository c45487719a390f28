/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The selector parser on arbitrary text. A selector that parses must print
 * canonically, and the canonical text must parse to a selector that prints
 * the same and gives the same verdicts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kv[][2] = {
		{ "a", "b" },
		{ "ibm.role", "worker_public" },
		{ "x", "" },
		{ "calico/k8s_ns", "kube-system" },
	};
	struct selector *s = NULL, *t = NULL;
	struct selector_error err;
	struct labels l = { 0 };
	char *text, *a = NULL, *b = NULL;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (selector_parse(text, &s, &err) < 0)
		goto out;
	a = selector_format(s);
	if (!a)
		goto out;
	if (selector_parse(a, &t, &err) < 0)
		fuzz_fail("canonical selector does not parse", a);
	b = selector_format(t);
	if (!b || strcmp(a, b) != 0)
		fuzz_fail("canonical form is not stable", a);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		labels_set(&l, kv[i][0], kv[i][1]);
		if (selector_match(s, &l) != selector_match(t, &l))
			fuzz_fail("canonical form changes the verdict", a);
	}
out:
	labels_clear(&l);
	selector_free(s);
	selector_free(t);
	free(a);
	free(b);
	free(text);
	return 0;
}
