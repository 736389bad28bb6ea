"""Signatures at the edges of the channels: unsubscribe links that cannot be forged or
guessed, and HMAC signatures on webhooks and on the delivery receipts providers post back.
"""

import hashlib
import hmac
import time

from django.conf import settings
from django.core import signing
from django.urls import NoReverseMatch, reverse

UNSUBSCRIBE_SALT = "clientele.channels.unsubscribe"
SIGNATURE_HEADER = "X-Clientele-Signature"
# A receipt or webhook older than this is refused, so a captured request cannot be replayed
# days later.
SIGNATURE_TOLERANCE_SECONDS = 300


def unsubscribe_token(customer_id: int, channel: str = "email") -> str:
    """A token naming the customer and channel, signed with SECRET_KEY. It carries no
    time and never expires: an unsubscribe link in an old e-mail must still work, and
    every message to the customer carries the same link."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object([int(customer_id), channel])


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(customer id, channel) from a token; raises signing.BadSignature if forged."""
    value = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    if not isinstance(value, list) or len(value) != 2:
        raise signing.BadSignature("malformed unsubscribe token")
    return int(value[0]), str(value[1])


def public_url(path: str) -> str:
    """An absolute URL for links that leave the application (e-mails, provider callbacks)."""
    base = getattr(settings, "CLIENTELE_PUBLIC_URL", "http://localhost:8000")
    return base.rstrip("/") + path


def unsubscribe_url(customer_id: int, channel: str = "email") -> str:
    token = unsubscribe_token(customer_id, channel)
    try:
        path = reverse("channels:unsubscribe", args=[token])
    except NoReverseMatch:
        # The channel URLs are mounted at /channels/ by clientele.urls; a worker process may
        # render e-mails before the URL configuration is loaded with them.
        path = f"/channels/unsubscribe/{token}/"
    return public_url(path)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """True if the header signs the body with the secret and is recent enough."""
    if not secret or not header:
        return False
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
