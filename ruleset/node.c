/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct node *node_free(struct node *n)
{
	if (!n)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
	return NULL;
}

int node_add_kid(struct node *parent, struct node *kid)
{
	/* Grow by doubling: capacity is the next power of two above n. */
	if ((parent->n & (parent->n - 1)) == 0) {
		size_t cap = parent->n ? parent->n * 2 : 4;
		struct node **k = realloc(parent->kids, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		parent->kids = k;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

const struct node *node_map_get(const struct node *map, const char *key)
{
	if (!map || map->type != NODE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct node *k = map->kids[i];

		if (k->type == NODE_SCALAR && strcmp(k->str, key) == 0)
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
		return false;	/* hex/octal ints are not port numbers here */
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool is_float(const char *s)
{
	static const char *const special[] = {
		".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf",
		".nan", ".NaN", ".NAN", NULL
	};
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

enum scalar_type node_scalar_type(const struct node *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const bools[] = {
		"true", "True", "TRUE", "false", "False", "FALSE", NULL
	};

	if (n->type != NODE_SCALAR || n->quoted)
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

static struct node *node_new(enum node_type t, struct node_budget *b)
{
	struct node *n;

	if (b->nodes >= RULESET_MAX_NODES)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n)
		b->nodes++;
	if (n)
		n->type = t;
	return n;
}

static struct node *scalar_from_json(const json_t *j, struct node_budget *b)
{
	struct node *n = node_new(NODE_SCALAR, b);
	int r = 0;

	if (!n)
		return NULL;
	switch (json_typeof(j)) {
	case JSON_STRING:
		n->quoted = true;
		n->str = strndup(json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		r = asprintf(&n->str, "%" JSON_INTEGER_FORMAT,
			     json_integer_value(j));
		break;
	case JSON_REAL:
		r = asprintf(&n->str, "%.17g", json_real_value(j));
		break;
	case JSON_TRUE:
		n->str = strdup("true");
		break;
	case JSON_FALSE:
		n->str = strdup("false");
		break;
	default:
		n->str = strdup("null");
		break;
	}
	if (r < 0 || !n->str)
		return node_free(n);
	n->len = strlen(n->str);
	return n;
}

struct node *node_from_json(const json_t *j, unsigned depth,
			    struct node_budget *b)
{
	struct node *n;

	if (depth > RULESET_MAX_DEPTH)
		return NULL;
	if (json_is_object(j)) {
		const char *key;
		json_t *v;

		n = node_new(NODE_MAP, b);
		if (!n)
			return NULL;
		json_object_foreach((json_t *)j, key, v) {
			struct node *k = node_new(NODE_SCALAR, b);
			struct node *val;

			if (!k || !(k->str = strdup(key))) {
				free(k);
				return node_free(n);
			}
			k->quoted = true;
			k->len = strlen(key);
			val = node_from_json(v, depth + 1, b);
			if (node_add_kid(n, k) < 0) {
				node_free(k);
				node_free(val);
				return node_free(n);
			}
			if (!val || node_add_kid(n, val) < 0) {
				node_free(val);
				return node_free(n);
			}
		}
		return n;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;

		n = node_new(NODE_SEQ, b);
		if (!n)
			return NULL;
		json_array_foreach(j, i, v) {
			struct node *val = node_from_json(v, depth + 1, b);

			if (!val || node_add_kid(n, val) < 0) {
				node_free(val);
				return node_free(n);
			}
		}
		return n;
	}
	return scalar_from_json(j, b);
}
