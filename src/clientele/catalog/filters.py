"""Filters for the catalog lists."""

import django_filters
from django.utils.translation import gettext_lazy as _

from clientele.core.filters import SearchFilterSet

from .models import Product, ProductCategory, ProductRole


class ProductFilterSet(SearchFilterSet):
    search_fields = ("sku__istartswith", "name")
    role = django_filters.ChoiceFilter(choices=ProductRole.choices, label=_("role"))
    category = django_filters.ModelChoiceFilter(
        queryset=ProductCategory.objects.all(), label=_("category")
    )
    active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = Product
        fields = []


class ProductCategoryFilterSet(SearchFilterSet):
    search_fields = ("code__istartswith", "name")

    class Meta:
        model = ProductCategory
        fields = []
