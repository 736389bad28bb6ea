"""Tables for orders."""

import django_tables2 as tables

from clientele.core.tables import BaseTable

from .models import Order


class OrderTable(BaseTable):
    number = tables.Column(linkify=True)
    customer = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Order
        fields = (
            "number",
            "source",
            "customer",
            "ordered_at",
            "status",
            "channel",
            "total",
            "currency",
        )
