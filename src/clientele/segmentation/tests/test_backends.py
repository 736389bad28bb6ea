"""The same definitions give identical results on SQLite and PostgreSQL.

One process loads the same generated data set (returns, zero amounts, same-day orders,
ties, customers without orders, feedback) into a SQLite file and into a PostgreSQL schema,
runs every default definition (and variants) through the engine on both, and compares
every column of every customer: class codes and integers exactly, floats to 1e-9.
Guards against dialect differences: NULL ordering, integer division, rounding of money,
epoch arithmetic, window frames."""

import math
import os
import sqlite3
import uuid

import numpy as np
import pytest

from clientele.core.testing import need
from clientele.segmentation import parameters
from clientele.segmentation.constants import Kind
from clientele.segmentation.defaults import default_definitions
from clientele.segmentation.engine import Batch
from clientele.segmentation.expressions import RESULT_COLUMNS
from clientele.segmentation.sources import (
    PLAIN_SCHEMA,
    SQLiteFileExecutor,
    day_date,
    plain_sources,
    psycopg_executor,
)

ZONE = "Asia/Shanghai"
AS_OF_DAY = 20270  # 2025-07-01


def postgres_url() -> str:
    url = os.environ.get("CLIENTELE_TEST_POSTGRES_URL")
    if url:
        return url
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith(("postgres://", "postgresql://")):
        return database
    return "postgresql://postgres@127.0.0.1:5432/postgres"


def _dataset(seed=7, customers=300):
    """Orders as (customer_id, epoch, cents), customers, feedback (customer_id, kind, epoch)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(1, customers + 1):
        if c % 23 == 0:
            continue  # never bought
        n = int(rng.integers(1, 12))
        start = AS_OF_DAY - int(rng.integers(1, 900))
        days = np.sort(start + rng.integers(0, max(AS_OF_DAY - start, 1) + 30, size=n))
        for day in days:
            epoch = int(day) * 86400 - 8 * 3600 + int(rng.integers(0, 86400))
            cents = int(rng.choice([0, 995, 2000, 12550, 49900, int(rng.integers(100, 90000))]))
            rows.append((c, epoch, cents))
            if rng.random() < 0.1:
                rows.append((c, epoch + 3600, -cents))  # a return the same day
            if rng.random() < 0.1:
                rows.append((c, epoch + 60, 1500))  # a second order the same day
    identical = [(customers + k, (AS_OF_DAY - 40) * 86400, 10000) for k in (1, 2, 3)]
    rows.extend(identical)
    feedback = [
        (int(c), str(rng.choice(["complaint", "suggestion", "praise"])),
         (AS_OF_DAY - int(rng.integers(0, 500))) * 86400)
        for c in rng.integers(1, customers, size=120)
    ]  # fmt: skip
    return rows, list(range(1, customers + 4)), feedback


def _load(cursor, placeholder, rows, ids, feedback):
    for statement in PLAIN_SCHEMA:
        cursor.execute(statement)
    mark = placeholder
    cursor.executemany(f"INSERT INTO orders VALUES ({mark}, {mark}, {mark})", rows)
    cursor.executemany(
        f"INSERT INTO customers (id, demand_milli, demand_unit) VALUES ({mark}, NULL, NULL)",
        [(i,) for i in ids],
    )
    cursor.executemany(f"INSERT INTO feedback VALUES ({mark}, {mark}, {mark})", feedback)


def _definitions():
    items = default_definitions()
    items.append(
        {
            "key": "quad_spend",
            "kind": Kind.QUADRANT,
            "parameters": parameters.validate(
                Kind.QUADRANT, {"value": {"measure": "spend", "window_days": 365}}
            ),
        }
    )
    items.append(
        {
            "key": "rfm_cut",
            "kind": Kind.RFM,
            "parameters": parameters.validate(
                Kind.RFM,
                {
                    "method": "cutoffs",
                    "window_days": 365,
                    "cutoffs": {
                        "recency_days": [30, 90, 180, 365],
                        "frequency": [2, 3, 5, 8],
                        "monetary": [100, 500, 1000, 5000],
                    },
                },
            ),
        }
    )
    items.append(
        {
            "key": "abc_orders",
            "kind": Kind.ABC,
            "parameters": parameters.validate(Kind.ABC, {"measure": "orders", "a_share": 60}),
        }
    )
    return items


def _run_all(executor, bounds):
    batch = Batch(executor, plain_sources(), day_date(AS_OF_DAY), ZONE, bounds)
    out = {}
    for item in _definitions():
        computed = batch.compute(item["kind"], item["parameters"], item["key"])
        rows = executor.query(
            f"SELECT {', '.join(RESULT_COLUMNS)} FROM {computed.table.get_name()}"
            " ORDER BY customer_id"
        )
        out[item["key"]] = (rows, computed.outputs)
    return out


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def test_sqlite_and_postgresql_agree(tmp_path):
    psycopg = pytest.importorskip("psycopg")
    try:
        pg = psycopg.connect(postgres_url(), autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        need("PostgreSQL", False, str(error).strip())
    rows, ids, feedback = _dataset()
    epochs = [r[1] for r in rows]
    bounds = (min(epochs), max(epochs))

    lite = sqlite3.connect(tmp_path / "compare.sqlite3")
    _load(lite.cursor(), "?", rows, ids, feedback)
    lite.commit()
    from_sqlite = _run_all(SQLiteFileExecutor(lite), bounds)

    schema = f"seg_compare_{uuid.uuid4().hex[:8]}"
    try:
        with pg.cursor() as cur:
            cur.execute(f"CREATE SCHEMA {schema}")
            cur.execute(f"SET search_path TO {schema}")
            _load(cur, "%s", rows, ids, feedback)
        from_postgres = _run_all(psycopg_executor(pg), bounds)
    finally:
        with pg.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        pg.close()

    assert set(from_sqlite) == set(from_postgres)
    for key in from_sqlite:
        lite_rows, lite_out = from_sqlite[key]
        pg_rows, pg_out = from_postgres[key]
        assert len(lite_rows) == len(pg_rows) == len(ids), key
        for left, right in zip(lite_rows, pg_rows, strict=True):
            for column, a, b in zip(RESULT_COLUMNS, left, right, strict=True):
                assert _same(a, b), (key, left[0], column, a, b)
        assert lite_out.keys() == pg_out.keys()
        for name in lite_out:
            if isinstance(lite_out[name], dict):
                for k, v in lite_out[name].items():
                    assert _same(v, pg_out[name][k]), (key, name, k)
            else:
                assert _same(lite_out[name], pg_out[name]), (key, name)
    # the data exercise every class of the default definitions, not just one
    codes = {key: {row[1] for row in value[0]} for key, value in from_sqlite.items()}
    assert {"A", "B", "C"} <= codes["abc_spend"]
    assert {"high", "medium", "low", "none"} <= codes["clv"]
    assert len(codes["rfm"]) >= 6 and len(codes["lifecycle"]) >= 4
