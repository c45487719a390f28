/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's Prometheus /metrics, /livez and /readyz (libmicrohttpd). */
#ifndef NFTMGR_METRICS_H
#define NFTMGR_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "compile.h"

struct metrics;

/* Serves /metrics, /livez and /readyz on address (HOST:PORT, numeric).
 * Returns 0, or a negative errno with the reason in err. */
int metrics_start(const char *address, struct metrics **ret, char *err, size_t errlen);
struct metrics *metrics_stop(struct metrics *m);
/* After each compile + commit (result: 0 or negative errno). All of these
 * accept NULL (metrics off). */
void metrics_commit(struct metrics *m, double seconds, int result, bool changed, bool resync,
		    const struct compile_stats *st);
/* The datastore's state; also the loop's heartbeat for /livez. */
void metrics_connected(struct metrics *m, bool connected);

#endif
