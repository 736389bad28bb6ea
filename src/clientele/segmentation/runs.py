"""Runs of definitions on the application database: each run computes its results with the
engine, then — in one transaction — writes the snapshot rows, the transition events (a join
of the current classes with the new ones) and the changed current classes, and records its
duration and counts. Everything is INSERT ... SELECT / UPDATE ... FROM between tables; no
row passes through Python."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext

from . import stored_days
from .constants import KIND_ORDER, WAITS_FOR, Kind, RunStatus, Trigger
from .engine import Batch
from .expressions import RESULT_COLUMNS
from .models import (
    ClassificationDefinition,
    ClassificationRun,
    ClassOverride,
    ClassTransition,
    CurrentClass,
    CustomerClass,
)
from .sources import DjangoExecutor, database_sources, day_date

log = logging.getLogger(__name__)

# A run still marked running after this long was lost (worker killed); it no longer
# blocks new runs of its definition.
STALE_AFTER = dt.timedelta(hours=6)


def run_definitions(
    definitions=None,
    *,
    trigger: str = Trigger.MANUAL,
    as_of: dt.date | None = None,
    user=None,
) -> list[ClassificationRun]:
    """Run definitions (default: every active one) over the application database as of a
    day (default: today in settings.TIME_ZONE). Lifetime-value definitions run first so
    lifecycle and quadrants read fresh results. A definition that fails gets a failed run
    with the error; the others still run. Returns the runs started."""
    from clientele.sales.models import Order

    if definitions is None:
        definitions = ClassificationDefinition.objects.filter(active=True)
    definitions = sorted(definitions, key=lambda d: (KIND_ORDER.get(d.kind, 9), d.position, d.pk))
    zone = settings.TIME_ZONE
    as_of = as_of or timezone.localdate()
    executor = DjangoExecutor(connection)
    restore = _tune(executor)
    sources = database_sources(executor.dialect)
    bounds = (
        _epoch(Order.objects.aggregate(v=Min("ordered_at"))["v"]),
        _epoch(Order.objects.aggregate(v=Max("ordered_at"))["v"]),
    )
    if stored_days.usable_for(bounds) and stored_days.ensure(connection, zone):
        sources.order_days = stored_days.table()
    batch = Batch(executor, sources, as_of, zone, bounds, resolve_clv=_snapshot_resolver(sources))
    end_of_day = dt.datetime.combine(
        as_of + dt.timedelta(days=1), dt.time(), timezone.get_default_timezone()
    )
    future = Order.objects.valued().filter(ordered_at__gte=end_of_day).count()
    workers = _workers(executor, definitions)
    runs = []
    try:
        # The facts every definition reads, in one pass and outside any savepoint (a failed
        # definition's rollback must not take shared tables with it).
        if workers > 1:
            executor.drop_orphaned_shared()
        batch.prepare([(d.kind, d.parameters) for d in definitions], shared=workers > 1)
        if workers > 1:
            return _run_side_by_side(definitions, batch, workers, trigger, as_of, user, future)
        for definition in definitions:
            run = _start(definition, trigger, as_of, user, future)
            if run is not None:
                _run_one(run, definition, batch, executor)
                runs.append(run)
    finally:
        executor.drop_temporary()
        restore()
    return runs


def _workers(executor, definitions) -> int:
    """How many definitions run at once: up to CLIENTELE_CLASSIFY_WORKERS, each on a
    connection of its own. Inside the caller's transaction (a test, a request) the other
    connections could not see its uncommitted rows, and an in-memory SQLite database
    (tests) is not one file other connections can open, so there it is one."""
    if connection.in_atomic_block:
        return 1
    if executor.dialect == "sqlite" and connection.is_in_memory_db():
        return 1
    return max(1, min(int(settings.CLIENTELE_CLASSIFY_WORKERS), len(definitions)))


def _run_side_by_side(definitions, batch, workers, trigger, as_of, user, future):
    """Run the definitions on `workers` connections at once, in the batch's order as far
    as WAITS_FOR allows. A definition's run commits before anything waiting for it
    starts, so it reads the same results as one after another.

    The run rows are all created first, on the calling connection: on SQLite creating
    one needs the write lock, and a connection starting its next definition waited up to
    5 s for the other connection's snapshot insert to commit."""
    runs: dict[int, ClassificationRun] = {}
    for index, definition in enumerate(definitions):
        run = _start(definition, trigger, as_of, user, future)
        if run is not None:
            runs[index] = run
    blockers = []
    for index, definition in enumerate(definitions):
        kinds = WAITS_FOR.get(definition.kind, set())
        blockers.append(
            {
                j
                for j in range(index)
                if j in runs and (kinds is None or definitions[j].kind in kinds)
            }
        )
    started: set[int] = set(range(len(definitions))) - set(runs)  # skipped: never claimed
    finished: set[int] = set()
    state = threading.Condition()

    def claim() -> int | None:
        with state:
            while True:
                waiting = [i for i in range(len(definitions)) if i not in started]
                if not waiting:
                    return None
                ready = next((i for i in waiting if blockers[i] <= finished), None)
                if ready is not None:
                    started.add(ready)
                    return ready
                state.wait()

    def work(executor) -> None:
        twin = batch.sibling(executor)
        while (index := claim()) is not None:
            try:
                _run_one(runs[index], definitions[index], twin, executor)
            finally:
                with state:
                    finished.add(index)
                    state.notify_all()

    try:
        _on_own_connections(workers, work)
    finally:
        # Runs no connection got to (every thread stopped on an error) are not left
        # looking as if they were still running.
        left = [runs[i].pk for i in runs if i not in finished]
        ClassificationRun.objects.filter(pk__in=left, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=gettext("Not computed: the batch stopped on an earlier error."),
        )
    return [runs[i] for i in sorted(runs)]


def _on_own_connections(count: int, work) -> None:
    """Call work(executor) on `count` threads at once, each with a database connection of
    its own, tuned like the main one; re-raise the first error once all have finished."""
    errors: list[BaseException] = []

    def thread_main() -> None:
        own = connections[DEFAULT_DB_ALIAS]  # this thread's connection
        try:
            executor = DjangoExecutor(own)
            restore = _tune(executor)
            try:
                work(executor)
            finally:
                executor.drop_temporary()
                restore()
        except BaseException as error:  # reported by the calling thread; the others go on
            errors.append(error)
        finally:
            own.close()

    threads = [
        threading.Thread(target=thread_main, name=f"classify-{n}", daemon=True)
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# Session settings for a run (this connection only, restored afterwards): the working
# tables hold a row per customer (and per customer and purchase day), so sorts, hashes and
# windows get memory instead of spilling to disk in small pieces.
PG_SETTINGS = {"work_mem": "256MB", "temp_buffers": "512MB", "maintenance_work_mem": "256MB"}
SQLITE_CACHE_KIB = 1_000_000  # page cache up to ~1 GB, allocated only as used


def _tune(executor):
    """Apply the session settings; return a function that restores the previous ones."""
    undo = []
    if executor.dialect == "postgres":
        for name, value in PG_SETTINGS.items():
            previous = executor.query(f"SHOW {name}")[0][0]
            try:
                # temp_buffers cannot change once the session has used a temporary table;
                # a savepoint keeps that refusal from aborting the caller's transaction.
                with transaction.atomic():
                    executor.execute(f"SET {name} = '{value}'")
            except Exception:  # noqa: BLE001 - the setting is an optimisation only
                continue
            if name != "temp_buffers":  # fixed for the session once temporary tables exist
                undo.append(f"SET {name} = '{previous}'")
    else:
        previous = executor.query("PRAGMA cache_size")[0][0]
        executor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        undo.append(f"PRAGMA cache_size = {int(previous)}")
        if connection.get_autocommit():
            # The working tables are temporary; in memory they cost no disk writes. SQLite
            # allows the change only outside a transaction (inside one the default stays).
            previous = executor.query("PRAGMA temp_store")[0][0]
            executor.execute("PRAGMA temp_store = MEMORY")
            undo.append(f"PRAGMA temp_store = {int(previous)}")

    def restore():
        for statement in undo:
            try:
                with transaction.atomic():  # a refusal must not abort the caller's transaction
                    executor.execute(statement)
            except Exception:  # noqa: BLE001 - e.g. temp_store inside a transaction
                log.debug("could not restore: %s", statement)

    return restore


def _epoch(moment):
    return int(moment.timestamp()) if moment else None


def _snapshot_resolver(sources):
    """Lifetime-value results of a definition outside the batch: its latest snapshot."""

    def resolve(key):
        definition = ClassificationDefinition.objects.filter(key=key, kind=Kind.CLV).first()
        run = definition.last_run if definition else None
        if run is None:
            return None
        snap = sources.snapshot
        snap = snap.filter(snap.run_id == run.pk)
        return snap.select(snap.customer_id, snap.p_alive, snap.clv)

    return resolve


def _start(definition, trigger, as_of, user, future: int) -> ClassificationRun | None:
    """Create the run row, unless the definition is already running (the row lock makes
    two workers starting at once see each other). `future`: orders after the as-of day."""
    now = timezone.now()
    with transaction.atomic():
        ClassificationDefinition.objects.select_for_update().filter(pk=definition.pk).first()
        running = ClassificationRun.objects.filter(definition=definition, status=RunStatus.RUNNING)
        running.filter(started_at__lt=now - STALE_AFTER).update(
            status=RunStatus.FAILED,
            error=gettext("Abandoned: the worker stopped before finishing."),
        )
        if running.exists():
            log.info("classification %s is already running; skipped", definition.key)
            return None
        return ClassificationRun.objects.create(
            definition=definition,
            trigger=trigger,
            as_of=as_of,
            started_at=now,
            status=RunStatus.RUNNING,
            started_by=user if user is not None and user.pk else None,
            ignored_future_orders=future,
        )


def _run_one(run, definition, batch, executor) -> None:
    started = time.perf_counter()
    # On PostgreSQL an error aborts the transaction; a savepoint keeps a failed definition
    # from spoiling the caller's transaction. On SQLite the computation stays outside any
    # write transaction so the embedded server keeps accepting writes meanwhile.
    guard = transaction.atomic if executor.dialect == "postgres" else contextlib.nullcontext
    try:
        with guard():
            computed = batch.compute(
                definition.kind, definition.parameters, definition.key, definition.pk
            )
        with transaction.atomic():
            _write(run, definition, computed, executor, batch, started)
    except Exception as error:  # the run records any failure; the batch goes on
        log.exception("classification %s failed", definition.key)
        ClassificationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            duration=time.perf_counter() - started,
            error=str(error)[:2000] or error.__class__.__name__,
        )
        run.refresh_from_db()
        return


def _write(run, definition, computed, executor, batch, started: float) -> None:
    ops = connection.ops
    now = timezone.now()
    as_of = ops.adapt_datefield_value(batch.as_of)
    result = computed.table.get_name()
    snapshot = CustomerClass._meta.db_table
    current = CurrentClass._meta.db_table
    transitions = ClassTransition._meta.db_table
    overrides = ClassOverride._meta.db_table
    d = int(definition.pk)
    columns = [c for c in RESULT_COLUMNS if c not in ("customer_id", "code")]
    listed = ", ".join(columns)

    # The final class: a manual class set by a manager wins over the computed one. Without
    # any override for this definition (the usual case) the result is the final class
    # and is read as it is, not copied.
    if ClassOverride.objects.filter(definition_id=d).exists():
        final = executor.temp_name("final")
        executor.execute(f"DROP TABLE IF EXISTS {final}")
        executor.execute(
            f"CREATE TEMPORARY TABLE {final} AS SELECT r.customer_id,"
            " COALESCE(o.code, r.code) AS code, o.code IS NOT NULL AS manual, "
            + ", ".join(f"r.{c}" for c in columns)
            + f" FROM {result} r LEFT JOIN {overrides} o ON o.customer_id = r.customer_id"
            f" AND o.definition_id = {d}"
        )
        executor.track(final)
        executor.analyze(final)
    else:
        final = f"(SELECT customer_id, code, FALSE AS manual, {listed} FROM {result})"

    # Rows go in in key order (both tables are keyed by customer within the run or
    # definition): each index entry then lands next to the previous one instead of on a
    # random page of a large index, which halves the cost of a million-row insert.
    executor.execute(
        f"INSERT INTO {snapshot} (run_id, customer_id, code, {listed}, computed_at)"
        f" SELECT {int(run.pk)}, customer_id, code, {listed}, %s FROM {final} f"
        " ORDER BY customer_id",
        [ops.adapt_datetimefield_value(now)],
    )
    has_previous = ClassificationRun.objects.filter(
        definition=definition, status=RunStatus.SUCCEEDED
    ).exists()
    has_current = CurrentClass.objects.filter(definition_id=d).exists()
    if has_current:
        # One join of the new classes with the current ones finds every row that changes
        # (class, manual flag, or a customer new to the definition); transitions, updates
        # and inserts then read that short list instead of joining a million rows each.
        changed = executor.temp_name("changes")
        executor.execute(f"DROP TABLE IF EXISTS {changed}")
        executor.execute(
            f"CREATE TEMPORARY TABLE {changed} AS SELECT f.customer_id, f.code, f.manual,"
            f" c.code AS old_code FROM {final} f LEFT JOIN {current} c"
            f" ON c.definition_id = {d} AND c.customer_id = f.customer_id"
            " WHERE c.code IS NULL OR c.code <> f.code OR c.manual <> f.manual"
        )
        executor.track(changed)
        executor.execute(f"CREATE INDEX {changed}_ix ON {changed} (customer_id)")
        executor.analyze(changed)
    else:
        # The definition's first run (or its current classes were cleared): every row is
        # new, read as it is and inserted without probing the table row by row.
        changed = f"(SELECT customer_id, code, manual, NULL AS old_code FROM {final} f)"
    moved = 0
    if has_previous:
        moved = executor.execute(
            f"INSERT INTO {transitions} (definition_id, customer_id, run_id, from_code, to_code,"
            f" at) SELECT {d}, customer_id, {int(run.pk)}, COALESCE(old_code, ''), code, %s"
            f" FROM {changed} ch WHERE old_code IS NULL OR old_code <> code",
            [ops.adapt_datetimefield_value(now)],
        )
    if has_current:
        _update_current(executor, definition, batch, current, changed, d, as_of, ops)
    executor.execute(
        f"INSERT INTO {current} (definition_id, customer_id, code, since, reviewed_at, manual)"
        f" SELECT {d}, customer_id, code, %s, %s, manual FROM {changed} ch"
        " WHERE old_code IS NULL ORDER BY customer_id",
        [as_of, as_of],
    )
    counts = {
        code: int(n)
        for code, n in executor.query(f"SELECT code, COUNT(*) FROM {final} f GROUP BY code")
    }
    finished = timezone.now()
    run.status = RunStatus.SUCCEEDED
    run.finished_at = finished
    run.counts = {code: counts[code] for code in sorted(counts)}
    run.customers = sum(counts.values())
    run.transitions = max(int(moved or 0), 0)
    run.outputs = computed.outputs
    # Saved with the rest, in the write's transaction: a separate update afterwards waited
    # on SQLite for the write lock another connection of the batch held (up to 4 s).
    run.duration = time.perf_counter() - started
    run.save(
        update_fields=[
            "status", "finished_at", "counts", "customers", "transitions", "outputs", "duration",
        ]
    )  # fmt: skip


def _update_current(executor, definition, batch, current, changes, d, as_of, ops) -> None:
    """Current classes that changed class (entered today) or manual flag; rolling tiers
    reviewed."""
    executor.execute(
        f"UPDATE {current} SET code = ch.code, manual = ch.manual,"
        f" since = CASE WHEN {current}.code <> ch.code THEN %s ELSE {current}.since END,"
        f" reviewed_at = CASE WHEN {current}.code <> ch.code THEN %s"
        f" ELSE {current}.reviewed_at END FROM {changes} ch WHERE {current}.definition_id = {d}"
        f" AND {current}.customer_id = ch.customer_id AND ch.old_code IS NOT NULL",
        [as_of, as_of],
    )
    if definition.kind == Kind.TIER and definition.parameters.get("downgrade") == "rolling":
        cutoff = day_date(batch.as_of_day - int(definition.parameters["window_days"]))
        executor.execute(
            f"UPDATE {current} SET reviewed_at = %s WHERE definition_id = {d}"
            " AND reviewed_at <= %s",
            [as_of, ops.adapt_datefield_value(cutoff)],
        )
