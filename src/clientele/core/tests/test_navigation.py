"""The menu per role: every item a user sees opens (no 403 behind a visible link), and
items they may not open are not shown. Checked for the areas of this part of the product
(customers, catalog, sales, administration)."""

import pytest
from django.urls import reverse

from clientele.core.tests.declarative import ROLES

SECTIONS = {"customers", "catalog", "sales", "admin"}
LISTS = {
    "customers:customer_list": "customers.view_customer",
    "customers:tag_list": "customers.view_tag",
    "catalog:product_list": "catalog.view_product",
    "sales:order_list": "sales.view_order",
    "core:user_list": "core.view_user",
    "core:team_list": "core.view_team",
    "core:auditentry_list": "core.view_auditentry",
}
EXPECTED_ADMIN_MENU = {
    "administrator": {"Users", "Teams", "Audit log", "API documentation"},
    "marketing_manager": {"Users", "Teams", "API documentation"},
    "account_manager": {"Teams", "API documentation"},
    "service_agent": {"API documentation"},
    "analyst": {"Users", "Teams", "API documentation"},
}


@pytest.mark.parametrize("role", ROLES)
def test_every_visible_menu_item_opens(role, world, client_for):
    client = client_for(role)
    response = client.get("/")
    assert response.status_code == 200
    menu = {s["key"]: s for s in response.context["menu"]}
    items = [item for key, s in menu.items() if key in SECTIONS for item in s["items"]]
    assert items
    for item in items:
        assert client.get(item["url"]).status_code == 200, (role, item["url"])
    admin = {str(item["label"]) for item in menu.get("admin", {"items": []})["items"]}
    assert admin == EXPECTED_ADMIN_MENU[role]
    shown = {item["url"] for item in items}
    user = world.users[role]
    for name, perm in LISTS.items():
        assert (reverse(name) in shown) is user.has_perm(perm), (role, name)


def test_the_home_page_shows_each_role_its_numbers(world, client_for):
    assert client_for("service_agent").get("/").context["open_feedback"] == 2
    assert client_for("account_manager").get("/").context["open_feedback"] == 1
