"""Orders with their lines, from any source (store till, web shop, sales, import).
Cancelled and returned orders never count as value."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientele.core.base import TimeStampedModel
from clientele.core.money import round_money


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


# The statuses whose orders count as customer value (spend, frequency, recency).
VALUE_STATUSES = (
    OrderStatus.PLACED,
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
)


class SalesChannel(models.TextChoices):
    STORE = "store", _("Store")
    ONLINE = "online", _("Online")
    PHONE = "phone", _("Phone")
    SALES = "sales", _("Sales rep")
    OTHER = "other", _("Other")


class OrderQuerySet(models.QuerySet):
    def valued(self):
        """Orders that count as value: not cancelled, not returned."""
        return self.filter(status__in=VALUE_STATUSES)


class Order(TimeStampedModel):
    """A purchase by a customer. The order number is unique within its source system, so
    the same file or feed can be imported again without duplicates."""

    customer_path = "customer__"
    audited = True

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # the (customer, ordered_at) index serves it
    )
    source = models.CharField(_("source system"), max_length=40, default="manual")
    number = models.CharField(_("order number"), max_length=60)
    ordered_at = models.DateTimeField(_("ordered at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus, default=OrderStatus.PAID
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=SalesChannel, default=SalesChannel.STORE
    )
    currency = models.CharField(_("currency"), max_length=3, default=settings.DEFAULT_CURRENCY)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=Decimal("0"))
    notes = models.TextField(_("notes"), blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["source", "number"], name="order_number_per_source")
        ]
        indexes = [
            models.Index(fields=["customer", "ordered_at"]),
            models.Index(fields=["ordered_at"]),
        ]

    def __str__(self):
        return self.number

    @property
    def counts_as_value(self) -> bool:
        return self.status in VALUE_STATUSES

    def recalculate_total(self) -> Decimal:
        """Set total to the sum of the line amounts (each already rounded to the cent)."""
        total = self.lines.aggregate(s=models.Sum("amount"))["s"] or Decimal("0")
        self.total = round_money(total)
        return self.total


class OrderLine(models.Model):
    """One product on an order: quantity in the product's unit, unit price, discount
    (an amount off the line) and the resulting line amount."""

    customer_path = "order__customer__"

    # No database-level foreign keys: lines are the bulk of an import, and checking two
    # keys per line cost PostgreSQL as much as storing it (docs/decisions.md). The ORM
    # still cascades and protects; imports name only orders they wrote and hold the
    # products they name (OrderImporter._hold_products).
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="lines",
        db_constraint=False,
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="order_lines",
        db_constraint=False,
    )
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=14,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    discount = models.DecimalField(
        _("discount"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal(0))],
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self):
        return f"{self.product_id} x {self.quantity}"

    @staticmethod
    def line_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
        return round_money(quantity * unit_price - (discount or 0))

    def clean(self):
        if self.quantity is not None and self.unit_price is not None:
            if self.line_amount(self.quantity, self.unit_price, self.discount) < 0:
                raise ValidationError({"discount": _("The discount exceeds the line value.")})

    def save(self, *args, **kwargs):
        self.amount = self.line_amount(self.quantity, self.unit_price, self.discount)
        super().save(*args, **kwargs)
