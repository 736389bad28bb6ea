"""One run of an import job: pass 1 checks every row of the streamed file, pass 2 writes
the accepted records inside one transaction; then the job gets its status, counts,
errors and rejected-rows file. See import_engine for the machinery."""

from __future__ import annotations

import os
import tempfile
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext

from . import import_engine as engine
from .import_catalog import ProductImporter
from .import_columns import column_problems, file_error, match_columns
from .import_customers import ContactImporter, CustomerImporter
from .import_orders import OrderImporter
from .import_records import large_page_cache
from .import_timeline import FeedbackImporter, InteractionImporter
from .models import ImportJob, ImportKind, ImportMode, ImportStatus
from .readers import TableError, open_table, write_rejects
from .schemas import schema_for

IMPORTERS = {
    ImportKind.CUSTOMERS: CustomerImporter,
    ImportKind.CONTACTS: ContactImporter,
    ImportKind.PRODUCTS: ProductImporter,
    ImportKind.ORDERS: OrderImporter,
    ImportKind.INTERACTIONS: InteractionImporter,
    ImportKind.FEEDBACK: FeedbackImporter,
}


def open_job_file(job: ImportJob):
    """A handle of its own on the job's file (a FieldFile shares one handle)."""
    return job.file.storage.open(job.file.name, "rb")


class ImportRun:
    """One run of a job: the two passes and the bookkeeping around them."""

    def __init__(self, job: ImportJob, progress: engine.Progress):
        self.job = job
        self.progress = progress
        self.log = engine.ErrorLog()
        self.rejects = engine.Spool()
        self.records = engine.Spool()
        self.late: list = []
        self.counts: engine.Counts | None = None  # set when pass 1 also wrote

    def run(self) -> None:
        job = self.job
        try:
            try:
                with open_job_file(job) as handle, open_table(handle, job.original_name) as table:
                    importer = self._check(table)
            except TableError as exc:
                self.log.add_file_error(file_error(exc), exc.params.get("row"))
                self._finish(ImportStatus.REJECTED, gettext("Nothing was imported: %(reason)s"))
                return
            if importer is not None:
                self._conclude(importer)
        finally:
            self.rejects.close()
            self.records.close()

    def _check(self, table) -> engine.Importer | None:
        """Pass 1: parse and check every row; spool accepted records and rejected rows."""
        job = self.job
        match = match_columns(job.kind, table.headers, job.mapping)
        problems = column_problems(job.kind, match)
        if problems:
            for problem in problems:
                self.log.add_file_error(problem, table.header_row)
            self._finish(ImportStatus.REJECTED, gettext("Nothing was imported: %(reason)s"))
            return None
        zone = ZoneInfo(settings.TIME_ZONE)
        importer = IMPORTERS[job.kind](
            job, match.mapping, table.headers, now=timezone.now(), tz=zone
        )
        plan = engine.parsing_plan(schema_for(job.kind), match.mapping, table.headers, zone)
        rows = engine.parse_rows(table, plan, len(table.headers))
        if job.mode == ImportMode.ALL_OR_NOTHING and importer.streams_writes():
            try:
                self._check_and_write(importer, rows)
                return importer
            except engine.StreamingRefused:
                # The source has stored orders (perhaps of an import that committed
                # while this one waited for it): two passes.
                self.counts = None
        self._scan(importer, rows, write=False)
        return importer

    def _scan(self, importer: engine.Importer, rows, *, write: bool) -> None:
        """Check the rows chunk by chunk; spool the accepted records, or with `write`
        hand them to the importer as long as no row has failed."""
        estimate = estimate_rows(self.job)
        checked = written = 0
        for chunk in engine.chunked(rows):
            importer.check(chunk)
            written += self._accept(importer, self._route(chunk, late=False), write)
            checked += len(chunk)
            self.progress.update(
                processed_rows=checked, total_rows=max(estimate, checked), written_rows=written
            )
        self._accept(importer, self._route(importer.finish_check(), late=True), write)
        self.progress.update(force=True, processed_rows=checked, total_rows=checked)

    def _accept(self, importer: engine.Importer, records: list, write: bool) -> int:
        """Spool accepted records for pass 2, or with `write` hand them to the importer
        (as long as no row has failed: after a bad row nothing more is written); returns
        how many were handed over."""
        if not write:
            self.records.add(records)
            return 0
        if self.log.rows:
            return 0
        self.counts += importer.stream(records)
        return len(records)

    def _check_and_write(self, importer: engine.Importer, rows) -> None:
        """Pass 1 and the writes at once, in one transaction that is kept only if every
        row was good: a clean file is stored while it is read (on PostgreSQL the
        server's share then overlaps the parsing, see OrderImporter.streams_writes)."""
        self.counts = engine.Counts()
        with transaction.atomic():
            importer.begin_streaming()
            with importer.writing():
                self._scan(importer, rows, write=True)
                if not self.log.rows:
                    self.counts += importer.finish_write()
            if self.log.rows or not self.job.total_rows:
                transaction.set_rollback(True)
                self.counts = None
            else:
                self.progress.update(force=True, written_rows=self.job.total_rows)

    def _route(self, rows: list[engine.Row], late: bool) -> list:
        """Log and set aside the rejected rows; returns the accepted records."""
        accepted, rejected = [], []
        for row in rows:
            if row.record is engine.PENDING:
                continue
            if row.errors:
                self.log.add_row(row)
                rejected.append((row.number, engine.joined(row.errors), row.cells))
            elif row.record is not None:
                accepted.append(row.record)
        if late:
            self.late.extend(rejected)
        else:
            self.rejects.add(rejected)
        return accepted

    def _conclude(self, importer: engine.Importer) -> None:
        job = self.job
        if not job.total_rows:
            self._finish(
                ImportStatus.REJECTED,
                gettext("Nothing was imported: %(reason)s"),
                gettext("The file has no data rows."),
            )
            return
        if self.log.rows and job.mode == ImportMode.ALL_OR_NOTHING:
            self._save_rejects(engine.merged_rejects(self.rejects, self.late))
            text = ngettext(
                "Nothing was imported: %(rows)s row has errors. Correct it in the file and"
                " import the whole file again.",
                "Nothing was imported: %(rows)s rows have errors. Correct them in the file and"
                " import the whole file again.",
                self.log.rows,
            )
            self._finish(ImportStatus.REJECTED, text)
            return
        if self.log.rows:
            rejects = engine.merged_rejects(self.rejects, self.late)
            if importer.needs_rescan:
                with open_job_file(job) as handle, open_table(handle, job.original_name) as table:
                    self._save_rejects(
                        engine.rescanned_rejects(table, iter(rejects), importer.collateral)
                    )
            else:
                self._save_rejects(rejects)
        counts = self.counts if self.counts is not None else self._write(importer)
        job.created_rows, job.updated_rows = counts.created, counts.updated
        job.unchanged_rows = counts.unchanged
        done = gettext("%(created)s records created, %(updated)s updated, %(unchanged)s unchanged.")
        if not self.log.rows:
            status = ImportStatus.SUCCEEDED
            text = ngettext("Imported %(total)s row: ", "Imported %(total)s rows: ", job.total_rows)
            text += done
        elif counts.created + counts.updated + counts.unchanged:
            status = ImportStatus.PARTIAL
            text = gettext("Imported the valid rows: ") + done + " "
            text += ngettext(
                "%(rejected)s row was not imported: download it, correct it and import that file.",
                "%(rejected)s rows were not imported: download them, correct them and import"
                " that file.",
                job.rejected_rows,
            )
        else:
            status, text = ImportStatus.REJECTED, gettext("Nothing was imported: no row is valid.")
        self._finish(status, text)

    def _write(self, importer: engine.Importer) -> engine.Counts:
        """Pass 2: write the accepted records in batches inside one transaction."""
        counts = engine.Counts()
        written = 0
        with large_page_cache(), transaction.atomic(), importer.writing():
            for batch in importer.batches(self.records):
                counts += importer.write(batch)
                written += len(batch)
                self.progress.update(written_rows=written)
            counts += importer.finish_write()
        self.progress.update(force=True, written_rows=written)
        return counts

    def _save_rejects(self, rows) -> None:
        """Write the rejected rows (with their row numbers and reasons) as the job's file."""
        job = self.job
        stem = os.path.splitext(job.original_name)[0] or "import"
        descriptor, path = tempfile.mkstemp(suffix=".csv")
        os.close(descriptor)
        try:
            job.rejected_rows = write_rejects(
                path,
                job.headers,
                rows,
                row_label=pgettext("rejected rows file", "row"),
                errors_label=pgettext("rejected rows file", "errors"),
            )
            with open(path, "rb") as handle:
                job.reject_file.save(f"{stem}-rejected.csv", File(handle), save=False)
        finally:
            os.remove(path)

    def _finish(self, status: str, text: str, reason: str = "") -> None:
        job = self.job
        job.status = status
        job.errors, job.error_count = self.log.kept, self.log.count
        if not job.rejected_rows:
            job.rejected_rows = self.log.rows
        if not reason and self.log.kept and not self.log.rows:
            reason = self.log.kept[0]["reason"]
        job.message = text % {
            "reason": reason,
            "rows": self.log.rows,
            "total": job.total_rows,
            "created": job.created_rows,
            "updated": job.updated_rows,
            "unchanged": job.unchanged_rows,
            "rejected": job.rejected_rows,
        }


def estimate_rows(job: ImportJob) -> int:
    """The number of data rows, estimated cheaply for the progress bar: line breaks in a
    CSV (cells with line breaks make it high), the stored dimension of a worksheet."""
    with open_job_file(job) as handle:
        head = handle.read(4)
        handle.seek(0)
        if head.startswith(b"PK"):
            try:
                import openpyxl

                workbook = openpyxl.load_workbook(handle, read_only=True)
                rows = workbook.worksheets[0].max_row or 0
                workbook.close()
                return max(0, rows - 1)
            except Exception:  # a damaged workbook is reported by the reader, not here
                return 0
        lines = 0
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
        return max(0, lines - 1)
