"""Lock-out after repeated failed logins, per user name and per client address.

Counted in the database (not the cache) so every web process of a deployment shares it.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import LoginFailure


def _keys(username: str, address: str) -> list[str]:
    keys = [f"user:{(username or '').strip().lower()}"]
    if address:
        keys.append(f"addr:{address}")
    return keys


def locked_until(username: str, address: str) -> datetime.datetime | None:
    """When the lock on this user name or address ends, or None if not locked."""
    now = timezone.now()
    row = (
        LoginFailure.objects.filter(key__in=_keys(username, address), locked_until__gt=now)
        .order_by("-locked_until")
        .first()
    )
    return row.locked_until if row else None


@transaction.atomic
def record_failure(username: str, address: str) -> None:
    now = timezone.now()
    window = datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    for key in _keys(username, address):
        row, created = LoginFailure.objects.select_for_update().get_or_create(
            key=key, defaults={"count": 0, "last_failure_at": now}
        )
        # Failures older than the lock window are forgotten: a typo last week is no threat.
        if not created and now - row.last_failure_at > window:
            row.count = 0
            row.save(update_fields=["count"])
        LoginFailure.objects.filter(pk=row.pk).update(count=F("count") + 1, last_failure_at=now)
        row.refresh_from_db()
        # Addresses get a higher limit: an office behind one NAT shares one address.
        limit = settings.LOGIN_FAILURE_LIMIT * (1 if key.startswith("user:") else 4)
        if row.count >= limit:
            row.locked_until = now + window
            row.save(update_fields=["locked_until"])


def clear(username: str) -> None:
    LoginFailure.objects.filter(key__in=_keys(username, "")).delete()
