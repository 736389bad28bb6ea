"""The outbox (every outgoing message is a row before it is sent), the contact policy
(consent, do-not-disturb, frequency caps, quiet hours, daily capacity) and the record of
every contact the policy suppressed."""

import datetime

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientele.core.base import TimeStampedModel

from .choices import Channel, DeliveryStatus, MessageStatus, SuppressionAction, SuppressionReason


class OutboxMessage(TimeStampedModel):
    """One message to one customer on one channel, written before anything is sent.

    `dedup_key` is unique (campaigns use task:wave:channel), so enqueueing twice inserts
    once; it is also the idempotency key handed to the provider, so a retry after a crash
    is recognised by the provider instead of sending again. A worker claims a row by moving
    it to `sending` with a lease (`claimed_by`, `claimed_until`); a lease that runs out puts
    the row back to `pending`. All times are UTC."""

    customer_path = "customer__"

    channel = models.CharField(_("channel"), max_length=12, choices=Channel)
    # Indexed by the (customer, channel, due_at) index below, which also serves deletes.
    # No database-level key: a wave writes hundreds of thousands of rows, and checking each
    # at commit took longer than writing it; the ORM cascades (docs/decisions.md).
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="outbox_messages",
        db_index=False,
        db_constraint=False,
    )
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    # Unique by the constraint below, not unique=True, which on PostgreSQL adds a second
    # index for LIKE searches: the largest index of the table, for a search nobody needs.
    dedup_key = models.CharField(_("deduplication key"), max_length=200)
    # Plain ids rather than foreign keys: campaigns are built on top of the outbox, and the
    # closed loop cancels by task id without the outbox knowing what a task is.
    campaign_id = models.BigIntegerField(_("campaign"), null=True, blank=True)
    task_id = models.BigIntegerField(_("task"), null=True, blank=True)
    wave = models.PositiveSmallIntegerField(_("wave"), null=True, blank=True)
    marketing = models.BooleanField(
        _("marketing"),
        default=True,
        help_text=_("Marketing messages obey consent, caps and quiet hours; service ones do not."),
    )
    priority = models.SmallIntegerField(_("priority"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus, default=MessageStatus.PENDING
    )
    # When the contact is planned: frequency caps and daily capacity count this, whatever
    # retries later do to next_attempt_at.
    due_at = models.DateTimeField(_("due"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_by = models.CharField(_("claimed by"), max_length=100, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivery_status = models.CharField(
        _("delivery status"), max_length=12, choices=DeliveryStatus, blank=True
    )
    delivered_at = models.DateTimeField(_("delivery reported"), null=True, blank=True)
    delivery_detail = models.CharField(_("delivery detail"), max_length=500, blank=True)
    error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        constraints = [models.UniqueConstraint(fields=["dedup_key"], name="outbox_dedup_key")]
        indexes = [
            # The claim query: only pending rows, in due order; partial so it stays small
            # however many millions of sent rows pile up.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="outbox_pending_due",
            ),
            # Lease recovery: rows whose worker died.
            models.Index(
                fields=["claimed_until"], condition=Q(status="sending"), name="outbox_leases"
            ),
            # Frequency caps and capacity for a few customers, and cascade deletes.
            models.Index(fields=["customer", "channel", "due_at"], name="outbox_customer"),
            # Frequency caps and capacity over a whole channel (the big path).
            models.Index(fields=["channel", "due_at"], name="outbox_channel_due"),
            # Measurement reads a campaign's messages, the closed loop a task's (its
            # campaign leads: every caller knows it, see `for_task`). One index for
            # both, where two cost 0.85 s more per 700,000 messages a wave writes.
            models.Index(
                fields=["campaign_id", "task_id", "wave"],
                condition=Q(campaign_id__isnull=False),
                name="outbox_campaign_task",
            ),
            # Delivery receipts name the provider's id.
            models.Index(
                fields=["provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="outbox_provider_id",
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} {self.recipient} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("channels:outboxmessage_detail", args=[self.pk])


class ContactPolicy(models.Model):
    """How often, when and whether customers may be contacted for marketing. There is one
    policy (the organization's); per-channel caps and capacities are its ChannelRules.

    Frequency caps count marketing contacts in the outbox (pending, sending or sent) whose
    due time lies within `window_days` either side of the new contact, so a wave already
    scheduled for tomorrow counts as much as yesterday's message."""

    SINGLETON_ID = 1

    require_opt_in = models.BooleanField(
        _("require opt-in"),
        default=False,
        help_text=_(
            "Contact only customers who opted in on the channel; otherwise everyone who "
            "has not opted out."
        ),
    )
    quiet_hours_start = models.TimeField(
        _("quiet hours start"),
        null=True,
        blank=True,
        default=datetime.time(21, 0),
        help_text=_("Local time (the organization's time zone); empty for no quiet hours."),
    )
    quiet_hours_end = models.TimeField(
        _("quiet hours end"), null=True, blank=True, default=datetime.time(8, 0)
    )
    max_contacts = models.PositiveIntegerField(
        _("contacts per window, all channels"),
        null=True,
        blank=True,
        default=4,
        help_text=_("Empty for no global cap."),
    )
    window_days = models.PositiveSmallIntegerField(
        _("window (days)"), default=7, validators=[MinValueValidator(1)]
    )
    max_campaigns_per_day = models.PositiveSmallIntegerField(
        _("campaigns per customer per day"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("When more campaigns compete for a customer on one day, priority decides."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact policy")
        verbose_name_plural = _("contact policies")

    def __str__(self):
        return str(_("Contact policy"))

    def get_absolute_url(self):
        return reverse("channels:contactpolicy_detail", args=[self.pk])

    @classmethod
    def current(cls) -> "ContactPolicy":
        """The organization's policy, created with the default rules on first use (at most
        two marketing SMS and one call a week)."""
        policy, created = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        if created:
            ChannelRule.objects.bulk_create(
                [
                    ChannelRule(policy=policy, channel=Channel.SMS, max_contacts=2),
                    ChannelRule(policy=policy, channel=Channel.CALL_LIST, max_contacts=1),
                ],
                ignore_conflicts=True,
            )
        return policy

    def rule_for(self, channel: str) -> "ChannelRule | None":
        return self.rules.filter(channel=channel).first()


class ChannelRule(models.Model):
    """The policy for one channel: a frequency cap and daily capacities (of the gateway, the
    call centre, and each account manager's calls)."""

    policy = models.ForeignKey(
        ContactPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="rules"
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel)
    max_contacts = models.PositiveIntegerField(
        _("contacts per window"), null=True, blank=True, help_text=_("Empty for no cap.")
    )
    window_days = models.PositiveSmallIntegerField(
        _("window (days)"), default=7, validators=[MinValueValidator(1)]
    )
    daily_capacity = models.PositiveIntegerField(
        _("daily capacity"),
        null=True,
        blank=True,
        help_text=_("Contacts per day on this channel; empty for unlimited."),
    )
    manager_daily_capacity = models.PositiveIntegerField(
        _("daily capacity per account manager"),
        null=True,
        blank=True,
        help_text=_("Contacts per day for each account manager's customers (call lists)."),
    )

    class Meta:
        ordering = ["channel"]
        verbose_name = _("channel rule")
        verbose_name_plural = _("channel rules")
        constraints = [
            models.UniqueConstraint(fields=["policy", "channel"], name="one_rule_per_channel")
        ]

    def __str__(self):
        return str(self.get_channel_display())

    def get_absolute_url(self):
        return reverse("channels:channelrule_detail", args=[self.pk])


class SuppressionRecord(models.Model):
    """One contact the policy did not make, and why: written in bulk by admissions,
    arbitration and the dispatcher's last check before sending."""

    customer_path = "customer__"

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="suppressions",
        db_constraint=False,  # written in bulk with the outbox; the ORM cascades
    )
    # Empty when the contact lost an arbitration between campaigns rather than a channel.
    channel = models.CharField(_("channel"), max_length=12, choices=Channel, blank=True)
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason)
    action = models.CharField(
        _("action"), max_length=8, choices=SuppressionAction, default=SuppressionAction.DROPPED
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    campaign_id = models.BigIntegerField(_("campaign"), null=True, blank=True)
    task_id = models.BigIntegerField(_("task"), null=True, blank=True)
    dedup_key = models.CharField(_("deduplication key"), max_length=200, blank=True)
    retry_on = models.DateField(_("retry on"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("suppressed contact")
        verbose_name_plural = _("suppressed contacts")
        indexes = [
            models.Index(
                fields=["campaign_id", "reason"],
                condition=Q(campaign_id__isnull=False),
                name="suppression_campaign",
            ),
            models.Index(fields=["at"], name="suppression_at"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()}: {self.get_reason_display()}"

    def get_absolute_url(self):
        return reverse("channels:suppressionrecord_detail", args=[self.pk])
