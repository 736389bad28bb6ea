"""The demo company's worked campaign examples (issue 4, point 10), each with a holdout
and results to look at from the first sign-in.

1. The seed's 11.11 second-marketing journey (SEEDS.md section 5): customers who spent at
   least 299 on last year's 11.11 get a thank-you SMS with a coupon on 11.12, a care
   message on day 3 chosen by the category they bought most, and non-returners are
   stimulated again every month, five waves in all, each evaluated 10 days after it.
2. A retention campaign with an eligibility-limited offer (SEEDS.md section 4): at-risk
   customers are called by their account managers with "prepay 1,000, get 1,500", an
   offer that only VIP members may take, with a budget; it runs now, so the call lists
   and the store and hotline pop-up have open tasks.

The campaigns run through the real machinery (build with holdout and eligibility, the
contact policy, waves into the outbox, the closed loop) at the moments they would have
run. What no machine can produce is the customers' answer, so the demo writes it: the
outbox rows of a past wave are marked sent at the wave's time, and a seeded share of the
treated customers respond to each wave with an order (or, for the retention campaign,
an answer on the call), on top of the orders the generator gave everyone, holdout
included. The results pages then show a real uplift against a real natural rate.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import Max

from clientele.campaigns import services as campaign_services
from clientele.campaigns.building import finish
from clientele.campaigns.choices import AudienceKind, CampaignStatus, StopCondition, TaskStatus
from clientele.campaigns.models import Campaign, CampaignTarget, Offer, Task, Wave
from clientele.campaigns.tasks import step
from clientele.catalog.models import Product
from clientele.channels.choices import MessageStatus
from clientele.channels.models import OutboxMessage
from clientele.core.money import round_money
from clientele.sales.models import VALUE_STATUSES, Order, OrderLine

JOURNEY = "双十一二次营销"
RETENTION = "流失风险客户挽回"
# Extra response of the treated to each wave, on top of the natural repurchase rate.
JOURNEY_LIFT = {1: 0.06, 2: 0.02, 3: 0.03, 4: 0.025, 5: 0.02}
SOURCE = "demo-campaigns"


def _local(day: dt.date, hour: int = 10) -> dt.datetime:
    zone = ZoneInfo(settings.TIME_ZONE)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=zone)


def last_double_eleven(today: dt.date) -> dt.date:
    """The most recent 11.11 whose whole journey (90 days and 10 more) lies in the past."""
    year = (
        today.year
        if today >= dt.date(today.year, 11, 11) + dt.timedelta(days=101)
        else today.year - 1
    )
    return dt.date(year, 11, 11)


def _mark_sent(campaign: Campaign, at: dt.datetime) -> int:
    """The demo's stand-in for the hours after a past wave: its messages went out."""
    return OutboxMessage.objects.filter(
        campaign_id=campaign.pk, status=MessageStatus.PENDING
    ).update(status=MessageStatus.SENT, sent_at=at, attempts=1)


def _close_natural_orders(campaign: Campaign, since: dt.datetime, until: dt.datetime) -> None:
    """Orders the generator placed between two steps close the targets' tasks as the
    order signal would have (the generator writes in bulk, without signals)."""
    ids = list(
        Order.objects.filter(
            customer__campaign_targets__campaign=campaign,
            status__in=VALUE_STATUSES,
            ordered_at__gt=since,
            ordered_at__lte=until,
        )
        .values_list("customer_id", flat=True)
        .distinct()
    )
    campaign_services.close_for_customers(ids, StopCondition.ORDER, at=until)


def _respond(campaign, customer_ids, start: dt.datetime, days: int, share, rng, product):
    """A seeded share of `customer_ids` orders within `days` after `start`; their tasks
    close as the order signal closes them."""
    ids = np.asarray(sorted(customer_ids), dtype=np.int64)
    if ids.size == 0:
        return 0
    chosen = ids[rng.random(ids.size) < share]
    if chosen.size == 0:
        return 0
    offsets = rng.integers(1, days, chosen.size)
    amounts = np.round(rng.lognormal(np.log(260), 0.5, chosen.size), 2)
    last = Order.objects.filter(source=SOURCE).count()
    orders = [
        Order(
            customer_id=int(customer_id),
            source=SOURCE,
            number=f"DC{last + i + 1:07d}",
            ordered_at=start + dt.timedelta(days=int(offset), hours=3),
            status="completed",
            channel="online",
            total=round_money(Decimal(str(amount))),
        )
        for i, (customer_id, offset, amount) in enumerate(
            zip(chosen.tolist(), offsets.tolist(), amounts.tolist(), strict=True)
        )
    ]
    Order.objects.bulk_create(orders, batch_size=2000)
    saved = Order.objects.filter(source=SOURCE, number__in=[o.number for o in orders])
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order_id=order_id,
                product=product,
                quantity=Decimal("1"),
                unit_price=total,
                discount=Decimal("0"),
                amount=total,
            )
            for order_id, total in saved.values_list("pk", "total")
        ],
        batch_size=2000,
    )
    for offset in sorted(set(offsets.tolist())):
        day_ids = chosen[offsets == offset].tolist()
        at = start + dt.timedelta(days=int(offset), hours=3)
        campaign_services.close_for_customers(day_ids, StopCondition.ORDER, at=at)
    return int(chosen.size)


def _wave_recipients(campaign: Campaign, number: int) -> list[int]:
    return list(
        OutboxMessage.objects.filter(campaign_id=campaign.pk, wave=number)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def create_journey(today: dt.date, rng) -> Campaign | None:
    """The 11.11 journey, run wave by wave at the moments it would have run."""
    if Campaign.objects.filter(name=JOURNEY).exists():
        return None
    eleven = last_double_eleven(today)
    start = _local(eleven + dt.timedelta(days=1))
    coupon = Offer.objects.create(
        name="双十一感谢券：满199减30",
        description="送给双十一购物顾客的感谢券。",
        script="感谢顾客在双十一的购买，并送上满199减30的优惠券。",
        valid_from=start,
        valid_until=start + dt.timedelta(days=120),
        cost=Decimal("30"),
        per_customer_limit=1,
        channels=["sms", "email", "store", "web"],
        priority=5,
    )
    campaign = Campaign.objects.create(
        name=JOURNEY,
        description="双十一二次营销：感谢短信加优惠券，按品类发送关怀信息，未回购的顾客每月再次激励。",
        audience_kind=AudienceKind.SEGMENT,
        segment={"field": "spend", "op": ">=", "value": 299, "window_days": 1},
        audience_at=_local(eleven + dt.timedelta(days=1), hour=0),
        channels=["sms", "email"],
        starts_at=start,
        ends_at=start + dt.timedelta(days=100),
        holdout_rate=Decimal("0.10"),
        cost_per_contact=Decimal("0.05"),
        stop_condition=StopCondition.ORDER,
        status=CampaignStatus.ACTIVE,
    )
    campaign.offers.add(coupon)
    worries = {
        "BABY": "{name}您好，我们售出的每一件母婴用品都经过两次检测，请放心使用。",
        "APPAREL": "{name}您好，尺码不合适？30 天内免费换货。",
        "BEAUTY": "{name}您好，我们的化妆品均为正品，扫码即可验证。",
        "DIGITAL": "{name}您好，您购买的数码产品享受两年质保。",
    }
    care = {
        code: worries[top]
        for code, top in Product.objects.filter(category__parent__code__in=list(worries))
        .values_list("category__code", "category__parent__code")
        .distinct()
    }
    waves = [
        (1, 0, "sms", False, "{name}您好，感谢您在双十一的惠顾！送您一张满199减30优惠券：{coupon}"),
        (2, 3, "email", False, "{name}您好，双十一的商品用得还好吗？有任何问题请随时联系我们。"),
        (3, 30, "sms", True, "{name}您好，好久不见，您的优惠券 {coupon} 还在等您。"),
        (4, 60, "sms", True, "{name}您好，本月新品上架，优惠券 {coupon} 依然有效。"),
        (5, 90, "sms", True, "{name}您好，最后提醒：优惠券 {coupon} 即将到期。"),
    ]
    for number, day, channel, non_responders, template in waves:
        Wave.objects.create(
            campaign=campaign,
            number=number,
            day_offset=day,
            channel=channel,
            subject="来自我们的关怀" if channel == "email" else "",
            template=template,
            variants=care if number == 2 else {},
            only_non_responders=non_responders,
            evaluate_after_days=10,
        )
    product = Product.objects.filter(active=True).order_by("pk").first()
    previous = start
    for number, day, *_rest in waves:
        moment = start + dt.timedelta(days=day)
        _close_natural_orders(campaign, previous, moment)
        step(campaign, now=moment)
        _mark_sent(campaign, moment)
        _respond(
            campaign,
            _wave_recipients(campaign, number),
            moment,
            10,
            JOURNEY_LIFT[number],
            rng,
            product,
        )
        previous = moment
    _close_natural_orders(campaign, previous, campaign.ends_at)
    finish(campaign, at=campaign.ends_at)
    return campaign


def create_retention(today: dt.date, rng, *, calls: int = 400) -> Campaign | None:
    """The at-risk campaign with the VIP-only prepay offer, started 20 days ago and still
    running: part of the call list worked, part open."""
    if Campaign.objects.filter(name=RETENTION).exists():
        return None
    start = _local(today - dt.timedelta(days=20))
    offer = Offer.objects.create(
        name="预存1000元得1500元",
        description="预存1000元获得1500元购物额度，仅限VIP会员。",
        script="好久不见！作为VIP会员，您现在预存1000元即可在一年内消费1500元，需要帮您办理吗？",
        eligibility={
            "field": "class",
            "definition": "member_tiers",
            "op": "in",
            "value": ["vip", "supreme_vip"],
        },
        valid_from=start,
        valid_until=start + dt.timedelta(days=60),
        budget=Decimal("150000"),
        cost=Decimal("500"),
        per_customer_limit=1,
        channels=["call_list", "store", "hotline", "sms"],
        priority=9,
    )
    campaign = Campaign.objects.create(
        name=RETENTION,
        description="客户经理致电有流失风险的客户，介绍维系优惠。",
        audience_kind=AudienceKind.SEGMENT,
        segment={"field": "class", "definition": "lifecycle", "op": "in", "value": ["at_risk"]},
        audience_at=start,
        channels=["call_list", "store", "hotline"],
        starts_at=start,
        ends_at=start + dt.timedelta(days=40),
        holdout_rate=Decimal("0.10"),
        cost_per_contact=Decimal("2.00"),
        stop_condition=StopCondition.OFFER_ACCEPTED,
        priority=8,
        status=CampaignStatus.ACTIVE,
    )
    campaign.offers.add(offer)
    Wave.objects.create(
        campaign=campaign,
        number=1,
        day_offset=0,
        channel="sms",
        template="{name}您好，好久不见，您的客户经理本周会与您联系。",
        evaluate_after_days=10,
    )
    step(campaign, now=start)
    _mark_sent(campaign, start)
    tasks = list(
        Task.objects.filter(campaign=campaign, status=TaskStatus.OPEN)
        .select_related("customer", "owner")
        .order_by("pk")[:calls]
    )
    answers = rng.random(len(tasks))
    days = rng.integers(1, 15, len(tasks))
    product = Product.objects.filter(active=True).order_by("pk").first()
    accepted = []
    for task, answer, day in zip(tasks, answers.tolist(), days.tolist(), strict=True):
        at = start + dt.timedelta(days=int(day), hours=1)
        if answer < 0.25:
            outcome = campaign_services.CallResult(reached=False)
        elif answer < 0.5:
            outcome = campaign_services.CallResult(reached=True, result="declined")
        elif answer < 0.7:
            outcome = campaign_services.CallResult(reached=True, intent="interested")
        else:
            outcome = campaign_services.CallResult(reached=True, result="accepted")
        try:
            campaign_services.record_result(
                task, outcome, channel="call_list", user=task.owner, at=at
            )
        except campaign_services.OfferUnavailable:
            # Not a VIP, or the budget ran out: the call ends with the customer declining.
            campaign_services.record_result(
                task,
                campaign_services.CallResult(reached=True, result="declined"),
                channel="call_list",
                user=task.owner,
                at=at,
            )
            continue
        if outcome.result == "accepted":
            accepted.append(task.customer_id)
    # The prepaid cards are paid at once: an order of 1,000 each, the response measured.
    if accepted:
        _respond(campaign, accepted, start, 2, 1.0, rng, product)
    return campaign


def create_demo_campaigns(today: dt.date | None = None, seed: int = 2026) -> list[Campaign]:
    """Both examples (skipped when they exist); returns the campaigns created."""
    today = today or dt.date.today()
    latest = Order.objects.aggregate(last=Max("ordered_at"))["last"]
    if latest is None:
        return []
    rng = np.random.default_rng(seed)
    created = [create_journey(today, rng), create_retention(today, rng)]
    return [campaign for campaign in created if campaign is not None]


def treated_and_holdout(campaign: Campaign) -> tuple[int, int]:
    holdout = CampaignTarget.objects.filter(campaign=campaign, in_holdout=True).count()
    return CampaignTarget.objects.filter(campaign=campaign).count() - holdout, holdout
