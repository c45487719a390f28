/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The counters of every rule of our table, with the rule's chain and
 * comment, so that they can be told in policy terms. */
#include <errno.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nl-internal.h"

struct cctx_dump {
	const char *table;
	struct nl_counter *v;
	size_t n, cap;
	int err;
};

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		*(const char **)data = nftnl_udata_get(attr);
	return 0;
}

static int on_rule(const struct nlmsghdr *nlh, void *data)
{
	struct cctx_dump *d = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	struct nl_counter *x;
	const char *comment = NULL;
	const void *ud;
	uint32_t udlen = 0;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 ||
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), d->table) != 0)
		goto out;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct nl_counter *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->err = -ENOMEM;
			goto out;
		}
		d->v = v;
		d->cap = cap;
	}
	x = &d->v[d->n++];
	*x = (struct nl_counter){ .chain = strdup(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)),
				  .handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE) };
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &udlen);
	if (ud)
		nftnl_udata_parse(ud, udlen, comment_cb, &comment);
	x->comment = comment ? strdup(comment) : NULL;
	it = nftnl_expr_iter_create(r);
	while (it && (e = nftnl_expr_iter_next(it)))
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
			x->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			x->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
		}
	if (it)
		nftnl_expr_iter_destroy(it);
	if (!x->chain)
		d->err = -ENOMEM;
out:
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int nl_counters(const char *table, struct nl_counter **ret, size_t *ret_n)
{
	struct nl_commit_result res = { 0 };
	struct cctx_dump d = { .table = table };
	struct mnl_socket *nl = nl_sock_open(&res);
	struct nftnl_rule *rule = nftnl_rule_alloc();
	char buf[4096], *rbuf = malloc(1u << 17);
	uint32_t seq = (uint32_t)time(NULL), portid;
	struct nlmsghdr *nlh;
	int n, r = 0;

	if (!nl || !rule || !rbuf) {
		r = nl ? -ENOMEM : -EPERM;
		goto out;
	}
	{
		bool exists = false;
		uint32_t flags;

		r = nl_table_info(nl, table, &exists, &flags);
		if (r == 0 && !exists)
			r = -ENOENT;
		if (r < 0)
			goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq);
	nftnl_rule_nlmsg_build_payload(nlh, rule);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	while ((n = (int)mnl_socket_recvfrom(nl, rbuf, 1u << 17)) > 0) {
		int x = mnl_cb_run(rbuf, (size_t)n, seq, portid, on_rule, &d);

		if (x < 0) {
			r = -errno;
			break;
		}
		if (x == MNL_CB_STOP)
			break;
	}
	if (r == 0)
		r = d.err;
out:
	if (r < 0) {
		nl_counters_free(d.v, d.n);
	} else {
		*ret = d.v;
		*ret_n = d.n;
	}
	free(rbuf);
	nftnl_rule_free(rule);
	nl_sock_close(nl);
	return r;
}

void nl_counters_free(struct nl_counter *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].chain);
		free(v[i].comment);
	}
	free(v);
}
