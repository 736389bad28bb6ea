"""Forms for products and categories."""

from clientele.core.forms import ScopedModelForm

from .models import Product, ProductCategory


class ProductForm(ScopedModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "category", "unit", "list_price", "cost", "role", "active"]


class ProductCategoryForm(ScopedModelForm):
    class Meta:
        model = ProductCategory
        fields = ["code", "name", "parent"]
