"""Products, their categories, and the role each product plays in marketing."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from clientele.core.base import TimeStampedModel


class ProductRole(models.TextChoices):
    """What a product does for the business (traffic items draw people in, profit items
    are rarely discounted)."""

    TRAFFIC = "traffic", _("Traffic driver")
    PROFIT = "profit", _("Profit item")
    MARGINAL = "marginal", _("Marginal item")
    POTENTIAL = "potential", _("Potential item")


class ProductCategory(TimeStampedModel):
    """A product category, optionally inside a parent category."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self):
        return self.name


class Product(TimeStampedModel):
    """Something we sell, by SKU, with its unit (piece, kg, t), list price and cost."""

    sku = models.CharField(_("SKU"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    list_price = models.DecimalField(
        _("list price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    cost = models.DecimalField(
        _("cost"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    role = models.CharField(_("role"), max_length=10, choices=ProductRole, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self):
        return f"{self.name} ({self.sku})"
