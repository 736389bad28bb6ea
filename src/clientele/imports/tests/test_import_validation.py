"""Bad input: every bad row is reported by row number, column and reason; nothing is
written unless the whole file is good (or the user asked for the valid rows); rejected
rows come back as a file that imports again once corrected.

Guards against: half-written imports, guessed amounts and dates, orders imported with
some of their lines missing, and errors that do not say where they are."""

import codecs
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from clientele.customers.models import Customer
from clientele.imports.models import ImportJob
from clientele.sales.models import Order, OrderLine

from .conftest import csv_bytes, rejected_rows, yesterday

pytestmark = pytest.mark.django_db

ORDER_HEADER = ["订单号", "客户编号", "下单时间", "商品编码", "数量", "单价", "折扣金额"]


def errors(job):
    return [(e["row"], e["column"], e["reason"]) for e in job.errors]


def only_error(job):
    assert len(job.errors) == 1, job.errors
    return errors(job)[0]


def order(number, customer="C001", when=None, sku="SKU1", qty="1", price="10", discount=""):
    return [number, customer, when or yesterday(), sku, qty, price, discount]


# --- whole files -------------------------------------------------------------------


def test_an_empty_file_is_rejected(run_import):
    from clientele.imports.readers import TableError

    with pytest.raises(TableError, match="empty"):
        run_import("customers", b"")
    assert not ImportJob.objects.exists()


def test_a_file_with_only_a_header_is_rejected(run_import, customers):
    job = run_import("customers", [["code", "name"]])
    assert job.status == "rejected"
    assert "no data rows" in job.message
    assert Customer.objects.count() == 3


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"code,name\r\nC1,\xff\xfe\xfd\r\n", "encoding"),
        ("code,name\r\nC1,张\r\n".encode("utf-16-le"), "neither a CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "xls"),
    ],
    ids=["not-utf8-nor-gbk", "utf16-without-bom", "legacy-xls"],
)
def test_unreadable_files_are_refused_with_a_reason(run_import, data, reason):
    from clientele.imports.readers import TableError

    with pytest.raises(TableError, match=reason):
        run_import("customers", data)


def test_a_row_in_another_encoding_names_its_row(run_import, customers):
    # More than the readers' 64 KB detection block of UTF-8, then one row saved as GBK.
    good = "code,name\r\n" + "".join(f"N{i},客户{i}\r\n" for i in range(5000))
    data = good.encode("utf-8") + "N9,张三\r\n".encode("gbk")
    job = run_import("customers", data)
    assert job.status == "rejected"
    row, column, reason = only_error(job)
    assert row == 5002 and "UTF-8" in reason.upper()
    assert not Customer.objects.filter(code__startswith="N").exists()


def test_unknown_and_missing_columns_wait_for_a_mapping(run_import, customers):
    job = run_import("customers", [["客户编号", "会员等级"], ["C009", "金卡"]])
    assert job.status == "mapping"
    from clientele.imports import services

    match = services.match_columns(job.kind, job.headers, job.mapping)
    problems = services.column_problems(job.kind, match)
    assert any("会员等级" in p for p in problems)
    assert any("name" in p and "姓名" in p for p in problems)


def test_a_job_whose_columns_do_not_fit_is_rejected_when_run(run_import, customers):
    from clientele.imports.services import run_import as run

    job = run_import("customers", [["客户编号", "会员等级"], ["C009", "金卡"]])
    run(job)
    assert job.status == "rejected"
    assert {e["row"] for e in job.errors} == {1}
    assert any("会员等级" in e["reason"] for e in job.errors)


def test_duplicate_column_names_are_refused(run_import):
    from clientele.imports.readers import TableError

    with pytest.raises(TableError, match="used twice"):
        run_import("customers", [["code", "name", "Name"], ["C1", "a", "b"]])


# --- rows ----------------------------------------------------------------------------


def test_all_or_nothing_one_bad_row_writes_nothing(run_import, customers, products):
    rows = [ORDER_HEADER, order("SO1"), order("SO2", qty="-2"), order("SO3")]
    job = run_import("orders", rows)
    assert job.status == "rejected"
    assert only_error(job) == (3, "数量", '"-2" must be greater than zero.')
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    rejected = rejected_rows(job)
    assert [(r["row"], r["订单号"], r["数量"]) for r in rejected] == [("3", "SO2", "-2")]
    assert rejected[0]["errors"] == '数量: "-2" must be greater than zero.'
    assert (job.rejected_rows, job.created_rows) == (1, 0)


def test_valid_rows_mode_imports_the_good_orders_whole(run_import, customers, products):
    rows = [
        ORDER_HEADER,
        order("SO1", sku="SKU1"),
        order("SO2"),
        order("SO1", sku="NOPE"),  # SO1 has a bad line: the whole order stays out
        order("SO3", price="1,234.50"),
    ]
    job = run_import("orders", rows, mode="valid")
    assert job.status == "partial"
    assert only_error(job) == (4, "商品编码", 'No product has the SKU "NOPE".')
    assert sorted(Order.objects.values_list("number", flat=True)) == ["SO2", "SO3"]
    assert Order.objects.get(number="SO3").total == Decimal("1234.50")
    rejected = rejected_rows(job)
    assert [r["row"] for r in rejected] == ["2", "4"]
    assert "row 4" in rejected[0]["errors"] and "SO1" in rejected[0]["errors"]
    assert job.rejected_rows == 2 and job.created_rows == 2


def test_the_corrected_rejected_rows_file_imports(run_import, customers, products):
    rows = [ORDER_HEADER, order("SO1"), order("SO1", sku="NOPE", qty="2"), order("SO2")]
    job = run_import("orders", rows, mode="valid")
    rejected = rejected_rows(job)
    header = list(rejected[0])
    fixed = [header] + [[r[h] for h in header] for r in rejected]
    fixed[2][header.index("商品编码")] = "SKU2"
    again = run_import("orders", csv_bytes(fixed, bom=True))
    assert (again.status, again.created_rows) == ("succeeded", 1)
    assert Order.objects.get(number="SO1").lines.count() == 2


@pytest.mark.parametrize(
    "column, value, reason",
    [
        ("下单时间", "last tuesday", "is not a date and time"),
        ("下单时间", "2025-02-30 10:00", "not a real calendar date"),
        ("下单时间", "11/12/2025", "ambiguous"),
        ("下单时间", "2999-01-01 10:00", "in the future"),
        ("数量", "0", "greater than zero"),
        ("数量", "1.0005", "more than 3 decimal places"),
        ("单价", "1.234,50", "European"),
        ("单价", "1,23", "ambiguous"),
        ("单价", "-5", "negative"),
        ("单价", "ten", "not a number"),
        ("折扣金额", "50", "exceeds the line value"),
        ("客户编号", "C999", 'No customer has the code "C999".'),
        ("客户编号", "", "A value is required."),
    ],
)
def test_each_bad_order_value_names_row_and_column(
    run_import, customers, products, column, value, reason
):
    rows = [ORDER_HEADER, order("SO1"), order("SO2")]
    rows[2][ORDER_HEADER.index(column)] = value
    job = run_import("orders", rows)
    row, got_column, got_reason = only_error(job)
    assert (row, got_column) == (3, column)
    assert reason in got_reason
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "price", ["1,234.50", "¥1,234.50", "1234.5元", "RMB 1,234.50", "￥1234.50"]
)
def test_amounts_as_users_write_them(run_import, customers, products, price):
    job = run_import("orders", [ORDER_HEADER, order("SO1", price=price)])
    assert job.status == "succeeded", job.errors
    assert OrderLine.objects.get().unit_price == Decimal("1234.50")


def test_the_lines_of_an_order_may_be_spread_over_the_file(run_import, customers, products):
    when = yesterday()
    rows = [
        ORDER_HEADER,
        order("SO1", when=when, sku="SKU1", qty="1", price="10"),
        order("SO2", when=when),
        order("SO1", when=when, sku="SKU2", qty="2", price="2.50"),
    ]
    job = run_import("orders", rows)
    assert job.status == "succeeded"
    so1 = Order.objects.get(number="SO1")
    assert so1.lines.count() == 2 and so1.total == Decimal("15.00")
    again = run_import("orders", rows)
    assert (again.created_rows, OrderLine.objects.count()) == (0, 3)
    assert Order.objects.get(number="SO1").total == Decimal("15.00")


def test_lines_of_one_order_must_agree_on_the_customer(run_import, customers, products):
    rows = [ORDER_HEADER, order("SO1", customer="C001"), order("SO1", customer="C002")]
    job = run_import("orders", rows)
    row, column, reason = only_error(job)
    assert (row, column) == (3, "客户编号")
    assert "Row 2" in reason and "SO1" in reason


def test_a_given_line_amount_is_checked(run_import, customers, products):
    header = [*ORDER_HEADER, "金额"]
    rows = [header, [*order("SO1", qty="2", price="10", discount="1"), "19.00"]]
    assert run_import("orders", rows).status == "succeeded"
    rows = [header, [*order("SO2", qty="2", price="10"), "21"]]
    row, column, reason = only_error(run_import("orders", rows))
    assert (row, column) == (2, "金额") and "20.00" in reason


def test_values_beyond_the_last_column_are_rejected(run_import, customers):
    data = b"code,name\r\nC7,Seven\r\nC8,Eight,1\r\n"
    job = run_import("customers", data)
    row, column, reason = only_error(job)
    assert row == 3 and "unquoted comma" in reason


def test_duplicate_keys_inside_a_file_name_the_first_row(run_import, customers):
    rows = [["客户编号", "姓名"], ["C500", "A"], ["C501", "B"], ["C500", "C"]]
    row, column, reason = only_error(run_import("customers", rows))
    assert (row, column) == (4, "客户编号") and "row 2" in reason
    assert not Customer.objects.filter(code__startswith="C50").exists()


def test_over_long_text_is_rejected(run_import):
    row, column, reason = only_error(run_import("customers", [["code", "name"], ["C1", "x" * 201]]))
    assert (row, column) == (2, "name") and "201" in reason and "200" in reason


def test_control_characters_are_rejected(run_import):
    row, column, reason = only_error(run_import("customers", [["code", "name"], ["C1", "A\x07B"]]))
    assert (row, column) == (2, "name") and "U+0007" in reason


def test_html_in_names_is_stored_as_text_and_escaped_on_pages(run_import, client, admin):
    name = '<script>alert("x")</script>'
    job = run_import("customers", [["code", "name"], ["C1", name]])
    assert job.status == "succeeded"
    customer = Customer.objects.get(code="C1")
    assert customer.name == name
    client.force_login(admin)
    page = client.get(reverse("customers:customer_list")).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_a_birthday_in_the_future_is_rejected(run_import):
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    row, column, reason = only_error(
        run_import("customers", [["code", "name", "birthday"], ["C1", "A", future]])
    )
    assert (row, column) == (2, "birthday") and "future" in reason


def test_unknown_account_manager_is_rejected(run_import):
    rows = [["code", "name", "account manager"], ["C1", "A", "nobody"]]
    row, column, reason = only_error(run_import("customers", rows))
    assert (row, column) == (2, "account manager") and "nobody" in reason


def test_parent_organizations_may_come_later_in_the_file(run_import):
    rows = [
        ["客户编号", "姓名", "类型", "上级单位"],
        ["S1", "Subsidiary", "企业", "G1"],
        ["G1", "Group", "企业", ""],
    ]
    job = run_import("customers", rows)
    assert job.status == "succeeded", job.errors
    assert Customer.objects.get(code="S1").parent.code == "G1"


@pytest.mark.parametrize(
    "rows, bad_row, reason",
    [
        ([["S1", "X", "NOPE"]], 2, "neither in the database nor in this file"),
        ([["S1", "X", "S1"]], 2, "its own parent"),
        ([["A", "X", "B"], ["B", "Y", "A"]], 3, "loop"),
    ],
    ids=["unknown", "self", "loop"],
)
def test_bad_parents_are_rejected(run_import, rows, bad_row, reason):
    job = run_import("customers", [["code", "name", "parent"], *rows])
    assert job.status == "rejected"
    assert any(
        e["row"] == bad_row and e["column"] == "parent" and reason in e["reason"]
        for e in job.errors
    )
    assert not Customer.objects.exists()


def test_contacts_of_unknown_customers_are_rejected(run_import, customers):
    rows = [["客户编号", "联系人"], ["C001", "李四"], ["X1", "王五"]]
    job = run_import("contacts", rows, mode="valid")
    assert job.status == "partial"
    assert only_error(job)[:2] == (3, "客户编号")


def test_interactions_name_a_contact_of_their_customer(run_import, customers):
    customers[0].contacts.create(name="李四")
    rows = [
        ["客户编号", "时间", "渠道", "联系人"],
        ["C001", yesterday(), "电话", "李四"],
        ["C002", yesterday(), "电话", "李四"],
    ]
    job = run_import("interactions", rows, mode="valid")
    assert only_error(job)[:2] == (3, "联系人")
    from clientele.customers.models import Interaction

    assert Interaction.objects.get().contact.name == "李四"


def test_the_reject_file_neutralises_formulas(run_import):
    job = run_import("customers", [["code", "name"], ["=HYPERLINK(1)", "x" * 300]])
    raw = job.reject_file.open("rb").read().decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in raw


def test_only_the_first_errors_are_kept_but_all_are_counted(run_import, customers, products):
    from clientele.imports import import_engine

    rows = [ORDER_HEADER] + [
        order(f"SO{i}", qty="-1") for i in range(import_engine.MAX_ERRORS_KEPT + 5)
    ]
    job = run_import("orders", rows)
    assert len(job.errors) == import_engine.MAX_ERRORS_KEPT
    assert job.error_count == job.rejected_rows == import_engine.MAX_ERRORS_KEPT + 5


def test_a_gbk_file_with_a_bom_free_header_is_detected(run_import):
    data = codecs.encode("客户编号,姓名\r\nG1,张三\r\n", "gbk")
    job = run_import("customers", data)
    assert job.status == "succeeded"
    assert Customer.objects.get(code="G1").name == "张三"


def test_feedback_from_the_future_is_rejected(run_import, customers):
    rows = [
        ["客户编号", "反馈时间", "类型", "来源", "反馈内容"],
        ["C001", "2999-01-01 10:00", "投诉", "电话", "慢"],
    ]
    row, column, reason = only_error(run_import("feedback", rows))
    assert (row, column) == (2, "反馈时间") and "future" in reason


def test_products_name_a_known_category(run_import, products):
    from clientele.catalog.models import ProductCategory

    ProductCategory.objects.create(code="T2", name="Twice")
    ProductCategory.objects.create(code="T3", name="Twice")
    rows = [
        ["SKU", "Name", "Category", "List price"],
        ["N1", "A", "Nope", "1"],
        ["N2", "B", "Twice", "1"],
        ["N3", "C", "T3", "1"],
    ]
    job = run_import("products", rows, mode="valid")
    assert [(r, c) for r, c, _ in errors(job)] == [(2, "Category"), (3, "Category")]
    assert "Catalog" in errors(job)[0][2] and "code instead" in errors(job)[1][2]
    from clientele.catalog.models import Product

    assert Product.objects.get(sku="N3").category.code == "T3"
