"""Fixtures for the campaigns tests: the role grants the campaigns need (added to the role
matrix for the test if core.permissions does not carry them yet), a contact policy
without quiet hours, customers in bulk, and a small retention campaign on the `world`."""

import datetime
from decimal import Decimal

import pytest

from clientele.core.models import Role

# What each role may do with the campaigns' records (the lead adds these to ROLE_MATRIX).
CAMPAIGN_GRANTS = {
    Role.MARKETING_MANAGER: {
        "campaigns.*": "vacdx",
        "campaigns.campaigntarget": "vx",
        "campaigns.task": "vcx",
        "campaigns.offeracceptance": "vax",
    },
    Role.ACCOUNT_MANAGER: {
        "campaigns.*": "v",
        "campaigns.task": "vcx",
        "campaigns.offeracceptance": "va",
    },
    Role.SERVICE_AGENT: {
        "campaigns.offer": "v",
        "campaigns.campaign": "v",
        "campaigns.task": "vc",
        "campaigns.offeracceptance": "va",
    },
    Role.ANALYST: {"campaigns.*": "vx"},
}


@pytest.fixture(autouse=True)
def campaign_grants(monkeypatch):
    from clientele.core import permissions

    for role, grants in CAMPAIGN_GRANTS.items():
        rules = dict(permissions.ROLE_MATRIX.get(role, {}))
        for key, letters in grants.items():
            rules.setdefault(key, letters)
        monkeypatch.setitem(permissions.ROLE_MATRIX, role, rules)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts without the offer view's per-process caches (ids are reused
    between tests)."""
    from clientele.campaigns import offer_view

    offer_view.clear_caches()
    yield
    offer_view.clear_caches()


@pytest.fixture
def policy(db):
    from clientele.channels.models import ContactPolicy

    policy = ContactPolicy.current()
    policy.quiet_hours_start = policy.quiet_hours_end = None
    policy.max_contacts = None
    policy.save()
    policy.rules.all().delete()
    return policy


NOW = datetime.datetime(2026, 11, 30, 4, 0, tzinfo=datetime.UTC)  # 12:00 in Shanghai


@pytest.fixture
def offer(db):
    from clientele.campaigns.models import Offer

    return Offer.objects.create(
        name="Prepay 168 get 504",
        script="Tell them: prepay 168, get 504 of credit.",
        cost=Decimal("10.00"),
        budget=Decimal("100.00"),
        channels=[],
        priority=5,
    )


@pytest.fixture
def campaign(db, offer):
    from clientele.campaigns.models import Campaign, Wave

    campaign = Campaign.objects.create(
        name="Retention",
        audience_kind="segment",
        starts_at=NOW - datetime.timedelta(days=1),
        status="active",
        channels=["call_list", "store", "hotline"],
        stop_condition="offer_accepted",
    )
    campaign.offers.add(offer)
    Wave.objects.create(
        campaign=campaign,
        number=1,
        day_offset=0,
        channel="sms",
        template="Hello {name}, {offer}: use {coupon}",
    )
    return campaign
