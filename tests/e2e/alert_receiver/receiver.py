"""A webhook for the e2e tests: records every POST (path + JSON body) in memory and serves
the list back on GET /received. `receiver.py [port]` serves; `receiver.py dump` prints the
list and `receiver.py check` is the health check (both ask the server on localhost)."""

import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = 8080
RECEIVED, LOCK = [], threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with LOCK:
            RECEIVED.append({"path": self.path, "at": time.time(), "body": body})
        self.answer(200, b'{"ok": true}')

    def do_GET(self):
        with LOCK:
            self.answer(200, json.dumps(RECEIVED).encode()) if self.path == "/received" else self.answer(200, b"ok")

    def answer(self, status, data):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    if sys.argv[1:2] in (["dump"], ["check"]):
        path = "/received" if sys.argv[1] == "dump" else "/healthz"
        print(urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=5).read().decode())
    else:
        ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1]) if sys.argv[1:] else PORT), Handler).serve_forever()
