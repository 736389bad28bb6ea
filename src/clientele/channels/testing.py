"""Local stand-ins for the outside world, used by the tests and the benchmark: an SMS
gateway (and webhook receiver) that speaks our JSON protocol and honours idempotency keys
the way a good provider does, and an SMTP server (aiosmtpd, from the test extra).

Run the gateway on its own: python -m clientele.channels.testing --port 8025
"""

import argparse
import itertools
import json
import threading
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import signing


class LocalGateway:
    """An SMS gateway and webhook receiver in a thread.

    `delivered` maps each idempotency key to what went to the handset; a key seen again is
    answered with the first id and counted in `duplicates`, not delivered again. So
    `sent_count` (handset deliveries) and `len(delivered)` (unique keys) are what a test
    compares with the number of messages. Failures can be injected: `fail_requests`
    answers that many next requests with 503, `reject_numbers` rejects those recipients
    permanently, `api_key` requires that bearer token."""

    def __init__(self, host="127.0.0.1", port=0, *, keep_messages=True, api_key=""):
        self.keep_messages = keep_messages
        self.api_key = api_key
        self.lock = threading.Lock()
        self.delivered: dict[str, dict] = {}
        self.sent_count = 0
        self.requests = 0
        self.duplicates = 0
        self.fail_requests = 0
        self.reject_numbers: set[str] = set()
        self.hooks: list[dict] = []
        self.callbacks: list[tuple[str, str, str]] = []
        self._ids = itertools.count(1)
        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.daemon_threads = True
        self.server.gateway = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "LocalGateway":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stats(self) -> dict:
        with self.lock:
            return {
                "sent": self.sent_count,
                "unique_keys": len(self.delivered),
                "requests": self.requests,
                "duplicates": self.duplicates,
                "hooks": len(self.hooks),
            }

    # --- the protocol ------------------------------------------------------------------
    def accept(self, message: dict) -> dict:
        """One message of /messages or /messages/batch; the caller holds the lock."""
        key = message.get("idempotency_key") or ""
        if not key or not message.get("to"):
            return {"idempotency_key": key, "status": "rejected", "error": "to and key required"}
        known = self.delivered.get(key)
        if known is not None:
            self.duplicates += 1
            return {"idempotency_key": key, "id": known["id"], "status": "accepted"}
        if message["to"] in self.reject_numbers:
            return {"idempotency_key": key, "status": "rejected", "error": "invalid number"}
        provider_id = f"gw-{next(self._ids)}"
        record = {"id": provider_id}
        if self.keep_messages:
            record.update(to=message["to"], text=message.get("text", ""))
        self.delivered[key] = record
        self.sent_count += 1
        if message.get("callback_url"):
            self.callbacks.append((message["callback_url"], key, provider_id))
        return {"idempotency_key": key, "id": provider_id, "status": "accepted"}

    def handle(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        with self.lock:
            self.requests += 1
            if self.fail_requests > 0:
                self.fail_requests -= 1
                return 503, {"error": "try again later"}
            if self.api_key and headers.get("Authorization") != f"Bearer {self.api_key}":
                return 401, {"error": "bad api key"}
            try:
                payload = json.loads(body)
            except ValueError:
                return 400, {"error": "not JSON"}
            if path == "/messages":
                answer = self.accept(payload)
                return 200, answer
            if path == "/messages/batch":
                return 200, {"results": [self.accept(m) for m in payload.get("messages", [])]}
            if path.startswith("/hook"):
                key = headers.get("Idempotency-Key", "")
                if any(h["key"] == key for h in self.hooks):
                    self.duplicates += 1
                else:
                    self.hooks.append(
                        {
                            "key": key,
                            "payload": payload,
                            "signature": headers.get(signing.SIGNATURE_HEADER, ""),
                            "body": body,
                        }
                    )
                return 200, {"id": f"hook-{len(self.hooks)}"}
            return 404, {"error": "no such endpoint"}

    def post_receipts(self, secret: str, status: str = "delivered", error: str = "") -> int:
        """Post a signed delivery receipt for every message that asked for one, as the
        provider would once the handset confirms; returns how many were accepted."""
        with self.lock:
            pending, self.callbacks = self.callbacks, []
        accepted = 0
        for url, key, provider_id in pending:
            body = json.dumps(
                {"id": provider_id, "idempotency_key": key, "status": status, "error": error}
            ).encode()
            request = urllib.request.Request(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    signing.SIGNATURE_HEADER: signing.sign(secret, body),
                },
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                accepted += response.status == 200
        return accepted


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real gateways do
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002  (the base class's signature)
        pass

    def _answer(self, status: int, answer: dict) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802  (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, answer = self.server.gateway.handle(self.path, self.headers, body)
        self._answer(status, answer)

    def do_GET(self):  # noqa: N802
        if self.path == "/stats":
            self._answer(200, self.server.gateway.stats())
        elif self.path == "/keys":
            with self.server.gateway.lock:
                keys = list(self.server.gateway.delivered)
            self._answer(200, {"keys": keys})
        else:
            self._answer(404, {"error": "no such endpoint"})


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


class LocalSmtpServer:
    """A real SMTP server (aiosmtpd) on a free local port that keeps what it receives.
    Recipients whose address starts with "bounce" are refused with 550, as a mailbox that
    does not exist."""

    def __init__(self, host="127.0.0.1", port=0):
        from aiosmtpd.controller import Controller

        self.messages: list[dict] = []
        self.recipients = Counter()
        server = self

        class Handler:
            async def handle_RCPT(self, smtp, session, envelope, address, options):  # noqa: N802
                if address.startswith("bounce"):
                    return "550 5.1.1 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, smtp, session, envelope):  # noqa: N802
                server.messages.append(
                    {
                        "from": envelope.mail_from,
                        "to": list(envelope.rcpt_tos),
                        "data": envelope.content,
                    }
                )
                server.recipients.update(envelope.rcpt_tos)
                return "250 Message accepted"

        if port == 0:
            import socket

            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.host, self.port = host, port
        self.controller = Controller(Handler(), hostname=host, port=port)

    def start(self) -> "LocalSmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the local SMS gateway.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--no-keep", action="store_true", help="count messages, do not keep them")
    args = parser.parse_args(argv)
    gateway = LocalGateway(args.host, args.port, keep_messages=not args.no_keep)
    print(f"gateway listening on {gateway.url}", flush=True)
    try:
        gateway.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
