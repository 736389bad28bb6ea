"""Every order page for every role, generated from declarations (see
core.tests.declarative), including the account manager's scope: another team's orders are
404 and absent from lists and exports."""

import itertools

from clientele.conftest import make_order
from clientele.core.tests.declarative import ORDERS, ModelViewTests
from clientele.sales.models import Order

_seq = itertools.count(1)


def order_form(customer_code, number, lines, **fields):
    """POST data for the order page: the order fields and its lines formset."""
    data = {
        "customer": customer_code,
        "source": "manual",
        "number": number,
        "ordered_at": "2025-01-06T07:30",
        "status": "paid",
        "channel": "store",
        "currency": "CNY",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
    }
    data.update(fields)
    for i, (sku, quantity, price, discount) in enumerate(lines):
        data[f"lines-{i}-product"] = sku
        data[f"lines-{i}-quantity"] = quantity
        data[f"lines-{i}-unit_price"] = price
        data[f"lines-{i}-discount"] = discount
    return data


class TestOrderViews(ModelViewTests):
    model = Order
    grants = ORDERS
    scoped = True

    def make(self, world, side="a"):
        customer = world.customer_a if side == "a" else world.customer_b
        return make_order(customer, f"SO-N{next(_seq)}", world.product)

    def existing(self, world, side="a"):
        return world.order_a if side == "a" else world.order_b

    def form_data(self, world):
        return order_form("A-001", "SO-FORM-1", [("SKU-CEM-1", "3", "19.99", "1.00")])

    def edit_data(self, world, obj):
        return order_form(
            obj.customer.code, obj.number, [("SKU-CEM-1", "1", "420.00", "")], status="completed"
        )

    def edited(self, obj):
        return obj.status == "completed"

    def export_text(self, obj):
        return obj.number

    def search_text(self, obj):
        return obj.number
