"""Every kind of file imports from CSV (UTF-8, UTF-8 with BOM, GBK) and XLSX with Chinese
headers, and importing is an upsert: the same file twice creates nothing new, and a
changed value updates the record it belongs to."""

import datetime
from decimal import Decimal

import pytest

from clientele.catalog.models import Product
from clientele.core.models import AuditEntry
from clientele.customers.models import Contact, Customer, Feedback, Interaction
from clientele.sales.models import Order, OrderLine

from .conftest import FORMATS, xlsx_bytes, yesterday

pytestmark = pytest.mark.django_db


def files():
    """kind -> (rows with Chinese headers, check(the database) after the import)."""
    when = yesterday()
    return {
        "customers": (
            [
                ["客户编号", "姓名", "类型", "手机", "邮箱", "城市", "生日", "状态", "标签"],
                [
                    "C100",
                    "张三",
                    "个人",
                    "138-0013-8000",
                    "Zhang@Example.COM",
                    "上海",
                    "1990-05-01",
                    "活跃",
                    "大客户, 茶",
                ],
                ["C101", "北方茶业有限公司", "企业", "", "", "北京", "", "潜在", ""],
            ],
            lambda: (
                Customer.objects.get(code="C100").phone == "13800138000"
                and Customer.objects.get(code="C100").email == "Zhang@example.com"
                and Customer.objects.get(code="C100").birthday == datetime.date(1990, 5, 1)
                and Customer.objects.get(code="C101").kind == "organization"
                and sorted(Customer.objects.get(code="C100").tags.values_list("name", flat=True))
                == ["大客户", "茶"]
            ),
        ),
        "contacts": (
            [
                ["客户编号", "联系人", "职务", "手机", "决策角色"],
                ["C001", "李四", "采购经理", "13900139000", "决策人"],
                ["C002", "王五", "", "", "影响者"],
            ],
            lambda: (
                Contact.objects.get(name="李四").decision_role == "key_man"
                and Contact.objects.get(name="王五").customer.code == "C002"
            ),
        ),
        "products": (
            [
                ["商品编码", "商品名称", "分类", "单位", "标价", "成本", "商品角色", "启用"],
                ["SKU9", "龙井茶", "TEA", "盒", "1234.5元", "800", "利润品", "是"],
                ["SKU8", "茶杯", "Tea", "个", "12", "", "引流品", "否"],
            ],
            lambda: (
                Product.objects.get(sku="SKU9").list_price == Decimal("1234.50")
                and Product.objects.get(sku="SKU9").role == "profit"
                and Product.objects.get(sku="SKU8").active is False
            ),
        ),
        "orders": (
            [
                [
                    "订单号",
                    "客户编号",
                    "下单时间",
                    "状态",
                    "渠道",
                    "商品编码",
                    "数量",
                    "单价",
                    "折扣金额",
                ],
                ["SO1", "C001", when, "已付款", "门店", "SKU1", "2", "1,234.50", ""],
                ["SO1", "C001", when, "已付款", "门店", "SKU2", "1", "10.00", "0.50"],
                ["SO2", "C002", when, "已完成", "线上", "SKU1", "3", "5", ""],
            ],
            lambda: (
                Order.objects.get(number="SO1").total == Decimal("2478.50")
                and Order.objects.get(number="SO1").lines.count() == 2
                and Order.objects.get(number="SO2").channel == "online"
                and Order.objects.get(number="SO2").status == "completed"
            ),
        ),
        "interactions": (
            [
                ["客户编号", "时间", "渠道", "方向", "主题", "备注", "是否接通", "意向"],
                ["C001", when, "电话", "呼出", "回访", "客户满意", "是", "有意向"],
                ["C002", when, "短信", "呼出", "生日祝福", "", "", ""],
            ],
            lambda: (
                Interaction.objects.get(subject="回访").intent == "interested"
                and Interaction.objects.get(subject="回访").reached is True
                and Interaction.objects.get(subject="生日祝福").channel == "sms"
            ),
        ),
        "feedback": (
            [
                ["客户编号", "反馈时间", "类型", "来源", "反馈内容", "状态"],
                ["C001", when, "投诉", "电话", "发货太慢", "待处理"],
                ["C002", when, "表扬", "问卷", "包装很好", "已关闭"],
            ],
            lambda: (
                Feedback.objects.get(text="发货太慢").kind == "complaint"
                and Feedback.objects.get(text="包装很好").status == "closed"
            ),
        ),
    }


MODELS = {
    "customers": (Customer, 3),  # the fixture's three customers are there too
    "contacts": (Contact, 0),
    "products": (Product, 3),
    "orders": (Order, 0),
    "interactions": (Interaction, 0),
    "feedback": (Feedback, 0),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("kind", list(MODELS))
def test_every_kind_imports_from_every_format(run_import, customers, products, kind, fmt):
    rows, check = files()[kind]
    name, build = FORMATS[fmt]
    job = run_import(kind, build(rows), name=name)
    assert (job.status, job.errors) == ("succeeded", [])
    model, before = MODELS[kind]
    assert model.objects.count() == before + 2
    assert job.created_rows == 2 and job.total_rows == len(rows) - 1
    assert check()


@pytest.mark.parametrize("kind", list(MODELS))
def test_importing_the_same_file_twice_creates_nothing(run_import, customers, products, kind):
    rows, _check = files()[kind]
    first = run_import(kind, rows)
    assert first.status == "succeeded"
    model, _before = MODELS[kind]
    count = model.objects.count()
    again = run_import(kind, rows)
    assert (again.status, again.created_rows, again.updated_rows) == ("succeeded", 0, 0)
    assert again.unchanged_rows == 2
    assert model.objects.count() == count
    if kind == "orders":
        assert OrderLine.objects.count() == 3


def test_changed_customer_values_update_the_record_and_the_audit(run_import, customers, admin):
    rows = [["Customer code", "Name", "City"], ["C001", "Customer One", "Hangzhou"]]
    job = run_import("customers", rows)
    assert (job.created_rows, job.updated_rows) == (0, 1)
    customer = Customer.objects.get(code="C001")
    assert (customer.name, customer.city, customer.status) == ("Customer One", "Hangzhou", "active")
    entry = AuditEntry.objects.get(
        object_type="customers.customer", object_id=customer.pk, action="import"
    )
    assert entry.user == admin
    assert entry.changes["city"] == ["", "Hangzhou"]
    assert entry.customer_id == customer.pk


def test_empty_cells_keep_the_stored_values(run_import, customers):
    Customer.objects.filter(code="C001").update(phone="13800000001")
    job = run_import("customers", [["code", "name", "phone"], ["C001", "Customer 1", ""]])
    assert job.unchanged_rows == 1
    assert Customer.objects.get(code="C001").phone == "13800000001"


def test_changed_order_lines_replace_the_stored_lines(run_import, customers, products):
    when = yesterday()
    header = ["Order number", "Customer code", "Ordered at", "SKU", "Quantity", "Unit price"]
    run_import(
        "orders",
        [header, ["SO9", "C001", when, "SKU1", "1", "10"], ["SO9", "C001", when, "SKU2", "1", "5"]],
    )
    order = Order.objects.get(number="SO9")
    assert order.total == Decimal("15.00")
    job = run_import("orders", [header, ["SO9", "C001", when, "SKU3", "4", "2.50"]])
    assert (job.created_rows, job.updated_rows) == (0, 1)
    order.refresh_from_db()
    assert list(order.lines.values_list("product__sku", "quantity")) == [("SKU3", Decimal("4.000"))]
    assert order.total == Decimal("10.00")
    entry = AuditEntry.objects.filter(object_type="sales.order", object_id=order.pk).first()
    assert entry.changes["total"] == ["15.00", "10.00"] and entry.changes["lines"] == [2, 1]


def test_orders_from_another_source_are_other_orders(run_import, customers, products):
    when = yesterday()
    header = ["Order number", "Customer code", "Ordered at", "SKU", "Quantity", "Unit price"]
    rows = [header, ["SO1", "C001", when, "SKU1", "1", "10"]]
    run_import("orders", rows, source="shop")
    run_import("orders", rows, source="till")
    assert sorted(Order.objects.values_list("source", "number")) == [
        ("shop", "SO1"),
        ("till", "SO1"),
    ]


def test_xlsx_date_and_number_cells(run_import, customers, products):
    ordered = datetime.datetime.now() - datetime.timedelta(days=2)
    ordered = ordered.replace(microsecond=0)
    rows = [
        ["订单号", "客户编号", "下单时间", "商品编码", "数量", "单价"],
        ["SO5", "C001", ordered, "SKU1", 3, 19.9],
    ]
    job = run_import("orders", xlsx_bytes(rows), name="orders.xlsx")
    assert job.status == "succeeded", job.errors
    order = Order.objects.get(number="SO5")
    assert order.total == Decimal("59.70")
    from django.utils import timezone

    assert timezone.localtime(order.ordered_at).replace(tzinfo=None) == ordered
