/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the kernel can do: nf_tables usable, owner+persist table flags, an
 * acknowledged BATCH_END (for nftmgr version and the commit's choices). */
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
#include <poll.h>
#include <libnftnl/table.h>

#include "nl-internal.h"

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

/* Sends BEGIN, the given messages, and optionally END; collects the
 * error (0 = ACK) for seq_want. Without END the kernel validates the
 * messages and then discards the batch: nothing is changed. */
static int probe_batch(struct mnl_socket *nl, bool table, bool end, uint32_t *ret_err)
{
	char buf[8192];
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	uint32_t seq = (uint32_t)time(NULL) * 4, want = 0, portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	char rbuf[8192];
	int n;

	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	if (table) {
		struct nftnl_table *t = nftnl_table_alloc();

		if (!t)
			return -ENOMEM;
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, "nftmgr-probe");
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NL_TABLE_FLAGS);
		want = seq;
		nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWTABLE,
					    NFPROTO_INET, NLM_F_CREATE | NLM_F_ACK, seq++);
		nftnl_table_nlmsg_build_payload(nlh, t);
		nftnl_table_free(t);
		mnl_nlmsg_batch_next(b);
	}
	if (end) {
		want = seq;
		nlh = nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
		nlh->nlmsg_flags |= NLM_F_ACK;
		mnl_nlmsg_batch_next(b);
	}
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
		return -errno;
	*ret_err = 1; /* no answer */
	for (;;) {
		struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };

		if (poll(&p, 1, 0) <= 0) /* replies are queued before sendto returns */
			break;
		n = (int)recv(p.fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(h, n);
		     h = mnl_nlmsg_next(h, &n))
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == want &&
			    h->nlmsg_pid == portid)
				*ret_err =
					(uint32_t) -
					((const struct nlmsgerr *)mnl_nlmsg_get_payload(h))->error;
	}
	return 0;
}

int nl_probe_features(struct nl_features *f)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	uint32_t err = 1;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return -errno;
	}
	/* owner + persist: a table with the flags, validated, discarded */
	if (probe_batch(nl, true, false, &err) == 0 && err != 1)
		f->owner_persist = err == 0;
	/* an empty transaction whose END asks for an ACK (Linux 6.10+) */
	if (probe_batch(nl, false, true, &err) == 0)
		f->batch_end_ack = err == 0;
	mnl_socket_close(nl);
	return 0;
}
