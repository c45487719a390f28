/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The canonical text of a selector, so that equal selectors compare equal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selector-ast.h"

static void put_string(FILE *f, const char *v)
{
	/* No escapes exist: a string holding " must be single-quoted. */
	char q = strchr(v, '"') ? '\'' : '"';

	fprintf(f, "%c%s%c", q, v, q);
}

static void format(FILE *f, const struct selector *s, enum sel_op parent);

static void format_kid(FILE *f, const struct selector *k, enum sel_op parent)
{
	/* Parentheses only where precedence needs them: || under && or !,
	 * && under !. */
	bool paren = (k->op == SEL_OR && (parent == SEL_AND || parent == SEL_NOT)) ||
		     (k->op == SEL_AND && parent == SEL_NOT);

	if (paren)
		fputc('(', f);
	format(f, k, parent);
	if (paren)
		fputc(')', f);
}

static void format(FILE *f, const struct selector *s, enum sel_op parent)
{
	static const char *const binop[] = {
		[SEL_EQ] = "==",
		[SEL_NE] = "!=",
		[SEL_IN] = "in",
		[SEL_NOT_IN] = "not in",
		[SEL_CONTAINS] = "contains",
		[SEL_STARTS] = "starts with",
		[SEL_ENDS] = "ends with",
	};

	switch (s->op) {
	case SEL_ALL: fputs("all()", f); return;
	case SEL_GLOBAL: fputs("global()", f); return;
	case SEL_HAS: fprintf(f, "has(%s)", s->label); return;
	case SEL_IN:
	case SEL_NOT_IN:
		fprintf(f, "%s %s {", s->label, binop[s->op]);
		for (size_t i = 0; i < s->n_set; i++) {
			if (i)
				fputs(", ", f);
			put_string(f, s->set[i]);
		}
		fputc('}', f);
		return;
	case SEL_EQ:
	case SEL_NE:
	case SEL_CONTAINS:
	case SEL_STARTS:
	case SEL_ENDS:
		fprintf(f, "%s %s ", s->label, binop[s->op]);
		put_string(f, s->value);
		return;
	case SEL_NOT:
		fputc('!', f);
		format_kid(f, s->kids[0], SEL_NOT);
		return;
	case SEL_AND:
	case SEL_OR:
		for (size_t i = 0; i < s->n_kids; i++) {
			if (i)
				fputs(s->op == SEL_AND ? " && " : " || ", f);
			format_kid(f, s->kids[i], s->op);
		}
		return;
	}
	(void)parent;
}

char *selector_format(const struct selector *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	format(f, s, SEL_OR);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
