"""Adapters: how a claimed outbox message leaves the building.

Every adapter takes a batch of messages and returns one result per message, in order:
sent (with the provider's message id), a transient failure (the dispatcher retries with
backoff) or a permanent one (the row fails with the reason). Each message carries its
dedup key, which the adapters hand to the receiving side as an idempotency key: after a
crash between "sent" and "marked sent" the message is sent again with the same key, and a
provider that honours keys does not deliver it twice.

Configuration (Django settings, read with defaults so nothing needs to be set on the
embedded default, where every channel writes JSON lines into DATA_DIR/outbox/):

- CLIENTELE_SMS_URL, CLIENTELE_SMS_API_KEY, CLIENTELE_SMS_BATCH_SIZE (100),
  CLIENTELE_SMS_TIMEOUT (10 s): the SMS gateway below; without a URL, the file adapter.
- CLIENTELE_EMAIL_ADAPTER ("smtp" or "file"), CLIENTELE_EMAIL_FROM, and Django's
  EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS,
  EMAIL_USE_SSL, EMAIL_TIMEOUT for SMTP.
- CLIENTELE_WEBHOOK_URL, CLIENTELE_WEBHOOK_SECRET: the webhook; without a URL, a file.
- CLIENTELE_PUBLIC_URL: the address customers and providers reach us at (unsubscribe
  links, delivery receipt callbacks).
- CLIENTELE_OUTBOX_DIR: where the file adapter writes (default DATA_DIR/outbox).

The SMS gateway protocol (JSON over HTTP; a provider bridge or our test server speaks it):

    POST {CLIENTELE_SMS_URL}/messages
    Authorization: Bearer <CLIENTELE_SMS_API_KEY>
    Idempotency-Key: <dedup key>
    {"to": "+8613800000000", "text": "...", "idempotency_key": "<dedup key>",
     "callback_url": "<CLIENTELE_PUBLIC_URL>/channels/receipts/"}
    -> 200 {"id": "<provider id>", "status": "accepted"}

    POST {CLIENTELE_SMS_URL}/messages/batch
    {"messages": [<message as above>, ...]}
    -> 200 {"results": [{"idempotency_key": "...", "id": "...", "status": "accepted"}
                        | {"idempotency_key": "...", "status": "rejected", "error": "..."}]}

A key the provider has seen before returns the first id and is not sent again. 429, 5xx,
408, 401 and 403 are transient (Retry-After is honoured; a wrong key must not destroy a
campaign); other 4xx are permanent. Delivery receipts come back to callback_url as
{"idempotency_key" or "id", "status": "delivered"|"undelivered"|"failed"|"bounced",
"error": "..."} or {"receipts": [...]}, signed in the X-Clientele-Signature header
(t=<unix time>,v1=<hex HMAC-SHA256 over "t.body" with CLIENTELE_RECEIPT_SECRET>).

The webhook adapter POSTs one JSON object per message to CLIENTELE_WEBHOOK_URL with the
same Idempotency-Key header and a signature made with CLIENTELE_WEBHOOK_SECRET.
"""

import abc
import contextlib
import hashlib
import http.client
import json
import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone, translation
from django.utils.translation import gettext

from . import signing
from .choices import Channel, DeliveryStatus

try:  # Unix: serialise appends of several worker processes to one file.
    import fcntl
except ImportError:  # Windows: O_APPEND alone keeps each batch's write in one piece.
    fcntl = None


@dataclass
class Outgoing:
    """The part of a claimed outbox row an adapter needs."""

    id: int
    channel: str
    customer_id: int
    recipient: str
    subject: str
    body: str
    dedup_key: str
    attempts: int
    marketing: bool


@dataclass
class SendResult:
    """What happened to one message: `ok`, or an error that is permanent or not."""

    ok: bool
    provider_id: str = ""
    error: str = ""
    permanent: bool = False
    delivery_status: str = ""
    retry_after: float | None = None


def _sent(provider_id: str = "") -> SendResult:
    return SendResult(ok=True, provider_id=provider_id[:200])


def _transient(error, retry_after: float | None = None) -> SendResult:
    return SendResult(ok=False, error=str(error)[:500], retry_after=retry_after)


def _permanent(error, delivery_status: str = DeliveryStatus.REJECTED) -> SendResult:
    return SendResult(
        ok=False, error=str(error)[:500], permanent=True, delivery_status=delivery_status
    )


class Adapter(abc.ABC):
    """Sends batches of messages of one channel."""

    channel: str = ""

    @abc.abstractmethod
    def send_batch(self, messages: list[Outgoing]) -> list[SendResult]:
        """One result per message, in the same order."""

    def close(self) -> None:  # noqa: B027  (adapters without connections need no close)
        """Release connections; the adapter may be used again afterwards."""


def email_body(message: Outgoing) -> str:
    """The body of a marketing e-mail ends with its unsubscribe link (unless the rendered
    body already carries it), in the organization's language."""
    if not message.marketing:
        return message.body
    url = signing.unsubscribe_url(message.customer_id, "email")
    if url in message.body:
        return message.body
    with translation.override(settings.LANGUAGE_CODE):
        footer = gettext("To stop receiving these e-mails, open %(url)s") % {"url": url}
    return f"{message.body}\n\n-- \n{footer}\n"


class FileAdapter(Adapter):
    """Appends one JSON line per message to <outbox dir>/<channel>.jsonl: the embedded
    default for SMS, e-mail and webhooks, and the print shop's file for direct mail.

    Each batch is one write followed by fsync before the rows are marked sent. A message
    that was claimed before (a worker died after writing it) is looked up by its key in
    the file first, so the file never holds a message twice."""

    def __init__(self, channel: str, directory: str | Path | None = None):
        self.channel = channel
        directory = directory or getattr(settings, "CLIENTELE_OUTBOX_DIR", None)
        self.directory = Path(directory or Path(settings.DATA_DIR) / "outbox")
        self.path = self.directory / f"{channel}.jsonl"
        self._seen: set[str] | None = None
        self._read_up_to = 0

    def _refresh_seen(self) -> set[str]:
        """Keys written so far, read incrementally (only once a retry shows up)."""
        if self._seen is None:
            self._seen = set()
        if not self.path.exists():
            return self._seen
        with self.path.open("rb") as handle:
            handle.seek(self._read_up_to)
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # another worker's write in progress; read it next time
                self._read_up_to += len(line)
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    self._seen.add(json.loads(line)["idempotency_key"])
        return self._seen

    def _line(self, message: Outgoing, at: str) -> str:
        record = {
            "idempotency_key": message.dedup_key,
            "channel": message.channel,
            "customer_id": message.customer_id,
            "to": message.recipient,
            "subject": message.subject,
            "text": email_body(message) if self.channel == Channel.EMAIL else message.body,
            "at": at,
        }
        return json.dumps(record, ensure_ascii=False)

    def send_batch(self, messages: list[Outgoing]) -> list[SendResult]:
        seen = None
        if any(message.attempts > 1 for message in messages):
            seen = self._refresh_seen()
        at = timezone.now().isoformat()
        lines = []
        for message in messages:
            if seen is not None and message.dedup_key in seen:
                continue
            lines.append(self._line(message, at))
        if lines:
            try:
                self._append(("\n".join(lines) + "\n").encode())
            except OSError as error:
                return [_transient(error) for _ in messages]
        return [_sent() for _ in messages]

    def _append(self, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock


class HttpClient:
    """A kept-alive HTTP(S) connection to one base URL. A request on a connection the
    server has closed meanwhile is sent once more on a new one: our POSTs carry idempotency
    keys, so repeating them is safe."""

    def __init__(self, url: str, timeout: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.base_path = parts.path.rstrip("/")
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.https:
            connection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        connection.connect()
        # http.client writes headers and body in separate sends; with Nagle's algorithm and
        # the server's delayed ACK every request would stall ~40 ms on a kept-alive socket.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, dict, bytes]:
        headers = {"Content-Type": "application/json", **headers}
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self._connect()
            try:
                self._connection.request("POST", self.base_path + path, body, headers)
                response = self._connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 1 and reused:
                    continue
                raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            response_headers = {k.lower(): v for k, v in response.getheaders()}
            if response_headers.get("connection", "").lower() == "close":
                self.close()
            return response.status, response_headers, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _retry_after(headers: dict) -> float | None:
    try:
        return float(headers.get("retry-after", ""))
    except ValueError:
        return None


def _error_text(status: int, data: bytes) -> str:
    try:
        detail = json.loads(data).get("error", "")
    except (ValueError, AttributeError):
        detail = data[:200].decode("utf-8", "replace")
    return f"HTTP {status}: {detail}".strip()


def _transient_status(status: int) -> bool:
    return status in (401, 403, 408, 409, 425, 429) or status >= 500


class SmsHttpAdapter(Adapter):
    """SMS through a gateway speaking the JSON protocol in this module's docstring."""

    channel = Channel.SMS

    def __init__(self, url: str, api_key: str = "", batch_size: int = 100, timeout: float = 10):
        self.client = HttpClient(url, timeout)
        self.api_key = api_key
        self.batch_size = max(1, int(batch_size))
        self.callback_url = ""
        if getattr(settings, "CLIENTELE_PUBLIC_URL", ""):
            self.callback_url = signing.public_url("/channels/receipts/")

    def _headers(self, key: str | None = None) -> dict:
        headers = {}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def _payload(self, message: Outgoing) -> dict:
        payload = {
            "to": message.recipient,
            "text": message.body,
            "idempotency_key": message.dedup_key,
        }
        if self.callback_url:
            payload["callback_url"] = self.callback_url
        return payload

    def send_batch(self, messages: list[Outgoing]) -> list[SendResult]:
        results = []
        for start in range(0, len(messages), self.batch_size):
            chunk = messages[start : start + self.batch_size]
            if self.batch_size == 1:
                results.append(self._send_one(chunk[0]))
            else:
                results.extend(self._send_many(chunk))
        return results

    def _send_one(self, message: Outgoing) -> SendResult:
        body = json.dumps(self._payload(message)).encode()
        try:
            status, headers, data = self.client.post(
                "/messages", body, self._headers(message.dedup_key)
            )
        except (OSError, http.client.HTTPException) as error:
            return _transient(error)
        if 200 <= status < 300:
            try:
                answer = json.loads(data)
            except ValueError:
                return _transient(_error_text(status, data))
            if answer.get("status") == "rejected":
                return _permanent(answer.get("error") or "rejected")
            return _sent(str(answer.get("id", "")))
        if _transient_status(status):
            return _transient(_error_text(status, data), _retry_after(headers))
        return _permanent(_error_text(status, data))

    def _send_many(self, chunk: list[Outgoing]) -> list[SendResult]:
        body = json.dumps({"messages": [self._payload(m) for m in chunk]}).encode()
        try:
            status, headers, data = self.client.post("/messages/batch", body, self._headers())
        except (OSError, http.client.HTTPException) as error:
            return [_transient(error) for _ in chunk]
        if not 200 <= status < 300:
            text = _error_text(status, data)
            if _transient_status(status):
                return [_transient(text, _retry_after(headers)) for _ in chunk]
            return [_permanent(text) for _ in chunk]
        try:
            answers = {a["idempotency_key"]: a for a in json.loads(data)["results"]}
        except (ValueError, KeyError, TypeError):
            return [_transient(_error_text(status, data)) for _ in chunk]
        results = []
        for message in chunk:
            answer = answers.get(message.dedup_key)
            if answer is None:
                results.append(_transient("the gateway returned no result for the message"))
            elif answer.get("status") == "rejected":
                results.append(_permanent(answer.get("error") or "rejected"))
            else:
                results.append(_sent(str(answer.get("id", ""))))
        return results

    def close(self) -> None:
        self.client.close()


class SmtpAdapter(Adapter):
    """E-mail through Django's SMTP backend, one connection per batch. Marketing mail
    carries an unsubscribe link and List-Unsubscribe headers (RFC 2369, one-click per
    RFC 8058). The Message-ID is derived from the dedup key, so a copy sent again after a
    crash has the same id and mail systems can recognise it; SMTP has no stronger
    idempotency than that."""

    channel = Channel.EMAIL

    def __init__(self, from_email: str | None = None, **connection_options):
        self.from_email = (
            from_email
            or getattr(settings, "CLIENTELE_EMAIL_FROM", "")
            or settings.DEFAULT_FROM_EMAIL
        )
        domain = parseaddr(self.from_email)[1].rpartition("@")[2] or "clientele.local"
        self.domain = domain
        self.connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            fail_silently=False,
            **connection_options,
        )

    def message_id(self, message: Outgoing) -> str:
        digest = hashlib.sha256(message.dedup_key.encode()).hexdigest()[:32]
        return f"<{digest}@{self.domain}>"

    def _email(self, message: Outgoing) -> EmailMessage:
        headers = {"Message-ID": self.message_id(message), "X-Clientele-Key": message.dedup_key}
        if message.marketing:
            url = signing.unsubscribe_url(message.customer_id, "email")
            headers["List-Unsubscribe"] = f"<{url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return EmailMessage(
            subject=message.subject,
            body=email_body(message),
            from_email=self.from_email,
            to=[message.recipient],
            headers=headers,
            connection=self.connection,
        )

    def send_batch(self, messages: list[Outgoing]) -> list[SendResult]:
        try:
            self.connection.open()
        except (OSError, smtplib.SMTPException) as error:
            self.connection.close()
            return [_transient(error) for _ in messages]
        results: list[SendResult] = []
        try:
            for index, message in enumerate(messages):
                try:
                    self.connection.send_messages([self._email(message)])
                    results.append(_sent(self.message_id(message)))
                except smtplib.SMTPRecipientsRefused as error:
                    code, text = next(iter(error.recipients.values()))
                    results.append(_smtp_error(code, text, bounce=True))
                except smtplib.SMTPResponseException as error:
                    results.append(_smtp_error(error.smtp_code, error.smtp_error))
                except ValueError as error:  # an address Django cannot encode
                    results.append(_permanent(error))
                except (smtplib.SMTPException, OSError) as error:
                    # The connection is gone: this and the rest of the batch wait for a retry.
                    results.extend(_transient(error) for _ in messages[index:])
                    break
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.close()
        return results


def _smtp_error(code: int, text, bounce: bool = False) -> SendResult:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    detail = f"SMTP {code}: {text}"
    if 500 <= code < 600:
        return _permanent(detail, DeliveryStatus.BOUNCED if bounce else DeliveryStatus.REJECTED)
    return _transient(detail)


class WebhookAdapter(Adapter):
    """POSTs each message as signed JSON to a URL (an app push service, a WeChat bridge).
    The receiver should answer 2xx, optionally with {"id": ...}, and honour the
    Idempotency-Key header."""

    channel = Channel.WEBHOOK

    def __init__(self, url: str, secret: str = "", timeout: float = 10):
        self.client = HttpClient(url, timeout)
        self.secret = secret

    def send_batch(self, messages: list[Outgoing]) -> list[SendResult]:
        return [self._send(message) for message in messages]

    def _send(self, message: Outgoing) -> SendResult:
        body = json.dumps(
            {
                "idempotency_key": message.dedup_key,
                "customer_id": message.customer_id,
                "recipient": message.recipient,
                "subject": message.subject,
                "body": message.body,
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Idempotency-Key": message.dedup_key}
        if self.secret:
            headers[signing.SIGNATURE_HEADER] = signing.sign(self.secret, body)
        try:
            status, headers, data = self.client.post("", body, headers)
        except (OSError, http.client.HTTPException) as error:
            return _transient(error)
        if 200 <= status < 300:
            try:
                provider_id = str(json.loads(data).get("id", "")) if data else ""
            except (ValueError, AttributeError):
                provider_id = ""
            return _sent(provider_id)
        if _transient_status(status):
            return _transient(_error_text(status, data), _retry_after(headers))
        return _permanent(_error_text(status, data))

    def close(self) -> None:
        self.client.close()


class CallListAdapter(Adapter):
    """Puts messages on the account managers' call lists: the row itself is the list item
    (status sent = on the list), so there is nothing to transmit. The call's result is
    recorded by the account manager as an Interaction."""

    channel = Channel.CALL_LIST

    def send_batch(self, messages: list[Outgoing]) -> list[SendResult]:
        return [_sent() for _ in messages]


def adapter_for(channel: str) -> Adapter:
    """The configured adapter of a channel (see the module docstring for the settings)."""
    if channel == Channel.SMS:
        url = getattr(settings, "CLIENTELE_SMS_URL", "")
        if url:
            return SmsHttpAdapter(
                url,
                api_key=getattr(settings, "CLIENTELE_SMS_API_KEY", ""),
                batch_size=getattr(settings, "CLIENTELE_SMS_BATCH_SIZE", 100),
                timeout=getattr(settings, "CLIENTELE_SMS_TIMEOUT", 10),
            )
        return FileAdapter(channel)
    if channel == Channel.EMAIL:
        if getattr(settings, "CLIENTELE_EMAIL_ADAPTER", "file") == "smtp":
            return SmtpAdapter()
        return FileAdapter(channel)
    if channel == Channel.WEBHOOK:
        url = getattr(settings, "CLIENTELE_WEBHOOK_URL", "")
        if url:
            return WebhookAdapter(url, secret=getattr(settings, "CLIENTELE_WEBHOOK_SECRET", ""))
        return FileAdapter(channel)
    if channel == Channel.CALL_LIST:
        return CallListAdapter()
    if channel == Channel.MAIL_EXPORT:
        return FileAdapter(channel)
    raise ValueError(f"unknown channel {channel!r}")
