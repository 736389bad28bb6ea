"""A small customer base whose classes are worked out by hand (see the expectations in
test_engine.py). Times are wall-clock in Asia/Shanghai; as-of day 2025-06-30.

    c1  2023-03-01 16,000 · 2025-01-10 3,000 · 2025-06-20 2,000 (+ 2025-07-02 100: future)
    c2  2024-12-01 12:00 1,000 and 18:00 2,000 (one occasion) · 2025-05-01 500 cancelled
    c3  2024-08-15 23:30 1,000 (15:30 UTC: still 15 August locally)
    c4  2025-06-29 500 · 2025-07-01 00:30 50 (16:30 UTC on 30 June, but 1 July locally: future)
    c5  2022-01-05 4,600 · 2025-06-01 500 (back after three years)
    c6  2025-02-02 800 cancelled · 2025-02-03 300 returned (no valued order)
    c7  no order
    c8  2023-01-01 100
Feedback: c1 one complaint, c3 two suggestions, c5 one praise, c6 one complaint.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from clientele.customers.models import Customer, Feedback
from clientele.sales.models import Order

ZONE = ZoneInfo("Asia/Shanghai")
AS_OF = dt.date(2025, 6, 30)

ORDERS = [
    ("c1", "2023-03-01 10:00", "16000", "paid"),
    ("c1", "2025-01-10 09:00", "3000", "paid"),
    ("c1", "2025-06-20 20:00", "2000", "completed"),
    ("c1", "2025-07-02 10:00", "100", "paid"),
    ("c2", "2024-12-01 12:00", "1000", "paid"),
    ("c2", "2024-12-01 18:00", "2000", "paid"),
    ("c2", "2025-05-01 10:00", "500", "cancelled"),
    ("c3", "2024-08-15 23:30", "1000", "shipped"),
    ("c4", "2025-06-29 10:00", "500", "placed"),
    ("c4", "2025-07-01 00:30", "50", "paid"),
    ("c5", "2022-01-05 10:00", "4600", "paid"),
    ("c5", "2025-06-01 10:00", "500", "paid"),
    ("c6", "2025-02-02 10:00", "800", "cancelled"),
    ("c6", "2025-02-03 10:00", "300", "returned"),
    ("c8", "2023-01-01 10:00", "100", "paid"),
]

FEEDBACK = [
    ("c1", "complaint", "2025-03-01 10:00"),
    ("c3", "suggestion", "2025-01-01 10:00"),
    ("c3", "suggestion", "2025-02-01 10:00"),
    ("c5", "praise", "2025-06-02 10:00"),
    ("c6", "complaint", "2025-02-04 10:00"),
]


def local(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)


def make_customers(prefix: str = "") -> dict[str, Customer]:
    """Create the fixture's customers, orders and feedback; return customers by name."""
    customers = {
        name: Customer.objects.create(code=f"{prefix}{name.upper()}", name=f"Customer {name}")
        for name in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8")
    }
    Order.objects.bulk_create(
        Order(
            customer=customers[name],
            number=f"{prefix}O{i}",
            ordered_at=local(when),
            total=Decimal(total),
            status=status,
        )
        for i, (name, when, total, status) in enumerate(ORDERS)
    )
    Feedback.objects.bulk_create(
        Feedback(
            customer=customers[name], kind=kind, source="call", text="-", received_at=local(when)
        )
        for name, kind, when in FEEDBACK
    )
    return customers
