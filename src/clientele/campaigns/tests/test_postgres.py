"""Concurrency on PostgreSQL (principle 6): the same offer accepted at the same moment in
two channels gives one acceptance, one closed task and the budget counted once; many
clerks racing for the last units of a budget never overspend it."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from clientele.campaigns import building, offer_view, services
from clientele.campaigns.models import Campaign, Offer, OfferAcceptance, Task, Wave
from clientele.channels.models import OutboxMessage
from clientele.core.testing import only_on_postgres
from clientele.customers.models import Customer, Interaction

from .conftest import NOW

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres():
    only_on_postgres()


def _race(calls):
    """Run the calls in threads released at the same instant; return results/errors."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(n, call):
        try:
            barrier.wait(10)
            outcomes[n] = ("ok", call())
        except services.OfferUnavailable as error:
            outcomes[n] = ("refused", error.code)
        except Exception as error:  # reported by the assertions
            outcomes[n] = ("error", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def _campaign(customers, offer):
    campaign = Campaign.objects.create(
        name="Race", starts_at=NOW, status="active", holdout_rate=Decimal("0")
    )
    campaign.offers.add(offer)
    Wave.objects.create(campaign=campaign, number=1, channel="sms", template="{name}")
    building.add_targets(campaign, Customer.objects.filter(pk__in=customers), at=NOW)
    building.run_due_waves(campaign, now=NOW)
    return campaign


@pytest.mark.parametrize("round_", range(5))
def test_two_channels_accept_at_once(policy, make_customers, round_):
    (customer_id,) = make_customers(1)
    offer = Offer.objects.create(name="Prepay", cost=Decimal("10"), budget=Decimal("1000"))
    campaign = _campaign([customer_id], offer)
    task = Task.objects.get(campaign=campaign)
    assert OutboxMessage.objects.filter(task_id=task.pk, status="pending").count() == 1

    outcomes = _race(
        [
            lambda: services.accept_offer(customer_id, offer, "store"),
            lambda: services.accept_offer(customer_id, offer, "hotline"),
        ]
    )
    kinds = sorted(kind for kind, _value in outcomes)
    assert kinds == ["ok", "refused"], outcomes
    assert OfferAcceptance.objects.count() == 1
    offer.refresh_from_db()
    assert offer.used == 1 and offer.spent == Decimal("10")
    task.refresh_from_db()
    assert task.status == "done"
    winner = OfferAcceptance.objects.get().channel
    assert task.closed_via == winner
    assert Interaction.objects.filter(customer_id=customer_id, intent="accepted").count() == 1
    assert not OutboxMessage.objects.filter(task_id=task.pk, status="pending").exists()


def test_two_channels_close_the_same_task_at_once(policy, make_customers):
    (customer_id,) = make_customers(1)
    offer = Offer.objects.create(name="Prepay")
    campaign = _campaign([customer_id], offer)
    task = Task.objects.get(campaign=campaign)
    outcomes = _race(
        [
            lambda: Task.objects.get(pk=task.pk).close_everywhere("declined", channel="store"),
            lambda: Task.objects.get(pk=task.pk).close_everywhere("declined", channel="hotline"),
        ]
    )
    assert sorted(value for _kind, value in outcomes) == [False, True], outcomes
    assert Interaction.objects.filter(customer_id=customer_id).count() == 1


def test_racing_for_the_last_of_a_budget_never_overspends(policy, make_customers):
    ids = make_customers(8)
    offer = Offer.objects.create(name="Gift", cost=Decimal("25"), budget=Decimal("75"))
    outcomes = _race(
        [(lambda c=customer_id: services.accept_offer(c, offer, "store")) for customer_id in ids]
    )
    assert [kind for kind, _value in outcomes].count("ok") == 3, outcomes
    assert all(kind in ("ok", "refused") for kind, _value in outcomes), outcomes
    offer.refresh_from_db()
    assert offer.spent == Decimal("75") and offer.used == 3
    assert OfferAcceptance.objects.count() == 3
    assert offer_view.offers_for(ids[0]) == []


def test_concurrent_api_requests(policy, make_customers, users):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    (customer_id,) = make_customers(1)
    code = Customer.objects.get(pk=customer_id).code
    offer = Offer.objects.create(name="Prepay", cost=Decimal("10"), budget=Decimal("100"))
    _campaign([customer_id], offer)
    token, _created = Token.objects.get_or_create(user=users["service_agent"])

    def post(channel):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client.post(
            f"/api/offers/{offer.pk}/accept/", {"customer": code, "channel": channel}, format="json"
        ).status_code

    outcomes = _race([lambda: post("store"), lambda: post("hotline")])
    assert sorted(value for _kind, value in outcomes) == [201, 409], outcomes
    offer.refresh_from_db()
    assert offer.spent == Decimal("10") and OfferAcceptance.objects.count() == 1
    assert Task.objects.get().status == "done"


test_concurrent_api_requests = pytest.mark.urls("clientele.campaigns.tests.urls")(
    test_concurrent_api_requests
)
