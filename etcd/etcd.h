/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * etcd: the etcdv3 datastore over etcd's JSON gateway (libcurl + jansson).
 * Only the transport is wired in so far; the client lands with the daemon
 * (see README, "Status").
 */
#ifndef NFTMGR_ETCD_H
#define NFTMGR_ETCD_H

/* The libcurl version the client will speak through. */
const char *etcd_transport_version(void);

#endif
