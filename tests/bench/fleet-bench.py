#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The fleet bench's driver, run inside the etcd namespace by
tests/bench/fleet.sh: starts N node daemons (each in its node namespace),
then measures, for 50 puts in each of three states (healthy, a member
frozen with SIGSTOP, a member killed), the time from sending the put to
every one of the N daemons having committed its revision: p50, p99 and max
over the puts. Then RSS and CPU of the daemons at rest.

The daemons' stderr is read by one thread (a selector over the pipes).
Each daemon stamps its own lines with the monotonic clock when it writes
them (NFTMGR_TEST_LOG_MONOTONIC, a test build's knob), right after the
kernel acknowledged the commit: the time a reader thread needs to get
round to 200 pipes is not the daemons'. The put goes out over HTTP on a
connection opened beforehand, timed by the same clock.

Usage: fleet-bench.py N BIN NS-PREFIX ENDPOINTS MEMBER-PIDS STATE-DIR"""
import base64
import http.client
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time

LINE = re.compile(r"^<\d>(?:\[(\d+)\] )?(start|change|re-list) \(revision (\d+)\): "
                  r"(committed|up to date)")
WATCH = re.compile(r"watching etcd (http://[0-9.]+:\d+)")
KEY = "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.fleet-bench"
PUTS = int(os.environ.get("FLEET_PUTS", "50"))


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Daemon:
    """A daemon and what its stderr said; the lines are read by the one
    Reader thread (a thread per daemon would cost the driver more)."""

    def __init__(self, cmd, reader):
        self.rev = 0
        self.when = {}
        self.endpoint = None
        self.lost = 0
        self.buf = b""
        self.p = subprocess.Popen(cmd, stderr=subprocess.PIPE)
        reader.add(self)

    def line(self, line, t):
        w = WATCH.search(line)
        if w:
            self.endpoint = w.group(1)
        if "lost the etcd watch" in line:
            self.lost += 1
        m = LINE.match(line)
        if m:
            self.rev = max(self.rev, int(m.group(3)))
            # the daemon's own stamp (CLOCK_MONOTONIC, as time.monotonic())
            # when it wrote the line, right after the kernel acknowledged
            self.when[self.rev] = int(m.group(1)) / 1e6 if m.group(1) else t

    def committed_at(self, rev, deadline, reader):
        with reader.cond:
            while self.rev < rev:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                reader.cond.wait(left)
            return min(t for r, t in self.when.items() if r >= rev)


class Reader:
    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.cond = threading.Condition()
        threading.Thread(target=self.run, daemon=True).start()

    def add(self, d):
        os.set_blocking(d.p.stderr.fileno(), False)
        self.sel.register(d.p.stderr, selectors.EVENT_READ, d)

    def run(self):
        while True:
            for key, _ in self.sel.select(timeout=0.5):
                t = time.monotonic()
                d = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    self.sel.unregister(key.fileobj)
                    continue
                d.buf += chunk
                *lines, d.buf = d.buf.split(b"\n")
                with self.cond:
                    for line in lines:
                        d.line(line.decode(errors="replace"), t)
                    self.cond.notify_all()


def policy(i):
    return {"kind": "GlobalNetworkPolicy", "apiVersion": "projectcalico.org/v3",
            "metadata": {"name": "default.fleet-bench"},
            "spec": {"selector": "role == 'fleet'", "types": ["Ingress"],
                     "ingress": [{"action": "Allow", "protocol": "TCP",
                                  "destination": {"ports": [10000 + i]}}]}}


def pick(v, q):
    return v[min(len(v) - 1, int(q * len(v)))]


def phase(name, daemons, conn, reader):
    lat, missing = [], 0
    for i in range(PUTS):
        body = json.dumps({"key": b64(KEY), "value": b64(json.dumps(policy(i)))})
        while True:     # a put refused during an election is sent again
            t0 = time.monotonic()
            conn.request("POST", "/v3/kv/put", body)
            answer = json.loads(conn.getresponse().read())
            if "header" in answer:
                break
            time.sleep(0.2)
        rev = int(answer["header"]["revision"])
        deadline = t0 + float(os.environ.get("FLEET_DEADLINE", "30"))
        worst = 0.0
        for d in daemons:
            t = d.committed_at(rev, deadline, reader)
            if t is None:
                missing += 1
                t = deadline
                if os.environ.get("FLEET_DEBUG"):
                    print("  no commit of %d from %s (at %d, on %s)" % (rev, d.p.args[3], d.rev,
                                                                       d.endpoint), flush=True)
            worst = max(worst, t - t0)
        lat.append(worst * 1000)
        time.sleep(0.1)
    lat.sort()
    lost = sum(d.lost for d in daemons)
    print("%-22s put -> all %d kernels: p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms%s"
          % (name, len(daemons), pick(lat, 0.5), pick(lat, 0.99), lat[-1],
             "  (%d commits missing after 30 s)" % missing if missing else ""), flush=True)
    print("%-22s watches lost so far: %d" % ("", lost), flush=True)


def busiest(daemons, urls):
    count = {u: 0 for u in urls}
    for d in daemons:
        if d.endpoint in count:
            count[d.endpoint] += 1
    url = max(count, key=count.get)
    return urls.index(url), count


def at_rest(daemons, members, seconds):
    tick = os.sysconf("SC_CLK_TCK")

    def cpu(pid):
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])

    live = [d.p.pid for d in daemons if d.p.poll() is None]
    c0, m0, t0 = [cpu(p) for p in live], [cpu(p) for p in members], time.monotonic()
    time.sleep(seconds)
    c1, m1, t1 = [cpu(p) for p in live], [cpu(p) for p in members], time.monotonic()
    pct = sorted(100.0 * (b - a) / tick / (t1 - t0) for a, b in zip(c0, c1))
    etcd = [100.0 * (b - a) / tick / (t1 - t0) for a, b in zip(m0, m1)]
    rss = sorted(int(re.search(r"VmRSS:\s+(\d+)", open("/proc/%d/status" % p).read())
                     .group(1)) / 1024 for p in live)
    print("at rest over %d s: CPU per daemon mean %.2f%%, max %.2f%%; RSS per daemon mean "
          "%.1f MB, max %.1f MB; etcd members %s of a core"
          % (seconds, sum(pct) / len(pct), pct[-1], sum(rss) / len(rss), rss[-1],
             ", ".join("%.1f%%" % x for x in etcd)), flush=True)


def main():
    n, binary, prefix, eps, pids, state = sys.argv[1:7]
    n, urls, pids = int(n), eps.split(","), [int(p) for p in pids.split(",")]
    daemons, reader = [], Reader()
    for i in range(1, n + 1):
        os.makedirs("%s/state%d" % (state, i), exist_ok=True)
        daemons.append(Daemon(["ip", "netns", "exec", "%s%d" % (prefix, i), "env",
                               "ETCD_ENDPOINTS=" + eps, "DATASTORE_DIR=%s/state%d" % (state, i),
                               "NFTMGR_TEST_LOG_MONOTONIC=1",
                               binary, "-c", state + "/none.cfg", "--node", "node-%d" % i,
                               "daemon"], reader))
    start = time.monotonic()
    for d in daemons:
        if d.committed_at(1, start + 120, reader) is None:
            sys.exit("a daemon did not commit within 120 s")
    print("%d daemons committed in %.1f s; spread over the members: %s"
          % (n, time.monotonic() - start, busiest(daemons, urls)[1]), flush=True)
    at_rest(daemons, pids, 30)

    def conn_to(m):
        u = urls[m][len("http://"):].split(":")
        return http.client.HTTPConnection(u[0], int(u[1]), timeout=30)

    phase("healthy", daemons, conn_to(0), reader)
    frozen, count = busiest(daemons, urls)
    os.kill(pids[frozen], signal.SIGSTOP)
    phase("member %d frozen (%d)" % (frozen + 1, count[urls[frozen]]), daemons,
          conn_to((frozen + 1) % 3), reader)
    os.kill(pids[frozen], signal.SIGCONT)
    time.sleep(3)
    killed, count = busiest(daemons, urls)
    os.kill(pids[killed], signal.SIGKILL)
    phase("member %d killed (%d)" % (killed + 1, count[urls[killed]]), daemons,
          conn_to((killed + 1) % 3), reader)
    alive = sum(d.p.poll() is None for d in daemons)
    print("daemons alive at the end: %d of %d" % (alive, n), flush=True)
    for d in daemons:
        d.p.terminate()
    for d in daemons:
        d.p.wait()


main()
