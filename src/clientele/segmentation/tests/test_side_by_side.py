"""A batch runs its definitions side by side, each on a connection of its own
(CLIENTELE_CLASSIFY_WORKERS); the snapshots, counts, current classes and transitions are
the same as when they run one after another, and a definition that reads another's
results (value x expectation reads lifetime value) starts only after that one finished.

On PostgreSQL the test runs in the suite's database (a transactional test, so the other
connections see its rows). SQLite's test database lives in memory, which other
connections cannot open, so there a child process runs the same check on a database file.
"""

import os
import threading
import time

import pytest
from django.conf import settings
from django.db import connection

from clientele.core.testing import only_on_postgres, postgres_in_use, report_on_sqlite_file
from clientele.segmentation import runs as runs_module
from clientele.segmentation.constants import RunStatus
from clientele.segmentation.defaults import create_missing
from clientele.segmentation.models import (
    ClassificationDefinition,
    ClassTransition,
    CurrentClass,
    CustomerClass,
)
from clientele.segmentation.services import run_definitions
from clientele.segmentation.sources import DjangoExecutor

from .fixtures import AS_OF, make_customers

COLUMNS = ["code", "measure", "rank", "share", "potential", "score_r", "score_f", "score_m",
           "recency_days", "frequency", "monetary", "expectation", "p_alive",
           "expected_purchases", "expected_aov", "clv"]  # fmt: skip


def _snapshot(run) -> dict:
    return {
        row[0]: list(row[1:])
        for row in CustomerClass.objects.filter(run=run).values_list("customer__code", *COLUMNS)
    }


def _shared_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'seg_shared_%%'")
        return sorted(name for (name,) in cursor.fetchall())


def side_by_side_report() -> dict:
    """Run the default definitions side by side, then one after another, on the current
    database (committed data, no surrounding transaction); report what differs."""
    create_missing(ClassificationDefinition)  # a transactional test starts with empty tables
    make_customers()
    definitions = list(ClassificationDefinition.objects.filter(active=True))
    spans = {}
    original = runs_module._run_one

    def timed(run, definition, batch, executor):
        started = time.monotonic()
        original(run, definition, batch, executor)
        spans[definition.key] = (started, time.monotonic(), threading.current_thread().name)

    runs_module._run_one = timed
    workers = settings.CLIENTELE_CLASSIFY_WORKERS
    try:
        settings.CLIENTELE_CLASSIFY_WORKERS = 2
        side = run_definitions(definitions, as_of=AS_OF)
        side_spans = dict(spans)
        spans.clear()
        settings.CLIENTELE_CLASSIFY_WORKERS = 1
        serial = run_definitions(definitions, as_of=AS_OF)
    finally:
        runs_module._run_one = original
        settings.CLIENTELE_CLASSIFY_WORKERS = workers
    report = {
        "definitions": len(definitions),
        "side_threads": sorted({name for _, _, name in side_spans.values()}),
        "serial_threads": sorted({name for _, _, name in spans.values()}),
        "waited_for_clv": all(
            side_spans[key][0] >= side_spans["clv"][1] for key in ("value_expectation", "lifecycle")
        ),
        "keys": [[r.definition.key for r in side], [r.definition.key for r in serial]],
        "problems": [],
    }
    problems = report["problems"]
    for first, second in zip(side, serial, strict=True):
        key = first.definition.key
        if not (first.status == second.status == RunStatus.SUCCEEDED):
            problems.append(f"{key}: {first.status} {first.error} / {second.status} {second.error}")
        if first.counts != second.counts or not first.customers:
            problems.append(f"{key}: counts {first.counts} / {second.counts}")
        if _snapshot(first) != _snapshot(second):
            problems.append(f"{key}: snapshots differ")
        if second.transitions:
            problems.append(f"{key}: {second.transitions} transitions on the same data")
        current = dict(
            CurrentClass.objects.filter(definition=first.definition).values_list(
                "customer__code", "code"
            )
        )
        if current != {code: row[0] for code, row in _snapshot(first).items()}:
            problems.append(f"{key}: current classes differ from the snapshot")
    if ClassTransition.objects.exists():
        problems.append("transitions were written")
    return report


def _check(report: dict) -> None:
    assert report["definitions"] == 6
    assert len(report["side_threads"]) == 2  # two connections did the work
    assert len(report["serial_threads"]) == 1
    assert report["waited_for_clv"]
    assert report["keys"][0] == report["keys"][1]
    assert report["problems"] == []


@pytest.mark.django_db(transaction=True)
def test_side_by_side_on_postgresql():
    only_on_postgres()
    _check(side_by_side_report())
    assert _shared_tables() == []  # the shared facts are dropped with the batch


def test_side_by_side_on_a_sqlite_file(tmp_path):
    if postgres_in_use():
        pytest.skip("the suite runs on PostgreSQL: test_side_by_side_on_postgresql checks it")
    _check(report_on_sqlite_file(tmp_path, __name__, "side_by_side_report"))
    work = tmp_path / "data" / "classification-work"
    assert not work.exists() or list(work.iterdir()) == []  # the working file is deleted


@pytest.mark.django_db(transaction=True)
def test_shared_tables_of_a_dead_session_are_dropped():
    only_on_postgres()
    executor = DjangoExecutor(connection)
    own = executor.shared_name("facts")
    assert own.startswith(f"seg_shared_{connection.connection.info.backend_pid}_")
    orphan = "seg_shared_999999999_facts_1"  # no server process has this id
    for name in (own, orphan):
        executor.execute(f"CREATE UNLOGGED TABLE {name} (customer_id BIGINT)")
    try:
        executor.drop_orphaned_shared()
        assert _shared_tables() == [own]
    finally:
        for name in (own, orphan):
            executor.execute(f"DROP TABLE IF EXISTS {name}")


def test_working_files_of_a_dead_process_are_deleted(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    folder = tmp_path / "classification-work"
    folder.mkdir()
    mine = folder / f"{os.getpid()}-a.sqlite3"
    orphan = folder / "999999999-b.sqlite3"  # no process has this id
    for path in (mine, orphan):
        path.write_bytes(b"")
    if postgres_in_use():
        pytest.skip("working files are SQLite's")
    DjangoExecutor(connection).drop_orphaned_shared()
    assert sorted(p.name for p in folder.iterdir()) == [mine.name]
