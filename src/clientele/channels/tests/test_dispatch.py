"""The dispatcher against the local adapters: what is sent is marked sent once and becomes
an Interaction; transient errors retry with backoff, permanent ones fail with the reason;
a worker that dies before marking its batch is replaced after its lease, and the
idempotency key keeps the provider (and the file) from delivering twice."""

import datetime
import json

import pytest
from django.utils import timezone

from clientele.channels import services
from clientele.channels.adapters import FileAdapter, SmsHttpAdapter
from clientele.channels.choices import DeliveryStatus, MessageStatus, SuppressionReason
from clientele.channels.dispatcher import Dispatcher
from clientele.channels.models import OutboxMessage, SuppressionRecord
from clientele.channels.services import NewMessage
from clientele.customers.models import Consent, Customer, Interaction

pytestmark = pytest.mark.django_db


def _enqueue(customer_ids, channel="sms", marketing=True, prefix="t"):
    return services.enqueue(
        NewMessage(
            channel=channel,
            customer_id=cid,
            recipient=f"+86138{cid:08d}" if channel == "sms" else f"c{cid}@example.com",
            subject=f"Offer {cid}",
            body=f"Hello {cid}",
            dedup_key=f"{prefix}{cid}:0:{channel}",
            marketing=marketing,
        )
        for cid in customer_ids
    )


def _drain(dispatcher):
    return dispatcher.run(stop_when="idle", idle_sleep=0)


def test_file_adapter_writes_each_message_once_and_the_timeline_shows_it(
    policy, make_customers, outbox_dir
):
    ids = make_customers(25)
    _enqueue(ids)
    stats = _drain(Dispatcher(batch_size=10))
    assert stats.sent == 25 and stats.claimed == 25
    lines = [json.loads(line) for line in (outbox_dir / "sms.jsonl").read_text().splitlines()]
    assert len(lines) == 25
    assert len({line["idempotency_key"] for line in lines}) == 25
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert not OutboxMessage.objects.filter(sent_at=None).exists()
    interactions = Interaction.objects.filter(channel="sms", direction="out")
    assert interactions.count() == 25
    assert interactions.filter(customer_id=ids[0]).get().subject == f"Offer {ids[0]}"


def test_sms_over_http_carries_the_key_and_records_the_provider_id(
    policy, make_customers, gateway, settings
):
    settings.CLIENTELE_SMS_URL = gateway.url
    ids = make_customers(7)
    _enqueue(ids)
    for batch_size in (1, 3):  # the single-message and the batch endpoint
        settings.CLIENTELE_SMS_BATCH_SIZE = batch_size
        OutboxMessage.objects.update(status=MessageStatus.PENDING)
        _drain(Dispatcher())
    # Each message went out twice (once per endpoint), but the key made the second a no-op.
    assert gateway.sent_count == 7
    assert gateway.duplicates == 7
    row = OutboxMessage.objects.get(customer_id=ids[0])
    assert row.provider_message_id == gateway.delivered[row.dedup_key]["id"]
    assert gateway.delivered[row.dedup_key]["text"] == f"Hello {ids[0]}"


def test_transient_errors_retry_with_backoff_then_succeed(
    policy, make_customers, gateway, settings
):
    settings.CLIENTELE_SMS_URL = gateway.url
    ids = make_customers(4)
    _enqueue(ids)
    gateway.fail_requests = 1
    dispatcher = Dispatcher(retry_base_seconds=30)
    stats = dispatcher.dispatch_batch()
    assert stats.retried == 4 and stats.sent == 0
    row = OutboxMessage.objects.get(customer_id=ids[0])
    assert row.status == MessageStatus.PENDING and row.attempts == 1
    assert "503" in row.error
    assert row.next_attempt_at > timezone.now() + datetime.timedelta(seconds=20)
    assert dispatcher.dispatch_batch().claimed == 0  # not due yet
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert dispatcher.dispatch_batch().sent == 4
    assert gateway.sent_count == 4
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {2}


def test_permanent_errors_and_exhausted_attempts_fail_with_the_reason(
    policy, make_customers, gateway, settings
):
    settings.CLIENTELE_SMS_URL = gateway.url
    ids = make_customers(2)
    _enqueue(ids)
    bad = Customer.objects.get(pk=ids[0])
    gateway.reject_numbers.add(f"+86138{bad.pk:08d}")
    stats = _drain(Dispatcher())
    assert stats.failed == 1 and stats.sent == 1
    row = OutboxMessage.objects.get(customer_id=bad.pk)
    assert row.status == MessageStatus.FAILED
    assert row.error == "invalid number"
    assert row.delivery_status == DeliveryStatus.REJECTED
    assert not Interaction.objects.filter(customer_id=bad.pk).exists()

    _enqueue(ids, prefix="again")
    gateway.fail_requests = 100
    dispatcher = Dispatcher(max_attempts=2)
    dispatcher.dispatch_batch()
    OutboxMessage.objects.filter(status=MessageStatus.PENDING).update(
        next_attempt_at=timezone.now()
    )
    assert dispatcher.dispatch_batch().failed == 2
    assert OutboxMessage.objects.filter(error__startswith="gave up after 2 attempts").count() == 2


def test_a_crash_after_sending_is_recovered_without_sending_twice(
    policy, make_customers, gateway, settings
):
    """The worst moment: the provider has the messages, the worker dies before marking
    them sent. After the lease, another worker sends them again with the same keys."""
    settings.CLIENTELE_SMS_URL = gateway.url
    ids = make_customers(5)
    _enqueue(ids)
    doomed = Dispatcher(worker_id="doomed", lease_seconds=30)
    claimed = doomed.claim()
    doomed.adapter("sms").send_batch([item.message for item in claimed])  # then it dies
    assert gateway.sent_count == 5
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENDING}

    rescuer = Dispatcher(worker_id="rescuer")
    assert rescuer.dispatch_batch().claimed == 0  # the lease still holds
    later = timezone.now() + datetime.timedelta(seconds=31)
    assert rescuer.release_expired_leases(later) == 5
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert _drain(rescuer).sent == 5
    assert gateway.sent_count == 5 and gateway.duplicates == 5
    assert Interaction.objects.count() == 5
    # The dead worker's late answer finds the rows are no longer its own.
    assert doomed._mark_sent([(item, _ok()) for item in claimed], timezone.now()) == set()


def _ok():
    from clientele.channels.adapters import SendResult

    return SendResult(ok=True, provider_id="late")


def test_the_file_adapter_does_not_write_a_reclaimed_message_twice(
    policy, make_customers, outbox_dir
):
    ids = make_customers(3)
    _enqueue(ids)
    doomed = Dispatcher(worker_id="doomed", lease_seconds=30)
    claimed = doomed.claim()
    FileAdapter("sms").send_batch([item.message for item in claimed])
    rescuer = Dispatcher(worker_id="rescuer")
    rescuer.release_expired_leases(timezone.now() + datetime.timedelta(seconds=31))
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert _drain(rescuer).sent == 3
    lines = (outbox_dir / "sms.jsonl").read_text().splitlines()
    assert len(lines) == 3


def test_an_opt_out_after_queueing_suppresses_the_message_at_send_time(
    policy, make_customers, outbox_dir
):
    ids = make_customers(3)
    _enqueue(ids)
    _enqueue(ids[:1], marketing=False, prefix="receipt")  # a service message still goes
    services.record_opt_out(ids[0], "sms", source="STOP reply")
    Customer.objects.filter(pk=ids[1]).update(do_not_disturb=True)
    stats = _drain(Dispatcher())
    assert stats.sent == 2 and stats.suppressed == 2
    suppressed = OutboxMessage.objects.filter(status=MessageStatus.SUPPRESSED)
    assert set(suppressed.values_list("customer_id", flat=True)) == {ids[0], ids[1]}
    reasons = dict(SuppressionRecord.objects.values_list("customer_id", "reason"))
    assert reasons == {
        ids[0]: SuppressionReason.OPTED_OUT,
        ids[1]: SuppressionReason.DO_NOT_DISTURB,
    }
    assert SuppressionRecord.objects.get(customer_id=ids[0]).dedup_key == f"t{ids[0]}:0:sms"
    assert Consent.objects.get(customer_id=ids[0]).source == "STOP reply"


def test_quiet_hours_hold_marketing_but_not_service_messages(
    policy, make_customers, outbox_dir, settings
):
    settings.TIME_ZONE = "Asia/Shanghai"
    policy.quiet_hours_start = datetime.time(21, 0)
    policy.quiet_hours_end = datetime.time(8, 0)
    policy.save()
    ids = make_customers(2)
    _enqueue(ids[:1])
    _enqueue(ids[1:], marketing=False)
    night = datetime.datetime(
        2030, 1, 1, 23, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
    )
    OutboxMessage.objects.update(next_attempt_at=night - datetime.timedelta(hours=1))
    claimed = Dispatcher().claim(now=night)
    assert [item.message.customer_id for item in claimed] == [ids[1]]
    morning = night + datetime.timedelta(hours=9, minutes=1)
    claimed = Dispatcher().claim(now=morning)
    assert [item.message.customer_id for item in claimed] == [ids[0]]


def test_only_the_worker_channels_are_claimed(policy, make_customers, outbox_dir):
    ids = make_customers(2)
    _enqueue(ids, channel="sms")
    _enqueue(ids, channel="email")
    stats = _drain(Dispatcher(channels=["email"]))
    assert stats.sent == 2
    assert OutboxMessage.objects.filter(channel="sms", status=MessageStatus.PENDING).count() == 2
    # E-mail sent by the file adapter carries the unsubscribe link.
    line = json.loads((outbox_dir / "email.jsonl").read_text().splitlines()[0])
    assert "/channels/unsubscribe/" in line["text"]


def test_the_drain_job_sends_what_is_due(policy, make_customers, outbox_dir):
    from clientele.channels.tasks import drain_outbox, drain_outbox_every_minute

    ids = make_customers(3)
    _enqueue(ids)
    result = drain_outbox.call_local(max_seconds=30)
    assert result["sent"] == 3
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == 3
    _enqueue(ids, prefix="later")
    assert drain_outbox_every_minute.call_local()["sent"] == 3


def test_the_sms_adapter_treats_a_refused_api_key_as_transient(make_customers, gateway):
    gateway.api_key = "right"
    adapter = SmsHttpAdapter(gateway.url, api_key="wrong")
    from clientele.channels.adapters import Outgoing

    message = Outgoing(1, "sms", 1, "+8613800000000", "", "hi", "k1", 1, True)
    result = adapter.send_batch([message])[0]
    assert not result.ok and not result.permanent and "401" in result.error
    adapter = SmsHttpAdapter(gateway.url, api_key="right", batch_size=1)
    assert adapter.send_batch([message])[0].ok
