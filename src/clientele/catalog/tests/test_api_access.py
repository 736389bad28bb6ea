"""Catalog API endpoints for every role, generated from declarations (see
core.tests.declarative.ModelApiTests)."""

import itertools

from clientele.catalog.models import Product, ProductCategory
from clientele.core.tests.declarative import CATALOG, ModelApiTests

_seq = itertools.count(1)


class TestProductApi(ModelApiTests):
    endpoint = "/api/products/"
    model = Product
    grants = CATALOG
    patch = {"list_price": "99.90"}

    def make(self, world, side="a"):
        return Product.objects.create(sku=f"SKU-A{next(_seq)}", name="Sand", list_price="5.00")

    def existing(self, world, side="a"):
        return world.product

    def payload(self, world):
        return {"sku": "SKU-API", "name": "Api product", "list_price": "10.00", "category": "CEM"}

    def patched(self, obj):
        return str(obj.list_price) == "99.90"


class TestProductCategoryApi(ModelApiTests):
    endpoint = "/api/product-categories/"
    model = ProductCategory
    grants = CATALOG
    patch = {"name": "Patched"}

    def make(self, world, side="a"):
        return ProductCategory.objects.create(code=f"AK{next(_seq)}", name="Kind")

    def existing(self, world, side="a"):
        return world.category

    def payload(self, world):
        return {"code": "API", "name": "Api category"}

    def patched(self, obj):
        return obj.name == "Patched"
