/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * selector: labels and Calico selectors (parse, match, canonical text).
 * Depends on nothing else of ours. Functions that can fail return 0 or a
 * negative errno.
 */
#ifndef NFTMGR_SELECTOR_H
#define NFTMGR_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#define SELECTOR_MAX_TEXT (64u << 10) /* bytes in one selector */

/* ---- labels ---- */

struct label {
	char *key;
	char *value;
};

/* Sorted by key, unique keys. */
struct labels {
	struct label *v;
	size_t n;
};

/* Sets key to value (copies both), keeping the array sorted. */
int labels_set(struct labels *l, const char *key, const char *value);
const char *labels_get(const struct labels *l, const char *key);
void labels_clear(struct labels *l);

/* ---- selectors ---- */

struct selector;

struct selector_error {
	size_t offset; /* byte offset in the selector text */
	char msg[160];
};

/* Parses a Calico selector. Empty or blank text is all(). Returns 0 and a
 * new selector (free with selector_free()), or -EINVAL with err filled in,
 * or -ENOMEM. */
int selector_parse(const char *text, struct selector **ret, struct selector_error *err);
struct selector *selector_free(struct selector *s);
bool selector_match(const struct selector *s, const struct labels *l);
/* Canonical text: normalised spacing, sorted and de-duplicated set members,
 * parentheses only where precedence needs them. Caller frees. */
char *selector_format(const struct selector *s);
/* True if global() appears anywhere / if the selector is exactly global(). */
bool selector_uses_global(const struct selector *s);
bool selector_is_global(const struct selector *s);
/* Every use of label from (has, ==, in, ...) becomes one of to. */
int selector_rename_label(struct selector *s, const char *from, const char *to);

#endif
