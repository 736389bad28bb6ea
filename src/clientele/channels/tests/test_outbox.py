"""The outbox itself: a message is a row before it is sent, the dedup key makes enqueueing
idempotent, the closed loop cancels pending rows in one statement, and receipts land on
the right row."""

import pytest

from clientele.channels import services
from clientele.channels.choices import DeliveryStatus, MessageStatus
from clientele.channels.models import OutboxMessage
from clientele.channels.services import EnqueueError, NewMessage

pytestmark = pytest.mark.django_db


def _messages(customer_ids, task=1, wave=0, channel="sms"):
    return [
        NewMessage(
            channel=channel,
            customer_id=cid,
            recipient=f"+8613{cid:09d}",
            body=f"Hello {cid}",
            dedup_key=f"{task + i}:{wave}:{channel}",
            task_id=task + i,
            campaign_id=7,
            wave=wave,
        )
        for i, cid in enumerate(customer_ids)
    ]


def test_enqueue_twice_inserts_once(make_customers):
    ids = make_customers(3)
    assert services.enqueue(_messages(ids)) == 3
    assert services.enqueue(_messages(ids)) == 0
    assert OutboxMessage.objects.count() == 3
    row = OutboxMessage.objects.get(dedup_key="1:0:sms")
    assert row.status == MessageStatus.PENDING
    assert row.attempts == 0
    assert row.due_at == row.next_attempt_at


def test_enqueue_with_the_same_key_in_one_call_keeps_one_row(make_customers):
    ids = make_customers(1)
    message = _messages(ids)[0]
    assert services.enqueue([message, message]) == 1
    assert OutboxMessage.objects.count() == 1


def test_a_bad_message_names_its_row_and_field_and_nothing_is_written(make_customers):
    ids = make_customers(3)
    messages = _messages(ids)
    messages[2].channel = "pigeon"
    with pytest.raises(EnqueueError) as error:
        services.enqueue(messages, batch_size=2)
    assert error.value.index == 2 and error.value.field == "channel"
    assert "Message 3" in str(error.value)
    assert OutboxMessage.objects.count() == 0


def test_cancel_pending_touches_only_pending_rows_of_the_task(make_customers):
    ids = make_customers(3)
    services.enqueue(_messages(ids, channel="sms") + _messages(ids, channel="email"))
    OutboxMessage.objects.filter(dedup_key="1:0:email").update(status=MessageStatus.SENDING)
    cancelled = services.cancel_pending(task_id=1)
    assert cancelled == 1  # the SMS; the e-mail is in a worker's hands
    assert OutboxMessage.objects.get(dedup_key="1:0:sms").status == MessageStatus.CANCELLED
    assert OutboxMessage.objects.get(dedup_key="1:0:email").status == MessageStatus.SENDING
    assert OutboxMessage.objects.filter(status=MessageStatus.PENDING).count() == 4


def test_receipts_find_messages_by_key_or_provider_id(make_customers):
    ids = make_customers(2)
    services.enqueue(_messages(ids))
    OutboxMessage.objects.filter(dedup_key="2:0:sms").update(provider_message_id="p-2")
    updated = services.record_delivery(
        [
            {"idempotency_key": "1:0:sms", "status": "delivered"},
            {"id": "p-2", "status": "failed", "error": "handset off"},
        ]
    )
    assert updated == 2
    first = OutboxMessage.objects.get(dedup_key="1:0:sms")
    second = OutboxMessage.objects.get(dedup_key="2:0:sms")
    assert first.delivery_status == DeliveryStatus.DELIVERED and first.delivered_at
    assert second.delivery_status == DeliveryStatus.UNDELIVERED
    assert second.delivery_detail == "handset off"
    # The send status is the dispatcher's: a receipt before "sent" does not change it.
    assert first.status == MessageStatus.PENDING
    with pytest.raises(ValueError):
        services.record_delivery([{"idempotency_key": "1:0:sms", "status": "lost in space"}])
