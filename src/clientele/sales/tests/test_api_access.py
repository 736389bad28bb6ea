"""The order API for every role, generated from declarations (see
core.tests.declarative.ModelApiTests), including an account manager's scope."""

import itertools

from clientele.conftest import make_order
from clientele.core.tests.declarative import ORDERS, ModelApiTests
from clientele.sales.models import Order

_seq = itertools.count(1)


class TestOrderApi(ModelApiTests):
    endpoint = "/api/orders/"
    model = Order
    grants = ORDERS
    scoped = True
    patch = {"status": "completed"}

    def make(self, world, side="a"):
        customer = world.customer_a if side == "a" else world.customer_b
        return make_order(customer, f"SO-API-{next(_seq)}", world.product)

    def existing(self, world, side="a"):
        return world.order_a if side == "a" else world.order_b

    def payload(self, world):
        return {
            "customer": "A-001",
            "number": "API-1",
            "ordered_at": "2025-01-05T12:00:00Z",
            "lines": [{"product": "SKU-CEM-1", "quantity": "2", "unit_price": "10.00"}],
        }

    def patched(self, obj):
        return obj.status == "completed"
