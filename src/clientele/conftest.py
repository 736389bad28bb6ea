"""Shared fixtures: a user of every role, two teams, and a small company with customers,
contacts, consents, interactions, feedback, products and orders on both teams' sides, so
every test can ask "may this role do that?" and "can team A see team B's data?".

- `users` maps a role key to a user; the keys are ROLE_KEYS. `account_manager` is in team
  A, `account_manager_b` in team B. Each role also has its own fixture.
- `world` is a namespace of records: `customer_a` (owned by account_manager, team A),
  `customer_team` (team A, no owner), `customer_b` (account_manager_b, team B), and each
  one's `contact_*`, `consent_*`, `interaction_*`, `feedback_*`, `order_*`.
- `client_for(role)` is a Django test Client signed in as that role (no password check);
  `api_client_for(role)` is a DRF APIClient authenticating with the user's token.

Every fixture user has the same password, PASSWORD, hashed once per test session with the
configured hasher (Argon2), so creating users costs nothing and logging in still works.
"""

import datetime
import functools
from decimal import Decimal
from types import SimpleNamespace

import pytest

PASSWORD = "Quiet-Harbour-2026"

ROLE_KEYS = (
    "administrator",
    "marketing_manager",
    "account_manager",
    "account_manager_b",
    "service_agent",
    "analyst",
)


@functools.cache
def password_hash() -> str:
    """PASSWORD hashed once with the production hasher (Argon2 is slow by design)."""
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


@pytest.fixture
def team_a(db):
    from clientele.core.models import Team

    return Team.objects.create(name="Team A", description="East region")


@pytest.fixture
def team_b(db):
    from clientele.core.models import Team

    return Team.objects.create(name="Team B", description="West region")


@pytest.fixture
def users(db, team_a, team_b) -> dict:
    from clientele.core.models import Role, User

    specs = {
        "administrator": (Role.ADMINISTRATOR, None),
        "marketing_manager": (Role.MARKETING_MANAGER, None),
        "account_manager": (Role.ACCOUNT_MANAGER, team_a),
        "account_manager_b": (Role.ACCOUNT_MANAGER, team_b),
        "service_agent": (Role.SERVICE_AGENT, None),
        "analyst": (Role.ANALYST, None),
    }
    return {
        key: User.objects.create(
            username=key,
            first_name=key.replace("_", " ").title(),
            email=f"{key}@example.com",
            password=password_hash(),
            role=role,
            team=team,
            is_staff=role == Role.ADMINISTRATOR,
        )
        for key, (role, team) in specs.items()
    }


@pytest.fixture
def administrator(users):
    return users["administrator"]


@pytest.fixture
def marketing_manager(users):
    return users["marketing_manager"]


@pytest.fixture
def account_manager(users):
    return users["account_manager"]


@pytest.fixture
def account_manager_b(users):
    return users["account_manager_b"]


@pytest.fixture
def service_agent(users):
    return users["service_agent"]


@pytest.fixture
def analyst(users):
    return users["analyst"]


def make_order(customer, number, product, lines=((2, "420.00", "0"),), **fields):
    """An order with lines through the order service (so the total is computed)."""
    from clientele.sales.models import Order
    from clientele.sales.services import save_order_with_lines

    fields.setdefault("ordered_at", datetime.datetime(2025, 3, 1, 2, 0, tzinfo=datetime.UTC))
    order = Order(customer=customer, number=number, **fields)
    return save_order_with_lines(
        order,
        [
            {
                "product": product,
                "quantity": Decimal(str(quantity)),
                "unit_price": Decimal(price),
                "discount": Decimal(discount),
            }
            for quantity, price, discount in lines
        ],
    )


@pytest.fixture
def world(users, team_a, team_b):
    """A small company: both teams' customers with everything hanging off them."""
    from clientele.catalog.models import Product, ProductCategory
    from clientele.customers.models import (
        Consent,
        Contact,
        Customer,
        CustomField,
        Feedback,
        Interaction,
        Tag,
    )

    at = datetime.datetime(2025, 2, 1, 1, 0, tzinfo=datetime.UTC)
    w = SimpleNamespace(users=users, team_a=team_a, team_b=team_b, **users)
    w.category = ProductCategory.objects.create(code="CEM", name="Cement")
    w.product = Product.objects.create(
        sku="SKU-CEM-1",
        name="Portland cement",
        category=w.category,
        unit="t",
        list_price=Decimal("420.00"),
        cost=Decimal("300.00"),
        role="profit",
    )
    w.tag = Tag.objects.create(name="key-account", description="Big buyers")
    w.custom_field = CustomField.objects.create(
        key="plant_count", label="Plant count", label_zh="工厂数", type="number"
    )
    w.customer_a = Customer.objects.create(
        code="A-001",
        kind="organization",
        name="Alpha Steel",
        status="active",
        city="Shanghai",
        owner=users["account_manager"],
        team=team_a,
    )
    w.customer_a.tags.add(w.tag)
    w.customer_team = Customer.objects.create(
        code="A-002", name="Anhui Teammate Trading", status="prospect", team=team_a
    )
    w.customer_b = Customer.objects.create(
        code="B-001",
        kind="organization",
        name="Beta Mining",
        status="active",
        city="Chengdu",
        owner=users["account_manager_b"],
        team=team_b,
    )
    for side, customer in (("a", w.customer_a), ("b", w.customer_b)):
        setattr(
            w,
            f"contact_{side}",
            Contact.objects.create(
                customer=customer, name=f"Contact {side.upper()}", decision_role="key_man"
            ),
        )
        setattr(
            w,
            f"consent_{side}",
            Consent.objects.create(
                customer=customer, channel="sms", status="opted_in", recorded_at=at, source="form"
            ),
        )
        setattr(
            w,
            f"interaction_{side}",
            Interaction.objects.create(
                customer=customer, channel="visit", occurred_at=at, subject=f"Visit {side}"
            ),
        )
        setattr(
            w,
            f"feedback_{side}",
            Feedback.objects.create(
                customer=customer,
                kind="suggestion",
                source="visit",
                text=f"Feedback from {side}",
                received_at=at,
            ),
        )
        setattr(w, f"order_{side}", make_order(customer, f"SO-{side.upper()}-1", w.product))
    return w


@pytest.fixture
def client_for(users):
    """client_for("analyst") -> a Client signed in as that role's user (or pass a User)."""
    from django.test import Client

    def make(who, **kwargs):
        user = users[who] if isinstance(who, str) else who
        client = Client(**kwargs)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for(users):
    """api_client_for("analyst") -> an APIClient sending that user's API token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(who):
        user = users[who] if isinstance(who, str) else who
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_the_end(django_db_setup, django_db_blocker):
    """PostgreSQL refuses to drop a database with sessions in it. Tests that SIGKILL a
    worker process leave its session until the server notices; end such sessions before
    the test database is dropped, so no run leaves a database behind."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def make_customers(db):
    """make(count, prefix="C", **fields): that many customers in one bulk insert, each
    with a phone and an e-mail (so every channel can reach them); returns their ids."""
    from clientele.customers.models import Customer

    def make(count, prefix="C", **fields):
        start = Customer.objects.count()
        rows = [
            Customer(
                code=f"{prefix}{start + i:07d}",
                name=f"Customer {start + i}",
                phone=f"+86138{start + i:08d}",
                email=f"c{start + i}@example.com",
                **fields,
            )
            for i in range(count)
        ]
        Customer.objects.bulk_create(rows, batch_size=5000)
        return list(
            Customer.objects.filter(code__in=[r.code for r in rows])
            .order_by("id")
            .values_list("id", flat=True)
        )

    return make
