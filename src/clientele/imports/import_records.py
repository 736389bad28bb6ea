"""Writing imported records in bulk: upsert by natural key, change sets for the audit
trail, and the shared checks (duplicate keys, unknown references, future dates)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.utils.translation import gettext_noop

from clientele.core.background_copy import BackgroundCopy
from clientele.core.models import AuditEntry

from .import_engine import Counts

DUPLICATE = gettext_noop("The same {what} is already on row {row} of this file.")
UNKNOWN_CUSTOMER = gettext_noop('No customer has the code "{value}".')
UNKNOWN_PRODUCT = gettext_noop('No product has the SKU "{value}".')
UNKNOWN_USER = gettext_noop('No user has the user name "{value}".')
UNKNOWN_TEAM = gettext_noop('No team is named "{value}".')
FUTURE = gettext_noop("{value} is in the future.")
BATCH = 1000


def plain(value: Any) -> Any:
    """A JSON-safe form of a value for an audit change set."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def shown(value: Any) -> str:
    """How a value is quoted back in a reason."""
    if isinstance(value, datetime.datetime):
        from django.utils import timezone

        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def created_changes(values: dict[str, Any]) -> dict[str, list]:
    """The change set of a new record: every field given a value."""
    return {k: [None, plain(v)] for k, v in values.items() if v not in (None, "", [], ())}


def apply_changes(obj: models.Model, values: dict[str, Any]) -> dict[str, list]:
    """Set the values that differ on `obj`; return {attname: [old, new]} for those.
    Decimals compare by value, so "1.5" in a file equals 1.50 in the database."""
    changes = {}
    for attname, value in values.items():
        old = getattr(obj, attname)
        if old != value:
            changes[attname] = [plain(old), plain(value)]
            setattr(obj, attname, value)
    return changes


class Upsert:
    """One batch of records to create or update, then written with bulk_create and
    bulk_update; `audit` adds one "import" entry per created or changed record."""

    def __init__(self, model: type[models.Model], now: datetime.datetime):
        self.model = model
        self.now = now
        self.created: list[tuple[models.Model, dict]] = []
        self.updated: list[tuple[models.Model, dict]] = []
        self.unchanged = 0
        self._fields: set[str] = set()

    def add(self, obj: models.Model | None, values: dict[str, Any], extra: dict | None = None):
        """Queue `values` for `obj` (an existing record) or for a new record if None.
        `extra` holds changes the caller makes itself (tags) and returns the record."""
        if obj is None:
            obj = self.model(**values)
            self.created.append((obj, created_changes(values) | (extra or {})))
            return obj
        changes = apply_changes(obj, values)
        self._fields.update(changes)
        changes |= extra or {}
        if changes:
            self.updated.append((obj, changes))
        else:
            self.unchanged += 1
        return obj

    def save(self) -> Counts:
        if self.created:
            self.model.objects.bulk_create([obj for obj, _ in self.created], batch_size=BATCH)
        objs = [obj for obj, _ in self.updated]
        if objs and self._fields:
            fields = sorted(self._fields)
            if any(f.attname == "updated_at" for f in self.model._meta.concrete_fields):
                for obj in objs:
                    obj.updated_at = self.now
                fields.append("updated_at")
            self.model.objects.bulk_update(objs, fields, batch_size=BATCH)
        return Counts(len(self.created), len(self.updated), self.unchanged)

    def audit(self, user, customer_of=lambda obj: obj.customer_id) -> None:
        """One audit entry per created or updated record."""
        entries = [
            (obj.pk, customer_of(obj), str(obj), changes)
            for obj, changes in (*self.created, *self.updated)
        ]
        record_import(self.model, entries, user, self.now)


def record_import(
    model: type[models.Model],
    entries: list[tuple],
    user,
    now,
    copier: BackgroundCopy | None = None,
) -> None:
    """Write one "import" audit entry per (object_id, customer_id, repr, changes) (the
    changes as a dict, or as its JSON text already): the
    rows core.audit.record_bulk writes, inserted as plain rows. Building an AuditEntry
    and compiling its INSERT took 40% of writing an order file; see docs/benchmarks.md."""
    if not entries:
        return
    user_id = user.pk if user is not None and user.pk else None
    label = model._meta.label_lower
    insert_rows(
        AuditEntry,
        ["user", "action", "object_type", "object_id", "object_repr", "customer_id", "changes"],
        (
            (
                user_id,
                AuditEntry.Action.IMPORT.value,
                label,
                pk,
                str(text)[:200],
                customer,
                changes if type(changes) is str else json.dumps(changes),
            )
            for pk, customer, text, changes in entries
        ),
        now,
        copier,
    )


def by_key(objs: Iterable[models.Model], key) -> dict:
    """Existing records by natural key; with several (keys not unique in the database),
    the oldest one is the one updated."""
    found: dict = {}
    for obj in sorted(objs, key=lambda o: o.pk):
        found.setdefault(key(obj), obj)
    return found


def insert_rows(
    model: type[models.Model],
    names: list[str],
    rows: Iterable[tuple],
    now: datetime.datetime,
    copier: BackgroundCopy | None = None,
) -> None:
    """Insert plain tuples into `model`'s table: COPY on PostgreSQL, one prepared
    statement run many times elsewhere. Order lines are the bulk of a large import, and
    building a model instance and compiling SQL for each made bulk_create three times
    slower. Values must already be clean (the parsers and checks made them so). Fields
    not named get their default (timestamps: `now`), so a field added to the model later
    is filled as bulk_create would fill it. With a `copier` (PostgreSQL only) the COPY
    runs in its thread and this returns at once."""
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    rest = [f for f in meta.concrete_fields if f not in fields and not f.primary_key]
    tail = tuple(
        now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in rest
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in (*fields, *rest))
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        sql = f"COPY {table} ({columns}) FROM STDIN"
        if copier is not None:
            copier.submit(sql, tuple(fields), rows, tuple(zip(rest, tail, strict=True)))
            return
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row + tail)
        return
    tail = tuple(_adapt(f, v) for f, v in zip(rest, tail, strict=True))
    adapted = [(i, _adapter(f)) for i, f in enumerate(fields) if _adapter(f)]
    if adapted:
        rows = (_adapted(row, adapted) + tail for row in rows)
    elif tail:
        rows = (row + tail for row in rows)
    marks = ", ".join(["%s"] * (len(fields) + len(rest)))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(rows))


def _adapted(row: tuple, adapted: list) -> tuple:
    values = list(row)
    for index, adapt in adapted:
        values[index] = adapt(values[index])
    return tuple(values)


def _adapt(field: models.Field, value):
    adapter = _adapter(field)
    return value if adapter is None else adapter(value)


def _adapter(field: models.Field):
    """How SQLite stores a value of this field, or None when the driver takes it as is."""
    if isinstance(field, models.DateTimeField):
        return _sqlite_datetime
    return None


def _sqlite_datetime(value: datetime.datetime | None) -> str | None:
    """Django's SQLite form of an aware datetime (naive text in the connection's zone),
    without its general checks: every value here is aware, from the parsers."""
    if value is None:
        return None
    return str(value.astimezone(connection.timezone).replace(tzinfo=None))


@contextmanager
def large_page_cache(kibibytes: int = 64 * 1024) -> Iterator[None]:
    """On SQLite, a larger page cache (64 MB) while an import writes: more of the indexes
    of a large import stay in memory instead of being fetched and spilled page by page
    (about 7% less CPU for 1,000,000 order lines, measured). Restored afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {-int(kibibytes)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous}")
