/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One batch to the kernel and its answers: the generation id, the send,
 * the drain of every answer (errors kept with their sequence numbers,
 * and described in policy terms through the sequence map).
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nl-internal.h"

void seqmap_clear(struct seqmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->what[i]);
	free(m->what);
	free(m->rule);
	*m = (struct seqmap){ 0 };
}

void nl_record_handle(const struct model_rule *r, uint64_t handle)
{
	((struct model_rule *)r)->handle = handle;
}

/* A rule echoed back after the commit: its handle into the model rule
 * that was sent with the same sequence number. */
static void echoed(const struct nlmsghdr *h, struct tx *tx)
{
	size_t i = h->nlmsg_seq - tx->seqs.first;
	struct nftnl_rule *r;

	if (i >= tx->seqs.n || !tx->seqs.rule || !tx->seqs.rule[i])
		return;
	r = nftnl_rule_alloc();
	if (r && nftnl_rule_nlmsg_parse(h, r) == 0 && nftnl_rule_is_set(r, NFTNL_RULE_HANDLE))
		nl_record_handle(tx->seqs.rule[i], nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE));
	nftnl_rule_free(r);
}

int nl_genid(struct mnl_socket *nl, uint32_t *ret)
{
	return get_genid(nl, ret);
}

/* The generation our batch, pinned to genid, made (Linux adds one per
 * transaction, skipping 0). */
uint32_t genid_next(uint32_t genid)
{
	return genid + 1 ? genid + 1 : 1;
}

int get_genid(struct mnl_socket *nl, uint32_t *ret)
{
	char buf[8192];
	uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
						     seq);
	struct nftnl_gen *gen = nftnl_gen_alloc();
	int n, r = -EIO;

	if (!gen)
		return -ENOMEM;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		nftnl_gen_free(gen);
		return -errno;
	}
	while ((n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, n);
		     h = mnl_nlmsg_next(h, &n)) {
			if (h->nlmsg_seq != seq || h->nlmsg_pid != portid)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				if (e->error)
					r = e->error;
				goto out;
			}
			if (nftnl_gen_nlmsg_parse(h, gen) == 0) {
				*ret = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
				r = 0;
			}
		}
	}
	if (n < 0)
		r = -errno;
out:
	nftnl_gen_free(gen);
	return r;
}

static void sockbufs(int fd, const struct tx *tx, size_t total)
{
	int size = (int)(total + 65536);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &(socklen_t){ sizeof(size) }) < 0 ||
	    (size_t)size < total)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &(int){ (int)(total + 65536) },
				 sizeof(int));
	/* Room for an error per message in the worst case. */
	size = (int)(tx->msgs * 1024 + 65536);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
}

static void errors_add(struct nl_errors *errs, uint32_t seq, int err)
{
	if (errs->n == NL_ERRORS_KEPT) {
		errs->more++;
		return;
	}
	errs->seq[errs->n] = seq;
	errs->err[errs->n++] = err;
}

/* The kernel handles the batch inside sendmsg(): every answer is queued
 * when it returns, so they are drained without blocking. A receive error
 * (ENOBUFS: the queue overflowed) means answers were lost: the outcome is
 * unknown, and the caller hears it. */
static int drain(int fd, struct tx *tx, struct nl_errors *errs)
{
	char buf[16384];

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int left = (int)len;

		if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return -errno;
		if (len == 0)
			return 0;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
		     h = mnl_nlmsg_next(h, &left)) {
			const struct nlmsgerr *e;

			if (h->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE))
				echoed(h, tx);
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(h);
			if (!e->error && h->nlmsg_seq == tx->end_seq)
				tx->end_acked = true;
			if (e->error)
				errors_add(errs, h->nlmsg_seq, e->error);
		}
	}
}

int send_batch(struct mnl_socket *nl, struct tx *tx, struct nl_errors *errs, size_t *ret_bytes)
{
	int fd = mnl_socket_get_fd(nl), n = nftnl_batch_iovec_len(tx->b), r;
	struct iovec *iov = calloc((size_t)n, sizeof(*iov));
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof(snl) };
	size_t total = 0;

	if (!iov)
		return -ENOMEM;
	nftnl_batch_iovec(tx->b, iov, (uint32_t)n);
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	sockbufs(fd, tx, total);
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)n;
	*ret_bytes = total;
	*errs = (struct nl_errors){ 0 };
	tx->end_acked = false;
	r = sendmsg(fd, &msg, 0) < 0 ? -errno : 0;
	free(iov);
	if (r == 0)
		r = drain(fd, tx, errs);
	/* No error, but the END we asked to be acknowledged was not: the
	 * transaction did not commit. */
	if (r == 0 && !errs->n && tx->end_seq && !tx->end_acked)
		errors_add(errs, tx->end_seq, -EIO);
	return r;
}

static void describe_one(const struct tx *tx, uint32_t seq, int err, char *out, size_t len)
{
	size_t i = seq - tx->seqs.first;
	const char *what = i < tx->seqs.n && tx->seqs.what[i] ? tx->seqs.what[i] : "transaction";

	snprintf(out, len, "%s: kernel rejected it: %s", what, strerror(-err));
}

void describe(const struct tx *tx, const struct nl_errors *errs, char *out, size_t len)
{
	size_t used = 0;

	out[0] = 0;
	for (size_t k = 0; k < errs->n && used + 1 < len; k++) {
		if (k)
			out[used++] = '\n';
		describe_one(tx, errs->seq[k], errs->err[k], out + used, len - used);
		used += strlen(out + used);
	}
	if (errs->more && used + 1 < len)
		snprintf(out + used, len - used, "\n(and %zu more)", errs->more);
}
