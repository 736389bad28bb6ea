"""Orders with lines, from the page and the API: totals in Decimal rounded half-up to the
cent, order numbers unique per source, bad lines refused with the field named, bulk
create all-or-nothing with errors by row and field, and times stored in UTC but shown in
Asia/Shanghai.

Guards against: duplicate order numbers inside one bulk request coming back as a bare
database error, and the audit trail recording a new order's total as 0."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from clientele.sales.models import Order, OrderLine
from clientele.sales.tests.test_views import order_form

UTC = datetime.UTC

# 2.5 x 0.05 = 0.125 -> 0.13 (half-even would give 0.12); 3 x 19.99 - 1.00 = 58.97
LINES = [
    {"product": "SKU-CEM-1", "quantity": "2.5", "unit_price": "0.05"},
    {"product": "SKU-CEM-1", "quantity": "3", "unit_price": "19.99", "discount": "1.00"},
]


def _order(number="API-1", **fields):
    return {
        "customer": "A-001",
        "number": number,
        "ordered_at": "2025-01-05T23:30:00Z",
        "status": "paid",
        "channel": "online",
        "lines": LINES,
    } | fields


@pytest.fixture
def api(world, api_client_for):
    return api_client_for("account_manager")


class TestTotals:
    def test_api_computes_line_amounts_and_total_half_up(self, api):
        response = api.post("/api/orders/", _order(), format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["total"] == "59.10"
        assert [line["amount"] for line in body["lines"]] == ["0.13", "58.97"]
        order = Order.objects.get(number="API-1")
        assert isinstance(order.total, Decimal)
        assert order.total == Decimal("59.10")
        amounts = list(order.lines.order_by("id").values_list("amount", flat=True))
        assert amounts == [Decimal("0.13"), Decimal("58.97")]
        assert order.currency == "CNY"

    def test_total_is_read_only(self, api):
        response = api.post("/api/orders/", _order(total="1.00"), format="json")
        assert response.status_code == 201
        assert Order.objects.get(number="API-1").total == Decimal("59.10")

    def test_replacing_lines_recomputes_the_total(self, api):
        pk = api.post("/api/orders/", _order(), format="json").json()["id"]
        response = api.patch(
            f"/api/orders/{pk}/",
            {"lines": [{"product": "SKU-CEM-1", "quantity": "1", "unit_price": "0.01"}]},
            format="json",
        )
        assert response.status_code == 200
        assert response.json()["total"] == "0.01"
        assert OrderLine.objects.filter(order_id=pk).count() == 1
        # A patch without lines keeps them.
        api.patch(f"/api/orders/{pk}/", {"status": "completed"}, format="json")
        assert Order.objects.get(pk=pk).total == Decimal("0.01")

    def test_the_page_computes_the_same_total(self, world, client_for):
        data = order_form(
            "A-001",
            "SO-PAGE-1",
            [("SKU-CEM-1", "2.5", "0.05", ""), ("SKU-CEM-1", "3", "19.99", "1")],
        )
        response = client_for("account_manager").post(reverse("sales:order_add"), data)
        assert response.status_code == 302
        order = Order.objects.get(number="SO-PAGE-1")
        assert order.total == Decimal("59.10")
        html = client_for("account_manager").get(order.get_absolute_url()).content.decode()
        assert "59.10 CNY" in html
        assert "0.13" in html and "58.97" in html

    def test_editing_on_the_page_replaces_the_lines(self, world, client_for):
        order = world.order_a  # 2 x 420.00
        data = order_form("A-001", order.number, [("SKU-CEM-1", "1", "99.99", "")])
        response = client_for("account_manager").post(
            reverse("sales:order_edit", args=[order.pk]), data
        )
        assert response.status_code == 302
        order.refresh_from_db()
        assert order.total == Decimal("99.99")
        assert order.lines.count() == 1

    def test_cancelled_and_returned_orders_do_not_count_as_value(self, world):
        world.order_b.status = "returned"
        world.order_b.save()
        assert list(Order.objects.valued()) == [world.order_a]
        assert not world.order_b.counts_as_value


class TestBadOrders:
    @pytest.mark.parametrize(
        ("line", "field"),
        [
            ({"quantity": "-1"}, "quantity"),
            ({"quantity": "0"}, "quantity"),
            ({"unit_price": "-5.00"}, "unit_price"),
            ({"unit_price": "1.005"}, "unit_price"),
            ({"discount": "100.00"}, "discount"),
            ({"product": "NO-SUCH-SKU"}, "product"),
        ],
    )
    def test_a_bad_line_is_refused_naming_the_field(self, api, line, field):
        lines = [LINES[0], LINES[1] | line]
        response = api.post("/api/orders/", _order(lines=lines), format="json")
        assert response.status_code == 400
        errors = response.json()["errors"]["lines"]
        by_index = errors if isinstance(errors, dict) else dict(enumerate(errors))
        assert set(by_index[1] if 1 in by_index else by_index["1"]) == {field}
        assert not Order.objects.filter(number="API-1").exists()

    def test_an_order_needs_lines(self, api):
        response = api.post("/api/orders/", _order(lines=[]), format="json")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["lines"]

    def test_a_duplicate_number_in_the_same_source_is_refused(self, api):
        response = api.post("/api/orders/", _order(number="SO-A-1", source="manual"), format="json")
        assert response.status_code == 400
        assert "source, number" in str(response.json()["errors"])
        assert Order.objects.filter(number="SO-A-1").count() == 1

    def test_the_same_number_from_another_source_is_fine(self, api):
        response = api.post(
            "/api/orders/", _order(number="SO-A-1", source="webshop"), format="json"
        )
        assert response.status_code == 201
        assert Order.objects.filter(number="SO-A-1").count() == 2

    def test_the_page_refuses_a_duplicate_and_a_negative_quantity(self, world, client_for):
        client = client_for("account_manager")
        count = Order.objects.count()
        response = client.post(
            reverse("sales:order_add"), order_form("A-001", "SO-A-1", [("SKU-CEM-1", "1", "1", "")])
        )
        assert response.status_code == 400
        assert response.context["form"].errors
        response = client.post(
            reverse("sales:order_add"),
            order_form("A-001", "SO-NEG", [("SKU-CEM-1", "-2", "10.00", "")]),
        )
        assert response.status_code == 400
        assert "quantity" in response.context["form"].lines.forms[0].errors
        assert "Ensure this value is greater than or equal to 0.001." in response.content.decode()
        response = client.post(
            reverse("sales:order_add"), order_form("A-001", "SO-NOLINE", [("", "", "", "")])
        )
        assert response.status_code == 400
        assert Order.objects.count() == count


class TestBulk:
    def test_all_rows_are_created(self, api):
        rows = [_order(number=f"BULK-{i}") for i in range(3)]
        response = api.post("/api/orders/bulk/", rows, format="json")
        assert response.status_code == 201
        assert response.json() == {"created": 3}
        totals = set(
            Order.objects.filter(number__startswith="BULK-").values_list("total", flat=True)
        )
        assert totals == {Decimal("59.10")}

    def test_bad_rows_reject_everything_with_errors_by_row_and_field(self, api):
        rows = [_order(number=f"BULK-{i}") for i in range(4)]
        rows[1]["customer"] = "B-001"  # another team's customer: not visible
        rows[3]["lines"] = [LINES[0] | {"quantity": "-1"}]
        rows[3]["status"] = "lost"
        response = api.post("/api/orders/bulk/", rows, format="json")
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert set(errors) == {"1", "3"}
        assert set(errors["1"]) == {"customer"}
        assert set(errors["3"]) == {"lines", "status"}
        assert not Order.objects.filter(number__startswith="BULK-").exists()

    def test_a_number_repeated_inside_the_request_is_named_by_row(self, api):
        rows = [_order(number="BULK-1"), _order(number="BULK-2"), _order(number="BULK-1")]
        response = api.post("/api/orders/bulk/", rows, format="json")
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert set(errors) == {"2"}
        assert set(errors["2"]) == {"number"}
        assert "row 0" in errors["2"]["number"][0]
        assert not Order.objects.filter(number__startswith="BULK-").exists()

    def test_a_source_default_is_the_same_source(self, api):
        rows = [_order(number="BULK-1"), _order(number="BULK-1", source="manual")]
        response = api.post("/api/orders/bulk/", rows, format="json")
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"1"}

    def test_a_number_already_stored_is_named_by_row(self, api):
        rows = [_order(number="BULK-1"), _order(number="SO-A-1")]
        response = api.post("/api/orders/bulk/", rows, format="json")
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"1"}
        assert not Order.objects.filter(number="BULK-1").exists()

    def test_the_same_number_from_two_sources_in_one_request(self, api):
        rows = [_order(number="BULK-1", source="pos"), _order(number="BULK-1", source="web")]
        assert api.post("/api/orders/bulk/", rows, format="json").status_code == 201


class TestTime:
    def _raw_ordered_at(self, pk):
        with connection.cursor() as cursor:
            cursor.execute("SELECT ordered_at FROM sales_order WHERE id = %s", [pk])
            value = cursor.fetchone()[0]
        if isinstance(value, str):  # SQLite keeps the text Django wrote
            value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def test_stored_in_utc_and_shown_in_shanghai(self, api, world, client_for):
        pk = api.post("/api/orders/", _order(), format="json").json()["id"]
        stored = self._raw_ordered_at(pk)
        assert stored == datetime.datetime(2025, 1, 5, 23, 30, tzinfo=UTC)
        assert stored.utcoffset() == datetime.timedelta(0)

        body = api.get(f"/api/orders/{pk}/").json()
        assert body["ordered_at"] == "2025-01-06T07:30:00+08:00"

        client = client_for("account_manager")
        order = Order.objects.get(pk=pk)
        assert "Jan. 6, 2025, 7:30 a.m." in client.get(order.get_absolute_url()).content.decode()
        html = client.get(world.customer_a.get_absolute_url()).content.decode()
        assert "2025-01-06 07:30" in html  # timeline
        assert "<td>2025-01-06</td>" in html  # orders table

    def test_a_time_entered_on_the_page_is_shanghai_time(self, world, client_for):
        data = order_form("A-001", "SO-TZ", [("SKU-CEM-1", "1", "1.00", "")])
        data["ordered_at"] = "2025-01-06T07:30"
        assert (
            client_for("account_manager").post(reverse("sales:order_add"), data).status_code == 302
        )
        pk = Order.objects.get(number="SO-TZ").pk
        assert self._raw_ordered_at(pk) == datetime.datetime(2025, 1, 5, 23, 30, tzinfo=UTC)

    def test_date_filters_use_the_local_day(self, world, api, client_for):
        api.post("/api/orders/", _order(number="LATE"), format="json")  # 07:30 on Jan 6 local
        client = client_for("account_manager")
        listed = client.get(
            reverse("sales:order_list"), {"after": "2025-01-06", "before": "2025-01-06"}
        )
        assert [r.record.number for r in listed.context["table"].paginated_rows] == ["LATE"]
