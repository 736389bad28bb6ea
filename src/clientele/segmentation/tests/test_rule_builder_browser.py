"""The rule builder of the definition edit page in a real browser: adding conditions
writes the expression into the parameters box and the live count (htmx, debounced)
follows. Guards against: a builder that writes JSON the compiler refuses, a count that
does not update while typing."""

import json

import pytest

from clientele.browser_tests.conftest import admin_user, browser, page, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_builder_writes_the_expression_and_the_count_follows(page, admin_user):  # noqa: F811
    from clientele.customers.models import Customer

    for i, city in enumerate(["Hangzhou", "Hangzhou", "Ningbo"]):
        Customer.objects.create(code=f"R{i}", name=f"R{i}", city=city, status="active")
    sign_in(page)
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/segmentation/definitions/add/")
    page.select_option("#id_kind", "rule")
    count = page.locator("[data-testid=rule-count-result]")
    page.click("#rb-add")
    row = page.locator(".rb-row").first
    row.locator(".rb-field").select_option("city")
    row.locator(".rb-op").select_option("=")
    row.locator(".rb-value").fill("Hangzhou")
    page.wait_for_selector("[data-testid=rule-count][data-count='2']")
    assert "2 customers match" in count.inner_text()
    page.click("#rb-add")
    second = page.locator(".rb-row").nth(1)
    second.locator(".rb-field").select_option("spend")
    second.locator(".rb-op").select_option(">=")
    second.locator(".rb-value").fill("0")
    second.locator(".rb-extra").fill("365")
    page.select_option("#rb-join", "any")
    page.wait_for_selector("[data-testid=rule-count][data-count='3']")
    value = json.loads(page.input_value("#id_parameters"))
    assert value == {"expression": {"any": [
        {"field": "city", "op": "=", "value": "Hangzhou"},
        {"field": "spend", "op": ">=", "value": 0, "window_days": 365},
    ]}}  # fmt: skip
    second.locator(".rb-extra").fill("-1")
    page.wait_for_selector("[data-testid=rule-errors]")
    assert "any[1]" in page.inner_text("[data-testid=rule-errors]")
