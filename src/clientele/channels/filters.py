"""Filters for the outbox, suppression and channel-rule lists."""

import django_filters
from django.utils.translation import gettext_lazy as _

from clientele.core.filters import SearchFilterSet

from .choices import Channel, DeliveryStatus, MessageStatus, SuppressionAction, SuppressionReason
from .models import ChannelRule, OutboxMessage, SuppressionRecord
from .services import for_task


def _messages_of_task(queryset, name, value):
    return for_task(queryset, int(value)) if value is not None else queryset


class OutboxMessageFilterSet(SearchFilterSet):
    search_fields = (
        "customer__code__istartswith",
        "recipient__startswith",
        "dedup_key",  # exact: the unique index serves it (no LIKE index on this table)
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices, label=_("status"))
    delivery_status = django_filters.ChoiceFilter(
        choices=DeliveryStatus.choices, label=_("delivery status")
    )
    campaign_id = django_filters.NumberFilter(label=_("campaign"))
    task_id = django_filters.NumberFilter(label=_("task"), method=_messages_of_task)
    due_after = django_filters.DateFilter(
        field_name="due_at", lookup_expr="date__gte", label=_("due on or after")
    )

    class Meta:
        model = OutboxMessage
        fields = []


class OutboxMessageAPIFilterSet(django_filters.FilterSet):
    """The API's outbox filters: exact fields, the task through its campaign (`for_task`)."""

    task_id = django_filters.NumberFilter(method=_messages_of_task)

    class Meta:
        model = OutboxMessage
        fields = ["channel", "status", "delivery_status", "campaign_id", "task_id", "wave"]


class SuppressionRecordFilterSet(SearchFilterSet):
    search_fields = ("customer__code__istartswith", "dedup_key__startswith")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    reason = django_filters.ChoiceFilter(choices=SuppressionReason.choices, label=_("reason"))
    action = django_filters.ChoiceFilter(choices=SuppressionAction.choices, label=_("action"))
    campaign_id = django_filters.NumberFilter(label=_("campaign"))
    after = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label=_("on or after")
    )

    class Meta:
        model = SuppressionRecord
        fields = []


class ChannelRuleFilterSet(SearchFilterSet):
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))

    class Meta:
        model = ChannelRule
        fields = []
