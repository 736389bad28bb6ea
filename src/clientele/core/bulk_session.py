"""Session settings for statements over a million rows (campaign building, waves).

PostgreSQL's default work_mem (4 MB) makes a hash join or sort over a million rows spill
to disk in small batches: the task insert of a million-target campaign joined in eight
batches and took 0.8 s longer than with 64 MB. `SET LOCAL` lasts until the transaction
ends, so nothing leaks into the connection's later work."""

from django.db import connection

BULK_WORK_MEM = "64MB"


def bulk_work_mem() -> None:
    """Give the current transaction's sorts and hashes BULK_WORK_MEM (PostgreSQL; a no-op
    elsewhere and outside a transaction, where SET LOCAL would not last)."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
