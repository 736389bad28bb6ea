"""Filters for the order list."""

import django_filters
from django.utils.translation import gettext_lazy as _

from clientele.core.filters import SearchFilterSet

from .models import Order, OrderStatus, SalesChannel


class OrderFilterSet(SearchFilterSet):
    search_fields = ("number__istartswith", "customer__code__istartswith", "customer__name")
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices, label=_("status"))
    channel = django_filters.ChoiceFilter(choices=SalesChannel.choices, label=_("channel"))
    source = django_filters.CharFilter(label=_("source system"))
    after = django_filters.DateFilter(
        field_name="ordered_at", lookup_expr="date__gte", label=_("on or after")
    )
    before = django_filters.DateFilter(
        field_name="ordered_at", lookup_expr="date__lte", label=_("on or before")
    )
    min_total = django_filters.NumberFilter(
        field_name="total", lookup_expr="gte", label=_("total at least")
    )

    class Meta:
        model = Order
        fields = []
