"""Product and category lists and API: filters, search, ordering, and the money fields
(list price and cost in Decimal, never negative)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from clientele.catalog.models import Product, ProductCategory
from clientele.core.tests.declarative import csv_rows


@pytest.fixture
def products(world):
    steel = ProductCategory.objects.create(code="STL", name="Steel")
    Product.objects.create(
        sku="SKU-RB-1", name="Rebar", category=steel, list_price="3800.00", role="traffic"
    )
    Product.objects.create(
        sku="SKU-RB-2",
        name="Rebar (old)",
        category=steel,
        list_price="3500.00",
        role="traffic",
        active=False,
    )
    Product.objects.create(
        sku="SKU-WR-1", name="Wire rod", category=steel, list_price="4100.50", role="potential"
    )
    return steel


def _skus(response):
    return [row.record.sku for row in response.context["table"].paginated_rows]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "sku-rb"}, ["SKU-RB-1", "SKU-RB-2"]),
        ({"q": "rod"}, ["SKU-WR-1"]),
        ({"active": "false"}, ["SKU-RB-2"]),
        ({"role": "traffic", "active": "true"}, ["SKU-RB-1"]),
        ({"role": "profit"}, ["SKU-CEM-1"]),
    ],
)
def test_product_list_filters(products, client_for, query, expected):
    response = client_for("analyst").get(reverse("catalog:product_list"), query | {"sort": "sku"})
    assert _skus(response) == expected


def test_product_list_filter_by_category_and_export(products, client_for):
    client = client_for("analyst")
    response = client.get(
        reverse("catalog:product_list"), {"category": products.pk, "sort": "-list_price"}
    )
    assert _skus(response) == ["SKU-WR-1", "SKU-RB-1", "SKU-RB-2"]
    response = client.get(
        reverse("catalog:product_list"),
        {"category": products.pk, "sort": "-list_price", "export": "csv"},
    )
    rows = csv_rows(response)
    assert [row[0] for row in rows[1:]] == ["SKU-WR-1", "SKU-RB-1", "SKU-RB-2"]
    assert rows[1][rows[0].index("List price")] == "4100.50"


def test_product_api_filters_and_ordering(products, api_client_for):
    api = api_client_for("analyst")
    body = api.get("/api/products/", {"role": "traffic", "ordering": "-list_price"}).json()
    assert [p["sku"] for p in body["results"]] == ["SKU-RB-1", "SKU-RB-2"]
    assert body["results"][0]["list_price"] == "3800.00"
    assert body["results"][0]["category"] == "STL"
    body = api.get("/api/products/", {"active": "false"}).json()
    assert [p["sku"] for p in body["results"]] == ["SKU-RB-2"]
    body = api.get("/api/products/", {"search": "wire"}).json()
    assert [p["sku"] for p in body["results"]] == ["SKU-WR-1"]


def test_prices_cannot_be_negative(world, api_client_for, client_for):
    response = api_client_for("marketing_manager").post(
        "/api/products/",
        {"sku": "NEG", "name": "x", "list_price": "-1.00", "cost": "-2"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"list_price", "cost"}
    response = client_for("marketing_manager").post(
        reverse("catalog:product_add"),
        {"sku": "NEG", "name": "x", "unit": "t", "list_price": "-1.00"},
    )
    assert response.status_code == 400
    assert "list_price" in response.context["form"].errors
    assert not Product.objects.filter(sku="NEG").exists()


def test_a_product_on_an_order_cannot_be_deleted(world, client_for):
    client = client_for("administrator")
    response = client.post(reverse("catalog:product_delete", args=[world.product.pk]))
    assert response.status_code == 302
    assert Product.objects.filter(pk=world.product.pk).exists()
    page = client.get(response["Location"]).content.decode()
    assert "cannot be deleted while other records refer to it" in page


def test_list_price_is_decimal(world):
    world.product.refresh_from_db()
    assert world.product.list_price == Decimal("420.00")
    assert isinstance(world.product.list_price, Decimal)
