"""Which offers a customer is given: eligibility by segment expression (an offer limited
to its group is never used outside it), validity, channels, the per-customer limit, the
offers an offer excludes, and budget and stock (once used up, presented nowhere)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clientele.campaigns import offer_view, services
from clientele.campaigns.models import Offer, OfferAcceptance

from .conftest import NOW

pytestmark = pytest.mark.django_db

SHANGHAI = {"field": "city", "op": "=", "value": "Shanghai"}


def _names(customer, **kwargs):
    return [offer.name for offer in offer_view.offers_for(customer, at=NOW, **kwargs)]


def test_eligibility_limits_an_offer_to_its_group(world):
    Offer.objects.create(name="For Shanghai", eligibility=SHANGHAI)
    Offer.objects.create(name="For everyone")
    assert sorted(_names(world.customer_a)) == ["For Shanghai", "For everyone"]
    assert _names(world.customer_b) == ["For everyone"]


def test_accepting_outside_the_group_is_refused(world):
    offer = Offer.objects.create(name="For Shanghai", eligibility=SHANGHAI)
    with pytest.raises(services.OfferUnavailable) as refused:
        services.accept_offer(world.customer_b, offer, "store", at=NOW)
    assert refused.value.code == "not_eligible"
    assert not OfferAcceptance.objects.exists()


def test_a_bad_expression_is_refused_when_saved():
    offer = Offer(name="Bad", eligibility={"field": "shoe_size", "op": "=", "value": 42})
    with pytest.raises(ValidationError) as error:
        offer.full_clean()
    assert "eligibility" in error.value.message_dict


def test_priority_orders_and_validity_and_channel_filter(world):
    Offer.objects.create(name="Low", priority=1)
    Offer.objects.create(name="High", priority=9)
    Offer.objects.create(name="Expired", valid_until=NOW - datetime.timedelta(days=1))
    Offer.objects.create(name="Future", valid_from=NOW + datetime.timedelta(days=1))
    Offer.objects.create(name="Inactive", active=False)
    Offer.objects.create(name="Web only", channels=["web"])
    assert _names(world.customer_a) == ["High", "Low", "Web only"]
    assert _names(world.customer_a, channel="store") == ["High", "Low"]
    assert _names(world.customer_a, channel="web") == ["High", "Low", "Web only"]


def test_per_customer_limit(world):
    offer = Offer.objects.create(name="Twice", per_customer_limit=2)
    services.accept_offer(world.customer_a, offer, "store", at=NOW)
    assert _names(world.customer_a) == ["Twice"]
    services.accept_offer(world.customer_a, offer, "hotline", at=NOW)
    assert _names(world.customer_a) == []
    assert _names(world.customer_b) == ["Twice"]
    with pytest.raises(services.OfferUnavailable) as refused:
        services.accept_offer(world.customer_a, offer, "store", at=NOW)
    assert refused.value.code == "limit"
    assert list(
        OfferAcceptance.objects.filter(customer=world.customer_a).values_list("sequence", flat=True)
    ) == [2, 1]


def test_exclusions(world):
    big = Offer.objects.create(name="Big", priority=9)
    small = Offer.objects.create(name="Small", priority=1)
    Offer.objects.create(name="Other", priority=0)
    big.excludes.add(small)
    # Only the better of two exclusive offers is presented...
    assert _names(world.customer_a) == ["Big", "Other"]
    # ...and once the customer took one, the other is not offered or accepted.
    services.accept_offer(world.customer_b, small, "store", at=NOW)
    assert _names(world.customer_b) == ["Other"]
    with pytest.raises(services.OfferUnavailable) as refused:
        services.accept_offer(world.customer_b, big, "store", at=NOW)
    assert refused.value.code == "excluded"


def test_budget_exhaustion_stops_presentation_everywhere(world):
    offer = Offer.objects.create(name="Gift", cost=Decimal("30.00"), budget=Decimal("60.00"))
    services.accept_offer(world.customer_a, offer, "store", at=NOW)
    offer.refresh_from_db()
    assert offer.spent == Decimal("30.00") and offer.budget_left == Decimal("30.00")
    services.accept_offer(world.customer_b, offer, "hotline", at=NOW)
    offer.refresh_from_db()
    assert offer.spent == Decimal("60.00") and offer.used == 2
    for channel in (None, "store", "hotline", "web", "sms"):
        assert _names(world.customer_team, channel=channel) == []
    with pytest.raises(services.OfferUnavailable):
        services.accept_offer(world.customer_team, offer, "web", at=NOW)
    offer.refresh_from_db()
    assert offer.spent == Decimal("60.00") and OfferAcceptance.objects.count() == 2


def test_budget_that_does_not_cover_one_more_acceptance(world):
    offer = Offer.objects.create(name="Gift", cost=Decimal("40.00"), budget=Decimal("60.00"))
    services.accept_offer(world.customer_a, offer, "store", at=NOW)
    assert _names(world.customer_b) == []  # 20 left, an acceptance costs 40


def test_conditional_update_refuses_when_presentation_was_stale(world):
    """Two clerks saw the last unit; the second acceptance is refused by the UPDATE, not
    by a count made earlier."""
    offer = Offer.objects.create(name="Last unit", stock=1)
    services.accept_offer(world.customer_a, offer, "store", at=NOW)
    Offer.objects.filter(pk=offer.pk).update(stock=2)  # the check passes...
    stale = Offer.objects.get(pk=offer.pk)
    Offer.objects.filter(pk=offer.pk).update(used=2)  # ...but the stock is gone
    with pytest.raises(services.OfferUnavailable):
        services.accept_offer(world.customer_b, stale, "store", at=NOW)
    assert OfferAcceptance.objects.count() == 1


def test_stock(world):
    offer = Offer.objects.create(name="Tablet", stock=1)
    services.accept_offer(world.customer_a, offer, "store", at=NOW)
    assert _names(world.customer_b) == []
    offer.refresh_from_db()
    assert offer.used == 1 and offer.stock_left == 0


def test_the_database_refuses_overspending(world):
    from django.db import IntegrityError, transaction

    offer = Offer.objects.create(name="Gift", cost=Decimal("30"), budget=Decimal("30"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.filter(pk=offer.pk).update(spent=Decimal("31"))


def test_offers_for_uses_few_queries_with_many_offers(world, django_assert_max_num_queries):
    for n in range(30):
        Offer.objects.create(
            name=f"Offer {n}",
            eligibility={"field": "city", "op": "=", "value": f"City {n % 5}"} if n % 2 else None,
            priority=n,
        )
    offer_view.offers_for(world.customer_a, channel="store")  # reads the catalogue once
    # Later requests reuse the catalogue and the prepared statement: one query for the
    # customer (eligibility, the offers' signature, and no acceptances to read).
    with django_assert_max_num_queries(1):
        offers = offer_view.offers_for(world.customer_b, channel="store")
    assert len(offers) == 15
