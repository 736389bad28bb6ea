"""The machinery every import shares: rows, parsing plans, the spools that keep a
million-row file out of memory, rejected-row files, progress, and the `Importer` base.

An import is two passes. Pass 1 streams the file once, parses every cell, lets the kind's
importer check references and duplicates chunk by chunk, and spools the accepted rows as
ready-to-write records to a temporary file (parsing is the dearest step, so it is done
once); rejected rows go to a second spool with their reasons. Pass 2 reads the records
back and writes them in chunks inside one transaction. Memory holds one chunk plus the
per-key sets the checks need, never the file.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils.translation import gettext, gettext_noop

from .models import ImportJob
from .parsing import ParseError
from .schemas import Field, Schema

CHUNK = 5000  # rows per reference lookup and per bulk write
MAX_ERRORS_KEPT = 1000  # errors stored on the job for display; all are counted
REQUIRED = gettext_noop("A value is required.")
STRAY_CELLS = gettext_noop(
    'Values beyond the last named column ("{value}"); often an unquoted comma.'
)
# An importer sets this as a row's record while the row waits for the end of the file.
PENDING = object()
# Long free text rarely repeats; everything else (codes, dates, prices) does.
_NOT_MEMOIZED = {"multiline"}


def translate(template: str, **params: Any) -> str:
    """A reason in the active language: the template translated, then filled in."""
    return gettext(template).format(**params)


def reason_of(exc: ParseError) -> str:
    return translate(exc.template, **exc.params)


class Row:
    """One data row of the file while it is checked: the raw cells (echoed back in the
    rejected-rows file), the parsed values, the errors and, once accepted, its record."""

    __slots__ = ("number", "cells", "values", "errors", "record")

    def __init__(self, number: int, cells: list[Any]):
        self.number = number
        self.cells = cells
        self.values: dict[str, Any] = {}
        self.errors: list[tuple[str, str]] = []
        self.record: Any = None


def memoize(parse: Callable[[Any], Any], size: int = 20000) -> Callable[[Any], Any]:
    """Cache a pure parser: dates, prices, quantities, codes and choices repeat on most
    lines of an order file, and re-parsing them was the largest cost of an import."""
    texts: dict[str, Any] = {}  # CSV cells: the fast path
    others: dict[tuple, Any] = {}  # XLSX cells, keyed by type: 1, 1.0 and True differ
    failed: dict[Any, ParseError] = {}

    def slow(value):
        key = value if type(value) is str else (type(value), value)
        if key in failed:
            raise failed[key].with_traceback(None)
        cache = texts if type(value) is str else others
        if key in cache:
            return cache[key]
        if len(cache) + len(failed) >= size:
            cache.clear()
            failed.clear()
        try:
            result = cache[key] = parse(value)
        except ParseError as exc:
            failed[key] = exc
            raise
        return result

    def parsed(value):
        if type(value) is str:
            try:
                return texts[value]
            except KeyError:
                pass
        return slow(value)

    parsed.texts = texts  # parse_rows looks a text cell up here before calling
    return parsed


def parsing_plan(schema: Schema, mapping: dict[int, str], headers: list[str], tz) -> list:
    """(cell index, field name, parser, required, column header) for each mapped column."""
    plan = []
    for index, name in sorted(mapping.items()):
        spec: Field = schema.get(name)
        parse = spec.parser(tz)
        if spec.type not in _NOT_MEMOIZED:
            parse = memoize(parse)
        plan.append((index, name, parse, spec.required, headers[index]))
    return plan


_MISS = object()


def parse_rows(table: Iterable, plan: list, width: int) -> Iterator[Row]:
    """Rows of the table with every mapped cell parsed; parse errors name the column.
    A cell already parsed is taken from its memo without a call (nine cells a line,
    most of them repeats: the call was a tenth of an import)."""
    steps = [(*step, getattr(step[2], "texts", {})) for step in plan]
    for number, cells in table:
        row = Row(number, cells)
        values, errors = row.values, row.errors
        if len(cells) > width:
            stray = ", ".join(str(c) for c in cells[width:] if str(c).strip())
            errors.append(("", translate(STRAY_CELLS, value=stray[:60])))
        for index, name, parse, required, column, texts in steps:
            cell = cells[index]
            # texts has str keys only, so a number or date cell of XLSX never hits it
            value = texts.get(cell, _MISS) if type(cell) is str else _MISS
            if value is _MISS:
                try:
                    value = parse(cell)
                except ParseError as exc:
                    errors.append((column, reason_of(exc)))
                    continue
            if value is None:
                if required:
                    errors.append((column, translate(REQUIRED)))
            else:
                values[name] = value
        yield row


def chunked(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Spool:
    """A temporary file of pickled lists, written in order and read back once or more."""

    def __init__(self):
        self._file = tempfile.TemporaryFile()
        self.count = 0

    def add(self, items: list) -> None:
        if items:
            pickle.dump(items, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self.count += len(items)

    def __iter__(self) -> Iterator:
        self._file.flush()
        self._file.seek(0)
        while True:
            try:
                items = pickle.load(self._file)
            except EOFError:
                return
            yield from items

    def close(self) -> None:
        self._file.close()


class StreamingRefused(Exception):
    """Writing while checking is no longer possible for this file (see
    Importer.begin_streaming); nothing was written."""


class ErrorLog:
    """Counts every error and keeps the first `MAX_ERRORS_KEPT` for the job page."""

    def __init__(self):
        self.kept: list[dict] = []
        self.count = 0
        self.rows = 0

    def add_row(self, row: Row) -> None:
        self.rows += 1
        self.count += len(row.errors)
        for column, reason in row.errors:
            if len(self.kept) < MAX_ERRORS_KEPT:
                self.kept.append({"row": row.number, "column": column, "reason": reason})

    def add_file_error(self, reason: str, row: int | None = None, column: str = "") -> None:
        self.count += 1
        self.kept.append({"row": row, "column": column, "reason": reason})


def joined(errors: list[tuple[str, str]]) -> str:
    return "; ".join(f"{column}: {reason}" if column else reason for column, reason in errors)


def merged_rejects(
    spool: Spool, late: list[tuple[int, str, list]]
) -> Iterator[tuple[int, str, list]]:
    """Rejected rows in file order: the spool (already in order) merged with rows whose
    verdict came at the end of pass 1."""
    return heapq.merge(spool, sorted(late, key=lambda item: item[0]), key=lambda item: item[0])


def rescanned_rejects(
    table: Iterable, rejects: Iterator, collateral: Callable[[list], str | None]
) -> Iterator[tuple[int, str, list]]:
    """Read the file again and add, in file order, the good rows that were not imported
    because of another row (the other lines of a rejected order)."""
    pending = next(rejects, None)
    for number, cells in table:
        while pending is not None and pending[0] < number:
            yield pending
            pending = next(rejects, None)
        if pending is not None and pending[0] == number:
            yield pending
            pending = next(rejects, None)
            continue
        reason = collateral(cells)
        if reason:
            yield number, reason, cells
    while pending is not None:
        yield pending
        pending = next(rejects, None)


# Progress of running jobs in this process: the embedded server runs jobs in threads of
# the web process, so its pages see pass-2 progress that the open transaction hides.
LIVE: dict[int, dict[str, int]] = {}


class Progress:
    """Publishes a job's counters at most every `interval` seconds: straight to its row
    when no transaction is open; inside the import's transaction, through a second
    connection on PostgreSQL (SQLite has one writer, so there only `LIVE` moves)."""

    FIELDS = ("total_rows", "processed_rows", "written_rows")

    def __init__(self, job: ImportJob, callback: Callable | None = None, interval: float = 0.5):
        self.job = job
        self.callback = callback
        self.interval = interval
        self._last = 0.0
        self._side = None

    def update(self, force: bool = False, **counts: int) -> None:
        for name, value in counts.items():
            setattr(self.job, name, value)
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        values = {name: getattr(self.job, name) for name in self.FIELDS}
        LIVE[self.job.pk] = values
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job.pk).update(**values)
        elif connection.vendor == "postgresql":
            self._side_update(values)
        if self.callback is not None:
            self.callback(self.job)

    def _side_update(self, values: dict[str, int]) -> None:
        if self._side is None:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        table = ImportJob._meta.db_table
        columns = ", ".join(f"{name} = %s" for name in values)
        with self._side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {columns} WHERE id = %s", [*values.values(), self.job.pk]
            )

    def close(self) -> None:
        LIVE.pop(self.job.pk, None)
        if self._side is not None:
            self._side.close()
            self._side = None


class Lookup:
    """Natural key -> id for the keys an import meets, fetched with `__in` queries in
    slices, so a file naming 100,000 customers costs 20 queries and a dict of 100,000."""

    def __init__(self, queryset, field: str, value: str = "pk"):
        self.queryset = queryset
        self.field = field
        self.value = value
        self.found: dict[str, Any] = {}
        self._absent: set[str] = set()
        # A second connection of the same database to read through, when the import's
        # own is busy (see OrderImporter.writing); it sees committed rows only.
        self.side = None

    def fetch(self, keys: Iterable[str]) -> None:
        wanted = [k for k in set(keys) if k not in self.found and k not in self._absent]
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            rows = self.queryset.filter(**{f"{self.field}__in": part}).values_list(
                self.field, self.value
            )
            if self.side is not None:  # plain keys and ids: no converters to apply
                sql, params = rows.query.sql_with_params()
                with self.side.cursor() as cursor:
                    cursor.execute(sql, params)
                    rows = cursor.fetchall()
            self.found.update(rows)
            self._absent.update(k for k in part if k not in self.found)

    def get(self, key: str):
        return self.found.get(key)


class Counts:
    """Created, updated and unchanged records of one write."""

    __slots__ = ("created", "updated", "unchanged")

    def __init__(self, created: int = 0, updated: int = 0, unchanged: int = 0):
        self.created, self.updated, self.unchanged = created, updated, unchanged

    def __iadd__(self, other: Counts) -> Counts:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


class Importer:
    """What one kind of file does in each pass; subclasses per kind.

    Pass 1: `check` gets a chunk of parsed rows, adds errors (references, duplicates,
    rules across fields) and sets `row.record` on accepted rows (None: accepted but not
    to be written, e.g. a line of an order rejected earlier); `finish_check` returns
    rows whose verdict had to wait for the end of the file. `collateral` names why a
    good row was not imported, for the rejected-rows file. Pass 2: `write` saves a batch
    of records and returns `Counts`; `finish_write` completes what spans batches.
    """

    schema: Schema

    def __init__(self, job: ImportJob, mapping: dict[int, str], headers: list[str], *, now, tz):
        self.job = job
        self.indexes = {name: index for index, name in mapping.items()}
        self.columns = {name: str(headers[index]) for index, name in mapping.items()}
        self.now = now
        self.tz = tz
        self.user = job.created_by

    @property
    def needs_rescan(self) -> bool:
        """Whether good rows were left out because of other rows (see `collateral`)."""
        return False

    def column(self, name: str) -> str:
        """The header of a field in this file (or its label when the file lacks it)."""
        return self.columns.get(name) or str(self.schema.get(name).label)

    def fail(self, row: Row, name: str, template: str, /, **params: Any) -> None:
        row.errors.append((self.column(name), translate(template, **params)))

    def check(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def finish_check(self) -> list[Row]:
        return []

    def collateral(self, cells: list) -> str | None:
        return None

    def batches(self, records: Iterable) -> Iterator[list]:
        return chunked(records)

    def write(self, batch: list) -> Counts:
        raise NotImplementedError

    def finish_write(self) -> Counts:
        return Counts()

    def streams_writes(self) -> bool:
        """Whether pass 1 may write as it checks (see ImportRun._check_and_write): then
        `stream` gets each chunk's accepted records and `finish_write` ends it."""
        return False

    def stream(self, records: list) -> Counts:
        raise NotImplementedError

    def begin_streaming(self) -> None:
        """Called first inside the transaction that writes while checking: raise
        StreamingRefused if the file must take the two passes after all (what decides
        it is read here, inside the transaction and under any lock it needs)."""

    def writing(self) -> AbstractContextManager:
        """Entered around pass 2, inside its transaction: what the writes need set up."""
        return nullcontext()
