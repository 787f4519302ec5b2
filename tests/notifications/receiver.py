"""A webhook receiver as a subscriber would write one: a real HTTP server on 127.0.0.1 (in a thread) that
checks Vigil's headers, verifies the signature with its own HMAC computation and rejects timestamps older
than 5 minutes (api-v1, Webhook deliveries); given a Standard Webhooks secret it also verifies the
webhook-* headers with the `standardwebhooks` library, as a receiver built on it does."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

MAX_AGE_SECONDS = 5 * 60


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    reason: str = ""

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    secret: str
    standard_secret: str = ""  # "whsec_…": verify the Standard Webhooks headers too
    # Status codes to answer with, in order, for valid requests; 200 once they run out.
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/vigil"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]

    def verify(self, headers: dict[str, str], body: bytes) -> str:
        """'' when the request is authentic and fresh, else why not."""
        for name in ("X-Vigil-Event", "X-Vigil-Delivery", "X-Vigil-Timestamp", "X-Vigil-Signature"):
            if not headers.get(name):
                return f"missing {name}"
        timestamp = headers["X-Vigil-Timestamp"]
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
            return "stale timestamp"
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(headers["X-Vigil-Signature"], f"sha256={expected}"):
            return "bad signature"
        payload = json.loads(body)
        if set(payload) != {"id", "type", "created_at", "tenant", "data"}:
            return f"unexpected payload keys {sorted(payload)}"
        if payload["id"] != headers["X-Vigil-Delivery"] or payload["type"] != headers["X-Vigil-Event"]:
            return "headers disagree with the payload"
        if self.standard_secret:
            try:
                Webhook(self.standard_secret).verify(body, headers)
            except WebhookVerificationError as exc:
                return f"standard webhooks: {exc}"
        return ""

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = dict(self.headers.items())
                problem = receiver.verify(headers, body)
                status = (receiver.script.pop(0) if receiver.script else 200) if not problem else 401
                receiver.received.append(Received(headers=headers, body=body, status=status, reason=problem))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
