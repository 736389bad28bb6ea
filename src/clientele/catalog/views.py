"""Pages of the catalog: declarations on the generic views."""

from clientele.core.views import ModelViews

from . import filters, forms, tables
from .models import Product, ProductCategory


class ProductViews(ModelViews):
    model = Product
    import_kind = "products"
    table = tables.ProductTable
    filterset = filters.ProductFilterSet
    form = forms.ProductForm

    @classmethod
    def get_queryset(cls, request):
        return Product.objects.select_related("category")


class ProductCategoryViews(ModelViews):
    model = ProductCategory
    table = tables.ProductCategoryTable
    filterset = filters.ProductCategoryFilterSet
    form = forms.ProductCategoryForm
    route = "categories"
