/* SPDX-License-Identifier: GPL-2.0-or-later */
/* YAML streams to located trees, one document at a time (libyaml events). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "resource-internal.h"

struct builder {
	const char *file;
	struct diags *d;
	struct value *stack[RULESET_MAX_DEPTH + 1];
	unsigned depth;
	struct value *root;
	struct value_budget budget;
	size_t max_values; /* ruleset_max_values(), read once per stream */
};

static struct pos mark_pos(yaml_mark_t m)
{
	return (struct pos){ (uint32_t)m.line + 1, (uint32_t)m.column + 1 };
}

static void builder_reset(struct builder *b)
{
	b->root = value_free(b->root);
	b->depth = 0;
}

static int builder_attach(struct builder *b, struct value *n, yaml_mark_t m)
{
	n->pos = mark_pos(m);
	if (b->depth == 0) {
		value_free(b->root);
		b->root = n;
		return 0;
	}
	if (value_add_kid(b->stack[b->depth - 1], n) < 0) {
		value_free(n);
		return -ENOMEM;
	}
	return 0;
}

static int builder_open(struct builder *b, enum value_type t, yaml_mark_t m)
{
	struct value *n;
	int r;

	if (b->depth >= RULESET_MAX_DEPTH) {
		diags_add(b->d, b->file, mark_pos(m), NULL, NULL, "nesting deeper than %d levels",
			  RULESET_MAX_DEPTH);
		return -EINVAL;
	}
	if (b->budget.nodes >= b->max_values)
		goto too_many;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	b->budget.nodes++;
	n->type = t;
	r = builder_attach(b, n, m);
	if (r < 0)
		return r;
	b->stack[b->depth++] = n;
	return 0;
too_many:
	diags_add(b->d, b->file, mark_pos(m), NULL, NULL, "more than %zu values in one stream",
		  b->max_values);
	return -EINVAL;
}

static int builder_scalar(struct builder *b, const yaml_event_t *e)
{
	const char *tag = (const char *)e->data.scalar.tag;
	struct value *n;

	if (e->data.scalar.length > RULESET_MAX_SCALAR) {
		diags_add(b->d, b->file, mark_pos(e->start_mark), NULL, NULL,
			  "scalar longer than %u bytes", RULESET_MAX_SCALAR);
		return -EINVAL;
	}
	if (b->budget.nodes >= b->max_values) {
		diags_add(b->d, b->file, mark_pos(e->start_mark), NULL, NULL,
			  "more than %zu values in one stream", b->max_values);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	b->budget.nodes++;
	n->type = VALUE_SCALAR;
	n->len = e->data.scalar.length;
	n->str = malloc(n->len + 1);
	if (!n->str) {
		free(n);
		return -ENOMEM;
	}
	memcpy(n->str, e->data.scalar.value, n->len);
	n->str[n->len] = '\0';
	n->quoted = e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (tag && strcmp(tag, YAML_STR_TAG) == 0) || (tag && strcmp(tag, "!") == 0);
	/* A NUL inside a scalar would silently truncate names. */
	if (memchr(n->str, '\0', n->len)) {
		diags_add(b->d, b->file, mark_pos(e->start_mark), NULL, NULL,
			  "NUL character in a string");
		value_free(n);
		return -EINVAL;
	}
	return builder_attach(b, n, e->start_mark);
}

static void report_parser_error(struct builder *b, const yaml_parser_t *p)
{
	struct pos pos = mark_pos(p->problem_mark);

	if (p->error == YAML_READER_ERROR) {
		pos = (struct pos){ 0, 0 };
		diags_add(b->d, b->file, pos, NULL, NULL, "%s at byte %zu",
			  p->problem ? p->problem : "unreadable input", p->problem_offset);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR)
		return;
	if (p->context)
		diags_add(b->d, b->file, pos, NULL, NULL, "YAML syntax: %s (%s at line %zu)",
			  p->problem ? p->problem : "error", p->context, p->context_mark.line + 1);
	else
		diags_add(b->d, b->file, pos, NULL, NULL, "YAML syntax: %s",
			  p->problem ? p->problem : "error");
}

/* Returns 1 when a document was completed, 0 to go on, negative errno. */
static int builder_event(struct builder *b, const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT: builder_reset(b); return 0;
	case YAML_DOCUMENT_END_EVENT: return 1;
	case YAML_SEQUENCE_START_EVENT: return builder_open(b, VALUE_SEQ, e->start_mark);
	case YAML_MAPPING_START_EVENT: return builder_open(b, VALUE_MAP, e->start_mark);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: b->depth--; return 0;
	case YAML_SCALAR_EVENT: return builder_scalar(b, e);
	case YAML_ALIAS_EVENT:
		diags_add(b->d, b->file, mark_pos(e->start_mark), NULL, NULL,
			  "YAML aliases are not supported");
		return -EINVAL;
	default: return 0;
	}
}

int value_parse_yaml(const char *file, const char *buf, size_t len, doc_fn fn, void *userdata,
		     struct diags *d)
{
	struct builder b = { .file = file, .d = d, .max_values = ruleset_max_values() };
	yaml_parser_t p;
	yaml_event_t e;
	int r = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &e)) {
			if (p.error == YAML_MEMORY_ERROR) {
				r = -ENOMEM;
			} else {
				report_parser_error(&b, &p);
				r = -EINVAL;
			}
			break;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		r = builder_event(&b, &e);
		yaml_event_delete(&e);
		if (r == 1) {
			r = b.root ? fn(userdata, b.root) : 0;
			builder_reset(&b);
		}
		if (r < 0)
			break;
	}
	builder_reset(&b);
	yaml_parser_delete(&p);
	return r < 0 ? r : 0;
}
