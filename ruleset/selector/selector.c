/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Calico selectors: a recursive-descent parser over the text (operators
 * such as "in" and "starts with" are only keywords right after a label, as
 * in Calico's tokenizer), an evaluator and a canonical printer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selector-ast.h"

#define SELECTOR_MAX_LABEL   512
#define SELECTOR_MAX_NESTING 100

struct sparser {
	const char *s;
	size_t i;
	unsigned nesting;
	struct selector_error *err;
	int ret; /* first error */
};

struct selector *selector_free(struct selector *s)
{
	if (!s)
		return NULL;
	free(s->label);
	free(s->value);
	for (size_t i = 0; i < s->n_set; i++)
		free(s->set[i]);
	free(s->set);
	for (size_t i = 0; i < s->n_kids; i++)
		selector_free(s->kids[i]);
	free(s->kids);
	free(s);
	return NULL;
}

__attribute__((format(printf, 2, 3))) static struct selector *fail(struct sparser *p,
								   const char *fmt, ...)
{
	va_list ap;

	if (p->ret == 0) {
		p->ret = -EINVAL;
		if (p->err) {
			p->err->offset = p->i;
			va_start(ap, fmt);
			vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
			va_end(ap);
		}
	}
	return NULL;
}

static struct selector *oom(struct sparser *p)
{
	if (p->ret == 0) {
		p->ret = -ENOMEM;
		if (p->err)
			snprintf(p->err->msg, sizeof(p->err->msg), "out of memory");
	}
	return NULL;
}

static void skip_ws(struct sparser *p)
{
	while (p->s[p->i] == ' ' || p->s[p->i] == '\t')
		p->i++;
}

static bool is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '/' || c == '-';
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Matches keyword kw at the cursor, followed by a word boundary. */
static bool keyword(struct sparser *p, const char *kw)
{
	size_t n = strlen(kw);

	if (strncmp(p->s + p->i, kw, n) != 0 || is_word_char(p->s[p->i + n]))
		return false;
	p->i += n;
	return true;
}

/* "starts with", "starts  with" and "startswith" are all accepted. */
static bool keyword2(struct sparser *p, const char *a, const char *b)
{
	size_t save = p->i, n = strlen(a);

	if (strncmp(p->s + p->i, a, n) != 0)
		return false;
	p->i += n;
	skip_ws(p);
	if (keyword(p, b))
		return true;
	p->i = save;
	return false;
}

static struct selector *node_new(struct sparser *p, enum sel_op op)
{
	struct selector *s = calloc(1, sizeof(*s));

	if (!s)
		return oom(p);
	s->op = op;
	return s;
}

static char *parse_label(struct sparser *p)
{
	size_t start = p->i;
	char *l;

	while (is_label_char(p->s[p->i]))
		p->i++;
	if (p->i == start) {
		fail(p, "expected a label");
		return NULL;
	}
	if (p->i - start > SELECTOR_MAX_LABEL) {
		p->i = start;
		fail(p, "label longer than %d characters", SELECTOR_MAX_LABEL);
		return NULL;
	}
	l = strndup(p->s + start, p->i - start);
	if (!l)
		oom(p);
	return l;
}

static char *parse_string(struct sparser *p)
{
	char q = p->s[p->i];
	const char *end;
	char *v;

	if (q != '"' && q != '\'') {
		fail(p, "expected a quoted string");
		return NULL;
	}
	end = strchr(p->s + p->i + 1, q);
	if (!end) {
		fail(p, "unterminated string");
		return NULL;
	}
	v = strndup(p->s + p->i + 1, (size_t)(end - (p->s + p->i + 1)));
	if (!v) {
		oom(p);
		return NULL;
	}
	p->i = (size_t)(end - p->s) + 1;
	return v;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_normalise(struct selector *s)
{
	size_t w = 0;

	if (s->n_set == 0)
		return;
	qsort(s->set, s->n_set, sizeof(*s->set), cmp_str);
	for (size_t r = 1; r < s->n_set; r++) {
		if (strcmp(s->set[r], s->set[w]) == 0)
			free(s->set[r]);
		else
			s->set[++w] = s->set[r];
	}
	s->n_set = w + 1;
}

static struct selector *parse_set(struct sparser *p, struct selector *s)
{
	if (p->s[p->i] != '{')
		return fail(p, "expected a set literal { ... }");
	p->i++;
	skip_ws(p);
	if (p->s[p->i] == '}') {
		p->i++;
		return s;
	}
	for (;;) {
		char *v, **set;

		skip_ws(p);
		v = parse_string(p);
		if (!v)
			return NULL;
		set = realloc(s->set, (s->n_set + 1) * sizeof(*set));
		if (!set) {
			free(v);
			return oom(p);
		}
		s->set = set;
		s->set[s->n_set++] = v;
		skip_ws(p);
		if (p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->s[p->i] == '}') {
			p->i++;
			set_normalise(s);
			return s;
		}
		return fail(p, "expected ',' or '}' in a set literal");
	}
}

static struct selector *parse_operation(struct sparser *p, char *label)
{
	static const struct {
		const char *a, *b;
		enum sel_op op;
	} ops[] = {
		{ "not", "in", SEL_NOT_IN },	  { "notin", NULL, SEL_NOT_IN },
		{ "in", NULL, SEL_IN },		  { "contains", NULL, SEL_CONTAINS },
		{ "starts", "with", SEL_STARTS }, { "startswith", NULL, SEL_STARTS },
		{ "ends", "with", SEL_ENDS },	  { "endswith", NULL, SEL_ENDS },
	};
	struct selector *s = NULL;
	enum sel_op op;
	size_t k;

	skip_ws(p);
	if (strncmp(p->s + p->i, "==", 2) == 0 || strncmp(p->s + p->i, "!=", 2) == 0) {
		op = p->s[p->i] == '=' ? SEL_EQ : SEL_NE;
		p->i += 2;
		goto string;
	}
	for (k = 0; k < ARRAY_SIZE(ops); k++)
		if (ops[k].b ? keyword2(p, ops[k].a, ops[k].b) : keyword(p, ops[k].a))
			break;
	if (k == ARRAY_SIZE(ops)) {
		free(label);
		return fail(p, "expected an operator after label");
	}
	op = ops[k].op;
	if (op == SEL_IN || op == SEL_NOT_IN) {
		s = node_new(p, op);
		if (!s) {
			free(label);
			return NULL;
		}
		s->label = label;
		skip_ws(p);
		if (!parse_set(p, s))
			return selector_free(s);
		return s;
	}
string:
	s = node_new(p, op);
	if (!s) {
		free(label);
		return NULL;
	}
	s->label = label;
	skip_ws(p);
	s->value = parse_string(p);
	if (!s->value)
		return selector_free(s);
	return s;
}

static struct selector *parse_or(struct sparser *p);

static struct selector *parse_call(struct sparser *p, enum sel_op op)
{
	struct selector *s = node_new(p, op);

	if (!s)
		return NULL;
	skip_ws(p);
	if (op == SEL_HAS) {
		s->label = parse_label(p);
		if (!s->label)
			return selector_free(s);
		skip_ws(p);
	}
	if (p->s[p->i] != ')') {
		fail(p, "expected ')'");
		return selector_free(s);
	}
	p->i++;
	return s;
}

static struct selector *parse_primary(struct sparser *p)
{
	static const struct {
		const char *text;
		enum sel_op op;
	} calls[] = {
		{ "has(", SEL_HAS },
		{ "all(", SEL_ALL },
		{ "global(", SEL_GLOBAL },
	};
	struct selector *s;
	char *label;

	skip_ws(p);
	if (p->s[p->i] == '(') {
		if (++p->nesting > SELECTOR_MAX_NESTING)
			return fail(p, "parentheses nested too deeply");
		p->i++;
		s = parse_or(p);
		if (!s)
			return NULL;
		skip_ws(p);
		if (p->s[p->i] != ')') {
			fail(p, "unterminated parenthesis");
			return selector_free(s);
		}
		p->i++;
		p->nesting--;
		return s;
	}
	for (size_t k = 0; k < ARRAY_SIZE(calls); k++) {
		size_t n = strlen(calls[k].text);

		if (strncmp(p->s + p->i, calls[k].text, n) == 0) {
			p->i += n;
			return parse_call(p, calls[k].op);
		}
	}
	if (p->s[p->i] == '"' || p->s[p->i] == '\'')
		return fail(p, "a string cannot stand on the left of an operator");
	if (!is_label_char(p->s[p->i]))
		return fail(p,
			    p->s[p->i] ? "unexpected character '%c'" : "unexpected end of selector",
			    p->s[p->i]);
	label = parse_label(p);
	if (!label)
		return NULL;
	return parse_operation(p, label);
}

static struct selector *parse_unary(struct sparser *p)
{
	unsigned nots = 0;
	struct selector *s, *n;

	skip_ws(p);
	while (p->s[p->i] == '!') {
		nots++;
		p->i++;
		skip_ws(p);
	}
	s = parse_primary(p);
	if (!s || nots % 2 == 0)
		return s;
	if (s->op == SEL_NOT) {
		/* !(!x) is x: keeps the canonical form free of double negation. */
		n = s->kids[0];
		free(s->kids);
		free(s);
		return n;
	}
	n = node_new(p, SEL_NOT);
	if (!n || !(n->kids = malloc(sizeof(*n->kids)))) {
		selector_free(n);
		selector_free(s);
		return oom(p);
	}
	n->kids[0] = s;
	n->n_kids = 1;
	return n;
}

/* Appends kid to an n-ary node, flattening a kid of the same operator. */
static int nary_add(struct selector *s, struct selector *kid)
{
	size_t add = kid->op == s->op ? kid->n_kids : 1;
	struct selector **k = realloc(s->kids, (s->n_kids + add) * sizeof(*k));

	if (!k)
		return -ENOMEM;
	s->kids = k;
	if (kid->op == s->op) {
		memcpy(&s->kids[s->n_kids], kid->kids, add * sizeof(*k));
		s->n_kids += add;
		free(kid->kids);
		free(kid);
	} else {
		s->kids[s->n_kids++] = kid;
	}
	return 0;
}

static struct selector *parse_nary(struct sparser *p, enum sel_op op, const char *tok,
				   struct selector *(*sub)(struct sparser *))
{
	struct selector *first, *s = NULL, *next;

	first = sub(p);
	if (!first)
		return NULL;
	for (;;) {
		skip_ws(p);
		if (strncmp(p->s + p->i, tok, 2) != 0)
			return s ? s : first;
		p->i += 2;
		next = sub(p);
		if (!next)
			goto err;
		if (!s) {
			s = node_new(p, op);
			if (!s || nary_add(s, first) < 0) {
				selector_free(next);
				goto err;
			}
			first = NULL;
		}
		if (nary_add(s, next) < 0) {
			selector_free(next);
			oom(p);
			goto err;
		}
	}
err:
	selector_free(first);
	return selector_free(s);
}

static struct selector *parse_and(struct sparser *p)
{
	return parse_nary(p, SEL_AND, "&&", parse_unary);
}

static struct selector *parse_or(struct sparser *p)
{
	return parse_nary(p, SEL_OR, "||", parse_and);
}

int selector_parse(const char *text, struct selector **ret, struct selector_error *err)
{
	struct sparser p = { .s = text, .err = err };
	struct selector *s;

	if (strlen(text) > SELECTOR_MAX_TEXT) {
		if (err) {
			err->offset = 0;
			snprintf(err->msg, sizeof(err->msg), "selector longer than %u bytes",
				 SELECTOR_MAX_TEXT);
		}
		return -EINVAL;
	}
	skip_ws(&p);
	if (text[p.i] == '\0') {
		s = node_new(&p, SEL_ALL);
		if (!s)
			return p.ret;
		*ret = s;
		return 0;
	}
	s = parse_or(&p);
	if (s) {
		skip_ws(&p);
		if (text[p.i] == ')') {
			fail(&p, "unexpected ')'");
			s = selector_free(s);
		} else if (text[p.i] != '\0') {
			fail(&p, "unexpected characters after the expression");
			s = selector_free(s);
		}
	}
	if (!s)
		return p.ret ? p.ret : -EINVAL;
	*ret = s;
	return 0;
}

bool selector_match(const struct selector *s, const struct labels *l)
{
	const char *v = s->label ? labels_get(l, s->label) : NULL;

	switch (s->op) {
	case SEL_ALL:
	case SEL_GLOBAL: return true;
	case SEL_HAS: return v != NULL;
	case SEL_EQ: return v && strcmp(v, s->value) == 0;
	case SEL_NE: return !v || strcmp(v, s->value) != 0;
	case SEL_IN:
	case SEL_NOT_IN: {
		bool in = v && s->n_set && bsearch(&v, s->set, s->n_set, sizeof(*s->set), cmp_str);
		return s->op == SEL_IN ? in : !in;
	}
	case SEL_CONTAINS: return v && strstr(v, s->value);
	case SEL_STARTS: return v && strncmp(v, s->value, strlen(s->value)) == 0;
	case SEL_ENDS: {
		size_t a, b = strlen(s->value);

		if (!v)
			return false;
		a = strlen(v);
		return a >= b && strcmp(v + a - b, s->value) == 0;
	}
	case SEL_NOT: return !selector_match(s->kids[0], l);
	case SEL_AND:
		for (size_t i = 0; i < s->n_kids; i++)
			if (!selector_match(s->kids[i], l))
				return false;
		return true;
	case SEL_OR:
		for (size_t i = 0; i < s->n_kids; i++)
			if (selector_match(s->kids[i], l))
				return true;
		return false;
	}
	return false;
}

bool selector_uses_global(const struct selector *s)
{
	if (s->op == SEL_GLOBAL)
		return true;
	for (size_t i = 0; i < s->n_kids; i++)
		if (selector_uses_global(s->kids[i]))
			return true;
	return false;
}

int selector_rename_label(struct selector *s, const char *from, const char *to)
{
	if (s->label && strcmp(s->label, from) == 0) {
		char *x = strdup(to);

		if (!x)
			return -ENOMEM;
		free(s->label);
		s->label = x;
	}
	for (size_t i = 0; i < s->n_kids; i++)
		if (selector_rename_label(s->kids[i], from, to) < 0)
			return -ENOMEM;
	return 0;
}

bool selector_is_global(const struct selector *s)
{
	return s->op == SEL_GLOBAL;
}
