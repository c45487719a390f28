/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * explain: one packet through the compiled model, hook by hook, chain by
 * chain, as the kernel would walk our table: which base chains it meets,
 * which rules match, and the rule (policy and rule index, failsafe, or
 * default deny) that decided. The packet is the first of a new
 * connection; kube-proxy's DNAT and other tables are not modelled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

enum outcome {
	GO_ON,
	ACCEPTED,
	DROPPED
};

struct walk {
	const struct model_table *t;
	struct model_packet p;
	FILE *f;
	const struct model_rule *decider;
	const char *decider_chain;
	unsigned depth;
};

static bool in_set(const struct model_set *s, const uint8_t *key, size_t w)
{
	for (size_t i = 0; s && i < s->n_elems; i++)
		if (memcmp(s->elems[i].lo, key, w) <= 0 &&
		    memcmp(key, s->interval ? s->elems[i].hi : s->elems[i].lo, w) <= 0)
			return true;
	return false;
}

static bool in_prefix(const struct model_prefix *c, const uint8_t *a)
{
	size_t full = c->len / 8;
	uint8_t m = (uint8_t)(0xff00 >> (c->len % 8));

	return memcmp(c->addr, a, full) == 0 &&
	       (c->len % 8 == 0 || (c->addr[full] & m) == (a[full] & m));
}

static bool has_ports(const struct model_packet *p)
{
	return p->proto == 6 || p->proto == 17 || p->proto == 132 || p->proto == 136;
}

static bool port_match(const struct walk *w, const struct model_match *m, uint16_t port)
{
	uint8_t key[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	if (m->set)
		return in_set(model_table_find_set(w->t, m->set), key, 2);
	return m->lo <= port && port <= m->hi;
}

static bool icmp_match(const struct model_packet *p, const struct model_match *m)
{
	if (p->family != m->family || p->proto != (m->family == 4 ? 1 : 58) || p->icmp_type < 0)
		return false;
	if (m->hi)
		return (unsigned)p->icmp_type >= m->lo && (unsigned)p->icmp_type <= m->hi;
	if (m->has_code)
		return (unsigned)p->icmp_type == m->num && (unsigned)p->icmp_code == m->code;
	return (unsigned)p->icmp_type == m->num;
}

static bool ifname_match(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);

	if (!name)
		return false;
	if (n && pattern[n - 1] == '*')
		return strncmp(pattern, name, n - 1) == 0;
	return strcmp(pattern, name) == 0;
}

/* Whether m holds, before its negation. The address, port and ICMP
 * matches carry the protocol they need, as nft's dependencies do. */
static bool raw_match(const struct walk *w, const struct model_match *m)
{
	const struct model_packet *p = &w->p;
	const uint8_t *a = m->kind == MODEL_M_SADDR ? p->saddr : p->daddr;
	uint8_t key[3];

	switch (m->kind) {
	case MODEL_M_NFPROTO: return p->family == m->num;
	case MODEL_M_L4PROTO: return p->proto == m->num;
	case MODEL_M_SADDR:
	case MODEL_M_DADDR:
		if (p->family != m->family)
			return false;
		return m->set ? in_set(model_table_find_set(w->t, m->set), a,
				       p->family == 4 ? 4 : 16)
			      : in_prefix(&m->prefix, a);
	case MODEL_M_SPORT:
	case MODEL_M_DPORT:
		return has_ports(p) &&
		       port_match(w, m, m->kind == MODEL_M_SPORT ? p->sport : p->dport);
	case MODEL_M_ICMP: return icmp_match(p, m);
	case MODEL_M_CT_STATE:
		/* the first packet of a connection: new, or untracked */
		return false;
	case MODEL_M_MARK: return (p->mark & m->mask) == m->value;
	case MODEL_M_PROTO_PORT:
		if (!has_ports(p))
			return false;
		key[0] = p->proto;
		key[1] = (uint8_t)((m->num ? p->sport : p->dport) >> 8);
		key[2] = (uint8_t)(m->num ? p->sport : p->dport);
		return in_set(model_table_find_set(w->t, m->set), key, 3);
	case MODEL_M_IIFNAME: return ifname_match(m->ifname, p->iif);
	case MODEL_M_OIFNAME: return ifname_match(m->ifname, p->oif);
	}
	return false;
}

static bool rule_matches(const struct walk *w, const struct model_rule *r)
{
	for (size_t i = 0; i < r->n_m; i++) {
		const struct model_match *m = &r->m[i];
		bool ok = raw_match(w, m);

		/* a negated address, port or ICMP match still needs its
		 * protocol: "ip saddr != X" does not hold for IPv6 */
		if (m->neg) {
			bool dep = true;

			if (m->kind == MODEL_M_SADDR || m->kind == MODEL_M_DADDR)
				dep = w->p.family == m->family;
			else if (m->kind == MODEL_M_SPORT || m->kind == MODEL_M_DPORT)
				dep = has_ports(&w->p);
			else if (m->kind == MODEL_M_ICMP)
				dep = w->p.family == m->family &&
				      w->p.proto == (m->family == 4 ? 1 : 58);
			ok = dep && !ok;
		}
		if (!ok)
			return false;
	}
	return true;
}

static const struct model_chain *find_chain(const struct model_table *t, const char *name)
{
	return name ? model_table_find_chain(t, name) : NULL;
}

/* The chain the element of an interface map this packet meets names, if
 * any, and whether it jumps there. */
static const char *map_target(const struct walk *w, const char *map, const char *ifname, bool *jump)
{
	const struct model_set *s = model_table_find_set(w->t, map);

	for (size_t i = 0; s && s->map && ifname && i < s->n_elems; i++)
		if (strncmp((const char *)model_map_key(s, i), ifname, 16) == 0) {
			*jump = !s->go;
			return model_map_target(s, i);
		}
	return NULL;
}

static enum outcome run_chain(struct walk *w, const struct model_chain *ch);

/* The chain the element of an address map the packet's address, masked
 * to the map's prefix length, meets jumps to (the keys are sorted). */
static const char *addr_target(const struct walk *w, const struct model_rule *r)
{
	const struct model_set *s = model_table_find_set(w->t, r->target);
	const uint8_t *a = r->verdict == MODEL_V_VMAP_SADDR ? w->p.saddr : w->p.daddr;
	size_t wd = r->family == 4 ? 4 : 16, lo = 0, hi = s && s->map ? s->n_elems : 0;
	uint8_t key[16] = { 0 };

	if (w->p.family != r->family)
		return NULL;
	for (unsigned i = 0; i < r->plen && i < wd * 8; i++)
		key[i / 8] |= (uint8_t)(a[i / 8] & (0x80 >> (i % 8)));
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(model_map_key(s, mid), key, wd);

		if (c == 0)
			return model_map_target(s, mid);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static enum outcome enter(struct walk *w, const char *name, bool jump)
{
	const struct model_chain *ch = find_chain(w->t, name);
	enum outcome o;

	if (!ch || w->depth > 32)
		return GO_ON;
	fprintf(w->f, "%*s%s %s\n", (int)(2 * w->depth + 2), "", jump ? "jump" : "goto", name);
	w->depth++;
	o = run_chain(w, ch);
	w->depth--;
	return o;
}

static enum outcome apply(struct walk *w, const struct model_chain *ch, const struct model_rule *r,
			  bool *stop)
{
	const char *target;
	bool jump = true;

	if (r->mark_set)
		w->p.mark = (w->p.mark & r->mark_and) | r->mark_or;
	if (r->verdict == MODEL_V_ACCEPT || r->verdict == MODEL_V_DROP) {
		w->decider = r;
		w->decider_chain = ch->name;
		return r->verdict == MODEL_V_ACCEPT ? ACCEPTED : DROPPED;
	}
	if (r->verdict == MODEL_V_RETURN) {
		*stop = true;
		return GO_ON;
	}
	if (r->verdict == MODEL_V_JUMP)
		return enter(w, r->target, true);
	if (r->verdict == MODEL_V_GOTO) {
		*stop = true;
		return enter(w, r->target, false);
	}
	if (r->verdict == MODEL_V_VMAP_IIF || r->verdict == MODEL_V_VMAP_OIF) {
		target = map_target(w, r->target,
				    r->verdict == MODEL_V_VMAP_IIF ? w->p.iif : w->p.oif, &jump);
		if (!target)
			return GO_ON;
		*stop = !jump;
		return enter(w, target, jump);
	}
	if (r->verdict == MODEL_V_VMAP_SADDR || r->verdict == MODEL_V_VMAP_DADDR) {
		target = addr_target(w, r);
		return target ? enter(w, target, true) : GO_ON;
	}
	return GO_ON;
}

static enum outcome run_chain(struct walk *w, const struct model_chain *ch)
{
	for (size_t i = 0; i < ch->n_rules; i++) {
		const struct model_rule *r = &ch->rules[i];
		bool stop = false;
		enum outcome o;

		if (!rule_matches(w, r))
			continue;
		if (r->comment && r->verdict != MODEL_V_VMAP_IIF &&
		    r->verdict != MODEL_V_VMAP_OIF && r->verdict != MODEL_V_VMAP_SADDR &&
		    r->verdict != MODEL_V_VMAP_DADDR)
			fprintf(w->f, "%*s%s: %s\n", (int)(2 * w->depth + 2), "", ch->name,
				r->comment);
		o = apply(w, ch, r, &stop);
		if (o != GO_ON || stop)
			return o;
	}
	return GO_ON;
}

static const char *hook_name(enum model_hook h)
{
	static const char *const names[] = {
		[MODEL_HOOK_NONE] = "",		[MODEL_HOOK_PREROUTING] = "prerouting",
		[MODEL_HOOK_INPUT] = "input",	[MODEL_HOOK_FORWARD] = "forward",
		[MODEL_HOOK_OUTPUT] = "output",
	};

	return names[h];
}

/* The base chains of one hook, lowest priority first. */
static enum outcome run_hook(struct walk *w, enum model_hook h)
{
	const struct model_chain *done = NULL;

	for (;;) {
		const struct model_chain *next = NULL;
		enum outcome o;

		for (size_t i = 0; i < w->t->n_chains; i++) {
			const struct model_chain *c = w->t->chains[i];

			if (c->hook != h || (done && (c->prio < done->prio ||
						      (c->prio == done->prio && c <= done))))
				continue;
			if (!next || c->prio < next->prio)
				next = c;
		}
		if (!next)
			return GO_ON;
		fprintf(w->f, "%s, chain %s (priority %d):\n", hook_name(h), next->name,
			next->prio);
		o = run_chain(w, next);
		if (o == DROPPED)
			return DROPPED;
		if (o == GO_ON)
			fprintf(w->f, "  no rule decided: the chain's policy accepts\n");
		done = next;
	}
}

int model_explain(const struct model_table *t, const struct model_packet *p, FILE *f,
		  struct model_explain *ret)
{
	static const enum model_hook input[] = { MODEL_HOOK_PREROUTING, MODEL_HOOK_INPUT };
	static const enum model_hook forward[] = { MODEL_HOOK_PREROUTING, MODEL_HOOK_FORWARD };
	static const enum model_hook output[] = { MODEL_HOOK_OUTPUT };
	struct walk w = { .t = t, .p = *p, .f = f };
	const enum model_hook *hooks = p->iif ? (p->oif ? forward : input) : output;
	size_t n = p->iif ? 2 : 1;
	enum outcome o = GO_ON;

	if (!p->iif && !p->oif)
		return -EINVAL;
	for (size_t i = 0; i < n && o != DROPPED; i++)
		o = run_hook(&w, hooks[i]);
	*ret = (struct model_explain){ .accepted = o != DROPPED };
	if (w.decider) {
		snprintf(ret->why, sizeof(ret->why), "%s",
			 w.decider->comment ? w.decider->comment : "a rule without a comment");
		snprintf(ret->chain, sizeof(ret->chain), "%s", w.decider_chain);
	} else {
		snprintf(ret->why, sizeof(ret->why), "no rule of table %s decided", t->name);
	}
	return 0;
}
