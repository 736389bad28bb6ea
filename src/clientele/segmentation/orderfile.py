"""`clientele classify --orders FILE --out DIR`: the engine on a bare order file.

The file (CSV in UTF-8 or GB18030, or XLSX) has the columns customer_id, ordered_at and
amount (Chinese headers 客户编号, 下单时间, 金额 are accepted). It is read with pandas'
C parser, the columns are parsed vectorised, and only cells the fast path cannot read go
through the importer's own parsers (`imports.parsing`), so odd dates like "2026年11月11日"
or amounts like "¥1,234.50" are read the same way an import reads them. The rows are
loaded into a temporary SQLite file and the default definitions run there through the same
Ibis expressions as on the application database. Nothing touches Django's database.

Defined results for awkward input (documented in segmentation/README.md):
- rows that cannot be read are skipped and written to DIR/rejected_rows.csv with the row
  number, the column and the reason;
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
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from .constants import Kind
from .defaults import default_definitions
from .engine import Batch
from .expressions import RESULT_SCHEMA, EngineError
from .sources import PLAIN_SCHEMA, SQLiteFileExecutor, day_date, day_number, plain_sources

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


def read_orders(path: str, zone: str) -> LoadedOrders:
    """Read and parse an order file; rows that cannot be read are listed in `rejects`."""
    from clientele.imports.headers import match_headers
    from clientele.imports.readers import TableError, open_table

    try:
        table = open_table(path)
    except TableError as error:
        raise OrderFileError(str(error)) from None
    with table:
        match = match_headers(table.headers, FIELDS)
        if not match.ok:
            missing = ", ".join(match.missing) or ", ".join(match.conflicts)
            raise OrderFileError(
                f"The file needs the columns customer_id (客户编号), ordered_at (下单时间) and "
                f"amount (金额); missing or ambiguous: {missing}. Found: {', '.join(table.headers)}"
            )
        columns = {name: index for index, name in match.mapping.items()}
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
    timings = {}
    start = time.perf_counter()
    loaded = read_orders(path, zone)
    timings["read"] = time.perf_counter() - start
    os.makedirs(out_dir, exist_ok=True)
    today = today or dt.datetime.now(ZoneInfo(zone)).date()
    days = _local_days(loaded.epoch, zone)
    if until is None:
        past = days[days <= day_number(today)]
        until = day_date(int(past.max())) if past.size else (today if not days.size else None)
        if until is None:  # every order is in the future: the window is empty
            until = today
    future = int((days > day_number(until)).sum())

    definitions = default_definitions()
    for item in definitions:
        if item["kind"] == Kind.CLV:
            item["parameters"] = dict(item["parameters"], period=period, horizon=int(horizon))

    handle, db_path = tempfile.mkstemp(prefix="clientele-classify-", suffix=".sqlite3")
    os.close(handle)
    connection = sqlite3.connect(db_path)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=MEMORY",
                       "cache_size=-1000000"):  # fmt: skip
            connection.execute(f"PRAGMA {pragma}")
        step = time.perf_counter()
        _load(connection, loaded)
        timings["load"] = time.perf_counter() - step
        executor = SQLiteFileExecutor(connection)
        bounds = (
            (int(loaded.epoch.min()), int(loaded.epoch.max()))
            if loaded.epoch.size
            else (None, None)
        )
        batch = Batch(executor, plain_sources(), until, zone, bounds)
        results, outputs, counts = {}, {}, {}
        for item in definitions:
            step = time.perf_counter()
            computed = batch.compute(item["kind"], item["parameters"], item["key"])
            results[item["key"]] = (item, computed.table)
            outputs[item["key"]] = computed.outputs
            counts[item["key"]] = dict(
                executor.query(
                    f"SELECT code, COUNT(*) FROM {computed.table.get_name()} GROUP BY code"
                    " ORDER BY code"
                )
            )
            timings[item["key"]] = time.perf_counter() - step
        step = time.perf_counter()
        files = _write_outputs(executor, loaded, results, outputs, counts, out_dir,
                               until=until, period=period, horizon=horizon, future=future)  # fmt: skip
        timings["write"] = time.perf_counter() - step
    except EngineError:
        raise
    finally:
        connection.close()
        os.unlink(db_path)
    timings["total"] = time.perf_counter() - start
    return FileRun(
        customers=int(loaded.codes.size),
        orders=int(loaded.epoch.size),
        rows_read=loaded.rows_read,
        rejected=len(loaded.rejects),
        future_orders=future,
        until=until,
        timings=timings,
        outputs=outputs,
        counts=counts,
        files=files,
    )


def _local_days(epoch: np.ndarray, zone: str) -> np.ndarray:
    if not epoch.size:
        return np.zeros(0, dtype=np.int64)
    wall = pd.to_datetime(epoch, unit="s", utc=True).tz_convert(ZoneInfo(zone)).tz_localize(None)
    return np.asarray((wall - pd.Timestamp(0)) // pd.Timedelta(days=1), dtype=np.int64)


def _load(connection, loaded: LoadedOrders) -> None:
    """Create the plain tables and insert the orders and customers."""
    for statement in PLAIN_SCHEMA:
        connection.execute(statement)
    ids = np.arange(1, loaded.codes.size + 1, dtype=np.int64)
    connection.executemany(
        "INSERT INTO customers (id, code, demand_milli, demand_unit) VALUES (?, ?, NULL, NULL)",
        zip(ids.tolist(), [str(c) for c in loaded.codes], strict=True),
    )
    connection.executemany(
        "INSERT INTO orders (customer_id, epoch, cents) VALUES (?, ?, ?)",
        zip((loaded.customer + 1).tolist(), loaded.epoch.tolist(), loaded.cents.tolist(),
            strict=True),
    )  # fmt: skip
    connection.commit()


def _csv_text(column: str, *, quote: bool = False, rounded: bool = False) -> str:
    """SQLite expression: the CSV text of a column (empty for NULL; floats to 6 decimals,
    which SQLite prints without trailing zeros; text quoted as CSV wants it)."""
    if quote:
        return f"'\"' || REPLACE({column}, '\"', '\"\"') || '\"'"
    value = f"ROUND({column}, 6)" if rounded else column
    return f"COALESCE(CAST({value} AS TEXT), '')"


def _write_outputs(executor, loaded, results, outputs, counts, out_dir, **info) -> list[str]:
    from .report import write_report

    files = []
    # customers.csv: one row per customer, every class, score and model output. Each line is
    # built by the database (text concatenation), so writing a million customers is a
    # stream of ready lines, not a Python loop over values.
    parts, joins, headers = [_csv_text("c.code", quote=True)], [], ["customer_id"]
    for n, (key, (item, table)) in enumerate(results.items()):
        alias = f"r{n}"
        joins.append(f"LEFT JOIN {table.get_name()} {alias} ON {alias}.customer_id = c.id")
        for column, suffix in KIND_COLUMNS[item["kind"]]:
            kind = RESULT_SCHEMA[column]
            parts.append(_csv_text(f"{alias}.{column}", rounded=kind == "float64"))
            headers.append(f"{key}_{suffix}" if suffix else key)
    line = " || ',' || ".join(parts)
    sql = f"SELECT {line} FROM customers c {' '.join(joins)} ORDER BY c.id"
    customers_csv = os.path.join(out_dir, "customers.csv")
    with open(customers_csv, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(headers)
        cursor = executor.connection.execute(sql)
        while chunk := cursor.fetchmany(100000):
            handle.write("\r\n".join(row[0] for row in chunk))
            handle.write("\r\n")
    files.append(customers_csv)

    clv_key = next(k for k, (item, _t) in results.items() if item["kind"] == Kind.CLV)
    clv = outputs[clv_key]
    models = {
        "bgnbd": _subset(clv.get("bgnbd"), ("r", "alpha", "a", "b", "loglik")),
        "gamma_gamma": _subset(clv.get("gamma_gamma"), ("p", "q", "gamma", "loglik")),
        "period": info["period"],
        "horizon": int(info["horizon"]),
        "discount_rate_per_period": clv["discount_rate_per_period"],
        "until": info["until"].isoformat(),
        "customers": int(loaded.codes.size),
        "orders": int(loaded.epoch.size),
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
