"""The order-file mode runs the engine on DuckDB; the database mode on SQLite (and
PostgreSQL). Same data, same definitions: every column of every customer must agree."""

import sqlite3

import duckdb
import pytest

from clientele.segmentation import orderfile
from clientele.segmentation.expressions import RESULT_COLUMNS
from clientele.segmentation.orderfile import load_orders_duckdb, read_orders
from clientele.segmentation.sources import DuckDBExecutor, SQLiteFileExecutor
from clientele.segmentation.tests.test_backends import _dataset, _load, _run_all, _same


def test_duckdb_and_sqlite_agree(tmp_path):
    rows, ids, feedback = _dataset()
    epochs = [r[1] for r in rows]
    bounds = (min(epochs), max(epochs))

    lite = sqlite3.connect(tmp_path / "compare.sqlite3")
    _load(lite.cursor(), "?", rows, ids, feedback)
    lite.commit()
    from_sqlite = _run_all(SQLiteFileExecutor(lite), bounds)

    duck = duckdb.connect(":memory:")
    _load(duck, "?", rows, ids, feedback)
    from_duckdb = _run_all(DuckDBExecutor(duck), bounds)

    assert set(from_sqlite) == set(from_duckdb)
    for key in from_sqlite:
        lite_rows, lite_out = from_sqlite[key]
        duck_rows, duck_out = from_duckdb[key]
        assert len(lite_rows) == len(duck_rows) == len(ids), key
        for left, right in zip(lite_rows, duck_rows, strict=True):
            for column, a, b in zip(RESULT_COLUMNS, left, right, strict=True):
                assert _same(a, b), (key, left[0], column, a, b)
        assert lite_out.keys() == duck_out.keys()
        for name in lite_out:
            if isinstance(lite_out[name], dict):
                for k, v in lite_out[name].items():
                    assert _same(v, duck_out[name][k]), (key, name, k)
            else:
                assert _same(lite_out[name], duck_out[name]), (key, name)


ODD = (
    "customer_id,ordered_at,amount\n"
    'A1,2025-06-01 10:30,"¥1,200.50"\n'
    "A1,2025/6/20,1000\n"
    " B2 ,2025-06-21T09:00:00+08:00,300元\n"
    "B2,not a date,5\n"
    "C3,2025-06-22,12.345\n"
    ",2025-06-22,12\n"
    "C3,2025-03-30 02:30:00,7\n"  # does not exist in Berlin (clocks go forward)
    "C3,2025-10-26 02:30:00,8\n"  # exists twice in Berlin (clocks go back)
    "C3,2025-03-30 03:30:00,9\n"
    "D4,2025-6-1 10:00:00,10\n"
    "D4, 2025-06-02 10:00:00 ,-4.5\n"
    "E5,2025-06-03 10:00:00,\n"  # E5 has no row that can be read: not a customer
    "E5,,5\n"
    "F6,2025-06-03 10:00:00,1e5\n"
    "F6,2025-06-03 10:00:00, 12 \n"
    "F6,2025-06-03 10:00:00,12.3401\n"
    " ,not a date,5\n"
    "G7,2025-13-03 10:00:00,7\n"
    "G7,2025-06-03 10:00:00,+7.10\n"
)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
def test_fast_reader_reads_like_the_arrow_path(tmp_path, zone):
    """The DuckDB reader of a UTF-8 CSV and the Arrow path (GB18030, XLSX) read every cell
    alike: same customers, orders, UTC times, cents and rejected rows."""
    path = tmp_path / "odd.csv"
    path.write_text(ODD, encoding="utf-8")
    _reads_alike(path, zone)


def _reads_alike(path, zone):
    arrow = read_orders(str(path), zone)
    con = duckdb.connect(":memory:")
    fast = load_orders_duckdb(con, str(path), zone)
    assert fast.rejects == arrow.rejects
    assert fast.rows_read == arrow.rows_read and fast.customers == arrow.codes.size
    # Ids follow the sorted codes on both paths; the fast path keeps the id of a code whose
    # rows were all rejected unused, so orders are compared by customer code.
    got = sorted(
        con.execute(
            "SELECT c.code, o.epoch, o.cents FROM orders o JOIN customers c ON c.id = o.customer_id"
        ).fetchall()
    )
    want = sorted(
        zip(arrow.codes[arrow.customer].tolist(), arrow.epoch.tolist(), arrow.cents.tolist(),
            strict=True)
    )  # fmt: skip
    assert got == want
    codes = [r[0] for r in con.execute("SELECT code FROM customers ORDER BY id").fetchall()]
    assert codes == [str(c) for c in arrow.codes]


def _long_file(path, odd_every: int, rows: int = 60_000):
    """A file of usual rows with an odd one every `odd_every` rows, spread over the whole
    file (DuckDB reads it in parallel chunks)."""
    odd = ODD.splitlines()[1:]
    lines = ["customer_id,ordered_at,amount"]
    for n in range(rows):
        if n % odd_every == odd_every - 1:
            lines.append(odd[(n // odd_every) % len(odd)])
        else:
            lines.append(f"K{n % 997:04d},2025-{1 + n % 12:02d}-{1 + n % 28:02d} 1{n % 10}:00:00,"
                         f"{n % 500}.{n % 100:02d}")  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_rows_of_another_time_shape_keep_their_row_numbers(tmp_path):
    """The typed read sets aside rows whose time has another shape; they are parsed apart
    and every reject still names its row in the file."""
    path = tmp_path / "long.csv"
    _long_file(path, odd_every=997)
    _reads_alike(path, "Asia/Shanghai")


def test_too_many_rows_of_another_shape_read_as_text(tmp_path, monkeypatch):
    """Beyond TYPED_READ_REJECTS rows set aside, the file is read again with every time as
    text: same result."""
    monkeypatch.setattr(orderfile, "TYPED_READ_REJECTS", 5)
    path = tmp_path / "long.csv"
    _long_file(path, odd_every=101, rows=5_000)
    used = []
    real = orderfile._duckdb_csv
    monkeypatch.setattr(orderfile, "_duckdb_csv", lambda *a: used.append(a[-1]) or real(*a))
    _reads_alike(path, "Europe/Berlin")
    assert used == ["%Y-%m-%d %H:%M:%S", None]


def test_file_with_no_usual_time_shape_reads_times_as_text(tmp_path, monkeypatch):
    path = tmp_path / "chinese.csv"
    path.write_text(
        "客户编号,下单时间,金额\nA1,2025年6月1日,10\nA1,2025/6/3 10:00,¥5\nB2,2025年6月2日,-3\n",
        encoding="utf-8",
    )
    used = []
    real = orderfile._duckdb_csv
    monkeypatch.setattr(orderfile, "_duckdb_csv", lambda *a: used.append(a[-1]) or real(*a))
    _reads_alike(path, "Asia/Shanghai")
    assert used == [None]
