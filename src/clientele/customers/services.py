"""Customer operations shared by pages, API, imports and jobs: the value summary and the
timeline on the 360 page, and group totals over subsidiaries."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from clientele.core.models import AuditEntry
from clientele.core.money import round_money
from clientele.sales.models import VALUE_STATUSES, Order

from .models import Customer


@dataclass(frozen=True)
class ValueSummary:
    """What a customer is worth so far; cancelled and returned orders are left out."""

    lifetime_spend: Decimal
    orders: int
    first_order_at: datetime.datetime | None
    last_order_at: datetime.datetime | None
    spend_last_12_months: Decimal

    @property
    def average_order_value(self) -> Decimal:
        if not self.orders:
            return Decimal("0.00")
        return round_money(self.lifetime_spend / self.orders)


def value_summary(customer_ids) -> ValueSummary:
    """The value summary over one customer or a group (a list of customer ids), in one
    aggregate query on the (customer, ordered_at) index."""
    since = timezone.now() - datetime.timedelta(days=365)
    row = Order.objects.filter(
        customer_id__in=list(customer_ids), status__in=VALUE_STATUSES
    ).aggregate(
        spend=Sum("total"),
        orders=Count("id"),
        first=Min("ordered_at"),
        last=Max("ordered_at"),
        recent=Sum("total", filter=Q(ordered_at__gte=since)),
    )
    return ValueSummary(
        # SQLite sums decimals with twelve places; every backend reports cents.
        lifetime_spend=round_money(row["spend"] or 0),
        orders=row["orders"] or 0,
        first_order_at=row["first"],
        last_order_at=row["last"],
        spend_last_12_months=round_money(row["recent"] or 0),
    )


def timeline(customer: Customer, limit: int = 50) -> list[dict]:
    """Interactions, feedback and orders of a customer merged newest first: every touch on
    every channel on one line."""
    events = []
    for item in customer.interactions.select_related("user", "contact")[:limit]:
        events.append({"at": item.occurred_at, "kind": "interaction", "object": item})
    for item in customer.feedback.all()[:limit]:
        events.append({"at": item.received_at, "kind": "feedback", "object": item})
    for item in customer.orders.all()[:limit]:
        events.append({"at": item.ordered_at, "kind": "order", "object": item})
    events.sort(key=lambda e: e["at"], reverse=True)
    return events[:limit]


def change_history(customer: Customer, limit: int = 50):
    """Audit entries for the customer and its contacts, consents and orders."""
    return AuditEntry.objects.filter(customer_id=customer.pk).select_related("user")[:limit]
