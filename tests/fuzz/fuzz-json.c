/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON loader (jansson, with libyaml positions) on arbitrary bytes,
 * and the datastore's stored-value reader. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resource *r = NULL;
	struct diags d = { 0 };

	fuzz_load_round_trip("fuzz.json", data, size);
	if (resource_from_storage("stored", (const char *)data, size, &r, &d) == 0)
		resource_free(r);
	diags_clear(&d);
	return 0;
}
