"""The engine on the application database against results worked out by hand (fixtures.py).

The suite runs on SQLite and again with DATABASE_URL pointing at PostgreSQL, so the same
hand-computed answers hold on both backends. Guards against: local-day errors (an order
at 00:30 Shanghai time is the next day), cancelled/returned orders counting as value,
same-day orders counting twice, nondeterministic tie-breaks."""

import math
from decimal import Decimal

import pytest

from clientele.customers.models import Customer
from clientele.segmentation.constants import Kind, RunStatus
from clientele.segmentation.models import ClassificationDefinition, CustomerClass
from clientele.segmentation.services import run_definitions

from .fixtures import AS_OF, make_customers

pytestmark = pytest.mark.django_db


def _classes(run, customers):
    by_id = {c.pk: name for name, c in customers.items()}
    return {
        by_id[row.customer_id]: row
        for row in CustomerClass.objects.filter(run=run, customer_id__in=by_id)
    }


@pytest.fixture
def customers():
    return make_customers()


@pytest.fixture
def runs(customers):
    ClassificationDefinition.objects.create(
        key="life_plain", name="Lifecycle without model", kind=Kind.LIFECYCLE, parameters={}
    )
    ClassificationDefinition.objects.create(
        key="quad_spend",
        name="Quadrants by spend",
        kind=Kind.QUADRANT,
        parameters={"value": {"measure": "spend", "window_days": 365}},
    )
    result = run_definitions(as_of=AS_OF)
    return {run.definition.key: run for run in result}


def test_every_run_succeeds(runs):
    for key, run in runs.items():
        assert run.status == RunStatus.SUCCEEDED, (key, run.error)
        assert run.ignored_future_orders == 2
        assert run.duration is not None and run.duration >= 0


def test_abc(runs, customers):
    rows = _classes(runs["abc_spend"], customers)
    assert {n: r.code for n, r in rows.items()} == {
        "c1": "A", "c2": "A", "c3": "B", "c4": "B", "c5": "C", "c6": "C", "c7": "C", "c8": "C",
    }  # fmt: skip
    assert rows["c1"].measure == 5000 and rows["c1"].rank == 1 and rows["c1"].share == 50
    assert rows["c4"].share == 95 and rows["c5"].share == 100
    assert rows["c6"].share is None and rows["c6"].measure == 0


def test_tiers(runs, customers):
    rows = _classes(runs["member_tiers"], customers)
    assert {n: r.code for n, r in rows.items()} == {
        "c1": "supreme_vip", "c2": "senior", "c3": "normal", "c4": "normal", "c5": "vip",
        "c6": "normal", "c7": "normal", "c8": "normal",
    }  # fmt: skip
    assert rows["c5"].measure == 5100


def test_rfm(runs, customers):
    rows = _classes(runs["rfm"], customers)
    scores = {n: (r.score_r, r.score_f, r.score_m) for n, r in rows.items()}
    assert scores == {
        "c1": (4, 5, 5), "c2": (3, 2, 3), "c3": (2, 2, 3), "c4": (5, 2, 2), "c5": (3, 4, 4),
        "c6": (None, None, None), "c7": (None, None, None), "c8": (1, 2, 1),
    }  # fmt: skip
    assert {n: r.code for n, r in rows.items()} == {
        "c1": "loyal", "c2": "about_to_sleep", "c3": "hibernating", "c4": "potential_loyalists",
        "c5": "loyal", "c6": "none", "c7": "none", "c8": "hibernating",
    }  # fmt: skip
    # same-day orders of c2 are one purchase occasion; recency counts local days
    assert rows["c2"].frequency == 1 and rows["c2"].recency_days == 211
    assert rows["c3"].recency_days == 319


def test_lifecycle(runs, customers):
    rows = _classes(runs["life_plain"], customers)
    assert {n: r.code for n, r in rows.items()} == {
        "c1": "active", "c2": "at_risk", "c3": "at_risk", "c4": "new", "c5": "reactivated",
        "c6": "prospect", "c7": "prospect", "c8": "lapsed",
    }  # fmt: skip
    assert rows["c1"].measure == 421  # mean gap between its three purchase days


def test_quadrants_by_spend(runs, customers):
    run = runs["quad_spend"]
    rows = _classes(run, customers)
    assert {n: r.code for n, r in rows.items()} == {
        "c1": "intimate", "c2": "safe", "c3": "intimate", "c4": "stranger", "c5": "stranger",
        "c6": "dangerous", "c7": "stranger", "c8": "stranger",
    }  # fmt: skip
    assert run.outputs == {"value_cut": 500.0, "expectation_cut": 0.0}
    assert rows["c1"].expectation == 0.5 and rows["c3"].expectation == 2.0


def test_clv_outputs_are_finite(runs, customers):
    run = runs["clv"]
    rows = _classes(run, customers)
    assert run.outputs["bgnbd"]["customers"] == 6
    for name in ("c6", "c7"):
        assert rows[name].code == "none" and rows[name].clv is None and rows[name].p_alive is None
    for name in ("c1", "c2", "c3", "c4", "c5", "c8"):
        row = rows[name]
        assert row.code in ("high", "medium", "low")
        for value in (row.p_alive, row.expected_purchases, row.expected_aov, row.clv):
            assert value is not None and math.isfinite(value) and value >= 0
        assert 0 <= row.p_alive <= 1
    assert rows["c1"].frequency == 2 and rows["c2"].frequency == 0


def test_default_lifecycle_and_quadrants_read_clv(runs, customers):
    life = _classes(runs["lifecycle"], customers)
    clv = _classes(runs["clv"], customers)
    for name, row in life.items():
        assert row.p_alive == clv[name].p_alive
    quad = _classes(runs["value_expectation"], customers)
    assert quad["c7"].measure == 0
    assert quad["c1"].measure == pytest.approx(clv["c1"].clv)


def test_abc_by_quantity_and_margin_and_the_potential_flag(customers):
    """Tons and gross margin come from order lines; the potential flag compares declared
    annual demand with what was bought here in the demand's unit."""
    from clientele.catalog.models import Product
    from clientele.sales.models import Order, OrderLine

    from .fixtures import local

    steel = Product.objects.create(sku="ST", name="Steel", unit="t", list_price=4000, cost=3500)
    bolts = Product.objects.create(sku="BO", name="Bolts", unit="pcs", list_price=1)
    c1, c2, c3 = customers["c1"], customers["c2"], customers["c3"]
    c2.annual_demand, c2.demand_unit = Decimal("5000"), "t"  # buys 100 t here: 2 %
    c3.annual_demand, c3.demand_unit = Decimal("500"), "t"  # too small to matter
    Customer.objects.bulk_update([c2, c3], ["annual_demand", "demand_unit"])
    for customer, tons, number in ((c1, "300.5", "L1"), (c2, "100", "L2"), (c3, "10", "L3")):
        order = Order.objects.create(
            customer=customer, number=number, ordered_at=local("2025-03-01 10:00"), status="paid"
        )
        OrderLine.objects.create(
            order=order, product=steel, quantity=Decimal(tons), unit_price=4000
        )
        OrderLine.objects.create(order=order, product=bolts, quantity=1000, unit_price=1)
    tons = ClassificationDefinition.objects.create(
        key="abc_tons", name="ABC by tons", kind=Kind.ABC,
        parameters={"measure": "quantity", "unit": "t"},
    )  # fmt: skip
    margin = ClassificationDefinition.objects.create(
        key="abc_margin", name="ABC by margin", kind=Kind.ABC, parameters={"measure": "margin"}
    )
    runs = {r.definition.key: r for r in run_definitions([tons, margin], as_of=AS_OF)}
    by_tons = _classes(runs["abc_tons"], customers)
    assert by_tons["c1"].measure == 300.5 and by_tons["c1"].code == "A"
    assert by_tons["c2"].measure == 100 and by_tons["c2"].code == "A"  # 73% before it
    assert by_tons["c3"].code == "C" and by_tons["c5"].measure == 0
    assert {n for n, r in by_tons.items() if r.potential} == {"c2"}
    by_margin = _classes(runs["abc_margin"], customers)
    # 500 per ton of steel; bolts have no cost and add no margin
    assert by_margin["c1"].measure == 150250 and by_margin["c2"].measure == 50000
    assert by_margin["c3"].measure == 5000


def test_the_facts_read_the_orders_in_one_pass_without_their_index(customers):
    """A batch computes every default definition's facts in one statement; on SQLite it
    reads the orders in storage order (not by walking the (customer, time) index, which
    fetches each row from wherever it lies)."""
    from django.db import connection

    from clientele.segmentation import expressions as ex
    from clientele.segmentation.defaults import default_definitions
    from clientele.segmentation.engine import Batch
    from clientele.segmentation.sources import DjangoExecutor, database_sources

    executor = DjangoExecutor(connection)
    batch = Batch(executor, database_sources(executor.dialect), AS_OF, "Asia/Shanghai")
    executed = []
    execute = executor.execute
    executor.execute = lambda sql, params=None: executed.append(sql) or execute(sql, params)
    definitions = [(d["kind"], d["parameters"]) for d in default_definitions()]
    batch.prepare(definitions)
    needed = set().union(*(ex.facts_needed(kind, params) for kind, params in definitions))
    batch._wide_for(frozenset(needed))  # already there: nothing is computed again
    (facts,) = [sql for sql in executed if sql.startswith("CREATE TEMPORARY TABLE")]
    for window_days, name in needed:
        assert f'"{name}_{ex.window_tag(window_days)}"' in facts
    if connection.vendor == "sqlite":
        select = facts[facts.index(" AS ") + 4 :]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + select)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "INDEX sales_order" not in plan, plan
    executor.drop_temporary()


def test_lifetime_values_are_the_same_joined_on_packed_or_on_separate_histories(
    customers, monkeypatch
):
    """Customers reach their history's predictions through one packed integer; histories
    too long to pack (dates spanning millennia) join on the three columns, same values."""
    from django.db import connection

    from clientele.segmentation import expressions as ex
    from clientele.segmentation.engine import Batch
    from clientele.segmentation.sources import DjangoExecutor, database_sources

    clv = ClassificationDefinition.objects.get(key="clv")
    results = []
    for part in (ex.HISTORY_PART, 1):  # 1: nothing fits, so nothing is packed
        monkeypatch.setattr(ex, "HISTORY_PART", part)
        executor = DjangoExecutor(connection)
        batch = Batch(executor, database_sources(executor.dialect), AS_OF, "Asia/Shanghai")
        table = batch.compute(clv.kind, clv.parameters, clv.key).table.get_name()
        results.append(executor.query(f"SELECT * FROM {table} ORDER BY customer_id"))
        executor.drop_temporary()
    packed, separate = results
    assert packed == separate
    p_alive = ex.RESULT_COLUMNS.index("p_alive")
    assert any(row[p_alive] is not None for row in packed)
