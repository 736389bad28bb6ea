"""The customer database: customers (people and organizations, in groups), their
contacts, consents, tags, custom fields, and every touch (Interaction) and piece of
feedback on one timeline."""

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientele.core.base import TimeStampedModel

from . import choices


class Tag(models.Model):
    """A label on customers: persona, interest, or a tag from a big-data platform."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("customers:tag_detail", args=[self.pk])


class CustomField(models.Model):
    """An administrator-defined, typed field on customers; values live in
    Customer.custom_fields under the field's key."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    label_zh = models.CharField(_("Chinese label"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=10, choices=choices.CustomFieldType)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        ordering = ["key"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self):
        return self.label

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("customers:customfield_detail", args=[self.pk])

    def clean(self):
        if self.type == choices.CustomFieldType.CHOICE:
            if not isinstance(self.choices, list) or not self.choices:
                raise ValidationError({"choices": _("A choice field needs a list of choices.")})
        elif self.choices:
            raise ValidationError({"choices": _("Only choice fields have choices.")})

    def to_python(self, value):
        """Convert and validate one value; raises ValidationError with a reason."""
        if value in (None, ""):
            if self.required:
                raise ValidationError(_("%(field)s is required.") % {"field": self.label})
            return None
        if self.type == choices.CustomFieldType.NUMBER:
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                raise ValidationError(
                    _("%(field)s must be a number.") % {"field": self.label}
                ) from None
            if not number.is_finite():
                raise ValidationError(_("%(field)s must be a number.") % {"field": self.label})
            return str(number)
        if self.type == choices.CustomFieldType.DATE:
            if isinstance(value, datetime.date):
                return value.isoformat()
            try:
                return datetime.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise ValidationError(
                    _("%(field)s must be a date (YYYY-MM-DD).") % {"field": self.label}
                ) from None
        if self.type == choices.CustomFieldType.CHOICE:
            if str(value) not in [str(c) for c in self.choices]:
                raise ValidationError(
                    _("%(field)s must be one of: %(choices)s.")
                    % {"field": self.label, "choices": ", ".join(map(str, self.choices))}
                )
            return str(value)
        text = str(value)
        if len(text) > 500:
            raise ValidationError(
                _("%(field)s is longer than 500 characters.") % {"field": self.label}
            )
        return text


class Customer(TimeStampedModel):
    """One actual or potential customer: a person or an organization. Organizations form
    groups through `parent`; group totals add up the subsidiaries."""

    customer_path = ""
    audited = True

    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(
        _("kind"), max_length=12, choices=choices.CustomerKind, default=choices.CustomerKind.PERSON
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True, db_index=True)
    # Indexed too: the store and hotline pop-up finds a customer by either number.
    phone2 = models.CharField(_("other phone"), max_length=30, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    email2 = models.EmailField(_("other e-mail"), blank=True)
    card_number = models.CharField(_("membership card"), max_length=40, blank=True, db_index=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=choices.Gender, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=choices.OrganizationSize, blank=True)
    annual_demand = models.DecimalField(
        _("declared annual demand"),
        max_digits=16,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    demand_unit = models.CharField(_("demand unit"), max_length=20, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=choices.CustomerSource, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=choices.CustomerStatus,
        default=choices.CustomerStatus.PROSPECT,
        db_index=True,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    team = models.ForeignKey(
        "core.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subsidiaries",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    do_not_disturb = models.BooleanField(_("do not disturb"), default=False)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["province", "city"]),
            models.Index(fields=["city", "status", "id"], name="customer_city_status"),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        errors = {}
        if self.kind == choices.CustomerKind.ORGANIZATION and self.birthday:
            errors["birthday"] = _("Organizations have no birthday.")
        if self.kind == choices.CustomerKind.PERSON and self.size:
            errors["size"] = _("Size applies to organizations only.")
        if self.birthday and self.birthday > timezone.localdate():
            errors["birthday"] = _("The birthday is in the future.")
        if self.annual_demand is not None and not self.demand_unit:
            errors["demand_unit"] = _("Give the unit of the declared demand (e.g. t).")
        if self.parent_id:
            if self.pk and self.parent_id == self.pk:
                errors["parent"] = _("A customer cannot be its own parent.")
            elif self.pk and self._would_cycle():
                errors["parent"] = _("This parent would make the group a loop.")
        if errors:
            raise ValidationError(errors)

    def _would_cycle(self) -> bool:
        seen = {self.pk}
        node_id = self.parent_id
        while node_id is not None:
            if node_id in seen:
                return True
            seen.add(node_id)
            node_id = (
                Customer.objects.filter(pk=node_id).values_list("parent_id", flat=True).first()
            )
        return False

    def group_ids(self) -> list[int]:
        """This customer and all its subsidiaries, at any depth (one query per level)."""
        ids = [self.pk]
        frontier = [self.pk]
        while frontier:
            frontier = list(
                Customer.objects.filter(parent_id__in=frontier)
                .exclude(pk__in=ids)
                .values_list("pk", flat=True)
            )
            ids.extend(frontier)
        return ids


class Contact(TimeStampedModel):
    """A person at an organization customer: who decides, who influences, who uses."""

    customer_path = "customer__"
    audited = True

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    phone2 = models.CharField(_("other phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    decision_role = models.CharField(
        _("decision role"), max_length=12, choices=choices.DecisionRole, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["customer", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self):
        return self.name


class Consent(TimeStampedModel):
    """Whether a customer agreed to be contacted on a channel, when and how we learned it."""

    customer_path = "customer__"
    audited = True

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="consents"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=choices.ConsentChannel)
    status = models.CharField(_("status"), max_length=10, choices=choices.ConsentStatus)
    recorded_at = models.DateTimeField(_("when"), default=timezone.now)
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        ordering = ["customer", "channel"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="one_consent_per_channel")
        ]

    def __str__(self):
        return f"{self.customer.code} {self.get_channel_display()}: {self.get_status_display()}"


class Interaction(TimeStampedModel):
    """One touch with a customer on any channel, in or out: the shared contact history
    that every channel reads and writes."""

    customer_path = "customer__"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=choices.InteractionChannel)
    direction = models.CharField(
        _("direction"), max_length=3, choices=choices.Direction, default=choices.Direction.OUTBOUND
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    reached = models.BooleanField(_("reached"), null=True, blank=True)
    intent = models.CharField(_("intent"), max_length=16, choices=choices.Intent, blank=True)
    outcome = models.CharField(_("outcome"), max_length=255, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [models.Index(fields=["customer", "-occurred_at"])]

    def __str__(self):
        return f"{self.get_channel_display()} {self.subject}".strip()

    def clean(self):
        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            raise ValidationError({"contact": _("This contact belongs to another customer.")})


class Feedback(TimeStampedModel):
    """A complaint, suggestion, praise or question from a customer."""

    customer_path = "customer__"

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="feedback"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=choices.FeedbackKind)
    category = models.CharField(_("category"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=choices.FeedbackSource)
    text = models.TextField(_("text"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=choices.FeedbackStatus,
        default=choices.FeedbackStatus.OPEN,
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        indexes = [models.Index(fields=["customer", "-received_at"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:40]}"
