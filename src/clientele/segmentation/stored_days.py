"""The per-customer-day table of valued orders, kept by the database (SQLite).

Every kind of model reads the valued orders merged per customer and local day (same-day
purchases are one purchase occasion; see `expressions.order_days`). Computed from the
orders at each run, that grouping is most of a run on SQLite: two sorts of every order
(by customer and day, then by customer), 19-25 s of a one-million-customer run on one
core. Here it is kept as a table instead, `segmentation_order_day` (customer_id, day,
cents, orders) with the primary key (customer_id, day), so a run groups the much smaller
table, already in customer order (about 4 s for a million customers).

The table holds every order up to a watermark, the order id `through_id` in
`segmentation_order_day_state`:
- Orders above it are added at the next run (`ensure`), grouped in one statement: new
  orders cost nothing when they are written. A trigger on every insert would have cost
  each order an upsert into a table as large as the orders, at a random place (a bulk load
  of 10.9 million orders took 450 s instead of 223 s).
- Orders at or below it are kept by triggers on the orders table, which take an order away
  from its customer-day when it is deleted or changes customer, time, status or total, and
  add it again (also an order inserted with an old id, as a restore would).
The triggers compute the local day in the organisation's time zone (settings.TIME_ZONE)
with the zone's UTC offsets from 1970 to 2100 written into them; `ensure` rebuilds the
table and the triggers when the zone, the valued statuses or this code have changed (a
fingerprint of the trigger text is kept in the state table), or when they were lost (a
migration that rebuilds the orders table drops its triggers). A run over orders outside
those years reads the orders instead (`usable_for`). PostgreSQL groups the orders in
parallel and fast enough: it reads them directly, and so does any database where the
table is not kept."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging

import ibis
from django.db import transaction

from .sources import DAY, _read_whole, database_sources, utc_offsets

log = logging.getLogger(__name__)

TABLE = "segmentation_order_day"
STATE_TABLE = "segmentation_order_day_state"
TRIGGERS = ("segmentation_order_day_delete", "segmentation_order_day_update")
SCHEMA = {"customer_id": "int64", "day": "int64", "cents": "int64", "orders": "int64"}

# The years whose UTC offsets the triggers carry (epoch seconds, UTC).
COVERED_FROM = int(dt.datetime(1970, 1, 1, tzinfo=dt.UTC).timestamp())
COVERED_UNTIL = int(dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp())


def supported(connection) -> bool:
    """SQLite with unixepoch() (3.38) and upserts."""
    if connection.vendor != "sqlite":
        return False
    import sqlite3

    return sqlite3.sqlite_version_info >= (3, 38)


def _offsets_sql(epoch: str, zone: str) -> str:
    """SQL: the zone's UTC offset in seconds at `epoch` (an SQL expression), as a binary
    search over the offset changes (8 comparisons for a zone with daylight saving over
    the 130 years, where a flat CASE would make up to 240)."""

    def search(entries) -> str:
        if len(entries) == 1:
            return str(entries[0][1])
        middle = len(entries) // 2
        return (
            f"(CASE WHEN {epoch} < {entries[middle][0]} THEN {search(entries[:middle])}"
            f" ELSE {search(entries[middle:])} END)"
        )

    return search(_covered_offsets(zone))


@functools.lru_cache(maxsize=8)
def _covered_offsets(zone: str) -> tuple:
    return tuple(utc_offsets(zone, COVERED_FROM, COVERED_UNTIL))


def _key_sql(row: str, zone: str) -> str:
    """SQL: one row (customer_id, day, cents) for an order row of the trigger (NEW or
    OLD) when it counts as value, none otherwise. The day and cents are written as the
    compiled Ibis expressions of `order_days` are, so both ways give the same numbers
    (tests compare them). The UTC seconds are computed once in an inner query that
    OFFSET keeps SQLite from merging into the outer one (merged, the time text would be
    parsed again at every step of the offset search: 6 against 3.6 microseconds an
    order for Asia/Shanghai, 9.6 for Europe/Berlin)."""
    from clientele.sales.models import VALUE_STATUSES

    statuses = ", ".join(f"'{status}'" for status in VALUE_STATUSES)
    day = f"CAST(FLOOR(CAST((e + {_offsets_sql('e', zone)}) AS REAL) / {DAY}) AS INTEGER)"
    return (
        f"SELECT customer_id, {day} AS day, cents FROM"
        f" (SELECT {row}.customer_id AS customer_id, unixepoch({row}.ordered_at) AS e,"
        f" CAST(ROUND({row}.total * 100, 0) AS INTEGER) AS cents"
        f" WHERE {row}.status IN ({statuses}) AND {_kept(row)} LIMIT 1 OFFSET 0)"
        " WHERE e IS NOT NULL"
    )


def _kept(row: str) -> str:
    """SQL: whether an order row is at or below the watermark (the triggers keep it)."""
    return f"{row}.id <= (SELECT through_id FROM {STATE_TABLE})"


def trigger_statements(zone: str, orders_table: str) -> list[str]:
    """The triggers that keep the orders at or below the watermark, for a time zone.
    There is none on insert: any trigger there makes SQLite keep a statement journal of
    every page each insert touches (10 microseconds an order with the orders table's
    indexes, twice a bulk load's time, even when the trigger does nothing). A new order
    above the watermark waits for `catch_up`; one inserted below it (an explicit old id)
    is found by the count of kept orders, which the triggers keep too."""
    new_key, old_key = _key_sql("NEW", zone), _key_sql("OLD", zone)
    add = (
        f"INSERT INTO {TABLE} (customer_id, day, cents, orders)"
        f" SELECT customer_id, day, cents, 1 FROM ({new_key}) WHERE 1"
        " ON CONFLICT (customer_id, day) DO UPDATE"
        " SET cents = cents + excluded.cents, orders = orders + 1;"
    )
    # An order taken away: its day keeps the others, or goes with the last one.
    take = (
        f"UPDATE {TABLE} SET cents = cents - CAST(ROUND(OLD.total * 100, 0) AS INTEGER),"
        f" orders = orders - 1 WHERE (customer_id, day) IN (SELECT customer_id, day FROM"
        f" ({old_key}));"
        f" DELETE FROM {TABLE} WHERE (customer_id, day) IN (SELECT customer_id, day FROM"
        f" ({old_key})) AND orders <= 0;"
    )
    # Evaluated before the table changes, so the watermark of both sides is the same.
    count = f"UPDATE {STATE_TABLE} SET kept = kept + ({_kept('NEW')}) - ({_kept('OLD')});"
    columns = ("id", "customer_id", "ordered_at", "status", "total")
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in columns)
    delete, update = TRIGGERS
    return [
        f"CREATE TRIGGER {delete} AFTER DELETE ON {orders_table} WHEN {_kept('OLD')}"
        f" BEGIN {take} UPDATE {STATE_TABLE} SET kept = kept - 1; END",
        f"CREATE TRIGGER {update} AFTER UPDATE OF {', '.join(columns)} ON {orders_table}"
        f" WHEN ({changed}) AND ({_kept('OLD')} OR {_kept('NEW')})"
        f" BEGIN {take} {add} {count} END",
    ]


def _fingerprint(statements: list[str]) -> str:
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()


def _orders_table() -> str:
    from clientele.sales.models import Order

    return Order._meta.db_table


def _stored_fingerprint(cursor) -> str | None:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name IN"
        f" ({', '.join(['%s'] * (2 + len(TRIGGERS)))})",
        [TABLE, STATE_TABLE, *TRIGGERS],
    )
    if len(cursor.fetchall()) != 2 + len(TRIGGERS):
        return None
    cursor.execute(f"SELECT fingerprint FROM {STATE_TABLE}")
    row = cursor.fetchone()
    return row[0] if row else None


def is_current(connection, zone: str) -> bool:
    """Whether the table and its triggers exist and were made for this zone and code."""
    if not supported(connection):
        return False
    statements = trigger_statements(zone, _orders_table())
    with connection.cursor() as cursor:
        return _stored_fingerprint(cursor) == _fingerprint(statements)


def ensure(connection, zone: str) -> bool:
    """Make the table current for `zone` and add the orders above the watermark
    (rebuilding it from all orders if it is missing or was made for another zone or
    code); True if the database keeps one."""
    if not supported(connection):
        return False
    if is_current(connection, zone):
        catch_up(connection, zone)
    else:
        rebuild(connection, zone)
    return True


def catch_up(connection, zone: str) -> int:
    """Add the orders above the watermark to the table and raise the watermark to the
    last order; the number of customer-days written. Rebuilds the table instead when an
    order was inserted at or below the watermark (more orders there than the triggers
    kept count of). The write is one transaction, which on SQLite holds the write lock
    from its start: no order can come in between."""
    orders_table = _orders_table()
    with connection.cursor() as cursor:
        through, kept, total, above = _counts(cursor, orders_table)
    if total - above == kept and not above:
        return 0  # without taking the write lock
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        through, kept, total, above = _counts(cursor, orders_table)
        if total - above != kept:
            log.info("%s: orders inserted at or below id %s, rebuilding", TABLE, through)
            return rebuild(connection, zone)
        if not above:
            return 0  # another run caught up meanwhile
        cursor.execute(f"SELECT MAX(id) FROM {orders_table}")
        last = cursor.fetchone()[0]
        written = _add_orders(cursor, zone, orders_table, through)
        cursor.execute(f"UPDATE {STATE_TABLE} SET through_id = %s, kept = %s", [last, total])
    log.debug("%s: %s customer-days from orders after id %s", TABLE, written, through)
    return written


def _counts(cursor, orders_table: str) -> tuple[int, int, int, int]:
    """(watermark, orders the triggers kept count of, orders, orders above the
    watermark). Counting all orders reads the smallest index (0.13 s at 10.9 million)."""
    cursor.execute(f"SELECT through_id, kept FROM {STATE_TABLE}")
    through, kept = cursor.fetchone()
    cursor.execute(f"SELECT COUNT(*) FROM {orders_table}")
    total = cursor.fetchone()[0]
    cursor.execute(f"SELECT COUNT(*) FROM {orders_table} WHERE id > %s", [through])
    return through, kept, total, cursor.fetchone()[0]


def rebuild(connection, zone: str) -> int:
    """Drop and recreate the table and its triggers, filled from all orders, in one
    transaction (a concurrent writer waits; no order is counted twice or missed); the
    number of customer-days written."""
    orders_table = _orders_table()
    statements = trigger_statements(zone, orders_table)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _drop(cursor)
        cursor.execute(
            f"CREATE TABLE {TABLE} (customer_id BIGINT NOT NULL, day BIGINT NOT NULL,"
            " cents BIGINT NOT NULL, orders BIGINT NOT NULL,"
            " PRIMARY KEY (customer_id, day)) WITHOUT ROWID"
        )
        cursor.execute(
            f"CREATE TABLE {STATE_TABLE} (fingerprint TEXT NOT NULL,"
            " through_id BIGINT NOT NULL, kept BIGINT NOT NULL)"
        )
        cursor.execute(f"SELECT COALESCE(MAX(id), 0), COUNT(*) FROM {orders_table}")
        last, total = cursor.fetchone()
        written = _add_orders(cursor, zone, orders_table, None)
        cursor.execute(
            f"INSERT INTO {STATE_TABLE} (fingerprint, through_id, kept) VALUES (%s, %s, %s)",
            [_fingerprint(statements), last, total],
        )
        for statement in statements:
            cursor.execute(statement)
    log.debug("rebuilt %s for %s", TABLE, zone)
    return written


def _add_orders(cursor, zone: str, orders_table: str, after_id: int | None) -> int:
    """Add the valued orders with an id above `after_id` (all when None) to the table,
    grouped per customer and local day, with the zone's offsets over those orders' own
    span (exact there, and one offset for most zones)."""
    from .sources import local_day

    after = "" if after_id is None else f" WHERE id > {int(after_id)}"
    cursor.execute(
        f"SELECT MIN(unixepoch(ordered_at)), MAX(unixepoch(ordered_at)) FROM {orders_table}" + after
    )
    low, high = cursor.fetchone()
    offsets = utc_offsets(zone, low or COVERED_FROM, high or COVERED_FROM)
    o = database_sources("sqlite", orders_after=after_id).valued_orders
    o = o.mutate(day=local_day(o.epoch, offsets))
    o = o.filter(o.day.notnull())
    # No ORDER BY: SQLite's grouping already gives the rows in key order, and asking for
    # it again adds a second sort of every row (17.7 against 14.9 s at 10.9 million).
    grouped = o.group_by(["customer_id", "day"]).aggregate(cents=o.cents.sum(), orders=o.count())
    sql = str(ibis.to_sql(grouped, dialect="sqlite"))
    if after_id is None:  # a first fill reads the orders end to end, a catch-up its ids
        sql = _read_whole(sql, (orders_table,))
    cursor.execute(
        f"INSERT INTO {TABLE} (customer_id, day, cents, orders) SELECT * FROM ({sql}) WHERE 1"
        " ON CONFLICT (customer_id, day) DO UPDATE"
        " SET cents = cents + excluded.cents, orders = orders + excluded.orders"
    )
    return cursor.rowcount


def _drop(cursor) -> None:
    """Remove the table, its state and its triggers."""
    for name in TRIGGERS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
    cursor.execute(f"DROP TABLE IF EXISTS {STATE_TABLE}")


def usable_for(epoch_bounds: tuple[int | None, int | None]) -> bool:
    """Whether orders in this span (UTC seconds) have their local days in the table
    exactly: inside the years the triggers' offsets cover."""
    low, high = epoch_bounds
    return (low is None or low >= COVERED_FROM) and (high is None or high < COVERED_UNTIL)


def table() -> ibis.Table:
    """The table as an Ibis table (customer_id, day, cents, orders)."""
    return ibis.table(SCHEMA, name=TABLE)
