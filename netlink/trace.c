/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nftrace: the kernel reports, on the NFNLGRP_NFTRACE multicast group,
 * every rule a marked packet matches, every chain it returns from and
 * every base chain policy applied to it. The table that marks packets
 * (ruleset/compile/trace-table.c) is committed owned by a socket held open here: the
 * kernel deletes it when that socket closes, however the process ends.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/trace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nl-internal.h"

struct nl_tracer {
	struct mnl_socket *owner;  /* owns the marking table */
	struct model_table empty;  /* its name, no chains: to delete it */
	struct mnl_socket *events; /* member of NFNLGRP_NFTRACE */
	char buf[1u << 16];
};

/* Left by a trace that could not own its table, or one that ran on a
 * kernel without owner flags: deleted first. An owned one (a trace
 * running) refuses this with EPERM. */
static void build_marking(struct tx *tx, const void *what, uint32_t genid, bool exists,
			  uint32_t flags)
{
	const struct model_table *t = what;
	struct nl_set_ids ids = { .t = t, .base = 1 };

	put_begin(tx, genid);
	if (exists) {
		put_table(tx, t->name, NFT_MSG_NEWTABLE, flags);
		put_table(tx, t->name, NFT_MSG_DELTABLE, 0);
	}
	if (t->n_chains) {
		put_table(tx, t->name, NFT_MSG_NEWTABLE,
			  nl_table_flags_wanted() & NFT_TABLE_F_OWNER);
		for (size_t i = 0; i < t->n_chains; i++)
			put_chain(tx, t->name, t->chains[i]);
		for (size_t i = 0; i < t->n_chains; i++)
			put_rules(tx, t->name, t->chains[i], &ids, false);
	}
	put_end(tx);
}

void nl_trace_stop(struct nl_tracer *tr)
{
	struct nl_commit_result res = { 0 };

	if (!tr)
		return;
	nl_sock_close(tr->events);
	/* Owned, the marking table goes with the socket; else delete it. */
	if (tr->owner && tr->empty.name && !(nl_table_flags_wanted() & NFT_TABLE_F_OWNER))
		(void)nl_transact(tr->owner, tr->empty.name, build_marking, &tr->empty, &res);
	nl_sock_close(tr->owner);
	free(tr->empty.name);
	free(tr);
}

int nl_trace_start(const struct model_table *t, struct nl_tracer **ret, char *err, size_t len)
{
	struct nl_commit_result res = { 0 };
	struct nl_tracer *tr = calloc(1, sizeof(*tr));
	int group = NFNLGRP_NFTRACE, r;

	if (!tr)
		return -ENOMEM;
	/* Listening first: no packet marked goes unreported. */
	tr->events = nl_sock_open(&res);
	if (!tr->events ||
	    mnl_socket_setsockopt(tr->events, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		snprintf(err, len, "joining the nftrace group: %s", strerror(errno));
		goto fail;
	}
	(void)setsockopt(mnl_socket_get_fd(tr->events), SOL_SOCKET, SO_RCVBUFFORCE,
			 &(int){ 4 << 20 }, sizeof(int));
	tr->owner = nl_sock_open(&res);
	if (!tr->owner) {
		r = -errno;
		snprintf(err, len, "%s", res.error);
		goto fail;
	}
	tr->empty.name = strdup(t->name);
	if (!tr->empty.name) {
		r = -ENOMEM;
		goto fail;
	}
	res = (struct nl_commit_result){ 0 };
	r = nl_transact(tr->owner, t->name, build_marking, t, &res);
	if (r == -EPERM)
		snprintf(err, len,
			 "table inet %s is owned by another process: is a trace "
			 "running already?",
			 t->name);
	else if (r < 0)
		snprintf(err, len, "%s", res.error);
	if (r < 0)
		goto fail;
	*ret = tr;
	return 0;
fail:
	nl_trace_stop(tr);
	return r < 0 ? r : -EIO;
}

int nl_trace_fd(const struct nl_tracer *tr)
{
	return mnl_socket_get_fd(tr->events);
}

static void copy_str(char *dst, size_t len, const struct nftnl_trace *x, uint16_t attr)
{
	const char *s = nftnl_trace_is_set(x, attr) ? nftnl_trace_get_str(x, attr) : NULL;

	snprintf(dst, len, "%s", s ? s : "");
}

static void copy_data(uint8_t *dst, uint32_t cap, uint32_t *ret_len, const struct nftnl_trace *x,
		      uint16_t attr)
{
	uint32_t n = 0;
	const void *p = nftnl_trace_is_set(x, attr) ? nftnl_trace_get_data(x, attr, &n) : NULL;

	*ret_len = p ? (n < cap ? n : cap) : 0;
	if (p)
		memcpy(dst, p, *ret_len);
}

static void ifname(char *dst, const struct nftnl_trace *x, uint16_t attr)
{
	dst[0] = '\0';
	if (nftnl_trace_is_set(x, attr) && !if_indextoname(nftnl_trace_get_u32(x, attr), dst))
		snprintf(dst, IF_NAMESIZE, "#%u", nftnl_trace_get_u32(x, attr));
}

static int event(const struct nlmsghdr *nlh, struct nl_trace_event *ev)
{
	struct nftnl_trace *x = nftnl_trace_alloc();
	int r = -EINVAL;

	if (!x)
		return -ENOMEM;
	if (nftnl_trace_nlmsg_parse(nlh, x) < 0)
		goto out;
	*ev = (struct nl_trace_event){
		.id = nftnl_trace_get_u32(x, NFTNL_TRACE_ID),
		.type = nftnl_trace_get_u32(x, NFTNL_TRACE_TYPE),
	};
	copy_str(ev->table, sizeof(ev->table), x, NFTNL_TRACE_TABLE);
	copy_str(ev->chain, sizeof(ev->chain), x, NFTNL_TRACE_CHAIN);
	copy_str(ev->target, sizeof(ev->target), x, NFTNL_TRACE_JUMP_TARGET);
	if (nftnl_trace_is_set(x, NFTNL_TRACE_RULE_HANDLE))
		ev->handle = nftnl_trace_get_u64(x, NFTNL_TRACE_RULE_HANDLE);
	ev->has_verdict = nftnl_trace_is_set(x, NFTNL_TRACE_VERDICT);
	if (ev->has_verdict)
		ev->verdict = (int32_t)nftnl_trace_get_u32(x, NFTNL_TRACE_VERDICT);
	if (nftnl_trace_is_set(x, NFTNL_TRACE_POLICY))
		ev->policy = (int32_t)nftnl_trace_get_u32(x, NFTNL_TRACE_POLICY);
	if (nftnl_trace_is_set(x, NFTNL_TRACE_NFPROTO))
		ev->nfproto = (uint8_t)nftnl_trace_get_u32(x, NFTNL_TRACE_NFPROTO);
	ifname(ev->iif, x, NFTNL_TRACE_IIF);
	ifname(ev->oif, x, NFTNL_TRACE_OIF);
	copy_data(ev->l3, sizeof(ev->l3), &ev->l3_len, x, NFTNL_TRACE_NETWORK_HEADER);
	copy_data(ev->l4, sizeof(ev->l4), &ev->l4_len, x, NFTNL_TRACE_TRANSPORT_HEADER);
	r = 0;
out:
	nftnl_trace_free(x);
	return r;
}

int nl_trace_read(struct nl_tracer *tr, int (*cb)(const struct nl_trace_event *ev, void *data),
		  void *data)
{
	struct nl_trace_event ev;
	ssize_t n = recv(nl_trace_fd(tr), tr->buf, sizeof(tr->buf), MSG_DONTWAIT);
	int left;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	left = (int)n;
	for (struct nlmsghdr *h = (struct nlmsghdr *)tr->buf; mnl_nlmsg_ok(h, left);
	     h = mnl_nlmsg_next(h, &left)) {
		if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE))
			continue;
		if (event(h, &ev) == 0 && cb(&ev, data) < 0)
			return -ECANCELED;
	}
	return 1;
}
