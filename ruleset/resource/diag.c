/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Located diagnostics: collected, bounded, formatted as FILE:LINE:COL. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"

static char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void diags_add(struct diags *d, const char *file, struct pos pos, const char *ident,
	       const char *path, const char *fmt, ...)
{
	struct diag g = { .pos = pos };
	va_list ap;

	if (d->n >= RULESET_MAX_DIAGS) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->dropped++;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&g.msg, fmt, ap) < 0)
		g.msg = NULL;
	va_end(ap);
	g.file = strdup_or_null(file);
	g.ident = strdup_or_null(ident && *ident ? ident : NULL);
	g.path = strdup_or_null(path && *path ? path : NULL);
	if (!g.msg) {
		free(g.file);
		free(g.ident);
		free(g.path);
		d->dropped++;
		return;
	}
	d->v[d->n++] = g;
}

char *diag_format(const struct diag *g)
{
	char *s = NULL, *loc = NULL;
	int r;

	if (g->pos.line)
		r = asprintf(&loc, "%s:%u:%u: ", g->file ? g->file : "-", g->pos.line, g->pos.col);
	else
		r = asprintf(&loc, "%s: ", g->file ? g->file : "-");
	if (r < 0)
		return NULL;
	r = asprintf(&s, "%s%s%s%s%s%s", loc, g->ident ? g->ident : "", g->ident ? ": " : "",
		     g->path ? g->path : "", g->path ? ": " : "", g->msg);
	free(loc);
	return r < 0 ? NULL : s;
}

void diags_clear(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].ident);
		free(d->v[i].path);
		free(d->v[i].msg);
	}
	free(d->v);
	*d = (struct diags){ 0 };
}
