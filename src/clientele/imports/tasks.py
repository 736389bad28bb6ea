"""Background jobs of the import app."""

from huey.contrib.djhuey import db_task

from .models import ImportJob, ImportStatus


@db_task()
def import_job_task(job_id: int) -> str | None:
    """Run a queued import job. A job that is gone or no longer queued (run twice by a
    retried message) is left alone, so a job never runs twice."""
    from .services import run_import

    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    return run_import(job).status
