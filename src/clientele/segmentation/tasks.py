"""Background jobs: the nightly classification at 02:00 in settings.TIME_ZONE, a run after
each import, and runs started by hand. A queue lock keeps two batches from overlapping
(each run also refuses to start while its definition is running, see runs._start)."""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from .constants import Schedule, Trigger

log = logging.getLogger(__name__)

LOCK = "clientele-classification"


def local_time_is(hour: int, minute: int):
    """A Huey periodic-task test that fires at hour:minute in settings.TIME_ZONE.

    Huey's crontab compares against its own clock, which is UTC (Huey's default), so a
    plain crontab(hour=2) would run at 10:00 in Shanghai."""

    def validate(moment: dt.datetime) -> bool:
        if moment.tzinfo is None:
            utc = getattr(HUEY, "utc", True)
            moment = moment.replace(tzinfo=dt.UTC) if utc else moment.astimezone()
        local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
        return local.hour == hour and local.minute == minute

    return validate


def _run(keys, trigger, user_id=None):
    from django.contrib.auth import get_user_model

    from .models import ClassificationDefinition
    from .runs import run_definitions

    definitions = ClassificationDefinition.objects.filter(active=True)
    if keys is not None:
        definitions = definitions.filter(key__in=keys)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with HUEY.lock_task(LOCK):
        runs = run_definitions(list(definitions), trigger=trigger, user=user)
    return [run.pk for run in runs]


@db_periodic_task(local_time_is(2, 0))
def nightly_classification():
    """Every active definition scheduled nightly."""
    from .models import ClassificationDefinition

    keys = list(
        ClassificationDefinition.objects.filter(
            active=True, schedule__in=[Schedule.NIGHTLY, Schedule.NIGHTLY_AND_IMPORT]
        ).values_list("key", flat=True)
    )
    return _run(keys, Trigger.NIGHTLY)


@db_task(retries=6, retry_delay=300)
def classify_task(keys=None, trigger=Trigger.MANUAL, user_id=None):
    """Run definitions in the background (keys None: every active one). If another batch
    holds the lock, the task is retried later rather than overlapping it."""
    try:
        return _run(keys, trigger, user_id)
    except TaskLockedException:
        log.info("classification is already running; retrying later")
        raise


def schedule_after_import():
    """Queue a run of the definitions scheduled after imports (call it when an import of
    customers or orders has committed). Returns the queued task's result handle."""
    from .models import ClassificationDefinition

    keys = list(
        ClassificationDefinition.objects.filter(
            active=True, schedule=Schedule.NIGHTLY_AND_IMPORT
        ).values_list("key", flat=True)
    )
    if not keys:
        return None
    return classify_task(keys, Trigger.IMPORT)


def start_by_hand(definitions=None, user=None):
    """Queue a run started by a user from a page or the API (None: every active one)."""
    keys = None if definitions is None else [d.key for d in definitions]
    return classify_task(keys, Trigger.MANUAL, user.pk if user is not None else None)
