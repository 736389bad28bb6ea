"""The per-customer-day table SQLite keeps (stored_days.py) equals the valued orders
grouped per customer and local day: the triggers keep the orders it holds, whatever
happens to them, a catch-up adds the newer ones, and a batch reading it classifies every
customer as a batch reading the orders does."""

import datetime as dt
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from clientele.core.testing import report_on_sqlite_file
from clientele.customers.models import Customer
from clientele.sales.models import Order
from clientele.segmentation import expressions as ex
from clientele.segmentation import stored_days
from clientele.segmentation.defaults import default_definitions
from clientele.segmentation.engine import Batch
from clientele.segmentation.sources import DjangoExecutor, database_sources, utc_offsets

from .fixtures import AS_OF, make_customers

pytestmark = pytest.mark.django_db

SHANGHAI = "Asia/Shanghai"


@pytest.fixture(autouse=True)
def sqlite_only():
    if not stored_days.supported(connection):
        pytest.skip("PostgreSQL groups the orders at each run; only SQLite keeps the table")


def _stored(catch_up=False, zone=SHANGHAI):
    if catch_up:
        stored_days.catch_up(connection, zone)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id, day, cents, orders FROM {stored_days.TABLE}"
            " ORDER BY customer_id, day"
        )
        return [tuple(row) for row in cursor.fetchall()]


def _grouped(zone: str):
    """What a run computes from the orders: valued orders per customer and local day."""
    executor = DjangoExecutor(connection)
    sources = database_sources(executor.dialect)
    offsets = utc_offsets(zone, 0, int(dt.datetime(2030, 1, 1, tzinfo=dt.UTC).timestamp()))
    days = ex.order_days(sources, 10**6, offsets).order_by(["customer_id", "day"])
    return [tuple(row) for row in executor.query(days)]


def _order(customer, number, when, total, status="paid", zone=SHANGHAI):
    return Order.objects.create(
        customer=customer,
        number=number,
        ordered_at=dt.datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(zone)),
        total=Decimal(total),
        status=status,
    )


def _through():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT through_id FROM {stored_days.STATE_TABLE}")
        return cursor.fetchone()[0]


def test_new_orders_wait_for_the_catch_up_and_older_ones_follow_every_change(monkeypatch):
    assert stored_days.is_current(connection, SHANGHAI)  # made when the tests migrated
    rebuilds = []
    rebuild = stored_days.rebuild
    monkeypatch.setattr(stored_days, "rebuild", lambda *a: rebuilds.append(a) or rebuild(*a))
    ann = Customer.objects.create(code="ANN", name="Ann")
    bob = Customer.objects.create(code="BOB", name="Bob")

    morning = _order(ann, "1", "2025-03-01 09:00", "100.10")
    evening = _order(ann, "2", "2025-03-01 23:59", "0.05")  # the same local day: one row
    _order(ann, "3", "2025-03-02 00:00", "-20.00")  # a credit, the next day
    cancelled = _order(bob, "4", "2025-03-01 12:00", "999.99", status="cancelled")
    assert _stored() == []  # new orders cost nothing when written
    assert _stored(catch_up=True) == _grouped(SHANGHAI)
    assert len([row for row in _stored() if row[0] == ann.pk]) == 2
    assert _through() == cancelled.pk
    assert stored_days.catch_up(connection, SHANGHAI) == 0

    # From here on the triggers keep the table without a catch-up.
    cancelled.status = "paid"  # now it counts
    cancelled.save()
    evening.total = Decimal("12.34")
    evening.save()
    morning.ordered_at += dt.timedelta(hours=20)  # past local midnight, onto the credit's day
    morning.save()
    assert _stored() == _grouped(SHANGHAI)

    evening.customer = bob  # merged into another customer
    evening.save()
    Order.objects.filter(customer=bob).update(status="returned")  # no longer counts
    assert _stored() == _grouped(SHANGHAI)
    assert not [row for row in _stored() if row[0] == bob.pk]

    newer = Order.objects.bulk_create(
        Order(customer=bob, number=f"b{i}", ordered_at=morning.ordered_at, total=Decimal("1.5"))
        for i in range(3)
    )
    newer[0].total = Decimal("2.5")  # changed before any catch-up: added as it is then
    newer[0].save()
    morning.delete()
    Order.objects.filter(customer=ann).delete()
    assert _stored() == []
    assert _stored(catch_up=True) == _grouped(SHANGHAI)
    assert [row[1:] for row in _stored()] == [(_grouped(SHANGHAI)[0][1], 550, 3)]

    # An order put back with its old id (as a restore does) is below the watermark, where
    # no trigger sees an insert: the count of kept orders shows it, and the table is rebuilt.
    gone = Order.objects.filter(customer=bob, status="paid").first()
    kept = {field.attname: getattr(gone, field.attname) for field in Order._meta.concrete_fields}
    gone.delete()
    assert _stored() == _grouped(SHANGHAI)
    Order.objects.create(**kept)
    assert kept["id"] <= _through()
    assert _stored() != _grouped(SHANGHAI)
    assert not rebuilds  # every catch-up so far only added the newer orders
    assert stored_days.catch_up(connection, SHANGHAI) == 1  # rebuilt: one customer-day
    assert len(rebuilds) == 1
    assert _stored() == _grouped(SHANGHAI)
    assert [row[1:] for row in _stored()] == [(_grouped(SHANGHAI)[0][1], 550, 3)]
    assert stored_days.catch_up(connection, SHANGHAI) == 0


def test_a_change_of_zone_rebuilds_the_table_and_its_triggers():
    """Berlin changes to summer time at 01:00 UTC on 30 March 2025: 23:30 UTC on the 29th
    is still the 30th locally by an hour, 22:30 UTC is the 29th."""
    customer = Customer.objects.create(code="ZED", name="Zed")
    _order(customer, "1", "2025-03-29 22:30", "10", zone="UTC")
    _order(customer, "2", "2025-03-29 23:30", "20", zone="UTC")
    _order(customer, "3", "2025-07-01 21:59", "40", zone="UTC")  # 23:59 in Berlin's summer
    assert not stored_days.is_current(connection, "Europe/Berlin")
    stored_days.ensure(connection, "Europe/Berlin")
    assert stored_days.is_current(connection, "Europe/Berlin")
    assert not stored_days.is_current(connection, SHANGHAI)
    assert _stored() == _grouped("Europe/Berlin")
    late = _order(customer, "4", "2025-07-01 22:00", "80", zone="UTC")  # 2 July in Berlin
    summer = _order(customer, "5", "2025-10-26 00:30", "160", zone="UTC")  # 02:30 summer time
    winter = _order(customer, "6", "2025-10-26 01:30", "320", zone="UTC")  # 02:30 winter time
    assert _stored(catch_up=True, zone="Europe/Berlin") == _grouped("Europe/Berlin")
    assert len(_stored()) == 5
    # The triggers' own offsets: each order taken away from the day it was added to.
    for order in (late, summer, winter):
        order.ordered_at += dt.timedelta(days=1)
        order.save()
    assert _stored() == _grouped("Europe/Berlin")
    assert len(_stored()) == 5

    stored_days.ensure(connection, SHANGHAI)  # back, as the settings say
    assert _stored() == _grouped(SHANGHAI)


def test_a_table_lost_with_its_triggers_is_rebuilt():
    """A migration that rebuilds the orders table drops its triggers with it: the table
    is then no longer current, and the next run (or migrate) makes it again."""
    make_customers()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {stored_days.TRIGGERS[0]}")
    assert not stored_days.is_current(connection, SHANGHAI)
    assert stored_days.ensure(connection, SHANGHAI)
    assert stored_days.is_current(connection, SHANGHAI)
    assert _stored() == _grouped(SHANGHAI)


def test_a_batch_gives_the_same_results_from_the_table_as_from_the_orders():
    make_customers()
    results = []
    for stored in (False, True):
        executor = DjangoExecutor(connection)
        sources = database_sources(executor.dialect)
        if stored:
            assert stored_days.ensure(connection, SHANGHAI)  # the orders made after it
            sources.order_days = stored_days.table()
        batch = Batch(executor, sources, AS_OF, SHANGHAI)
        definitions = [d for d in default_definitions() if d["kind"] not in ("rule", "cluster")]
        batch.prepare([(d["kind"], d["parameters"]) for d in definitions])
        rows = {}
        for definition in definitions:
            computed = batch.compute(definition["kind"], definition["parameters"],
                                     definition["key"])  # fmt: skip
            name = computed.table.get_name()
            rows[definition["key"]] = executor.query(f"SELECT * FROM {name} ORDER BY customer_id")
        results.append(rows)
        executor.drop_temporary()
    from_orders, from_table = results
    assert from_table == from_orders
    assert any(any(row[1] for row in rows) for rows in from_table.values())


def concurrent_catch_up_report(rounds: int = 15, per_round: int = 20) -> dict:
    """Two threads catch the table up over and over while a third adds orders, each on a
    connection of its own; the third waits after each batch until a catch-up has written
    it, so every batch lands between catch-ups. Then one last catch-up. Reports whether
    the table equals the orders grouped per customer and day (no order counted twice or
    missed)."""
    customers = [Customer.objects.create(code=f"K{n:02d}", name=f"K{n}") for n in range(8)]
    errors, written = [], []
    start, finished = threading.Barrier(3), threading.Event()
    caught = threading.Condition()

    def catching_up():
        try:
            start.wait()
            while not finished.is_set():
                n = stored_days.catch_up(connections["default"], SHANGHAI)
                with caught:
                    written.append(n)
                    caught.notify_all()
        except Exception as error:  # reported, so the parent shows what went wrong
            errors.append(repr(error))
            finished.set()
        finally:
            connections["default"].close()

    def ordering():
        try:
            start.wait()
            for r in range(rounds):
                Order.objects.bulk_create(
                    Order(
                        customer=customers[(r + i) % len(customers)],
                        number=f"r{r}-{i}",
                        ordered_at=dt.datetime(2025, 3, 1 + i % 5, 9 + r % 12, tzinfo=dt.UTC),
                        total=Decimal(f"{r + 1}.{i:02d}"),
                    )
                    for i in range(per_round)
                )
                with caught:
                    wrote = sum(1 for n in written if n)
                    if not caught.wait_for(lambda w=wrote: sum(1 for n in written if n) > w, 30):
                        errors.append(f"round {r}: no catch-up wrote its orders")
                        break
        except Exception as error:
            errors.append(repr(error))
        finally:
            finished.set()
            connections["default"].close()

    threads = [threading.Thread(target=f) for f in (catching_up, catching_up, ordering)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    last = stored_days.catch_up(connection, SHANGHAI)
    stored, grouped = _stored(), _grouped(SHANGHAI)
    return {
        "errors": errors,
        "orders": Order.objects.count(),
        "catch_ups": len(written),
        "catch_ups_that_wrote": sum(1 for n in written if n),
        "last_catch_up_wrote": last,
        "equal": stored == grouped,
        "customer_days": len(grouped),
    }


def test_catch_ups_at_the_same_time_as_new_orders_count_each_order_once(tmp_path):
    """On a database file (the test database in memory has one connection): SQLite's
    immediate transactions make the catch-ups take turns, and orders written meanwhile are
    added by the next one, once."""
    report = report_on_sqlite_file(
        tmp_path, __name__, "concurrent_catch_up_report", TIME_ZONE=SHANGHAI
    )
    assert report["errors"] == []
    assert report["orders"] == 15 * 20
    # Each batch was written by exactly one catch-up, nothing was left for the last one.
    assert report["catch_ups_that_wrote"] == 15 and report["last_catch_up_wrote"] == 0
    assert report["catch_ups"] > 15  # the other thread's turns found nothing new
    assert report["equal"] and report["customer_days"] > 0
