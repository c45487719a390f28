/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON streams (one or more concatenated values) with jansson, which is the
 * authority on syntax and values. jansson keeps no positions, so each value
 * is also read with libyaml (JSON is YAML's flow syntax) and, when both
 * trees have the same shape, the positions are copied over.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "resource-internal.h"

static bool same_shape(const struct value *a, const struct value *b)
{
	if (a->type != b->type || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!same_shape(a->kids[i], b->kids[i]))
			return false;
	return true;
}

static void copy_pos(struct value *dst, const struct value *src, struct pos base)
{
	dst->pos = src->pos;
	if (dst->pos.line == 1)
		dst->pos.col += base.col - 1;
	dst->pos.line += base.line - 1;
	for (size_t i = 0; i < dst->n; i++)
		copy_pos(dst->kids[i], src->kids[i], base);
}

struct pos_job {
	struct value *tree;
	struct pos base;
	bool copied;
};

static int pos_cb(void *userdata, const struct value *root)
{
	struct pos_job *j = userdata;

	if (same_shape(j->tree, root)) {
		copy_pos(j->tree, root, j->base);
		j->copied = true;
	}
	return 0;
}

static struct pos offset_pos(const char *buf, size_t off)
{
	struct pos p = { 1, 1 };

	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			p.line++;
			p.col = 1;
		} else {
			p.col++;
		}
	}
	return p;
}

static void locate(struct value *tree, const char *buf, size_t start, size_t len)
{
	struct pos_job j = { .tree = tree, .base = offset_pos(buf, start) };
	struct diags scratch = { 0 };

	(void)value_parse_yaml("", buf + start, len, pos_cb, &j, &scratch);
	diags_clear(&scratch);
	if (!j.copied)
		tree->pos = j.base;
}

int value_parse_json(const char *file, const char *buf, size_t len, doc_fn fn, void *userdata,
		     struct diags *d)
{
	struct value_budget budget = { 0 };
	size_t off = 0;

	for (;;) {
		json_error_t err;
		json_t *j;
		struct value *tree;
		int r;

		while (off < len && strchr(" \t\r\n", buf[off]))
			off++;
		if (off >= len)
			return 0;
		j = json_loadb(buf + off, len - off,
			       JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			       &err);
		if (!j) {
			struct pos p = offset_pos(buf, off);

			if (err.line == 1)
				p.col += err.column - 1;
			else if (err.line > 1)
				p = (struct pos){ p.line + err.line - 1,
						  err.column > 0 ? err.column : 1 };
			diags_add(d, file, p, NULL, NULL, "JSON syntax: %s", err.text);
			return -EINVAL;
		}
		tree = value_from_json(j, 0, &budget);
		json_decref(j);
		if (!tree) {
			diags_add(d, file, offset_pos(buf, off), NULL, NULL,
				  "JSON value too large or too deep");
			return -EINVAL;
		}
		locate(tree, buf, off, err.position);
		r = fn(userdata, tree);
		value_free(tree);
		if (r < 0)
			return r;
		off += err.position;
	}
}
