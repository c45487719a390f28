/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The packet options explain and trace share: --in, --out, --src, --dst,
 * --proto, --sport, --dport, each parsed and checked in one place. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nftmgr.h"

int packet_opt(int opt, const char *arg, struct packet_args *pa)
{
	char why[200] = "";
	int v = 0;

	switch (opt) {
	case 'i':
		pa->iif = arg;
		v = strlen(arg) < 16 ? 0 : -1;
		break;
	case 'o':
		pa->oif = arg;
		v = strlen(arg) < 16 ? 0 : -1;
		break;
	case 's':
		v = cidr_parse(arg, false, &pa->src, why, sizeof(why));
		pa->has_src = true;
		break;
	case 'd':
		v = cidr_parse(arg, false, &pa->dst, why, sizeof(why));
		pa->has_dst = true;
		break;
	case 'p':
		v = proto_from_arg(arg);
		pa->proto = (uint8_t)(v < 0 ? 0 : v);
		pa->has_proto = v >= 0;
		break;
	case 'S':
		v = num_from_arg(arg, 65535);
		pa->sport = (uint16_t)(v < 0 ? 0 : v);
		break;
	case 'D':
		v = num_from_arg(arg, 65535);
		pa->dport = (uint16_t)(v < 0 ? 0 : v);
		break;
	default: return 0;
	}
	if (v < 0) {
		fprintf(stderr, "bad value '%s'%s%s\n", arg, why[0] ? ": " : "", why);
		return -EINVAL;
	}
	return 1;
}

int packet_args_check(const struct packet_args *pa)
{
	if (pa->has_src && pa->has_dst && pa->src.family != pa->dst.family) {
		fprintf(stderr, "--src and --dst must be of one family\n");
		return -EINVAL;
	}
	if ((pa->sport || pa->dport) && pa->proto != 6 && pa->proto != 17 && pa->proto != 132) {
		fprintf(stderr, "--sport and --dport need --proto tcp, udp or sctp\n");
		return -EINVAL;
	}
	return 0;
}
