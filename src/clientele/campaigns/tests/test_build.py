"""Building a campaign and running its waves: targets from the segment and the offers'
eligibility, messages keyed task:wave:channel (a re-run queues nothing twice), every
suppressed contact recorded with its reason, later waves only for non-responders, content
chosen by the category the customer bought, budgets, and the triggers."""

import datetime
from decimal import Decimal

import pytest

from clientele.campaigns import building
from clientele.campaigns.models import Campaign, CampaignTarget, Offer, Task, Wave
from clientele.channels.models import OutboxMessage, SuppressionRecord
from clientele.conftest import make_order
from clientele.customers.models import Consent, Customer

from .conftest import NOW

pytestmark = pytest.mark.django_db


def _no_holdout(campaign):
    campaign.holdout_rate = Decimal("0")
    campaign.save()
    return campaign


def test_messages_carry_the_task_wave_channel_key_and_merge_fields(
    campaign, policy, make_customers
):
    ids = make_customers(20)
    _no_holdout(campaign)
    building.build(campaign, at=NOW)
    results = building.run_due_waves(campaign, now=NOW)
    assert results[0].contacted == 20
    task = Task.objects.get(campaign=campaign, customer_id=ids[0])
    message = OutboxMessage.objects.get(task_id=task.pk)
    assert message.dedup_key == f"{task.pk}:1:sms"
    assert message.campaign_id == campaign.pk and message.wave == 1
    assert message.body == (
        f"Hello Customer 0, Prepay 168 get 504: use {building.coupon_code(task.pk)}"
    )
    assert message.recipient == "+8613800000000"
    task.refresh_from_db()
    assert task.last_wave == 1
    assert task.first_contacted_at == NOW


def test_waves_are_idempotent(campaign, policy, make_customers):
    make_customers(50)
    _no_holdout(campaign)
    building.build(campaign, at=NOW)
    building.run_due_waves(campaign, now=NOW)
    building.build(campaign, at=NOW)
    building.run_due_waves(campaign, now=NOW)
    assert OutboxMessage.objects.filter(campaign_id=campaign.pk).count() == 50
    # Even if the tasks forgot they had the wave (a crash between the outbox insert and
    # the bookkeeping), the keys stop a second message.
    Task.objects.filter(campaign=campaign).update(last_wave=0)
    building.run_due_waves(campaign, now=NOW)
    assert OutboxMessage.objects.filter(campaign_id=campaign.pk).count() == 50
    keys = OutboxMessage.objects.values_list("dedup_key", flat=True)
    assert len(set(keys)) == 50


def test_suppressed_contacts_are_recorded_with_their_reason(campaign, policy, make_customers):
    ids = make_customers(10)
    _no_holdout(campaign)
    Consent.objects.create(customer_id=ids[0], channel="sms", status="opted_out")
    Customer.objects.filter(pk=ids[1]).update(do_not_disturb=True)
    Customer.objects.filter(pk=ids[2]).update(phone="")
    building.build(campaign, at=NOW)
    result = building.run_due_waves(campaign, now=NOW)[0]
    assert result.contacted == 7
    reasons = dict(
        SuppressionRecord.objects.filter(campaign_id=campaign.pk).values_list(
            "customer_id", "reason"
        )
    )
    assert reasons == {ids[0]: "opted_out", ids[1]: "do_not_disturb", ids[2]: "no_address"}
    assert not OutboxMessage.objects.filter(customer_id__in=ids[:3]).exists()
    record = SuppressionRecord.objects.get(customer_id=ids[0])
    task = Task.objects.get(campaign=campaign, customer_id=ids[0])
    assert record.task_id == task.pk and record.dedup_key == f"{task.pk}:1:sms"
    # The wave is done for them: a second run records nothing more.
    building.run_due_waves(campaign, now=NOW)
    assert SuppressionRecord.objects.filter(campaign_id=campaign.pk).count() == 3


def test_frequency_cap_suppresses(campaign, policy, make_customers):
    from clientele.channels.models import ChannelRule

    ids = make_customers(3)
    _no_holdout(campaign)
    ChannelRule.objects.create(policy=policy, channel="sms", max_contacts=1)
    OutboxMessage.objects.create(
        channel="sms", customer_id=ids[0], recipient="x", dedup_key="other:1:sms", due_at=NOW
    )
    building.build(campaign, at=NOW)
    building.run_due_waves(campaign, now=NOW)
    assert SuppressionRecord.objects.get(customer_id=ids[0]).reason == "frequency_cap"
    assert OutboxMessage.objects.filter(campaign_id=campaign.pk).count() == 2


def test_later_waves_only_reach_non_responders_after_their_day(campaign, policy, make_customers):
    ids = make_customers(4)
    _no_holdout(campaign)
    Wave.objects.create(
        campaign=campaign,
        number=2,
        day_offset=30,
        channel="sms",
        template="We miss you {name}",
        only_non_responders=True,
    )
    building.build(campaign, at=NOW)
    building.run_due_waves(campaign, now=NOW)
    assert OutboxMessage.objects.filter(wave=2).count() == 0  # day 30 has not come
    CampaignTarget.objects.filter(customer_id=ids[0]).update(responded_at=NOW)
    later = NOW + datetime.timedelta(days=30)
    building.run_due_waves(campaign, now=later)
    second = set(OutboxMessage.objects.filter(wave=2).values_list("customer_id", flat=True))
    assert second == set(ids[1:])


def test_content_variant_by_the_category_bought(campaign, policy, make_customers, world):
    from clientele.catalog.models import Product, ProductCategory

    ids = make_customers(2)
    _no_holdout(campaign)
    baby = ProductCategory.objects.create(code="BABY", name="Baby food")
    formula = Product.objects.create(
        sku="SKU-BABY", name="Formula", category=baby, unit="pc", list_price=Decimal("99")
    )
    make_order(Customer.objects.get(pk=ids[0]), "V-1", formula, lines=((1, "99.00", "0"),))
    wave = campaign.waves.get()
    wave.variants = {"BABY": "Safe formula for {name}"}
    wave.save()
    building.add_targets(campaign, Customer.objects.filter(pk__in=ids), at=NOW)
    building.run_due_waves(campaign, now=NOW)
    bodies = dict(OutboxMessage.objects.values_list("customer_id", "body"))
    first, second = Customer.objects.filter(pk__in=ids).order_by("id")
    assert bodies[ids[0]] == f"Safe formula for {first.name}"
    assert bodies[ids[1]].startswith(f"Hello {second.name}")


def test_audience_is_the_segment_and_the_offers_eligibility(campaign, offer, policy, world):
    _no_holdout(campaign)
    campaign.segment = {"field": "status", "op": "=", "value": "active"}
    campaign.save()
    offer.eligibility = {"field": "city", "op": "=", "value": "Shanghai"}
    offer.save()
    building.build(campaign, at=NOW)
    targets = set(CampaignTarget.objects.values_list("customer_id", flat=True))
    assert targets == {world.customer_a.pk}  # active and in Shanghai
    task = Task.objects.get()
    assert task.owner == world.account_manager


def test_an_offer_for_everyone_does_not_narrow_the_audience(campaign, offer, policy, world):
    other = Offer.objects.create(name="Everyone", cost=Decimal("0"))
    offer.eligibility = {"field": "city", "op": "=", "value": "Shanghai"}
    offer.save()
    campaign.offers.add(other)
    building.build(campaign, at=NOW)
    assert CampaignTarget.objects.count() == Customer.objects.count()


def test_the_campaign_budget_limits_contacts(campaign, policy, make_customers):
    make_customers(10)
    _no_holdout(campaign)
    campaign.budget = Decimal("0.40")
    campaign.cost_per_contact = Decimal("0.10")
    campaign.save()
    building.build(campaign, at=NOW)
    result = building.run_due_waves(campaign, now=NOW)[0]
    assert result.contacted == 4 and result.over_budget == 6
    campaign.refresh_from_db()
    assert campaign.spent == Decimal("0.4") and campaign.contacts_left == 0
    assert OutboxMessage.objects.count() == 4


def test_arbitration_lets_the_higher_priority_campaign_win(campaign, policy, make_customers):
    ids = make_customers(3)
    _no_holdout(campaign)
    rival = Campaign.objects.create(
        name="Rival",
        starts_at=campaign.starts_at,
        status="active",
        priority=9,
        holdout_rate=Decimal("0"),
    )
    Wave.objects.create(campaign=rival, number=1, channel="sms", template="Rival {name}")
    for c in (rival, campaign):
        building.build(c, at=NOW)
    building.run_due_waves(rival, now=NOW)
    result = building.run_due_waves(campaign, now=NOW)[0]
    assert result.contacted == 0 and result.waiting == 3
    records = SuppressionRecord.objects.filter(campaign_id=campaign.pk, reason="arbitration")
    assert records.count() == 3 and set(records.values_list("action", flat=True)) == {"waiting"}
    # Waiting tasks are not retried the same day (no duplicate suppressions)...
    building.run_due_waves(campaign, now=NOW + datetime.timedelta(hours=1))
    assert records.count() == 3
    # ...but the next day they go out.
    tomorrow = NOW + datetime.timedelta(days=1)
    result = building.run_due_waves(campaign, now=tomorrow)[0]
    assert result.contacted == 3
    assert OutboxMessage.objects.filter(campaign_id=campaign.pk, customer_id__in=ids).count() == 3


def test_birthday_trigger_adds_customers_as_their_day_comes(offer, policy, world):
    campaign = Campaign.objects.create(
        name="Birthday",
        audience_kind="birthday",
        starts_at=NOW - datetime.timedelta(days=1),
        status="active",
        holdout_rate=Decimal("0"),
    )
    Customer.objects.filter(pk=world.customer_team.pk).update(birthday=datetime.date(1990, 11, 30))
    Customer.objects.filter(pk=world.customer_b.pk).update(birthday=datetime.date(1990, 12, 2))
    building.build(campaign, at=NOW)
    assert set(CampaignTarget.objects.values_list("customer_id", flat=True)) == {
        world.customer_team.pk
    }
    building.build(campaign, at=NOW + datetime.timedelta(days=2))
    assert CampaignTarget.objects.count() == 2


def test_class_change_and_at_risk_triggers(policy, world):
    from clientele.segmentation.models import (
        ClassificationDefinition,
        ClassificationRun,
        ClassTransition,
    )

    lifecycle = ClassificationDefinition.objects.filter(kind="lifecycle").first()
    run = ClassificationRun.objects.create(
        definition=lifecycle, trigger="manual", as_of=NOW.date(), started_at=NOW
    )
    ClassTransition.objects.create(
        definition=lifecycle,
        customer=world.customer_a,
        run=run,
        from_code="active",
        to_code="at_risk",
        at=NOW - datetime.timedelta(hours=1),
    )
    ClassTransition.objects.create(
        definition=lifecycle,
        customer=world.customer_b,
        run=run,
        from_code="new",
        to_code="active",
        at=NOW - datetime.timedelta(hours=1),
    )
    at_risk = Campaign.objects.create(
        name="Win back",
        audience_kind="at_risk",
        starts_at=NOW - datetime.timedelta(days=1),
        status="active",
        holdout_rate=Decimal("0"),
    )
    change = Campaign.objects.create(
        name="Welcome to active",
        audience_kind="class_change",
        class_definition=lifecycle,
        to_class="active",
        starts_at=NOW - datetime.timedelta(days=1),
        status="active",
        holdout_rate=Decimal("0"),
    )
    building.build(at_risk, at=NOW)
    building.build(change, at=NOW)
    assert list(at_risk.targets.values_list("customer_id", flat=True)) == [world.customer_a.pk]
    assert list(change.targets.values_list("customer_id", flat=True)) == [world.customer_b.pk]


def test_days_after_first_order_trigger(policy, world):
    campaign = Campaign.objects.create(
        name="Thank you",
        audience_kind="first_order",
        days_after_first_order=3,
        starts_at=NOW - datetime.timedelta(days=1),
        status="active",
        holdout_rate=Decimal("0"),
    )
    fresh = Customer.objects.create(code="F-1", name="Fresh")
    make_order(fresh, "F-1-1", world.product, ordered_at=NOW - datetime.timedelta(days=3, hours=2))
    building.build(campaign, at=NOW)
    # Fresh's third day came in the window; the world's customers ordered long ago.
    assert list(campaign.targets.values_list("customer_id", flat=True)) == [fresh.pk]


def test_tier_upgrade_trigger_ignores_downgrades_and_first_entries(policy, world):
    from clientele.segmentation.models import (
        ClassificationDefinition,
        ClassificationRun,
        ClassTransition,
    )

    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    low, high = tiers.class_codes()[0], tiers.class_codes()[-1]
    run = ClassificationRun.objects.create(
        definition=tiers, trigger="manual", as_of=NOW.date(), started_at=NOW
    )
    at = NOW - datetime.timedelta(hours=1)
    for customer, old, new in (
        (world.customer_a, low, high),  # an upgrade
        (world.customer_b, high, low),  # a downgrade
        (world.customer_team, "", low),  # first entry into the tiers
    ):
        ClassTransition.objects.create(
            definition=tiers, customer=customer, run=run, from_code=old, to_code=new, at=at
        )
    campaign = Campaign.objects.create(
        name="Welcome to the next tier",
        audience_kind="tier_upgrade",
        starts_at=NOW - datetime.timedelta(days=1),
        status="active",
        holdout_rate=Decimal("0"),
    )
    building.build(campaign, at=NOW)
    assert list(campaign.targets.values_list("customer_id", flat=True)) == [world.customer_a.pk]


def test_a_rebuild_gives_new_targets_and_taskless_old_ones_one_task_each(
    campaign, policy, make_customers
):
    """New targets get their task by a plain insert; an older treated target whose task
    was deleted gets one back; no target ends up with two."""
    _no_holdout(campaign)
    campaign.offers.clear()  # everyone is eligible
    make_customers(5)
    first = building.build(campaign, at=NOW)
    assert first.tasks == first.added > 0
    lost = Task.objects.filter(campaign=campaign).order_by("id").first()
    lost_target = lost.target_id
    lost.delete()
    make_customers(3, prefix="N")
    again = building.build(campaign, at=NOW + datetime.timedelta(hours=1), rebuild=True)
    assert again.added == 3
    assert again.tasks == 4  # three new targets and the one that lost its task
    targets = CampaignTarget.objects.filter(campaign=campaign)
    tasks = Task.objects.filter(campaign=campaign)
    assert tasks.count() == targets.count() == first.added + 3
    assert tasks.values("target_id").distinct().count() == tasks.count()
    assert tasks.filter(target_id=lost_target).count() == 1
    # Nothing new to add: nothing is written.
    assert building.build(campaign, at=NOW + datetime.timedelta(hours=2), rebuild=True).tasks == 0
