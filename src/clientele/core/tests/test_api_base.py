"""The API as a whole: token sign-in, the OpenAPI 3 schema (valid per the spec), the docs
page served entirely from our own static files, pagination, and errors as JSON."""

import json
import re

import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from clientele.conftest import PASSWORD


class TestToken:
    def test_a_token_for_a_user_name_and_password(self, world):
        client = APIClient()
        response = client.post("/api/token/", {"username": "analyst", "password": PASSWORD})
        assert response.status_code == 200
        token = response.json()["token"]
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get("/api/customers/").status_code == 200
        # The same token every time, until revoked.
        again = APIClient().post("/api/token/", {"username": "analyst", "password": PASSWORD})
        assert again.json()["token"] == token

    def test_a_wrong_password_gets_no_token(self, world):
        response = APIClient().post("/api/token/", {"username": "analyst", "password": "nope"})
        assert response.status_code == 400
        assert "token" not in response.json()

    def test_a_bad_or_revoked_token_is_refused(self, world, api_client_for):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
        assert client.get("/api/customers/").status_code == 401
        api = api_client_for("analyst")
        world.analyst.auth_token.delete()
        assert api.get("/api/customers/").status_code == 401

    @pytest.mark.parametrize("key", ["abc';--", "a\x00b", "x" * 300, "%s"])
    def test_a_malformed_token_is_refused_not_an_error(self, world, key):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        response = client.get("/api/customers/")
        assert response.status_code == 401
        assert response.json()["detail"] == "Invalid token."

    def test_the_token_signs_in_the_whole_user(self, world, api_client_for):
        """The token's user is read with every field (role, team): an account manager
        signed in by token still sees only their own team's customers."""
        response = api_client_for("account_manager").get("/api/customers/", {"page_size": 500})
        codes = {row["code"] for row in response.json()["results"]}
        assert codes and all(code.startswith("A-") for code in codes)

    def test_an_inactive_user_is_refused(self, world, api_client_for):
        api = api_client_for("analyst")
        world.analyst.is_active = False
        world.analyst.save()
        assert api.get("/api/customers/").status_code == 401


@pytest.fixture
def schema(world, api_client_for):
    response = api_client_for("analyst").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_schema_describes_every_endpoint_and_token_auth(schema):
    paths = schema["paths"]
    for path in (
        "/api/customers/",
        "/api/customers/{id}/",
        "/api/contacts/",
        "/api/consents/",
        "/api/interactions/",
        "/api/interactions/bulk/",
        "/api/feedback/",
        "/api/tags/",
        "/api/products/",
        "/api/product-categories/",
        "/api/orders/",
        "/api/orders/bulk/",
        "/api/orders/{id}/",
    ):
        assert path in paths, path
    schemes = schema["components"]["securitySchemes"]
    assert any(
        s.get("type") == "apiKey" and s.get("name") == "Authorization" for s in schemes.values()
    )
    params = {p["name"] for p in paths["/api/customers/"]["get"]["parameters"]}
    assert {"page", "page_size", "ordering", "search", "status"} <= params


def test_schema_needs_a_signed_in_user(db):
    assert APIClient().get("/api/schema/").status_code == 401


def test_docs_page_loads_nothing_from_another_host(world, client_for):
    response = client_for("analyst").get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "SwaggerUIBundle" in html
    assert not re.search(r"https?://", html), re.findall(r"https?://[^\"' ]+", html)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page loads its script and style"
    for asset in assets:
        assert asset.startswith("/static/"), asset
    for asset in assets:
        assert client_for("analyst").get(asset).status_code == 200, asset
    # Swagger UI's standalone layout shows a badge fetched from validator.swagger.io unless
    # validatorUrl is null; the base layout (what we serve) has no badge.
    assert "StandaloneLayout" not in html or '"validatorUrl": null' in html


def test_api_root_lists_the_endpoints(world, api_client_for):
    response = api_client_for("analyst").get("/api/")
    assert response.status_code == 200
    assert {"customers", "orders", "interactions"} <= set(response.json())


class TestPaginationAndErrors:
    def test_pages_have_a_count_and_links(self, world, api_client_for):
        api = api_client_for("analyst")
        first = api.get("/api/customers/", {"page_size": 2, "ordering": "code"}).json()
        assert first["count"] == 3
        assert [c["code"] for c in first["results"]] == ["A-001", "A-002"]
        assert "page=2" in first["next"] and first["previous"] is None
        second = api.get(first["next"]).json()
        assert [c["code"] for c in second["results"]] == ["B-001"]
        assert second["next"] is None

    def test_page_size_is_capped(self, world, api_client_for):
        api = api_client_for("analyst")
        assert api.get("/api/customers/", {"page_size": 10**6}).status_code == 200

    def test_a_page_past_the_end_is_a_json_404(self, world, api_client_for):
        response = api_client_for("analyst").get("/api/customers/", {"page": 9})
        assert response.status_code == 404
        assert "detail" in response.json()

    def test_validation_errors_name_every_bad_field(self, world, api_client_for):
        response = api_client_for("marketing_manager").post(
            "/api/customers/",
            {"code": "", "kind": "alien", "email": "not-an-email", "birthday": "2001-02-30"},
            format="json",
        )
        assert response.status_code == 400
        body = response.json()
        assert body["detail"] == "Invalid input."
        assert set(body["errors"]) == {"code", "name", "kind", "email", "birthday"}
        assert all(isinstance(m, list) and m for m in body["errors"].values())

    def test_model_rules_come_back_under_their_field(self, world, api_client_for):
        response = api_client_for("marketing_manager").post(
            "/api/customers/",
            {
                "code": "ORG-1",
                "name": "Org",
                "kind": "organization",
                "birthday": "2001-02-03",
                "annual_demand": "100",
            },
            format="json",
        )
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"birthday", "demand_unit"}

    def test_a_missing_record_is_a_json_404(self, world, api_client_for):
        response = api_client_for("analyst").get("/api/customers/999999/")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")

    def test_deleting_a_customer_with_orders_is_refused_not_a_crash(self, world, api_client_for):
        response = api_client_for("administrator").delete(f"/api/customers/{world.customer_a.pk}/")
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "non_field_errors": ["This record cannot be deleted while other records refer to it."]
        }
        assert world.customer_a.__class__.objects.filter(pk=world.customer_a.pk).exists()
