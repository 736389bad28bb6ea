"""The audit trail: creating, editing and deleting customers, contacts, orders and consents
records who did it and exactly which fields changed (from the pages and from the API), and
the 360 page shows the history.

Guards against: API changes recorded without a user (token authentication happens after
the middleware that remembers the user), and edits that "change" a time field only because
the form's time zone differs from the database's."""

from decimal import Decimal

from django.urls import reverse

from clientele.core.models import AuditEntry
from clientele.customers.models import Consent, Contact, Customer
from clientele.sales.models import Order
from clientele.sales.tests.test_views import order_form


def entries(obj_type, object_id=None):
    qs = AuditEntry.objects.filter(object_type=obj_type)
    if object_id is not None:
        qs = qs.filter(object_id=object_id)
    return list(qs.order_by("id"))


class TestPages:
    def test_customer_create_edit_delete(self, world, client_for):
        client = client_for("marketing_manager")
        data = {"code": "AU-1", "kind": "person", "name": "Audit Person", "status": "prospect"}
        assert client.post(reverse("customers:customer_add"), data).status_code == 302
        customer = Customer.objects.get(code="AU-1")
        (created,) = entries("customers.customer", customer.pk)
        assert created.action == "create"
        assert created.user == world.marketing_manager
        assert created.customer_id == customer.pk
        assert created.changes["name"] == [None, "Audit Person"]
        assert created.changes["code"] == [None, "AU-1"]

        data |= {"name": "Audit Renamed", "status": "active"}
        url = reverse("customers:customer_edit", args=[customer.pk])
        assert client.post(url, data).status_code == 302
        updated = entries("customers.customer", customer.pk)[-1]
        assert updated.action == "update"
        assert updated.user == world.marketing_manager
        assert updated.changes == {
            "name": ["Audit Person", "Audit Renamed"],
            "status": ["prospect", "active"],
        }

        url = reverse("customers:customer_delete", args=[customer.pk])
        assert client.post(url).status_code == 302
        deleted = entries("customers.customer", customer.pk)[-1]
        assert deleted.action == "delete"
        assert deleted.user == world.marketing_manager
        assert deleted.object_repr == "Audit Renamed (AU-1)"

    def test_an_edit_that_changes_nothing_writes_nothing(self, world, client_for):
        customer = world.customer_a
        customer.annual_demand, customer.demand_unit = Decimal("12.500"), "t"
        customer.save()
        before = AuditEntry.objects.count()
        data = {
            "annual_demand": "12.5",  # typed shorter than stored: the same amount
            "demand_unit": "t",
            "code": customer.code,
            "kind": customer.kind,
            "name": customer.name,
            "status": customer.status,
            "city": customer.city,
            "owner": customer.owner_id,
            "team": customer.team_id,
            "tags": [world.tag.pk],
        }
        url = reverse("customers:customer_edit", args=[customer.pk])
        assert client_for("marketing_manager").post(url, data).status_code == 302
        assert AuditEntry.objects.count() == before

    def test_contact_changes_belong_to_the_customer(self, world, client_for):
        client = client_for("account_manager")
        data = {"customer": "A-001", "name": "Zhao Min", "title": "Buyer"}
        assert client.post(reverse("customers:contact_add"), data).status_code == 302
        contact = Contact.objects.get(name="Zhao Min")
        url = reverse("customers:contact_edit", args=[contact.pk])
        assert client.post(url, data | {"title": "Head of purchasing"}).status_code == 302
        created, updated = entries("customers.contact", contact.pk)
        assert (created.action, updated.action) == ("create", "update")
        assert {created.user, updated.user} == {world.account_manager}
        assert created.customer_id == updated.customer_id == world.customer_a.pk
        assert updated.changes == {"title": ["Buyer", "Head of purchasing"]}

        admin = client_for("administrator")
        assert admin.post(reverse("customers:contact_delete", args=[contact.pk])).status_code == 302
        deleted = entries("customers.contact", contact.pk)[-1]
        assert (deleted.action, deleted.user) == ("delete", world.administrator)
        assert deleted.customer_id == world.customer_a.pk

    def test_consent_edit_records_only_what_changed(self, world, client_for):
        consent = world.consent_a  # recorded 2025-02-01 01:00 UTC = 09:00 in Shanghai
        data = {
            "customer": "A-001",
            "channel": "sms",
            "status": "opted_out",
            "recorded_at": "2025-02-01T09:00",
            "source": "form",
        }
        url = reverse("customers:consent_edit", args=[consent.pk])
        assert client_for("service_agent").post(url, data).status_code == 302
        entry = entries("customers.consent", consent.pk)[-1]
        assert entry.user == world.service_agent
        assert entry.changes == {"status": ["opted_in", "opted_out"]}

    def test_order_changes_record_the_total(self, world, client_for):
        client = client_for("account_manager")
        data = order_form("A-001", "SO-AUD-1", [("SKU-CEM-1", "2", "10.00", "")])
        assert client.post(reverse("sales:order_add"), data).status_code == 302
        order = Order.objects.get(number="SO-AUD-1")
        history = entries("sales.order", order.pk)
        assert history[0].action == "create"
        assert all(e.user == world.account_manager for e in history)
        assert history[-1].changes.get("total", [None, None])[1] == "20.00"

        data = order_form(
            "A-001", "SO-AUD-1", [("SKU-CEM-1", "3", "10.00", "")], status="completed"
        )
        url = reverse("sales:order_edit", args=[order.pk])
        assert client.post(url, data).status_code == 302
        changes = {}
        for entry in entries("sales.order", order.pk)[len(history) :]:
            assert entry.action == "update"
            changes |= entry.changes
        assert changes == {"status": ["paid", "completed"], "total": ["20.00", "30.00"]}

    def test_order_delete_is_recorded(self, world, client_for):
        order = world.order_a
        client = client_for("marketing_manager")
        assert client.post(reverse("sales:order_delete", args=[order.pk])).status_code == 302
        deleted = entries("sales.order", order.pk)[-1]
        assert (deleted.action, deleted.user) == ("delete", world.marketing_manager)
        assert deleted.customer_id == world.customer_a.pk
        assert deleted.object_repr == "SO-A-1"

    def test_history_is_on_the_360_page(self, world, client_for):
        client = client_for("marketing_manager")
        customer = world.customer_a
        data = {
            "code": customer.code,
            "kind": customer.kind,
            "name": "Alpha Steel Group",
            "status": customer.status,
            "owner": customer.owner_id,
            "team": customer.team_id,
        }
        client.post(reverse("customers:customer_edit", args=[customer.pk]), data)
        client.post(
            reverse("customers:contact_edit", args=[world.contact_a.pk]),
            {"customer": "A-001", "name": "Contact A", "title": "CFO"},
        )
        response = client.get(customer.get_absolute_url())
        history = list(response.context["history"])
        assert {e.object_type for e in history} >= {"customers.customer", "customers.contact"}
        assert all(e.customer_id == customer.pk for e in history)
        assert not any(e.customer_id == world.customer_b.pk for e in history)
        html = response.content.decode()
        section = html[html.index('data-testid="history"') :]
        assert "Alpha Steel → Alpha Steel Group" in section
        assert "CFO" in section
        assert str(world.marketing_manager) in section


class TestApi:
    def test_api_changes_record_the_token_user(self, world, api_client_for):
        api = api_client_for("marketing_manager")
        response = api.post("/api/customers/", {"code": "AU-API", "name": "Api"}, format="json")
        assert response.status_code == 201
        pk = response.json()["id"]
        assert (
            api.patch(f"/api/customers/{pk}/", {"name": "Api 2"}, format="json").status_code == 200
        )
        assert api.delete(f"/api/customers/{pk}/").status_code == 204
        history = entries("customers.customer", pk)
        assert [e.action for e in history] == ["create", "update", "delete"]
        assert all(e.user == world.marketing_manager for e in history)
        assert history[1].changes == {"name": ["Api", "Api 2"]}

    def test_api_consent_and_order_changes(self, world, api_client_for):
        api = api_client_for("service_agent")
        response = api.post(
            "/api/consents/", {"customer": "A-001", "channel": "email", "status": "opted_in"}
        )
        assert response.status_code == 201
        (entry,) = entries("customers.consent", response.json()["id"])
        assert (entry.user, entry.customer_id) == (world.service_agent, world.customer_a.pk)

        api = api_client_for("account_manager")
        order = {
            "customer": "A-001",
            "number": "SO-AUD-API",
            "ordered_at": "2025-01-05T12:00:00Z",
            "lines": [{"product": "SKU-CEM-1", "quantity": "1", "unit_price": "5.50"}],
        }
        response = api.post("/api/orders/", order, format="json")
        assert response.status_code == 201
        (entry,) = entries("sales.order", response.json()["id"])
        assert entry.user == world.account_manager
        assert entry.changes["total"] == [None, "5.50"]

    def test_bulk_records_the_user(self, world, api_client_for):
        api = api_client_for("account_manager")
        rows = [
            {
                "customer": "A-001",
                "number": f"SO-BULK-AUD-{i}",
                "ordered_at": "2025-01-05T12:00:00Z",
                "lines": [{"product": "SKU-CEM-1", "quantity": "1", "unit_price": "1.00"}],
            }
            for i in range(2)
        ]
        assert api.post("/api/orders/bulk/", rows, format="json").status_code == 201
        created = AuditEntry.objects.filter(object_repr__startswith="SO-BULK-AUD-")
        assert created.count() == 2
        assert {e.user for e in created} == {world.account_manager}


def test_consents_are_audited_when_deleted_with_their_customer(world, client_for):
    customer = Customer.objects.create(code="AU-DEL", name="To go")
    consent = Consent.objects.create(customer=customer, channel="sms", status="opted_in")
    client = client_for("marketing_manager")
    assert client.post(reverse("customers:customer_delete", args=[customer.pk])).status_code == 302
    (deleted,) = [e for e in entries("customers.consent", consent.pk) if e.action == "delete"]
    assert deleted.user == world.marketing_manager
    assert deleted.customer_id == customer.pk
