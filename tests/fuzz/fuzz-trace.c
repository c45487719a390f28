/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an operator types for trace and --confirm-within, on arbitrary
 * text: one value per line, as duration, interface, source and
 * destination CIDR, protocol, source and destination port. A duration
 * that parses is in range and parses again from its printed form; a CIDR
 * prints and parses back to itself; a filter either is refused for ports
 * without a protocol that has them, or gives a table that prints, with one
 * marking rule per chain.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "compile.h"

#define FIELDS 7

static unsigned long number(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	return *s && !*end ? v : 0;
}

static void check_duration(const char *s)
{
	unsigned v = 0, again = 0;
	char buf[32];

	if (duration_parse(s, 3600, &v) < 0)
		return;
	if (v < 1 || v > 3600)
		fuzz_fail("duration out of range", s);
	snprintf(buf, sizeof(buf), "%us", v);
	if (duration_parse(buf, 3600, &again) < 0 || again != v)
		fuzz_fail("duration does not parse back", s);
}

static bool check_cidr(const char *s, struct cidr *c)
{
	struct cidr again;
	char buf[64];

	if (cidr_parse(s, false, c, NULL, 0) < 0)
		return false;
	cidr_format(c, true, buf, sizeof(buf));
	if (cidr_parse(buf, false, &again, NULL, 0) < 0 || again.family != c->family ||
	    again.len != c->len || memcmp(again.addr, c->addr, sizeof(c->addr)) != 0)
		fuzz_fail("CIDR does not print back", s);
	return true;
}

static void check_table(const struct trace_filter *f)
{
	struct model_table *t = NULL;
	bool ports = f->sport || f->dport;
	bool refuse = ports && f->proto != 6 && f->proto != 17 && f->proto != 132;
	char *text = NULL;
	size_t len = 0, marks = 0;
	FILE *m;
	int r = compile_trace_table("nftmgr-trace", f, &t);

	if (refuse != (r == -EINVAL) || (!refuse && r != 0))
		fuzz_fail("filter refused or accepted wrongly", f->iif ? f->iif : "");
	if (r)
		return;
	m = open_memstream(&text, &len);
	if (!m || model_table_print(t, m) != 0)
		fuzz_fail("trace table does not print", f->iif ? f->iif : "");
	fclose(m);
	for (const char *p = text; (p = strstr(p, "meta nftrace set 1")); p++)
		marks++;
	if (marks != t->n_chains || !t->n_chains)
		fuzz_fail("not one marking rule per chain", text);
	free(text);
	model_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *field[FIELDS] = { 0 }, *save = NULL, *p;
	struct trace_filter f = { 0 };
	size_t n = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = strtok_r(text, "\n", &save); p && n < FIELDS; p = strtok_r(NULL, "\n", &save))
		field[n++] = p;
	if (field[0])
		check_duration(field[0]);
	/* as the command takes them: interface names under 16 bytes */
	if (field[1] && strlen(field[1]) < 16 && strcmp(field[1], "-") != 0)
		f.iif = field[1];
	if (field[2])
		f.has_src = check_cidr(field[2], &f.src);
	if (field[3])
		f.has_dst = check_cidr(field[3], &f.dst);
	if (f.has_src && f.has_dst && f.src.family != f.dst.family)
		f.has_dst = false;
	if (field[4])
		f.proto = (uint8_t)number(field[4]);
	if (field[5])
		f.sport = (uint16_t)number(field[5]);
	if (field[6])
		f.dport = (uint16_t)number(field[6]);
	if (f.iif && f.proto & 1)
		f.oif = "eth9"; /* forwarded: both interfaces */
	check_table(&f);
	free(text);
	return 0;
}
