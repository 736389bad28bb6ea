"""On PostgreSQL a batch runs its definitions side by side, each on a connection of its
own (CLIENTELE_CLASSIFY_WORKERS); the snapshots, counts, current classes and transitions
are the same as when they run one after another, and a definition that reads another's
results (value x expectation reads lifetime value) starts only after that one finished."""

import threading
import time

import pytest
from django.db import connection

from clientele.core.testing import only_on_postgres
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
        row[0]: row[1:]
        for row in CustomerClass.objects.filter(run=run).values_list("customer__code", *COLUMNS)
    }


def _shared_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'seg_shared_%%'")
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_side_by_side_runs_match_runs_one_after_another(settings, monkeypatch):
    only_on_postgres()
    create_missing(ClassificationDefinition)  # a transactional test starts with empty tables
    make_customers()
    definitions = list(ClassificationDefinition.objects.filter(active=True))
    assert len(definitions) == 6
    spans = {}
    original = runs_module._run_one

    def timed(run, definition, batch, executor):
        started = time.monotonic()
        original(run, definition, batch, executor)
        spans[definition.key] = (started, time.monotonic(), threading.current_thread().name)

    monkeypatch.setattr(runs_module, "_run_one", timed)
    settings.CLIENTELE_CLASSIFY_WORKERS = 2
    side = run_definitions(definitions, as_of=AS_OF)
    assert len({name for _, _, name in spans.values()}) == 2  # two connections did the work
    assert spans["value_expectation"][0] >= spans["clv"][1]  # waited for lifetime value
    assert spans["lifecycle"][0] >= spans["clv"][1]
    assert _shared_tables() == []  # the shared facts are dropped with the batch

    settings.CLIENTELE_CLASSIFY_WORKERS = 1
    spans.clear()
    serial = run_definitions(definitions, as_of=AS_OF)
    assert {name for _, _, name in spans.values()} == {threading.current_thread().name}

    assert [r.definition.key for r in side] == [r.definition.key for r in serial]
    for first, second in zip(side, serial, strict=True):
        assert first.status == second.status == RunStatus.SUCCEEDED, first.error
        assert first.counts == second.counts
        assert first.customers == second.customers > 0
        assert _snapshot(first) == _snapshot(second)
        assert second.transitions == 0  # same data: nothing changed class
        current = dict(
            CurrentClass.objects.filter(definition=first.definition).values_list(
                "customer__code", "code"
            )
        )
        assert current == {code: row[0] for code, row in _snapshot(first).items()}
    assert not ClassTransition.objects.exists()


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
        assert sorted(_shared_tables()) == [own]
    finally:
        for name in (own, orphan):
            executor.execute(f"DROP TABLE IF EXISTS {name}")
