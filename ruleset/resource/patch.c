/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Patches on a resource's v3 form, as calicoctl patch takes them: a
 * strategic merge patch (its default), a JSON Merge Patch (RFC 7386) or a
 * JSON Patch (RFC 6902), written in JSON or YAML. The patched document is
 * decoded and validated as a whole, as apply would; it may not change the
 * resource's kind, name or namespace.
 *
 * Calico's API types declare no list merge keys, so a strategic merge
 * patch merges objects and replaces lists, as a merge patch does; of the
 * strategic directives it takes "$patch: replace" and "$patch: delete" on
 * an object, and refuses the others (they need merge keys).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"

#define PATCH_MAX_OPS 10000

struct pctx {
	struct diags *d;
	const char *ident;
	const char *file;
	bool failed;
};

static void perr(struct pctx *p, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void perr(struct pctx *p, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diags_add(p->d, p->file, (struct pos){ 0 }, p->ident, path, "%s", msg);
	p->failed = true;
}

/* ---- the patch document ---------------------------------------------------- */

static json_t *scalar_to_json(const struct value *v)
{
	json_int_t i;
	double f;

	if (v->quoted)
		return json_stringn(v->str, v->len);
	switch (value_scalar_type(v)) {
	case SCALAR_NULL: return json_null();
	case SCALAR_BOOL: return json_boolean(v->str[0] == 't' || v->str[0] == 'T');
	case SCALAR_INT:
		if (sscanf(v->str, "%lld", &i) == 1)
			return json_integer(i);
		break;
	case SCALAR_FLOAT:
		if (sscanf(v->str, "%lf", &f) == 1)
			return json_real(f);
		break;
	case SCALAR_STR: break;
	}
	return json_stringn(v->str, v->len);
}

/* A YAML value tree as JSON; NULL on ENOMEM or (*bad_key) a key that is
 * not a scalar. */
json_t *value_to_json(const struct value *v, bool *bad_key)
{
	json_t *j;

	if (v->type == VALUE_SCALAR)
		return scalar_to_json(v);
	j = v->type == VALUE_SEQ ? json_array() : json_object();
	for (size_t i = 0; j && i < v->n; i += v->type == VALUE_SEQ ? 1 : 2) {
		json_t *kid = value_to_json(v->kids[v->type == VALUE_SEQ ? i : i + 1], bad_key);
		int r = -1;

		if (kid && v->type == VALUE_SEQ)
			r = json_array_append_new(j, kid);
		else if (kid && v->kids[i]->type == VALUE_SCALAR)
			r = json_object_setn_new(j, v->kids[i]->str, v->kids[i]->len, kid);
		else if (kid)
			*bad_key = true, json_decref(kid); /* the _new calls took it */
		if (r < 0) {
			json_decref(j);
			j = NULL;
		}
	}
	return j;
}

char *value_json_text(const struct value *v)
{
	bool bad = false;
	json_t *j = value_to_json(v, &bad);
	char *s = j && !bad ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

struct yaml_doc {
	json_t *j;
	unsigned n;
	bool bad_key;
};

static int yaml_doc_cb(void *userdata, const struct value *root)
{
	struct yaml_doc *y = userdata;

	if (++y->n == 1)
		y->j = value_to_json(root, &y->bad_key);
	return y->j ? 0 : -EINVAL;
}

/* The patch text (JSON, or YAML) as one JSON value. */
static json_t *patch_parse(struct pctx *p, const char *text, size_t len)
{
	struct yaml_doc y = { 0 };
	size_t i = 0;
	json_error_t e;
	json_t *j;

	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	if (i < len && (text[i] == '{' || text[i] == '[')) {
		j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
		if (!j)
			perr(p, NULL, "the patch is not valid JSON: %s (line %d, column %d)",
			     e.text, e.line, e.column);
		return j;
	}
	if (value_parse_yaml(p->file, text, len, yaml_doc_cb, &y, p->d) < 0 || y.n != 1) {
		if (y.n > 1)
			perr(p, NULL, "the patch is %u documents, not one", y.n);
		else if (y.n == 0)
			perr(p, NULL, "the patch is empty");
		else if (y.bad_key)
			perr(p, NULL, "the patch has a map key that is not a string");
		else if (!y.j && !p->d->n)
			perr(p, NULL, "out of memory reading the patch");
		p->failed = true;
		json_decref(y.j);
		return NULL;
	}
	return y.j;
}

/* ---- JSON Merge Patch (RFC 7386) and strategic merge ------------------------- */

/* target (taken) merged with patch; NULL when the strategic directive
 * deletes it or on failure (p->failed). */
static json_t *merge(struct pctx *p, json_t *target, json_t *patch, bool strategic,
		     const char *path)
{
	const char *key, *directive = NULL;
	json_t *v;

	if (!json_is_object(patch)) {
		json_decref(target);
		return json_deep_copy(patch);
	}
	if (strategic && json_is_string(json_object_get(patch, "$patch")))
		directive = json_string_value(json_object_get(patch, "$patch"));
	if (directive && strcmp(directive, "delete") == 0) {
		json_decref(target);
		return NULL;
	}
	if (directive && strcmp(directive, "replace") == 0) {
		json_decref(target);
		target = json_object();
	} else if (directive) {
		perr(p, path, "$patch: %s is not a directive (replace, delete)", directive);
	}
	if (!json_is_object(target)) {
		json_decref(target);
		target = json_object();
	}
	json_object_foreach(patch, key, v)
	{
		char sub[1024];

		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", key);
		if (strategic && key[0] == '$') {
			if (strcmp(key, "$patch") != 0)
				perr(p, sub,
				     "the strategic directive %s needs list merge keys, "
				     "which Calico's types do not have",
				     key);
			continue;
		}
		if (json_is_null(v)) {
			json_object_del(target, key);
			continue;
		}
		json_t *old = json_object_get(target, key), *m;

		m = merge(p, old ? json_incref(old) : NULL, v, strategic, sub);
		if (m)
			json_object_set_new(target, key, m);
		else if (!p->failed)
			json_object_del(target, key);
	}
	return target;
}

/* ---- JSON Patch (RFC 6902) ---------------------------------------------------- */

/* RFC 6901: one reference token, ~1 and ~0 unescaped. */
static int token(const char **s, char *out, size_t len)
{
	size_t n = 0;

	for (; **s && **s != '/'; (*s)++) {
		char c = **s;

		if (c == '~') {
			(*s)++;
			if (**s != '0' && **s != '1')
				return -EINVAL;
			c = **s == '0' ? '~' : '/';
		}
		if (n + 1 >= len)
			return -E2BIG;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

static bool array_index(const char *t, size_t size, bool end_ok, size_t *ret)
{
	char *end;
	unsigned long v;

	if (end_ok && strcmp(t, "-") == 0) {
		*ret = size;
		return true;
	}
	if (!t[0] || t[0] < '0' || t[0] > '9' || (t[0] == '0' && t[1]))
		return false;
	v = strtoul(t, &end, 10);
	if (*end || v > size || (!end_ok && v == size))
		return false;
	*ret = v;
	return true;
}

/* Resolves pointer in doc to the parent of its last token (*ret_parent,
 * the token in last). "" has no parent: *ret_parent NULL. */
static int resolve(json_t *doc, const char *ptr, json_t **ret_parent, char *last, size_t len)
{
	const char *s = ptr;
	json_t *cur = doc;
	char tok[1024];

	*ret_parent = NULL;
	if (!*s)
		return 0;
	if (*s != '/')
		return -EINVAL;
	for (;;) {
		size_t i;

		s++;
		if (token(&s, tok, sizeof(tok)) < 0)
			return -EINVAL;
		if (!*s) {
			snprintf(last, len, "%s", tok);
			*ret_parent = cur;
			return 0;
		}
		if (json_is_object(cur))
			cur = json_object_get(cur, tok);
		else if (json_is_array(cur) && array_index(tok, json_array_size(cur), false, &i))
			cur = json_array_get(cur, i);
		else
			cur = NULL;
		if (!cur)
			return -ENOENT;
	}
}

/* The value at ptr (borrowed), or NULL. */
static json_t *pointer_get(json_t *doc, const char *ptr)
{
	json_t *parent;
	char last[1024];
	size_t i;

	if (resolve(doc, ptr, &parent, last, sizeof(last)) < 0)
		return NULL;
	if (!parent)
		return doc;
	if (json_is_object(parent))
		return json_object_get(parent, last);
	if (json_is_array(parent) && array_index(last, json_array_size(parent), false, &i))
		return json_array_get(parent, i);
	return NULL;
}

/* add (takes v): *doc replaced when ptr is "". */
static int pointer_add(json_t **doc, const char *ptr, json_t *v)
{
	json_t *parent;
	char last[1024];
	size_t i;
	int r = resolve(*doc, ptr, &parent, last, sizeof(last));

	if (r == 0 && !parent) {
		json_decref(*doc);
		*doc = v;
		return 0;
	}
	if (r == 0 && json_is_object(parent))
		return json_object_set_new(parent, last, v) < 0 ? -ENOMEM : 0;
	if (r == 0 && json_is_array(parent) && array_index(last, json_array_size(parent), true, &i))
		return json_array_insert_new(parent, i, v) < 0 ? -ENOMEM : 0;
	json_decref(v);
	return r < 0 ? r : -ENOENT;
}

static int pointer_remove(json_t *doc, const char *ptr)
{
	json_t *parent;
	char last[1024];
	size_t i;
	int r = resolve(doc, ptr, &parent, last, sizeof(last));

	if (r < 0)
		return r;
	if (!parent)
		return -EPERM; /* the whole document */
	if (json_is_object(parent))
		return json_object_del(parent, last) < 0 ? -ENOENT : 0;
	if (json_is_array(parent) && array_index(last, json_array_size(parent), false, &i))
		return json_array_remove(parent, i) < 0 ? -ENOENT : 0;
	return -ENOENT;
}

static const char *op_why(int r)
{
	switch (r) {
	case -EINVAL: return "is not a JSON pointer";
	case -EPERM: return "is the whole document, which cannot be removed";
	case -ENOMEM: return "could not be written (out of memory)";
	default: return "does not exist";
	}
}

/* The value move or copy takes from "from" (a new reference), already
 * removed there for move; NULL when it cannot (the reason in p). */
static json_t *take_from(struct pctx *p, json_t *doc, const char *name, const char *from,
			 const char *path, const char *where)
{
	size_t fl = strlen(from);
	json_t *v = pointer_get(doc, from);
	int r;

	if (!v) {
		perr(p, where, "%s from %s: the path does not exist", name, from);
		return NULL;
	}
	if (!strcmp(name, "move") && strncmp(path, from, fl) == 0 && path[fl] == '/') {
		perr(p, where, "move from %s into itself (%s)", from, path);
		return NULL;
	}
	v = json_deep_copy(v);
	if (v && !strcmp(name, "move") && (r = pointer_remove(doc, from)) < 0) {
		json_decref(v);
		perr(p, where, "move from %s: the path %s", from, op_why(r));
		return NULL;
	}
	return v;
}

/* An operation's op, checked with the members it needs. */
static const char *op_name(struct pctx *p, json_t *op, const char *where)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	bool value, from;

	if (!name || !json_is_string(json_object_get(op, "path"))) {
		perr(p, where, "an operation needs \"op\" and \"path\" strings");
		return NULL;
	}
	value = !strcmp(name, "add") || !strcmp(name, "replace") || !strcmp(name, "test");
	from = !strcmp(name, "move") || !strcmp(name, "copy");
	if (!value && !from && strcmp(name, "remove") != 0) {
		perr(p, where, "op \"%s\" is not one of add, remove, replace, move, copy, test",
		     name);
		return NULL;
	}
	if ((value && !json_object_get(op, "value")) ||
	    (from && !json_is_string(json_object_get(op, "from")))) {
		perr(p, where, "op %s needs \"%s\"", name, value ? "value" : "from");
		return NULL;
	}
	return name;
}

/* One operation on *doc; the reason in p when it fails. */
static void json_op(struct pctx *p, json_t **doc, json_t *op, size_t n)
{
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *from = json_string_value(json_object_get(op, "from"));
	json_t *value = json_object_get(op, "value"), *v;
	const char *name;
	char where[64];
	int r = 0;

	snprintf(where, sizeof(where), "[%zu]", n);
	name = op_name(p, op, where);
	if (!name)
		return;
	if (!strcmp(name, "test")) {
		v = pointer_get(*doc, path);
		if (!v || !json_equal(v, value))
			perr(p, where, "test %s: %s", path,
			     v ? "the value differs" : "the path does not exist");
		return;
	}
	if (!strcmp(name, "remove") || !strcmp(name, "replace")) {
		if (!strcmp(name, "replace") && !pointer_get(*doc, path))
			r = -ENOENT;
		else if (*path || !strcmp(name, "remove"))
			r = pointer_remove(*doc, path);
		if (r == 0 && !strcmp(name, "replace"))
			r = pointer_add(doc, path, json_deep_copy(value));
		if (r < 0)
			perr(p, where, "%s %s: the path %s", name, path, op_why(r));
		return;
	}
	v = from ? take_from(p, *doc, name, from, path, where) : json_deep_copy(value);
	if (!v)
		return;
	r = pointer_add(doc, path, v);
	if (r < 0)
		perr(p, where, "%s %s: the path %s", name, path, op_why(r));
}

static json_t *json_patch(struct pctx *p, json_t *doc, json_t *ops)
{
	if (!json_is_array(ops)) {
		perr(p, NULL, "a JSON patch is a list of operations");
		return doc;
	}
	if (json_array_size(ops) > PATCH_MAX_OPS) {
		perr(p, NULL, "a JSON patch of more than %d operations", PATCH_MAX_OPS);
		return doc;
	}
	for (size_t i = 0; i < json_array_size(ops) && !p->failed; i++) {
		json_t *op = json_array_get(ops, i);

		if (!json_is_object(op))
			perr(p, NULL, "operation %zu is not an object", i);
		else
			json_op(p, &doc, op, i);
	}
	return doc;
}

/* ---- the whole ---------------------------------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The patched document decoded, and still the same resource. */
static int decode_patched(struct pctx *p, const struct resource *r, json_t *doc,
			  struct resource **ret)
{
	struct resource_list l = { 0 };
	char *text = json_dumps(doc, JSON_INDENT(2));
	size_t before;
	int e;

	if (!text)
		return -ENOMEM;
	before = p->d->n;
	e = ruleset_load_buffer(p->file, text, strlen(text), &l, p->d);
	free(text);
	/* positions in the patched text we made mean nothing to the user */
	for (size_t i = before; i < p->d->n; i++)
		p->d->v[i].pos = (struct pos){ 0 };
	if (e == 0 && l.n != 1) {
		perr(p, NULL, "the patched document is %zu resources, not one", l.n);
		e = -EINVAL;
	}
	if (e == 0 && (l.v[0]->kind != r->kind || !str_eq(l.v[0]->name, r->name) ||
		       !str_eq(l.v[0]->namespace, r->namespace))) {
		perr(p, "metadata",
		     "a patch may not change the resource's kind, name or namespace");
		e = -EINVAL;
	}
	if (e == 0) {
		*ret = l.v[0];
		l.v[0] = NULL;
		l.n = 0;
	}
	resource_list_clear(&l);
	return e;
}

int patch_apply_doc(json_t **doc, const char *patch, size_t len, enum patch_type t,
		    const char *ident, struct diags *d)
{
	struct pctx p = { .d = d, .ident = ident, .file = "patch" };
	json_t *pj;

	if (len > ruleset_max_input()) {
		perr(&p, NULL, "the patch is larger than %zu bytes", ruleset_max_input());
		return -E2BIG;
	}
	pj = patch_parse(&p, patch, len);
	if (pj && t == PATCH_JSON)
		*doc = json_patch(&p, *doc, pj);
	else if (pj && !json_is_object(pj))
		perr(&p, NULL, "a %s patch is an object", t == PATCH_MERGE ? "merge" : "strategic");
	else if (pj)
		*doc = merge(&p, *doc, pj, t == PATCH_STRATEGIC, "");
	if (!p.failed && !*doc)
		perr(&p, NULL, "the patch deletes the whole document");
	json_decref(pj);
	return p.failed ? -EINVAL : 0;
}

int resource_patch(const struct resource *r, const char *patch, size_t len, enum patch_type t,
		   struct resource **ret, struct diags *d)
{
	char ident[320];
	struct pctx p = { .d = d, .ident = ident, .file = "patch" };
	json_t *doc = resource_to_json(r, false);
	int e;

	snprintf(ident, sizeof(ident), "%s/%s", kind_info(r->kind)->kind, r->name);
	if (!doc)
		return -ENOMEM;
	e = patch_apply_doc(&doc, patch, len, t, ident, d);
	if (e == 0)
		e = decode_patched(&p, r, doc, ret);
	json_decref(doc);
	return e;
}

int patch_type_parse(const char *s)
{
	static const char *const names[] = {
		[PATCH_STRATEGIC] = "strategic", [PATCH_MERGE] = "merge", [PATCH_JSON] = "json"
	};

	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -EINVAL;
}
