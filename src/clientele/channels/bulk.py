"""Fast bulk inserts for the outbox's hot paths (queueing a million messages, writing an
Interaction per sent message).

Django's bulk_create spends more time building one huge parameterised INSERT than the
database spends storing the rows; at a million rows that is the difference between
meeting the dispatch target and missing it. Here rows go in with COPY on PostgreSQL and
executemany on SQLite. Columns and defaults still come from the model's fields (a field
added later with a default is filled like bulk_create would), so the model stays the
single definition of the table. Given values must already have the field's Python type.
"""

from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone

# Field types whose database value is the Python value itself on both backends, so the
# per-cell preparation (most of a million-row insert's time) can be skipped.
_PLAIN = {
    "CharField",
    "TextField",
    "EmailField",
    "SlugField",
    "BooleanField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "ForeignKey",
}
_GIVEN, _CONVERTED, _CONSTANT = "given", "converted", "constant"


def _columns(model, given, db) -> list[tuple]:
    """(field, how, constant) per concrete column except an automatic primary key: a given
    value as it is or converted by the field, or a constant (the field's default; now for
    auto_now fields)."""
    now = timezone.now()
    plain = set(_PLAIN)
    if db.vendor == "postgresql":
        plain.add("DateTimeField")  # psycopg takes aware datetimes as they are
    columns = []
    for field in model._meta.concrete_fields:
        kind = field.get_internal_type()
        if field.primary_key and kind in ("AutoField", "BigAutoField"):
            continue
        if field.attname in given:
            columns.append((field, _GIVEN if kind in plain else _CONVERTED, None))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            columns.append((field, _CONSTANT, field.get_db_prep_save(now, db)))
        else:
            columns.append((field, _CONSTANT, field.get_db_prep_save(field.get_default(), db)))
    return columns


def _values(columns, rows: Sequence[dict], db):
    steps = [(field.attname, field, how, constant) for field, how, constant in columns]
    for row in rows:
        yield tuple(
            row[name]
            if how is _GIVEN
            else field.get_db_prep_save(row[name], db)
            if how is _CONVERTED
            else constant
            for name, field, how, constant in steps
        )


def insert(
    model, rows: Sequence[dict], *, ignore_conflicts_on: str | None = None, table: str = ""
) -> int:
    """Insert rows (dicts by attribute name, e.g. customer_id; every row with the same
    keys) and return how many were added. With `ignore_conflicts_on` (a unique column),
    rows whose value is already there are skipped, as INSERT ... ON CONFLICT DO NOTHING.
    `table` names another table of the model's shape (the benchmark's baseline). All or
    nothing: one transaction."""
    if not rows:
        return 0
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    columns = _columns(model, rows[0].keys(), db)
    target = quote(table or model._meta.db_table)
    names = ", ".join(quote(field.column) for field, _how, _constant in columns)
    values = _values(columns, rows, db)
    conflict = quote(ignore_conflicts_on) if ignore_conflicts_on else ""
    with transaction.atomic(), db.cursor() as cursor:
        if db.vendor == "postgresql":
            if conflict:
                # Most batches are new (a campaign's next wave): try the plain COPY, which
                # is much faster, and fall back to skipping conflicts if a key is there.
                values = list(values)
                try:
                    with transaction.atomic(), db.wrap_database_errors:
                        return _copy(cursor.cursor, target, "", names, values, len(rows), "")
                except IntegrityError:
                    pass
            scratch = quote(f"bulk_{table or model._meta.db_table}")
            return _copy(cursor.cursor, target, scratch, names, values, len(rows), conflict)
        placeholders = ", ".join(["%s"] * len(columns))
        on_conflict = f" ON CONFLICT ({conflict}) DO NOTHING" if conflict else ""
        cursor.executemany(
            f"INSERT INTO {target} ({names}) VALUES ({placeholders}){on_conflict}", values
        )
        return cursor.rowcount


def _copy(cursor, table, scratch, names, values, count, conflict_column) -> int:
    if not conflict_column:
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return count
    # COPY cannot skip conflicting rows: load a scratch table of the same columns (without
    # the id and its sequence), then move over what is new.
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {scratch} ON COMMIT DELETE ROWS AS "
        f"SELECT {names} FROM {table} WITH NO DATA"
    )
    cursor.execute(f"DELETE FROM {scratch}")
    with cursor.copy(f"COPY {scratch} ({names}) FROM STDIN") as copy:
        for value in values:
            copy.write_row(value)
    cursor.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch} "
        f"ON CONFLICT ({conflict_column}) DO NOTHING"
    )
    inserted = cursor.rowcount
    cursor.execute(f"DELETE FROM {scratch}")
    return inserted
