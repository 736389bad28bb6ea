"""The customer-domain API beyond permissions: filtering, search, ordering, pagination,
bulk create of interactions (all or nothing, errors keyed by row index and field) and
single-record errors that name each bad field."""

import pytest

from clientele.customers.models import Customer, Interaction


@pytest.fixture
def api(world, api_client_for):
    return api_client_for("marketing_manager")


def _codes(response):
    assert response.status_code == 200, response.json()
    return [row["code"] for row in response.json()["results"]]


class TestCustomers:
    def test_filters(self, api, world):
        assert _codes(api.get("/api/customers/", {"status": "prospect"})) == ["A-002"]
        assert set(_codes(api.get("/api/customers/", {"team": world.team_a.pk}))) == {
            "A-001",
            "A-002",
        }
        assert _codes(api.get("/api/customers/", {"city": "Chengdu"})) == ["B-001"]
        assert _codes(api.get("/api/customers/", {"tag": world.tag.pk})) == ["A-001"]
        assert _codes(api.get("/api/customers/", {"q": "Beta"})) == ["B-001"]
        assert _codes(api.get("/api/customers/", {"search": "alpha"})) == ["A-001"]

    def test_an_invalid_filter_is_a_400_naming_it(self, api):
        response = api.get("/api/customers/", {"status": "sleeping"})
        assert response.status_code == 400
        assert "status" in response.json()["errors"]

    def test_ordering(self, api):
        assert _codes(api.get("/api/customers/", {"ordering": "name"})) == [
            "A-001",
            "A-002",
            "B-001",
        ]
        assert _codes(api.get("/api/customers/", {"ordering": "-code"})) == [
            "B-001",
            "A-002",
            "A-001",
        ]
        # Not an ordering field: ignored, default order (newest first).
        assert _codes(api.get("/api/customers/", {"ordering": "notes"})) == [
            "B-001",
            "A-002",
            "A-001",
        ]

    def test_tags_and_parent_by_natural_key(self, api, world):
        parent = Customer.objects.create(code="P-1", name="Parent", kind="organization")
        response = api.post(
            "/api/customers/",
            {"code": "C-1", "name": "Child", "parent": "P-1", "tags": ["key-account"]},
            format="json",
        )
        assert response.status_code == 201, response.json()
        child = Customer.objects.get(code="C-1")
        assert child.parent == parent
        assert list(child.tags.all()) == [world.tag]
        response = api.post(
            "/api/customers/", {"code": "C-2", "name": "x", "tags": ["nope"]}, format="json"
        )
        assert response.status_code == 400
        assert "tags" in response.json()["errors"]

    def test_a_customer_cannot_be_its_own_parent(self, api, world):
        org = world.customer_a
        response = api.patch(f"/api/customers/{org.pk}/", {"parent": "A-001"}, format="json")
        assert response.status_code == 400
        assert "parent" in response.json()["errors"]

    def test_duplicate_code(self, api):
        response = api.post("/api/customers/", {"code": "A-001", "name": "Dup"}, format="json")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["code"]


class TestInteractionBulk:
    def rows(self, n=3):
        return [
            {
                "customer": "A-001" if i % 2 == 0 else "B-001",
                "channel": "phone",
                "direction": "out",
                "occurred_at": f"2025-03-0{i + 1}T08:00:00+08:00",
                "subject": f"Bulk call {i}",
                "reached": i % 2 == 0,
            }
            for i in range(n)
        ]

    def test_all_rows_are_created(self, api, world):
        response = api.post("/api/interactions/bulk/", self.rows(), format="json")
        assert response.status_code == 201
        assert response.json() == {"created": 3}
        created = Interaction.objects.filter(subject__startswith="Bulk call").order_by("subject")
        assert [i.customer.code for i in created] == ["A-001", "B-001", "A-001"]
        assert {i.user for i in created} == {world.marketing_manager}

    def test_one_bad_row_rejects_all_with_errors_by_row_and_field(self, api):
        rows = self.rows(4)
        rows[1]["customer"] = "NOPE"
        rows[3]["channel"] = "pigeon"
        rows[3]["occurred_at"] = "yesterday"
        response = api.post("/api/interactions/bulk/", rows, format="json")
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert set(errors) == {"1", "3"}
        assert set(errors["1"]) == {"customer"}
        assert set(errors["3"]) == {"channel", "occurred_at"}
        assert not Interaction.objects.filter(subject__startswith="Bulk call").exists()

    def test_a_contact_of_another_customer_is_refused_by_row(self, api, world):
        rows = self.rows(2)
        rows[0]["contact"] = world.contact_b.pk  # row 0 is for A-001
        response = api.post("/api/interactions/bulk/", rows, format="json")
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"0"}
        assert "contact" in response.json()["errors"]["0"]

    def test_an_account_manager_cannot_bulk_into_another_team(self, world, api_client_for):
        response = api_client_for("account_manager").post(
            "/api/interactions/bulk/", self.rows(2), format="json"
        )
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"1"}
        assert "customer" in response.json()["errors"]["1"]
        assert not Interaction.objects.filter(subject__startswith="Bulk call").exists()

    def test_not_a_list(self, api):
        response = api.post("/api/interactions/bulk/", {"customer": "A-001"}, format="json")
        assert response.status_code == 400
        assert "non_field_errors" in response.json()["errors"]

    def test_an_empty_list_creates_nothing(self, api):
        response = api.post("/api/interactions/bulk/", [], format="json")
        assert (response.status_code, response.json()) == (201, {"created": 0})
        assert Interaction.objects.count() == 2


def test_single_create_names_each_bad_field(api):
    response = api.post(
        "/api/interactions/",
        {"customer": "NOPE", "channel": "pigeon", "direction": "sideways"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"customer", "channel", "direction"}
    response = api.post("/api/feedback/", {"customer": "A-001"}, format="json")
    assert set(response.json()["errors"]) == {"kind", "source", "text"}
    response = api.post(
        "/api/consents/", {"customer": "A-001", "channel": "sms", "status": "opted_in"}
    )
    assert response.status_code == 400  # one consent per customer and channel
    assert "errors" in response.json()
