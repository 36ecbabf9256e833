/*
 * Findings on the network (io recorder): peers that are slow to connect
 * to or to answer, slow or repeated DNS lookups, and chatty connections
 * (many small sends to one peer that could go as one, or many small
 * request/response round trips that could be pipelined).
 *
 * Only what a blocking call measured is seen: a non-blocking client that
 * waits in epoll does not show its peer's latency here (the wait is in
 * the waits by site). Servers are not blamed for their clients: the
 * round-trip and response-time rules only look at connections this
 * process opened (connect).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "findings_io.h"

/* slow_peer: an outgoing peer whose connects and first-byte waits total
 * this much, averaging this much each. */
#define PEER_MIN_TOTAL_NS 100e6
#define PEER_MIN_AVG_NS 20e6
/* DNS: a host whose lookups total this much, slow each or repeated. */
#define DNS_MIN_TOTAL_NS 100e6
#define DNS_MIN_AVG_NS 20e6
#define DNS_MIN_REPEATS 10
/* chatty_network: this many sends averaging under this size. */
#define CHATTY_MIN_SENDS 1000
#define CHATTY_MAX_AVG 512.0
#define CHATTY_MIN_BACK_TO_BACK 0.5 /* share of sends right after a send */
#define CHATTY_MIN_ROUND_TRIPS 1000

static bool is_send(unsigned op)
{
	switch (op) {
	case PST_IO_SEND:
	case PST_IO_SENDTO:
	case PST_IO_SENDMSG:
	case PST_IO_WRITE:
	case PST_IO_WRITEV:
		return true;
	default:
		return false;
	}
}

static bool is_recv(unsigned op)
{
	switch (op) {
	case PST_IO_RECV:
	case PST_IO_RECVFROM:
	case PST_IO_RECVMSG:
	case PST_IO_RECVMMSG:
	case PST_IO_READ:
	case PST_IO_READV:
		return true;
	default:
		return false;
	}
}

/* What each peer (group) did, from its calls in time order. */
struct peer_acc {
	uint64_t connects, sends, send_bytes, back_to_back, round_trips;
	double connect_ns, back_to_back_ns, reply_wait_ns; /* reply: first recv after a send */
};

enum last_dir { LAST_NONE, LAST_SEND, LAST_RECV };

struct peer_scan {
	struct peer_acc *acc; /* per group */
	/* (group*4 + 0: sends, 1: replies, 2: connects) -> site */
	struct fio_tally sites;
};

static void scan_peers(const struct io_model *m, struct peer_scan *ps)
{
	ps->acc = pa_xcalloc(m->groups.len + 1, sizeof(*ps->acc));
	fio_tally_init(&ps->sites);
	/* the last direction on each descriptor (by description id) */
	struct pa_pairmap last;
	pa_pairmap_init(&last);
	for (size_t i = 0; i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		uint32_t g = fio_block_group(m, b);
		if (g == UINT32_MAX ||
		    ((const struct io_group *)pa_vec_at(&m->groups, g))->cls != IO_CLASS_NET)
			continue;
		struct peer_acc *a = &ps->acc[g];
		unsigned prev = pa_pairmap_get(&last, b->desc, 0);
		if (b->op == PST_IO_CONNECT) {
			a->connects++;
			a->connect_ns += b->ns;
			fio_tally_add(&ps->sites, (uint64_t)g * 4 + 2, b->site, b);
		} else if (is_send(b->op) && b->result > 0) {
			a->sends++;
			a->send_bytes += b->bytes;
			if (prev == LAST_SEND) {
				a->back_to_back++;
				a->back_to_back_ns += b->ns;
			}
			fio_tally_add(&ps->sites, (uint64_t)g * 4, b->site, b);
			pa_pairmap_put(&last, b->desc, 0, LAST_SEND);
		} else if (is_recv(b->op) && b->result >= 0) {
			if (prev == LAST_SEND) {
				a->round_trips++;
				a->reply_wait_ns += b->ns;
				fio_tally_add(&ps->sites, (uint64_t)g * 4 + 1, b->site, b);
			}
			pa_pairmap_put(&last, b->desc, 0, LAST_RECV);
		}
	}
	pa_pairmap_free(&last);
}

static void scan_free(struct peer_scan *ps)
{
	free(ps->acc);
	fio_tally_free(&ps->sites);
}

/* --- slow peers and DNS --- */

static void slow_peer_finding(const struct pa_models *pm, const struct io_group *grp,
			      const struct peer_acc *a, struct fio_where site, struct findings *out)
{
	double wall = fio_wall_s(pm), ns = a->connect_ns + a->reply_wait_ns;
	double waits = (double)(a->connects + a->round_trips);
	char t[32], c[32], r[32];
	struct finding *f = finding_add(out, "slow_peer", fio_share(ns / 1e9, wall));
	finding_impact(f, ns / 1e9, "wall_seconds", 100 * fio_share(ns / 1e9, wall),
		       "up to %s of wall time waiting for %s",
		       finding_seconds(ns / 1e9, t, sizeof(t)), grp->name);
	fio_site_where(pm, site, f);
	finding_object(f, grp->name);
	finding_summary(
	    f,
	    "%s: %" PRIu64 " connects of %s and %" PRIu64
	    " replies of %s on average (first byte after a send)",
	    grp->name, a->connects,
	    finding_seconds(a->connects ? a->connect_ns / 1e9 / (double)a->connects : 0, c,
			    sizeof(c)),
	    a->round_trips,
	    finding_seconds(a->round_trips ? a->reply_wait_ns / 1e9 / (double)a->round_trips : 0, r,
			    sizeof(r)));
	finding_count(f, "connects", (double)a->connects);
	finding_count(f, "connect_seconds", a->connect_ns / 1e9);
	finding_count(f, "replies", (double)a->round_trips);
	finding_count(f, "reply_wait_seconds", a->reply_wait_ns / 1e9);
	finding_count(f, "avg_wait_ms", ns / 1e6 / waits);
	finding_recommend(f, "Keep connections open and reuse them (a pool, keep-alive), send "
			     "independent requests concurrently instead of one after another, and "
			     "set timeouts; cache answers that do not change.");
}

static void dns_findings(const struct pa_models *pm, struct findings *out)
{
	const struct io_model *m = pm->io;
	struct fio_tally sites;
	fio_tally_init(&sites);
	for (size_t i = 0; i < m->blocks.len; i++) {
		const struct io_block *b = pa_vec_at(&m->blocks, i);
		if (b->op == 0) /* getaddrinfo */
			fio_tally_add(&sites, 0, b->site, b);
	}
	double wall = fio_wall_s(pm);
	for (size_t i = 0; i < m->dns.len; i++) {
		const struct io_dns *d = pa_vec_at(&m->dns, i);
		double avg = d->st.count ? d->st.total_ns / (double)d->st.count : 0;
		if (d->st.total_ns < DNS_MIN_TOTAL_NS ||
		    (avg < DNS_MIN_AVG_NS && d->st.count < DNS_MIN_REPEATS))
			continue;
		double saved = d->st.count > 1 ? d->st.total_ns * (double)(d->st.count - 1) /
						     (double)d->st.count / 1e9
					       : d->st.total_ns / 1e9;
		char t[32], u[32];
		struct finding *f = finding_add(out, "slow_peer", fio_share(saved, wall));
		finding_impact(f, saved, "wall_seconds", 100 * fio_share(saved, wall),
			       "up to %s of wall time resolving %s",
			       finding_seconds(saved, t, sizeof(t)), d->host);
		fio_site_where(pm, fio_tally_top(&sites, 0), f);
		char obj[PST_MAX_STR + 16];
		snprintf(obj, sizeof(obj), "DNS %s", d->host);
		finding_object(f, obj);
		finding_summary(f, "%" PRIu64 " lookups of %s, %s each on average", d->st.count,
				d->host, finding_seconds(avg / 1e9, u, sizeof(u)));
		finding_count(f, "lookups", (double)d->st.count);
		finding_count(f, "lookup_seconds", d->st.total_ns / 1e9);
		finding_count(f, "avg_ms", avg / 1e6);
		finding_count(f, "failed", (double)d->st.errors);
		finding_recommend(f, "Resolve the name once and keep the addresses (for their "
				     "TTL), or resolve ahead of time off the request path; a slow "
				     "resolver on this host also shows here.");
	}
	fio_tally_free(&sites);
}

void findings_slow_peers(const struct pa_models *pm, struct findings *out)
{
	const struct io_model *m = pm->io;
	if (!m || !m->calls)
		return;
	dns_findings(pm, out);
	if (!m->groups.len)
		return;
	struct peer_scan ps;
	scan_peers(m, &ps);
	for (size_t g = 0; g < m->groups.len; g++) {
		const struct peer_acc *a = &ps.acc[g];
		double ns = a->connect_ns + a->reply_wait_ns;
		double waits = (double)(a->connects + a->round_trips);
		/* outgoing connections only: a server's wait is its client's pace */
		if (!a->connects || ns < PEER_MIN_TOTAL_NS || ns / waits < PEER_MIN_AVG_NS)
			continue;
		/* where most of the time went: waiting for replies, or connecting */
		uint64_t key = (uint64_t)g * 4 + (a->reply_wait_ns >= a->connect_ns ? 1 : 2);
		slow_peer_finding(pm, pa_vec_at(&m->groups, g), a, fio_tally_top(&ps.sites, key),
				  out);
	}
	scan_free(&ps);
}

/* --- chatty connections --- */

static void chatty_finding(const struct pa_models *pm, const struct io_group *grp,
			   const struct peer_acc *a, bool batch, struct fio_where site,
			   struct findings *out)
{
	double wall = fio_wall_s(pm);
	double saved = (batch ? a->back_to_back_ns : a->reply_wait_ns) / 1e9;
	double avg = (double)a->send_bytes / (double)a->sends;
	char t[32];
	struct finding *f = finding_add(out, "chatty_network", fio_share(saved, wall));
	if (batch)
		finding_impact(f, saved, "wall_seconds", 100 * fio_share(saved, wall),
			       "about %s of wall time and %" PRIu64
			       " system calls: sends that followed a send",
			       finding_seconds(saved, t, sizeof(t)), a->back_to_back);
	else
		finding_impact(f, saved, "wall_seconds", 100 * fio_share(saved, wall),
			       "up to %s of wall time waiting for %" PRIu64
			       " replies one at a time",
			       finding_seconds(saved, t, sizeof(t)), a->round_trips);
	fio_site_where(pm, site, f);
	finding_object(f, grp->name);
	if (batch)
		finding_summary(f,
				"%" PRIu64 " sends of %.0f bytes on average to %s, %" PRIu64
				" of them right after another send",
				a->sends, avg, grp->name, a->back_to_back);
	else
		finding_summary(f,
				"%" PRIu64 " sends of %.0f bytes on average to %s, %" PRIu64
				" round trips (send, then wait for the reply)",
				a->sends, avg, grp->name, a->round_trips);
	finding_count(f, "sends", (double)a->sends);
	finding_count(f, "avg_bytes", avg);
	finding_count(f, "back_to_back_sends", (double)a->back_to_back);
	finding_count(f, "round_trips", (double)a->round_trips);
	finding_count(f, "syscalls_saved", (double)(batch ? a->back_to_back : a->round_trips));
	finding_recommend(f, batch ? "Build the message in one buffer (or gather the pieces with "
				     "writev/sendmsg, or cork the socket) and send it in one call."
				   : "Pipeline the requests (send several before reading the "
				     "replies) or batch them into one request (MGET, multi-row "
				     "INSERT); each round trip waits for the network.");
}

void findings_chatty_network(const struct pa_models *pm, struct findings *out)
{
	const struct io_model *m = pm->io;
	if (!m || !m->calls || !m->groups.len)
		return;
	struct peer_scan ps;
	scan_peers(m, &ps);
	for (size_t g = 0; g < m->groups.len; g++) {
		const struct peer_acc *a = &ps.acc[g];
		if (a->sends < CHATTY_MIN_SENDS ||
		    (double)a->send_bytes / (double)a->sends >= CHATTY_MAX_AVG)
			continue;
		bool batch = (double)a->back_to_back >= CHATTY_MIN_BACK_TO_BACK * (double)a->sends;
		/* round trips: only on connections this process opened */
		bool pipeline = a->connects && a->round_trips >= CHATTY_MIN_ROUND_TRIPS;
		if (batch || pipeline)
			chatty_finding(pm, pa_vec_at(&m->groups, g), a, batch,
				       fio_tally_top(&ps.sites, (uint64_t)g * 4 + !batch), out);
	}
	scan_free(&ps);
}
