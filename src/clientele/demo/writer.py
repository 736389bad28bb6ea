"""Set-based insertion of generated columns: COPY on PostgreSQL, executemany on SQLite.

The generator hands over columns (numpy arrays, lists, or one value for all rows); this
module turns them into the exact text Django itself would store (UTC timestamps, decimal
strings, ISO dates) and streams the rows to the database without building model objects.
On SQLite, `executemany` of one prepared INSERT is what `bulk_create` does minus the
per-object work; on PostgreSQL, COPY is several times faster than INSERT.
"""

from itertools import repeat

import numpy as np
from django.core.management.color import no_style
from django.db import connection, models

from .generator import ScaledInts, Table


def _timestamps(values: np.ndarray, vendor: str) -> list[str]:
    """UTC epoch seconds as the backend's timestamp text: SQLite stores naive UTC text
    with a space (so text comparisons in queries stay right), PostgreSQL gets an explicit
    +00:00 offset."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
    if vendor == "postgresql":
        return np.char.add(text, "+00:00").tolist()
    return np.char.replace(text, "T", " ").tolist()


def _column(field: models.Field, value, count: int, vendor: str):
    """A sequence of `count` database values for one field."""
    if isinstance(value, ScaledInts):
        return value.text()
    if isinstance(value, np.ndarray):
        if isinstance(field, models.DateTimeField) and value.dtype.kind in "iu":
            return _timestamps(value, vendor)
        return value.tolist()
    if isinstance(value, list):
        return value
    return repeat(value, count)


def insert(table: Table) -> None:
    """Write the table's rows in one statement stream (inside the caller's transaction)."""
    if not table.count:
        return
    meta = table.model._meta
    vendor = connection.vendor
    # get_field knows attnames too ("customer_id").
    fields = [meta.get_field(name) for name in table.columns]
    columns = [
        _column(field, value, table.count, vendor)
        for field, value in zip(fields, table.columns.values(), strict=True)
    ]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    target = connection.ops.quote_name(meta.db_table)
    rows = zip(*columns, strict=False)
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {target} ({names}) VALUES ({placeholders})", rows)


def next_id(model) -> int:
    """The first free primary key of a table (rows are written with explicit ids so
    children can point at parents without reading anything back)."""
    largest = model._default_manager.aggregate(m=models.Max("pk"))["m"]
    return (largest or 0) + 1


def reset_sequences(*model_classes) -> None:
    """Move PostgreSQL's id sequences past the explicitly written ids (SQLite's
    AUTOINCREMENT tracks them by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_classes))
    if not statements:
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
