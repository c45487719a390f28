/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/gen.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "netlink.h"

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_features *f = data;
	struct nftnl_gen *gen = nftnl_gen_alloc();

	if (!gen)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, gen) == 0) {
		f->genid = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
		f->nf_tables = true;
	}
	nftnl_gen_free(gen);
	return MNL_CB_OK;
}

int nl_probe(struct nl_features *ret)
{
	char buf[16384];
	struct nl_features f = { 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int n;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		n = -errno;
		mnl_socket_close(nl);
		return n;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		f.error = -errno;
		goto out;
	}
	while ((n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		n = mnl_cb_run(buf, (size_t)n, seq, portid, gen_cb, &f);
		if (n <= MNL_CB_STOP)
			break;
	}
	if (n < 0)
		f.error = -errno;
out:
	if (f.error && f.nf_tables)
		f.error = 0;
	mnl_socket_close(nl);
	*ret = f;
	return 0;
}
