#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Latency from a put into etcd's v2 API to the kernel holding the rule.

etcdv2-latency.py ENDPOINT CHANGES -- DAEMON-COMMAND...

As etcd-latency.py, for a daemon on etcdv2: CHANGES times, puts the
Felix 2.6 policy allow-bench with its port changed (one kept-alive HTTP
connection) and waits for the daemon's "change (revision R)" line with R
at least the put's modifiedIndex. Prints p50/p99/max.
"""
import http.client
import json
import re
import subprocess
import sys
import threading
import time
import urllib.parse

KEY = "/v2/keys/calico/v1/policy/tier/default/policy/allow-bench"
LINE = re.compile(r"^<\d>(start|change|re-list) \(revision (\d+)\): (committed|up to date)")


class Daemon:
    def __init__(self, cmd):
        self.cond = threading.Condition()
        self.commits = []
        self.p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stderr:
            m = LINE.match(line)
            if m:
                with self.cond:
                    self.commits.append(int(m.group(2)))
                    self.cond.notify_all()
            elif line.startswith("<3>") or line.startswith("<4>"):
                sys.stderr.write(line)

    def wait_rev(self, rev, timeout=30):
        end = time.monotonic() + timeout
        with self.cond:
            while not any(r >= rev for r in self.commits):
                left = end - time.monotonic()
                if left <= 0:
                    raise SystemExit("no commit of index %d within %d s" % (rev, timeout))
                self.cond.wait(left)
        return time.monotonic()


def main():
    ep, changes = sys.argv[1], int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    u = urllib.parse.urlparse(ep)
    conn = http.client.HTTPConnection(u.hostname, u.port)

    def put(port):
        pol = {"order": 100, "selector": "ibm.role == 'worker_public'", "types": ["ingress"],
               "inbound_rules": [{"action": "allow", "protocol": "tcp", "dst_ports": [port]}]}
        body = urllib.parse.urlencode({"value": json.dumps(pol)})
        conn.request("PUT", KEY, body, {"Content-Type": "application/x-www-form-urlencoded"})
        return int(json.loads(conn.getresponse().read())["node"]["modifiedIndex"])

    rev0 = put(1000)
    d = Daemon(cmd)
    d.wait_rev(rev0, 60)
    lat = []
    for i in range(changes):
        t = time.monotonic()
        rev = put(1001 + i)
        lat.append((d.wait_rev(rev) - t) * 1000)
        time.sleep(0.05)
    d.p.terminate()
    d.p.wait()
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("%d changes: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (changes, pick(0.50), pick(0.99), lat[-1]))


main()
