#!/usr/bin/env python3
"""bench/receiver.py PORTFILE LOG [MODEFILE]: a webhook receiver for the
benches (bench/cluster, bench/soak), loopback only.

Listens on a free 127.0.0.1 port (written to PORTFILE once listening) and
appends one line per POST to LOG:
    <receipt unix ms> <answer> <Idempotency-Key> <type> <item_id> <due_at ms>
where answer is the status it gave (200, 503) or `hang` (it kept the
connection open without answering, so slawatch's timeout decides).
MODEFILE, when given, is read at every request: `ok` (answer 200), `fail`
(answer 503) or `hang` (sleep 60 s, never answer); missing or empty = ok.
The soak flips it to play a receiver that fails, hangs and recovers; a
delivery counts as delivered only with answer 200 (the log keeps the
others to show the retries)."""
import calendar
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, logpath = sys.argv[1], sys.argv[2]
modefile = sys.argv[3] if len(sys.argv) > 3 else None
lock = threading.Lock()
log = open(logpath, "a", buffering=1)


def ts_ms(s):
    """RFC 3339 UTC with milliseconds -> unix ms (0 when absent)."""
    if not s:
        return 0
    base, _, frac = s.rstrip("Z").partition(".")
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return t * 1000 + int((frac + "000")[:3])


def mode():
    if not modefile:
        return "ok"
    try:
        with open(modefile) as f:
            return f.read().strip() or "ok"
    except OSError:
        return "ok"


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        now = int(time.time() * 1000)
        key = self.headers.get("Idempotency-Key", "-")
        try:
            j = json.loads(body)
            typ, item, due = j.get("type", "-"), j.get("item_id", "-"), ts_ms(j.get("due_at"))
        except (ValueError, AttributeError):
            typ, item, due = "digest?", "-", 0
        m = mode()
        answer = {"fail": "503", "hang": "hang"}.get(m, "200")
        with lock:
            log.write(f"{now} {answer} {key} {typ} {item} {due}\n")
        if m == "hang":
            time.sleep(60)
            self.close_connection = True
            return
        self.send_response(int(answer))
        self.send_header("Content-Length", "0")
        self.end_headers()


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
srv.handle_error = lambda request, address: None   # a sender that hung up mid-request is normal here
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(tmp, portfile)
srv.serve_forever()
