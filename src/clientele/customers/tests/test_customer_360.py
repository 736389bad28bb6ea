"""The customer 360 page: profile, contacts, consents, tags, the value summary (with its
numbers checked: cancelled and returned orders never count, the average is rounded
half-up), orders, one timeline across channels, feedback, change history, group totals
on a parent organization, and adding an interaction or feedback from the page itself."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clientele.conftest import make_order
from clientele.customers.models import Consent, Contact, Customer, Feedback, Interaction


def _days_ago(days, hour=4):
    moment = timezone.now() - datetime.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def _testid(html, name):
    match = re.search(rf'data-testid="{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def _local_date(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d")


@pytest.fixture
def valued(world):
    """A customer with counted and uncounted orders: two count (350.49 in all, 250.49 of
    it in the last 12 months); a cancelled and a returned one are newer, an old cancelled
    one is older than the first counted order."""
    customer = Customer.objects.create(
        code="V-1",
        name="Value Trading",
        kind="organization",
        phone="13800000001",
        email="buyer@value.example",
        province="Zhejiang",
        city="Hangzhou",
        industry="Steel",
        owner=world.account_manager,
        team=world.team_a,
    )
    p = world.product
    make_order(
        customer,
        "V-OLD-X",
        p,
        lines=((1, "900.00", "0"),),
        ordered_at=_days_ago(500),
        status="cancelled",
    )
    first = make_order(customer, "V-1", p, lines=((1, "100.00", "0"),), ordered_at=_days_ago(400))
    last = make_order(
        customer,
        "V-2",
        p,
        lines=((2, "125.00", "0"), (1, "0.49", "0")),
        ordered_at=_days_ago(30),
        status="completed",
    )
    make_order(
        customer,
        "V-3-X",
        p,
        lines=((1, "999.99", "0"),),
        ordered_at=_days_ago(10),
        status="cancelled",
    )
    make_order(
        customer,
        "V-4-X",
        p,
        lines=((1, "500.00", "0"),),
        ordered_at=_days_ago(5),
        status="returned",
    )
    customer.first, customer.last = first, last
    return customer


def test_value_summary_numbers(valued, client_for):
    response = client_for("account_manager").get(valued.get_absolute_url())
    assert response.status_code == 200
    value = response.context["value"]
    assert value.lifetime_spend == Decimal("350.49")
    assert value.orders == 2
    assert value.spend_last_12_months == Decimal("250.49")
    assert value.first_order_at == valued.first.ordered_at
    assert value.last_order_at == valued.last.ordered_at
    # 350.49 / 2 = 175.245: half-up to the cent is 175.25 (half-even would say 175.24).
    assert value.average_order_value == Decimal("175.25")
    assert isinstance(value.lifetime_spend, Decimal)

    html = response.content.decode()
    assert _testid(html, "lifetime-spend") == "350.49"
    values = re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", html)
    shown = dict(values)
    assert shown["Orders"] == "2"
    assert shown["Average order value"] == "175.25"
    assert shown["Spend in the last 12 months"] == "250.49"
    assert shown["First order"] == _local_date(valued.first.ordered_at)
    assert shown["Last order"] == _local_date(valued.last.ordered_at)


def test_a_customer_without_orders_shows_zeros(world, client_for):
    response = client_for("analyst").get(world.customer_team.get_absolute_url())
    value = response.context["value"]
    assert (value.lifetime_spend, value.orders, value.average_order_value) == (0, 0, 0)
    assert value.first_order_at is None
    assert _testid(response.content.decode(), "lifetime-spend") == "0.00"


def test_profile_contacts_consents_tags_orders_feedback(world, client_for):
    customer = world.customer_a
    customer.phone = "13912345678"
    customer.email = "alpha@example.com"
    customer.province, customer.district = "Shanghai", "Pudong"
    customer.custom_fields = {"plant_count": "3"}
    customer.save()
    Contact.objects.create(customer=customer, name="Qian Jun", title="Plant manager")
    Consent.objects.create(customer=customer, channel="email", status="opted_out")
    response = client_for("account_manager").get(customer.get_absolute_url())
    html = response.content.decode()
    for text in (
        "Alpha Steel",
        "A-001",
        "13912345678",
        "alpha@example.com",
        "Pudong",
        "Plant count",  # custom field label and value
        "Contact A",
        "Qian Jun",
        "Plant manager",
        "Decision maker (key man)",
        "key-account",
        "SO-A-1",
        "840.00",
        "Feedback from a",
        str(world.account_manager),
    ):
        assert text in html, text
    consents = re.findall(r"<tr><td>([^<]+)</td><td class=\"consent-(\w+)\">", html)
    assert consents == [("E-mail", "opted_out"), ("SMS", "opted_in")]
    assert "Beta Mining" not in html


def test_timeline_merges_every_channel_newest_first(world, client_for):
    customer = world.customer_team
    Interaction.objects.create(
        customer=customer, channel="visit", occurred_at=_days_ago(9), subject="Site visit"
    )
    Feedback.objects.create(
        customer=customer,
        kind="complaint",
        source="call",
        text="Late truck",
        received_at=_days_ago(7),
    )
    make_order(customer, "T-1", world.product, ordered_at=_days_ago(5))
    Interaction.objects.create(
        customer=customer,
        channel="sms",
        direction="in",
        occurred_at=_days_ago(3),
        subject="Reply STOP",
    )
    Interaction.objects.create(
        customer=customer, channel="hotline", occurred_at=_days_ago(1), subject="Hotline call"
    )
    response = client_for("service_agent").get(customer.get_absolute_url())
    timeline = response.context["timeline"]
    assert [e["kind"] for e in timeline] == [
        "interaction",
        "interaction",
        "order",
        "feedback",
        "interaction",
    ]
    html = response.content.decode()
    section = html[html.index('data-testid="timeline"') :]
    positions = [
        section.index(text)
        for text in ("Hotline call", "Reply STOP", "T-1", "Late truck", "Site visit")
    ]
    assert positions == sorted(positions)
    for label in ("Hotline", "SMS", "Visit", "Complaint", "Inbound"):
        assert label in section


def test_group_totals_on_the_parent_add_up_subsidiaries(world, client_for):
    p = world.product
    parent = Customer.objects.create(code="G-0", name="Group HQ", kind="organization")
    sub1 = Customer.objects.create(code="G-1", name="Sub One", kind="organization", parent=parent)
    sub2 = Customer.objects.create(code="G-2", name="Sub Two", kind="organization", parent=parent)
    grandchild = Customer.objects.create(
        code="G-11", name="Sub One Plant", kind="organization", parent=sub1
    )
    make_order(parent, "G-0-1", p, lines=((1, "100.00", "0"),))
    make_order(sub1, "G-1-1", p, lines=((1, "200.00", "0"),))
    make_order(sub2, "G-2-1", p, lines=((1, "300.00", "0"),))
    make_order(sub2, "G-2-X", p, lines=((1, "1000.00", "0"),), status="cancelled")
    make_order(grandchild, "G-11-1", p, lines=((1, "50.00", "0"),))

    client = client_for("marketing_manager")
    response = client.get(parent.get_absolute_url())
    assert response.context["value"].lifetime_spend == Decimal("100.00")
    group = response.context["group_value"]
    assert group.lifetime_spend == Decimal("650.00")
    assert group.orders == 4
    assert response.context["group_size"] == 4
    html = response.content.decode()
    assert _testid(html, "group-spend") == "650.00"
    assert "Group total (4 companies)" in html
    assert "Sub One" in html and "Sub Two" in html

    # A subsidiary without subsidiaries of its own shows no group block.
    response = client.get(sub2.get_absolute_url())
    assert response.context["group_value"] is None
    assert 'data-testid="group-spend"' not in response.content.decode()
    assert "Group HQ" in response.content.decode()  # link to its parent


class TestAddingFromThePage:
    def test_an_interaction_lands_back_on_the_page(self, world, client_for):
        client = client_for("service_agent")
        url = world.customer_a.get_absolute_url()
        page = client.get(url).content.decode()
        assert 'id="interaction-form"' in page
        assert f'action="{reverse("customers:interaction_add")}"' in page
        response = client.post(
            reverse("customers:interaction_add"),
            {
                "customer": "A-001",
                "contact": world.contact_a.pk,
                "channel": "phone",
                "direction": "out",
                "occurred_at": "2025-06-01T10:15",
                "subject": "Asked about the autumn price list",
                "reached": "true",
                "intent": "interested",
                "return": url,
            },
            follow=True,
        )
        assert response.redirect_chain == [(url, 302)]
        html = response.content.decode()
        assert "Asked about the autumn price list" in html
        interaction = Interaction.objects.get(subject="Asked about the autumn price list")
        assert interaction.user == world.service_agent
        assert interaction.reached is True
        assert interaction.contact == world.contact_a
        # Entered in Shanghai time, stored as the same instant.
        assert interaction.occurred_at == datetime.datetime(2025, 6, 1, 2, 15, tzinfo=datetime.UTC)
        assert "2025-06-01 10:15" in html

    def test_feedback_lands_back_on_the_page(self, world, client_for):
        client = client_for("service_agent")
        url = world.customer_a.get_absolute_url()
        response = client.post(
            reverse("customers:feedback_add"),
            {
                "customer": "A-001",
                "kind": "complaint",
                "source": "call",
                "text": "The invoice was sent twice",
                "status": "open",
                "received_at": "2025-06-02T08:00",
                "return": url,
            },
            follow=True,
        )
        assert response.redirect_chain == [(url, 302)]
        html = response.content.decode()
        feedback_section = html[html.index('id="feedback-h"') :]
        assert "The invoice was sent twice" in feedback_section
        assert Feedback.objects.get(text="The invoice was sent twice").user == world.service_agent

    def test_an_invalid_interaction_shows_the_error_instead(self, world, client_for):
        client = client_for("service_agent")
        url = world.customer_a.get_absolute_url()
        response = client.post(
            reverse("customers:interaction_add"),
            {"customer": "A-001", "channel": "pigeon", "direction": "out", "return": url},
        )
        assert response.status_code == 400
        assert "channel" in response.context["form"].errors
        assert response.context["return_url"] == url

    def test_a_return_to_another_site_is_ignored(self, world, client_for):
        response = client_for("service_agent").post(
            reverse("customers:interaction_add"),
            {
                "customer": "A-001",
                "channel": "phone",
                "direction": "out",
                "occurred_at": "2025-06-01T10:15",
                "return": "//evil.example.com/",
            },
        )
        assert response.status_code == 302
        assert response["Location"].startswith("/customers/interactions/")

    def test_roles_without_the_right_see_no_form(self, world, client_for):
        html = client_for("analyst").get(world.customer_a.get_absolute_url()).content.decode()
        assert 'id="interaction-form"' not in html
        assert 'id="feedback-form"' not in html
        assert 'data-testid="history"' in html
