"""Pages of the sales domain."""

from clientele.core.views import ModelViews

from . import filters, forms, tables
from .models import Order


class OrderViews(ModelViews):
    model = Order
    import_kind = "orders"
    table = tables.OrderTable
    filterset = filters.OrderFilterSet
    form = forms.OrderForm
    detail_template = "sales/order_detail.html"

    @classmethod
    def get_queryset(cls, request):
        return Order.objects.select_related("customer")

    @classmethod
    def get_extra_context(cls, request, order):
        return {"lines": order.lines.select_related("product")}
