"""Background jobs: the daily duty run at 03:30 in settings.TIME_ZONE (after the nightly
classification at 02:00, so new classes get their tasks), and runs started by hand. A queue
lock keeps two runs from overlapping; each step is idempotent anyway."""

import logging
from dataclasses import asdict

from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from clientele.segmentation.tasks import local_time_is

log = logging.getLogger(__name__)

LOCK = "clientele-plan-duties"


def run_locked(today=None) -> dict:
    """Create, close and miss duty tasks under the queue lock (raises TaskLockedException
    if another run holds it)."""
    from . import services

    with HUEY.lock_task(LOCK):
        return asdict(services.run_duties(today=today))


@db_periodic_task(local_time_is(3, 30))
def daily_duties():
    try:
        return run_locked()
    except TaskLockedException:
        log.info("the duty run is already running; skipped")
        return None


@db_task(retries=3, retry_delay=120)
def duties_task():
    """The duty run queued by hand (page, API); retried later if a run holds the lock."""
    return run_locked()
