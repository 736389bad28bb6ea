"""Import jobs from upload to result, callable from the pages, the API, the CLI and the
background worker alike.

`start_import` stores the file, reads its header row and matches the columns; a job
whose columns all match is queued at once, otherwise it waits for `apply_mapping`.
`run_import` does the work in two passes (see import_engine): check every row, then, if
the whole file is good or the user asked for the valid rows, write inside one
transaction, so nothing is ever half written.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from clientele.core.models import Role

from . import import_engine as engine
from .import_columns import (  # noqa: F401 (the column helpers are part of this API)
    check_mapping,
    column_problems,
    file_error,
    full_mapping,
    match_columns,
)
from .import_run import ImportRun, open_job_file
from .models import ImportJob, ImportKind, ImportMode, ImportStatus
from .readers import TableError, open_table

logger = logging.getLogger(__name__)

# The permission that lets a user import each kind (the role matrix's "i").
IMPORT_PERMISSIONS = {
    ImportKind.CUSTOMERS: "customers.import_customer",
    ImportKind.CONTACTS: "customers.import_contact",
    ImportKind.PRODUCTS: "catalog.import_product",
    ImportKind.ORDERS: "sales.import_order",
    ImportKind.INTERACTIONS: "customers.import_interaction",
    ImportKind.FEEDBACK: "customers.import_feedback",
}


def can_import(user, kind: str) -> bool:
    return user.has_perm(IMPORT_PERMISSIONS[kind])


def importable_kinds(user) -> list[tuple[str, str]]:
    """The (value, label) kinds this user may import."""
    return [(value, label) for value, label in ImportKind.choices if can_import(user, value)]


def sees_all_jobs(user) -> bool:
    return user.is_superuser or user.role in (Role.ADMINISTRATOR, Role.MARKETING_MANAGER)


def visible_jobs(user, queryset=None):
    """Users see their own import jobs; administrators and marketing managers see all."""
    queryset = ImportJob.objects.all() if queryset is None else queryset
    return queryset if sees_all_jobs(user) else queryset.filter(created_by=user)


def start_import(user, kind, upload, *, mode=ImportMode.ALL_OR_NOTHING, source="", mapping=None):
    """Store an uploaded file as a job and read its header row. Queues the job when every
    column is matched; otherwise leaves it waiting for the mapping step. Raises TableError
    (nothing is kept) when the file cannot be read at all."""
    check_mapping(kind, mapping)
    name = os.path.basename(getattr(upload, "name", "") or "import.csv")
    job = ImportJob(
        kind=kind,
        mode=mode,
        source=(source or "").strip() or "import",
        original_name=name[:255],
        created_by=user if getattr(user, "pk", None) else None,
        status=ImportStatus.MAPPING,
    )
    job.file.save(name, upload, save=False)
    try:
        with open_job_file(job) as handle, open_table(handle, name) as table:
            headers = table.headers
    except TableError:
        job.file.delete(save=False)
        raise
    job.headers = headers
    match = match_columns(kind, headers, mapping)
    job.mapping = full_mapping(headers, match)
    job.save()
    if not column_problems(kind, match):
        queue(job)
    return job


def apply_mapping(job: ImportJob, mapping: dict[str, str | None]) -> list[str]:
    """Store the user's column mapping; queue the job if it leaves no problem. Returns
    the problems (empty when queued)."""
    match = match_columns(job.kind, job.headers, mapping)
    problems = column_problems(job.kind, match)
    job.mapping = full_mapping(job.headers, match)
    job.save(update_fields=["mapping"])
    if not problems:
        queue(job)
    return problems


def queue(job: ImportJob) -> None:
    """Hand the job to the background worker (run at once when HUEY is immediate)."""
    from .tasks import import_job_task

    job.status = ImportStatus.QUEUED
    job.save(update_fields=["status"])
    import_job_task(job.pk)


def _language(job: ImportJob) -> str:
    user = job.created_by
    return (
        (getattr(user, "language", "") or settings.LANGUAGE_CODE)
        if user
        else settings.LANGUAGE_CODE
    )


def run_import(job: ImportJob, progress=None) -> ImportJob:
    """Run an import job to the end and return it with its status, counts, errors and
    rejected-rows file. `progress(job)` is called as the counters move (at most twice a
    second). Never raises for bad input; an unexpected failure marks the job failed."""
    job.status = ImportStatus.RUNNING
    job.started_at, job.finished_at = timezone.now(), None
    for name in ("total_rows", "processed_rows", "written_rows", "created_rows", "updated_rows"):
        setattr(job, name, 0)
    job.unchanged_rows = job.rejected_rows = job.error_count = 0
    job.errors, job.message = [], ""
    job.save()
    reporter = engine.Progress(job, progress)
    try:
        with translation.override(_language(job)):
            ImportRun(job, reporter).run()
    except Exception as exc:  # any failure: nothing was written (the transaction rolled back)
        logger.exception("import job %s failed", job.pk)
        job.status = ImportStatus.FAILED
        job.message = gettext("The import failed and nothing was imported: %(error)s") % {
            "error": exc
        }
    finally:
        reporter.close()
    job.finished_at = timezone.now()
    job.save()
    if progress is not None:
        progress(job)
    _classify_after(job)
    _close_campaign_tasks_after(job)
    return job


def _close_campaign_tasks_after(job: ImportJob) -> None:
    """Imported orders and visits end campaign tasks as orders and visits entered by hand
    do (the importer writes in bulk, without save signals): once the import commits,
    the customers with an imported order or visit dated after they became a target of an
    active campaign have their tasks closed everywhere."""
    if job.kind not in (ImportKind.ORDERS, ImportKind.INTERACTIONS):
        return
    if not (job.created_rows + job.updated_rows):
        return
    if job.status not in (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL):
        return
    started_at = job.started_at

    def close():
        from clientele.campaigns.services import close_imported

        close_imported(job.kind, since=started_at)

    transaction.on_commit(close)


# Imports that change what classes are computed from: customers (demand, status),
# orders (every value model) and feedback (the expectation axis of the quadrants).
RECLASSIFYING_KINDS = {ImportKind.CUSTOMERS, ImportKind.ORDERS, ImportKind.FEEDBACK}


def _classify_after(job: ImportJob) -> None:
    """Queue the definitions scheduled "after each import" once the imported rows are
    committed, so a new order upgrades its customer's tier the same day."""
    written = job.created_rows + job.updated_rows
    if job.kind not in RECLASSIFYING_KINDS or not written:
        return
    if job.status not in (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL):
        return
    if not settings.CLIENTELE_CLASSIFY_AFTER_IMPORT:
        return
    from clientele.segmentation.tasks import schedule_after_import

    transaction.on_commit(schedule_after_import)
