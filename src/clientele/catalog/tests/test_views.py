"""Every catalog page for every role, generated from declarations (see
core.tests.declarative): products and categories are shared by all teams, so there is no
out-of-scope case, only who may change them."""

import itertools

from clientele.catalog.models import Product, ProductCategory
from clientele.core.tests.declarative import CATALOG, ModelViewTests

_seq = itertools.count(1)


class TestProductViews(ModelViewTests):
    model = Product
    grants = CATALOG

    def make(self, world, side="a"):
        n = next(_seq)
        return Product.objects.create(sku=f"SKU-N{n}", name=f"Gravel {n}", list_price="12.50")

    def existing(self, world, side="a"):
        return world.product if side == "a" else self.make(world, side)

    def form_data(self, world):
        return {
            "sku": "SKU-RB-12",
            "name": "Rebar 12 mm",
            "category": world.category.pk,
            "unit": "t",
            "list_price": "3800.00",
            "cost": "3500.00",
            "role": "traffic",
            "active": "on",
        }

    def edit_data(self, world, obj):
        return {
            "sku": obj.sku,
            "name": "Renamed product",
            "unit": obj.unit,
            "list_price": str(obj.list_price),
            "role": obj.role,
            "active": "on",
        }

    def edited(self, obj):
        return obj.name == "Renamed product"

    def export_text(self, obj):
        return obj.sku

    def search_text(self, obj):
        return obj.sku


class TestProductCategoryViews(ModelViewTests):
    model = ProductCategory
    grants = CATALOG

    def make(self, world, side="a"):
        n = next(_seq)
        return ProductCategory.objects.create(code=f"K{n}", name=f"Kind {n}")

    def existing(self, world, side="a"):
        return world.category if side == "a" else self.make(world, side)

    def form_data(self, world):
        return {"code": "STL", "name": "Steel", "parent": world.category.pk}

    def edit_data(self, world, obj):
        return {"code": obj.code, "name": "Renamed category"}

    def edited(self, obj):
        return obj.name == "Renamed category"

    def export_text(self, obj):
        return obj.code

    def search_text(self, obj):
        return obj.code
