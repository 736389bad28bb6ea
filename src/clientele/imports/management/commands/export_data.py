"""`clientele export KIND --format csv|xlsx --out FILE`: export every record of a kind with
the columns of its import schema, so the file imports again as it is.

    clientele export customers --format xlsx --out customers.xlsx
    clientele export orders --format csv --out orders.csv --headers zh
"""

from django.core.management.base import BaseCommand, CommandError

from clientele.imports import exporters
from clientele.imports.models import ImportKind


class Command(BaseCommand):
    help = (
        "Export customers, contacts, products, orders (one row per line), interactions or feedback."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("--format", choices=exporters.FORMATS, default=None)
        parser.add_argument("--out", required=True, help="file to write ('-' for stdout, CSV)")
        parser.add_argument("--headers", choices=["en", "zh"], default="en", help="header language")

    def handle(self, *args, **options):
        kind, out = options["kind"], options["out"]
        fmt = options["format"] or ("xlsx" if out.lower().endswith(".xlsx") else "csv")
        if fmt == "xlsx" and out == "-":
            raise CommandError("An .xlsx workbook cannot be written to stdout; give --out FILE.")
        if fmt == "xlsx":
            count = exporters.write_xlsx(kind, out, options["headers"])
        elif out == "-":
            self.stdout.ending = ""  # csv.writer ends its own lines
            count = exporters.write_csv(kind, self.stdout, options["headers"])
        else:
            with open(out, "w", encoding="utf-8", newline="") as handle:
                count = exporters.write_csv(kind, handle, options["headers"])
        if out != "-":
            self.stdout.write(f"Exported {count:,} rows to {out}")
