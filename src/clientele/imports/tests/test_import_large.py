"""A large file streams through both passes: 50,000 order lines import with the right
counts and totals. (The 1,000,000-line run is bench/bench_import.py, not a test.)"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import Sum

from clientele.catalog.models import Product
from clientele.customers.models import Customer
from clientele.sales.models import Order, OrderLine

pytestmark = pytest.mark.django_db

LINES = 50_000


def order_lines():
    """LINES lines in orders of 1 to 4 lines; returns (csv bytes, orders, expected total)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        ["Order number", "Customer code", "Ordered at", "SKU", "Quantity", "Unit price"]
    )
    start = datetime.datetime(2025, 1, 1, 9, 0)
    written = orders = 0
    total = Decimal("0")
    while written < LINES:
        orders += 1
        when = start + datetime.timedelta(minutes=orders)
        for line in range(min(1 + orders % 4, LINES - written)):
            quantity, price = 1 + line, Decimal(100 + orders % 50) / 4
            writer.writerow(
                [
                    f"SO{orders:06d}",
                    f"C{orders % 200:04d}",
                    f"{when:%Y-%m-%d %H:%M}",
                    f"SKU{(orders + line) % 100:03d}",
                    quantity,
                    price,
                ]
            )
            total += quantity * price
            written += 1
    return text.getvalue().encode(), orders, total


def test_fifty_thousand_lines_stream_through(run_import):
    Customer.objects.bulk_create([Customer(code=f"C{i:04d}", name=f"N{i}") for i in range(200)])
    Product.objects.bulk_create(
        [Product(sku=f"SKU{i:03d}", name=f"P{i}", list_price=1) for i in range(100)]
    )
    data, orders, total = order_lines()
    job = run_import("orders", data, name="lines.csv")
    assert job.status == "succeeded", job.errors[:3]
    assert (job.total_rows, job.processed_rows, job.written_rows) == (LINES, LINES, LINES)
    assert job.created_rows == orders == Order.objects.count()
    assert OrderLine.objects.count() == LINES
    assert Order.objects.aggregate(s=Sum("total"))["s"] == total
