/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Columns padded as calicoctl's tabwriter pads them (3 spaces). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

int table_add(struct table *t, const char *const *cells)
{
	char **row;
	char ***rows;

	if (t->n_rows == TABLE_MAX_ROWS)
		return -E2BIG;
	rows = realloc(t->rows, (t->n_rows + 1) * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	t->rows = rows;
	row = calloc(t->n_cols, sizeof(*row));
	if (!row)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_cols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "");
		if (!row[i]) {
			while (i--)
				free(row[i]);
			free(row);
			return -ENOMEM;
		}
	}
	t->rows[t->n_rows++] = row;
	return 0;
}

void table_print(const struct table *t, FILE *f)
{
	size_t w[TABLE_MAX_COLS] = { 0 };

	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols; c++)
			if (strlen(t->rows[r][c]) > w[c])
				w[c] = strlen(t->rows[r][c]);
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			if (c + 1 == t->n_cols)
				fprintf(f, "%s", t->rows[r][c]);
			else
				fprintf(f, "%-*s   ", (int)w[c], t->rows[r][c]);
		}
		fputc('\n', f);
	}
}

void table_clear(struct table *t)
{
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	free(t->rows);
	t->rows = NULL;
	t->n_rows = 0;
}
