/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The model as an nft -f script. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model.h"

static void put_addr(FILE *f, const uint8_t *a, size_t w)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(w == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf));
	fputs(buf, f);
}

static void put_elem(FILE *f, const struct model_set *s, const struct model_elem *e)
{
	size_t w = s->key == MODEL_KEY_IPV4 ? 4 : 16;
	unsigned len;

	switch (s->key) {
	case MODEL_KEY_IPV4:
	case MODEL_KEY_IPV6:
		if (memcmp(e->lo, e->hi, w) == 0) {
			put_addr(f, e->lo, w);
		} else if (model_range_is_prefix(e, w, &len)) {
			put_addr(f, e->lo, w);
			fprintf(f, "/%u", len);
		} else {
			put_addr(f, e->lo, w);
			fputc('-', f);
			put_addr(f, e->hi, w);
		}
		break;
	case MODEL_KEY_PORT: {
		unsigned lo = (unsigned)e->lo[0] << 8 | e->lo[1];
		unsigned hi = (unsigned)e->hi[0] << 8 | e->hi[1];

		if (lo == hi)
			fprintf(f, "%u", lo);
		else
			fprintf(f, "%u-%u", lo, hi);
		break;
	}
	case MODEL_KEY_PROTO_PORT:
		fprintf(f, "%u . %u", e->lo[0], (unsigned)e->lo[1] << 8 | e->lo[2]);
		break;
	case MODEL_KEY_IFNAME: break; /* maps only */
	}
}

static void put_map_elem(FILE *f, const struct model_set *s, size_t i)
{
	const uint8_t *k = model_map_key(s, i);

	if (s->key == MODEL_KEY_IFNAME)
		fprintf(f, "\"%.16s\"", (const char *)k);
	else
		put_addr(f, k, model_key_width(s->key));
	fprintf(f, " : %s %s", s->go ? "goto" : "jump", model_map_target(s, i));
}

static void put_set(FILE *f, const struct model_set *s)
{
	static const char *const types[] = {
		[MODEL_KEY_IPV4] = "ipv4_addr",
		[MODEL_KEY_IPV6] = "ipv6_addr",
		[MODEL_KEY_PORT] = "inet_service",
		[MODEL_KEY_PROTO_PORT] = "inet_proto . inet_service",
		[MODEL_KEY_IFNAME] = "ifname : verdict",
	};

	fprintf(f, "\t%s %s {\n\t\ttype %s%s\n", s->map ? "map" : "set", s->name, types[s->key],
		s->map && s->key != MODEL_KEY_IFNAME ? " : verdict" : "");
	if (s->size)
		fprintf(f, "\t\tsize %u\n", s->size);
	if (s->interval)
		fputs("\t\tflags interval\n", f);
	if (s->n_elems) {
		fputs("\t\telements = { ", f);
		for (size_t i = 0; i < s->n_elems; i++) {
			if (i)
				fputs(i % 4 ? ", " : ",\n\t\t\t     ", f);
			if (s->map)
				put_map_elem(f, s, i);
			else
				put_elem(f, s, &s->elems[i]);
		}
		fputs(" }\n", f);
	}
	fputs("\t}\n", f);
}

static const char *proto_name(uint32_t p)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "ipv6-icmp";
	case 132: return "sctp";
	case 136: return "udplite";
	}
	return NULL;
}

static void put_prefix(FILE *f, const struct model_prefix *p)
{
	size_t w = p->family == AF_INET ? 4 : 16;

	put_addr(f, p->addr, w);
	if (p->len != w * 8)
		fprintf(f, "/%u", p->len);
}

static void put_ports(FILE *f, const struct model_match *m)
{
	if (m->set)
		fprintf(f, "@%s", m->set);
	else if (m->lo == m->hi)
		fprintf(f, "%u", m->lo);
	else
		fprintf(f, "%u-%u", m->lo, m->hi);
}

static void put_icmp(FILE *f, const struct model_match *m, const char *neg)
{
	const char *icmp = m->family == 6 ? "icmpv6" : "icmp";

	if (m->hi)
		fprintf(f, "%s type %s%u-%u ", icmp, neg, m->lo, m->hi);
	else if (m->has_code && m->neg)
		/* Type and code are the first two bytes: one 16-bit
		 * compare says "not this type with this code". */
		fprintf(f, "@th,0,16 != 0x%04x ", m->num << 8 | m->code);
	else if (m->has_code)
		fprintf(f, "%s type %u %s code %u ", icmp, m->num, icmp, m->code);
	else
		fprintf(f, "%s type %s%u ", icmp, neg, m->num);
}

static void put_match(FILE *f, const struct model_match *m)
{
	const char *neg = m->neg ? "!= " : "";
	const char *p;

	switch (m->kind) {
	case MODEL_M_NFPROTO: fprintf(f, "meta nfproto %s ", m->num == 4 ? "ipv4" : "ipv6"); break;
	case MODEL_M_L4PROTO:
		p = proto_name(m->num);
		if (p)
			fprintf(f, "meta l4proto %s%s ", neg, p);
		else
			fprintf(f, "meta l4proto %s%u ", neg, m->num);
		break;
	case MODEL_M_SADDR:
	case MODEL_M_DADDR:
		fprintf(f, "%s %s %s", m->family == 4 ? "ip" : "ip6",
			m->kind == MODEL_M_SADDR ? "saddr" : "daddr", neg);
		if (m->set)
			fprintf(f, "@%s", m->set);
		else
			put_prefix(f, &m->prefix);
		fputc(' ', f);
		break;
	case MODEL_M_SPORT:
	case MODEL_M_DPORT:
		fprintf(f, "th %s %s", m->kind == MODEL_M_SPORT ? "sport" : "dport", neg);
		put_ports(f, m);
		fputc(' ', f);
		break;
	case MODEL_M_ICMP: put_icmp(f, m, neg); break;
	case MODEL_M_CT_STATE:
		fprintf(f, "ct state %s%s%s%s%s ", neg, m->num & MODEL_CT_INVALID ? "invalid" : "",
			(m->num & MODEL_CT_INVALID) && (m->num & ~MODEL_CT_INVALID) ? "," : "",
			m->num & MODEL_CT_ESTABLISHED ? "established" : "",
			m->num & MODEL_CT_RELATED
				? (m->num & MODEL_CT_ESTABLISHED ? ",related" : "related")
				: "");
		break;
	case MODEL_M_MARK:
		fprintf(f, "meta mark & 0x%08x %s 0x%08x ", m->mask,
			m->neg ? "!=" : "==", m->value);
		break;
	case MODEL_M_PROTO_PORT:
		fprintf(f, "meta l4proto . th %s @%s ", m->num ? "sport" : "dport", m->set);
		break;
	case MODEL_M_IIFNAME:
	case MODEL_M_OIFNAME:
		fprintf(f, "%s %s\"%s\" ", m->kind == MODEL_M_IIFNAME ? "iifname" : "oifname", neg,
			m->ifname);
		break;
	}
}

static void put_rule(FILE *f, const struct model_rule *r)
{
	fputs("\t\t", f);
	for (size_t i = 0; i < r->n_m; i++)
		put_match(f, &r->m[i]);
	fputs("counter", f);
	if (r->mark_set) {
		fputs(" meta mark set meta mark", f);
		if (r->mark_and != 0xffffffffu)
			fprintf(f, " & 0x%08x", r->mark_and);
		if (r->mark_or)
			fprintf(f, " | 0x%08x", r->mark_or);
	}
	if (r->notrack)
		fputs(" notrack", f);
	if (r->nftrace)
		fputs(" meta nftrace set 1", f);
	if (r->log_prefix)
		fprintf(f, " log prefix \"%s: \"", r->log_prefix);
	switch (r->verdict) {
	case MODEL_V_NONE: break;
	case MODEL_V_ACCEPT: fputs(" accept", f); break;
	case MODEL_V_DROP: fputs(" drop", f); break;
	case MODEL_V_RETURN: fputs(" return", f); break;
	case MODEL_V_JUMP: fprintf(f, " jump %s", r->target); break;
	case MODEL_V_GOTO: fprintf(f, " goto %s", r->target); break;
	case MODEL_V_VMAP_IIF: fprintf(f, " iifname vmap @%s", r->target); break;
	case MODEL_V_VMAP_OIF: fprintf(f, " oifname vmap @%s", r->target); break;
	case MODEL_V_VMAP_SADDR:
	case MODEL_V_VMAP_DADDR: {
		size_t w = r->family == 4 ? 4 : 16;
		uint8_t mask[16] = { 0 };

		fprintf(f, " %s %s", r->family == 4 ? "ip" : "ip6",
			r->verdict == MODEL_V_VMAP_SADDR ? "saddr" : "daddr");
		if (r->plen < w * 8) {
			for (unsigned i = 0; i < r->plen; i++)
				mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
			fputs(" & ", f);
			put_addr(f, mask, w);
		}
		fprintf(f, " vmap @%s", r->target);
		break;
	}
	}
	if (r->comment)
		fprintf(f, " comment \"%s\"", r->comment);
	fputc('\n', f);
}

static const char *hook_name(enum model_hook h)
{
	static const char *const names[] = {
		[MODEL_HOOK_PREROUTING] = "prerouting",
		[MODEL_HOOK_INPUT] = "input",
		[MODEL_HOOK_FORWARD] = "forward",
		[MODEL_HOOK_OUTPUT] = "output",
	};

	return names[h];
}

static void put_chain(FILE *f, const struct model_chain *ch)
{
	fprintf(f, "\tchain %s {\n", ch->name);
	if (ch->hook != MODEL_HOOK_NONE) {
		const char *prio = ch->prio == -300   ? "raw"
				   : ch->prio == -150 ? "mangle"
				   : ch->prio == 0    ? "filter"
						      : NULL;

		if (prio)
			fprintf(f, "\t\ttype filter hook %s priority %s; policy accept;\n",
				hook_name(ch->hook), prio);
		else
			fprintf(f, "\t\ttype filter hook %s priority %d; policy accept;\n",
				hook_name(ch->hook), ch->prio);
	}
	for (size_t i = 0; i < ch->n_rules; i++)
		put_rule(f, &ch->rules[i]);
	fputs("\t}\n", f);
}

int model_table_print(const struct model_table *t, FILE *f)
{
	/* Declaring the table first makes the delete succeed whether or not
	 * it existed; the three statements are one transaction. */
	fprintf(f, "table inet %s\ndelete table inet %s\n\ntable inet %s {\n", t->name, t->name,
		t->name);
	for (size_t i = 0; i < t->n_sets; i++) {
		put_set(f, t->sets[i]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < t->n_chains; i++) {
		if (i)
			fputc('\n', f);
		put_chain(f, t->chains[i]);
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
