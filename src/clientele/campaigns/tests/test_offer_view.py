"""The unified offer view: one endpoint (by customer id, or looked up by phone, card or
code) and one pop-up page return the eligible offers with scripts, the open tasks and the
last ten contacts, in a handful of queries whatever the number of offers; an acceptance
from the pop-up closes the task and the pop-up shows it done."""

import datetime
import time
from decimal import Decimal

import pytest

from clientele.campaigns import building, offer_view, services
from clientele.campaigns.models import Offer, Task
from clientele.customers.models import Customer, Interaction

from .conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.urls("clientele.campaigns.tests.urls")]


@pytest.fixture
def built(campaign, policy, world):
    campaign.holdout_rate = Decimal("0")
    campaign.save()
    Customer.objects.filter(pk=world.customer_a.pk).update(
        phone="+8613911112222", card_number="VIP-0001"
    )
    building.build(campaign, at=NOW)
    for n in range(12):
        Interaction.objects.create(
            customer=world.customer_a,
            channel="phone",
            occurred_at=NOW - datetime.timedelta(hours=n),
            subject=f"Call {n}",
        )
    return campaign


def test_api_by_customer_id(built, offer, world, api_client_for):
    response = api_client_for("service_agent").get(f"/api/customers/{world.customer_a.pk}/offers/")
    assert response.status_code == 200
    data = response.json()
    assert data["customer"]["code"] == "A-001"
    assert [o["name"] for o in data["offers"]] == [offer.name]
    assert data["offers"][0]["script"] == offer.script
    assert data["offers"][0]["budget_left"] == "100.00"
    assert [t["campaign"] for t in data["tasks"]] == [built.name]
    assert len(data["interactions"]) == 10
    assert data["interactions"][0]["subject"] == "Call 0"


@pytest.mark.parametrize(
    "query",
    [
        {"phone": "+8613911112222"},
        # as a clerk types it: no country code, with separators
        {"phone": "139 1111-2222"},
        {"card": "VIP-0001"},
        {"code": "A-001"},
    ],
)
def test_api_lookup(built, world, api_client_for, query):
    response = api_client_for("service_agent").get("/api/offers/lookup/", query)
    assert response.status_code == 200
    assert response.json()["customer"]["id"] == world.customer_a.pk


def test_lookup_finds_the_second_phone_too(built, world, api_client_for):
    Customer.objects.filter(pk=world.customer_b.pk).update(phone2="13755556666")
    client = api_client_for("marketing_manager")
    response = client.get("/api/offers/lookup/", {"phone": "+86 137 5555 6666"})
    assert response.status_code == 200
    assert response.json()["customer"]["id"] == world.customer_b.pk


def test_api_lookup_errors(built, api_client_for):
    client = api_client_for("service_agent")
    assert client.get("/api/customers/99999999999999999999/offers/").status_code == 404
    assert client.get("/api/customers/0/offers/").status_code == 404
    assert client.get("/api/offers/lookup/").status_code == 400
    assert client.get("/api/offers/lookup/", {"phone": "+1000"}).status_code == 404


def test_account_managers_only_see_their_customers(built, world, api_client_for):
    client = api_client_for("account_manager")
    assert client.get(f"/api/customers/{world.customer_a.pk}/offers/").status_code == 200
    assert client.get(f"/api/customers/{world.customer_b.pk}/offers/").status_code == 404
    response = client.get("/api/offers/lookup/", {"code": "B-001"})
    assert response.status_code == 404


def test_anonymous_and_roles_without_permission(built, world, api_client_for, monkeypatch):
    from rest_framework.test import APIClient

    url = f"/api/customers/{world.customer_a.pk}/offers/"
    assert APIClient().get(url).status_code == 401
    from clientele.core import permissions

    monkeypatch.setitem(permissions.ROLE_MATRIX, "analyst", {"customers.*": "v"})
    assert api_client_for("analyst").get(url).status_code == 403


def test_query_count_does_not_grow_with_offers(
    built, world, api_client_for, django_assert_max_num_queries
):
    client = api_client_for("service_agent")
    url = f"/api/customers/{world.customer_a.pk}/offers/"
    client.get(url)  # warm the token and content types
    for n in range(100):
        Offer.objects.create(
            name=f"Offer {n}",
            priority=n % 7,
            eligibility={"field": "city", "op": "=", "value": f"City {n % 10}"} if n % 3 else None,
        )
    client.get(url, {"channel": "store"})  # reads the new offers once
    # token + customer facts (eligibility, flags, the offers' signature) + tasks + history
    with django_assert_max_num_queries(4):
        response = client.get(url, {"channel": "store"})
    assert len(response.json()["offers"]) == 1 + len(range(0, 100, 3))
    # A customer without open tasks (most customers) costs one query less.
    Task.objects.filter(customer=world.customer_b).update(status="done")
    with django_assert_max_num_queries(3):
        response = client.get(f"/api/customers/{world.customer_b.pk}/offers/")
    assert response.json()["tasks"] == []


def test_the_kept_offers_follow_every_change(built, offer, world, api_client_for):
    """The offers are kept per process between requests; an edit, an acceptance that uses
    the last unit of stock, a new exclusion and a deletion each show at the next request."""
    client = api_client_for("service_agent")
    url = f"/api/customers/{world.customer_a.pk}/offers/"

    def names():
        return [o["name"] for o in client.get(url).json()["offers"]]

    assert names() == [offer.name]
    offer.script = "Say it differently."
    offer.save()
    assert client.get(url).json()["offers"][0]["script"] == "Say it differently."

    gift = Offer.objects.create(name="Gift", priority=1)
    assert names() == [offer.name, "Gift"]
    offer.excludes.add(gift)  # only the through table changes
    assert names() == [offer.name]
    offer.excludes.clear()
    assert names() == [offer.name, "Gift"]

    Offer.objects.filter(pk=offer.pk).update(stock=1)  # a bulk change, no updated_at
    offer_view.clear_caches()
    assert names() == [offer.name, "Gift"]
    services.accept_offer(world.customer_b, offer, "store")  # the last unit, elsewhere
    assert names() == ["Gift"]

    gift.delete()
    assert names() == []


def test_the_kept_offers_expire_when_a_validity_window_turns(built, offer, world):
    from django.utils import timezone

    soon = timezone.now() + datetime.timedelta(seconds=5)
    Offer.objects.create(name="Flash", valid_from=soon)
    before = time.monotonic()
    catalogue = offer_view.catalogue()
    assert "Flash" not in [o.name for o in catalogue.offers]
    assert catalogue.expires <= before + 5.5
    Offer.objects.filter(name="Flash").update(valid_from=None, valid_until=soon)
    offer_view.clear_caches()
    catalogue = offer_view.catalogue()
    assert "Flash" in [o.name for o in catalogue.offers]
    assert catalogue.expires <= before + 5.5


def test_a_shared_phone_gives_the_newest_customer_in_scope(built, world, api_client_for):
    """The lookup reads the newest few customers with the number and keeps the first the
    user may see; past that many it asks the database with the scope."""
    from clientele.customers.models import Customer

    manager_customer = world.customer_a
    Customer.objects.filter(pk=manager_customer.pk).update(phone="13600001111")
    others = Customer.objects.bulk_create(
        Customer(code=f"X-{n}", name=f"Other {n}", phone="13600001111", team=world.customer_b.team)
        for n in range(offer_view.LOOKUP_CANDIDATES + 3)
    )
    newest = max(c.pk for c in Customer.objects.filter(phone="13600001111"))
    assert offer_view.find_customer_id(phone="136 0000 1111") == newest
    client = api_client_for("account_manager")
    response = client.get("/api/offers/lookup/", {"phone": "13600001111"})
    assert response.status_code == 200
    assert response.json()["customer"]["id"] == manager_customer.pk
    assert len(others) > offer_view.LOOKUP_CANDIDATES


def test_popup_page_lookup_and_accept(built, offer, world, client_for):
    client = client_for("service_agent")
    page = client.get("/campaigns/offer-view/")
    assert page.status_code == 200
    response = client.get(
        "/campaigns/offer-view/",
        {"phone": "+8613911112222", "channel": "store"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert offer.script in html and built.name in html and "Call 0" in html
    assert "<html" not in html  # htmx gets the panel only
    response = client.post(
        f"/campaigns/offer-view/{world.customer_a.pk}/accept/",
        {"offer": offer.pk, "channel": "store"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="no-open-tasks"' in html
    assert Task.objects.get(customer=world.customer_a).status == "done"
    # The budget-limited offer is presented again (budget left), but the task is gone;
    # an unknown phone says so.
    response = client.get("/campaigns/offer-view/", {"phone": "000"})
    assert "No customer found" in response.content.decode()


def test_popup_needs_permission(built, client_for, monkeypatch):
    from clientele.core import permissions

    monkeypatch.setitem(permissions.ROLE_MATRIX, "analyst", {"customers.*": "v"})
    assert client_for("analyst").get("/campaigns/offer-view/").status_code == 403


def test_an_expired_catalogue_serves_while_another_thread_reads_it_again(built, offer):
    old = offer_view.catalogue()
    old.expires = time.monotonic() - 1
    with offer_view._load_lock:  # another thread is reading it again
        assert offer_view.catalogue() is old
    fresh = offer_view.catalogue()
    assert fresh is not old and fresh.expires > time.monotonic()
    # A catalogue whose offers changed is never served: the caller waits for the new one.
    assert offer_view.catalogue(stale=fresh) is not fresh
