"""Outbox operations shared by campaigns, views, the API and jobs: enqueue messages
(idempotently), cancel pending ones (the closed loop), record delivery receipts and bounces,
and record an unsubscribe.

Principle 5: a message is a row before it is sent. Enqueueing the same dedup key twice
inserts one row (the unique constraint decides, not a look-up first), so a campaign step
that is retried never queues a message twice."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientele.customers.choices import ConsentStatus
from clientele.customers.models import Consent

from . import bulk
from .choices import Channel, DeliveryStatus, MessageStatus
from .models import OutboxMessage

ENQUEUE_BATCH = 5000
# Consent.source of an opt-out made with the link in a message: a stored value that
# reports filter on, so it is not translated.
UNSUBSCRIBE_SOURCE = "unsubscribe link"
_CHANNELS = set(Channel.values)


@dataclass
class NewMessage:
    """A message to put in the outbox. Campaigns render subject and body before enqueueing,
    and supply the dedup key (task:wave:channel)."""

    channel: str
    customer_id: int
    recipient: str
    body: str
    dedup_key: str
    subject: str = ""
    campaign_id: int | None = None
    task_id: int | None = None
    wave: int | None = None
    marketing: bool = True
    priority: int = 0
    due_at: datetime.datetime | None = None


class EnqueueError(ValueError):
    """A message that cannot be queued, naming the row and the field."""

    def __init__(self, index: int, field: str, message):
        self.index, self.field = index, field
        super().__init__(
            _("Message %(index)s, %(field)s: %(message)s")
            % {"index": index + 1, "field": field, "message": message}
        )


def _row(index: int, message: NewMessage | dict, now) -> dict:
    if isinstance(message, dict):
        message = NewMessage(**message)
    if message.channel not in _CHANNELS:
        raise EnqueueError(
            index, "channel", _("unknown channel %(value)r") % {"value": message.channel}
        )
    if not message.dedup_key or len(message.dedup_key) > 200:
        raise EnqueueError(index, "dedup_key", _("must be 1 to 200 characters"))
    if not message.recipient:
        raise EnqueueError(index, "recipient", _("is empty"))
    if len(message.subject) > 200:
        raise EnqueueError(index, "subject", _("is longer than 200 characters"))
    due = message.due_at or now
    return {
        "channel": message.channel,
        "customer_id": message.customer_id,
        "recipient": message.recipient[:254],
        "subject": message.subject,
        "body": message.body,
        "dedup_key": message.dedup_key,
        "campaign_id": message.campaign_id,
        "task_id": message.task_id,
        "wave": message.wave,
        "marketing": message.marketing,
        "priority": message.priority,
        "due_at": due,
        "next_attempt_at": due,
    }


def enqueue(messages: Iterable[NewMessage | dict], *, batch_size: int = ENQUEUE_BATCH) -> int:
    """Put messages in the outbox; a dedup key already there is left alone (INSERT ... ON
    CONFLICT DO NOTHING, decided by the unique constraint). Returns how many rows this call
    added. One transaction: a bad message raises EnqueueError naming it, and nothing of
    the call is written."""
    now = timezone.now()
    added = 0
    iterator = iter(messages)
    offset = 0
    with transaction.atomic():
        while chunk := list(islice(iterator, batch_size)):
            rows = [_row(offset + i, message, now) for i, message in enumerate(chunk)]
            offset += len(chunk)
            added += bulk.insert(OutboxMessage, rows, ignore_conflicts_on="dedup_key")
    return added


def for_task(queryset, task_id: int):
    """The messages of `queryset` queued for one task. The outbox is indexed by (campaign,
    task, wave), so the task's campaign is looked up first to lead the search; a task that
    no longer exists is searched for by its id alone (a scan, for orphans only)."""
    from django.apps import apps

    task = apps.get_model("campaigns", "Task")  # campaigns depends on channels, not back
    campaign_id = task.objects.filter(pk=task_id).values_list("campaign_id", flat=True).first()
    if campaign_id is None:
        return queryset.filter(task_id=task_id)
    return queryset.filter(campaign_id=campaign_id, task_id=task_id)


def cancel_pending(condition: Q | None = None, **filters) -> int:
    """Cancel the pending messages matching `condition` / `filters` in one UPDATE (the
    closed loop: once a task is done, nothing more goes out for it). Messages a worker has
    already claimed are not touched: they may be at the provider already."""
    queryset = OutboxMessage.objects.filter(status=MessageStatus.PENDING)
    if condition is not None:
        queryset = queryset.filter(condition)
    return queryset.filter(**filters).update(
        status=MessageStatus.CANCELLED, updated_at=timezone.now()
    )


# Provider words for the outcome of a delivery, mapped to ours.
_RECEIPT_STATUS = {
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.UNDELIVERED,
    "expired": DeliveryStatus.UNDELIVERED,
    "bounced": DeliveryStatus.BOUNCED,
    "bounce": DeliveryStatus.BOUNCED,
    "rejected": DeliveryStatus.REJECTED,
}


def record_delivery(reports: Iterable[dict]) -> int:
    """Record delivery receipts and bounces. Each report names the message by
    `idempotency_key` (our dedup key) or `id` (the provider's message id) and gives a
    `status` (delivered, undelivered/failed/expired, bounced, rejected) and optionally an
    `error`. A receipt may arrive before the worker has marked the message sent, so the
    send status is left alone. Returns the number of messages updated; unknown statuses
    raise ValueError."""
    now = timezone.now()
    groups: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(
        lambda: {"keys": [], "ids": []}
    )
    for report in reports:
        status = _RECEIPT_STATUS.get(str(report.get("status", "")).lower())
        if status is None:
            raise ValueError(f"unknown delivery status {report.get('status')!r}")
        detail = str(report.get("error") or report.get("detail") or "")[:500]
        group = groups[(status, detail)]
        if report.get("idempotency_key"):
            group["keys"].append(str(report["idempotency_key"]))
        elif report.get("id"):
            group["ids"].append(str(report["id"]))
    updated = 0
    with transaction.atomic():
        for (status, detail), group in groups.items():
            condition = Q(dedup_key__in=group["keys"]) | Q(provider_message_id__in=group["ids"])
            updated += OutboxMessage.objects.filter(condition).update(
                delivery_status=status, delivery_detail=detail, delivered_at=now, updated_at=now
            )
    return updated


def record_opt_out(customer_id: int, channel: str, source: str) -> Consent:
    """Record that the customer opted out of a consent channel (an unsubscribe link, a STOP
    reply). The Consent row is audited like any other change; pending marketing messages
    are stopped by the dispatcher's last check before sending."""
    consent, _created = Consent.objects.update_or_create(
        customer_id=customer_id,
        channel=channel,
        defaults={
            "status": ConsentStatus.OPTED_OUT,
            "source": source[:100],
            "recorded_at": timezone.now(),
        },
    )
    return consent
