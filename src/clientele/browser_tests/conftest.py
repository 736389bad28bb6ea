"""Fixtures for browser tests: Debian's Chromium driven by Playwright against Django's
live test server. Playwright never downloads a browser here; it uses the system one."""

import os
import shutil
from decimal import Decimal

import pytest
from django.utils import timezone

from clientele.core.testing import need

PASSWORD = "Browser-test-2026!"


def _chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def browser(monkeypatch):
    """A fresh Chromium per test. Playwright's sync API keeps an event loop running in
    this thread while it is started, and Django's ORM refuses to work in a thread with a
    running loop; so the loop lives only as long as one browser test, with
    DJANGO_ALLOW_ASYNC_UNSAFE set for exactly that long (subprocesses of other tests must
    not inherit it: `check --deploy` rightly refuses it)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    path = _chromium_path()
    need("Chromium", path is not None, "install Debian's chromium package")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # the test extra is not installed
        need("Playwright", False, "pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def admin_user(transactional_db):
    from clientele.core.models import Role, User

    user = User(username="boss", role=Role.ADMINISTRATOR, is_superuser=True, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def shop(admin_user):
    """A small shop: a few customers, one with orders, a contact and a consent."""
    from clientele.catalog.models import Product
    from clientele.customers.models import Consent, Contact, Customer, Tag
    from clientele.sales.models import Order
    from clientele.sales.services import save_order_with_lines

    vip = Tag.objects.create(name="VIP")
    wang = Customer.objects.create(
        code="C100", name="王芳", kind="person", status="active", city="上海", phone="13800000001"
    )
    wang.tags.add(vip)
    Customer.objects.create(code="C200", name="李强", status="prospect", city="北京")
    org = Customer.objects.create(
        code="ORG1", name="华东棉业有限公司", kind="organization", status="active", city="上海"
    )
    Contact.objects.create(customer=org, name="赵总", title="总经理", decision_role="key_man")
    Consent.objects.create(customer=wang, channel="sms", status="opted_in", source="store form")
    towel = Product.objects.create(sku="TW-1", name="Towel", list_price=Decimal("25.00"))
    save_order_with_lines(
        Order(customer=wang, number="S-1", ordered_at=timezone.now(), status="paid"),
        [{"product": towel, "quantity": Decimal(4), "unit_price": Decimal("25.00")}],
    )
    return {"wang": wang, "org": org}


def sign_in(page, username="boss", password=PASSWORD):
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
