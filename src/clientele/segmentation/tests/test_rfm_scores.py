"""RFM quintile scores from tie statistics: each column's score is the quintile of the
customer's average rank among buyers (pandas' rank(method="average")), on DuckDB and
SQLite alike, with heavy ties, a single buyer and buyers who are all the same."""

import sqlite3

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from clientele.segmentation import expressions as ex
from clientele.segmentation.sources import DuckDBExecutor, SQLiteFileExecutor

QUINTILES = {"method": "quintile", "segments": [{"code": "any", "r": [1, 5], "f": [1, 5]}]}


def _expected(frame: pd.DataFrame, column: str, descending: bool) -> pd.Series:
    buyers = frame[frame.buyer]
    average = buyers[column].rank(method="average", ascending=not descending)
    n = len(buyers)
    return np.floor(5 * (average - 0.5) / n).astype(int) + 1


def _inputs(rng, n: int, *, same: bool = False) -> pd.DataFrame:
    buyer = rng.random(n) < 0.8
    if same:
        buyer[:] = True
    rec = np.zeros(n, dtype=np.int64) if same else rng.integers(0, 40, n)  # many ties
    f = np.ones(n, dtype=np.int64) if same else rng.geometric(0.4, n)
    # Spend: half of it from a few round amounts (ties), half nearly all distinct (what
    # made a badly planned join quadratic).
    spread = np.where(rng.random(n) < 0.5, rng.integers(1, 20, n) * 1000, rng.integers(1, 10**8, n))
    m = np.full(n, 500, dtype=np.int64) if same else spread
    frame = pd.DataFrame(
        {"customer_id": np.arange(1, n + 1), "buyer": buyer, "last": np.where(buyer, 100, 0),
         "rec": np.where(buyer, rec, 0), "f": np.where(buyer, f, 0),
         "m": np.where(buyer, m, 0)}
    )  # fmt: skip
    frame["last"] = frame["last"].where(frame.buyer)
    return frame


def _scores(executor, frame: pd.DataFrame) -> pd.DataFrame:
    name = "rfm_test_inputs"
    executor.execute(
        f"CREATE TEMPORARY TABLE {name} (customer_id BIGINT, buyer BOOLEAN, last BIGINT,"
        " rec BIGINT, f BIGINT, m BIGINT)"
    )
    rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    executor.insert_rows(name, list(frame.columns), [tuple(r) for r in rows])
    inputs = ibis.table(
        {"customer_id": "int64", "buyer": "boolean", "last": "int64", "rec": "int64",
         "f": "int64", "m": "int64"},
        name=name,
    )  # fmt: skip
    stats = {
        column: executor.materialize(
            ex.tie_stats(inputs, column, descending), "ties", index=ex.TIE_STATS_INDEX
        )
        for column, _score, descending in ex.RFM_SCORED
    }
    table = executor.materialize(ex.rfm(inputs, QUINTILES, stats), "rfm")
    rows = executor.query(
        f"SELECT customer_id, score_r, score_f, score_m FROM {table.get_name()}"
        " ORDER BY customer_id"
    )
    return pd.DataFrame(rows, columns=["customer_id", "sr", "sf", "sm"]).set_index("customer_id")


def _executors(tmp_path):
    yield DuckDBExecutor(duckdb.connect(":memory:"))
    yield SQLiteFileExecutor(sqlite3.connect(tmp_path / "rfm.sqlite3"))


@pytest.mark.parametrize(("n", "same"), [(5000, False), (1, False), (300, True)])
def test_scores_are_quintiles_of_the_average_rank(tmp_path, n, same):
    frame = _inputs(np.random.default_rng(n), n, same=same)
    for executor in _executors(tmp_path):
        scores = _scores(executor, frame)
        buyers = frame[frame.buyer].set_index("customer_id")
        for column, score, descending in ex.RFM_SCORED:
            expected = _expected(frame, column, descending)
            expected.index = buyers.index
            got = scores.loc[buyers.index, score]
            assert (got.to_numpy() == expected.to_numpy()).all(), (executor.dialect, column)
        # Customers without a purchase have no scores.
        others = frame.loc[~frame.buyer, "customer_id"]
        assert scores.loc[others].isna().all().all()
        if same or n == 1:  # all alike, or alone: the middle score
            assert (scores.loc[buyers.index] == 3).all().all()
