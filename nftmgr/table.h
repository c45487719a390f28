/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Column-aligned text tables, as calicoctl prints them. */
#ifndef NFTMGR_TABLE_H
#define NFTMGR_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 16
#define TABLE_MAX_ROWS 1000000

struct table {
	size_t n_cols;
	char ***rows;
	size_t n_rows;
};

/* Copies n_cols cells (NULL prints empty). */
int table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f);
void table_clear(struct table *t);

#endif
