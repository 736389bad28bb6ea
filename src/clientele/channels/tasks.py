"""Background jobs: drain the outbox. A periodic job runs every minute on every worker
machine; campaigns also call `drain_outbox()` right after queueing so messages go out
without waiting for the minute. Several drains at once are safe: workers claim disjoint
batches."""

from dataclasses import asdict

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .dispatcher import Dispatcher

# A drain stops after this long so the periodic job's runs do not pile up; the next run
# continues where it stopped.
DRAIN_SECONDS = 55


@db_task()
def drain_outbox(max_seconds: float = DRAIN_SECONDS) -> dict:
    """Send what is due until nothing is left or the time is up; returns the counts."""
    stats = Dispatcher().run(stop_when="idle", max_seconds=max_seconds)
    return asdict(stats)


@db_periodic_task(crontab(minute="*"))
def drain_outbox_every_minute() -> dict:
    return drain_outbox.call_local()
