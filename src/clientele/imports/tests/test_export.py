"""`clientele export`: every kind is written with the columns of its import schema, so an
exported file imports again without a mapping and without changing anything."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from clientele.customers.models import Customer
from clientele.imports import exporters
from clientele.sales.models import Order, OrderLine

from .test_import_kinds import MODELS, files

pytestmark = pytest.mark.django_db


def export(kind, tmp_path, fmt, headers="en"):
    path = tmp_path / f"{kind}.{fmt}"
    out = io.StringIO()
    call_command(
        "export_data", kind, "--format", fmt, "--out", str(path), "--headers", headers, stdout=out
    )
    assert "Exported" in out.getvalue()
    return path


@pytest.mark.parametrize("fmt, headers", [("csv", "en"), ("csv", "zh"), ("xlsx", "en")])
@pytest.mark.parametrize("kind", list(MODELS))
def test_an_export_imports_again_unchanged(
    run_import, customers, products, tmp_path, kind, fmt, headers
):
    rows, _check = files()[kind]
    assert run_import(kind, rows).status == "succeeded"
    model, _before = MODELS[kind]
    count = model.objects.count()
    path = export(kind, tmp_path, fmt, headers)
    job = run_import(kind, path.read_bytes(), name=path.name)
    assert (job.status, job.errors) == ("succeeded", [])
    assert (job.created_rows, job.updated_rows) == (0, 0)
    assert job.unchanged_rows == count
    assert model.objects.count() == count


def test_orders_export_one_row_per_line_with_exact_times(run_import, customers, products, tmp_path):
    when = timezone.now().replace(microsecond=123456) - timezone.timedelta(days=1)
    order = Order.objects.create(customer=customers[0], number="W1", source="web", ordered_at=when)
    for product, quantity in ((products[0], "1.5"), (products[1], "2")):
        OrderLine.objects.create(
            order=order, product=product, quantity=Decimal(quantity), unit_price=Decimal("9.99")
        )
    path = export("orders", tmp_path, "csv")
    text = path.read_text(encoding="utf-8-sig").splitlines()
    assert text[0].startswith("Order number,Source,Customer code,Ordered at")
    assert len(text) == 3 and all(",web,C001," in line for line in text[1:])
    job = run_import("orders", path.read_bytes())
    assert (job.status, job.unchanged_rows, job.created_rows) == ("succeeded", 1, 0)


def test_formulas_are_neutralised_and_phones_kept(tmp_path):
    Customer.objects.create(code="F1", name='=HYPERLINK("x")', phone="+8613800138000")
    text = export("customers", tmp_path, "csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and ",+8613800138000," in text


def test_xlsx_keeps_numbers_and_dates_typed(run_import, customers, products, tmp_path):
    rows, _check = files()["orders"]
    run_import("orders", rows)
    sheet = openpyxl.load_workbook(export("orders", tmp_path, "xlsx")).active
    header, first = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    line = dict(zip(header, first, strict=True))
    assert line["Quantity"] == 2 and line["Unit price"] == 1234.5
    assert line["Ordered at"].year >= 2024


def test_rows_follow_the_schema_columns(customers):
    header = exporters.header_row("customers", "zh")
    assert header[:2] == ["客户编号", "姓名"]
    first = next(exporters.rows("customers"))
    assert first[0] == "C001" and len(first) == len(header)
