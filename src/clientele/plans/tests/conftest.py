"""Fixtures for the plans tests: the default ABC definition, the seed's A plan (a monthly
visit by the account manager, a monthly call by an executive, volume gifts in tons) and C
plan (no visits), and the world's customers put into class A."""

import datetime as dt
from decimal import Decimal

import pytest

from clientele.plans.choices import DutyKind, Performer, Period
from clientele.plans.models import ClassPlan, ContactDuty, VolumeGift
from clientele.segmentation.models import ClassificationDefinition, CurrentClass

# A day in March 2026; the month runs from 2026-02-28 16:00 UTC to 2026-03-31 16:00 UTC
# in Asia/Shanghai.
MARCH = dt.date(2026, 3, 15)
MARCH_STARTS = dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC)
MARCH_ENDS = dt.datetime(2026, 3, 31, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def abc(db):
    return ClassificationDefinition.objects.get(key="abc_spend")


def put_in_class(definition, customers, code):
    CurrentClass.objects.bulk_create(
        [
            CurrentClass(
                definition=definition,
                customer=c,
                code=code,
                since=dt.date(2026, 1, 1),
                reviewed_at=dt.date(2026, 1, 1),
            )
            for c in customers
        ]
    )


@pytest.fixture
def plan_a(abc, world):
    plan = ClassPlan.objects.create(
        definition=abc,
        class_code="A",
        name="A plan",
        team=world.team_a,
        priority=100,
        price_rate=Decimal("95.00"),
        fee_waivers=["freight"],
    )
    plan.visit = ContactDuty.objects.create(
        plan=plan,
        channel="visit",
        period=Period.MONTH,
        performer=Performer.ACCOUNT_MANAGER,
        purpose="monthly visit",
    )
    plan.call = ContactDuty.objects.create(
        plan=plan,
        channel="phone",
        period=Period.MONTH,
        performer=Performer.USER,
        performer_user=world.marketing_manager,
        purpose="executive call",
    )
    for quantity, gift in ((5000, "Europe trip"), (2000, "phone"), (1000, "tablet")):
        VolumeGift.objects.create(plan=plan, min_quantity=Decimal(quantity), unit="t", gift=gift)
    return plan


@pytest.fixture
def plan_c(abc, world):
    plan = ClassPlan.objects.create(definition=abc, class_code="C", name="C plan", priority=10)
    plan.no_visits = ContactDuty.objects.create(
        plan=plan, kind=DutyKind.FORBIDDEN, channel="visit", period=Period.MONTH
    )
    return plan


@pytest.fixture
def class_a(abc, world):
    """customer_a (account_manager, team A), customer_team (team A, no owner) and
    customer_b (account_manager_b, team B) are A customers."""
    put_in_class(abc, [world.customer_a, world.customer_team, world.customer_b], "A")
    return world
