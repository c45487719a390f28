/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Decoder plumbing: field paths, located errors, strict field tables. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resource-internal.h"

size_t dctx_push(struct dctx *c, const char *fmt, ...)
{
	size_t saved = c->plen;
	va_list ap;
	int n;

	if (c->plen >= sizeof(c->path) - 1)
		return saved;
	va_start(ap, fmt);
	n = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->plen += (size_t)n < sizeof(c->path) - c->plen ? (size_t)n
								 : sizeof(c->path) - c->plen - 1;
	return saved;
}

size_t dctx_push_index(struct dctx *c, size_t i)
{
	size_t saved = c->plen;

	/* once per list item (2,000,000 CIDRs at W-huge): no printf */
	if (c->plen + 24 > sizeof(c->path))
		return saved;
	c->path[c->plen++] = '[';
	c->plen += put_uint(c->path + c->plen, i);
	c->path[c->plen++] = ']';
	c->path[c->plen] = '\0';
	return saved;
}

void dctx_pop(struct dctx *c, size_t saved)
{
	c->plen = saved;
	c->path[saved] = '\0';
}

void dctx_err(struct dctx *c, const struct value *at, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	const char *path = c->path[0] == '.' ? c->path + 1 : c->path;

	c->errors++;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diags_add(c->d, c->file, at ? at->pos : (struct pos){ 0, 0 }, c->ident, path, "%s",
		  msg ? msg : "out of memory");
	free(msg);
}

static const char *type_name(const struct value *n)
{
	static const char *const scalar[] = {
		[SCALAR_NULL] = "null",	     [SCALAR_BOOL] = "a boolean",
		[SCALAR_INT] = "an integer", [SCALAR_FLOAT] = "a number",
		[SCALAR_STR] = "a string",
	};

	if (n->type == VALUE_MAP)
		return "a map";
	if (n->type == VALUE_SEQ)
		return "a list";
	return scalar[value_scalar_type(n)];
}

bool fields_have(const struct field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(f[i].name, name) == 0)
			return true;
	return false;
}

bool decode_expect(struct dctx *c, const struct value *n, enum value_type t)
{
	static const char *const want[] = {
		[VALUE_SCALAR] = "a value",
		[VALUE_SEQ] = "a list",
		[VALUE_MAP] = "a map",
	};

	if (n->type == t)
		return true;
	dctx_err(c, n, "expected %s, got %s", want[t], type_name(n));
	return false;
}

void decode_fields(struct dctx *c, const struct value *map, const struct field *f, size_t nf,
		   void *base)
{
	uint64_t seen = 0;

	if (!decode_expect(c, map, VALUE_MAP))
		return;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct value *k = map->kids[i], *v = map->kids[i + 1];
		size_t j, saved;

		if (k->type != VALUE_SCALAR) {
			dctx_err(c, k, "field names must be strings");
			continue;
		}
		for (j = 0; j < nf; j++)
			if (strcmp(f[j].name, k->str) == 0)
				break;
		saved = dctx_push(c, ".%s", k->str);
		if (j == nf || !f[j].fn) {
			dctx_err(c, k, "unknown field \"%s\"", k->str);
		} else if (j < 64 && (seen & (1ull << j))) {
			dctx_err(c, k, "field given twice");
		} else {
			if (j < 64)
				seen |= 1ull << j;
			f[j].fn(c, v, base ? (char *)base + f[j].off : NULL);
		}
		dctx_pop(c, saved);
	}
}

static bool is_null(const struct value *n)
{
	return n->type == VALUE_SCALAR && value_scalar_type(n) == SCALAR_NULL;
}

void dec_string(struct dctx *c, const struct value *n, void *out)
{
	char **s = out;

	if (is_null(n))
		return;
	if (!decode_expect(c, n, VALUE_SCALAR))
		return;
	free(*s);
	*s = strdup(n->str);
	if (!*s)
		dctx_err(c, n, "out of memory");
}

void dec_bool(struct dctx *c, const struct value *n, void *out)
{
	bool *b = out;

	if (n->type != VALUE_SCALAR || value_scalar_type(n) != SCALAR_BOOL) {
		dctx_err(c, n, "expected true or false");
		return;
	}
	*b = n->str[0] == 't' || n->str[0] == 'T';
}

bool dec_uint(struct dctx *c, const struct value *n, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (n->type != VALUE_SCALAR || value_scalar_type(n) != SCALAR_INT || n->str[0] == '-') {
		dctx_err(c, n, "expected a whole number from 0 to %llu", (unsigned long long)max);
		return false;
	}
	errno = 0;
	v = strtoull(n->str, &end, 10);
	if (errno || *end || v > max) {
		dctx_err(c, n, "%s is out of range 0 to %llu", n->str, (unsigned long long)max);
		return false;
	}
	*ret = v;
	return true;
}

struct strv {
	char **v;
	size_t n;
};

void dec_string_list(struct dctx *c, const struct value *n, void *out)
{
	struct strv *l = out; /* layout: char **v; size_t n; */

	if (is_null(n))
		return;
	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	l->v = calloc(n->n ? n->n : 1, sizeof(*l->v));
	if (!l->v) {
		dctx_err(c, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		size_t saved = dctx_push_index(c, i);
		char *s = NULL;

		dec_string(c, n->kids[i], &s);
		if (s)
			l->v[l->n++] = s;
		dctx_pop(c, saved);
	}
}

static void dec_map_strings(struct dctx *c, const struct value *n, struct labels *l,
			    bool check_keys)
{
	if (is_null(n))
		return;
	if (!decode_expect(c, n, VALUE_MAP))
		return;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct value *k = n->kids[i], *v = n->kids[i + 1];
		size_t saved = dctx_push(c, "[%s]", k->str ? k->str : "?");

		if (k->type != VALUE_SCALAR || v->type != VALUE_SCALAR) {
			dctx_err(c, v, "expected string keys and values");
		} else if (labels_get(l, k->str)) {
			dctx_err(c, k, "key given twice");
		} else if (check_keys && (!validate_label_key(k->str, c->ver) ||
					  !validate_label_key(k->str, API_V3))) {
			/* v1 keys become v3 keys, so both rules apply. */
			dctx_err(c, k, "invalid label key \"%s\"", k->str);
		} else if (check_keys && !validate_label_value(v->str)) {
			dctx_err(c, v, "invalid label value \"%s\"", v->str);
		} else if (labels_set(l, k->str, v->str) < 0) {
			dctx_err(c, v, "out of memory");
		}
		dctx_pop(c, saved);
	}
}

void dec_labels(struct dctx *c, const struct value *n, void *out)
{
	dec_map_strings(c, n, out, true);
}

/* Kubernetes' limit on all of an object's annotations, which Calico's
 * validation applies too: keys and values together. */
#define ANNOTATIONS_MAX (256u << 10)

void dec_annotations(struct dctx *c, const struct value *n, void *out)
{
	const struct labels *l = out;
	size_t total = 0;

	dec_map_strings(c, n, out, false);
	for (size_t i = 0; i < l->n; i++) {
		char key[320];
		size_t k;

		total += strlen(l->v[i].key) + strlen(l->v[i].value);
		/* keys are qualified names, compared in lower case (Calico) */
		for (k = 0; l->v[i].key[k] && k + 1 < sizeof(key); k++)
			key[k] = (char)((l->v[i].key[k] >= 'A' && l->v[i].key[k] <= 'Z')
						? l->v[i].key[k] + 32
						: l->v[i].key[k]);
		key[k] = '\0';
		if (c->ver != API_V1 && (l->v[i].key[k] || !validate_label_key(key, API_V3))) {
			size_t saved = dctx_push(c, "[%s]", l->v[i].key);

			dctx_err(c, n, "invalid annotation key \"%s\"", l->v[i].key);
			dctx_pop(c, saved);
		}
	}
	if (total > ANNOTATIONS_MAX)
		dctx_err(c, n, "annotations of %zu bytes in total, more than %u", total,
			 ANNOTATIONS_MAX);
}

void dec_ignore(struct dctx *c, const struct value *n, void *out)
{
}
