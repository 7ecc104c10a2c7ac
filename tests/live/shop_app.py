"""A small real HTTP service instrumented with prometheus_client, for live-fire tests.

`python -m tests.live.shop_app PORT` serves `/metrics` (its own process metrics: real
resident memory and CPU; and `http_server_requests_total{code}` with a latency
histogram), `/checkout` (a request: 200, or 500 once failing), `/leak?mb=N` (keeps N MB
more, touched so it counts as resident) and `/fail` (every later checkout fails).
A thread sends it 20 checkouts a second over HTTP, so its traffic is real requests.
"""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter("http_server_requests", "Checkouts served", ["code"])
LATENCY = Histogram("http_server_request_duration_seconds", "Checkout latency")
_kept: list[bytearray] = []
_failing = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, code: int, body: bytes, kind: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/metrics":
            self._answer(200, generate_latest(), CONTENT_TYPE_LATEST)
        elif url.path == "/checkout":
            with LATENCY.time():
                code = 500 if _failing.is_set() else 200
            REQUESTS.labels(code=str(code)).inc()
            self._answer(code, b"failed" if code == 500 else b"ok")
        elif url.path == "/leak":
            mb = int(parse_qs(url.query).get("mb", ["50"])[0])
            _kept.append(bytearray(b"\x01") * (mb * 1024 * 1024))
            self._answer(200, f"kept {sum(len(k) for k in _kept) >> 20} MB".encode())
        elif url.path == "/fail":
            _failing.set()
            self._answer(200, b"failing")
        else:
            self._answer(404, b"not found")


def _traffic(port: int) -> None:
    while True:
        try:
            with urlopen(f"http://127.0.0.1:{port}/checkout", timeout=2):
                pass
        except OSError:
            pass  # a 500 is an HTTPError: counted by the server all the same
        time.sleep(0.05)


def main() -> None:
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=_traffic, args=(port,), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
