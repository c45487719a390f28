/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * get -o custom-columns=NAME,ORDER,...: calicoctl's headings of the kind
 * (NAME, NAMESPACE, ORDER, SELECTOR, NODE, INTERFACE, IPS, PROFILES,
 * WORKLOAD, NETWORKS, NATS, NETS, LABELS, ORCHESTRATOR, TIER), and beyond
 * them any field of metadata or spec by its upper-case name (DONOTTRACK,
 * TYPES, UID, ...): strings as they are, lists joined by commas, maps as
 * key=value pairs, lists of objects as compact JSON.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nftmgr.h"
#include "table.h"

/* calicoctl's headings that are not simply a field's upper-case name. */
static const struct {
	const char *heading, *field, *alt;
	size_t truncate;
} headings[] = {
	{ "INTERFACE", "interfaceName" },  { "IPS", "expectedIPs" },
	{ "NETWORKS", "ipNetworks" },	   { "NATS", "ipNATs" },
	{ "WORKLOAD", "workload", "pod" }, { "NETS", "nets", NULL, 80 },
	{ "LABELS", "labelsToApply" },
};

static void put_value(FILE *f, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_string(v)) {
		fputs(json_string_value(v), f);
	} else if (json_is_integer(v)) {
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		fprintf(f, "%.15g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "true" : "false", f);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			if (i)
				fputc(',', f);
			if (json_is_object(x) || json_is_array(x))
				json_dumpf(x, f, JSON_COMPACT);
			else
				put_value(f, x);
		}
	} else if (json_is_object(v)) {
		i = 0;
		json_object_foreach(v, k, x)
		{
			fprintf(f, "%s%s=", i++ ? "," : "", k);
			put_value(f, x);
		}
	}
}

/* The field named (case-insensitively) in metadata, then spec. */
static json_t *field(json_t *doc, const char *name)
{
	static const char *const parts[] = { "metadata", "spec" };
	const char *k;
	json_t *v;

	for (size_t p = 0; p < 2; p++)
		json_object_foreach(json_object_get(doc, parts[p]), k,
				    v) if (strcasecmp(k, name) == 0) return v;
	return NULL;
}

/* One cell; NULL when the resource has no such field. */
static char *cell(json_t *doc, const char *col, bool policy)
{
	char *buf = NULL;
	size_t len = 0, trunc = 0;
	json_t *v = NULL;
	FILE *f;

	for (size_t i = 0; i < sizeof(headings) / sizeof(headings[0]) && !v; i++)
		if (strcmp(col, headings[i].heading) == 0) {
			v = field(doc, headings[i].field);
			if (!v && headings[i].alt)
				v = field(doc, headings[i].alt);
			trunc = headings[i].truncate;
		}
	if (!v)
		v = field(doc, col);
	if (!v && policy && strcmp(col, "ORDER") == 0)
		return strdup("<nil>");
	if (!v && policy && strcmp(col, "TIER") == 0)
		return strdup("default"); /* the one tier there is */
	if (!v || !(f = open_memstream(&buf, &len)))
		return NULL;
	put_value(f, v);
	fclose(f);
	if (buf && trunc && strlen(buf) > trunc)
		strcpy(buf + trunc - 3, "...");
	return buf;
}

static json_t *as_json(const struct resource *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *j = NULL;

	if (f && resources_write_json((struct resource *const *)&r, 1, f) == 0 && fflush(f) == 0)
		j = json_loadb(buf, len, 0, NULL);
	if (f)
		fclose(f);
	free(buf);
	return j;
}

static bool known(const char *col, enum res_kind k)
{
	bool policy = k == RES_GLOBAL_NETWORK_POLICY || k == RES_NETWORK_POLICY;

	for (size_t i = 0; i < sizeof(headings) / sizeof(headings[0]); i++)
		if (strcmp(col, headings[i].heading) == 0)
			return true;
	return (policy && !strcmp(col, "TIER")) || kind_has_field(k, col);
}

static int fill(struct table *t, const struct resource_list *l, char *const *cols, size_t n,
		bool *seen)
{
	bool policy = l->n && (l->v[0]->kind == RES_GLOBAL_NETWORK_POLICY ||
			       l->v[0]->kind == RES_NETWORK_POLICY);
	int e = table_add(t, (const char *const *)cols);

	for (size_t i = 0; e == 0 && i < l->n; i++) {
		json_t *doc = as_json(l->v[i]);
		char *cells[TABLE_MAX_COLS] = { 0 };

		if (!doc)
			e = -ENOMEM;
		for (size_t c = 0; doc && c < n; c++) {
			cells[c] = cell(doc, cols[c], policy);
			seen[c] |= cells[c] != NULL;
		}
		if (e == 0)
			e = table_add(t, (const char *const *)cells);
		for (size_t c = 0; c < n; c++)
			free(cells[c]);
		json_decref(doc);
	}
	return e;
}

int columns_print(const struct resource_list *l, enum res_kind k, char *const *cols, size_t n)
{
	struct table t = { .n_cols = n };
	bool seen[TABLE_MAX_COLS] = { 0 };
	int e = fill(&t, l, cols, n, seen);

	for (size_t c = 0; e == 0 && c < n; c++)
		if (!seen[c] && !known(cols[c], k)) {
			fprintf(stderr,
				"unknown heading %s, valid values are: calicoctl's for "
				"the kind (NAME, NAMESPACE, ...), or a field of %s's "
				"metadata or spec by its upper-case name\n",
				cols[c], kind_info(k)->kind);
			e = -EINVAL;
		}
	if (e == 0)
		table_print(&t, stdout);
	table_clear(&t);
	return e;
}
