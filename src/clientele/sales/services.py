"""Order operations shared by pages, API and imports."""

from decimal import Decimal

from django.db import transaction

from clientele.core.money import round_money

from .models import Order, OrderLine


@transaction.atomic
def save_order_with_lines(order: Order, lines: list[dict]) -> Order:
    """Save an order and replace its lines; the total is the sum of the line amounts.
    Each line dict has product, quantity, unit_price and optional discount."""
    objects = []
    for line in lines:
        discount = line.get("discount") or Decimal("0")
        objects.append(
            OrderLine(
                product=line["product"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                discount=discount,
                amount=OrderLine.line_amount(line["quantity"], line["unit_price"], discount),
            )
        )
    # The total is set before the order is saved, so the audit trail records it.
    order.total = round_money(sum((o.amount for o in objects), Decimal("0")))
    order.save()
    order.lines.all().delete()
    for line in objects:
        line.order = order
    OrderLine.objects.bulk_create(objects)
    return order
