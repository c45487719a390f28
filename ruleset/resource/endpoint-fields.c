/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Endpoint fields checked as Calico's validator checks them: named ports
 * (a protocol with ports; a workload's may go unnamed with a hostPort,
 * and is then left out, as Felix never sees it), a workload's NATs (inside
 * its networks, one family each), gateways, containerID, the prefixes it
 * may spoof, and after decoding its networks (one address each).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resource-internal.h"

static void dec_port_number(struct dctx *c, const struct value *n, void *out)
{
	uint64_t v;

	if (dec_uint(c, n, 65535, &v)) {
		if (v == 0)
			dctx_err(c, n, "port 0 is not valid (1 to 65535)");
		*(uint16_t *)out = (uint16_t)v;
	}
}

/* TCP, UDP or SCTP: the protocols with ports. */
static void dec_port_protocol(struct dctx *c, const struct value *n, void *out)
{
	struct protocol *p = out;

	if (protocol_parse(c, n, p) == 0 && p->num != 6 && p->num != 17 && p->num != 132)
		dctx_err(c, n, "protocol %s does not support ports (TCP, UDP or SCTP)",
			 n->type == VALUE_SCALAR ? n->str : "");
}

struct port_in {
	struct named_port p;
	uint16_t host_port;
	char *host_ip;
};

static void dec_host_ip(struct dctx *c, const struct value *n, void *out)
{
	char why[128];
	struct cidr x;

	dec_string(c, n, out);
	if (*(char **)out && (strchr(*(char **)out, '/') ||
			      cidr_parse(*(char **)out, false, &x, why, sizeof(why)) < 0))
		dctx_err(c, n, "invalid hostIP \"%s\"", *(char **)out);
}

static void ports(struct dctx *c, const struct value *n, void *out, bool wep)
{
	static const struct field f[] = {
		{ "name", dec_string, offsetof(struct port_in, p.name) },
		{ "protocol", dec_port_protocol, offsetof(struct port_in, p.protocol) },
		{ "port", dec_port_number, offsetof(struct port_in, p.port) },
		{ "hostPort", dec_port_number, offsetof(struct port_in, host_port) },
		{ "hostIP", dec_host_ip, offsetof(struct port_in, host_ip) },
	};
	struct endpoint_spec *e = out;

	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	e->ports = calloc(n->n ? n->n : 1, sizeof(*e->ports));
	if (!e->ports) {
		dctx_err(c, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		size_t saved = dctx_push_index(c, i);
		struct port_in in = { 0 };

		/* hostPort and hostIP are a workload's only */
		decode_fields(c, n->kids[i], f, ARRAY_SIZE(f) - (wep ? 0 : 2), &in);
		free(in.host_ip);
		if (!in.p.port || !in.p.protocol.set)
			dctx_err(c, n->kids[i], "a named port needs protocol and port");
		else if (!in.p.name && !in.host_port)
			dctx_err(c, n->kids[i], "a port needs a name%s",
				 wep ? " unless it has a hostPort" : "");
		if (in.p.name && !port_name_ok(in.p.name))
			dctx_err(c, n->kids[i], "invalid port name \"%s\"", in.p.name);
		if (in.p.name)
			e->ports[e->n_ports++] = in.p; /* an unnamed one: no policy uses it */
		dctx_pop(c, saved);
	}
}

void dec_hep_ports(struct dctx *c, const struct value *n, void *out)
{
	ports(c, n, out, false);
}

void dec_wep_ports(struct dctx *c, const struct value *n, void *out)
{
	ports(c, n, out, true);
}

static int parse_ip(struct dctx *c, const struct value *n, int family, struct cidr *ret)
{
	char why[128];

	if (n->type != VALUE_SCALAR || cidr_parse(n->str, true, ret, why, sizeof(why)) < 0 ||
	    (family && ret->family != family)) {
		dctx_err(c, n, "invalid %saddress",
			 family == AF_INET6  ? "IPv6 "
			 : family == AF_INET ? "IPv4 "
					     : "IP ");
		return -EINVAL;
	}
	return 0;
}

void dec_nats(struct dctx *c, const struct value *n, void *out)
{
	struct endpoint_spec *e = out;

	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	free(e->nat_internal);
	e->nat_internal = calloc(n->n ? n->n : 1, sizeof(*e->nat_internal));
	if (!e->nat_internal) {
		dctx_err(c, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct value *in = value_map_get(n->kids[i], "internalIP");
		const struct value *ex = value_map_get(n->kids[i], "externalIP");
		size_t saved = dctx_push_index(c, i);
		struct cidr a, b;

		if (decode_expect(c, n->kids[i], VALUE_MAP) && (!in || !ex))
			dctx_err(c, n->kids[i], "a NAT needs internalIP and externalIP");
		else if (in && ex && parse_ip(c, in, 0, &a) == 0 && parse_ip(c, ex, 0, &b) == 0) {
			if (a.family != b.family)
				dctx_err(c, ex, "mismatched IP versions");
			e->nat_internal[e->n_nat++] = a;
		}
		dctx_pop(c, saved);
	}
}

static void dec_gateway(struct dctx *c, const struct value *n, int family)
{
	struct cidr g;

	(void)parse_ip(c, n, family, &g);
}

void dec_gw4(struct dctx *c, const struct value *n, void *out)
{
	(void)out;
	dec_gateway(c, n, AF_INET);
}

void dec_gw6(struct dctx *c, const struct value *n, void *out)
{
	(void)out;
	dec_gateway(c, n, AF_INET6);
}

/* [a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])? */
void dec_container_id(struct dctx *c, const struct value *n, void *out)
{
	const char *s;
	size_t len;

	dec_string(c, n, out);
	s = *(char **)out;
	if (!s)
		return;
	len = strlen(s);
	if (!len ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != len ||
	    s[0] == '-' || s[len - 1] == '-')
		dctx_err(c, n, "invalid containerID \"%s\"", s);
}

void dec_spoof(struct dctx *c, const struct value *n, void *out)
{
	struct endpoint_spec *e = out;

	if (!decode_expect(c, n, VALUE_SEQ))
		return;
	e->spoof = calloc(n->n ? n->n : 1, sizeof(*e->spoof));
	if (!e->spoof) {
		dctx_err(c, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		size_t saved = dctx_push_index(c, i);
		char why[128];

		if (n->kids[i]->type != VALUE_SCALAR ||
		    cidr_parse(n->kids[i]->str, false, &e->spoof[e->n_spoof], why, sizeof(why)) < 0)
			dctx_err(c, n->kids[i], "invalid CIDR");
		else
			e->n_spoof++;
		dctx_pop(c, saved);
	}
}

static bool contains(const struct cidr *net, const struct cidr *ip)
{
	size_t bytes = net->len / 8;
	unsigned rest = net->len % 8;

	if (net->family != ip->family || memcmp(net->addr, ip->addr, bytes) != 0)
		return false;
	return !rest || ((net->addr[bytes] ^ ip->addr[bytes]) & (0xff << (8 - rest))) == 0;
}

void wep_check(struct dctx *c, const struct value *spec, const struct endpoint_spec *e)
{
	const struct value *nets = value_map_get(spec, "ipNetworks");

	for (size_t i = 0; i < e->n_ips; i++)
		if (e->ips[i].len != (e->ips[i].family == AF_INET ? 32 : 128)) {
			size_t saved = dctx_push(c, ".ipNetworks[%zu]", i);

			dctx_err(c, nets && i < nets->n ? nets->kids[i] : spec,
				 "IP network contains multiple addresses (a /32 or /128 only)");
			dctx_pop(c, saved);
		}
	for (size_t i = 0; i < e->n_nat; i++) {
		bool in = false;

		for (size_t k = 0; k < e->n_ips && !in; k++)
			in = contains(&e->ips[k], &e->nat_internal[i]);
		if (!in) {
			size_t saved = dctx_push(c, ".ipNATs");

			dctx_err(c, value_map_get(spec, "ipNATs"),
				 "NAT is not in the endpoint networks");
			dctx_pop(c, saved);
			return;
		}
	}
}
