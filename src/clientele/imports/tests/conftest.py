"""Fixtures for import and export tests: users per role, a small customer base and
catalog, and builders for files in every format the importer reads."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clientele.catalog.models import Product, ProductCategory
from clientele.core.models import Role, Team, User
from clientele.customers.models import Customer
from clientele.imports import services


@pytest.fixture
def make_user(db):
    def make(role, username=None, **extra):
        return User.objects.create_user(
            username=username or role, password="x-Pass-9431", role=role, **extra
        )

    return make


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMINISTRATOR, "admin")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MARKETING_MANAGER, "manager")


@pytest.fixture
def team(db):
    return Team.objects.create(name="North")


@pytest.fixture
def customers(db):
    return [
        Customer.objects.create(code=f"C00{i}", name=f"Customer {i}", status="active")
        for i in (1, 2, 3)
    ]


@pytest.fixture
def products(db):
    category = ProductCategory.objects.create(code="TEA", name="Tea")
    return [
        Product.objects.create(
            sku=f"SKU{i}", name=f"Product {i}", list_price=Decimal("10.00"), category=category
        )
        for i in (1, 2, 3)
    ]


def csv_bytes(rows, encoding="utf-8", bom=False, delimiter=","):
    """Rows as CSV in `encoding`; `bom` puts a UTF-8 byte order mark in front."""
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = text.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# The four encodings a user may send: name -> (file name, builder).
FORMATS = {
    "utf8": ("data.csv", lambda rows: csv_bytes(rows)),
    "utf8-bom": ("data.csv", lambda rows: csv_bytes(rows, bom=True)),
    "gbk": ("data.csv", lambda rows: csv_bytes(rows, encoding="gbk")),
    "xlsx": ("data.xlsx", xlsx_bytes),
}


@pytest.fixture
def run_import(admin):
    """Upload rows (or bytes) as a file and run the import the way the pages do; returns
    the job as stored."""

    def run(kind, rows, *, name="data.csv", user=None, mode="all", source="", mapping=None):
        data = rows if isinstance(rows, bytes) else csv_bytes(rows)
        upload = SimpleUploadedFile(name, data)
        job = services.start_import(
            user or admin, kind, upload, mode=mode, source=source, mapping=mapping
        )
        job.refresh_from_db()
        return job

    return run


def rejected_rows(job):
    """The rejected-rows file of a job as a list of dicts (the header row is the keys)."""
    with job.reject_file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def yesterday(hour=10):
    day = datetime.date.today() - datetime.timedelta(days=1)
    return f"{day:%Y-%m-%d} {hour:02d}:30"
