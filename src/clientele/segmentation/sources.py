"""Where the engine reads from: the database's tables as Ibis tables, and the executors that
run compiled Ibis expressions where the data lives.

The engine builds Ibis expressions over *unbound* tables (a name and a schema) and compiles
them to the dialect of the database the data is in. An executor runs the SQL on a DB-API
connection: Django's own connection for the application database — so a run reads and
writes in the same transaction as the rest of the request or job, and the test database
(in-memory SQLite, or PostgreSQL inside a test transaction) is seen as it is — or DuckDB
for `clientele classify --orders` (parallel and column-wise, for a bare file). Moving to Apache Spark later means another
executor and dialect; the expressions stay as they are.

Canonical relations (what every kind reads, whatever the source):

- ``valued_orders``: customer_id, epoch (UTC seconds), cents (integer amount) — orders
  that count as value (cancelled and returned never count).
- ``customers``: id, demand_milli (declared annual demand in thousandths), demand_unit.
- ``feedback``: customer_id, kind, epoch.
- ``lines`` (database only): customer_id, epoch, unit, qty_milli, amount_cents, cost_cents.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
import os
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dt_types
import numpy as np

log = logging.getLogger(__name__)

EPOCH_DATE = dt.date(1970, 1, 1)
DAY = 86400
INSERT_BATCH = 20000
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
SHARED_PREFIX = "seg_shared_"  # + server process id + "_": see DjangoExecutor.shared_name
SHARED_SCHEMA = "seg_work"  # SQLite: the attached working file's schema name
SHARED_CACHE_KIB = 200_000  # SQLite: page cache for it (a million customers' facts: 80 MB)


def _shared_folder() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "classification-work"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def day_number(date: dt.date) -> int:
    """Days since 1970-01-01: the engine's integer calendar (exact on every backend)."""
    return (date - EPOCH_DATE).days


def day_date(number: int) -> dt.date:
    return EPOCH_DATE + dt.timedelta(days=int(number))


def utc_offsets(zone: str, start: int, end: int) -> list[tuple[int, int]]:
    """The UTC offsets of `zone` between two epochs: [(from_epoch, offset_seconds), ...],
    first entry from -infinity (epoch None is not used; the first from_epoch is `start`).

    Found by sampling daily and bisecting each change to the second, so a zone with
    daylight saving gets exact boundaries; Asia/Shanghai gives one entry."""
    tz = ZoneInfo(zone)

    def offset(epoch):
        moment = dt.datetime.fromtimestamp(epoch, dt.UTC).astimezone(tz)
        return int(moment.utcoffset().total_seconds())

    start, end = int(start) - DAY, int(end) + DAY
    result = [(start, offset(start))]
    previous = start
    for probe in itertools.chain(range(start + DAY, end, DAY), [end]):
        current = offset(probe)
        if current != result[-1][1]:
            low, high = previous, probe  # offset(low) is the old one, offset(high) the new
            while high - low > 1:
                mid = (low + high) // 2
                if offset(mid) == current:
                    high = mid
                else:
                    low = mid
            result.append((high, current))
        previous = probe
    return result


def local_day(epoch, offsets: list[tuple[int, int]]):
    """Ibis expression: the local calendar day number of a UTC epoch column."""
    if len(offsets) == 1:
        shift = ibis.literal(offsets[0][1], "int64")
    else:
        cases = [(epoch < start, prev) for (_s, prev), (start, _o) in
                 zip(offsets, offsets[1:], strict=False)]  # fmt: skip
        shift = ibis.cases(*cases, else_=offsets[-1][1])
    return ((epoch + shift) // DAY).cast("int64")


@dataclass
class Sources:
    """The canonical relations as Ibis expressions, plus what the executor needs to know
    about the tables behind them."""

    valued_orders: ibis.Table
    customers: ibis.Table
    feedback: ibis.Table
    lines: ibis.Table | None = None
    current: ibis.Table | None = None  # segmentation current classes (database only)
    snapshot: ibis.Table | None = None  # segmentation snapshot rows (database only)
    orders_table: str = ""  # the database table behind valued_orders (database only)
    # The valued orders already grouped per customer and local day in the run's time zone
    # (customer_id, day, cents, orders), where the database keeps them (`stored_days`).
    order_days: ibis.Table | None = None


@ibis.udf.scalar.builtin
def unixepoch(moment: dt_types.timestamp) -> dt_types.int64:
    """SQLite's unixepoch() (3.38+): whole UTC seconds of a stored time."""


@ibis.udf.scalar.builtin
def date_part(field: str, moment: dt_types.timestamp) -> dt_types.float64:
    """PostgreSQL's date_part(): a double, where EXTRACT gives a slower numeric."""


def epoch_seconds(column, dialect: str | None):
    """Whole UTC seconds of a timestamp column. Ibis's portable form parses SQLite's
    stored text with strftime('%s') (5x the cost of unixepoch, measured on 10 million
    orders) and goes through numeric on PostgreSQL; the database's own functions give
    the same seconds. floor: PostgreSQL's epoch has fractions that a cast would round
    up, possibly into the next day; SQLite's is already whole seconds."""
    if dialect == "sqlite" and sqlite3.sqlite_version_info >= (3, 38):
        return unixepoch(column)
    if dialect == "postgres":
        return date_part("epoch", column).floor().cast("int64")
    return column.epoch_seconds().floor().cast("int64")


def database_sources(dialect: str | None = None, orders_after: int | None = None) -> Sources:
    """The application's tables (Django models) as canonical relations, written for the
    database `dialect` where that is faster (any dialect when None); `orders_after`: only
    the orders with a higher id in valued_orders."""
    from clientele.catalog.models import Product
    from clientele.customers.models import Customer, Feedback
    from clientele.sales.models import VALUE_STATUSES, Order, OrderLine

    from .models import CurrentClass, CustomerClass

    orders = ibis.table(
        {
            "id": "int64",
            "customer_id": "int64",
            "ordered_at": "timestamp",
            "status": "string",
            "total": "decimal(16, 2)",
        },
        name=Order._meta.db_table,
    )
    statuses = [str(s) for s in VALUE_STATUSES]
    valued = orders.filter(orders.status.isin(statuses))
    if orders_after is not None:
        valued = valued.filter(valued.id > int(orders_after))
    valued_orders = valued.select(
        customer_id=valued.customer_id,
        epoch=epoch_seconds(valued.ordered_at, dialect),
        cents=(valued.total * 100).round().cast("int64"),
    )
    customers_t = ibis.table(
        {"id": "int64", "annual_demand": "decimal(16, 3)", "demand_unit": "string"},
        name=Customer._meta.db_table,
    )
    customers = customers_t.select(
        id=customers_t.id,
        demand_milli=(customers_t.annual_demand * 1000).round().cast("int64"),
        demand_unit=customers_t.demand_unit,
    )
    fb = ibis.table(
        {"customer_id": "int64", "kind": "string", "received_at": "timestamp"},
        name=Feedback._meta.db_table,
    )
    feedback = fb.select(
        customer_id=fb.customer_id,
        kind=fb.kind,
        epoch=epoch_seconds(fb.received_at, dialect),
    )
    lines_t = ibis.table(
        {
            "order_id": "int64",
            "product_id": "int64",
            "quantity": "decimal(14, 3)",
            "amount": "decimal(16, 2)",
        },
        name=OrderLine._meta.db_table,
    )
    products = ibis.table(
        {"id": "int64", "unit": "string", "cost": "decimal(14, 2)"}, name=Product._meta.db_table
    )
    joined = lines_t.join(valued, lines_t.order_id == valued.id).join(
        products, lines_t.product_id == products.id
    )
    lines = joined.select(
        customer_id=joined.customer_id,
        epoch=epoch_seconds(joined.ordered_at, dialect),
        unit=joined.unit,
        qty_milli=(joined.quantity * 1000).round().cast("int64"),
        amount_cents=(joined.amount * 100).round().cast("int64"),
        cost_cents=(joined.cost * 100).round().cast("int64"),
    )
    current = ibis.table(
        {
            "definition_id": "int64",
            "customer_id": "int64",
            "code": "string",
            "since": "date",
            "reviewed_at": "date",
            "manual": "boolean",
        },
        name=CurrentClass._meta.db_table,
    )
    snapshot = ibis.table(
        {
            "run_id": "int64",
            "customer_id": "int64",
            "code": "string",
            "p_alive": "float64",
            "clv": "float64",
        },
        name=CustomerClass._meta.db_table,
    )
    return Sources(
        valued_orders=valued_orders,
        customers=customers,
        feedback=feedback,
        lines=lines,
        current=current,
        snapshot=snapshot,
        orders_table=Order._meta.db_table,
    )


def plain_sources() -> Sources:
    """The tables of an order file loaded by `load_plain_tables` (no lines, no history)."""
    orders = ibis.table({"customer_id": "int64", "epoch": "int64", "cents": "int64"}, name="orders")
    customers = ibis.table(
        {"id": "int64", "demand_milli": "int64", "demand_unit": "string"}, name="customers"
    )
    feedback = ibis.table(
        {"customer_id": "int64", "kind": "string", "epoch": "int64"}, name="feedback"
    )
    return Sources(valued_orders=orders, customers=customers, feedback=feedback)


PLAIN_SCHEMA = [
    "CREATE TABLE orders (customer_id BIGINT NOT NULL, epoch BIGINT NOT NULL,"
    " cents BIGINT NOT NULL)",
    "CREATE TABLE customers (id BIGINT PRIMARY KEY, code TEXT, demand_milli BIGINT,"
    " demand_unit TEXT)",
    "CREATE TABLE feedback (customer_id BIGINT NOT NULL, kind TEXT NOT NULL,"
    " epoch BIGINT NOT NULL)",
]


@contextlib.contextmanager
def _timed(sql: str):
    """Log each statement's duration at DEBUG level (where a run spends its time)."""
    if not log.isEnabledFor(logging.DEBUG):
        yield
        return
    started = time.perf_counter()
    yield
    log.debug(
        "%.2f s  %s",
        time.perf_counter() - started,
        " ".join(sql.split())[: int(os.environ.get("CLIENTELE_SQL_LOG_WIDTH", 300))],
    )


def _read_whole(sql: str, tables) -> str:
    """SQLite: read these tables in storage order (NOT INDEXED). Grouping all orders by
    customer and day, SQLite walked the (customer, time) index and fetched each order
    row from wherever it lies; orders are stored roughly in time order, so a plain scan
    and one sort cost less (13.8 against 14.5 s at 10.5 million orders even where the
    rows lie in customer order, as in the benchmark's data)."""
    for table in tables:
        sql = re.sub(rf'(FROM "{table}" AS "t\d+")', r"\1 NOT INDEXED", sql)
    return sql


class Executor:
    """Runs compiled Ibis expressions and plain SQL on one DB-API connection."""

    dialect = "sqlite"
    placeholder = "?"
    # Working tables are temporary ones: private to the connection, gone with it.
    working = "TEMPORARY"

    def __init__(self):
        self._temp: list[str] = []
        self._counter = itertools.count(1)

    # subclasses provide cursor()
    def cursor(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def compile(self, expr) -> str:
        return str(ibis.to_sql(expr, dialect=self.dialect))

    def execute(self, sql: str, params=None) -> int:
        with self.cursor() as cur, _timed(sql):
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(sql, params)
            return cur.rowcount

    def query(self, sql_or_expr, params=None) -> list[tuple]:
        sql = sql_or_expr if isinstance(sql_or_expr, str) else self.compile(sql_or_expr)
        with self.cursor() as cur, _timed(sql):
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(sql, params)
            return cur.fetchall()

    def query_floats(self, sql_or_expr, width: int) -> np.ndarray:
        """A query's rows as a float array of `width` columns (numbers only)."""
        return np.array(self.query(sql_or_expr), dtype=float).reshape(-1, width)

    def query_with_names(self, expr) -> tuple[list[str], list[tuple]]:
        with self.cursor() as cur:
            cur.execute(self.compile(expr))
            names = [d[0] for d in cur.description]
            return names, cur.fetchall()

    def scalar(self, expr):
        rows = self.query(expr)
        return rows[0][0] if rows else None

    def temp_name(self, stem: str) -> str:
        name = f"seg_{stem}_{next(self._counter)}"
        assert _NAME.match(name)
        return name

    # Working tables other connections of the same run can read. An executor with one
    # connection has no other to share with: its shared tables are temporary ones
    # (DjangoExecutor overrides these three).

    def shared_name(self, stem: str) -> str:
        return self.temp_name(stem)

    def create_shared(self, name: str, sql: str) -> None:
        self.execute(f"CREATE {self.working} TABLE {name} AS {sql}")

    def shared_index(self, name: str) -> str:
        return f"{name}_ix"

    def materialize(
        self,
        expr,
        stem: str,
        index: tuple[str, ...] = (),
        whole: tuple[str, ...] = (),
        shared: bool = False,
    ) -> ibis.Table:
        """Store the result of `expr` in a temporary table; return it as an Ibis table.
        `whole` names tables the statement reads from end to end (see `_read_whole`);
        `shared` makes a table other connections can read (see `shared_name`)."""
        name = self.shared_name(stem) if shared else self.temp_name(stem)
        sql = self.compile(expr)
        if whole and self.dialect == "sqlite":
            sql = _read_whole(sql, whole)
        self.execute(f"DROP TABLE IF EXISTS {name}")
        if shared:
            self.create_shared(name, sql)
        else:
            self.execute(f"CREATE {self.working} TABLE {name} AS {sql}")
        self._temp.append(name)
        if index:
            index_name = self.shared_index(name) if shared else f"{name}_ix"
            self.execute(f"CREATE INDEX {index_name} ON {name} ({', '.join(index)})")
        self.analyze(name)
        return ibis.table(expr.schema(), name=name)

    def store_result(self, expr, widen) -> ibis.Table:
        """Store a definition's result; `widen` adds the result columns its kind does not
        compute (as NULL)."""
        return self.materialize(widen(expr), "result")

    def create_temp(self, stem: str, schema: dict[str, str], index=()) -> ibis.Table:
        """An empty temporary table with an Ibis schema, for rows computed in Python."""
        name = self.temp_name(stem)
        types = {"int64": "BIGINT", "float64": "DOUBLE PRECISION", "string": "TEXT",
                 "boolean": "BOOLEAN"}  # fmt: skip
        columns = ", ".join(f"{col} {types[kind]}" for col, kind in schema.items())
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE {self.working} TABLE {name} ({columns})")
        self._temp.append(name)
        if index:
            self.execute(f"CREATE INDEX {name}_ix ON {name} ({', '.join(index)})")
        return ibis.table(schema, name=name)

    def insert_rows(self, table: str, columns: list[str], rows) -> None:
        """Insert many rows (an iterable of tuples) in batches."""
        marks = ", ".join([self.placeholder] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        iterator = iter(rows)
        with self.cursor() as cur:
            while batch := list(itertools.islice(iterator, INSERT_BATCH)):
                cur.executemany(sql, batch)

    def insert_arrays(self, table: str, columns: list[str], arrays: list) -> None:
        """Insert the rows of equally long numpy arrays, one per column."""
        self.insert_rows(table, columns, zip(*(a.tolist() for a in arrays), strict=True))

    def track(self, name: str) -> None:
        """Drop this temporary table with the others at the end of the batch."""
        self._temp.append(name)

    def analyze(self, name: str) -> None:
        """Give the planner statistics on a fresh temporary table (PostgreSQL does not
        analyse temporary tables by itself)."""

    def drop_temporary(self) -> None:
        while self._temp:
            self.execute(f"DROP TABLE IF EXISTS {self._temp.pop()}")

    def share_with(self, other: Executor) -> None:
        """Let another connection read this one's shared tables (see DjangoExecutor)."""


class DjangoExecutor(Executor):
    """Runs on Django's connection (SQLite or PostgreSQL): same transaction as the caller."""

    def __init__(self, connection=None):
        super().__init__()
        from django.db import connection as default

        self.connection = connection or default
        vendor = self.connection.vendor
        if vendor not in ("sqlite", "postgresql"):
            raise ValueError(f"classification does not support the {vendor} database")
        self.dialect = "postgres" if vendor == "postgresql" else "sqlite"
        self.placeholder = "%s"
        self._shared_file: Path | None = None  # SQLite: the attached working file
        self._owns_shared_file = False

    def cursor(self):
        return self.connection.cursor()

    def execute(self, sql: str, params=None) -> int:
        # Compiled SQL may contain % (strftime('%s')): with no parameters Django passes the
        # text through untouched on both backends.
        return super().execute(sql, params)

    def insert_rows(self, table: str, columns: list[str], rows) -> None:
        if self.dialect != "postgres":
            return super().insert_rows(table, columns, rows)
        # COPY is several times faster than INSERT for bulk rows on PostgreSQL.
        with self.connection.cursor() as wrapper:
            raw = wrapper.cursor
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def analyze(self, name: str) -> None:
        if self.dialect == "postgres":
            self.execute(f"ANALYZE {name}")

    # --- working tables other connections of the same run can read ---------------------
    #
    # PostgreSQL: unlogged tables (no write-ahead log, like temporary ones) named after the
    # session's server process, so a table left by a process that died can be told from
    # one in use. SQLite: tables in a working file of their own, attached to each
    # connection under SHARED_SCHEMA (an unqualified name finds them), so writing them
    # never locks the application's database; the file is deleted with the batch.

    def shared_name(self, stem: str) -> str:
        if self.dialect == "postgres":
            owner = int(self.query("SELECT pg_backend_pid()")[0][0])
        else:
            self._attach_shared()
            owner = os.getpid()
        name = f"{SHARED_PREFIX}{owner}_{stem}_{next(self._counter)}"
        assert _NAME.match(name)
        return name

    def create_shared(self, name: str, sql: str) -> None:
        """Store the result of a query in the shared table `name`."""
        if self.dialect == "postgres":
            self.execute(f"CREATE UNLOGGED TABLE {name} AS {sql}")
            return
        # SQLite computes into memory (a temporary table) faster than into a file, by
        # about 2 s of 22 for a million customers' facts; the copy then takes 0.3 s.
        scratch = self.temp_name("scratch")
        self.execute(f"CREATE TEMPORARY TABLE {scratch} AS {sql}")
        self.execute(f"CREATE TABLE {SHARED_SCHEMA}.{name} AS SELECT * FROM temp.{scratch}")
        self.execute(f"DROP TABLE temp.{scratch}")

    def shared_index(self, name: str) -> str:
        return f"{name}_ix" if self.dialect == "postgres" else f"{SHARED_SCHEMA}.{name}_ix"

    def share_with(self, other: DjangoExecutor) -> None:
        """Let `other` (another thread's connection) read this one's shared tables."""
        if self.dialect == "sqlite" and self._shared_file:
            other._attach_shared(self._shared_file)

    def _attach_shared(self, path: Path | None = None) -> None:
        if self._shared_file:
            return
        if path is None:
            folder = _shared_folder()
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{os.getpid()}-{uuid.uuid4().hex}.sqlite3"
            self._owns_shared_file = True
        self.execute(f"ATTACH DATABASE {_sql_literal(str(path))} AS {SHARED_SCHEMA}")
        # A working file: rebuilt by the next run if lost, so no journal and no syncs.
        self.execute(f"PRAGMA {SHARED_SCHEMA}.journal_mode = OFF")
        self.execute(f"PRAGMA {SHARED_SCHEMA}.synchronous = OFF")
        self.execute(f"PRAGMA {SHARED_SCHEMA}.cache_size = -{SHARED_CACHE_KIB}")
        self._shared_file = path

    def drop_temporary(self) -> None:
        super().drop_temporary()
        if self._shared_file:
            path, owned = self._shared_file, self._owns_shared_file
            self._shared_file, self._owns_shared_file = None, False
            self.execute(f"DETACH DATABASE {SHARED_SCHEMA}")
            if owned:
                path.unlink(missing_ok=True)

    def drop_orphaned_shared(self) -> None:
        """Drop shared working tables (PostgreSQL) or files (SQLite) whose session or
        process is gone (a worker killed mid-run)."""
        if self.dialect != "postgres":
            for path in _shared_folder().glob("*.sqlite3"):
                owner = path.name.split("-", 1)[0]
                if owner.isdigit() and not _process_alive(int(owner)):
                    path.unlink(missing_ok=True)
            return
        names = self.query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE %s",
            [SHARED_PREFIX + "%"],
        )
        alive = {pid for (pid,) in self.query("SELECT pid FROM pg_stat_activity")}
        for (name,) in names:
            owner = re.match(rf"^{SHARED_PREFIX}(\d+)_", name)
            if owner and int(owner.group(1)) not in alive and _NAME.match(name):
                self.execute(f"DROP TABLE IF EXISTS {name}")


class SQLiteFileExecutor(Executor):
    """Runs on a plain sqlite3 connection (an order file loaded into a temporary file)."""

    dialect = "sqlite"

    def __init__(self, connection):
        super().__init__()
        self.connection = connection

    class _Cursor:
        def __init__(self, connection):
            self.cur = connection.cursor()

        def __enter__(self):
            return self.cur

        def __exit__(self, *exc):
            self.cur.close()

    def cursor(self):
        return self._Cursor(self.connection)


class DuckDBExecutor(Executor):
    """Runs on a DuckDB connection (`clientele classify --orders`): the same compiled Ibis
    expressions as on SQLite and PostgreSQL, executed in parallel and column-wise. Indexes
    are not needed (DuckDB scans and hash-joins); rows from Python arrive as Arrow tables."""

    dialect = "duckdb"
    # The database is the run's own (in memory), so working tables can be plain ones that
    # every connection to it sees: definitions then run side by side on `sibling`s.
    working = ""

    def __init__(self, connection):
        super().__init__()
        self.connection = connection

    def sibling(self) -> DuckDBExecutor:
        """An executor on another connection to the same database (for another thread),
        naming its tables from the same counter."""
        twin = DuckDBExecutor(self.connection.cursor())
        twin._counter = self._counter
        return twin

    class _Cursor:
        def __init__(self, connection):
            self.cur = connection

        def __enter__(self):
            return self.cur

        def __exit__(self, *exc):
            return None

    def cursor(self):
        return self._Cursor(self.connection)

    def execute(self, sql: str, params=None) -> int:
        with _timed(sql):
            self.connection.execute(sql, params)
        return -1

    def materialize(self, expr, stem: str, index=(), whole=(), shared=False) -> ibis.Table:
        return super().materialize(expr, stem)

    def create_temp(self, stem: str, schema: dict[str, str], index=()) -> ibis.Table:
        return super().create_temp(stem, schema)

    def query_floats(self, sql_or_expr, width: int) -> np.ndarray:
        # Column-wise, without a Python tuple per row (a quarter of a second at 225,000
        # lifetime-value histories).
        sql = sql_or_expr if isinstance(sql_or_expr, str) else self.compile(sql_or_expr)
        with _timed(sql):
            columns = self.connection.execute(sql).fetchnumpy()
        arrays = [np.asarray(c, dtype=float) for c in columns.values()]
        return np.column_stack(arrays) if arrays else np.zeros((0, width))

    def store_result(self, expr, widen) -> ibis.Table:
        # Only the columns the kind computes are stored; a view shows the rest as NULL
        # (writing a million NULLs into each of a dozen columns cost 0.3 s a definition).
        # The view stays in the run's own database until it closes.
        stored = widen(self.materialize(expr, "result"))
        name = self.temp_name("view")
        self.execute(f"CREATE VIEW {name} AS {self.compile(stored)}")
        return ibis.table(stored.schema(), name=name)

    def insert_rows(self, table: str, columns: list[str], rows) -> None:
        import pyarrow as pa

        data = list(zip(*rows, strict=True))  # columns
        if not data:
            return
        self._insert_arrow(table, columns, [pa.array(col) for col in data])

    def insert_arrays(self, table: str, columns: list[str], arrays: list) -> None:
        import pyarrow as pa

        # numpy arrays become Arrow columns without a Python object per value (200,000
        # lifetime-value histories took 0.5 s as tuples).
        if len(arrays) and len(arrays[0]):
            self._insert_arrow(table, columns, [pa.array(a) for a in arrays])

    def _insert_arrow(self, table: str, columns: list[str], arrays: list) -> None:
        import pyarrow as pa

        arrow = pa.table({f"c{i}": col for i, col in enumerate(arrays)})
        self.connection.register("_seg_rows", arrow)
        try:
            names = ", ".join(f"c{i}" for i in range(len(columns)))
            self.connection.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {names} FROM _seg_rows"
            )
        finally:
            self.connection.unregister("_seg_rows")


def psycopg_executor(connection):
    """An executor on a plain psycopg connection (used by the cross-backend test and the
    benchmark to run on a PostgreSQL schema outside Django)."""
    return _PsycopgExecutor(connection)


class _PsycopgExecutor(Executor):
    dialect = "postgres"
    placeholder = "%s"

    def __init__(self, connection):
        super().__init__()
        self.connection = connection

    def cursor(self):
        return self.connection.cursor()

    def insert_rows(self, table, columns, rows):
        with self.connection.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def analyze(self, name):
        self.execute(f"ANALYZE {name}")
