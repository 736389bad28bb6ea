"""Bulk statements' memory (core.bulk_session): raised for one transaction on PostgreSQL
and back to the connection's own value after it, whether it commits or fails."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from clientele.core.bulk_session import BULK_WORK_MEM, bulk_work_mem
from clientele.core.testing import only_on_postgres

pytestmark = pytest.mark.django_db(transaction=True)


def work_mem() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        return cursor.fetchone()[0]


def test_raised_for_the_transaction_only():
    only_on_postgres()
    before = work_mem()
    assert before != BULK_WORK_MEM
    with transaction.atomic():
        bulk_work_mem()
        assert work_mem() == BULK_WORK_MEM
    assert work_mem() == before
    with pytest.raises(RuntimeError), transaction.atomic():
        bulk_work_mem()
        raise RuntimeError("the transaction fails")
    assert work_mem() == before


def test_outside_a_transaction_nothing_changes():
    only_on_postgres()
    before = work_mem()
    bulk_work_mem()
    assert work_mem() == before


def test_one_statement_on_postgresql_none_elsewhere():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        bulk_work_mem()
    expected = 1 if connection.vendor == "postgresql" else 0
    assert len(queries.captured_queries) == expected
