"""REST endpoints for orders, with nested lines and bulk create."""

from django.db import transaction
from rest_framework import serializers

from clientele.catalog.models import Product
from clientele.core.api import BulkCreateMixin, ScopedRelatedField, ScopedViewSet
from clientele.customers.models import Customer

from . import services
from .models import Order, OrderLine


class OrderLineSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", queryset=Product.objects.all())

    class Meta:
        model = OrderLine
        fields = ["product", "quantity", "unit_price", "discount", "amount"]
        read_only_fields = ["amount"]

    def validate(self, attrs):
        amount = OrderLine.line_amount(
            attrs["quantity"], attrs["unit_price"], attrs.get("discount") or 0
        )
        if amount < 0:
            raise serializers.ValidationError(
                {"discount": ["The discount exceeds the line value."]}
            )
        return attrs


class OrderSerializer(serializers.ModelSerializer):
    customer = ScopedRelatedField(slug_field="code", queryset=Customer.objects.all())
    lines = OrderLineSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "customer",
            "source",
            "number",
            "ordered_at",
            "status",
            "channel",
            "currency",
            "total",
            "notes",
            "lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["total", "created_at", "updated_at"]

    def validate_lines(self, lines):
        if not lines:
            raise serializers.ValidationError("An order needs at least one line.")
        return lines

    @transaction.atomic
    def create(self, validated_data):
        lines = validated_data.pop("lines")
        return services.save_order_with_lines(Order(**validated_data), lines)

    @transaction.atomic
    def update(self, instance, validated_data):
        lines = validated_data.pop("lines", None)
        for key, value in validated_data.items():
            setattr(instance, key, value)
        if lines is None:
            instance.save()
            return instance
        return services.save_order_with_lines(instance, lines)


class OrderViewSet(BulkCreateMixin, ScopedViewSet):
    queryset = Order.objects.select_related("customer").prefetch_related("lines__product")
    serializer_class = OrderSerializer
    bulk_unique = ("source", "number")
    filterset_fields = ["customer", "status", "channel", "source"]
    search_fields = ["number"]
    ordering_fields = ["id", "ordered_at", "total"]


routes = [("orders", OrderViewSet)]
