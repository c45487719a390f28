#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Latency from a put into etcd to the kernel holding the new rule.

etcd-latency.py ENDPOINT CHANGES -- DAEMON-COMMAND...

Starts the daemon, waits for its first commit (the initial sync, timed
from the start), then CHANGES times: puts one policy with one rule's first
CIDR changed (over one kept-alive HTTP connection, as an etcd client
would) and waits for the daemon's "change (revision R): committed" line
with R at least the put's revision: the daemon logs it once the kernel
acknowledged the batch. Prints the initial sync time and p50/p99/max.
With LATENCY_KIND=pod, each change is a pod instead: a WorkloadEndpoint of
this node put, then deleted, in turn (no policy selects it: only its
interface's chains change).
"""
import base64
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse

P = "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/"
WEPS = "/calico/resources/v3/projectcalico.org/workloadendpoints/default/"
WORK = re.compile(r"^<\d>change .*: committed .*compile (\d+) ms, commit (\d+) ms")
LINE = re.compile(r"^<\d>(start|change|re-list) \(revision (\d+)\): (committed|up to date)")


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Daemon:
    def __init__(self, cmd):
        self.cond = threading.Condition()
        self.commits = []          # (revision, monotonic time)
        self.work = []             # compile + commit ms of each change
        self.p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stderr:
            m = LINE.match(line)
            w = WORK.match(line)
            if w:
                self.work.append(int(w.group(1)) + int(w.group(2)))
            if m:
                self.last = line.strip()
                with self.cond:
                    self.commits.append((int(m.group(2)), time.monotonic()))
                    self.cond.notify_all()
            elif line.startswith("<3>") or line.startswith("<4>"):
                sys.stderr.write(line)

    def wait_rev(self, rev, timeout=30):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for r, t in self.commits:
                    if r >= rev:
                        return t
                left = end - time.monotonic()
                if left <= 0:
                    raise SystemExit("no commit of revision %d within %d s" % (rev, timeout))
                self.cond.wait(left)


def wep_key(i):
    return WEPS + "bench-k8s-pod%d-eth0" % i


def wep(i):
    return {"kind": "WorkloadEndpoint", "apiVersion": "projectcalico.org/v3",
            "metadata": {"name": "bench-k8s-pod%d-eth0" % i, "namespace": "default",
                         "labels": {"app": "bench"}},
            "spec": {"node": "bench", "orchestrator": "k8s", "pod": "pod%d" % i,
                     "endpoint": "eth0", "interfaceName": "cali%d" % i,
                     "ipNetworks": ["10.244.%d.%d/32" % (i // 250, i % 250 + 1)],
                     "profiles": ["kns.default"]}}


def main():
    ep, changes = sys.argv[1], int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    u = urllib.parse.urlparse(ep)
    conn = http.client.HTTPConnection(u.hostname, u.port)

    def call(path, body):
        conn.request("POST", path, json.dumps(body))
        return json.loads(conn.getresponse().read())

    pol = json.loads(base64.b64decode(call("/v3/kv/range", {"key": b64(P + "default.p0500")})
                                      ["kvs"][0]["value"]))
    t0 = time.monotonic()
    d = Daemon(cmd)
    rev0 = int(call("/v3/kv/range", {"key": b64("/")})["header"]["revision"])
    initial = d.wait_rev(rev0, 120) - t0
    lat = []
    pods = os.environ.get("LATENCY_KIND") == "pod"
    for i in range(changes):
        t = time.monotonic()
        if pods and i % 2:
            rev = int(call("/v3/kv/deleterange", {"key": b64(wep_key(i - 1))})
                      ["header"]["revision"])
        elif pods:
            rev = int(call("/v3/kv/put", {"key": b64(wep_key(i)),
                                          "value": b64(json.dumps(wep(i)))})
                      ["header"]["revision"])
        else:
            pol["spec"]["ingress"][3]["source"]["nets"][0] = "10.%d.%d.0/24" % (i // 256,
                                                                               i % 256)
            rev = int(call("/v3/kv/put", {"key": b64(P + "default.p0500"),
                                          "value": b64(json.dumps(pol))})["header"]["revision"])
        lat.append((d.wait_rev(rev) - t) * 1000)
        time.sleep(0.05)      # separate changes, not a burst
    d.p.terminate()
    d.p.wait()
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("initial %.3f s; %d changes: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (initial, changes, pick(0.50), pick(0.99), lat[-1]))
    print("  the daemon's last commit: %s" % d.last)
    if d.work:
        d.work.sort()
        print("  the daemon's own compile + commit per change: p50 %d ms, p99 %d ms (of %d)"
              % (d.work[len(d.work) // 2], d.work[min(len(d.work) - 1, int(0.99 * len(d.work)))],
                 len(d.work)))


main()
