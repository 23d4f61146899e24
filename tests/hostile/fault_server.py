"""A misbehaving SODA portal on loopback, run as its own process by the hostile and fault tests.

``python fault_server.py`` binds 127.0.0.1 on a free port, prints the port on stdout and serves until
killed. The first path segment picks the behaviour, the second is a token that keeps per-test counters
apart: ``/<mode>/<token>/resource/<id>.json``. Every mode serves the same ROWS rows (``:id`` row-1 ...),
paged with ``$limit``/``$offset``, and answers ``$select=count(*)`` like Socrata (``[{"count": "7"}]``).

modes: ok, nocount (400 on count(*)), truncated (JSON cut in half), html, object (a JSON object),
short (the second page silently drops a row), meet-N (each resource's count(*) waits until N resources of the
token have asked, up to MEET_SECONDS, else 503: only sources extracted side by side all answer), reset (the first answer promises more bytes than it sends,
then recovers), e500-N / e429-N (the first N requests fail, then recover), drip-S (headers, then one byte
every S seconds), hang (reads the request, never answers), nested (values that are objects), notfound.
"""
from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Condition, Lock
from urllib.parse import parse_qs, urlsplit

ROWS = 7
SEEN: Counter = Counter()
LOCK = Lock()
MEET_SECONDS = 30
ARRIVED: dict[str, set[str]] = {}  # meet-N: token -> resources whose count(*) arrived
MET = Condition()


def rows(mode: str) -> list[dict]:
    out = []
    for i in range(1, ROWS + 1):
        row = {":id": f"row-{i}", ":updated_at": f"2026-10-0{i % 3 + 1}T00:00:00.000", "name": f"name {i}",
               "amount": str(i * 10)}
        if mode == "nested":
            row["location"] = {"type": "Point", "coordinates": [-71.0 - i / 100, 42.3]}
        out.append(row)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None,
              length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if parts[0] == "hang":  # any path (Open311's too)
            time.sleep(3600)
            return
        if len(parts) < 4 or parts[2] != "resource":
            return self._send(404, b'{"error": "no such resource"}')
        mode, token = parts[0], parts[1]
        with LOCK:
            SEEN[(mode, token)] += 1
            seen = SEEN[(mode, token)]
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        failing = re.fullmatch(r"e(500|429)-(\d+)", mode)
        if failing and seen <= int(failing.group(2)):
            status = int(failing.group(1))
            return self._send(status, b'{"error": "busy"}', headers={"Retry-After": "0"} if status == 429 else None)
        if mode == "notfound":
            return self._send(404, b'{"error": "not found"}')
        meet = re.fullmatch(r"meet-(\d+)", mode)
        if meet and query.get("$select") == "count(*)":
            with MET:
                ARRIVED.setdefault(token, set()).add(parts[3])
                MET.notify_all()
                met = MET.wait_for(lambda: len(ARRIVED[token]) >= int(meet.group(1)), timeout=MEET_SECONDS)
            if not met:
                return self._send(503, b'{"error": "waited for the other resources in vain"}')
        drip = re.fullmatch(r"drip-([\d.]+)", mode)
        if drip:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.flush()
            for _ in range(100000):
                time.sleep(float(drip.group(1)))
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
            return
        matching = sorted(rows(mode), key=lambda r: (r[":updated_at"], r[":id"]))
        where = re.fullmatch(r":updated_at >= '([^']*)'", query.get("$where", ""))
        if where:  # the incremental loads' filter
            matching = [r for r in matching if r[":updated_at"] >= where.group(1)]
        if query.get("$select") == "count(*)":
            if mode == "nocount":
                return self._send(400, b'{"error": "malformed $select"}')
            return self._send(200, json.dumps([{"count": str(len(matching))}]).encode())
        limit, offset = int(query.get("$limit", 1000)), int(query.get("$offset", 0))
        page = matching[offset:offset + limit]
        if mode == "short" and offset > 0:
            page = page[:-1]  # a page that silently loses a row: a short page ends the paging early
        body = json.dumps(page).encode()
        headers = {"X-SODA2-Fields": json.dumps([":id", ":updated_at", "name", "amount"]
                                                + (["location"] if mode == "nested" else []))}
        if mode == "truncated":
            return self._send(200, body[: len(body) // 2], headers=headers)
        if mode == "html":
            return self._send(200, b"<html><body>Service temporarily in maintenance</body></html>", "text/html")
        if mode == "object":
            return self._send(200, b'{"error": true, "message": "query timeout"}')
        if mode == "reset" and seen == 2:  # the first data page (after count(*)): promised bytes never come
            self._send(200, body[:10], headers=headers, length=len(body))
            self.close_connection = True
            return
        return self._send(200, body, headers=headers)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
