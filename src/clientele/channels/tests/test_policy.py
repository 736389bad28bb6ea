"""The contact policy: consent, do-not-disturb, addresses, frequency caps, quiet hours,
daily capacity and arbitration between campaigns, each suppression with its reason.
Every check runs on the small path (ids in the query) and on the big path (whole sets
intersected in numpy) with the same answer."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clientele.channels import policy as contact_policy
from clientele.channels import services
from clientele.channels.choices import MessageStatus, SuppressionAction, SuppressionReason
from clientele.channels.models import ChannelRule, OutboxMessage, SuppressionRecord
from clientele.channels.policy import admit, arbitrate, check_contact
from clientele.channels.services import NewMessage
from clientele.core.models import User
from clientele.customers.models import Consent, Customer

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2030, 3, 6, 12, 0, tzinfo=SHANGHAI)  # a Wednesday


@pytest.fixture(autouse=True)
def shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture(params=["small", "big"])
def path(request, monkeypatch):
    if request.param == "big":
        monkeypatch.setattr(contact_policy, "SMALL_SET", 0)
    return request.param


def _sent(customer_id, channel="sms", at=NOON, status=MessageStatus.SENT, key=None, **extra):
    OutboxMessage.objects.create(
        channel=channel,
        customer_id=customer_id,
        recipient="x",
        body="earlier",
        dedup_key=key or f"old:{customer_id}:{channel}:{at.isoformat()}:{status}",
        status=status,
        due_at=at,
        next_attempt_at=at,
        **extra,
    )


def test_consent_do_not_disturb_and_address(policy, make_customers, path):
    ids = make_customers(6)
    Consent.objects.create(customer_id=ids[0], channel="sms", status="opted_out")
    Consent.objects.create(customer_id=ids[1], channel="email", status="opted_out")
    Customer.objects.filter(pk=ids[2]).update(do_not_disturb=True)
    Customer.objects.filter(pk=ids[3]).update(phone="")
    decision = check_contact(ids, "sms", NOON)
    assert decision.allowed == [ids[1], ids[4], ids[5]]
    assert decision.suppressed == {
        SuppressionReason.OPTED_OUT: [ids[0]],
        SuppressionReason.DO_NOT_DISTURB: [ids[2]],
        SuppressionReason.NO_ADDRESS: [ids[3]],
    }
    assert decision.reason_of(ids[2]) == SuppressionReason.DO_NOT_DISTURB
    # A service message ignores marketing consent but still needs a phone number.
    service = check_contact(ids, "sms", NOON, marketing=False)
    assert service.suppressed == {SuppressionReason.NO_ADDRESS: [ids[3]]}


def test_require_opt_in(policy, make_customers, path):
    policy.require_opt_in = True
    policy.save()
    ids = make_customers(3)
    Consent.objects.create(customer_id=ids[0], channel="sms", status="opted_in")
    Consent.objects.create(customer_id=ids[1], channel="email", status="opted_in")
    decision = check_contact(ids, "sms", NOON, policy=policy)
    assert decision.allowed == [ids[0]]
    assert decision.suppressed == {SuppressionReason.NO_CONSENT: [ids[1], ids[2]]}


def test_frequency_caps_per_channel_and_across_channels(policy, make_customers, path):
    # Default rules: two marketing SMS and one call a week; four contacts in all.
    ids = make_customers(6)
    day = datetime.timedelta(days=1)
    _sent(ids[0], at=NOON - 2 * day)
    _sent(ids[0], at=NOON - 5 * day, status=MessageStatus.PENDING)  # queued counts too
    _sent(ids[1], at=NOON - 2 * day)
    _sent(ids[1], at=NOON - 8 * day)  # outside the week
    _sent(ids[2], at=NOON + 3 * day, status=MessageStatus.PENDING)  # next wave counts
    _sent(ids[2], at=NOON - 1 * day)
    _sent(ids[3], at=NOON - 1 * day, status=MessageStatus.CANCELLED)  # never sent
    _sent(ids[3], at=NOON - 1 * day, status=MessageStatus.FAILED, key="f")
    _sent(ids[3], at=NOON - 1 * day, marketing=False, key="service")  # not marketing
    for n, channel in enumerate(["email", "email", "webhook", "mail_export"]):
        _sent(ids[4], channel=channel, at=NOON - n * datetime.timedelta(hours=1), key=f"g{n}")
    decision = check_contact(ids, "sms", NOON)
    assert decision.allowed == [ids[1], ids[3], ids[5]]
    assert decision.suppressed == {SuppressionReason.FREQUENCY_CAP: [ids[0], ids[2], ids[4]]}
    calls = check_contact(ids, "call_list", NOON)
    assert calls.suppressed == {SuppressionReason.FREQUENCY_CAP: [ids[4]]}
    _sent(ids[5], channel="call_list", at=NOON - 6 * day)
    calls = check_contact(ids, "call_list", NOON)
    assert sorted(calls.suppressed[SuppressionReason.FREQUENCY_CAP]) == [ids[4], ids[5]]


def test_quiet_hours_defer_to_their_end_in_local_time(policy, make_customers):
    policy.quiet_hours_start = datetime.time(21, 0)
    policy.quiet_hours_end = datetime.time(8, 0)
    policy.save()
    ids = make_customers(2)
    late = datetime.datetime(2030, 3, 6, 22, 30, tzinfo=SHANGHAI)
    decision = check_contact(ids, "sms", late, policy=policy)
    assert decision.allowed == ids and not decision.suppressed
    assert decision.deferred
    assert decision.send_at == datetime.datetime(2030, 3, 7, 8, 0, tzinfo=SHANGHAI)
    early = datetime.datetime(2030, 3, 7, 6, 0, tzinfo=SHANGHAI)
    assert check_contact(ids, "sms", early, policy=policy).send_at == decision.send_at
    assert not check_contact(ids, "sms", NOON, policy=policy).deferred
    # A lunchtime quiet period that does not wrap midnight.
    policy.quiet_hours_start, policy.quiet_hours_end = datetime.time(12, 0), datetime.time(14, 0)
    lunch = check_contact(ids, "sms", NOON, policy=policy)
    assert lunch.send_at == NOON.replace(hour=14)
    # Service messages are not held.
    assert not check_contact(ids, "sms", NOON, policy=policy, marketing=False).deferred


def test_daily_capacity_serves_customers_in_the_order_given(policy, make_customers, path):
    ChannelRule.objects.filter(channel="call_list").update(daily_capacity=3, max_contacts=None)
    ids = make_customers(5)
    other = make_customers(1)[0]
    _sent(other, channel="call_list", at=NOON.replace(hour=9))  # one slot used today
    _sent(other, channel="call_list", at=NOON - datetime.timedelta(days=1), key="yesterday")
    ordered = [ids[4], ids[2], ids[0], ids[1], ids[3]]
    decision = check_contact(ordered, "call_list", NOON)
    assert decision.allowed == [ids[4], ids[2]]
    assert decision.suppressed == {SuppressionReason.CAPACITY: [ids[0], ids[1], ids[3]]}
    assert decision.retry_on == datetime.date(2030, 3, 7)


def test_each_account_manager_has_a_daily_call_capacity(policy, make_customers, path):
    ChannelRule.objects.filter(channel="call_list").update(
        manager_daily_capacity=2, daily_capacity=4, max_contacts=None
    )
    alice = User.objects.create(username="alice")
    bob = User.objects.create(username="bob")
    alices = make_customers(3, prefix="A", owner=alice)
    bobs = make_customers(3, prefix="B", owner=bob)
    nobody = make_customers(2, prefix="N")
    _sent(bobs[0], channel="call_list", at=NOON.replace(hour=9))  # Bob has one call today
    candidates = [alices[0], bobs[1], alices[1], nobody[0], alices[2], bobs[2], nobody[1]]
    decision = check_contact(candidates, "call_list", NOON)
    # Alice: 2 of 3; Bob: 1 left; no manager: the call centre. Then the channel's 4 - 1.
    assert decision.allowed == [alices[0], bobs[1], alices[1]]
    assert sorted(decision.suppressed[SuppressionReason.CAPACITY]) == sorted(
        [alices[2], bobs[2], nobody[0], nobody[1]]
    )


def test_admit_queues_the_allowed_and_records_the_rest(policy, make_customers):
    policy.quiet_hours_start = datetime.time(21, 0)
    policy.quiet_hours_end = datetime.time(8, 0)
    policy.save()
    ids = make_customers(3)
    Customer.objects.filter(pk=ids[1]).update(do_not_disturb=True)
    late = datetime.datetime(2030, 3, 6, 23, 0, tzinfo=SHANGHAI)
    messages = [
        NewMessage(
            channel="sms",
            customer_id=cid,
            recipient=f"+86{cid}",
            body="hi",
            dedup_key=f"{cid}:0:sms",
            task_id=100 + cid,
            campaign_id=9,
        )
        for cid in ids
    ]
    result = admit(messages, at=late)
    assert result.enqueued == 2
    assert result.suppressed == {SuppressionReason.DO_NOT_DISTURB: 1}
    due = set(OutboxMessage.objects.values_list("due_at", "next_attempt_at"))
    morning = datetime.datetime(2030, 3, 7, 8, 0, tzinfo=SHANGHAI)
    assert due == {(morning, morning)}
    record = SuppressionRecord.objects.get()
    assert (record.customer_id, record.reason, record.action) == (
        ids[1],
        SuppressionReason.DO_NOT_DISTURB,
        SuppressionAction.DROPPED,
    )
    assert (record.campaign_id, record.task_id, record.dedup_key) == (
        9,
        100 + ids[1],
        f"{ids[1]}:0:sms",
    )
    # Admitting again is idempotent for the queue; caps now see the queued rows.
    again = admit(messages, at=late)
    assert again.enqueued == 0


def test_admissions_fill_a_cap_once(policy, make_customers):
    ids = make_customers(1)

    def wave(n):
        return [
            NewMessage(
                channel="sms", customer_id=ids[0], recipient="+86", body="hi", dedup_key=f"w{n}"
            )
        ]

    assert [admit(wave(n), at=NOON).enqueued for n in range(4)] == [1, 1, 0, 0]
    assert SuppressionRecord.objects.filter(reason=SuppressionReason.FREQUENCY_CAP).count() == 2


def _campaign_rows(customer_id, campaign_id, at=NOON):
    _sent(
        customer_id,
        at=at,
        status=MessageStatus.PENDING,
        campaign_id=campaign_id,
        key=f"inc:{customer_id}:{campaign_id}:{at.isoformat()}",
    )


def test_arbitration_priority_decides_and_losers_wait_or_drop(policy, make_customers, path):
    c = make_customers(4)
    _campaign_rows(c[3], campaign_id=50)  # campaign 50 already contacts c3 today
    candidates = [
        (c[0], 1, 5),
        (c[0], 2, 9),  # higher priority wins c0
        (c[1], 1, 5),
        (c[1], 2, 5),  # a tie: the lower campaign id wins
        (c[2], 2, 1),  # alone
        (c[3], 1, 99),  # c3 is taken for today by campaign 50
        (c[3], 50, 1),  # campaign 50 itself (another channel) keeps its place
    ]
    result = arbitrate(candidates, day=NOON.date(), waiting_campaigns=[1])
    assert sorted(result.winners) == sorted([(c[0], 2), (c[1], 1), (c[2], 2), (c[3], 50)])
    assert sorted(result.waiting) == sorted([(c[0], 1), (c[3], 1)])
    assert result.dropped == [(c[1], 2)]
    assert result.retry_on == datetime.date(2030, 3, 7)
    records = SuppressionRecord.objects.filter(reason=SuppressionReason.ARBITRATION)
    assert records.count() == 3
    waiting = records.filter(action=SuppressionAction.WAITING)
    assert set(waiting.values_list("customer_id", "campaign_id")) == {(c[0], 1), (c[3], 1)}
    assert set(waiting.values_list("retry_on", flat=True)) == {datetime.date(2030, 3, 7)}


def test_arbitration_with_two_campaigns_a_day(policy, make_customers, path):
    policy.max_campaigns_per_day = 2
    policy.save()
    c = make_customers(2)
    _campaign_rows(c[1], campaign_id=50)
    yesterday = NOON - datetime.timedelta(days=1)
    _campaign_rows(c[0], campaign_id=51, at=yesterday)  # another day: no place taken
    candidates = [(c[0], 1, 1), (c[0], 2, 2), (c[0], 3, 3), (c[1], 1, 1), (c[1], 2, 2)]
    result = arbitrate(candidates, day=NOON.date(), policy=policy, record=False)
    assert sorted(result.winners) == sorted([(c[0], 3), (c[0], 2), (c[1], 2)])
    assert sorted(result.dropped) == sorted([(c[0], 1), (c[1], 1)])
    assert not SuppressionRecord.objects.exists()


def test_a_large_set_is_checked_without_a_query_per_customer(
    policy, make_customers, django_assert_max_num_queries
):
    ids = make_customers(3000)
    Consent.objects.create(customer_id=ids[10], channel="sms", status="opted_out")
    _sent(ids[20])
    _sent(ids[20], at=NOON - datetime.timedelta(days=1))
    with django_assert_max_num_queries(8):
        decision = check_contact(ids, "sms", NOON, policy=policy)
    assert len(decision.allowed) == 2998
    assert decision.suppressed == {
        SuppressionReason.OPTED_OUT: [ids[10]],
        SuppressionReason.FREQUENCY_CAP: [ids[20]],
    }
    with django_assert_max_num_queries(6):
        result = arbitrate([(cid, 1, 0) for cid in ids], day=NOON.date(), policy=policy)
    assert len(result.winners) == 3000


def test_cancelled_messages_free_their_place(policy, make_customers):
    ids = make_customers(1)
    for n in range(2):
        services.enqueue(
            [
                NewMessage(
                    channel="sms",
                    customer_id=ids[0],
                    recipient="+86",
                    body="x",
                    dedup_key=f"k{n}",
                    task_id=5,
                    due_at=timezone.now(),
                )
            ]
        )
    assert check_contact(ids, "sms").suppressed
    services.cancel_pending(task_id=5)
    assert check_contact(ids, "sms").allowed == ids
