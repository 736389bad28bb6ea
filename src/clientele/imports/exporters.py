"""Export of every importable kind with the columns of its import schema, so an exported
file imports again unchanged (a round trip). Rows are streamed from the database in
chunks of 2,000; neither the query result nor the file is ever held whole.

Values are written as the importer reads them: choices as their stored values, times in
the organization's time zone, decimals exactly, yes/no for flags. In CSV a text cell
that starts like a formula (= + - @) gets a leading quote so a spreadsheet does not run
it; numbers and phone numbers such as +86... are left as they are.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils import timezone

from clientele.catalog.models import Product
from clientele.customers.models import Contact, Customer, Feedback, Interaction
from clientele.sales.models import OrderLine

from .models import ImportKind
from .schemas import schema_for

CHUNK = 2000
FORMATS = ("csv", "xlsx")
_NUMBER = re.compile(r"[+-]?[\d\s().,]*\d[\d\s().,]*")

# kind -> (queryset, ordering, {schema field: ORM path}); fields not listed (tags) are
# filled per chunk.
_SOURCES = {
    ImportKind.CUSTOMERS: (
        Customer.objects.all(),
        ("id",),
        {
            "owner": "owner__username",
            "team": "team__name",
            "parent": "parent__code",
        },
    ),
    ImportKind.CONTACTS: (
        Contact.objects.all(),
        ("customer_id", "id"),
        {"customer": "customer__code"},
    ),
    ImportKind.PRODUCTS: (Product.objects.all(), ("sku",), {"category": "category__code"}),
    ImportKind.ORDERS: (
        OrderLine.objects.all(),
        ("order_id", "id"),
        {
            "number": "order__number",
            "source": "order__source",
            "customer": "order__customer__code",
            "ordered_at": "order__ordered_at",
            "status": "order__status",
            "channel": "order__channel",
            "currency": "order__currency",
            "sku": "product__sku",
        },
    ),
    ImportKind.INTERACTIONS: (
        Interaction.objects.all(),
        ("id",),
        {"customer": "customer__code", "contact": "contact__name", "user": "user__username"},
    ),
    ImportKind.FEEDBACK: (
        Feedback.objects.all(),
        ("id",),
        {"customer": "customer__code", "user": "user__username"},
    ),
}


def header_row(kind: str, language: str = "en") -> list[str]:
    """The export headers: English or Chinese, both of which the importer recognises."""
    fields = schema_for(kind).fields
    return [f.header_zh if language == "zh" else f.header for f in fields]


def rows(kind: str, queryset=None) -> Iterator[list[Any]]:
    """The records of `kind` (optionally a filtered queryset of its model) as lists of
    plain values in the schema's column order."""
    base, ordering, paths = _SOURCES[kind]
    queryset = (base if queryset is None else queryset).order_by(*ordering)
    names = [f.name for f in schema_for(kind).fields]
    wanted = [n for n in names if n != "tags"]
    lookups = ["pk", *(paths.get(n, n) for n in wanted)]
    chunk: list[tuple] = []
    for values in queryset.values_list(*lookups).iterator(chunk_size=CHUNK):
        chunk.append(values)
        if len(chunk) >= CHUNK:
            yield from _chunk(names, wanted, chunk)
            chunk = []
    yield from _chunk(names, wanted, chunk)


def _chunk(names: list[str], wanted: list[str], chunk: list[tuple]) -> Iterator[list[Any]]:
    tags = _tags([values[0] for values in chunk]) if "tags" in names and chunk else {}
    for values in chunk:
        record = dict(zip(wanted, values[1:], strict=True))
        if "tags" in names:
            record["tags"] = ", ".join(tags.get(values[0], ()))
        yield [record[name] for name in names]


def _tags(customer_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    links = Customer.tags.through.objects.filter(customer_id__in=customer_ids)
    for customer_id, name in links.values_list("customer_id", "tag__name").order_by("tag__name"):
        found.setdefault(customer_id, []).append(name)
    return found


def text(value: Any) -> str:
    """A value as the importer reads it back from a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value).replace(tzinfo=None)
        return local.isoformat(sep=" ", timespec="microseconds" if local.microsecond else "seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return _formula_safe(str(value))


def _formula_safe(value: str) -> str:
    if value[:1] in ("=", "+", "-", "@") and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def cell(value: Any) -> Any:
    """A value for an XLSX cell: numbers and dates keep their type, times are local."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, bool) or value is None:
        return text(value)
    if isinstance(value, Decimal | int | datetime.date):
        return value
    return text(value)


def write_csv(kind: str, handle, language: str = "en", queryset=None) -> int:
    """Write CSV (UTF-8 with a byte order mark, so Excel shows Chinese) to a text handle
    opened with newline=""; returns the number of rows."""
    handle.write("\ufeff")
    writer = csv.writer(handle)
    writer.writerow(header_row(kind, language))
    count = 0
    for record in rows(kind, queryset):
        writer.writerow([text(v) for v in record])
        count += 1
    return count


def write_xlsx(kind: str, path, language: str = "en", queryset=None) -> int:
    """Write an .xlsx workbook in openpyxl's streaming (write-only) mode."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(kind))
    sheet.append(header_row(kind, language))
    count = 0
    for record in rows(kind, queryset):
        sheet.append([cell(v) for v in record])
        count += 1
    workbook.save(path)
    return count
