"""Tables for the campaign lists."""

import django_tables2 as tables

from clientele.core.tables import BaseTable

from .models import Campaign, CampaignTarget, Offer, OfferAcceptance, Task, Wave


class OfferTable(BaseTable):
    name = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Offer
        fields = (
            "name",
            "priority",
            "valid_from",
            "valid_until",
            "budget",
            "spent",
            "stock",
            "used",
            "per_customer_limit",
            "active",
        )


class CampaignTable(BaseTable):
    name = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Campaign
        fields = (
            "name",
            "audience_kind",
            "status",
            "starts_at",
            "ends_at",
            "holdout_rate",
            "stop_condition",
            "priority",
            "built_at",
        )


class WaveTable(BaseTable):
    id = tables.Column(linkify=True)
    campaign = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Wave
        fields = (
            "id",
            "campaign",
            "number",
            "day_offset",
            "channel",
            "only_non_responders",
            "evaluate_after_days",
        )


class CampaignTargetTable(BaseTable):
    id = tables.Column(linkify=True)
    customer = tables.Column(linkify=True)
    campaign = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = CampaignTarget
        fields = (
            "id",
            "campaign",
            "customer",
            "in_holdout",
            "built_at",
            "responded_at",
            "converted_at",
        )


class TaskTable(BaseTable):
    id = tables.Column(linkify=True)
    customer = tables.Column(linkify=True)
    campaign = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Task
        fields = (
            "id",
            "campaign",
            "customer",
            "owner",
            "status",
            "last_wave",
            "first_contacted_at",
            "result",
            "handed_to_store",
            "closed_at",
            "closed_via",
        )


class OfferAcceptanceTable(BaseTable):
    id = tables.Column(linkify=True)
    customer = tables.Column(linkify=True)
    offer = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = OfferAcceptance
        fields = ("id", "offer", "customer", "channel", "cost", "accepted_at", "user")
