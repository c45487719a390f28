#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes hostile content into etcd for tests/etcd/hostile.sh, over the
JSON gateway (keys and values as raw bytes, base64 on the wire).

Usage: hostile-put.py ENDPOINT WHAT
  big      an 8 MB policy (an 8 MB annotation)
  utf8     a value that is not UTF-8
  deep     JSON nested 100,000 deep
  wrong    a HostEndpoint under a GlobalNetworkPolicy key
  foreign  50,000 keys outside Calico's layout (in transactions of 128)
  burst    10,000 puts of one policy from WORKERS clients at once; prints
           the rate and the last port"""
import base64
import http.client
import json
import os
import sys
import time
import urllib.parse

GNP = "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/"
WORKERS = 16


def b64(b):
    return base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()


def policy(name, port, **meta):
    return json.dumps({"kind": "GlobalNetworkPolicy", "apiVersion": "projectcalico.org/v3",
                       "metadata": dict(name="default." + name, **meta),
                       "spec": {"selector": "all()", "types": ["Ingress"],
                                "ingress": [{"action": "Allow", "protocol": "TCP",
                                             "destination": {"ports": [port]}}]}})


def main():
    u = urllib.parse.urlparse(sys.argv[1])
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)

    def call(path, body):
        conn.request("POST", path, json.dumps(body))
        answer = json.loads(conn.getresponse().read())
        if "header" not in answer:
            sys.exit("etcd refused %s: %s" % (path, answer))
        return answer

    def put(key, value):
        return call("/v3/kv/put", {"key": b64(key), "value": b64(value)})

    what = sys.argv[2]
    if what == "big":
        put(GNP + "default.big", policy("big", 1, annotations={"x": "y" * (8 << 20)}))
    elif what == "utf8":
        put(GNP + "default.badutf8", policy("badutf8", 2).encode().replace(b"badutf8", b"bad\xff\xfe"))
    elif what == "deep":
        put(GNP + "default.deep", "[" * 100000 + "]" * 100000)
    elif what == "wrong":
        put(GNP + "default.wrong", json.dumps({
            "kind": "HostEndpoint", "apiVersion": "projectcalico.org/v3",
            "metadata": {"name": "wrong"}, "spec": {"node": "worker-1", "interfaceName": "eth9"}}))
    elif what == "foreign":
        for t in range(0, 50000, 128):
            ops = [{"request_put": {"key": b64("/calico/resources/v3/projectcalico.org/"
                                               "ippools/foreign-%d" % i), "value": b64("{}")}}
                   for i in range(t, min(t + 128, 50000))]
            call("/v3/kv/txn", {"success": ops})
    elif what == "burst":
        # one client waits for each put's fsync (about 400 a second here);
        # WORKERS processes at once let etcd batch them. The parent's own
        # put comes after all of them: its port is the one to enforce.
        body = [json.dumps({"key": b64(GNP + "default.burst"),
                            "value": b64(policy("burst", 20000 + i))}) for i in range(9999)]
        t0 = time.monotonic()
        kids = []
        for w in range(WORKERS):
            pid = os.fork()
            if pid == 0:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
                for b in body[w::WORKERS]:
                    c.request("POST", "/v3/kv/put", b)
                    c.getresponse().read()
                os._exit(0)
            kids.append(pid)
        for pid in kids:
            os.waitpid(pid, 0)
        put(GNP + "default.burst", policy("burst", 20000 + 9999))
        print("%d puts/s; last port %d" % (10000 / (time.monotonic() - t0), 20000 + 9999))


main()
