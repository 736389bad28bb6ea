"""The pages people use every day, in a real browser: sign-in, the customer list with
search and filters, the 360 page, adding an interaction, and switching language."""

import pytest

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_refuses_a_wrong_password_then_lets_the_user_in(page, admin_user):
    sign_in(page, password="wrong-password")
    assert page.locator("[role=alert]").is_visible()
    assert "/login/" in page.url
    sign_in(page)
    page.wait_for_url(page.base_url + "/")
    assert page.locator("h1").inner_text() == "Home"


def test_customer_list_search_and_filter(page, shop):
    sign_in(page)
    page.goto(page.base_url + "/customers/customers/")
    rows = page.locator("table.table tbody tr")
    assert rows.count() == 3
    page.fill(".filters input[name=q]", "王")
    page.click(".filters button[type=submit]")
    assert rows.count() == 1
    assert "C100" in rows.first.inner_text()
    page.click("text=Clear")
    page.select_option(".filters select[name=status]", "prospect")
    page.click(".filters button[type=submit]")
    assert rows.count() == 1
    assert "李强" in rows.first.inner_text()


def test_360_page_shows_profile_value_and_timeline(page, shop):
    sign_in(page)
    page.goto(page.base_url + shop["wang"].get_absolute_url())
    assert "王芳" in page.locator("h1").inner_text()
    assert page.get_by_test_id("lifetime-spend").inner_text() == "100.00"
    assert "S-1" in page.get_by_test_id("timeline").inner_text()
    assert page.locator("a.tag", has_text="VIP").is_visible()
    page.goto(page.base_url + shop["org"].get_absolute_url())
    assert (
        "赵总"
        in page.locator("#contacts-h + div, section[aria-labelledby=contacts-h]").first.inner_text()
    )


def test_adding_an_interaction_from_the_360_page_takes_two_clicks(page, shop):
    sign_in(page)
    page.goto(page.base_url + shop["wang"].get_absolute_url())
    page.get_by_test_id("add-interaction").click()  # click one: open the form
    form = page.locator("#interaction-form")
    form.locator("select[name=channel]").select_option("phone")
    form.locator("input[name=subject]").fill("Asked about the new towels")
    page.get_by_test_id("save-interaction").click()  # click two: save
    page.wait_for_url(page.base_url + shop["wang"].get_absolute_url())
    assert "Asked about the new towels" in page.get_by_test_id("timeline").inner_text()


def test_switching_language_renders_pages_in_chinese(page, shop):
    sign_in(page)
    page.goto(page.base_url + "/customers/customers/")
    with page.expect_navigation():
        page.get_by_test_id("language").select_option("zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "客户" in page.locator("h1").inner_text()
    # The choice is stored on the user: a new page keeps it.
    page.goto(page.base_url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
