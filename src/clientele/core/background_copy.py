"""COPY into PostgreSQL from a second thread, on the caller's own connection and
transaction, so the server stores one batch while Python prepares the next.

Without it a bulk write alternated: Python built a batch (one core busy), then waited
while PostgreSQL inserted it and updated its indexes (the other core busy), and half of
the time was one side waiting for the other. Order imports and campaign waves use it.
The thread holds the only other use of the connection; psycopg's connection lock keeps
a query of the main thread from interleaving with a COPY, and `wait` lets the main
thread read what earlier batches wrote. Optionally foreign keys are checked as each COPY
runs (SET CONSTRAINTS ALL IMMEDIATE) instead of all at commit, so that work overlaps as
well; an import's references were checked before, so a violation there is a real error
and rolls the whole import back like any other.
"""

from __future__ import annotations

import functools
import itertools
import json
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, models

# Batches queued ahead of the thread: enough to keep it busy, few enough to bound the
# memory (a batch is at most a few thousand rows).
AHEAD = 2


class BackgroundCopy:
    """A thread that runs COPY statements in the order they are submitted."""

    def __init__(self, *, immediate_constraints: bool = False):
        connection.ensure_connection()
        self._raw = connection.connection
        self._jobs: queue.Queue = queue.Queue(maxsize=AHEAD)
        self._error: BaseException | None = None
        self._immediate = immediate_constraints
        if immediate_constraints:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self._thread = threading.Thread(target=self._serve, name="background-copy", daemon=True)
        self._thread.start()

    def submit(
        self,
        sql: str,
        fields: tuple[models.Field, ...],
        rows: Iterable[tuple],
        tail: tuple[tuple[models.Field, Any], ...] = (),
    ) -> None:
        """Queue a COPY ... FROM STDIN of `rows`; raises a failure of an earlier one.
        The rows are turned into COPY text here, so the thread only sends bytes and
        never waits for the interpreter while the main thread runs Python. `tail`:
        (field, value) pairs that end every row."""
        self.submit_text(sql, copy_text(fields, rows, tail))

    def submit_text(self, sql: str, data: bytes) -> None:
        """Queue a COPY ... FROM STDIN of rows already in COPY's text format."""
        self._raise()
        self._jobs.put((sql, data))

    def wait(self) -> None:
        """Return once every queued COPY has run; raises the first failure."""
        self._jobs.join()
        self._raise()

    def close(self, *, failed: bool = False) -> None:
        """Stop the thread. After a success, raise what failed in it; after a failure
        elsewhere (`failed`), only make sure it no longer uses the connection."""
        self._jobs.put(None)
        self._thread.join()
        if not failed:
            self._raise()
        if self._immediate and not failed:
            with connection.cursor() as cursor:
                # Django's foreign keys are all INITIALLY DEFERRED: back to that.
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:  # after a failure, the rest is dropped
                    sql, data = job
                    with self._raw.cursor() as cursor, cursor.copy(sql) as copy:
                        copy.write(data)
            except BaseException as exc:  # handed to the main thread
                self._error = exc
            finally:
                self._jobs.task_done()


# COPY's text format: a backslash, tab, newline or carriage return in a value is escaped.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NUMBERS = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.DecimalField,
    models.FloatField,
    models.DateField,  # and DateTimeField: str() of an aware datetime is ISO with offset
    models.BooleanField,
)


def escape(value: str) -> str:
    """A text value escaped for COPY's text format."""
    # Most values need nothing, and str.translate is slow on non-ASCII text (5 us for a
    # 100-character Chinese SMS, against 0.1 us for these four searches).
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def _text(value) -> str:
    if value is None:
        return "\\N"
    return escape(value if type(value) is str else str(value))


def _json(value) -> str:
    """JSON: a str is JSON text already (how record_import passes change sets)."""
    if value is None:
        return "\\N"
    return escape(value if type(value) is str else json.dumps(value))


def _plain(value) -> str:
    return "\\N" if value is None else str(value)


@functools.cache
def row_formatter(fields: tuple[models.Field, ...]) -> Callable[[tuple, str], str]:
    """A function of (row, end) giving the row's values for `fields` as one line of COPY
    text, followed by `end`.

    It is generated as one f-string per row: numbers, dates, keys and choices (printed
    by str in forms PostgreSQL reads back exactly; choices are plain words) go in as
    they are, or through a None check when the column is nullable; other text and JSON
    are escaped. With a function per value, formatting cost more than the server's
    insert.
    """
    parts = []
    for i, field in enumerate(fields):
        kind = field.target_field if field.is_relation else field  # a key: the key's type
        if isinstance(field, models.JSONField):
            parts.append(f"{{_json(r[{i}])}}")
        elif isinstance(kind, _NUMBERS) or field.choices:
            parts.append(f"{{_plain(r[{i}])}}" if field.null else f"{{r[{i}]}}")
        else:
            parts.append(f"{{_text(r[{i}])}}")
    source = "lambda r, end: f'" + "\\t".join(parts) + "{end}'"
    return eval(source, {"_json": _json, "_plain": _plain, "_text": _text})  # noqa: S307


def format_values(pairs: tuple[tuple[models.Field, Any], ...]) -> str:
    """(field, value) pairs as one tab-separated piece of a COPY line, without its end."""
    fields = tuple(field for field, _ in pairs)
    return row_formatter(fields)(tuple(value for _, value in pairs), "")


def copy_text(
    fields: tuple[models.Field, ...],
    rows: Iterable[tuple],
    tail: tuple[tuple[models.Field, Any], ...] = (),
) -> bytes:
    """Rows as the body of a COPY ... FROM STDIN in text format; the `tail` values
    (defaults, timestamps: the same on every row) are formatted once."""
    end = "\t" + format_values(tail) + "\n" if tail else "\n"
    return "".join(map(row_formatter(fields), rows, itertools.repeat(end))).encode()
