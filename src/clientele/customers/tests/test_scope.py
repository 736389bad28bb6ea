"""An account manager sees and edits their own and their team's customers only, on every
page and endpoint; they cannot create records for another team's customer nor hand a
customer to another team. A service agent records interactions, feedback and consents
but does not edit customers. The second account manager (team B) is the mirror image.

Guards against: forms that looked customers up by code outside the user's scope (the
record was refused only after saving, with a bare 403), and an API that let an account
manager give a customer to another team's account manager by changing the owner alone."""

import pytest
from django.urls import reverse

from clientele.customers.models import Consent, Contact, Customer, Feedback, Interaction
from clientele.sales.models import Order
from clientele.sales.tests.test_views import order_form


@pytest.fixture
def spread(world):
    """Customers in every relation to account_manager (team A)."""
    return {
        "own, no team": Customer.objects.create(
            code="S-OWN", name="Own", owner=world.account_manager
        ),
        "own team, other owner": Customer.objects.create(
            code="S-TEAM", name="Teammate's", owner=world.account_manager_b, team=world.team_a
        ),
        "other team": Customer.objects.create(
            code="S-OTHER", name="Other team's", owner=world.account_manager_b, team=world.team_b
        ),
        "nobody's": Customer.objects.create(code="S-NONE", name="Unassigned"),
    }


VISIBLE = {"own, no team", "own team, other owner"}


def test_lists_pages_and_api_show_own_and_team_customers_only(spread, client_for, api_client_for):
    client = client_for("account_manager")
    html = client.get(reverse("customers:customer_list"), {"q": "S-"}).content.decode()
    api = api_client_for("account_manager")
    codes = {row["code"] for row in api.get("/api/customers/", {"search": "S-"}).json()["results"]}
    for label, customer in spread.items():
        visible = label in VISIBLE
        assert (f'href="{customer.get_absolute_url()}"' in html) is visible, label
        assert (customer.code in codes) is visible, label
        status = client.get(customer.get_absolute_url()).status_code
        assert status == (200 if visible else 404), label
        status = api.get(f"/api/customers/{customer.pk}/").status_code
        assert status == (200 if visible else 404), label


def test_the_other_team_sees_the_mirror_image(world, client_for):
    client = client_for("account_manager_b")
    assert client.get(world.customer_b.get_absolute_url()).status_code == 200
    assert client.get(world.customer_a.get_absolute_url()).status_code == 404
    assert client.get(world.order_a.get_absolute_url()).status_code == 404
    html = client.get(reverse("sales:order_list")).content.decode()
    assert "SO-B-1" in html and "SO-A-1" not in html


def test_home_page_counts_only_visible_customers(world, client_for):
    assert client_for("account_manager").get("/").context["customer_count"] == 2
    assert client_for("account_manager_b").get("/").context["customer_count"] == 1
    assert client_for("analyst").get("/").context["customer_count"] == 3


def test_children_of_another_teams_customer_are_hidden(world, client_for):
    client = client_for("account_manager")
    for obj in (
        world.contact_b,
        world.consent_b,
        world.interaction_b,
        world.feedback_b,
        world.order_b,
    ):
        assert client.get(obj.get_absolute_url()).status_code == 404, obj
    html = client.get(world.customer_a.get_absolute_url()).content.decode()
    assert "Contact A" in html


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("customers:contact_add", {"name": "Spy"}),
        (
            "customers:consent_add",
            {"channel": "email", "status": "opted_out", "recorded_at": "2025-01-01T10:00"},
        ),
        (
            "customers:interaction_add",
            {"channel": "phone", "direction": "out", "occurred_at": "2025-01-01T10:00"},
        ),
        (
            "customers:feedback_add",
            {
                "kind": "praise",
                "source": "call",
                "text": "x",
                "status": "open",
                "received_at": "2025-01-01T10:00",
            },
        ),
    ],
)
def test_cannot_add_records_for_another_teams_customer(world, client_for, url_name, data):
    model = {
        "contact": Contact,
        "consent": Consent,
        "interaction": Interaction,
        "feedback": Feedback,
    }[url_name.split(":")[1].removesuffix("_add")]
    count = model.objects.count()
    response = client_for("account_manager").post(reverse(url_name), data | {"customer": "B-001"})
    assert response.status_code == 400
    assert "customer" in response.context["form"].errors
    assert model.objects.count() == count


def test_cannot_create_an_order_for_another_teams_customer(world, client_for, api_client_for):
    count = Order.objects.count()
    data = order_form("B-001", "SO-SPY", [("SKU-CEM-1", "1", "1.00", "")])
    response = client_for("account_manager").post(reverse("sales:order_add"), data)
    assert response.status_code == 400
    assert "customer" in response.context["form"].errors

    payload = {
        "customer": "B-001",
        "number": "SO-SPY",
        "ordered_at": "2025-01-05T12:00:00Z",
        "lines": [{"product": "SKU-CEM-1", "quantity": "1", "unit_price": "1.00"}],
    }
    response = api_client_for("account_manager").post("/api/orders/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["customer"]
    assert Order.objects.count() == count


def test_cannot_move_an_order_to_another_teams_customer(world, api_client_for):
    response = api_client_for("account_manager").patch(
        f"/api/orders/{world.order_a.pk}/", {"customer": "B-001"}, format="json"
    )
    assert response.status_code == 400
    world.order_a.refresh_from_db()
    assert world.order_a.customer == world.customer_a


class TestReassigning:
    def _form(self, customer, **changes):
        data = {
            "code": customer.code,
            "kind": customer.kind,
            "name": customer.name,
            "status": customer.status,
            "owner": customer.owner_id or "",
            "team": customer.team_id or "",
        }
        return data | changes

    def test_form_refuses_another_teams_owner_or_team(self, world, client_for):
        client = client_for("account_manager")
        customer = world.customer_a
        url = reverse("customers:customer_edit", args=[customer.pk])
        for changes, field in (
            ({"owner": world.account_manager_b.pk}, "owner"),
            ({"owner": world.account_manager_b.pk, "team": world.team_b.pk}, "owner"),
            ({"team": world.team_b.pk}, "team"),
        ):
            response = client.post(url, self._form(customer, **changes))
            assert response.status_code == 400, changes
            assert field in response.context["form"].errors, changes
        customer.refresh_from_db()
        assert (customer.owner, customer.team) == (world.account_manager, world.team_a)

    def test_parent_must_be_an_organization_in_scope(self, world, client_for, api_client_for):
        customer = world.customer_team
        url = reverse("customers:customer_edit", args=[customer.pk])
        response = client_for("account_manager").post(url, self._form(customer, parent="B-001"))
        assert response.status_code == 400
        assert "parent" in response.context["form"].errors
        response = api_client_for("account_manager").patch(
            f"/api/customers/{customer.pk}/", {"parent": "B-001"}, format="json"
        )
        assert response.status_code == 400
        assert "parent" in response.json()["errors"]
        customer.refresh_from_db()
        assert customer.parent is None
        response = client_for("account_manager").post(url, self._form(customer, parent="A-001"))
        assert response.status_code == 302
        customer.refresh_from_db()
        assert customer.parent == world.customer_a

    def test_api_refuses_another_teams_owner_or_team(self, world, api_client_for):
        api = api_client_for("account_manager")
        customer = world.customer_a
        for changes in (
            {"owner": world.account_manager_b.pk},
            {"team": world.team_b.pk},
            {"owner": world.account_manager_b.pk, "team": world.team_b.pk},
        ):
            response = api.patch(f"/api/customers/{customer.pk}/", changes, format="json")
            assert response.status_code in (400, 403), changes
            customer.refresh_from_db()
            assert (customer.owner, customer.team) == (world.account_manager, world.team_a)
        response = api.patch(
            f"/api/customers/{customer.pk}/", {"owner": world.account_manager_b.pk}, format="json"
        )
        assert "owner" in response.json()["errors"]

    def test_api_refuses_creating_a_customer_for_another_team(self, world, api_client_for):
        response = api_client_for("account_manager").post(
            "/api/customers/",
            {"code": "S-NEW", "name": "New", "owner": world.account_manager_b.pk},
            format="json",
        )
        assert response.status_code == 400
        assert "owner" in response.json()["errors"]
        assert not Customer.objects.filter(code="S-NEW").exists()

    def test_a_teammate_may_take_over(self, world, api_client_for, client_for):
        world.account_manager_b.team = world.team_a
        world.account_manager_b.save()
        response = api_client_for("account_manager").patch(
            f"/api/customers/{world.customer_a.pk}/",
            {"owner": world.account_manager_b.pk},
            format="json",
        )
        assert response.status_code == 200, response.json()
        world.customer_a.refresh_from_db()
        assert world.customer_a.owner == world.account_manager_b

    def test_new_customers_default_to_the_account_manager(self, world, client_for):
        form = client_for("account_manager").get(reverse("customers:customer_add")).context["form"]
        assert form.initial["owner"] == world.account_manager.pk
        assert form.initial["team"] == world.team_a.pk
        assert set(form.fields["team"].queryset) == {world.team_a}

    def test_marketing_manager_may_reassign_across_teams(self, world, client_for):
        customer = world.customer_a
        response = client_for("marketing_manager").post(
            reverse("customers:customer_edit", args=[customer.pk]),
            self._form(customer, owner=world.account_manager_b.pk, team=world.team_b.pk),
        )
        assert response.status_code == 302
        customer.refresh_from_db()
        assert customer.team == world.team_b


class TestServiceAgent:
    def test_records_interactions_feedback_and_consents_for_any_customer(
        self, world, api_client_for
    ):
        api = api_client_for("service_agent")
        for endpoint, payload in (
            ("/api/interactions/", {"customer": "B-001", "channel": "hotline", "subject": "Q"}),
            (
                "/api/feedback/",
                {
                    "customer": "B-001",
                    "kind": "question",
                    "source": "call",
                    "text": "Opening hours?",
                },
            ),
            ("/api/consents/", {"customer": "B-001", "channel": "phone", "status": "opted_out"}),
        ):
            assert api.post(endpoint, payload, format="json").status_code == 201, endpoint

    def test_cannot_edit_or_delete_customers(self, world, client_for, api_client_for):
        customer = world.customer_a
        client = client_for("service_agent")
        assert client.get(reverse("customers:customer_edit", args=[customer.pk])).status_code == 403
        response = client.post(
            reverse("customers:customer_edit", args=[customer.pk]),
            {"code": "A-001", "kind": "person", "name": "Hijacked", "status": "lost"},
        )
        assert response.status_code == 403
        api = api_client_for("service_agent")
        response = api.patch(f"/api/customers/{customer.pk}/", {"name": "Hijacked"}, format="json")
        assert response.status_code == 403
        assert api.delete(f"/api/customers/{customer.pk}/").status_code == 403
        customer.refresh_from_db()
        assert customer.name == "Alpha Steel"

    def test_360_page_offers_the_forms_but_no_edit_button(self, world, client_for):
        html = client_for("service_agent").get(world.customer_a.get_absolute_url())
        text = html.content.decode()
        assert 'id="interaction-form"' in text and 'id="feedback-form"' in text
        assert reverse("customers:customer_edit", args=[world.customer_a.pk]) not in text


def test_analyst_reads_everything_but_changes_nothing(world, client_for, api_client_for):
    client = client_for("analyst")
    assert client.get(world.customer_b.get_absolute_url()).status_code == 200
    html = client.get(reverse("customers:customer_list")).content.decode()
    assert reverse("customers:customer_add") not in html
    assert "export=csv" in html
    api = api_client_for("analyst")
    for endpoint, payload in (
        ("/api/customers/", {"code": "AN-1", "name": "x"}),
        ("/api/interactions/", {"customer": "A-001", "channel": "phone"}),
        ("/api/interactions/bulk/", [{"customer": "A-001", "channel": "phone"}]),
        ("/api/orders/bulk/", []),
    ):
        assert api.post(endpoint, payload, format="json").status_code == 403, endpoint
