"""Offers (retention policies), campaigns with their waves and holdout, the targets a
campaign was built for, the task per treated target that every channel sees, and the
acceptances that close the loop.

Limits are enforced by the database (principle 6): an offer's budget and stock move by
conditional UPDATEs, an acceptance is one row under a unique constraint, and a task is
closed by an UPDATE that only succeeds while it is open, so whichever channel comes first
wins and the others see it done."""

import string
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientele.channels.choices import Channel
from clientele.core.base import TimeStampedModel

from .choices import (
    MAX_WAVES,
    MERGE_FIELDS,
    AudienceKind,
    CampaignStatus,
    OfferChannel,
    StopCondition,
    TaskResult,
    TaskStatus,
)


def _check_expression(expression, field: str) -> None:
    """Refuse a segment expression the rules compiler cannot evaluate, naming the clause."""
    if expression in (None, {}, ""):
        return
    from clientele.segmentation import rules

    errors = rules.validate(expression)
    if errors:
        raise ValidationError({field: [str(error) for error in errors]})


def _check_channels(values, allowed, field: str) -> None:
    if not isinstance(values, list) or any(value not in allowed for value in values):
        raise ValidationError(
            {field: _("Choose from: %(choices)s.") % {"choices": ", ".join(allowed)}}
        )


def template_fields(text: str) -> set[str]:
    """The merge fields ({name}, {offer}...) a template uses."""
    try:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}
    except ValueError as error:
        raise ValidationError(
            _("The template is malformed: %(error)s") % {"error": error}
        ) from None


class OfferQuerySet(models.QuerySet):
    def presentable(self, at=None):
        """Offers that may be presented now: active, inside their validity window, with
        budget and stock left for one more acceptance. The channel (a JSON list, which
        SQLite cannot search), eligibility, per-customer limits and exclusions are checked
        per customer by offer_view.Catalogue.choose."""
        at = at or timezone.now()
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=at),
            Q(valid_until__isnull=True) | Q(valid_until__gt=at),
            Q(budget__isnull=True) | Q(spent__lte=F("budget") - F("cost")),
            Q(stock__isnull=True) | Q(used__lt=F("stock")),
            active=True,
        )


class Offer(TimeStampedModel):
    """A retention policy: what is offered (and what to say), to whom (`eligibility`, a
    segment expression, e.g. "prepay 168, get 504" only for customers on the 96 plan),
    when, through which channels, and within what budget or stock. Each acceptance costs
    `cost` from the budget and one unit of stock; once either runs out the offer is no
    longer presented anywhere."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    script = models.TextField(
        _("script"), blank=True, help_text=_("What to say when presenting the offer.")
    )
    eligibility = models.JSONField(
        _("eligibility"),
        null=True,
        blank=True,
        help_text=_("A segment expression; empty: every customer."),
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    budget = models.DecimalField(
        _("budget"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Total amount the acceptances may cost; empty: no budget limit."),
    )
    cost = models.DecimalField(
        _("cost per acceptance"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    spent = models.DecimalField(
        _("spent"), max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Units available; empty: unlimited.")
    )
    used = models.PositiveIntegerField(_("used"), default=0, editable=False)
    per_customer_limit = models.PositiveSmallIntegerField(
        _("limit per customer"), default=1, validators=[MinValueValidator(1)]
    )
    channels = models.JSONField(
        _("channels"),
        default=list,
        blank=True,
        help_text=_(
            "Where the offer may be presented (sms, email, call_list, mail_export, store, "
            "hotline, web); empty: everywhere."
        ),
    )
    priority = models.SmallIntegerField(
        _("priority"), default=0, help_text=_("Higher first when offers are listed.")
    )
    excludes = models.ManyToManyField(
        "self",
        verbose_name=_("excludes"),
        symmetrical=True,
        blank=True,
        help_text=_("Offers not presented together with this one."),
    )
    active = models.BooleanField(_("active"), default=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "name"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        indexes = [models.Index(fields=["active", "-priority"], name="offer_active")]
        constraints = [
            # The conditional UPDATE keeps these true; the database refuses anything else.
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(spent__lte=F("budget")),
                name="offer_within_budget",
            ),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(used__lte=F("stock")),
                name="offer_within_stock",
            ),
        ]

    def __str__(self):
        return self.name

    def allows(self, channel: str | None) -> bool:
        """Whether the offer may be presented on `channel` (no channels listed: anywhere)."""
        return not channel or not self.channels or channel in self.channels

    def clean(self):
        _check_expression(self.eligibility, "eligibility")
        _check_channels(self.channels, OfferChannel.values, "channels")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": _("The end must come after the start.")})

    @property
    def budget_left(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.spent

    @property
    def stock_left(self) -> int | None:
        return None if self.stock is None else self.stock - self.used


class Campaign(TimeStampedModel):
    """Offers brought to an audience through channels in waves, with a stable random
    holdout that is never contacted and measured all the same."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    audience_kind = models.CharField(
        _("audience"), max_length=16, choices=AudienceKind, default=AudienceKind.SEGMENT
    )
    segment = models.JSONField(
        _("segment"),
        null=True,
        blank=True,
        help_text=_(
            "A segment expression: the audience, or (for triggers) who the trigger applies "
            "to. Empty: every customer."
        ),
    )
    audience_at = models.DateTimeField(
        _("segment as of"), null=True, blank=True, help_text=_("Empty: when the campaign starts.")
    )
    holiday = models.DateField(_("holiday"), null=True, blank=True)
    class_definition = models.ForeignKey(
        "segmentation.ClassificationDefinition",
        verbose_name=_("classification"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_class = models.CharField(_("to class"), max_length=40, blank=True)
    days_after_first_order = models.PositiveSmallIntegerField(
        _("days after the first order"), null=True, blank=True
    )
    offers = models.ManyToManyField(
        Offer, verbose_name=_("offers"), blank=True, related_name="campaigns"
    )
    channels = models.JSONField(
        _("channels"),
        default=list,
        blank=True,
        help_text=_(
            "Where the campaign's tasks are worked (call_list, store, hotline, web...); "
            "waves name their own message channel."
        ),
    )
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    holdout_rate = models.DecimalField(
        _("holdout rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.9"))],
        help_text=_("Share of the audience never contacted, to measure against (0.10 = 10%)."),
    )
    budget = models.DecimalField(
        _("budget"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    cost_per_contact = models.DecimalField(
        _("cost per contact"),
        max_digits=10,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    spent = models.DecimalField(
        _("spent"), max_digits=16, decimal_places=4, default=Decimal("0"), editable=False
    )
    stop_condition = models.CharField(
        _("stop condition"),
        max_length=16,
        choices=StopCondition,
        default=StopCondition.OFFER_ACCEPTED,
    )
    priority = models.SmallIntegerField(
        _("priority"),
        default=0,
        help_text=_("When campaigns compete for a customer on one day, the higher wins."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus, default=CampaignStatus.DRAFT
    )
    built_at = models.DateTimeField(_("built"), null=True, blank=True, editable=False)
    checked_until = models.DateTimeField(
        _("triggers checked until"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [models.Index(fields=["status", "stop_condition"], name="campaign_status")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        try:
            _check_expression(self.segment, "segment")
        except ValidationError as error:
            errors.update(error.message_dict)
        try:
            _check_channels(self.channels, OfferChannel.values, "channels")
        except ValidationError as error:
            errors.update(error.message_dict)
        kind = self.audience_kind
        if kind == AudienceKind.HOLIDAY and not self.holiday:
            errors["holiday"] = _("Give the holiday's date.")
        if kind == AudienceKind.CLASS_CHANGE:
            if not self.class_definition_id:
                errors["class_definition"] = _("Choose the classification.")
            elif not self.to_class:
                errors["to_class"] = _("Give the class customers move into.")
            elif self.to_class not in self.class_definition.class_codes():
                errors["to_class"] = _("%(definition)s has no class %(code)s.") % {
                    "definition": self.class_definition,
                    "code": self.to_class,
                }
        if kind == AudienceKind.FIRST_ORDER and self.days_after_first_order is None:
            errors["days_after_first_order"] = _("Give the number of days.")
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end must come after the start.")
        if errors:
            raise ValidationError(errors)

    @property
    def contacts_left(self) -> int | None:
        """How many more contacts the budget pays for (None: no limit)."""
        if self.budget is None or not self.cost_per_contact:
            return None
        return max(0, int((self.budget - self.spent) // self.cost_per_contact))


class Wave(TimeStampedModel):
    """One step of a campaign: on day `day_offset` after a customer became a target, a
    message on `channel`. The template uses merge fields ({name}, {offer}, {coupon}...);
    `variants` maps a product category code to another template, chosen by the category
    the customer bought most from. A wave for non-responders skips customers who responded
    since the campaign reached them; each wave is evaluated `evaluate_after_days` after."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="waves"
    )
    number = models.PositiveSmallIntegerField(
        _("number"), validators=[MinValueValidator(1), MaxValueValidator(MAX_WAVES)]
    )
    day_offset = models.PositiveSmallIntegerField(_("day"), default=0)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    template = models.TextField(
        _("template"),
        help_text=_(
            "Merge fields: {name}, {code}, {offer}, {coupon}, {manager}, {campaign}, {unsubscribe}."
        ),
    )
    variants = models.JSONField(
        _("variants by category"),
        default=dict,
        blank=True,
        help_text=_('Category code to template: {"BABY": "..."}.'),
    )
    only_non_responders = models.BooleanField(_("only non-responders"), default=False)
    evaluate_after_days = models.PositiveSmallIntegerField(_("evaluate after (days)"), default=10)

    class Meta:
        ordering = ["campaign", "number"]
        verbose_name = _("wave")
        verbose_name_plural = _("waves")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="one_wave_number"),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=MAX_WAVES), name="wave_number_range"
            ),
        ]

    def __str__(self):
        return f"{self.campaign} #{self.number}"

    def clean(self):
        errors = {}
        if not isinstance(self.variants, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in self.variants.items()
        ):
            errors["variants"] = _("Give an object of category code to template text.")
        templates = {"template": self.template or "", "subject": self.subject or ""}
        if "variants" not in errors:
            templates |= {f"variants.{key}": value for key, value in self.variants.items()}
        for field, text in templates.items():
            try:
                unknown = template_fields(text) - set(MERGE_FIELDS)
            except ValidationError as error:
                errors.setdefault(field.split(".")[0], []).extend(error.messages)
                continue
            if unknown:
                errors.setdefault(field.split(".")[0], []).append(
                    _("Unknown merge field %(fields)s in %(where)s.")
                    % {"fields": ", ".join(sorted(unknown)), "where": field}
                )
        if errors:
            raise ValidationError(errors)


class CampaignTarget(models.Model):
    """One customer in a campaign's audience, treated or in the holdout, with what
    measurement needs: when the customer responded and converted (revenue after contact
    comes from the orders; the waves sent are the outbox rows; when a treated customer
    was first contacted is on the task, which every wave updates anyway, so a wave writes
    no target row). Nothing here is indexed but the keys, so a response's update stays a
    cheap heap-only update on PostgreSQL."""

    customer_path = "customer__"

    # No database-level foreign keys on the bulk-written targets and tasks (as on the
    # classification snapshots): a campaign writes a million of each at once, and the
    # per-row constraint trigger (deferred to the commit on PostgreSQL) took longer than
    # the inserts themselves. Rows are only written for existing customers and campaigns
    # (they come from joins), and deleting a customer, campaign or user still cascades
    # (or sets null) through the ORM.
    # Indexed by the (campaign, customer) constraint.
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="targets",
        db_index=False,
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="campaign_targets",
        db_constraint=False,
    )
    in_holdout = models.BooleanField(_("in holdout"), default=False)
    built_at = models.DateTimeField(_("targeted"), default=timezone.now)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)

    class Meta:
        ordering = ["campaign", "customer"]
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        # Every read of targets names the campaign (the holdout split, measurement, the
        # task insert): the unique index serves them all, so a build of a million
        # targets maintains no index beyond it, the key and the customer's.
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="one_target_per_campaign")
        ]

    def __str__(self):
        return f"{self.campaign} · {self.customer_id}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("campaigns:campaigntarget_detail", args=[self.pk])


class Task(TimeStampedModel):
    """One treated target's task, visible to every channel at once: the account manager's
    call list, the store and hotline pop-up, the web offer zone; messages queued for it
    carry its id. Closing it (`close_everywhere`) ends it in every channel."""

    customer_path = "customer__"

    # Indexed by the partial (campaign, id) index and the (customer, status) index.
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="tasks",
        db_index=False,
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="campaign_tasks",
        db_index=False,
        db_constraint=False,
    )
    target = models.OneToOneField(
        CampaignTarget,
        verbose_name=_("target"),
        on_delete=models.CASCADE,
        related_name="task",
        db_constraint=False,
    )
    # Tasks are written a million at a time: only the indexes the call list, the closed
    # loop and the waves read are kept (the partial (owner, campaign) index serves the
    # call list; a deleted user or offer is rare enough to find its tasks by a scan).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaign_tasks",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus, default=TaskStatus.OPEN
    )
    last_wave = models.PositiveSmallIntegerField(_("last wave"), default=0)
    # Set in the same update that moves the task to the next wave: a million-target wave
    # then writes no target row (it was 1.5 s of the benchmark's wave).
    first_contacted_at = models.DateTimeField(_("first contacted"), null=True, blank=True)
    wait_until = models.DateField(
        _("next wave not before"),
        null=True,
        blank=True,
        help_text=_("Set when the contact policy made the wave wait (capacity, arbitration)."),
    )
    result = models.CharField(_("result"), max_length=12, choices=TaskResult, blank=True)
    reached = models.BooleanField(_("reached"), null=True, blank=True)
    intent = models.CharField(_("intent"), max_length=16, blank=True)
    handed_to_store = models.CharField(_("handed over to store"), max_length=100, blank=True)
    offer = models.ForeignKey(
        Offer,
        verbose_name=_("accepted offer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    notes = models.TextField(_("notes"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_via = models.CharField(_("closed in"), max_length=12, choices=OfferChannel, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        # One task per campaign and customer follows from one task per target and one
        # target per campaign and customer; a unique index of its own cost a tenth of a
        # million-task build.
        indexes = [
            models.Index(fields=["customer", "status"], name="task_customer"),
            models.Index(
                fields=["owner", "campaign"], condition=Q(status="open"), name="task_open_owner"
            ),
            # Waves walk a campaign's open tasks in id order. last_wave is deliberately
            # not indexed: moving a task to the next wave is then a heap-only update.
            models.Index(
                fields=["campaign", "id"], condition=Q(status="open"), name="task_open_campaign"
            ),
        ]

    def __str__(self):
        return f"{self.campaign} · {self.customer}"

    def close_everywhere(
        self,
        result: str,
        *,
        channel: str,
        user=None,
        offer=None,
        notes: str = "",
        intent: str = "",
        at=None,
        record_interaction: bool = True,
    ) -> bool:
        """End the task in every channel: see services.close_task. True if this call
        closed it, False if it was closed already (another channel came first)."""
        from .services import close_task

        return close_task(
            self,
            result,
            channel=channel,
            user=user,
            offer=offer,
            notes=notes,
            intent=intent,
            at=at,
            record_interaction=record_interaction,
        )


class OfferAcceptance(models.Model):
    """A customer took an offer. `sequence` counts the customer's acceptances of the offer
    (1 up to the offer's per-customer limit) and (offer, customer, sequence) is unique,
    so two channels accepting at the same moment write one row: the second insert fails."""

    customer_path = "customer__"

    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.PROTECT, related_name="acceptances"
    )
    # Indexed by the (customer, offer) index.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="offer_acceptances",
        db_index=False,
    )
    sequence = models.PositiveSmallIntegerField(_("sequence"), default=1)
    task = models.ForeignKey(
        Task,
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="acceptances",
    )
    channel = models.CharField(_("channel"), max_length=12, choices=OfferChannel)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, default=Decimal("0"))
    accepted_at = models.DateTimeField(_("accepted"), default=timezone.now)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        verbose_name = _("offer acceptance")
        verbose_name_plural = _("offer acceptances")
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "customer", "sequence"], name="one_acceptance_per_slot"
            )
        ]
        indexes = [models.Index(fields=["customer", "offer"], name="acceptance_customer")]

    def __str__(self):
        return f"{self.offer} · {self.customer_id}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("campaigns:offeracceptance_detail", args=[self.pk])
