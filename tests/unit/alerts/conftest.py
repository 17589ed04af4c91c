"""A real HTTP webhook on a loopback port (http.server in a thread) whose answers a test
scripts: a status code per request, or ``"hang"`` to answer later than the client waits."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Webhook:
    def __init__(self):
        self.received: list[dict] = []
        self.answers: list = []  # consumed one per request; 200 once empty
        self.hang_seconds = 3.0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def handler(self):
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with webhook.lock:
                    answer = webhook.answers.pop(0) if webhook.answers else 200
                    webhook.received.append({"body": body, "answer": answer})
                if answer == "hang":
                    time.sleep(webhook.hang_seconds)
                    answer = 200
                self.send_response(answer)
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def webhook():
    hook = Webhook()
    hook.server = ThreadingHTTPServer(("127.0.0.1", 0), hook.handler())
    hook.server.daemon_threads = True
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()
