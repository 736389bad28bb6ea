"""`clientele classify --orders FILE --out DIR`: the engine on a bare order file.

The file (CSV in UTF-8 or GB18030, or XLSX) has the columns customer_id, ordered_at and
amount (Chinese headers 客户编号, 下单时间, 金额 are accepted). The default definitions run
on DuckDB (in memory up to MEMORY_LIMIT, then spilling to a temporary folder) through the
same Ibis expressions as on the application database; nothing touches Django's database.

A UTF-8 CSV is read by DuckDB's parallel CSV reader; cells of the usual shapes (ISO times,
plain amounts) are parsed there, the few others go through the importer's own parsers
(`imports.parsing`), so odd dates like "2026年11月11日" or amounts like "¥1,234.50" are
read the same way an import reads them. Times of the shape most of the first rows have
are read as a typed column (the reader sets aside rows of another shape, which then go
through those parsers); amounts are always read as text, since a typed decimal would
accept "1e5" and round "12.345", which the importer refuses. A GB18030 CSV or an XLSX is
read with Arrow's CSV reader (or openpyxl) and the same parsers, then handed to DuckDB as
Arrow arrays; a test checks both paths read every cell alike.

Defined results for awkward input (documented in segmentation/README.md):
- rows that cannot be read are skipped and written to DIR/rejected_rows.csv with the row
  number, the column and the reason; a customer with no row that can be read is not a
  customer of the file;
- orders after --until (default: the last order date that is not in the future) are
  ignored and counted;
- a negative amount is a return: it reduces the spend of its day; a day whose net amount
  is zero or less is not a purchase occasion (it counts for no frequency or recency);
- customers whose orders are all ignored stay in customers.csv with the "none"/"prospect"
  classes and empty model outputs; no output is ever NaN or infinity.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from pyarrow import csv as pa_csv

from .constants import WAITS_FOR, Kind
from .defaults import default_definitions
from .engine import Batch
from .expressions import RESULT_SCHEMA
from .sources import (
    DAY,
    DuckDBExecutor,
    plain_sources,
    utc_offsets,
)

# DuckDB's memory for one classification; beyond it, it spills to a temporary folder.
MEMORY_LIMIT = os.environ.get("CLIENTELE_CLASSIFY_MEMORY", "3GB")

FIELDS = [
    {
        "name": "customer_id",
        "aliases": [
            "客户编号",
            "客户ID",
            "客户id",
            "客户",
            "customer",
            "customer code",
            "会员编号",
        ],
        "required": True,
    },
    {
        "name": "ordered_at",
        "aliases": ["下单时间", "订单时间", "订单日期", "日期", "order date", "date", "ordered"],
        "required": True,
    },
    {
        "name": "amount",
        "aliases": ["金额", "订单金额", "实付金额", "total", "order total", "order amount"],
        "required": True,
    },
]

# Result columns written to customers.csv per kind: (result column, header suffix).
KIND_COLUMNS = {
    Kind.CLV: [
        ("code", ""),
        ("frequency", "repeat_purchases"),
        ("recency_days", "days_since_last"),
        ("p_alive", "p_alive"),
        ("expected_purchases", "expected_purchases"),
        ("expected_aov", "expected_order_value"),
        ("clv", "value"),
    ],
    Kind.ABC: [
        ("code", ""),
        ("measure", "measure"),
        ("rank", "rank"),
        ("share", "cumulative_share_pct"),
        ("potential", "potential"),
    ],
    Kind.TIER: [("code", ""), ("measure", "spend")],
    Kind.RFM: [
        ("code", ""),
        ("score_r", "r"),
        ("score_f", "f"),
        ("score_m", "m"),
        ("recency_days", "recency_days"),
        ("frequency", "frequency"),
        ("monetary", "monetary"),
    ],
    Kind.LIFECYCLE: [
        ("code", ""),
        ("recency_days", "days_silent"),
        ("frequency", "purchase_days"),
        ("measure", "typical_gap_days"),
    ],
    Kind.QUADRANT: [("code", ""), ("measure", "value"), ("expectation", "expectation")],
}

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_MONEY_JUNK = re.compile(r"(?i)^\s*(?:¥|￥|rmb|cny|人民币)\s*|\s*(?:元|rmb|cny)\s*$|,")


class OrderFileError(Exception):
    """The file cannot be used at all (unreadable, a required column missing)."""


@dataclass
class LoadedOrders:
    """An order file parsed into arrays: customer codes (sorted unique), per-order customer
    index, UTC epoch seconds and amounts in cents; plus what was rejected."""

    codes: np.ndarray
    customer: np.ndarray
    epoch: np.ndarray
    cents: np.ndarray
    rows_read: int
    rejects: list = field(default_factory=list)  # (row, column, value, reason)


def _open(path: str):
    """The importer's view of the file (kind, encoding, delimiter, header row) and the
    positions of the three columns."""
    from clientele.imports.headers import match_headers
    from clientele.imports.readers import TableError, open_table

    try:
        table = open_table(path)
    except TableError as error:
        raise OrderFileError(str(error)) from None
    match = match_headers(table.headers, FIELDS)
    if not match.ok:
        table.close()
        missing = ", ".join(match.missing) or ", ".join(match.conflicts)
        raise OrderFileError(
            f"The file needs the columns customer_id (客户编号), ordered_at (下单时间) and "
            f"amount (金额); missing or ambiguous: {missing}. Found: {', '.join(table.headers)}"
        )
    return table, {name: index for index, name in match.mapping.items()}


def read_orders(path: str, zone: str) -> LoadedOrders:
    """Read and parse an order file; rows that cannot be read are listed in `rejects`."""
    table, columns = _open(path)
    with table:
        names = ("customer_id", "ordered_at", "amount")
        if table.kind == "csv":
            data = _read_csv(path, table)
            cells = {name: data.column(columns[name]) for name in names}
            rows = np.arange(data.num_rows, dtype=np.int64) + table.header_row + 1
        else:  # XLSX (small by nature): each cell as its text, then the same parsing
            records = [
                (number, *(_text(cells[columns[name]]) if columns[name] < len(cells) else ""
                           for name in names))
                for number, cells in table
            ]  # fmt: skip
            cells = {name: pa.array([r[k + 1] for r in records], pa.string())
                     for k, name in enumerate(names)}  # fmt: skip
            rows = np.array([r[0] for r in records], dtype=np.int64)
    return _parse(cells, rows, zone)


# --- the fast path: DuckDB reads and parses a UTF-8 CSV in parallel ---------------------

# Cells the fast path parses itself; any other cell goes through `_parse_times` /
# `_parse_amounts` (the same functions as the Arrow path), so both paths read every cell
# alike. A customer code is trimmed in Python on the distinct codes only.
# The usual ISO shapes (LIKE pattern, format): a cell of exactly such a shape is parsed by
# DuckDB; any other goes through the Arrow path's parsers.
_FAST_TIMES = (
    ("____-__-__ __:__:__", "%Y-%m-%d %H:%M:%S"),
    ("____-__-__T__:__:__", "%Y-%m-%dT%H:%M:%S"),
    ("____-__-__ __:__", "%Y-%m-%d %H:%M"),
    ("____-__-__", "%Y-%m-%d"),
)
_FAST_AMOUNT = r"[+-]?[0-9]{1,15}(\.[0-9]{1,2})?"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def load_orders_duckdb(con, path: str, zone: str) -> Loaded:
    """Load an order file into the DuckDB tables `orders`, `customers` and `feedback`.

    A UTF-8 CSV is read by DuckDB itself (parallel); a GB18030 CSV, an XLSX or a CSV DuckDB
    refuses goes through `read_orders` (Arrow) and is then handed over as Arrow arrays."""
    table, columns = _open(path)
    with table:
        fast = table.kind == "csv" and (table.encoding or "utf-8").startswith("utf-8")
        header_row, delimiter, width = table.header_row, table.delimiter or ",", len(table.headers)
        usual = _usual_time_format(table, columns["ordered_at"]) if fast else None
    # The usual time shape read as a typed column first; should that leave too many rows
    # for the slow parsers (or anything but cells of another shape), the text of every
    # time cell is read and its shape checked cell by cell instead.
    for time_format in dict.fromkeys((usual, None)) if fast else ():
        try:
            return _duckdb_csv(con, path, zone, columns, header_row, delimiter, width,
                               time_format)  # fmt: skip
        except _Fallback:
            for name in ("raw", "parsed", "codes", "orders", "customers", *_REJECT_TABLES):
                con.execute(f"DROP TABLE IF EXISTS {name}")
    return _duckdb_arrays(con, read_orders(path, zone))


# A typed read sets aside the rows whose time has another shape, up to this many; they go
# through the importer's parsers. Beyond it the file is read again as text.
TYPED_READ_REJECTS = 10_000
_REJECT_TABLES = ("_typed_rejects", "_typed_scans")
_SHAPES = {
    fmt: re.compile(re.escape(shape).replace("_", r"\d") + "$") for shape, fmt in _FAST_TIMES
}


def _usual_time_format(table, column: int, sample: int = 200) -> str | None:
    """The shape of most time cells among the first rows (one of the usual ISO shapes), or
    None when none of them has one."""
    seen: dict[str, int] = {}
    for n, (_number, cells) in enumerate(table):
        if n >= sample:
            break
        text = str(cells[column]).strip() if column < len(cells) and cells[column] else ""
        fmt = next((f for f, shape in _SHAPES.items() if shape.match(text)), None)
        if fmt:
            seen[fmt] = seen.get(fmt, 0) + 1
    return max(seen, key=seen.get) if seen else None


class _Fallback(Exception):
    """DuckDB could not read the file (e.g. invalid UTF-8 further on): use the Arrow path,
    which explains what is wrong."""


def _duckdb_csv(con, path, zone, columns, header_row, delimiter, width, time_format=None):
    """Load a UTF-8 CSV with DuckDB's reader. With `time_format`, time cells of that shape
    are read as typed values (the cheapest read) and rows whose time has another shape are
    set aside by the reader and parsed here; without, every time cell is read as text and
    its shape checked in SQL. Raises _Fallback when the other way must be taken."""
    import duckdb

    def reader(types: dict, extra: str = "") -> str:
        spec = ", ".join(f"'f{i}': '{types.get(f'f{i}', 'VARCHAR')}'" for i in range(width))
        return (
            f"read_csv({_sql_text(path)}, header=false, skip={int(header_row)},"
            f" delim={_sql_text(delimiter)}, quote='\"', escape='\"', columns={{{spec}}},"
            f" auto_detect=false, strict_mode=true, null_padding=false{extra})"
        )

    c, t, a = (f"f{columns[n]}" for n in ("customer_id", "ordered_at", "amount"))
    source = reader({})
    first_row = int(header_row) + 1
    if time_format:
        scanned = reader(
            {t: "TIMESTAMP"},
            f", timestampformat={_sql_text(time_format)}, store_rejects=true,"
            f" rejects_table='{_REJECT_TABLES[0]}', rejects_scan='{_REJECT_TABLES[1]}',"
            f" rejects_limit={TYPED_READ_REJECTS}",
        )
        # A NULL typed time is an empty cell.
        wall, time_text = f"CAST(epoch({t}) AS BIGINT)", "''"
    else:
        scanned, wall, time_text = source, _fast_time(t), f"COALESCE({t}, '')"
    # One pass straight from DuckDB's parallel reader: the code as it is, the wall-clock
    # seconds and the cents of cells of the usual shapes, and the text of the other cells
    # only (they are few) for the importer's parsers. Rows keep the file's order here, so
    # a row's number follows from its rowid (and the rows set aside before it).
    try:
        con.execute(
            "CREATE TEMP TABLE parsed AS SELECT code, wall, cents,"
            " CASE WHEN wall IS NULL THEN time_text END AS time_text,"
            " CASE WHEN cents IS NULL THEN amount_text END AS amount_text FROM"
            f" (SELECT COALESCE({c}, '') AS code, {wall} AS wall,"
            f" CASE WHEN regexp_full_match({a}, {_sql_text(_FAST_AMOUNT)}) THEN"
            f" CAST(CAST({a} AS DECIMAL(18, 2)) * 100 AS BIGINT) END AS cents,"
            f" {time_text} AS time_text, COALESCE({a}, '') AS amount_text FROM {scanned})"
        )
    except duckdb.InvalidInputException as error:
        text = str(error)
        found = re.search(r"Line: (\d+).*?Expected Number of Columns: (\d+) Found: (\d+)",
                          text, re.S)  # fmt: skip
        if found:
            line, expected, got = found.groups()
            raise OrderFileError(
                f"Row {line} has {got} cells but the header has {expected}; an amount with a "
                'thousands separator must be quoted, e.g. "1,200.50".'
            ) from None
        raise _Fallback() from None
    except duckdb.Error:
        raise _Fallback() from None
    set_aside = _set_aside(con, t, width, delimiter) if time_format else {}
    rows_read, low, high = con.execute(
        "SELECT COUNT(*), MIN(wall), MAX(wall) FROM parsed"
    ).fetchall()[0]
    rows_read += len(set_aside)
    row_number = _row_numbers(first_row, set_aside)
    # The zone's UTC offsets over the times in the file (wall clock -> UTC).
    epoch = "CAST(NULL AS BIGINT)"
    if low is not None:
        epoch = _wall_to_utc("wall", utc_offsets(zone, int(low) - 2 * DAY, int(high) + 2 * DAY))

    rejects: list = []
    bad = _arrow(
        con,
        f"SELECT rowid AS rn, code, wall, cents, time_text, amount_text,"
        f" {epoch} AS epoch FROM parsed WHERE cents IS NULL OR ({epoch}) IS NULL",
    ).to_pylist()
    for row in bad:
        row["rn"] = row_number(row["rn"])
    for line, cells in set_aside.items():
        bad.append({"rn": line, "code": cells[columns["customer_id"]], "wall": None,
                    "cents": None, "time_text": cells[columns["ordered_at"]],
                    "amount_text": cells[columns["amount"]], "epoch": None})  # fmt: skip
    fixed = _fix_rows(con, source, t, first_row, bad, zone, rejects) if bad else []

    # Customer codes: trimmed and sorted on the distinct values only; ids follow the sorted
    # codes, which makes every tie-break by id reproducible.
    raw_codes = _chunks(_arrow(con, "SELECT DISTINCT code FROM parsed").column(0))
    if set_aside:
        aside = pa.array([cells[columns["customer_id"]] for cells in set_aside.values()])
        raw_codes = pc.unique(pa.concat_arrays([raw_codes, aside.cast(pa.string())]))
    trimmed = pc.utf8_trim_whitespace(raw_codes)
    usable = pc.not_equal(trimmed, "")
    if pc.all(pc.equal(trimmed, raw_codes)).as_py() is not False:
        # Usually no code has spaces around it: the distinct codes are the dictionary.
        dictionary = raw_codes.filter(usable)
        index = np.arange(len(dictionary), dtype=np.int64)
    else:
        encoded = pc.dictionary_encode(trimmed.filter(usable))
        dictionary = encoded.dictionary
        index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(dictionary), dtype=np.int64)
    rank[order] = np.arange(1, len(dictionary) + 1)
    ids = np.zeros(len(raw_codes), dtype=np.int64)
    ids[usable.to_numpy(zero_copy_only=False)] = rank[index]
    con.register("_codes", pa.table({"raw": raw_codes, "id": ids}))
    if not pc.all(usable).as_py():
        for (rowid,) in con.execute(
            "SELECT p.rowid FROM parsed p JOIN _codes k ON k.raw = p.code WHERE k.id = 0"
        ).fetchall():
            rejects.append((row_number(rowid), "customer_id", "", "The customer is empty."))
        empty = set(raw_codes.filter(pc.invert(usable)).to_pylist())
        for line, cells in set_aside.items():
            if cells[columns["customer_id"]] in empty:
                rejects.append((line, "customer_id", "", "The customer is empty."))

    # From here on the order of rows does not matter.
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"CREATE TABLE orders AS SELECT k.id AS customer_id, o.epoch, o.cents FROM"
        f" (SELECT code, {epoch} AS epoch, cents FROM parsed WHERE cents IS NOT NULL) o"
        " JOIN _codes k ON k.raw = o.code WHERE k.id > 0 AND o.epoch IS NOT NULL"
    )
    if fixed:
        code, when, cents = zip(*fixed, strict=True)
        con.register("_fixed", pa.table({"code": pa.array(code, pa.string()),
                                         "epoch": pa.array(when, pa.int64()),
                                         "cents": pa.array(cents, pa.int64())}))  # fmt: skip
        con.execute(
            "INSERT INTO orders SELECT k.id, f.epoch, f.cents FROM _fixed f"
            " JOIN _codes k ON k.raw = f.code WHERE k.id > 0"
        )
        con.unregister("_fixed")
    con.execute("SET preserve_insertion_order = true")
    con.unregister("_codes")
    con.execute("DROP TABLE parsed")
    # The customers are those with at least one order read, as on the Arrow path: all of
    # them when no row was rejected.
    if rejects:
        present = con.execute("SELECT DISTINCT customer_id FROM orders").fetchnumpy()
        keep = np.zeros(len(dictionary) + 1, dtype=bool)
        keep[np.asarray(present["customer_id"], dtype=np.int64)] = True
        kept = np.flatnonzero(keep)
    else:
        kept = np.arange(1, len(dictionary) + 1, dtype=np.int64)
    _customers_table(con, dictionary.take(pa.array(order)).take(pa.array(kept - 1)), kept)
    rejects.sort()
    return _summary(con, rows_read, rejects, int(kept.size))


def _set_aside(con, t: str, width: int, delimiter: str) -> dict[int, list[str]]:
    """The rows a typed read set aside (their time has another shape): row number -> cells.
    Raises _Fallback when there are too many or when a row was set aside for anything
    else (a row with too many cells, say), which the text read reports properly."""
    table, scans = _REJECT_TABLES
    found = con.execute(
        f"SELECT line, column_name, CAST(error_type AS VARCHAR), csv_line FROM {table}"
    ).fetchall()
    con.execute(f"DROP TABLE {table}")
    con.execute(f"DROP TABLE {scans}")
    if len(found) >= TYPED_READ_REJECTS:
        raise _Fallback()
    rows = {}
    for line, column, kind, text in found:
        cells = next(csv.reader([text or ""], delimiter=delimiter, quotechar='"'), [])
        if kind != "CAST" or column != t or len(cells) != width:
            raise _Fallback()
        rows[int(line)] = cells
    return rows


def _row_numbers(first_row: int, set_aside: dict):
    """rowid in `parsed` -> row number in the file, skipping the rows set aside."""
    lines = np.array(sorted(set_aside), dtype=np.int64)
    # Rows kept before each row set aside.
    kept_before = lines - first_row - np.arange(lines.size)

    def number(rowid: int) -> int:
        return int(rowid) + first_row + int(np.searchsorted(kept_before, rowid, side="right"))

    return number


def _fix_rows(con, source, t, first_row, rows: list[dict], zone, rejects: list) -> list:
    """The rows the fast pass did not read whole, through the Arrow path's parsers (so both
    paths read every cell alike): (code, UTC epoch, cents) of those read; the others go to
    `rejects`."""
    # A time of the usual shape that a daylight-saving change skipped or repeated: its text
    # was not kept, so it is read again from the file (only in zones with such changes).
    again = {r["rn"] - first_row: r for r in rows if r["wall"] is not None and r["epoch"] is None}
    if again:
        con.execute(f"CREATE TEMP TABLE _again AS SELECT COALESCE({t}, '') AS v FROM {source}")
        listed = ", ".join(str(n) for n in again)
        for n, text in con.execute(
            f"SELECT rowid, v FROM _again WHERE rowid IN ({listed})"
        ).fetchall():
            again[n]["time_text"] = text
        con.execute("DROP TABLE _again")
    failed = set()
    for key, name, text, parse in (
        ("epoch", "ordered_at", "time_text", lambda raw: _parse_times(raw, zone)),
        ("cents", "amount", "amount_text", _parse_amounts),
    ):
        todo = [r for r in rows if r[key] is None]
        if not todo:
            continue
        values, errors = parse(pa.array([r[text] for r in todo], pa.string()))
        for i, value, reason in errors:
            rejects.append((todo[i]["rn"], name, value, reason))
            failed.add(todo[i]["rn"])
        for r, value in zip(todo, values.tolist(), strict=True):
            r[key] = value
    return [(r["code"], r["epoch"], r["cents"]) for r in rows if r["rn"] not in failed]


def _arrow(con, sql: str) -> pa.Table:
    relation = con.sql(sql)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow  # DuckDB 2 / 1
    return fetch()


def _fast_time(t: str) -> str:
    """SQL: wall-clock seconds of a time cell in one of the usual ISO shapes, else NULL.
    A fixed-shape LIKE costs far less than a regular expression; strptime checks the
    digits."""
    cases = " ".join(
        f"WHEN {t} LIKE '{shape}' THEN try_strptime({t}, '{fmt}')" for shape, fmt in _FAST_TIMES
    )
    return f"CAST(epoch(CASE {cases} END) AS BIGINT)"


def _wall_to_utc(column: str, offsets) -> str:
    """SQL: the UTC epoch of a wall-clock time (seconds) in a zone with these offsets; NULL
    where the wall-clock time is ambiguous or does not exist (a daylight-saving change):
    those go through the slow path, which treats them as the Arrow path does."""
    if len(offsets) == 1:
        return f"{column} - ({offsets[0][1]})"
    checks, values = [], []
    for i, (start, offset) in enumerate(offsets):
        candidate = f"({column} - ({offset}))"
        cond = []
        if i > 0:
            cond.append(f"{candidate} >= {start}")
        if i + 1 < len(offsets):
            cond.append(f"{candidate} < {offsets[i + 1][0]}")
        test = " AND ".join(cond) or "TRUE"
        checks.append(f"CAST(({test}) AS INTEGER)")
        values.append(f"WHEN {test} THEN {candidate}")
    return f"CASE WHEN ({' + '.join(checks)}) = 1 THEN (CASE {' '.join(values)} END) END"


def _duckdb_arrays(con, loaded: LoadedOrders) -> Loaded:
    """Orders parsed by the Arrow path, handed to DuckDB without copying row by row."""
    orders = pa.table(
        {
            "customer_id": pa.array(loaded.customer + 1, pa.int64()),
            "epoch": pa.array(loaded.epoch, pa.int64()),
            "cents": pa.array(loaded.cents, pa.int64()),
        }
    )
    con.register("_orders", orders)
    con.execute("CREATE TABLE orders AS SELECT * FROM _orders")
    con.unregister("_orders")
    _customers_table(con, pa.array([str(c) for c in loaded.codes], pa.string()))
    return _summary(con, loaded.rows_read, loaded.rejects, int(loaded.codes.size))


def _customers_table(con, codes: pa.Array, ids=None) -> None:
    """The customers table: ids 1..n in code order, or the given ids (a file's customers
    keep the ids of all its codes, so a customer whose rows were all rejected leaves a
    gap)."""
    ids = np.arange(1, len(codes) + 1, dtype=np.int64) if ids is None else ids
    con.register("_customers", pa.table({"id": pa.array(ids, pa.int64()), "code": codes}))
    con.execute(
        "CREATE TABLE customers AS SELECT id, code, CAST(NULL AS BIGINT) AS demand_milli,"
        " CAST(NULL AS VARCHAR) AS demand_unit FROM _customers"
    )
    con.unregister("_customers")
    con.execute(
        "CREATE TABLE feedback (customer_id BIGINT NOT NULL, kind TEXT NOT NULL,"
        " epoch BIGINT NOT NULL)"
    )


def _summary(con, rows_read, rejects, customers) -> Loaded:
    orders, low, high = con.execute(
        "SELECT COUNT(*), MIN(epoch), MAX(epoch) FROM orders"
    ).fetchone()
    return Loaded(customers, int(orders), rows_read, rejects, low, high)


@dataclass
class Loaded:
    """An order file in DuckDB's tables: sizes, the first and last order time (UTC epoch
    seconds, None without orders) and the rejected rows (row, column, value, reason)."""

    customers: int
    orders: int
    rows_read: int
    rejects: list
    first_epoch: int | None
    last_epoch: int | None


def _read_csv(path: str, table) -> pa.Table:
    """Every cell as text with Arrow's multi-threaded CSV reader, in the encoding and
    delimiter the importer's reader detected. A row with more cells than the header —
    usually an unquoted comma in an amount — is an error rather than a shifted row."""
    encoding = (table.encoding or "utf-8").lower()
    encoding = "utf8" if encoding.startswith("utf-8") else encoding
    width = len(table.headers)
    try:
        # The header line is skipped and columns are named by position (f0, f1, ...), so
        # every column is read as text whatever its header says (codes like 001 stay 001).
        data = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(
                encoding=encoding, skip_rows=table.header_row, autogenerate_column_names=True
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=table.delimiter or ",", newlines_in_values=True
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        raise OrderFileError(
            f"The file cannot be read as a table ({error}); an amount with a thousands "
            'separator must be quoted, e.g. "1,200.50".'
        ) from None
    if data.num_columns != width:
        raise OrderFileError(
            f"Row {table.header_row + 1} has {data.num_columns} cells but the header has "
            f'{width}; an amount with a thousands separator must be quoted, e.g. "1,200.50".'
        )
    return data


def _parse(cells: dict, rows: np.ndarray, zone: str) -> LoadedOrders:
    """Parse the three text columns (Arrow arrays), vectorised; reject what cannot be read."""
    rejects: list = []
    n = len(rows)
    ok = np.ones(n, dtype=bool)

    codes_raw = pc.utf8_trim_whitespace(_chunks(cells["customer_id"]))
    empty = pc.equal(codes_raw, "").to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(empty):
        rejects.append((int(rows[i]), "customer_id", "", "The customer is empty."))
    ok &= ~empty

    epoch, bad = _parse_times(_chunks(cells["ordered_at"]), zone)
    for i, value, reason in bad:
        rejects.append((int(rows[i]), "ordered_at", value, reason))
        ok[i] = False

    cents, bad = _parse_amounts(_chunks(cells["amount"]))
    for i, value, reason in bad:
        rejects.append((int(rows[i]), "amount", value, reason))
        ok[i] = False

    # Customer ids follow the sorted codes, which makes every tie-break by id reproducible;
    # only the distinct codes are sorted.
    valid = codes_raw.filter(pa.array(ok))
    encoded = pc.dictionary_encode(valid)
    dictionary = encoded.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(dictionary), dtype=np.int64)
    rank[order] = np.arange(len(dictionary))
    index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    rejects.sort()
    return LoadedOrders(
        codes=np.asarray(dictionary.take(pa.array(order)).to_pylist(), dtype=object),
        customer=rank[index] if index.size else index,
        epoch=epoch[ok],
        cents=cents[ok],
        rows_read=n,
        rejects=rejects,
    )


def _chunks(column) -> pa.Array:
    """One contiguous Arrow string array from a column (chunked or not)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column.cast(pa.string())


def _text(value) -> str:
    return "" if value is None else str(value).strip()


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S")


def _parse_times(raw: pa.Array, zone: str):
    """UTC epoch seconds: the usual ISO forms vectorised (wall-clock time in `zone`, or with
    an offset), anything else through the importer's parse_datetime, which explains what
    it cannot read."""
    from clientele.imports.parsing import ParseError, parse_datetime

    text = pc.utf8_trim_whitespace(raw)
    n = len(text)
    epoch = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    naive = None
    for fmt in _TIME_FORMATS:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        naive = parsed if naive is None else pc.coalesce(naive, parsed)
    found = pc.is_valid(naive).to_numpy(zero_copy_only=False)
    if found.any():
        wall = naive.filter(pa.array(found)).to_numpy(zero_copy_only=False)
        local = pd.DatetimeIndex(wall).tz_localize(
            ZoneInfo(zone), ambiguous="NaT", nonexistent="NaT"
        )
        good = ~np.asarray(local.isna())
        idx = np.flatnonzero(found)[good]
        epoch[idx] = _epoch_seconds(pd.Series(local[good]))
        done[idx] = True
    aware = pc.match_substring_regex(text, _OFFSET.pattern).to_numpy(zero_copy_only=False) & ~done
    if aware.any():
        subset = text.filter(pa.array(aware)).to_pylist()
        parsed = pd.to_datetime(pd.Series(subset, dtype=object), format="ISO8601",
                                errors="coerce", utc=True)  # fmt: skip
        good = parsed.notna().to_numpy()
        idx = np.flatnonzero(aware)[good]
        epoch[idx] = _epoch_seconds(parsed[good])
        done[idx] = True
    bad = []
    for i in np.flatnonzero(~done):
        value = text[int(i)].as_py()
        try:
            moment = parse_datetime(value, zone)
        except ParseError as error:
            bad.append((i, value, error.reason))
            continue
        if moment is None:
            bad.append((i, "", "The order time is empty."))
            continue
        epoch[i] = math.floor(moment.timestamp())
    return epoch, bad


def _epoch_seconds(moments: pd.Series) -> np.ndarray:
    """Whole UTC seconds of aware timestamps, whatever pandas' time resolution."""
    delta = moments.dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")
    return (delta // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64)


_PLAIN_AMOUNT = r"^[+-]?[0-9]+(\.[0-9]{1,2})?$"


def _parse_amounts(raw: pa.Array):
    """Amounts in cents: plain numbers with at most two decimals vectorised, currency marks
    and thousands separators cleaned vectorised, the rest through parse_amount (which
    explains what is wrong, e.g. three decimals or "1e5")."""
    from clientele.imports.parsing import ParseError, parse_amount

    text = pc.utf8_trim_whitespace(raw)
    n = len(text)
    cents = np.zeros(n, dtype=np.int64)
    plain = pc.match_substring_regex(text, _PLAIN_AMOUNT).to_numpy(zero_copy_only=False)
    if not plain.all():
        cleaned = pc.replace_substring_regex(text, _MONEY_JUNK.pattern, "")
        extra = pc.match_substring_regex(cleaned, _PLAIN_AMOUNT).to_numpy(zero_copy_only=False)
        extra &= ~plain & ~pc.equal(text, "").to_numpy(zero_copy_only=False)
    else:
        cleaned, extra = text, np.zeros(n, dtype=bool)
    for mask, source in ((plain, text), (extra, cleaned)):
        if mask.any():
            values = pc.cast(source.filter(pa.array(mask)), pa.float64()).to_numpy()
            cents[mask] = np.rint(values * 100).astype(np.int64)
    done = plain | extra
    bad = []
    for i in np.flatnonzero(~done):
        value = text[int(i)].as_py()
        try:
            amount = parse_amount(value)
        except ParseError as error:
            bad.append((i, value, error.reason))
            continue
        if amount is None:
            bad.append((i, "", "The amount is empty."))
            continue
        cents[i] = int(amount * 100)
    return cents, bad


@dataclass
class FileRun:
    """What `classify_order_file` did: sizes, what was ignored, timings, where files went."""

    customers: int
    orders: int
    rows_read: int
    rejected: int
    future_orders: int
    until: dt.date | None
    timings: dict
    outputs: dict
    counts: dict
    files: list


def classify_order_file(
    path: str,
    out_dir: str,
    *,
    until: dt.date | None = None,
    period: str = "week",
    horizon: int = 52,
    zone: str = "Asia/Shanghai",
    today: dt.date | None = None,
) -> FileRun:
    """Run every default definition on an order file; write customers.csv, models.json,
    report.html (and rejected_rows.csv when rows were skipped) into `out_dir`."""
    import duckdb

    timings = {}
    start = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    today = today or dt.datetime.now(ZoneInfo(zone)).date()
    definitions = default_definitions()
    for item in definitions:
        if item["kind"] == Kind.CLV:
            item["parameters"] = dict(item["parameters"], period=period, horizon=int(horizon))

    with tempfile.TemporaryDirectory(prefix="clientele-classify-") as spill:
        # In memory up to MEMORY_LIMIT, then DuckDB spills to the temporary folder: memory
        # stays bounded whatever the size of the file.
        connection = duckdb.connect(
            ":memory:",
            config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill,
                    "preserve_insertion_order": True},
        )  # fmt: skip
        try:
            loaded = load_orders_duckdb(connection, path, zone)
            timings["read"] = time.perf_counter() - start
            executor = DuckDBExecutor(connection)
            until, future = _until(executor, loaded, zone, until, today)
            bounds = (loaded.first_epoch, loaded.last_epoch)
            batch = Batch(executor, plain_sources(), until, zone, bounds)
            step = time.perf_counter()
            batch.prepare([(item["kind"], item["parameters"]) for item in definitions])
            timings["facts"] = time.perf_counter() - step
            results, outputs, counts = {}, {}, {}

            def compute(on: Batch, items: list[dict]) -> None:
                for item in items:
                    step = time.perf_counter()
                    computed = on.compute(item["kind"], item["parameters"], item["key"])
                    table = computed.table.get_name()
                    results[item["key"]] = (item, computed.table)
                    outputs[item["key"]] = computed.outputs
                    counts[item["key"]] = dict(
                        on.executor.query(
                            f"SELECT code, COUNT(*) FROM {table} GROUP BY code ORDER BY code"
                        )
                    )
                    timings[item["key"]] = time.perf_counter() - step

            chains = _chains(definitions)
            if len(chains) == 1:
                compute(batch, chains[0])
            else:
                _side_by_side(batch, executor, chains, compute)
            results = {item["key"]: results[item["key"]] for item in definitions}
            step = time.perf_counter()
            files = _write_outputs(executor, loaded, results, outputs, counts, out_dir,
                                   until=until, period=period, horizon=horizon,
                                   future=future)  # fmt: skip
            timings["write"] = time.perf_counter() - step
        finally:
            connection.close()
    timings["total"] = time.perf_counter() - start
    return FileRun(
        customers=loaded.customers,
        orders=loaded.orders,
        rows_read=loaded.rows_read,
        rejected=len(loaded.rejects),
        future_orders=future,
        until=until,
        timings=timings,
        outputs=outputs,
        counts=counts,
        files=files,
    )


def _chains(definitions: list[dict]) -> list[list[dict]]:
    """The definitions as chains that can run at the same time, each in its own order:
    lifetime value with what reads it (lifecycle, quadrants), and the kinds that read no
    other definition (ABC, tiers, RFM). One chain when CLIENTELE_CLASSIFY_WORKERS is 1
    or when a definition would read one of another chain."""
    free = [d for d in definitions if d["kind"] not in WAITS_FOR and d["kind"] != Kind.CLV]
    rest = [d for d in definitions if d not in free]
    waits = [WAITS_FOR.get(d["kind"], set()) for d in rest]
    crossing = any(w is None or w & {d["kind"] for d in free} for w in waits)
    if settings.CLIENTELE_CLASSIFY_WORKERS < 2 or not free or not rest or crossing:
        return [definitions]
    return [rest, free]


def _side_by_side(batch: Batch, executor: DuckDBExecutor, chains, compute) -> None:
    """Each chain on a connection (and thread) of its own: the lifetime-value fit and the
    Python between statements run while DuckDB computes another definition."""
    siblings = [executor.sibling() for _ in chains[1:]]
    try:
        with ThreadPoolExecutor(len(chains), thread_name_prefix="classify") as pool:
            batches = [batch] + [batch.sibling(twin) for twin in siblings]
            futures = [
                pool.submit(compute, b, chain) for b, chain in zip(batches, chains, strict=True)
            ]
            for future in futures:
                future.result()
    finally:
        for twin in siblings:
            twin.connection.close()


def _until(executor, loaded: Loaded, zone, until, today):
    """The end of the observation period (default: the last order day that is not after
    today; today without orders or when every order is later) and the orders after it.
    A local day ends at an instant, so both are plain comparisons of UTC epochs."""
    if loaded.first_epoch is None:
        return until or today, 0
    tz = ZoneInfo(zone)

    def day_end(day: dt.date) -> int:
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
        return int(midnight.astimezone(dt.UTC).timestamp())

    if until is None:
        last = executor.query(f"SELECT MAX(epoch) FROM orders WHERE epoch < {day_end(today)}")
        last = last[0][0] if last else None
        until = dt.datetime.fromtimestamp(int(last), tz).date() if last is not None else today
    future = executor.query(f"SELECT COUNT(*) FROM orders WHERE epoch >= {day_end(until)}")
    return until, int(future[0][0] or 0)


# Decimal places of the float columns in customers.csv: money to the cent, an ABC measure
# to its unit (tons to the kilogram, orders whole), anything else (probabilities,
# expected purchases, shares, rates, days) to 6 places.
_MONEY_COLUMNS = {
    (Kind.CLV, "expected_aov"),
    (Kind.CLV, "clv"),
    (Kind.TIER, "measure"),
    (Kind.RFM, "monetary"),
    (Kind.QUADRANT, "measure"),
}
_ABC_PLACES = {"spend": 2, "margin": 2, "quantity": 3, "orders": 0}
# A DECIMAL(18, places) holds 18 digits in all; a column with a larger value is written as
# a rounded float instead.
_DECIMAL_DIGITS = 18


def _places(item: dict, column: str) -> int:
    if (item["kind"], column) in _MONEY_COLUMNS:
        return 2
    if item["kind"] == Kind.ABC and column == "measure":
        return _ABC_PLACES.get(item["parameters"].get("measure"), 6)
    return 6


def _csv_value(column: str, kind: str, places: int = 6, largest: float = 0.0) -> str:
    """SQL: a result column as customers.csv shows it. Floats are written as decimals with
    `places` places (printing a DECIMAL costs DuckDB half as much as a float's shortest
    form), or rounded floats when the column's `largest` magnitude does not fit; booleans
    as 0/1; NULL is written as an empty cell."""
    if kind == "float64":
        if largest < 10.0 ** (_DECIMAL_DIGITS - places):
            return f"CAST({column} AS DECIMAL({_DECIMAL_DIGITS}, {places}))"
        return f"ROUND({column}, {places})"
    if kind == "boolean":
        return f"CAST({column} AS INTEGER)"
    return column


def _largest(executor, columns: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """The largest magnitude of each (table, float column), 0 when all are NULL; one
    statement for all of them."""
    if not columns:
        return {}
    parts = ", ".join(f"(SELECT COALESCE(MAX(ABS({c})), 0) FROM {t})" for t, c in columns)
    row = executor.query(f"SELECT {parts}")[0]
    return {pair: float(value) for pair, value in zip(columns, row, strict=True)}


def _quoted_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _write_outputs(executor, loaded, results, outputs, counts, out_dir, **info) -> list[str]:
    # customers.csv: one row per customer, every class, score and model output, written by
    # DuckDB's own CSV writer (in parallel, in customer order): a million customers never
    # pass through Python. The customer code is always quoted, as the csv module would.
    columns, joins = [f"c.code AS {_quoted_name('customer_id')}"], []
    largest = _largest(executor, [
        (table.get_name(), column)
        for item, table in results.values()
        for column, _suffix in KIND_COLUMNS[item["kind"]]
        if RESULT_SCHEMA[column] == "float64"
    ])  # fmt: skip
    for n, (key, (item, table)) in enumerate(results.items()):
        alias = f"r{n}"
        joins.append(f"LEFT JOIN {table.get_name()} {alias} ON {alias}.customer_id = c.id")
        for column, suffix in KIND_COLUMNS[item["kind"]]:
            header = f"{key}_{suffix}" if suffix else key
            value = _csv_value(f"{alias}.{column}", RESULT_SCHEMA[column], _places(item, column),
                               largest.get((table.get_name(), column), 0.0))  # fmt: skip
            columns.append(f"{value} AS {_quoted_name(header)}")
    customers_csv = os.path.join(out_dir, "customers.csv")
    # Written on a connection of its own while this one builds the report.
    writer = executor.sibling()
    pool = ThreadPoolExecutor(1, thread_name_prefix="classify-csv")
    copied = pool.submit(
        writer.execute,
        f"COPY (SELECT {', '.join(columns)} FROM customers c {' '.join(joins)} ORDER BY c.id)"
        f" TO {_sql_text(customers_csv)} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"',"
        " ESCAPE '\"', NULLSTR '', FORCE_QUOTE (customer_id), NEW_LINE '\r\n')",
    )
    try:
        files = _write_models_and_report(executor, loaded, results, outputs, counts, out_dir, info)
    finally:
        pool.shutdown()
        writer.connection.close()
    copied.result()
    return [customers_csv, *files]


def _write_models_and_report(executor, loaded, results, outputs, counts, out_dir, info):
    """models.json, rejected_rows.csv (when rows were skipped) and report.html."""
    from .report import write_report

    files = []

    clv_key = next(k for k, (item, _t) in results.items() if item["kind"] == Kind.CLV)
    clv = outputs[clv_key]
    models = {
        "bgnbd": _subset(clv.get("bgnbd"), ("r", "alpha", "a", "b", "loglik")),
        "gamma_gamma": _subset(clv.get("gamma_gamma"), ("p", "q", "gamma", "loglik")),
        "period": info["period"],
        "horizon": int(info["horizon"]),
        "discount_rate_per_period": clv["discount_rate_per_period"],
        "until": info["until"].isoformat(),
        "customers": loaded.customers,
        "orders": loaded.orders,
        "ignored_future_orders": info["future"],
        "rejected_rows": len(loaded.rejects),
        "degenerate": bool((clv.get("bgnbd") or {}).get("degenerate", False)),
        "counts": counts,
        "other_outputs": {k: v for k, v in outputs.items() if k != clv_key and v},
    }
    models_json = os.path.join(out_dir, "models.json")
    with open(models_json, "w", encoding="utf-8") as handle:
        json.dump(models, handle, indent=2, ensure_ascii=False, allow_nan=False)
    files.append(models_json)

    if loaded.rejects:
        rejects_csv = os.path.join(out_dir, "rejected_rows.csv")
        with open(rejects_csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "column", "value", "reason"])
            writer.writerows(loaded.rejects)
        files.append(rejects_csv)

    report_html = os.path.join(out_dir, "report.html")
    write_report(report_html, executor, results, models, title=f"Classification to {info['until']}")
    files.append(report_html)
    return files


def _subset(values: dict | None, names):
    if not values:
        return None
    return {name: float(values[name]) for name in names}
