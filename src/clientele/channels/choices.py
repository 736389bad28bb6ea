"""Choices of the channels domain, with English and Chinese labels through gettext."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Where an outbox message goes. Call lists and mail exports are channels too: a row in
    the outbox is what puts a customer on an account manager's list or a print shop's file."""

    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")
    CALL_LIST = "call_list", _("Call list")
    MAIL_EXPORT = "mail_export", _("Direct mail export")


class MessageStatus(models.TextChoices):
    """The sending pipeline: pending -> sending (claimed by a worker under a lease) -> sent,
    or failed (permanent error or too many attempts), cancelled (closed loop) or
    suppressed (the contact policy stopped it at send time)."""

    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    SUPPRESSED = "suppressed", _("Suppressed")


class DeliveryStatus(models.TextChoices):
    """What the provider reported after the hand-over (delivery receipts, bounces)."""

    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Undelivered")
    BOUNCED = "bounced", _("Bounced")
    REJECTED = "rejected", _("Rejected by the provider")


class SuppressionReason(models.TextChoices):
    """Why a contact was not made; every suppressed contact is recorded with one."""

    OPTED_OUT = "opted_out", _("Opted out")
    NO_CONSENT = "no_consent", _("No consent")
    DO_NOT_DISTURB = "do_not_disturb", _("Do not disturb")
    NO_ADDRESS = "no_address", _("No address for the channel")
    FREQUENCY_CAP = "frequency_cap", _("Frequency cap reached")
    CAPACITY = "capacity", _("Daily capacity reached")
    ARBITRATION = "arbitration", _("Lost arbitration to another campaign")


class SuppressionAction(models.TextChoices):
    """What happened to the suppressed contact: dropped, or waiting for a later day."""

    DROPPED = "dropped", _("Dropped")
    WAITING = "waiting", _("Waiting for a later day")


# The consent channel (customers.Consent.channel) that governs each outbox channel.
CONSENT_CHANNEL = {
    Channel.SMS: "sms",
    Channel.EMAIL: "email",
    Channel.CALL_LIST: "phone",
    Channel.MAIL_EXPORT: "mail",
    Channel.WEBHOOK: "app",
}

# The customer field that holds the address for each channel; the webhook's recipient is
# an identifier in the receiving system, supplied by the caller.
ADDRESS_FIELD = {
    Channel.SMS: "phone",
    Channel.EMAIL: "email",
    Channel.CALL_LIST: "phone",
    Channel.MAIL_EXPORT: "address",
}

# The Interaction channel a sent message is recorded under on the customer's timeline.
# A call-list item is not a contact yet: the account manager records the call itself.
INTERACTION_CHANNEL = {
    Channel.SMS: "sms",
    Channel.EMAIL: "email",
    Channel.MAIL_EXPORT: "letter",
    Channel.WEBHOOK: "web",
}
