"""The order list: search by order number or customer, filters by status, channel, source,
date and total; exports hold the filtered list."""

import datetime

import pytest
from django.urls import reverse

from clientele.conftest import make_order
from clientele.core.tests.declarative import csv_rows


@pytest.fixture
def orders(world):
    p = world.product
    at = datetime.datetime(2025, 6, 1, 4, 0, tzinfo=datetime.UTC)
    make_order(
        world.customer_a,
        "W-1",
        p,
        lines=((1, "10.00", "0"),),
        source="web",
        channel="online",
        ordered_at=at,
    )
    make_order(
        world.customer_a,
        "W-2",
        p,
        lines=((1, "5000.00", "0"),),
        source="web",
        channel="online",
        status="cancelled",
        ordered_at=at + datetime.timedelta(days=2),
    )
    make_order(
        world.customer_team,
        "P-1",
        p,
        lines=((3, "100.00", "0"),),
        source="pos",
        channel="store",
        ordered_at=at + datetime.timedelta(days=5),
    )


def _numbers(response):
    return sorted(row.record.number for row in response.context["table"].paginated_rows)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "W-"}, ["W-1", "W-2"]),
        ({"q": "A-002"}, ["P-1"]),  # customer code
        ({"q": "teammate"}, ["P-1"]),  # customer name
        ({"status": "cancelled"}, ["W-2"]),
        ({"channel": "online"}, ["W-1", "W-2"]),
        ({"source": "web"}, ["W-1", "W-2"]),
        ({"after": "2025-06-02"}, ["P-1", "W-2"]),
        ({"before": "2025-06-01", "source": "web"}, ["W-1"]),
        ({"min_total": "300"}, ["P-1", "SO-A-1", "SO-B-1", "W-2"]),
    ],
)
def test_order_filters(orders, client_for, query, expected):
    response = client_for("marketing_manager").get(reverse("sales:order_list"), query)
    assert _numbers(response) == expected


def test_order_export_honours_filters(orders, client_for):
    response = client_for("analyst").get(
        reverse("sales:order_list"), {"source": "web", "sort": "number", "export": "csv"}
    )
    rows = csv_rows(response)
    header = rows[0]
    assert [r[0] for r in rows[1:]] == ["W-1", "W-2"]
    assert [r[header.index("Total")] for r in rows[1:]] == ["10.00", "5000.00"]
    assert [r[header.index("Status")] for r in rows[1:]] == ["Paid", "Cancelled"]


def test_an_account_manager_lists_only_team_orders(orders, client_for):
    response = client_for("account_manager").get(reverse("sales:order_list"))
    assert _numbers(response) == ["P-1", "SO-A-1", "W-1", "W-2"]


def test_api_filters_and_ordering(orders, api_client_for, world):
    api = api_client_for("analyst")
    body = api.get("/api/orders/", {"source": "web", "ordering": "-total"}).json()
    assert [o["number"] for o in body["results"]] == ["W-2", "W-1"]
    body = api.get("/api/orders/", {"customer": world.customer_team.pk}).json()
    assert [o["number"] for o in body["results"]] == ["P-1"]
    assert body["results"][0]["total"] == "300.00"
    assert body["results"][0]["customer"] == "A-002"
