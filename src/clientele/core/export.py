"""CSV and XLSX export of any filtered list, streamed so a large list never sits in memory."""

import csv
import io

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def table_rows(table):
    """Header and value rows of a django-tables2 table over its whole (unpaginated) data.
    Uses the table's export values: plain text, never HTML."""
    columns = [c for c in table.columns if c.name not in table.exclude_from_export]
    yield [str(c.header) for c in columns]
    for row in table.rows:
        yield [_cell(row.get_cell_value(c.name)) for c in columns]


def _cell(value):
    if value is None or value == "—":
        return ""
    return value if isinstance(value, int | float) else str(value)


def _filename(base: str, ext: str) -> str:
    return f"{base}-{timezone.localtime():%Y%m%d-%H%M}.{ext}"


def export_response(table, fmt: str, base_name: str):
    """An HTTP response with the table as CSV (UTF-8 with BOM, so Excel reads Chinese) or
    XLSX. Formulas are neutralised: a cell starting with = + - @ gets a leading quote."""
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(base_name[:31])
        for row in table_rows(table):
            sheet.append([_safe(v) for v in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{_filename(base_name, "xlsx")}"'
        return response

    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        for row in table_rows(table):
            yield writer.writerow([_safe(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(base_name, "csv")}"'
    return response


def csv_response(header, rows, base_name: str) -> HttpResponse:
    """A small computed table (a chart's data, a campaign's results) as a CSV download,
    written like the list exports: UTF-8 with BOM, formulas neutralised, None empty."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(base_name, "csv")}"'
    return response


def _safe(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
