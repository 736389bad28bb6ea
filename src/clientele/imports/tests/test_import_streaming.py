"""A first load of orders is written while it is checked (PostgreSQL; SQLite takes the
two passes): the result must be the same as the two passes give, a bad row anywhere
must leave nothing written, and the COPY text must carry any value exactly."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from clientele.catalog.models import Product
from clientele.core.background_copy import copy_text
from clientele.core.models import AuditEntry
from clientele.imports.import_engine import CHUNK
from clientele.imports.import_orders import OrderImporter
from clientele.sales.models import Order, OrderLine

from .conftest import yesterday

pytestmark = pytest.mark.django_db

HEADER = ["Order number", "Customer code", "Ordered at", "Status", "SKU", "Quantity", "Unit price"]


@pytest.fixture
def streamed(monkeypatch):
    """Counts the chunks written while checking."""
    calls = []
    original = OrderImporter.stream

    def stream(self, records):
        calls.append(len(records))
        return original(self, records)

    monkeypatch.setattr(OrderImporter, "stream", stream)
    return calls


def filler(count, when):
    """`count` one-line orders F0000... for customer C001."""
    return [[f"F{i:05d}", "C001", when, "paid", "SKU1", "1", "2"] for i in range(count)]


def test_an_order_whose_lines_are_chunks_apart_is_whole(run_import, customers, products, streamed):
    when = yesterday()
    # SO1's first line gives no status; its last line, more than a chunk later, does.
    rows = [
        HEADER,
        ["SO1", "C002", when, "", "SKU1", "1", "10"],
        *filler(CHUNK + 10, when),
        ["SO1", "C002", when, "returned", "SKU2", "2", "2.50"],
        ["SO2", "C003", when, "", "SKU3", "1", "7"],
    ]
    job = run_import("orders", rows)
    assert job.status == "succeeded", job.errors[:3]
    assert bool(streamed) == (connection.vendor == "postgresql")
    assert job.created_rows == Order.objects.count() == CHUNK + 12
    so1 = Order.objects.get(number="SO1")
    assert (so1.status, so1.total, so1.customer.code) == ("returned", Decimal("15.00"), "C002")
    assert so1.lines.count() == 2
    entries = AuditEntry.objects.filter(object_type="sales.order", object_id=so1.pk)
    assert entries.count() == 1
    changes = entries.get().changes
    assert changes["total"] == [None, "15.00"] and changes["lines"] == [None, 2]
    assert changes["status"] == [None, "returned"]
    so2 = Order.objects.get(number="SO2")  # the last order: kept back, then written
    assert (so2.status, so2.total) == ("paid", Decimal("7.00"))
    assert AuditEntry.objects.filter(object_type="sales.order").count() == CHUNK + 12
    audit = AuditEntry.objects.get(object_type="sales.order", object_id=so2.pk).changes
    assert audit == {
        "customer_id": [None, so2.customer_id],
        "ordered_at": [None, so2.ordered_at.isoformat()],
        "status": [None, "paid"],
        "channel": [None, "store"],
        "currency": [None, so2.currency],
        "total": [None, "7.00"],
        "lines": [None, 1],
    }


def test_a_bad_row_after_written_chunks_leaves_nothing(run_import, customers, products, streamed):
    when = yesterday()
    rows = [HEADER, *filler(2 * CHUNK, when), ["SO9", "C404", when, "", "SKU1", "1", "1"]]
    job = run_import("orders", rows)
    assert job.status == "rejected"
    assert job.error_count == 1 and job.errors[0]["row"] == 2 * CHUNK + 2
    assert bool(streamed) == (connection.vendor == "postgresql")
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert not AuditEntry.objects.filter(object_type="sales.order").exists()


def test_a_product_deleted_during_the_import_fails_it_whole(
    run_import, customers, products, monkeypatch
):
    spare = Product.objects.create(sku="SKU9", name="Spare", list_price=1)
    original = OrderImporter.check

    def check(self, rows):
        original(self, rows)  # SKU9 is looked up, then someone deletes it
        Product.objects.filter(pk=spare.pk).delete()

    monkeypatch.setattr(OrderImporter, "check", check)
    when = yesterday()
    rows = [
        HEADER,
        ["SO1", "C001", when, "", "SKU1", "1", "1"],
        ["SO2", "C001", when, "", "SKU9", "1", "1"],
    ]
    job = run_import("orders", rows)
    assert job.status == "failed"
    assert "deleted" in job.message
    assert not Order.objects.exists() and not OrderLine.objects.exists()


def test_order_numbers_with_backslashes_are_stored_exactly(run_import, customers, products):
    when = yesterday()
    rows = [HEADER, ["A\\B\\N", "C001", when, "", "SKU1", "1", "1"]]
    job = run_import("orders", rows)
    assert job.status == "succeeded", job.errors
    order = Order.objects.get()
    assert order.number == "A\\B\\N"
    entry = AuditEntry.objects.get(object_type="sales.order", object_id=order.pk)
    assert entry.object_repr == "A\\B\\N"


def test_copy_text_escapes_what_copy_would_misread():
    fields = tuple(
        AuditEntry._meta.get_field(name)
        for name in ("object_repr", "object_id", "customer_id", "changes", "at")
    )
    at = datetime.datetime(2026, 11, 11, 2, 30, tzinfo=datetime.UTC)
    rows = [
        ("tab\there\\ line\nbreak\r", 7, None, {"note": "a\nb"}, at),
        ("plain", 8, 9, '{"x": 1}', at),
    ]
    assert copy_text(fields, rows) == (
        b"tab\\there\\\\ line\\nbreak\\r\t7\t\\N\t"
        b'{"note": "a\\\\nb"}\t2026-11-11 02:30:00+00:00\n'
        b'plain\t8\t9\t{"x": 1}\t2026-11-11 02:30:00+00:00\n'
    )


@pytest.mark.django_db(transaction=True)
def test_an_import_in_its_own_transaction_reads_through_a_second_connection(
    run_import, customers, products, streamed
):
    """Outside any other transaction (a worker, the command line) the lookups and the
    order ids go through a second connection while the first one copies."""
    when = yesterday()
    rows = [HEADER, *filler(CHUNK + 5, when), ["SO1", "C002", when, "", "SKU2", "3", "1.5"]]
    job = run_import("orders", rows)
    assert job.status == "succeeded", job.errors[:3]
    assert bool(streamed) == (connection.vendor == "postgresql")
    assert Order.objects.count() == CHUNK + 6 and OrderLine.objects.count() == CHUNK + 6
    assert Order.objects.get(number="SO1").total == Decimal("4.50")
    ids = sorted(Order.objects.values_list("pk", flat=True))
    assert len(set(ids)) == len(ids)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_loads_of_one_new_source_at_once(run_import, customers, products, monkeypatch):
    """The second waits for the first (a lock on the source), finds its orders stored
    and takes the two passes: both succeed, the overlap is updated, nothing is doubled."""
    import threading
    import time

    from clientele.core.testing import only_on_postgres

    only_on_postgres()
    when = yesterday()
    first = [HEADER, *filler(50, when)]
    second = [
        HEADER,
        *[[f"F{i:05d}", "C001", when, "paid", "SKU1", "2", "2"] for i in range(25, 75)],
    ]
    first_streaming, second_started = threading.Event(), threading.Event()
    original = OrderImporter.stream

    def stream(self, records):
        if not first_streaming.is_set():
            first_streaming.set()
            second_started.wait(10)
            time.sleep(0.5)  # the second reaches the source's lock meanwhile
        return original(self, records)

    monkeypatch.setattr(OrderImporter, "stream", stream)
    jobs = {}

    def load(name, rows, after=None):
        try:
            if after is not None:
                after.wait(10)
                second_started.set()
            jobs[name] = run_import("orders", rows, source="shop-b")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=load, args=("first", first)),
        threading.Thread(target=load, args=("second", second, first_streaming)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert jobs["first"].status == "succeeded", jobs["first"].message
    assert jobs["second"].status == "succeeded", jobs["second"].message
    assert (jobs["second"].created_rows, jobs["second"].updated_rows) == (25, 25)
    assert Order.objects.filter(source="shop-b").count() == 75
    assert OrderLine.objects.filter(order__source="shop-b", quantity=2).count() == 50
