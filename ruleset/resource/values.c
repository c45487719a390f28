/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Addresses, protocols and ports as Calico spells them. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resource-internal.h"

int cidr_parse(const char *s, bool allow_host_bits, struct cidr *ret, char *why, size_t whylen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct cidr c = { 0 };
	unsigned long len;
	unsigned max;
	char *end;

	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	len = max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			goto bad;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > max)
			goto bad;
	}
	c.len = (uint8_t)len;
	for (unsigned bit = c.len; bit < max; bit++) {
		uint8_t mask = (uint8_t)(0x80 >> (bit % 8));

		if (!(c.addr[bit / 8] & mask))
			continue;
		if (!allow_host_bits) {
			snprintf(why, whylen, "%s has host bits set", s);
			return -EINVAL;
		}
		c.addr[bit / 8] &= (uint8_t)~mask;
	}
	*ret = c;
	return 0;
bad:
	snprintf(why, whylen, "\"%s\" is not an IP address or CIDR", s);
	return -EINVAL;
}

size_t put_uint(char *p, size_t v)
{
	char d[24];
	size_t n = 0, k = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		p[k++] = d[--n];
	return k;
}

/* Without printf for IPv4 (inet_ntop's own is one): 2,000,000 of them
 * written at W-huge. */
void cidr_format(const struct cidr *c, bool with_len, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN + 8];
	size_t n = 0;

	if (c->family == AF_INET) {
		for (int i = 0; i < 4; i++) {
			if (i)
				a[n++] = '.';
			n += put_uint(a + n, c->addr[i]);
		}
	} else {
		inet_ntop(c->family, c->addr, a, INET6_ADDRSTRLEN);
		n = strlen(a);
	}
	if (with_len) {
		a[n++] = '/';
		n += put_uint(a + n, c->len);
	}
	if (!len)
		return;
	n = n < len - 1 ? n : len - 1;
	memcpy(buf, a, n);
	buf[n] = '\0';
}

static const struct {
	uint8_t num;
	const char *v1, *v3;
} protocols[] = {
	{ 6, "tcp", "TCP" },	    { 17, "udp", "UDP" },    { 1, "icmp", "ICMP" },
	{ 58, "icmpv6", "ICMPv6" }, { 132, "sctp", "SCTP" }, { 136, "udplite", "UDPLite" },
};

const char *protocol_name(uint8_t num, enum api_version ver)
{
	for (size_t i = 0; i < ARRAY_SIZE(protocols); i++)
		if (protocols[i].num == num)
			return ver == API_V1 ? protocols[i].v1 : protocols[i].v3;
	return NULL;
}

int protocol_parse(struct dctx *c, const struct value *n, struct protocol *ret)
{
	uint64_t v;
	char *end;

	if (!decode_expect(c, n, VALUE_SCALAR))
		return -EINVAL;
	if (value_scalar_type(n) == SCALAR_INT) {
		if (!dec_uint(c, n, 255, &v))
			return -EINVAL;
		goto number;
	}
	for (size_t i = 0; i < ARRAY_SIZE(protocols); i++) {
		const char *want = c->ver == API_V1 ? protocols[i].v1 : protocols[i].v3;

		if (strcmp(n->str, want) == 0) {
			*ret = (struct protocol){ true, true, protocols[i].num };
			return 0;
		}
	}
	/* A numeric string is a number, as in Calico's Uint8OrString. */
	errno = 0;
	v = strtoull(n->str, &end, 10);
	if (n->str[0] >= '0' && n->str[0] <= '9' && !*end && !errno) {
		if (v > 255) {
			dctx_err(c, n, "protocol number %s is out of range 1 to 255", n->str);
			return -EINVAL;
		}
		goto number;
	}
	for (size_t i = 0; i < ARRAY_SIZE(protocols); i++)
		if (strcasecmp(n->str, protocols[i].v1) == 0) {
			dctx_err(c, n, "protocol \"%s\" must be written \"%s\" in %s", n->str,
				 c->ver == API_V1 ? protocols[i].v1 : protocols[i].v3,
				 c->ver == API_V1 ? "v1" : "projectcalico.org/v3");
			return -EINVAL;
		}
	dctx_err(c, n, "unknown protocol \"%s\"", n->str);
	return -EINVAL;
number:
	if (v == 0) {
		dctx_err(c, n, "protocol number 0 is not valid (1 to 255)");
		return -EINVAL;
	}
	*ret = (struct protocol){ true, false, (uint8_t)v };
	return 0;
}

int duration_parse(const char *s, unsigned max, unsigned *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (strcmp(end, "m") == 0 && v <= max / 60)
		v *= 60;
	else if (*end && strcmp(end, "s") != 0)
		return -EINVAL;
	if (v == 0 || v > max)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}
