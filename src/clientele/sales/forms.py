"""The order form, with its lines edited on the same page."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from clientele.catalog.models import Product
from clientele.core.forms import CodeChoiceField, DateTimeInput, ScopedModelForm
from clientele.customers.models import Customer

from . import services
from .models import Order, OrderLine


class OrderLineForm(forms.ModelForm):
    product = CodeChoiceField(Product.objects.all(), "sku", label=_("SKU"))

    class Meta:
        model = OrderLine
        fields = ["product", "quantity", "unit_price", "discount"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "input")
        # No initial discount: otherwise every blank extra line counts as "changed" and
        # must be filled in.
        self.fields["discount"].initial = None
        self.fields["discount"].required = False

    def clean_discount(self):
        return self.cleaned_data.get("discount") or Decimal("0")


OrderLineFormSet = forms.inlineformset_factory(
    Order,
    OrderLine,
    form=OrderLineForm,
    extra=3,
    can_delete=True,
    min_num=1,
    validate_min=True,
)


class OrderForm(ScopedModelForm):
    """An order and its lines; saving replaces the lines and recomputes the total."""

    class Meta:
        model = Order
        fields = [
            "customer",
            "source",
            "number",
            "ordered_at",
            "status",
            "channel",
            "currency",
            "notes",
        ]
        widgets = {"ordered_at": DateTimeInput(), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"] = CodeChoiceField(
            self.fields["customer"].queryset
            if "customer" in self.fields
            else Customer.objects.all(),
            "code",
            label=_("customer code"),
        )
        self.lines = OrderLineFormSet(
            data=self.data if self.is_bound else None, instance=self.instance, prefix="lines"
        )

    def is_valid(self):
        return super().is_valid() and self.lines.is_valid()

    def _save_m2m(self):
        super()._save_m2m()
        rows = [
            f.cleaned_data
            for f in self.lines.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        services.save_order_with_lines(self.instance, rows)
