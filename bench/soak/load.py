#!/usr/bin/env python3
"""bench/soak/load.py PORT TOKEN OUTDIR SECONDS RATE: the soak's mixed load
against one slawatch address (the soak restarts the server on the same port
after each kill -9, so every worker reconnects and carries on).

Workers (threads), each paced, none waits for another:
  single   POST /api/v1/alerts, low/medium severity (no notice within the run),
           ~RATE/s over tenants soak-a and soak-b
  bulk     POST /api/v1/alerts/bulk, 500 lines every 5 s
  due      every 5 s, 2 critical alerts per tenant created 15 min minus 20 s
           ago: each must give exactly one sla.breach webhook 20 s later
  ackres   acknowledge, then resolve, alerts this run created (~RATE/4 /s each)
  reports  scorecard, monthly report, breaches, events page (~2/s)
  ws       WebSocket churn: connect to /api/v1/sla/ws, read 0.5-3 s, close (~2/s)
Every 2xx write is appended to OUTDIR (created, due, acked, resolved: one
"tenant id [deadline_ms]" per line, flushed per line, so a line means the
client saw the 2xx); counters go to OUTDIR/stats.json at the end.  A write
that got no answer (server killed) is counted as `no_answer`, never as
acknowledged: the soak checks only what was acknowledged."""
import base64
import http.client
import json
import os
import random
import socket
import sys
import threading
import time
from collections import Counter

port, token, outdir, seconds, rate = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                      float(sys.argv[4]), float(sys.argv[5]))
TENANTS = ["soak-a", "soak-b"]
end = time.time() + seconds
stats = Counter()
slock = threading.Lock()
latency = {}          # kind -> list of ms (2xx only)
samples = {}          # the first answer body of each kind and non-2xx status
nonce = f"{int(time.time())}-{os.getpid()}"


def count(kind, what, ms=None):
    with slock:
        stats[f"{kind}.{what}"] += 1
        if ms is not None:
            latency.setdefault(kind, []).append(ms)


class Rec:
    def __init__(self, name):
        self.f = open(os.path.join(outdir, name), "a", buffering=1)
        self.lock = threading.Lock()

    def add(self, line):
        with self.lock:
            self.f.write(line + "\n")


created, due, acked, resolved = Rec("created"), Rec("due"), Rec("acked"), Rec("resolved")
pool = []             # (tenant, id) created by single/bulk, for ackres
plock = threading.Lock()


class Client:
    def __init__(self):
        self.c = None

    def req(self, kind, method, path, body=None, ctype="application/json"):
        """-> (status, body) or (None, None) when no answer came."""
        hdr = {"Authorization": "Bearer " + token}
        if body is not None:
            hdr["Content-Type"] = ctype
        t0 = time.time()
        for attempt in (0, 1):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                self.c.request(method, path, body=body, headers=hdr)
                r = self.c.getresponse()
                data = r.read()
                ms = (time.time() - t0) * 1000
                if 200 <= r.status < 300:
                    count(kind, "2xx", ms)
                else:
                    count(kind, str(r.status))
                    with slock:
                        k = f"sample.{kind}.{r.status}"
                        if k not in samples:
                            samples[k] = data[:300].decode(errors="replace")
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, data
            except (OSError, http.client.HTTPException):
                if self.c is not None:
                    self.c.close()
                self.c = None
                sent = attempt == 0 and method == "GET"
                if not sent:
                    break
        count(kind, "no_answer")
        time.sleep(0.2)
        return None, None


def paced(per_s, fn):
    def run():
        cl = Client()
        i = 0
        t = time.time()
        while time.time() < end:
            fn(cl, i)
            i += 1
            t += 1.0 / per_s
            d = t - time.time()
            if d > 0:
                time.sleep(d)
            elif d < -2:
                t = time.time()       # fell behind (server down): don't burst
    return run


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def single(cl, i):
    t = TENANTS[i % 2]
    aid = f"s-{nonce}-{threading.current_thread().name}-{i}"   # two single workers
    body = json.dumps({"id": aid, "tenant_id": t, "severity": "low" if i % 3 else "medium",
                       "title": "soak alert", "source": "soak"})
    st, _ = cl.req("single", "POST", "/api/v1/alerts", body)
    if st in (200, 201):
        created.add(f"{t} {aid}")
        with plock:
            pool.append((t, aid))


def bulk(cl, i):
    t = TENANTS[i % 2]
    ids = [f"b-{nonce}-{i}-{k}" for k in range(500)]
    body = "".join(json.dumps({"id": a, "tenant_id": t, "severity": "low", "title": "soak bulk"}) + "\n"
                   for a in ids)
    st, data = cl.req("bulk", "POST", "/api/v1/alerts/bulk", body, "application/x-ndjson")
    if st == 200:
        r = json.loads(data)
        if r.get("accepted") == len(ids):
            for a in ids:
                created.add(f"{t} {a}")
            with plock:
                pool.extend((t, a) for a in ids[:50])
        else:
            count("bulk", "partial")


def due_alerts(cl, i):
    now = int(time.time() * 1000)
    deadline = now + 20000
    at = iso(deadline - 15 * 60 * 1000)
    for t in TENANTS:
        for k in range(2):
            aid = f"d-{nonce}-{i}-{k}"
            body = json.dumps({"id": aid, "tenant_id": t, "severity": "critical", "title": "soak due",
                               "created_at": at})
            st, _ = cl.req("due", "POST", "/api/v1/alerts", body)
            if st in (200, 201):
                created.add(f"{t} {aid}")
                due.add(f"{t} {aid} {deadline}")


def ackres(cl, i):
    with plock:
        if not pool:
            return
        t, aid = pool.pop(random.randrange(len(pool)))
    st, _ = cl.req("ack", "POST", f"/api/v1/alerts/{aid}/acknowledge?tenant_id={t}", "{}")
    if st == 200:
        acked.add(f"{t} {aid}")
    elif st is None:
        return
    st, _ = cl.req("resolve", "POST", f"/api/v1/alerts/{aid}/resolve?tenant_id={t}", "{}")
    if st == 200:
        resolved.add(f"{t} {aid}")


def reports(cl, i):
    t = TENANTS[i % 2]
    path = [f"/api/v1/sla/scorecard?tenant_id={t}",
            f"/api/v1/sla/reports/{t}/monthly?month={time.strftime('%Y-%m', time.gmtime())}",
            f"/api/v1/sla/breaches?tenant_id={t}",
            f"/api/v1/sla/reports/{t}/trends?metric=mttr&days=30"][i % 4]
    cl.req("reports", "GET", path)


def ws(cl, i):
    t = TENANTS[i % 2]
    key = base64.b64encode(os.urandom(16)).decode()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        count("ws", "no_answer")
        time.sleep(0.2)
        return
    try:
        s.sendall((f"GET /api/v1/sla/ws?tenant_id={t} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {token}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = s.recv(4096)
        if not head.startswith(b"HTTP/1.1 101"):
            count("ws", head[9:12].decode(errors="replace") or "no_answer")
            return
        count("ws", "2xx")
        s.settimeout(0.5)
        stop = time.time() + random.uniform(0.5, 3)
        got = 0
        while time.time() < stop:
            try:
                b = s.recv(65536)
                if not b:
                    break
                got += len(b)
            except socket.timeout:
                pass
        if got:
            count("ws", "got_data")
        # a masked close frame (1000), then drop the socket
        mask = os.urandom(4)
        payload = bytes(b ^ mask[j % 4] for j, b in enumerate(b"\x03\xe8"))
        s.sendall(b"\x88\x82" + mask + payload)
    except OSError:
        count("ws", "error")
    finally:
        s.close()


workers = [
    paced(rate, single), paced(rate, single),
    paced(0.2, bulk), paced(0.2, due_alerts),
    paced(max(rate / 4, 1), ackres), paced(2, reports), paced(2, ws),
]
ts = [threading.Thread(target=w, daemon=True, name=f"w{k}") for k, w in enumerate(workers)]
for t in ts:
    t.start()
for t in ts:
    t.join()


def pct(v, q):
    if not v:
        return 0
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * q))]


out = dict(stats)
out.update(samples)
for k, v in latency.items():
    out[f"{k}.p50_ms"] = round(pct(v, 0.5), 1)
    out[f"{k}.p99_ms"] = round(pct(v, 0.99), 1)
with open(os.path.join(outdir, "stats.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
