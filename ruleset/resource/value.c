/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The located value tree both parsers build: nodes, budgets, look-ups,
 * YAML 1.2 core-schema scalar types, and trees from jansson values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"

struct value *value_free(struct value *n)
{
	if (!n)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		value_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
	return NULL;
}

int value_add_kid(struct value *parent, struct value *kid)
{
	/* Grow by doubling: capacity is the next power of two above n. */
	if ((parent->n & (parent->n - 1)) == 0) {
		size_t cap = parent->n ? parent->n * 2 : 4;
		struct value **k = realloc(parent->kids, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		parent->kids = k;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

const struct value *value_map_get(const struct value *map, const char *key)
{
	if (!map || map->type != VALUE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct value *k = map->kids[i];

		if (k->type == VALUE_SCALAR && strcmp(k->str, key) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

static bool match_any(const char *s, const char *const *v)
{
	for (; *v; v++)
		if (strcmp(s, *v) == 0)
			return true;
	return false;
}

static bool is_int(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o'))
		return false; /* hex/octal ints are not port numbers here */
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool is_float(const char *s)
{
	static const char *const special[] = { ".inf",	".Inf", ".INF", "-.inf", "-.Inf", "-.INF",
					       "+.inf", ".nan", ".NaN", ".NAN",	 NULL };
	bool digits = false;

	if (match_any(s, special))
		return true;
	if (*s == '-' || *s == '+')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits = true;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits = true;
	}
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

enum scalar_type value_scalar_type(const struct value *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const bools[] = {
		"true", "True", "TRUE", "false", "False", "FALSE", NULL
	};

	if (n->type != VALUE_SCALAR || n->quoted)
		return SCALAR_STR;
	if (match_any(n->str, nulls))
		return SCALAR_NULL;
	if (match_any(n->str, bools))
		return SCALAR_BOOL;
	if (is_int(n->str))
		return SCALAR_INT;
	if (is_float(n->str))
		return SCALAR_FLOAT;
	return SCALAR_STR;
}

static struct value *value_new(enum value_type t, struct value_budget *b)
{
	struct value *n;

	if (!b->max)
		b->max = ruleset_max_values();
	if (b->nodes >= b->max)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n)
		b->nodes++;
	if (n)
		n->type = t;
	return n;
}

static struct value *scalar_from_json(const json_t *j, struct value_budget *b)
{
	struct value *n = value_new(VALUE_SCALAR, b);
	int r = 0;

	if (!n)
		return NULL;
	switch (json_typeof(j)) {
	case JSON_STRING:
		n->quoted = true;
		n->str = strndup(json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		r = asprintf(&n->str, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		break;
	case JSON_REAL: r = asprintf(&n->str, "%.17g", json_real_value(j)); break;
	case JSON_TRUE: n->str = strdup("true"); break;
	case JSON_FALSE: n->str = strdup("false"); break;
	default: n->str = strdup("null"); break;
	}
	if (r < 0 || !n->str)
		return value_free(n);
	n->len = strlen(n->str);
	return n;
}

struct value *value_from_json(const json_t *j, unsigned depth, struct value_budget *b)
{
	struct value *n;

	if (depth > RULESET_MAX_DEPTH)
		return NULL;
	if (json_is_object(j)) {
		const char *key;
		json_t *v;

		n = value_new(VALUE_MAP, b);
		if (!n)
			return NULL;
		json_object_foreach((json_t *)j, key, v)
		{
			struct value *k = value_new(VALUE_SCALAR, b);
			struct value *val;

			if (!k || !(k->str = strdup(key))) {
				free(k);
				return value_free(n);
			}
			k->quoted = true;
			k->len = strlen(key);
			val = value_from_json(v, depth + 1, b);
			if (value_add_kid(n, k) < 0) {
				value_free(k);
				value_free(val);
				return value_free(n);
			}
			if (!val || value_add_kid(n, val) < 0) {
				value_free(val);
				return value_free(n);
			}
		}
		return n;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;

		n = value_new(VALUE_SEQ, b);
		if (!n)
			return NULL;
		json_array_foreach(j, i, v)
		{
			struct value *val = value_from_json(v, depth + 1, b);

			if (!val || value_add_kid(n, val) < 0) {
				value_free(val);
				return value_free(n);
			}
		}
		return n;
	}
	return scalar_from_json(j, b);
}
