"""The plan per class: for a class of a classification (ABC "A", tier "vip"...) who owns
the customers, their priority in queues, their benefits (price rate, fee waivers, gifts
by annual volume) and the contact duties owed to them each period; and the duty tasks
those duties create for the right people, period by period."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clientele.core.base import TimeStampedModel
from clientele.customers.choices import InteractionChannel

from .choices import DutyKind, Performer, Period, TaskStatus


class ClassPlan(TimeStampedModel):
    """The marketing and service plan of one class of one classification definition."""

    audited = True

    definition = models.ForeignKey(
        "segmentation.ClassificationDefinition",
        verbose_name=_("classification"),
        on_delete=models.CASCADE,
        related_name="plans",
    )
    class_code = models.CharField(_("class"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    team = models.ForeignKey(
        "core.Team",
        verbose_name=_("owning team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="class_plans",
    )
    priority = models.IntegerField(
        _("priority in queues"),
        default=0,
        help_text=_("Higher goes first in service and workflow queues."),
    )
    price_rate = models.DecimalField(
        _("price rate (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            # xgettext:no-python-format
            "Share of the list price the class pays, e.g. 90 for 10% off; empty: list price."
        ),
    )
    fee_waivers = models.JSONField(
        _("fee waivers"), default=list, blank=True, help_text=_("One waived fee per line.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["definition", "-priority", "class_code"]
        verbose_name = _("class plan")
        verbose_name_plural = _("class plans")
        constraints = [
            models.UniqueConstraint(fields=["definition", "class_code"], name="one_plan_per_class")
        ]

    def __str__(self):
        return self.name

    def class_label(self) -> str:
        return self.definition.label(self.class_code)

    def clean(self):
        if self.definition_id and self.class_code:
            codes = self.definition.class_codes()
            if self.class_code not in codes:
                raise ValidationError(
                    {
                        "class_code": _(
                            "%(definition)s has no class %(code)s (classes: %(codes)s)."
                        )
                        % {
                            "definition": self.definition,
                            "code": self.class_code,
                            "codes": ", ".join(codes),
                        }
                    }
                )


class ContactDuty(models.Model):
    """A contact owed to every customer of the class each period (at least `min_count`
    visits by the account manager a month), or a channel the class must not be contacted
    on (no visits for C customers)."""

    plan = models.ForeignKey(
        ClassPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="duties"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=DutyKind, default=DutyKind.REQUIRED)
    channel = models.CharField(_("channel"), max_length=10, choices=InteractionChannel)
    period = models.CharField(_("period"), max_length=8, choices=Period, default=Period.MONTH)
    min_count = models.PositiveSmallIntegerField(
        _("at least"), default=1, validators=[MinValueValidator(1)]
    )
    performer = models.CharField(
        _("performed by"), max_length=16, choices=Performer, default=Performer.ACCOUNT_MANAGER
    )
    performer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("named performer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    purpose = models.CharField(
        _("purpose"), max_length=200, blank=True, help_text=_("e.g. find the key man")
    )

    class Meta:
        ordering = ["plan", "kind", "period", "channel", "id"]
        verbose_name = _("contact duty")
        verbose_name_plural = _("contact duties")

    def __str__(self):
        if self.kind == DutyKind.FORBIDDEN:
            return str(_("No %(channel)s") % {"channel": self.get_channel_display()})
        return str(
            _("%(count)s x %(channel)s per %(period)s by %(performer)s")
            % {
                "count": self.min_count,
                "channel": self.get_channel_display(),
                "period": self.get_period_display().lower(),
                "performer": self.performer_user
                if self.performer == Performer.USER and self.performer_user_id
                else self.get_performer_display(),
            }
        )

    def clean(self):
        if self.kind == DutyKind.REQUIRED:
            if self.performer == Performer.USER and not self.performer_user_id:
                raise ValidationError({"performer_user": _("Name the user who performs it.")})
            if self.performer != Performer.USER and self.performer_user_id:
                raise ValidationError(
                    {"performer_user": _("Only a duty performed by a named user names one.")}
                )


class VolumeGift(models.Model):
    """A gift for customers of the class whose purchases in the last 12 months reach a
    quantity in a unit (>= 5,000 t: a trip to Europe)."""

    plan = models.ForeignKey(
        ClassPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="gifts"
    )
    min_quantity = models.DecimalField(
        _("from annual quantity"),
        max_digits=16,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0"))],
    )
    unit = models.CharField(_("unit"), max_length=20, help_text=_("The products' unit, e.g. t."))
    gift = models.CharField(_("gift"), max_length=200)
    value = models.DecimalField(
        _("approximate value"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["plan", "unit", "-min_quantity"]
        verbose_name = _("volume gift")
        verbose_name_plural = _("volume gifts")

    def __str__(self):
        return f">= {self.min_quantity.normalize():f} {self.unit}: {self.gift}"


class DutyTask(TimeStampedModel):
    """One duty owed to one customer in one period, assigned to the person who performs
    it. Created in bulk each period (unique per duty, customer and period, so creating
    twice creates once); done when a matching Interaction is recorded, missed when the
    period ends without one.

    A matching Interaction is on the duty's channel, for the customer, inside the period
    (`starts_at` <= occurred_at < `ends_at`, local midnights in UTC) and by the assignee;
    a task without an assignee (a team duty, or a customer without an account manager)
    is fulfilled by any member of `team`, or by anyone when there is no team either."""

    customer_path = "customer__"

    plan = models.ForeignKey(
        ClassPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="tasks"
    )
    duty = models.ForeignKey(
        ContactDuty,
        verbose_name=_("duty"),
        on_delete=models.CASCADE,
        related_name="tasks",
        db_index=False,  # the unique (duty, customer, period_start) serves it
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="duty_tasks",
    )
    # The duty as it was when the task was created: channel and count to fulfil.
    channel = models.CharField(_("channel"), max_length=10, choices=InteractionChannel)
    min_count = models.PositiveSmallIntegerField(_("at least"), default=1)
    period_start = models.DateField(_("period start"))
    due_on = models.DateField(_("due"))
    starts_at = models.DateTimeField(_("period starts"))
    ends_at = models.DateTimeField(_("period ends"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duty_tasks",
    )
    team = models.ForeignKey(
        "core.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duty_tasks",
    )
    status = models.CharField(
        _("status"), max_length=8, choices=TaskStatus, default=TaskStatus.OPEN
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by_interaction = models.ForeignKey(
        "customers.Interaction",
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duty_tasks",
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("duty task")
        verbose_name_plural = _("duty tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["duty", "customer", "period_start"], name="one_duty_task_per_period"
            )
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="dutytask_assignee"),
            models.Index(fields=["period_start", "status"], name="dutytask_period"),
            models.Index(
                fields=["customer", "ends_at"],
                condition=Q(status="open"),
                name="dutytask_open_customer",
            ),
        ]

    def __str__(self):
        return f"{self.duty} · {self.customer} · {self.period_start:%Y-%m-%d}"
