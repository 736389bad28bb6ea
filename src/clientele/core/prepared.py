"""Querysets compiled to SQL once and executed many times with new values.

For the few paths that answer many small requests a second (the offer pop-up, signing in
an API token) compiling a queryset costs more than running it: the ORM spends about half a
millisecond per query building SQL, psycopg splits a long statement's parameters on every
call, and PostgreSQL plans it again. A PreparedQuery compiles its queryset once per process
with placeholder values ("slots") in the places that change per call; on PostgreSQL it
also PREPAREs the statement once per connection (constants inlined, slots as $1, $2...),
so each call sends only `EXECUTE name(values)`. Elsewhere (SQLite) the compiled SQL runs
with the slot values put in its parameters, which sqlite3's statement cache keeps parsed.

Prepared statements belong to a connection and survive a rolled-back transaction; a new
connection (Django reconnects after CONN_MAX_AGE or a failed health check) prepares
again. A query built for a `purpose` replaces that purpose's previous statement on each
connection (DEALLOCATE), so a statement recompiled every minute does not pile up."""

import hashlib
import logging
import re
import threading
import weakref
from collections.abc import Callable

from django.db import connections

log = logging.getLogger(__name__)

# Placeholder values no real data uses: an integer far above any id, a string with a
# marker. Each must appear exactly once among the compiled parameters.
_INT_SLOT_BASE = 8_600_000_000_000_000_000
_STR_SLOT_MARK = "~clientele-slot-{}~"

# raw DB-API connection -> {purpose: statement name prepared on it}
_prepared_on: "weakref.WeakKeyDictionary[object, dict[str, str]]" = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def _slot_value(kind: type, number: int):
    if kind is int:
        return _INT_SLOT_BASE + number
    if kind is str:
        return _STR_SLOT_MARK.format(number)
    raise TypeError(f"a slot is int or str, not {kind!r}")


class _Compiled:
    """One compilation: the SQL and constant parameters, where the slots go, and on
    PostgreSQL the text to PREPARE and its name."""

    def __init__(
        self,
        purpose: str,
        sql: str,
        params: list,
        positions: list[int],
        prepare_text: str | None,
        compiler,
        converters: dict,
    ):
        self.compiler = compiler
        self.converters = converters
        self.sql = sql
        self.params = params
        self.positions = positions
        self.prepare_text = prepare_text
        # The purpose is part of the name: two purposes never share (and so never
        # deallocate) one statement.
        text = f"{purpose}\n{prepare_text or sql}"
        digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        self.name = f"clientele_{digest}"


class PreparedQuery:
    """`build(*slots)` returns the queryset (usually ending in values_list) with the given
    placeholder values where the per-call values go; `kinds` gives each slot's type (int
    or str). Compiled on first use, then `rows(*values)` runs it. Thread-safe: each thread
    uses its own connection, and the compiled form never changes after it is made.

    `server_prepare=False` keeps the statement compiled but unprepared, for a query whose
    best plan depends on the values: PostgreSQL switches a prepared statement to one
    generic plan after five runs, and for a lookup on a column where one value is very
    common (an empty second phone) that plan scans the whole table."""

    def __init__(
        self,
        purpose: str,
        build: Callable,
        *kinds: type,
        using: str = "default",
        server_prepare: bool = True,
    ):
        self.purpose = purpose
        self.server_prepare = server_prepare
        self.build = build
        self.kinds = kinds
        self.using = using
        self._compiled: _Compiled | None = None
        self._lock = threading.Lock()

    def _compile(self) -> _Compiled:
        slots = [_slot_value(kind, n) for n, kind in enumerate(self.kinds)]
        queryset = self.build(*slots)
        compiler = queryset.query.get_compiler(using=self.using)
        sql, params = compiler.as_sql()
        params = list(params)
        # The ORM's own conversions of raw values (SQLite's text timestamps and 0/1
        # booleans, for one), as its results_iter applies them.
        fields = [select[0] for select in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        positions = []
        for slot in slots:
            found = [n for n, value in enumerate(params) if value == slot]
            if len(found) != 1:
                raise ValueError(f"{self.purpose}: slot {slot!r} appears {len(found)} times")
            positions.append(found[0])
        connection = connections[self.using]
        prepare_text = None
        if connection.vendor == "postgresql" and self.server_prepare:
            try:
                prepare_text = self._prepare_text(connection, sql, params, slots)
            except Exception as error:  # a parameter psycopg cannot write as a literal
                log.warning("%s: not prepared (%s)", self.purpose, error)
        return _Compiled(self.purpose, sql, params, positions, prepare_text, compiler, converters)

    def _prepare_text(self, connection, sql: str, params: list, slots: list) -> str | None:
        """The statement with its constants as literals (quoted by psycopg itself) and $n
        for the slots; None (run unprepared) if a slot's literal is not found exactly
        once."""
        import psycopg

        connection.ensure_connection()
        text = psycopg.ClientCursor(connection.connection).mogrify(sql, params)
        for number, slot in enumerate(slots, start=1):
            if isinstance(slot, int):
                pattern = rf"(?<![\w.]){slot}(?![\w.])"
            else:
                pattern = re.escape(f"'{slot}'")
            text, count = re.subn(pattern, f"${number}", text)
            if count != 1:
                log.warning("%s: not prepared (slot %s found %d times)", self.purpose, slot, count)
                return None
        return text

    @property
    def compiled(self) -> _Compiled:
        compiled = self._compiled
        if compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
                compiled = self._compiled
        return compiled

    def rows(self, *values) -> list[tuple]:
        """Run the query with `values` in its slots; the rows as tuples of the values the
        ORM's values_list would give."""
        compiled = self.compiled
        connection = connections[self.using]
        with connection.cursor() as cursor:
            if compiled.prepare_text is not None:
                self._ensure_prepared(cursor, connection.connection, compiled)
                placeholders = ", ".join(["%s"] * len(values))
                cursor.execute(f"EXECUTE {compiled.name}({placeholders})", list(values))
            else:
                params = list(compiled.params)
                for position, value in zip(compiled.positions, values, strict=True):
                    params[position] = value
                cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(map(tuple, compiled.compiler.apply_converters(rows, compiled.converters)))
        return rows

    def first(self, *values) -> tuple | None:
        """The first row, or None."""
        rows = self.rows(*values)
        return rows[0] if rows else None

    def _ensure_prepared(self, cursor, raw_connection, compiled: _Compiled) -> None:
        with _registry_lock:
            prepared = _prepared_on.setdefault(raw_connection, {})
            current = prepared.get(self.purpose)
        if current == compiled.name:
            return
        if current is not None:
            cursor.execute(f"DEALLOCATE {current}")
        cursor.execute(f"PREPARE {compiled.name} AS {compiled.prepare_text}")
        with _registry_lock:
            prepared[self.purpose] = compiled.name
