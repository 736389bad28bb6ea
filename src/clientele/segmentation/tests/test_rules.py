"""Rule segments (`segmentation.rules`): every field and operator compiles to SQL that
selects exactly the customers worked out by hand, on SQLite and PostgreSQL alike; bad
input is refused with errors naming the clause path and the field. Guards against: a
cancelled or returned order counting as spend, a window counting orders after `at`,
"not equal" silently dropping customers without a value, a segment that refers to itself
through another (a cycle), spend compared as text on SQLite."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from clientele.catalog.models import Product, ProductCategory
from clientele.customers.models import Consent, Customer, CustomField, Tag
from clientele.sales.models import Order, OrderLine
from clientele.segmentation import rules
from clientele.segmentation.models import ClassificationDefinition, CurrentClass

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2025, 7, 1, tzinfo=ZONE)  # the end of 30 June 2025, local


def when(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZONE)


@pytest.fixture
def base(users, team_a, settings):
    """Six customers, worked out by hand:

    p1 person active  store  Zhejiang/Hangzhou  owner am  team A  b. 1990-03-05
       orders: 2025-06-01 300 paid (tea), 2024-01-10 1,000 paid (cup), 2025-06-20 5,000
       cancelled (tea), 2025-07-02 900 paid (after AT)      tags vip, tea   sms opted in
    p2 person prospect web   Zhejiang/Ningbo    no owner        b. 1985-03-20
       orders: 2025-05-01 299.00 paid (green tea)           tag tea          sms opted out
    o1 organization active  referral Jiangsu/Suzhou owner am_b   no birthday
       orders: 2023-05-01 2,000 returned, 2022-01-01 150.50 completed (cup)   dnd
    o2 organization lost    ""  ""/""                          demand 120 t
    p3 person inactive "" Zhejiang/Hangzhou  b. 2000-12-31       custom: level 7, since
       2020-02-02, colour red, note "likes oolong"
    p4 person active   ""  "" created 2025-06-25; no orders
    """
    settings.TIME_ZONE = "Asia/Shanghai"
    am, am_b = users["account_manager"], users["account_manager_b"]
    drinks = ProductCategory.objects.create(code="drinks", name="Drinks")
    tea = ProductCategory.objects.create(code="tea", name="Tea", parent=drinks)
    green = ProductCategory.objects.create(code="green", name="Green tea", parent=tea)
    ware = ProductCategory.objects.create(code="ware", name="Teaware")
    products = {
        "TEA": Product.objects.create(sku="TEA", name="Oolong", category=tea, list_price=1),
        "GREEN": Product.objects.create(sku="GREEN", name="Longjing", category=green,
                                        list_price=1),
        "CUP": Product.objects.create(sku="CUP", name="Cup", category=ware, list_price=1),
    }  # fmt: skip
    c = {
        "p1": Customer.objects.create(code="P1", name="p1", kind="person", status="active",
                                      source="store", province="Zhejiang", city="Hangzhou",
                                      owner=am, team=team_a, birthday=dt.date(1990, 3, 5)),
        "p2": Customer.objects.create(code="P2", name="p2", kind="person", status="prospect",
                                      source="web", province="Zhejiang", city="Ningbo",
                                      birthday=dt.date(1985, 3, 20)),
        "o1": Customer.objects.create(code="O1", name="o1", kind="organization",
                                      status="active", source="referral", province="Jiangsu",
                                      city="Suzhou", owner=am_b, do_not_disturb=True),
        "o2": Customer.objects.create(code="O2", name="o2", kind="organization", status="lost",
                                      annual_demand=Decimal("120"), demand_unit="t"),
        "p3": Customer.objects.create(code="P3", name="p3", status="inactive",
                                      province="Zhejiang", city="Hangzhou",
                                      birthday=dt.date(2000, 12, 31),
                                      custom_fields={"level": "7", "since": "2020-02-02",
                                                     "colour": "red",
                                                     "note": "likes oolong"}),
        "p4": Customer.objects.create(code="P4", name="p4", status="active"),
    }  # fmt: skip
    created = {"p1": "2024-01-01", "p2": "2025-03-01", "o1": "2022-01-01", "o2": "2023-06-30",
               "p3": "2025-06-30 23:59", "p4": "2025-06-25"}  # fmt: skip
    for name, text in created.items():
        Customer.objects.filter(pk=c[name].pk).update(created_at=when(text))
    orders = [
        ("p1", "2025-06-01 10:00", "300", "paid", "TEA"),
        ("p1", "2024-01-10 10:00", "1000", "paid", "CUP"),
        ("p1", "2025-06-20 10:00", "5000", "cancelled", "TEA"),
        ("p1", "2025-07-02 10:00", "900", "paid", "TEA"),
        ("p2", "2025-05-01 10:00", "299.00", "paid", "GREEN"),
        ("o1", "2023-05-01 10:00", "2000", "returned", "TEA"),
        ("o1", "2022-01-01 10:00", "150.50", "completed", "CUP"),
    ]
    for i, (name, at, total, status, sku) in enumerate(orders):
        order = Order.objects.create(customer=c[name], number=f"N{i}", ordered_at=when(at),
                                     total=Decimal(total), status=status)  # fmt: skip
        OrderLine.objects.create(order=order, product=products[sku], quantity=1,
                                 unit_price=Decimal(total), amount=Decimal(total))  # fmt: skip
    vip, tea_tag, _other = (Tag.objects.create(name=n) for n in ("vip", "tea", "other"))
    c["p1"].tags.add(vip, tea_tag)
    c["p2"].tags.add(tea_tag)
    Consent.objects.create(customer=c["p1"], channel="sms", status="opted_in")
    Consent.objects.create(customer=c["p2"], channel="sms", status="opted_out")
    Consent.objects.create(customer=c["p2"], channel="email", status="opted_in")
    CustomField.objects.create(key="level", label="Level", type="number")
    CustomField.objects.create(key="since", label="Member since", type="date")
    CustomField.objects.create(key="colour", label="Colour", type="choice",
                               choices=["red", "blue"])  # fmt: skip
    CustomField.objects.create(key="note", label="Note", type="text")
    return c


def names(expression, at=AT):
    return sorted(c.name for c in rules.customers_matching(expression, at=at))


def leaf(field, op, value=None, **extra):
    node = {"field": field, "op": op, **extra}
    if value is not None:
        node["value"] = value
    return node


ALL = ["o1", "o2", "p1", "p2", "p3", "p4"]

CASES = [
    # customer fields
    (leaf("kind", "=", "organization"), ["o1", "o2"]),
    (leaf("kind", "!=", "organization"), ["p1", "p2", "p3", "p4"]),
    (leaf("kind", "in", ["person"]), ["p1", "p2", "p3", "p4"]),
    (leaf("kind", "not_in", ["person"]), ["o1", "o2"]),
    (leaf("status", "=", "active"), ["o1", "p1", "p4"]),
    (leaf("status", "!=", "active"), ["o2", "p2", "p3"]),
    (leaf("status", "in", ["active", "lost"]), ["o1", "o2", "p1", "p4"]),
    (leaf("status", "not_in", ["active", "lost"]), ["p2", "p3"]),
    (leaf("source", "=", "store"), ["p1"]),
    (leaf("source", "!=", "store"), ["o1", "o2", "p2", "p3", "p4"]),
    (leaf("source", "in", ["web", "referral"]), ["o1", "p2"]),
    (leaf("source", "not_in", ["web", "referral"]), ["o2", "p1", "p3", "p4"]),
    (leaf("source", "is_empty"), ["o2", "p3", "p4"]),
    (leaf("source", "is_not_empty"), ["o1", "p1", "p2"]),
    (leaf("province", "=", "Zhejiang"), ["p1", "p2", "p3"]),
    (leaf("city", "in", ["Hangzhou", "Suzhou"]), ["o1", "p1", "p3"]),
    (leaf("city", "not_in", ["Hangzhou"]), ["o1", "o2", "p2", "p4"]),
    (leaf("city", "contains", "zho"), ["o1", "p1", "p3"]),
    (leaf("city", "!=", "Hangzhou"), ["o1", "o2", "p2", "p4"]),
    (leaf("province", "!=", "Zhejiang"), ["o1", "o2", "p4"]),
    (leaf("province", "in", ["Jiangsu"]), ["o1"]),
    (leaf("province", "not_in", ["Jiangsu", "Zhejiang"]), ["o2", "p4"]),
    (leaf("province", "contains", "SU"), ["o1"]),
    (leaf("city", "is_empty"), ["o2", "p4"]),
    (leaf("city", "is_not_empty"), ["o1", "p1", "p2", "p3"]),
    (leaf("province", "is_empty"), ["o2", "p4"]),
    (leaf("province", "is_not_empty"), ["o1", "p1", "p2", "p3"]),
    (leaf("owner", "is_empty"), ["o2", "p2", "p3", "p4"]),
    (leaf("owner", "is_not_empty"), ["o1", "p1"]),
    (leaf("team", "is_not_empty"), ["p1"]),
    (leaf("team", "is_empty"), ["o1", "o2", "p2", "p3", "p4"]),
    (leaf("birthday_month", "=", 3), ["p1", "p2"]),
    (leaf("birthday_month", "in", [12, 1]), ["p3"]),
    (leaf("birthday_month", "!=", 3), ["o1", "o2", "p3", "p4"]),
    (leaf("birthday_month", "not_in", [3]), ["o1", "o2", "p3", "p4"]),
    (leaf("birthday_month", "is_empty"), ["o1", "o2", "p4"]),
    (leaf("birthday_month", "is_not_empty"), ["p1", "p2", "p3"]),
    (leaf("annual_demand", ">=", 100), ["o2"]),
    (leaf("annual_demand", ">", 120), []),
    (leaf("annual_demand", "<=", "120", unit="t"), ["o2"]),
    (leaf("annual_demand", "<", 120), []),
    (leaf("annual_demand", "=", 120), ["o2"]),
    (leaf("annual_demand", "!=", 120), ["o1", "p1", "p2", "p3", "p4"]),
    (leaf("annual_demand", "between", [100, 200]), ["o2"]),
    (leaf("annual_demand", ">=", 1, unit="kg"), []),
    (leaf("annual_demand", "is_empty"), ["o1", "p1", "p2", "p3", "p4"]),
    (leaf("annual_demand", "is_not_empty"), ["o2"]),
    (leaf("do_not_disturb", "=", True), ["o1"]),
    (leaf("do_not_disturb", "=", False), ["o2", "p1", "p2", "p3", "p4"]),
    # created: local days (p3 was created at 23:59 on 30 June, Shanghai time)
    (leaf("created", "=", "2025-06-30"), ["p3"]),
    (leaf("created", "!=", "2025-06-30"), ["o1", "o2", "p1", "p2", "p4"]),
    (leaf("created", "<", "2023-06-30"), ["o1"]),
    (leaf("created", "<=", "2023-06-30"), ["o1", "o2"]),
    (leaf("created", ">", "2025-03-01"), ["p3", "p4"]),
    (leaf("created", ">=", "2025-03-01"), ["p2", "p3", "p4"]),
    (leaf("created", "between", ["2023-06-30", "2025-03-01"]), ["o2", "p1", "p2"]),
    (leaf("created", "within_days", 7), ["p3", "p4"]),
    (leaf("created", "not_within_days", 7), ["o1", "o2", "p1", "p2"]),
    # tags
    (leaf("tag", "has", "tea"), ["p1", "p2"]),
    (leaf("tag", "has", ["vip", "other"]), ["p1"]),
    (leaf("tag", "has_not", "vip"), ["o1", "o2", "p2", "p3", "p4"]),
    (leaf("tag", "has_all", ["vip", "tea"]), ["p1"]),
    (leaf("tag", "has_all", ["tea", "other"]), []),
    # consents
    (leaf("consent", "=", "opted_in", channel="sms"), ["p1"]),
    (leaf("consent", "=", "opted_out", channel="sms"), ["p2"]),
    (leaf("consent", "!=", "opted_out", channel="sms"), ["o1", "o2", "p1", "p3", "p4"]),
    (leaf("consent", "=", "unknown", channel="sms"), ["o1", "o2", "p3", "p4"]),
    (leaf("consent", "!=", "unknown", channel="email"), ["p2"]),
    # spend: valued orders before AT (p1 all-time 1,300; in 365 days 300; o1 150.50)
    (leaf("spend", ">=", 299), ["p1", "p2"]),
    (leaf("spend", ">=", 299, window_days=365), ["p1", "p2"]),
    (leaf("spend", ">", 299, window_days=365), ["p1"]),
    (leaf("spend", "=", "299.00"), ["p2"]),
    (leaf("spend", "!=", 299), ["o1", "o2", "p1", "p3", "p4"]),
    (leaf("spend", "<", "150.50"), ["o2", "p3", "p4"]),
    (leaf("spend", "<=", "150.50"), ["o1", "o2", "p3", "p4"]),
    (leaf("spend", "=", 0), ["o2", "p3", "p4"]),
    (leaf("spend", "between", [1000, 1300]), ["p1"]),
    (leaf("spend", ">=", 1300), ["p1"]),  # the 900 after AT and the 5,000 cancelled: no
    (leaf("spend", ">=", 100, window_days=30), ["p1"]),  # 1 June is within 30 days
    (leaf("spend", ">=", 100, window_days=29), []),
    # order counts
    (leaf("orders", ">=", 2), ["p1"]),
    (leaf("orders", "=", 1), ["o1", "p2"]),
    (leaf("orders", "=", 0), ["o2", "p3", "p4"]),
    (leaf("orders", "!=", 0), ["o1", "p1", "p2"]),
    (leaf("orders", "<", 1, window_days=365), ["o1", "o2", "p3", "p4"]),
    (leaf("orders", "<=", 1, window_days=365), ALL),
    (leaf("orders", ">", 0, window_days=61), ["p1", "p2"]),  # 1 May: 61 days before AT
    (leaf("orders", ">", 0, window_days=60), ["p1"]),
    (leaf("orders", "between", [1, 1], window_days=61), ["p1", "p2"]),
    # last order date
    (leaf("last_order", "within_days", 30), ["p1"]),
    (leaf("last_order", "within_days", 61), ["p1", "p2"]),
    (leaf("last_order", "not_within_days", 61), ["o1", "o2", "p3", "p4"]),
    (leaf("last_order", "is_empty"), ["o2", "p3", "p4"]),
    (leaf("last_order", "is_not_empty"), ["o1", "p1", "p2"]),
    (leaf("last_order", "=", "2025-06-01"), ["p1"]),
    (leaf("last_order", "!=", "2025-06-01"), ["o1", "p2"]),
    (leaf("last_order", "<", "2025-05-01"), ["o1"]),
    (leaf("last_order", "<=", "2025-05-01"), ["o1", "p2"]),
    (leaf("last_order", ">", "2025-05-01"), ["p1"]),
    (leaf("last_order", ">=", "2025-05-01"), ["p1", "p2"]),
    (leaf("last_order", "between", ["2022-01-01", "2025-05-01"]), ["o1", "p2"]),
    # products and categories (categories include their sub-categories)
    (leaf("bought_category", "has", "drinks"), ["p1", "p2"]),
    (leaf("bought_category", "has", "tea", window_days=365), ["p1", "p2"]),
    (leaf("bought_category", "has", "green"), ["p2"]),
    (leaf("bought_category", "has", "tea", window_days=30), ["p1"]),
    (leaf("bought_category", "has_not", "ware"), ["o2", "p2", "p3", "p4"]),
    (leaf("bought_product", "has", "CUP"), ["o1", "p1"]),
    (leaf("bought_product", "has", ["CUP", "GREEN"], window_days=365), ["p2"]),
    (leaf("bought_product", "has_not", "TEA"), ["o1", "o2", "p2", "p3", "p4"]),
    # "holds product Y but not Z"
    ({"all": [leaf("bought_product", "has", "CUP"), leaf("bought_product", "has_not", "TEA")]},
     ["o1"]),
    # custom fields, typed
    (leaf("custom.level", ">", 5), ["p3"]),
    (leaf("custom.level", ">=", 8), []),
    (leaf("custom.level", "<", "7.5"), ["p3"]),
    (leaf("custom.level", "<=", 7), ["p3"]),
    (leaf("custom.level", "=", 7), ["p3"]),
    (leaf("custom.level", "!=", 7), []),
    (leaf("custom.level", "between", [1, 10]), ["p3"]),
    (leaf("custom.level", "is_empty"), ["o1", "o2", "p1", "p2", "p4"]),
    (leaf("custom.level", "is_not_empty"), ["p3"]),
    (leaf("custom.since", "<", "2021-01-01"), ["p3"]),
    (leaf("custom.since", ">", "2021-01-01"), []),
    (leaf("custom.since", "=", "2020-02-02"), ["p3"]),
    (leaf("custom.since", "between", ["2020-01-01", "2020-12-31"]), ["p3"]),
    (leaf("custom.since", "<=", "2020-02-02"), ["p3"]),
    (leaf("custom.since", ">=", "2020-02-03"), []),
    (leaf("custom.since", "!=", "2020-02-02"), []),
    (leaf("custom.since", "is_empty"), ["o1", "o2", "p1", "p2", "p4"]),
    (leaf("custom.since", "is_not_empty"), ["p3"]),
    (leaf("custom.colour", "is_not_empty"), ["p3"]),
    (leaf("custom.note", "!=", "likes oolong"), ["o1", "o2", "p1", "p2", "p4"]),
    (leaf("custom.note", "in", ["likes oolong", "x"]), ["p3"]),
    (leaf("custom.note", "not_in", ["x"]), ALL),
    (leaf("custom.note", "is_empty"), ["o1", "o2", "p1", "p2", "p4"]),
    (leaf("custom.colour", "=", "red"), ["p3"]),
    (leaf("custom.colour", "!=", "red"), ["o1", "o2", "p1", "p2", "p4"]),
    (leaf("custom.colour", "in", ["blue"]), []),
    (leaf("custom.colour", "not_in", ["blue"]), ALL),
    (leaf("custom.colour", "is_empty"), ["o1", "o2", "p1", "p2", "p4"]),
    (leaf("custom.note", "contains", "OOLONG"), ["p3"]),
    (leaf("custom.note", "=", "likes oolong"), ["p3"]),
    (leaf("custom.note", "is_not_empty"), ["p3"]),
    # groups
    ({"all": [leaf("province", "=", "Zhejiang"), leaf("spend", ">", 0)]}, ["p1", "p2"]),
    ({"any": [leaf("kind", "=", "organization"), leaf("tag", "has", "vip")]}, ["o1", "o2", "p1"]),
    ({"not": leaf("province", "=", "Zhejiang")}, ["o1", "o2", "p4"]),
    ({"all": [{"any": [leaf("city", "=", "Ningbo"), leaf("city", "=", "Suzhou")]},
              {"not": {"all": [leaf("do_not_disturb", "=", True)]}}]}, ["p2"]),
]  # fmt: skip


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=lambda v: None)
def test_every_field_and_operator(base, expression, expected):
    assert rules.validate(expression) == []
    assert names(expression) == expected
    assert rules.count(expression, at=AT) == len(expected)


def test_every_field_and_operator_is_covered():
    """The table above exercises every operator of every field, and of each type of
    custom field (owner, team, class and segment are covered below)."""
    custom = {"number": "custom.level", "date": "custom.since", "choice": "custom.colour",
              "text": "custom.note"}  # fmt: skip
    wanted = {
        (field, op)
        for field, (_kind, ops, _label) in rules.FIELDS.items()
        if field not in ("class", "segment", "owner", "team")
        for op in ops
    }
    for kind, field in custom.items():
        wanted |= {(field, op) for op in rules.CUSTOM_OPERATORS[kind]}
    seen = set()

    def walk(node):
        if "field" in node:
            seen.add((node["field"], node["op"]))
        for key in ("all", "any"):
            for item in node.get(key, []):
                walk(item)
        if "not" in node:
            walk(node["not"])

    for expression, _expected in CASES:
        walk(expression)
    assert sorted(wanted - seen) == []


def test_owner_team_class_and_segment(base, users, team_a):
    am = users["account_manager"]
    assert names(leaf("owner", "=", am.pk)) == ["p1"]
    assert names(leaf("owner", "in", [am.pk, users["account_manager_b"].pk])) == ["o1", "p1"]
    assert names(leaf("owner", "!=", am.pk)) == ["o1", "o2", "p2", "p3", "p4"]
    assert names(leaf("owner", "not_in", [am.pk])) == ["o1", "o2", "p2", "p3", "p4"]
    assert names(leaf("team", "=", team_a.pk)) == ["p1"]
    assert names(leaf("team", "in", [team_a.pk])) == ["p1"]
    assert names(leaf("team", "!=", team_a.pk)) == ["o1", "o2", "p2", "p3", "p4"]
    assert names(leaf("team", "not_in", [team_a.pk])) == ["o1", "o2", "p2", "p3", "p4"]

    abc = ClassificationDefinition.objects.get(key="abc_spend")
    for name, code in (("p1", "A"), ("p2", "B"), ("o1", "C")):
        CurrentClass.objects.create(definition=abc, customer=base[name], code=code,
                                    since=dt.date(2025, 1, 1), reviewed_at=dt.date(2025, 1, 1))  # fmt: skip
    cls = {"field": "class", "definition": "abc_spend"}
    assert names({**cls, "op": "=", "value": "A"}) == ["p1"]
    assert names({**cls, "op": "in", "value": ["A", "B"]}) == ["p1", "p2"]
    assert names({**cls, "op": "!=", "value": "A"}) == ["o1", "o2", "p2", "p3", "p4"]
    assert names({**cls, "op": "not_in", "value": ["A", "C"]}) == ["o2", "p2", "p3", "p4"]

    big = ClassificationDefinition.objects.create(
        key="big", name="Big", kind="rule",
        parameters={"expression": leaf("spend", ">=", 1000)},
    )  # fmt: skip
    assert big.parameters == {"expression": leaf("spend", ">=", 1000)}
    ClassificationDefinition.objects.create(
        key="big_zj", name="Big in Zhejiang", kind="rule",
        parameters={"expression": {"all": [{"field": "segment", "op": "in", "value": "big"},
                                           leaf("province", "=", "Zhejiang")]}},
    )  # fmt: skip
    assert names({"field": "segment", "op": "in", "value": "big_zj"}) == ["p1"]
    assert names({"field": "segment", "op": "not_in", "value": "big"}) == [
        "o1",
        "o2",
        "p2",
        "p3",
        "p4",
    ]


def test_at_moves_the_windows(base):
    # As of 10 July 2025 p1's order of 2 July counts; as of 31 May 2025 the June ones do not.
    assert names(leaf("spend", ">=", 1200, window_days=365), at=dt.date(2025, 7, 10)) == ["p1"]
    assert names(leaf("orders", ">=", 1, window_days=60), at=dt.date(2025, 5, 31)) == ["p2"]
    assert names(leaf("last_order", "within_days", 1), at=dt.date(2025, 6, 1)) == ["p1"]
    assert names(leaf("last_order", "within_days", 1), at=dt.date(2025, 6, 2)) == []


def test_matches_one_customer_in_one_query(base, django_assert_num_queries):
    expression = {"all": [leaf("spend", ">=", 299, window_days=365), leaf("tag", "has", "tea")]}
    assert rules.matches(expression, base["p1"].pk, at=AT)
    assert not rules.matches(expression, base["o1"].pk, at=AT)
    simple = {"all": [leaf("spend", ">=", 299), leaf("consent", "=", "opted_in", channel="sms"),
                      leaf("tag", "has", "vip"), leaf("bought_product", "has", "CUP"),
                      {"not": {"field": "class", "definition": "rfm", "op": "=", "value": "x"}},
                      leaf("last_order", "within_days", 60)]}  # fmt: skip
    with django_assert_num_queries(1):
        assert rules.matches(simple, base["p1"].pk, at=AT)
    with django_assert_num_queries(1):
        assert not rules.matches(simple, base["p2"].pk, at=AT)
    custom = {"all": [simple, leaf("custom.level", ">", 5)]}
    check = rules.matcher(custom, at=AT)  # reads the custom fields once
    with django_assert_num_queries(2):
        assert [check(base["p1"].pk), check(base["p3"].pk)] == [False, False]


def test_count_within_a_scope(base, users):
    scope = Customer.objects.filter(owner=users["account_manager"])
    assert rules.count(leaf("spend", ">=", 0), at=AT) == 6
    assert rules.count(leaf("spend", ">=", 0), at=AT, queryset=scope) == 1


def errors_of(expression, **kwargs):
    return [(e.path, e.field) for e in rules.validate(expression, **kwargs)]


BAD = [
    (leaf("colour", "=", "red"), [("", "colour")]),
    ({"all": [leaf("city", "=", "x"), {"any": [leaf("nope", "=", 1)]}]}, [("all[1].any[0]", "nope")]),
    (leaf("spend", ">=", "abc"), [("", "spend")]),
    (leaf("spend", ">=", True), [("", "spend")]),
    (leaf("spend", ">=", "1.234"), [("", "spend")]),
    (leaf("spend", ">=", "NaN"), [("", "spend")]),
    (leaf("spend", ">=", 1, window_days=-5), [("", "spend")]),
    (leaf("spend", ">=", 1, window_days=0), [("", "spend")]),
    (leaf("spend", ">=", 1, window_days=1.5), [("", "spend")]),
    (leaf("spend", "like", 1), [("", "spend")]),
    (leaf("spend", ">="), [("", "spend")]),
    (leaf("spend", "between", [5, 1]), [("", "spend")]),
    (leaf("spend", "between", [5]), [("", "spend")]),
    (leaf("orders", ">=", -1), [("", "orders")]),
    (leaf("status", "=", "gold"), [("", "status")]),
    (leaf("status", "in", "active"), [("", "status")]),
    (leaf("status", "in", []), [("", "status")]),
    (leaf("birthday_month", "=", 13), [("", "birthday_month")]),
    (leaf("created", ">", "30/06/2025"), [("", "created")]),
    (leaf("created", "within_days", 0), [("", "created")]),
    (leaf("owner", "=", "bob"), [("", "owner")]),
    (leaf("do_not_disturb", "=", "yes"), [("", "do_not_disturb")]),
    (leaf("source", "is_empty", "x"), [("", "source")]),
    (leaf("consent", "=", "opted_in"), [("", "consent")]),
    (leaf("consent", "=", "maybe", channel="sms"), [("", "consent")]),
    (leaf("custom.level", ">", "high"), [("", "custom.level")]),
    (leaf("custom.level", "contains", "1"), [("", "custom.level")]),
    (leaf("custom.colour", "=", "green"), [("", "custom.colour")]),
    (leaf("custom.nope", "=", "x"), [("", "custom.nope")]),
    (leaf("city", "=", "x", window_days=3), [("", "city")]),
    ({"field": "segment", "op": "in", "value": "nope"}, [("", "segment")]),
    ({"all": []}, [("", "")]),
    ({"any": {}}, [("", "")]),
    ({"all": [leaf("city", "=", "x")], "any": []}, [("", "")]),
    ({"not": [leaf("city", "=", "x")]}, [("not", "")]),
    (leaf("city", "=", "a\x00b"), [("", "city")]),
    ({"field": "segment", "op": "in", "value": "x\x00"}, [("", "segment")]),
    (leaf("last_order", "between", ["1800-01-01", "2000-01-01"]), [("", "last_order")]),
    (leaf("created", ">", "9999-12-31"), [("", "created")]),
    (leaf("spend", ">=", 1e20), [("", "spend")]),
    (leaf("owner", "=", 2**63), [("", "owner")]),
    (leaf("orders", ">=", 10**30), [("", "orders")]),
    ([], [("", "")]),
    ("spend > 3", [("", "")]),
    ({"op": "=", "value": 3}, [("", "")]),
    ({"all": [leaf("spend", ">", "x"), {"not": leaf("tag", "has", 3.5)}]},
     [("all[0]", "spend"), ("all[1].not", "tag")]),
]  # fmt: skip


@pytest.mark.parametrize(("expression", "expected"), BAD, ids=lambda v: None)
def test_bad_input_names_path_and_field(base, expression, expected):
    errors = rules.validate(expression)
    assert [(e.path, e.field) for e in errors] == expected
    assert all(e.message for e in errors)
    with pytest.raises(rules.RuleExpressionError) as caught:
        rules.customers_matching(expression)
    assert caught.value.errors == errors
    assert isinstance(caught.value, ValueError)


# Names of things that may come and go (tags, products, categories, classes): refused
# when saving, while evaluation treats them as held by nobody.
BAD_REFERENCES = [
    (leaf("tag", "has", "missing"), "No such tag: missing"),
    (leaf("tag", "has", ["vip", "missing"]), "No such tag: missing"),
    (leaf("bought_category", "has", "nope"), "No such product category: nope"),
    (leaf("bought_product", "has", "NOPE"), "No such product (SKU): NOPE"),
    ({"field": "class", "definition": "nope", "op": "=", "value": "A"},
     "no classification definition nope"),
    ({"field": "class", "definition": "abc_spend", "op": "=", "value": "Z"}, "not one of: A, B, C"),
]  # fmt: skip


@pytest.mark.parametrize(("expression", "message"), BAD_REFERENCES, ids=lambda v: None)
def test_unknown_references_are_refused_on_save(base, expression, message):
    errors = rules.validate(expression)
    assert [(e.path, e.field) for e in errors] == [("", expression["field"])]
    assert message in errors[0].message
    expected = ["p1"] if expression.get("value") == ["vip", "missing"] else []
    assert names(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [leaf("owner", "=", 2**53), leaf("orders", ">=", 2**53), leaf("team", "in", [2**53]),
     leaf("annual_demand", ">=", "99999999999999.9999999"),
     leaf("annual_demand", "<", "0.0000001"), leaf("custom.level", ">", "1e10"),
     leaf("city", "contains", "%_\\"), leaf("created", "between", ["1900-01-01", "2999-12-31"])],
    ids=lambda v: None,
)  # fmt: skip
def test_extreme_values_count_without_a_server_error(base, expression):
    """Values at the edges reach the database on both backends without an error."""
    assert rules.validate(expression) == []
    assert 0 <= rules.count(expression, at=AT) <= 6


def test_deep_nesting_and_too_many_clauses(base):
    node = leaf("city", "=", "x")
    for _level in range(rules.MAX_DEPTH + 3):
        node = {"not": node}
    errors = rules.validate(node)
    assert len(errors) == 1 and errors[0].path.startswith("not.not.not")
    assert "nested" in errors[0].message
    wide = {"any": [leaf("city", "=", str(i)) for i in range(rules.MAX_CLAUSES + 5)]}
    errors = rules.validate(wide)
    assert [(e.path, e.field) for e in errors] == [(f"any[{rules.MAX_CLAUSES}]", "")]
    ok = {"any": [leaf("city", "=", str(i)) for i in range(rules.MAX_CLAUSES)]}
    assert rules.validate(ok) == []


def test_cycles_are_refused(base):
    a = ClassificationDefinition.objects.create(
        key="seg_a", name="A", kind="rule", parameters={"expression": leaf("spend", ">", 0)}
    )
    ClassificationDefinition.objects.create(
        key="seg_b", name="B", kind="rule",
        parameters={"expression": {"all": [{"field": "segment", "op": "in", "value": "seg_a"}]}},
    )  # fmt: skip
    # Pointing A at B would close the loop A -> B -> A.
    loop = {"any": [leaf("city", "=", "x"), {"field": "segment", "op": "in", "value": "seg_b"}]}
    errors = rules.validate(loop, definition_key="seg_a")
    assert [(e.path, e.field) for e in errors] == [("any[1]<seg_b>.all[0]", "segment")]
    assert "seg_a -> seg_b -> seg_a" in errors[0].message
    assert [e.field for e in rules.validate({"field": "segment", "op": "in", "value": "seg_a"},
                                            definition_key="seg_a")] == ["segment"]  # fmt: skip
    from django.core.exceptions import ValidationError

    a.parameters = {"expression": loop}
    with pytest.raises(ValidationError) as caught:
        a.full_clean()
    assert "seg_b" in str(caught.value)


def test_rule_parameters_are_validated():
    from django.core.exceptions import ValidationError

    from clientele.segmentation import parameters

    with pytest.raises(ValidationError) as caught:
        parameters.validate("rule", {"expression": {"all": []}})
    assert "all" in str(caught.value)
    with pytest.raises(ValidationError):
        parameters.validate("rule", {})
    with pytest.raises(ValidationError):
        parameters.validate("rule", {"expression": leaf("spend", ">", 0), "extra": 1})


def test_describe_in_words(base):
    text = rules.describe(
        {"all": [leaf("spend", ">=", 299, window_days=365),
                 {"not": leaf("tag", "has", "vip")}]}
    )  # fmt: skip
    assert text == "Spend in 365 days ≥ 299 and not Tag includes vip"
    text = rules.describe(
        {"any": [{"field": "segment", "op": "not_in", "value": "big"},
                 {"field": "class", "definition": "rfm", "op": "in", "value": ["loyal", "new"]},
                 leaf("orders", "between", [2, 5]), leaf("source", "is_empty")]}
    )  # fmt: skip
    assert text == (
        "not in segment big or class of rfm is one of loyal, new or Number of orders is"
        " between 2 and 5 or Source is empty"
    )


# --- the live count: API and edit page ------------------------------------------------

COUNT = "/api/segment-definitions/count/"
ACTIVE_OR_PROSPECT = {"field": "status", "op": "in", "value": ["active", "prospect"]}


@pytest.mark.urls("clientele.segmentation.tests.urls_for_tests")
class TestLiveCount:
    """world: A-001 (account_manager, team A, active, spent 840), A-002 (team A,
    prospect), B-001 (team B, active, spent 840)."""

    @pytest.mark.parametrize(
        ("role", "expected"),
        [("administrator", 3), ("marketing_manager", 3), ("analyst", 3),
         ("account_manager", 2), ("account_manager_b", 1)],
    )  # fmt: skip
    def test_api_counts_within_the_users_scope(self, api_client_for, world, role, expected):
        response = api_client_for(role).post(COUNT, {"expression": ACTIVE_OR_PROSPECT},
                                             format="json")  # fmt: skip
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == expected
        assert body["scoped"] is role.startswith("account_manager")
        assert body["description"] == "Customer status is one of active, prospect"
        spend = {"expression": {"field": "spend", "op": ">", "value": 0}}
        assert api_client_for(role).post(COUNT, spend, format="json").json()["count"] == (
            2 if expected == 3 else 1
        )

    def test_api_refuses_roles_without_segment_access(self, api_client_for, world):
        response = api_client_for("service_agent").post(
            COUNT, {"expression": ACTIVE_OR_PROSPECT}, format="json"
        )
        assert response.status_code == 403
        from rest_framework.test import APIClient

        anonymous = APIClient().post(COUNT, {"expression": ACTIVE_OR_PROSPECT}, format="json")
        assert anonymous.status_code in (401, 403)

    def test_api_errors_name_path_and_field(self, api_client_for, world):
        client = api_client_for("marketing_manager")
        bad = {"all": [ACTIVE_OR_PROSPECT, {"any": [{"field": "spend", "op": ">=",
                                                     "value": 1, "window_days": -3}]}]}  # fmt: skip
        response = client.post(COUNT, {"expression": bad}, format="json")
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["path"] == "all[1].any[0]" and error["field"] == "spend"
        assert "window_days" in error["message"]
        response = client.post(COUNT, {"rule": 1}, format="json")
        assert response.status_code == 400 and response.json()["errors"][0]["path"] == ""

    def test_api_creates_a_rule_definition(self, api_client_for, world):
        payload = {"key": "active", "name": "Active", "kind": "rule",
                   "parameters": {"expression": ACTIVE_OR_PROSPECT}}  # fmt: skip
        response = api_client_for("marketing_manager").post(
            "/api/segment-definitions/", payload, format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["class_codes"] == ["in", "out"]
        payload = {"key": "bad", "name": "Bad", "kind": "rule",
                   "parameters": {"expression": {"any": []}}}  # fmt: skip
        response = api_client_for("marketing_manager").post(
            "/api/segment-definitions/", payload, format="json"
        )
        assert response.status_code == 400
        assert any(
            "any needs a non-empty list" in m for m in response.json()["errors"]["parameters"]
        )

    def test_edit_page_live_count(self, client_for, world):
        import json

        from django.urls import reverse

        url = reverse("segmentation:rule_count")
        params = json.dumps({"expression": ACTIVE_OR_PROSPECT})
        for role, expected in (("marketing_manager", "3 customers match"),
                               ("account_manager", "2 customers match")):  # fmt: skip
            response = client_for(role).post(url, {"parameters": params, "kind": "rule"})
            assert response.status_code == 200
            assert expected in response.content.decode()
        text = client_for("account_manager").post(url, {"parameters": params}).content.decode()
        assert "among your and your team" in text
        bad = json.dumps({"expression": {"all": [{"field": "colour", "op": "=", "value": 1}]}})
        text = client_for("analyst").post(url, {"parameters": bad}).content.decode()
        assert "all[0]" in text and "colour" in text and "Unknown field" in text
        text = client_for("analyst").post(url, {"parameters": "{oops"}).content.decode()
        assert "Not valid JSON" in text
        text = client_for("analyst").post(url, {"parameters": "{}", "kind": "abc"}).content.decode()
        assert "applies to rule segments" in text
        assert client_for("service_agent").post(url, {"parameters": params}).status_code == 403
        assert client_for("analyst").get(url).status_code == 405
        page = client_for("marketing_manager").get(
            reverse("segmentation:classificationdefinition_add")
        )
        text = page.content.decode()
        assert page.status_code == 200
        assert f'hx-post="{url}"' in text and "bought_category" in text
        assert "custom.plant_count" in text
