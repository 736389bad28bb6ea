"""Tables for the outbox, suppression and channel-rule lists."""

import django_tables2 as tables

from clientele.core.tables import BaseTable

from .models import ChannelRule, OutboxMessage, SuppressionRecord


class OutboxMessageTable(BaseTable):
    id = tables.Column(linkify=True)
    customer = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = OutboxMessage
        fields = (
            "id",
            "channel",
            "customer",
            "recipient",
            "subject",
            "status",
            "due_at",
            "sent_at",
            "attempts",
            "delivery_status",
            "campaign_id",
            "error",
        )


class SuppressionRecordTable(BaseTable):
    at = tables.DateTimeColumn(linkify=True)
    customer = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = SuppressionRecord
        fields = ("at", "customer", "channel", "reason", "action", "retry_on", "campaign_id")


class ChannelRuleTable(BaseTable):
    channel = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = ChannelRule
        fields = (
            "channel",
            "max_contacts",
            "window_days",
            "daily_capacity",
            "manager_daily_capacity",
        )
