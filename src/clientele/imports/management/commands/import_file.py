"""`clientele import KIND FILE`: import a CSV or XLSX file in the foreground.

    clientele import orders sales-2026.csv --source shop --mode valid --rejects bad.csv
    clientele import customers members.xlsx --map '会员等级=ignore' --map 'VIP号=card_number'

Shows a progress bar on stderr, prints the summary and the first 50 errors (row, column,
reason), writes the rejected rows to --rejects, and exits with status 1 when rows were
rejected (nothing is imported in the default mode) and 2 when the file cannot be used.
"""

import os
import shutil
import time

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from clientele.imports import services
from clientele.imports.models import ImportJob, ImportKind, ImportMode, ImportStatus
from clientele.imports.readers import TableError, open_table

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = "Import customers, contacts, products, orders, interactions or feedback from a file."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", help="a .csv (UTF-8 or GBK) or .xlsx file")
        parser.add_argument(
            "--mode",
            choices=["all", "valid"],
            default="all",
            help="all: the whole file or nothing (default); valid: import the valid rows",
        )
        parser.add_argument("--source", default="", help="source system of order numbers")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="map a column to a field; HEADER= or HEADER=ignore skips it (repeatable)",
        )
        parser.add_argument("--rejects", metavar="PATH", help="write the rejected rows here")
        parser.add_argument("--user", help="user name recorded as the importer in the audit")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        kind, path = options["kind"], options["file"]
        mapping = self._mapping(options["map"])
        try:
            services.check_mapping(kind, mapping)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if not os.path.isfile(path):
            raise CommandError(f"No such file: {path}", returncode=2)
        headers = self._headers(path)
        match = services.match_columns(kind, headers, mapping)
        problems = services.column_problems(kind, match)
        if problems:
            hint = "Map columns with --map 'Header=field' (or --map 'Header=' to ignore one)."
            raise CommandError("\n".join([*problems, hint]), returncode=2)
        job = self._job(options, headers, services.full_mapping(headers, match))
        started = time.monotonic()
        bar = None if options["quiet"] else self._bar
        services.run_import(job, progress=bar)
        if bar:
            self.stderr.write("")
        self._report(job, time.monotonic() - started, options["rejects"])

    @staticmethod
    def _mapping(items: list[str]) -> dict[str, str | None]:
        mapping = {}
        for item in items:
            if "=" not in item:
                raise CommandError(f"--map needs HEADER=FIELD, not {item!r}", returncode=2)
            header, field = item.rsplit("=", 1)
            field = field.strip()
            mapping[header.strip()] = None if field in ("", "ignore") else field
        return mapping

    @staticmethod
    def _headers(path: str) -> list[str]:
        try:
            with open_table(path) as table:
                return table.headers
        except TableError as exc:
            raise CommandError(services.file_error(exc), returncode=2) from None

    def _job(self, options, headers, mapping) -> ImportJob:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.", returncode=2)
        name = os.path.basename(options["file"])
        job = ImportJob(
            kind=options["kind"],
            mode=ImportMode.VALID_ROWS if options["mode"] == "valid" else ImportMode.ALL_OR_NOTHING,
            source=options["source"].strip() or "import",
            original_name=name[:255],
            headers=headers,
            mapping=mapping,
            created_by=user,
            status=ImportStatus.QUEUED,
        )
        with open(options["file"], "rb") as handle:
            job.file.save(name, File(handle), save=False)
        job.save()
        return job

    def _bar(self, job: ImportJob) -> None:
        width = 30
        done = width * job.percent // 100
        if job.written_rows:
            state = f"writing {job.written_rows:,}"
        else:
            state = f"checking {job.processed_rows:,} of ~{job.total_rows:,}"
        line = f"\r[{'#' * done}{'.' * (width - done)}] {job.percent:3d}%  {state}   "
        self.stderr.write(line, ending="")
        self.stderr.flush()

    def _report(self, job: ImportJob, seconds: float, rejects: str | None) -> None:
        self.stdout.write(
            f"{job.message}\n"
            f"{job.status}: rows {job.total_rows:,}  created {job.created_rows:,}"
            f"  updated {job.updated_rows:,}"
            f"  unchanged {job.unchanged_rows:,}  rejected {job.rejected_rows:,}"
            f"  ({seconds:.1f} s)"
        )
        for error in job.errors[:SHOWN_ERRORS]:
            row = error["row"] if error["row"] is not None else "-"
            column = f"{error['column']}: " if error["column"] else ""
            self.stdout.write(f"  row {row}: {column}{error['reason']}")
        if job.error_count > SHOWN_ERRORS:
            self.stdout.write(f"  ... {job.error_count - SHOWN_ERRORS:,} more errors")
        if job.reject_file:
            if rejects:
                with job.reject_file.storage.open(job.reject_file.name, "rb") as source:
                    with open(rejects, "wb") as target:
                        shutil.copyfileobj(source, target)
                self.stdout.write(f"Rejected rows written to {rejects}")
            else:
                self.stdout.write(f"Rejected rows: {job.reject_file.path}")
        if job.status == ImportStatus.FAILED:
            raise CommandError(job.message, returncode=2)
        if job.rejected_rows or job.status != ImportStatus.SUCCEEDED:
            raise CommandError(f"{job.rejected_rows:,} rows were rejected.", returncode=1)
