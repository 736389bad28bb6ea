"""Choices of the campaigns domain, with English and Chinese labels through gettext."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OfferChannel(models.TextChoices):
    """Where an offer may be presented or accepted: the outbox channels plus the channels
    where a person presents it live (store and hotline pop-up, the web offer zone)."""

    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    CALL_LIST = "call_list", _("Call list")
    MAIL_EXPORT = "mail_export", _("Direct mail")
    STORE = "store", _("Store")
    HOTLINE = "hotline", _("Hotline")
    WEB = "web", _("Web offer zone")


# The Interaction channel a result recorded in each offer channel goes under.
INTERACTION_CHANNEL = {
    OfferChannel.SMS: "sms",
    OfferChannel.EMAIL: "email",
    OfferChannel.CALL_LIST: "phone",
    OfferChannel.MAIL_EXPORT: "letter",
    OfferChannel.STORE: "store",
    OfferChannel.HOTLINE: "hotline",
    OfferChannel.WEB: "web",
}


class AudienceKind(models.TextChoices):
    """Who a campaign targets: a segment at a moment (built once), or a trigger that adds
    customers as their event happens (checked by the periodic job)."""

    SEGMENT = "segment", _("Segment at a moment")
    BIRTHDAY = "birthday", _("Birthday")
    HOLIDAY = "holiday", _("Holiday date")
    TIER_UPGRADE = "tier_upgrade", _("Tier upgrade")
    CLASS_CHANGE = "class_change", _("Class change")
    FIRST_ORDER = "first_order", _("N days after the first order")
    AT_RISK = "at_risk", _("At-risk warning")


TRIGGER_KINDS = {
    AudienceKind.BIRTHDAY,
    AudienceKind.HOLIDAY,
    AudienceKind.TIER_UPGRADE,
    AudienceKind.CLASS_CHANGE,
    AudienceKind.FIRST_ORDER,
    AudienceKind.AT_RISK,
}


class CampaignStatus(models.TextChoices):
    # Contexts: "Active" and "Finished" also name a lifecycle class and a run's end time,
    # which Chinese words differently.
    DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
    ACTIVE = "active", pgettext_lazy("campaign status", "Active")
    PAUSED = "paused", pgettext_lazy("campaign status", "Paused")
    FINISHED = "finished", pgettext_lazy("campaign status", "Finished")


class StopCondition(models.TextChoices):
    """What ends a target's task everywhere (the closed loop)."""

    ORDER = "order", _("An order")
    OFFER_ACCEPTED = "offer_accepted", _("Acceptance of the offer")
    VISIT = "visit", _("A visit")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskResult(models.TextChoices):
    """The outcome recorded for a task, in whichever channel."""

    REACHED = "reached", _("Reached")
    NOT_REACHED = "not_reached", _("Not reached")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    HANDED_OVER = "handed_over", _("Handed over to a store")
    CONVERTED = "converted", _("Ordered")
    VISITED = "visited", _("Visited")


# Results that end a task; the others (reached, not reached, handed over) leave it open
# for another attempt or another channel.
CLOSING_RESULTS = {
    TaskResult.ACCEPTED,
    TaskResult.DECLINED,
    TaskResult.CONVERTED,
    TaskResult.VISITED,
}

# Merge fields a wave template may use.
MERGE_FIELDS = ("name", "code", "offer", "coupon", "manager", "campaign", "unsubscribe")
MAX_WAVES = 5
