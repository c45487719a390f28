/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * trace: the real path of real packets through our table, in policy
 * terms. A table of its own marks the packets the filter picks with
 * nftrace for a bounded time; the kernel's trace events for our table are
 * gathered per packet and printed once the packet is done (dropped, or
 * quiet for a moment): each rule it matched, by the comment that names
 * its policy and rule, then the verdict and what decided it, worded as
 * explain words it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "netlink.h"
#include "nftmgr.h"

#define INFLIGHT_MAX 64	 /* packets being followed at once */
#define QUIET_MS     300 /* a packet with no event for this long is done */
#define COUNT_MAX    1000000

struct pkt {
	uint32_t id;
	uint64_t seq; /* arrival order: packets are printed in it */
	bool used, seen, dropped, ours;
	bool ended; /* a later packet took its id: done */
	char *text; /* the lines so far */
	size_t len;
	FILE *f;
	char iif[16], oif[16];
	uint8_t nfproto, l3[40], l4[8];
	uint32_t l3_len, l4_len;
	char why[320];
	struct timespec last;
};

struct tracer {
	const char *table;
	const char *marker;	  /* the marking table */
	struct nl_counter *rules; /* handle -> comment */
	size_t n_rules;
	time_t reloaded;
	struct pkt p[INFLIGHT_MAX];
	unsigned long done, count;
	uint64_t next_seq;
};

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static const char *comment_of(struct tracer *tr, uint64_t handle)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < tr->n_rules; i++)
			if (tr->rules[i].handle == handle)
				return tr->rules[i].comment;
		/* A rule committed since we looked: look again, at most once
		 * a second. */
		if (pass || time(NULL) == tr->reloaded)
			break;
		tr->reloaded = time(NULL);
		nl_counters_free(tr->rules, tr->n_rules);
		tr->rules = NULL;
		tr->n_rules = 0;
		(void)nl_counters(tr->table, &tr->rules, &tr->n_rules);
	}
	return NULL;
}

static void headline(FILE *f, const struct pkt *p, unsigned long no)
{
	static const char *const protos[256] = {
		[1] = "icmp", [6] = "tcp", [17] = "udp", [58] = "icmpv6", [132] = "sctp"
	};
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
	int proto = -1;

	fprintf(f, "packet %lu:", no);
	if (p->iif[0])
		fprintf(f, " in %s", p->iif);
	if (p->oif[0])
		fprintf(f, " out %s", p->oif);
	if (p->nfproto == NFPROTO_IPV4 && p->l3_len >= 20) {
		inet_ntop(AF_INET, p->l3 + 12, src, sizeof(src));
		inet_ntop(AF_INET, p->l3 + 16, dst, sizeof(dst));
		proto = p->l3[9];
	} else if (p->nfproto == NFPROTO_IPV6 && p->l3_len >= 40) {
		inet_ntop(AF_INET6, p->l3 + 8, src, sizeof(src));
		inet_ntop(AF_INET6, p->l3 + 24, dst, sizeof(dst));
		proto = p->l3[6];
	}
	if (proto < 0) {
		fputc('\n', f);
		return;
	}
	if (protos[proto])
		fprintf(f, " %s", protos[proto]);
	else
		fprintf(f, " proto %d", proto);
	if ((proto == 6 || proto == 17 || proto == 132) && p->l4_len >= 4)
		fprintf(f, " %s:%u -> %s:%u\n", src, (p->l4[0] << 8) | p->l4[1], dst,
			(p->l4[2] << 8) | p->l4[3]);
	else if ((proto == 1 || proto == 58) && p->l4_len >= 2)
		fprintf(f, " %s -> %s type %u code %u\n", src, dst, p->l4[0], p->l4[1]);
	else
		fprintf(f, " %s -> %s\n", src, dst);
}

static void flush(struct tracer *tr, struct pkt *p)
{
	if (p->f)
		fclose(p->f);
	/* --count: the packets after the last one asked for are left out */
	if (p->ours && !(tr->count && tr->done >= tr->count)) {
		tr->done++;
		headline(stdout, p, tr->done);
		fputs(p->text ? p->text : "", stdout);
		printf("verdict: %s, by %s%s%s\n\n", p->dropped ? "drop" : "accept",
		       p->why[0] ? p->why : "no rule of table ", p->why[0] ? "" : tr->table,
		       p->why[0] ? "" : " decided");
		fflush(stdout);
	}
	free(p->text);
	*p = (struct pkt){ 0 };
}

static struct pkt *pkt_get(struct tracer *tr, uint32_t id)
{
	struct pkt *free_slot = NULL, *oldest = NULL;

	for (int i = 0; i < INFLIGHT_MAX; i++) {
		struct pkt *p = &tr->p[i];

		if (p->used && !p->ended && p->id == id)
			return p;
		if (!p->used && !free_slot)
			free_slot = p;
		if (p->used && (!oldest || ms_since(&p->last) > ms_since(&oldest->last)))
			oldest = p;
	}
	if (!free_slot) {
		flush(tr, oldest);
		free_slot = oldest;
	}
	*free_slot = (struct pkt){ .id = id, .used = true, .seq = ++tr->next_seq };
	free_slot->f = open_memstream(&free_slot->text, &free_slot->len);
	return free_slot->f ? free_slot : NULL;
}

static const char *verdict_name(int32_t v)
{
	switch (v) {
	case NF_ACCEPT: return "accept";
	case NF_DROP: return "drop";
	case NFT_JUMP: return "jump";
	case NFT_GOTO: return "goto";
	case NFT_RETURN: return "return";
	default: return NULL;
	}
}

/* One event of our table into the packet's lines and verdict. */
static void record(struct tracer *tr, struct pkt *p, const struct nl_trace_event *ev)
{
	const char *what, *v;

	switch (ev->type) {
	case NFT_TRACETYPE_RULE:
		/* the end of a chain's rules, reported as a rule without one */
		if (!ev->handle && ev->verdict != NF_ACCEPT && ev->verdict != NF_DROP)
			break;
		what = comment_of(tr, ev->handle);
		fprintf(p->f, "  %s: ", ev->chain);
		if (what)
			fputs(what, p->f);
		else
			fprintf(p->f, "rule handle %llu", (unsigned long long)ev->handle);
		v = ev->has_verdict ? verdict_name(ev->verdict) : NULL;
		if (v && ev->target[0])
			fprintf(p->f, " -> %s %s", v, ev->target);
		else if (v)
			fprintf(p->f, " -> %s", v);
		fputc('\n', p->f);
		if (ev->verdict == NF_ACCEPT || ev->verdict == NF_DROP) {
			snprintf(p->why, sizeof(p->why), "%s in chain %s",
				 what ? what : "a rule without a comment", ev->chain);
			p->dropped = ev->verdict == NF_DROP;
		}
		break;
	case NFT_TRACETYPE_RETURN:
		fprintf(p->f, "  %s: end of chain, back to the caller\n", ev->chain);
		break;
	case NFT_TRACETYPE_POLICY:
		fprintf(p->f, "  %s: no rule decided: the chain's policy %s\n", ev->chain,
			ev->policy == NF_DROP ? "drops" : "accepts");
		if (ev->policy == NF_DROP)
			p->dropped = true;
		break;
	}
}

/* nl_trace_read()'s callback: -ECANCELED stops the trace (enough packets,
 * or no slot for one more). */
static int flush_ready(struct tracer *tr, bool all);

static int on_event(const struct nl_trace_event *ev, void *data)
{
	struct tracer *tr = data;
	struct pkt *p = pkt_get(tr, ev->id);

	if (!p)
		return -ECANCELED;
	/* The kernel derives the id from the packet buffer's address, which
	 * the next packet may reuse: the marking rule is where each starts. */
	if (p->seen && strcmp(ev->table, tr->marker) == 0) {
		p->ended = true;
		(void)flush_ready(tr, false);
		if (tr->count && tr->done >= tr->count)
			return -ECANCELED;
		p = pkt_get(tr, ev->id);
		if (!p)
			return -ECANCELED;
	}
	p->seen = true;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	/* the headers of the first event that has them, from any table */
	if (!p->l3_len && ev->l3_len) {
		memcpy(p->l3, ev->l3, ev->l3_len);
		p->l3_len = ev->l3_len;
		memcpy(p->l4, ev->l4, ev->l4_len);
		p->l4_len = ev->l4_len;
		p->nfproto = ev->nfproto;
	}
	if (ev->iif[0])
		memcpy(p->iif, ev->iif, sizeof(p->iif));
	if (ev->oif[0])
		memcpy(p->oif, ev->oif, sizeof(p->oif));
	if (strcmp(ev->table, tr->table) != 0)
		return 0;
	p->ours = true;
	record(tr, p, ev);
	if (p->dropped) {
		(void)flush_ready(tr, false);
		if (tr->count && tr->done >= tr->count)
			return -ECANCELED;
	}
	return 0;
}

/* The packet that arrived first of those in flight, or NULL. */
static struct pkt *first_in_flight(struct tracer *tr)
{
	struct pkt *first = NULL;

	for (int i = 0; i < INFLIGHT_MAX; i++)
		if (tr->p[i].used && (!first || tr->p[i].seq < first->seq))
			first = &tr->p[i];
	return first;
}

/* Flushes, in the order they arrived, the packets that are done (dropped,
 * or quiet for long enough; all of them with all): a packet still under
 * way holds back the later ones, so that they print as they came.
 * Returns the poll timeout until the first one may be done. */
static int flush_ready(struct tracer *tr, bool all)
{
	struct pkt *p;

	while ((p = first_in_flight(tr))) {
		long quiet = ms_since(&p->last);

		if (!all && !p->dropped && !p->ended && quiet < QUIET_MS)
			return (int)(QUIET_MS - quiet);
		flush(tr, p);
	}
	return -1;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s trace [--in IFACE] [--out IFACE] [--src CIDR] [--dst CIDR]\n"
		"       [--proto tcp|udp|sctp|icmp|icmpv6|NUM] [--sport N] [--dport N]\n"
		"       [--duration DURATION] [--count N]\n\n"
		"Follow the real packets that match the filter through this node's table\n"
		"and print, for each, the rules it met in policy terms and what decided\n"
		"its verdict. Stops after DURATION (default 10s, at most 1h), after N\n"
		"packets, or on Ctrl-C. Needs nothing but the kernel: the packets are\n"
		"marked by a table of its own, which goes away with the command.\n",
		prog);
}

/* Returns 0 (*help: --help was printed) or -EINVAL after printing why. */
static int parse(struct ctx *ctx, int argc, char **argv, struct trace_filter *f, unsigned *seconds,
		 unsigned long *count, bool *help)
{
	static const struct option opts[] = {
		PACKET_LONG_OPTIONS,
		{ "duration", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct packet_args pa = { 0 };
	int c, v;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		v = packet_opt(c, optarg, &pa);
		if (v < 0)
			return v;
		if (v > 0)
			continue;
		switch (c) {
		case 't': v = duration_parse(optarg, 3600, seconds); break;
		case 'n':
			v = num_from_arg(optarg, COUNT_MAX);
			*count = v < 0 ? 0 : (unsigned long)v;
			break;
		case 'h':
			usage(stdout, ctx->prog);
			*help = true;
			return 0;
		default: usage(stderr, ctx->prog); return -EINVAL;
		}
		if (v < 0) {
			fprintf(stderr, "bad value '%s'\n", optarg);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr, ctx->prog);
		return -EINVAL;
	}
	if (packet_args_check(&pa) < 0)
		return -EINVAL;
	*f = (struct trace_filter){ .iif = pa.iif,
				    .oif = pa.oif,
				    .has_src = pa.has_src,
				    .has_dst = pa.has_dst,
				    .src = pa.src,
				    .dst = pa.dst,
				    .proto = pa.proto,
				    .sport = pa.sport,
				    .dport = pa.dport };
	return 0;
}

static int run(struct tracer *tr, struct nl_tracer *nt, unsigned seconds)
{
	struct timespec start;
	sigset_t set;
	int sfd, r = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p[2] = { { .fd = nl_trace_fd(nt), .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		long left = (long)seconds * 1000 - ms_since(&start);
		int wait = flush_ready(tr, false);

		if (left <= 0 || (tr->count && tr->done >= tr->count))
			break;
		if (wait < 0 || wait > left)
			wait = (int)left;
		if (poll(p, sfd >= 0 ? 2 : 1, wait) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (sfd >= 0 && p[1].revents)
			break;
		if (p[0].revents) {
			r = nl_trace_read(nt, on_event, tr);
			if (r == -ECANCELED) {
				r = 0;
				break;
			}
			if (r == -ENOBUFS) {
				fprintf(stderr, "trace: events were lost (too many packets)\n");
				r = 0;
			} else if (r < 0) {
				break;
			}
		}
	}
	if (sfd >= 0)
		close(sfd);
	return r;
}

int cmd_trace(struct ctx *ctx, int argc, char **argv)
{
	struct trace_filter f = { 0 };
	struct tracer tr = { 0 };
	struct nl_tracer *nt = NULL;
	struct model_table *t = NULL;
	unsigned seconds = 10;
	char err[512], name[300];
	bool help = false;
	int ret = EXIT_FAIL, r;

	if (parse(ctx, argc, argv, &f, &seconds, &tr.count, &help) < 0)
		return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	tr.table = table_name(ctx);
	r = nl_counters(tr.table, &tr.rules, &tr.n_rules);
	if (r < 0) {
		fprintf(stderr, "Cannot trace table inet %s: %s\n", tr.table,
			r == -ENOENT ? "it is not in the kernel (run 'nftmgr sync')"
				     : strerror(-r));
		return EXIT_FAIL;
	}
	tr.reloaded = time(NULL);
	snprintf(name, sizeof(name), "%s-trace", tr.table);
	tr.marker = name;
	r = compile_trace_table(name, &f, &t);
	if (r == 0)
		r = nl_trace_start(t, &nt, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", strerror(-r));
	if (r < 0) {
		fprintf(stderr, "Cannot start tracing: %s\n", err);
		goto out;
	}
	printf("Tracing for %u s%s in table inet %s (marked by table inet %s); Ctrl-C stops\n",
	       seconds, tr.count ? " or until enough packets" : "", tr.table, name);
	fflush(stdout);
	r = run(&tr, nt, seconds);
	(void)flush_ready(&tr, true);
	printf("%lu packet(s) traced\n", tr.done);
	if (r < 0)
		fprintf(stderr, "trace: reading events: %s\n", strerror(-r));
	ret = r < 0 ? EXIT_FAIL : EXIT_OK;
out:
	nl_trace_stop(nt);
	model_table_free(t);
	nl_counters_free(tr.rules, tr.n_rules);
	return ret;
}
