"""`clientele classify`: run the classification definitions.

clientele classify                       every active definition, on the database
clientele classify --definition rfm      only these (repeatable; by key)
clientele classify --orders FILE --out DIR [--until DATE] [--period week] [--horizon 52]
                                         the default definitions on a bare order file;
                                         no database is used or needed
"""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the grading and classification definitions (or classify a bare order file)."
    # The order-file mode must work without a migrated database: no checks that query it.
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--definition", action="append", default=[],
                            help="key of a definition to run (repeatable); default: all active")  # fmt: skip
        parser.add_argument("--as-of", help="last day of the observation period (YYYY-MM-DD)")
        parser.add_argument("--defaults", action="store_true",
                            help="create the default definitions that are missing, then run")  # fmt: skip
        parser.add_argument("--orders", help="an order file (CSV or XLSX): customer_id, "
                            "ordered_at, amount (客户编号, 下单时间, 金额)")  # fmt: skip
        parser.add_argument("--out", help="folder for customers.csv, models.json, report.html")
        parser.add_argument("--until", help="end of the observation period for --orders "
                            "(default: the last order date that is not in the future)")  # fmt: skip
        parser.add_argument("--period", choices=["day", "week", "month"], default="week",
                            help="time unit of the lifetime-value model (default week)")  # fmt: skip
        parser.add_argument("--horizon", type=int, default=52,
                            help="lifetime-value horizon in periods (default 52)")  # fmt: skip
        parser.add_argument("--timezone", default=None,
                            help="time zone of times without an offset (default TIME_ZONE)")  # fmt: skip

    def handle(self, *args, **options):
        if options["orders"]:
            return self._order_file(options)
        if options["out"] or options["until"]:
            raise CommandError("--out and --until go with --orders FILE.")
        return self._database(options)

    def _date(self, text, name):
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"{name} must be a date like 2026-06-30, not {text!r}.") from None

    def _order_file(self, options):
        from clientele.segmentation.expressions import EngineError
        from clientele.segmentation.orderfile import OrderFileError, classify_order_file

        if not options["out"]:
            raise CommandError("--orders needs --out DIR for the results.")
        if options["horizon"] < 1:
            raise CommandError("--horizon must be at least 1 period.")
        try:
            result = classify_order_file(
                options["orders"],
                options["out"],
                until=self._date(options["until"], "--until"),
                period=options["period"],
                horizon=options["horizon"],
                zone=options["timezone"] or settings.TIME_ZONE,
            )
        except FileNotFoundError:
            raise CommandError(f"No such file: {options['orders']}") from None
        except (OrderFileError, EngineError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{result.customers:,} customers, {result.orders - result.future_orders:,} orders"
            f" up to {result.until}"
            f" ({result.rows_read:,} rows read)."
        )
        if result.future_orders:
            self.stdout.write(f"Ignored {result.future_orders:,} orders after {result.until}.")
        if result.rejected:
            self.stdout.write(
                f"Skipped {result.rejected:,} rows that could not be read: see rejected_rows.csv."
            )
        for key, counts in result.counts.items():
            text = ", ".join(f"{code} {n:,}" for code, n in counts.items())
            self.stdout.write(f"  {key}: {text}")
        self.stdout.write(f"Done in {result.timings['total']:.1f} s; wrote:")
        for path in result.files:
            self.stdout.write(f"  {path}")

    def _database(self, options):
        from clientele.segmentation.constants import RunStatus, Trigger
        from clientele.segmentation.models import ClassificationDefinition
        from clientele.segmentation.services import ensure_default_definitions, run_definitions

        if options["defaults"]:
            for created in ensure_default_definitions():
                self.stdout.write(f"Created the definition {created.key}.")
        if options["definition"]:
            found = {d.key: d for d in ClassificationDefinition.objects.filter(
                key__in=options["definition"])}  # fmt: skip
            missing = [k for k in options["definition"] if k not in found]
            if missing:
                raise CommandError(f"No definition with the key: {', '.join(missing)}.")
            definitions = [found[k] for k in options["definition"]]
        else:
            definitions = list(ClassificationDefinition.objects.filter(active=True))
            if not definitions:
                raise CommandError(
                    "There is no active definition; `clientele classify --defaults` creates "
                    "the default ones."
                )
        runs = run_definitions(
            definitions, trigger=Trigger.COMMAND, as_of=self._date(options["as_of"], "--as-of")
        )
        failed = 0
        for run in runs:
            if run.status == RunStatus.SUCCEEDED:
                counts = ", ".join(f"{code} {n:,}" for code, n in run.counts.items())
                self.stdout.write(
                    f"{run.definition.key}: {run.customers:,} customers in {run.duration:.1f} s,"
                    f" {run.transitions:,} changes of class ({counts})"
                )
            else:
                failed += 1
                self.stderr.write(f"{run.definition.key}: failed: {run.error}")
        if failed:
            raise CommandError(f"{failed} definition(s) failed.")
