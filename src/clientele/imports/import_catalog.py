"""Importing products: upsert by SKU; the category is named by its code or its name."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from clientele.catalog.models import Product, ProductCategory

from .import_engine import Counts, Importer, Row
from .import_records import DUPLICATE, Upsert
from .schemas import PRODUCTS

UNKNOWN_CATEGORY = gettext_noop(
    'No product category has the code or name "{value}"; add it under Catalog first.'
)
AMBIGUOUS_CATEGORY = gettext_noop(
    'Several product categories are named "{value}"; use the category code instead.'
)


class ProductImporter(Importer):
    """Products by SKU. Categories are few, so all are loaded once."""

    schema = PRODUCTS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen: dict[str, int] = {}
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, int | None] = {}
        for pk, code, name in ProductCategory.objects.values_list("pk", "code", "name"):
            self.by_code[code] = pk
            # None marks a name shared by several categories: ambiguous, never guessed.
            self.by_name[name] = None if name in self.by_name else pk

    def check(self, rows: list[Row]) -> None:
        for row in rows:
            values = row.values
            sku = values.get("sku")
            if sku is not None:
                first = self.seen.setdefault(sku, row.number)
                if first != row.number:
                    self.fail(row, "sku", DUPLICATE, what=self.column("sku"), row=first)
            category = values.pop("category", None)
            if category is not None:
                category_id = self.by_code.get(category)
                if category_id is None and category in self.by_name:
                    category_id = self.by_name[category]
                    if category_id is None:
                        self.fail(row, "category", AMBIGUOUS_CATEGORY, value=category)
                elif category_id is None:
                    self.fail(row, "category", UNKNOWN_CATEGORY, value=category)
                values["category_id"] = category_id
            if not row.errors:
                row.record = (sku, values)

    def write(self, batch: list) -> Counts:
        existing = Product.objects.in_bulk([sku for sku, _ in batch], field_name="sku")
        upsert = Upsert(Product, self.now)
        for sku, values in batch:
            upsert.add(existing.get(sku), values)
        # Products are not audited records (core.audit covers customers, contacts, orders).
        return upsert.save()
