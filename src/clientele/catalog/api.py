"""REST endpoints of the catalog."""

from rest_framework import serializers

from clientele.core.api import ScopedViewSet

from .models import Product, ProductCategory


class ProductCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductCategory
        exclude = []
        read_only_fields = ["created_at", "updated_at"]


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ProductCategory.objects.all(),
        required=False,
        allow_null=True,
    )

    class Meta:
        model = Product
        exclude = []
        read_only_fields = ["created_at", "updated_at"]


class ProductViewSet(ScopedViewSet):
    queryset = Product.objects.select_related("category")
    serializer_class = ProductSerializer
    filterset_fields = ["role", "active", "category"]
    search_fields = ["sku", "name"]
    ordering_fields = ["id", "sku", "name", "list_price"]


class ProductCategoryViewSet(ScopedViewSet):
    queryset = ProductCategory.objects.all()
    serializer_class = ProductCategorySerializer
    search_fields = ["code", "name"]
    ordering_fields = ["id", "code", "name"]


routes = [("products", ProductViewSet), ("product-categories", ProductCategoryViewSet)]
