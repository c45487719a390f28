/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fuzz targets' entry point and shared checks. */
#ifndef NFTMGR_FUZZ_H
#define NFTMGR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Reports a broken property and aborts, so that the fuzzer keeps the
 * input and the replay test fails. */
__attribute__((noreturn)) void fuzz_fail(const char *what, const char *detail);
/* Loads data; if it loads, checks that its YAML output loads into the
 * same model. */
void fuzz_load_round_trip(const char *name, const uint8_t *data, size_t size);

#endif
