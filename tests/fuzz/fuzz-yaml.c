/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The YAML loader on arbitrary bytes. Beyond not crashing, whatever loads
 * must print as YAML that loads again into the same model.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_load_round_trip("fuzz.yaml", data, size);
	return 0;
}
