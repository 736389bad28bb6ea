"""Tables for the catalog lists."""

import django_tables2 as tables

from clientele.core.tables import BaseTable

from .models import Product, ProductCategory


class ProductTable(BaseTable):
    sku = tables.Column(linkify=True)
    name = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Product
        fields = ("sku", "name", "category", "unit", "list_price", "cost", "role", "active")


class ProductCategoryTable(BaseTable):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = ProductCategory
        fields = ("code", "name", "parent")
