"""Every page of the campaigns, for every role: declarations on the generated tests in
core.tests.declarative (list, detail, add, edit, delete, CSV/XLSX export, search, sort;
no permission -> 403; targets, tasks and acceptances out of an account manager's scope ->
404 and absent). The grants are written out here, so a change to the role matrix that
breaks the promise made to users fails."""

import itertools
from decimal import Decimal

import pytest

from clientele.campaigns.models import (
    Campaign,
    CampaignTarget,
    Offer,
    OfferAcceptance,
    Task,
    Wave,
)
from clientele.core.tests.declarative import ModelViewTests

pytestmark = pytest.mark.urls("clientele.campaigns.tests.urls")

_seq = itertools.count(1)

# letters: v view, a add, c change, d delete, x export
DEFINITIONS = {
    "administrator": "vacdx",
    "marketing_manager": "vacdx",
    "account_manager": "v",
    "service_agent": "",
    "analyst": "vx",
}
OFFERS = DEFINITIONS | {"service_agent": "v"}
CAMPAIGNS = OFFERS
TARGETS = {
    "administrator": "vacdx",
    "marketing_manager": "vx",
    "account_manager": "v",
    "service_agent": "",
    "analyst": "vx",
}
TASKS = {
    "administrator": "vacdx",
    "marketing_manager": "vcx",
    "account_manager": "vcx",
    "service_agent": "vc",
    "analyst": "vx",
}
ACCEPTANCES = {
    "administrator": "vacdx",
    "marketing_manager": "vax",
    "account_manager": "va",
    "service_agent": "va",
    "analyst": "vx",
}


def _customer(world, side):
    return world.customer_a if side == "a" else world.customer_b


def _campaign():
    return Campaign.objects.create(name=f"Campaign {next(_seq)}")


def _target(world, side):
    return CampaignTarget.objects.create(campaign=_campaign(), customer=_customer(world, side))


class _BothSides:
    """Records on both teams' sides exist before the first request (the generated tests
    ask for team B's record after requesting the list)."""

    def existing(self, world, side="a"):
        key = f"_{self.model._meta.model_name}"
        if not hasattr(world, key):
            setattr(world, key, {s: self.make(world, s) for s in ("a", "b")})
        return getattr(world, key)[side]


class TestOfferViews(ModelViewTests):
    model = Offer
    grants = OFFERS

    def make(self, world, side="a"):
        return Offer.objects.create(name=f"Offer {side} {next(_seq)}", cost=Decimal("5"))

    def form_data(self, world):
        return {
            "name": "Prepay 168 get 504",
            "script": "Say it",
            "eligibility": '{"field": "city", "op": "=", "value": "Shanghai"}',
            "cost": "10.00",
            "budget": "1000.00",
            "per_customer_limit": "1",
            "channels": ["store", "hotline"],
            "priority": "3",
            "active": "on",
        }

    def edit_data(self, world, obj):
        return {
            "name": "Renamed offer",
            "cost": "5.00",
            "per_customer_limit": "1",
            "priority": "0",
            "eligibility": "null",
        }

    def edited(self, obj):
        return obj.name == "Renamed offer"

    def export_text(self, obj):
        return obj.name

    def search_text(self, obj):
        return obj.name


def test_offer_form_refuses_a_bad_expression(world, client_for):
    response = client_for("marketing_manager").post(
        "/campaigns/offers/add/",
        {
            "name": "Bad",
            "eligibility": '{"field": "shoe_size", "op": "=", "value": 1}',
            "cost": "0",
            "per_customer_limit": "1",
            "priority": "0",
        },
    )
    assert response.status_code == 400
    assert "eligibility" in response.context["form"].errors


class TestCampaignViews(ModelViewTests):
    model = Campaign
    grants = CAMPAIGNS

    def make(self, world, side="a"):
        return _campaign()

    def form_data(self, world):
        return {
            "name": "Double 11 thank you",
            "audience_kind": "segment",
            "segment": '{"field": "spend", "op": ">=", "value": 299, "window_days": 30}',
            "channels": ["call_list", "store"],
            "starts_at": "2026-11-12T09:00",
            "holdout_rate": "0.10",
            "cost_per_contact": "0.05",
            "stop_condition": "order",
            "priority": "1",
        }

    def edit_data(self, world, obj):
        return {
            "name": "Renamed campaign",
            "audience_kind": "segment",
            "segment": "null",
            "starts_at": "2026-11-12T09:00",
            "holdout_rate": "0.10",
            "cost_per_contact": "0",
            "stop_condition": "offer_accepted",
            "priority": "0",
        }

    def edited(self, obj):
        return obj.name == "Renamed campaign"

    def export_text(self, obj):
        return obj.name

    def search_text(self, obj):
        return obj.name


class TestWaveViews(ModelViewTests):
    model = Wave
    grants = DEFINITIONS

    def make(self, world, side="a"):
        return Wave.objects.create(
            campaign=_campaign(), number=1, channel="sms", template=f"Hi {{name}} {side}"
        )

    def form_data(self, world):
        return {
            "campaign": _campaign().pk,
            "number": "1",
            "day_offset": "3",
            "channel": "sms",
            "template": "Thank you {name}, here is {coupon}",
            "variants": '{"BABY": "Safe formula for {name}"}',
            "evaluate_after_days": "10",
        }

    def edit_data(self, world, obj):
        return {
            "campaign": obj.campaign_id,
            "number": "2",
            "day_offset": "30",
            "channel": "sms",
            "template": "Edited {name}",
            "variants": "{}",
            "only_non_responders": "on",
            "evaluate_after_days": "10",
        }

    def edited(self, obj):
        return obj.template == "Edited {name}"

    def export_text(self, obj):
        return str(obj.pk)

    def search_text(self, obj):
        return obj.campaign.name


def test_wave_form_refuses_unknown_merge_fields(world, client_for):
    response = client_for("marketing_manager").post(
        "/campaigns/waves/add/",
        {
            "campaign": _campaign().pk,
            "number": "1",
            "day_offset": "0",
            "channel": "sms",
            "template": "Hi {nmae}",
            "variants": "{}",
            "evaluate_after_days": "10",
        },
    )
    assert response.status_code == 400
    assert "nmae" in str(response.context["form"].errors["template"])


class TestCampaignTargetViews(_BothSides, ModelViewTests):
    model = CampaignTarget
    grants = TARGETS
    actions = ("list", "detail")
    scoped = True
    test_add = test_edit = test_delete = None

    def make(self, world, side="a"):
        return _target(world, side)

    def export_text(self, obj):
        return str(obj.pk)

    def search_text(self, obj):
        return obj.customer.code


class TestTaskViews(_BothSides, ModelViewTests):
    model = Task
    grants = TASKS
    actions = ("list", "detail")
    scoped = True
    test_add = test_edit = test_delete = None

    def make(self, world, side="a"):
        target = _target(world, side)
        return Task.objects.create(
            campaign=target.campaign, customer=target.customer, target=target
        )

    def export_text(self, obj):
        return str(obj.pk)

    def search_text(self, obj):
        return obj.customer.code


class TestOfferAcceptanceViews(_BothSides, ModelViewTests):
    model = OfferAcceptance
    grants = ACCEPTANCES
    actions = ("list", "detail")
    scoped = True
    test_add = test_edit = test_delete = None

    def make(self, world, side="a"):
        offer = Offer.objects.create(name=f"Accepted {next(_seq)}")
        return OfferAcceptance.objects.create(
            offer=offer, customer=_customer(world, side), channel="store"
        )

    def export_text(self, obj):
        return str(obj.pk)

    def search_text(self, obj):
        return obj.customer.code
