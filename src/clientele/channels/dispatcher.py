"""The dispatcher: workers that drain the outbox.

A worker claims a batch of due rows in one statement (SELECT ... FOR UPDATE SKIP LOCKED
inside an UPDATE on PostgreSQL, so any number of workers on any number of machines take
disjoint batches; a conditional UPDATE ... RETURNING on SQLite, which has one writer),
moving them to `sending` under a lease. It sends them through the channel's adapter with
the dedup key as idempotency key, then in one transaction marks them sent (only if it
still holds the lease) and writes one Interaction per message on the customers'
timelines. A worker that dies leaves its rows in `sending`; when the lease runs out they
go back to `pending` and are sent again with the same key, which the provider recognises,
so a crash neither loses a message nor delivers it twice.

Transient errors are retried with exponential backoff; permanent ones fail the row with
the reason. Marketing messages are checked once more against opt-outs and do-not-disturb
just before sending (an unsubscribe may have arrived after the message was queued), and
are held back during quiet hours.
"""

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from clientele.customers.choices import ConsentStatus, Direction
from clientele.customers.models import Consent, Customer, Interaction

from . import bulk
from . import policy as contact_policy
from .adapters import Adapter, Outgoing, SendResult, adapter_for
from .choices import CONSENT_CHANNEL, INTERACTION_CHANNEL, MessageStatus, SuppressionReason
from .models import ContactPolicy, OutboxMessage, SuppressionRecord

logger = logging.getLogger("clientele.channels")

TABLE = OutboxMessage._meta.db_table
_RETURNING = (
    "id, channel, customer_id, recipient, subject, body, dedup_key, attempts, marketing, "
    "campaign_id, task_id"
)
# How long a cached copy of the contact policy (quiet hours, opt-in rule) is trusted.
POLICY_REFRESH_SECONDS = 30


@dataclass
class DispatchStats:
    """Counts of one batch or one run."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    lost_lease: int = 0
    released: int = 0

    def __iadd__(self, other: "DispatchStats") -> "DispatchStats":
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        return self


@dataclass
class _Claimed:
    message: Outgoing
    campaign_id: int | None
    task_id: int | None


class Dispatcher:
    """One worker. Each thread or process makes its own (a dispatcher holds adapter
    connections and runs on its thread's database connection)."""

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        batch_size: int | None = None,
        lease_seconds: float | None = None,
        channels: list[str] | None = None,
        adapters: dict[str, Adapter] | None = None,
        max_attempts: int | None = None,
        retry_base_seconds: float | None = None,
    ):
        self.worker_id = (
            worker_id or (f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")[:100]
        )
        self.batch_size = batch_size or getattr(settings, "CLIENTELE_OUTBOX_BATCH_SIZE", 500)
        self.lease = timedelta(
            seconds=lease_seconds or getattr(settings, "CLIENTELE_OUTBOX_LEASE_SECONDS", 120)
        )
        self.channels = sorted(channels) if channels else None
        self.max_attempts = max_attempts or getattr(settings, "CLIENTELE_OUTBOX_MAX_ATTEMPTS", 8)
        self.retry_base = retry_base_seconds or getattr(
            settings, "CLIENTELE_OUTBOX_RETRY_SECONDS", 30
        )
        self._adapters: dict[str, Adapter] = dict(adapters or {})
        self._policy: ContactPolicy | None = None
        self._policy_read_at = 0.0
        # Dead workers' leases are looked for every few seconds, not on every batch.
        self._release_every = min(5.0, self.lease.total_seconds() / 4)
        self._next_release = 0.0

    # --- configuration -------------------------------------------------------------
    def adapter(self, channel: str) -> Adapter:
        """The channel's adapter, created from the settings on first use and kept."""
        if channel not in self._adapters:
            self._adapters[channel] = adapter_for(channel)
        return self._adapters[channel]

    def policy(self) -> ContactPolicy:
        """The contact policy, re-read every POLICY_REFRESH_SECONDS."""
        if self._policy is None or time.monotonic() - self._policy_read_at > POLICY_REFRESH_SECONDS:
            self._policy = ContactPolicy.current()
            self._policy_read_at = time.monotonic()
        return self._policy

    def close(self) -> None:
        """Close the adapters' connections."""
        for adapter in self._adapters.values():
            adapter.close()

    # --- claiming ------------------------------------------------------------------
    def release_expired_leases(self, now=None) -> int:
        """Put rows of workers that died back in line; a row that has used up its attempts
        fails instead, so a message that kills its worker cannot loop for ever."""
        now = now or timezone.now()
        expired = OutboxMessage.objects.filter(status=MessageStatus.SENDING, claimed_until__lt=now)
        failed = expired.filter(attempts__gte=self.max_attempts).update(
            status=MessageStatus.FAILED,
            claimed_by="",
            claimed_until=None,
            error="the worker's lease ran out on the last attempt",
            updated_at=now,
        )
        released = expired.update(
            status=MessageStatus.PENDING,
            claimed_by="",
            claimed_until=None,
            next_attempt_at=now,
            updated_at=now,
        )
        return released + failed

    def claim(self, now=None) -> list[_Claimed]:
        """Claim up to batch_size due rows for this worker, in one statement."""
        now = now or timezone.now()
        adapt = connection.ops.adapt_datetimefield_value
        where = ["status = %s", "next_attempt_at <= %s"]
        params: list = [MessageStatus.PENDING, adapt(now)]
        if self.channels:
            where.append(f"channel IN ({', '.join(['%s'] * len(self.channels))})")
            params.extend(self.channels)
        if contact_policy.quiet_hours_end(self.policy(), now) is not None:
            # Quiet hours: marketing waits in the outbox until they end; service messages
            # (an order confirmation) still go.
            where.append("marketing = %s")
            params.append(False)
        select = (
            f"SELECT id FROM {TABLE} WHERE {' AND '.join(where)} ORDER BY next_attempt_at LIMIT %s"
        )
        params.append(self.batch_size)
        assignment = (
            "status = %s, claimed_by = %s, claimed_until = %s, attempts = attempts + 1, "
            "updated_at = %s"
        )
        assign_params = [
            MessageStatus.SENDING,
            self.worker_id,
            adapt(now + self.lease),
            adapt(now),
        ]
        if connection.vendor == "postgresql":
            sql = (
                f"WITH batch AS ({select} FOR UPDATE SKIP LOCKED) "
                f"UPDATE {TABLE} SET {assignment} FROM batch WHERE {TABLE}.id = batch.id "
                f"RETURNING {', '.join(f'{TABLE}.{c.strip()}' for c in _RETURNING.split(','))}"
            )
            all_params = params + assign_params
        else:
            # SQLite: one writer at a time, so the conditional UPDATE is the whole claim.
            sql = (
                f"UPDATE {TABLE} SET {assignment} WHERE id IN ({select}) AND status = %s "
                f"RETURNING {_RETURNING}"
            )
            all_params = assign_params + params + [MessageStatus.PENDING]
        with connection.cursor() as cursor:
            cursor.execute(sql, all_params)
            rows = cursor.fetchall()
        return [
            _Claimed(
                Outgoing(
                    id=row[0],
                    channel=row[1],
                    customer_id=row[2],
                    recipient=row[3],
                    subject=row[4],
                    body=row[5],
                    dedup_key=row[6],
                    attempts=row[7],
                    marketing=bool(row[8]),
                ),
                campaign_id=row[9],
                task_id=row[10],
            )
            for row in rows
        ]

    # --- one batch -----------------------------------------------------------------
    def dispatch_batch(self) -> DispatchStats:
        """Claim, check, send and record one batch."""
        now = timezone.now()
        stats = DispatchStats()
        if time.monotonic() >= self._next_release:
            stats.released = self.release_expired_leases(now)
            self._next_release = time.monotonic() + self._release_every
        claimed = self.claim(now)
        stats.claimed = len(claimed)
        if not claimed:
            return stats
        to_send, suppressed = self._last_check(claimed)
        outcomes: list[tuple[_Claimed, SendResult]] = []
        by_channel: dict[str, list[_Claimed]] = defaultdict(list)
        for item in to_send:
            by_channel[item.message.channel].append(item)
        for channel, items in by_channel.items():
            messages = [item.message for item in items]
            try:
                results = self.adapter(channel).send_batch(messages)
            except Exception as error:  # an adapter bug must not strand the batch
                logger.exception("adapter %s failed", channel)
                results = [SendResult(ok=False, error=f"adapter error: {error}"[:500])] * len(
                    messages
                )
            outcomes.extend(zip(items, results, strict=True))
        self._record(outcomes, suppressed, stats)
        return stats

    def _last_check(self, claimed: list[_Claimed]):
        """Opt-outs and do-not-disturb as they are now, for the batch's marketing rows."""
        if not any(item.message.marketing for item in claimed):
            return claimed, []
        # The batch is "the marketing rows this worker holds": a subquery of one parameter
        # instead of a thousand ids.
        customers = OutboxMessage.objects.filter(
            status=MessageStatus.SENDING, claimed_by=self.worker_id, marketing=True
        ).values("customer_id")
        consents = Consent.objects.filter(customer_id__in=customers).values_list(
            "customer_id", "channel", "status"
        )
        opted_out, opted_in = set(), set()
        for customer_id, channel, status in consents:
            target = opted_out if status == ConsentStatus.OPTED_OUT else opted_in
            target.add((customer_id, channel))
        quiet = set(
            Customer.objects.filter(id__in=customers, do_not_disturb=True).values_list(
                "id", flat=True
            )
        )
        require_opt_in = self.policy().require_opt_in
        to_send, suppressed = [], []
        for item in claimed:
            message = item.message
            reason = None
            if message.marketing:
                key = (message.customer_id, CONSENT_CHANNEL[message.channel])
                if key in opted_out:
                    reason = SuppressionReason.OPTED_OUT
                elif require_opt_in and key not in opted_in:
                    reason = SuppressionReason.NO_CONSENT
                elif message.customer_id in quiet:
                    reason = SuppressionReason.DO_NOT_DISTURB
            if reason is None:
                to_send.append(item)
            else:
                suppressed.append((item, reason))
        return to_send, suppressed

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        delay = min(3600.0, self.retry_base * 2 ** max(0, attempts - 1))
        return max(delay, retry_after or 0.0)

    def _record(self, outcomes, suppressed, stats: DispatchStats) -> None:
        now = timezone.now()
        sent = [(item, result) for item, result in outcomes if result.ok]
        retry: dict[tuple, list[int]] = defaultdict(list)
        fail: dict[tuple, list[int]] = defaultdict(list)
        # One jitter per batch keeps the retry groups few, while different workers'
        # batches still spread out.
        jitter = random.uniform(0.8, 1.2)
        for item, result in outcomes:
            if result.ok:
                continue
            attempts = item.message.attempts
            if result.permanent or attempts >= self.max_attempts:
                error = result.error
                if not result.permanent:
                    error = f"gave up after {attempts} attempts: {error}"[:500]
                fail[(error, result.delivery_status)].append(item.message.id)
            else:
                delay = self._backoff(attempts, result.retry_after) * jitter
                retry[(result.error, round(delay))].append(item.message.id)
        mine = OutboxMessage.objects.filter(status=MessageStatus.SENDING, claimed_by=self.worker_id)
        released = {"claimed_by": "", "claimed_until": None, "updated_at": now}
        with transaction.atomic():
            sent_ids = self._mark_sent(sent, now)
            stats.sent += len(sent_ids)
            stats.lost_lease += len(sent) - len(sent_ids)
            self._write_interactions([item for item, _ in sent if item.message.id in sent_ids], now)
            for (error, delay), ids in retry.items():
                stats.retried += mine.filter(id__in=ids).update(
                    status=MessageStatus.PENDING,
                    next_attempt_at=now + timedelta(seconds=delay),
                    error=error,
                    **released,
                )
            for (error, delivery_status), ids in fail.items():
                stats.failed += mine.filter(id__in=ids).update(
                    status=MessageStatus.FAILED,
                    error=error,
                    delivery_status=delivery_status,
                    **released,
                )
            by_reason: dict[str, list[_Claimed]] = defaultdict(list)
            for item, reason in suppressed:
                by_reason[reason].append(item)
            for reason, items in by_reason.items():
                ids = [item.message.id for item in items]
                stats.suppressed += mine.filter(id__in=ids).update(
                    status=MessageStatus.SUPPRESSED, error=str(reason.label), **released
                )
            if suppressed:
                SuppressionRecord.objects.bulk_create(
                    SuppressionRecord(
                        customer_id=item.message.customer_id,
                        channel=item.message.channel,
                        reason=reason,
                        at=now,
                        campaign_id=item.campaign_id,
                        task_id=item.task_id,
                        dedup_key=item.message.dedup_key,
                    )
                    for item, reason in suppressed
                )

    def _mark_sent(self, sent: list[tuple[_Claimed, SendResult]], now) -> set[int]:
        """Mark rows sent with their provider ids, only where this worker still holds the
        claim; returns the ids it marked."""
        if not sent:
            return set()
        adapt = connection.ops.adapt_datetimefield_value
        ids = [item.message.id for item, _result in sent]
        provider_ids = [result.provider_id for _item, result in sent]
        if connection.vendor == "postgresql":
            # Two array parameters rather than a VALUES list of thousands of them.
            pairs = "SELECT * FROM unnest(%s::bigint[], %s::varchar[])"
            params: list = [ids, provider_ids]
        else:
            pairs = "VALUES " + ", ".join(["(%s, %s)"] * len(sent))
            params = [value for pair in zip(ids, provider_ids, strict=True) for value in pair]
        sql = (
            f"WITH v(mid, pid) AS ({pairs}) "
            f"UPDATE {TABLE} SET status = %s, provider_message_id = v.pid, sent_at = %s, "
            f"claimed_by = '', claimed_until = NULL, error = '', updated_at = %s "
            f"FROM v WHERE {TABLE}.id = v.mid AND {TABLE}.status = %s "
            f"AND {TABLE}.claimed_by = %s RETURNING id"
        )
        params.extend(
            [MessageStatus.SENT, adapt(now), adapt(now), MessageStatus.SENDING, self.worker_id]
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {row[0] for row in cursor.fetchall()}

    def _write_interactions(self, items: list[_Claimed], now) -> None:
        """Every sent message becomes an Interaction on the customer's timeline, in the same
        transaction as its "sent" mark: both or neither survive a crash."""
        rows = [
            {
                "customer_id": item.message.customer_id,
                "channel": INTERACTION_CHANNEL[item.message.channel],
                "direction": Direction.OUTBOUND,
                "occurred_at": now,
                "subject": (item.message.subject or item.message.body)[:200],
            }
            for item in items
            if item.message.channel in INTERACTION_CHANNEL
        ]
        bulk.insert(Interaction, rows)

    # --- the loop ------------------------------------------------------------------
    def outstanding(self) -> int:
        """Rows still to be sent (pending or in a worker's hands) on this worker's channels."""
        queryset = OutboxMessage.objects.filter(
            status__in=[MessageStatus.PENDING, MessageStatus.SENDING]
        )
        if self.channels:
            queryset = queryset.filter(channel__in=self.channels)
        return queryset.count()

    def run(
        self,
        *,
        stop_when: str | None = None,
        max_seconds: float | None = None,
        idle_sleep: float = 1.0,
        stop: threading.Event | None = None,
    ) -> DispatchStats:
        """Dispatch batches until `stop` is set, `max_seconds` pass, or `stop_when` is met:
        "idle" (nothing due right now) or "done" (nothing pending or sending at all, so
        rows of a dead worker are waited for until their lease runs out)."""
        stop = stop or threading.Event()
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        total = DispatchStats()
        try:
            while not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                try:
                    batch = self.dispatch_batch()
                except DatabaseError:
                    # The database restarted or the connection dropped: rows claimed in
                    # this batch come back when their lease runs out.
                    logger.exception("dispatcher %s: database error", self.worker_id)
                    close_old_connections()
                    connection.close()
                    stop.wait(idle_sleep)
                    continue
                total += batch
                if batch.claimed:
                    continue
                if stop_when == "idle" or (stop_when == "done" and not self.outstanding()):
                    break
                stop.wait(idle_sleep)
        finally:
            self.close()
        return total
