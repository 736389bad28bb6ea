"""REST endpoints of the channels: the outbox and suppressed contacts (read-only: rows are
written by campaigns and workers through the services), and the channel rules."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from clientele.core.api import ScopedViewSet

from .filters import OutboxMessageAPIFilterSet
from .models import ChannelRule, ContactPolicy, OutboxMessage, SuppressionRecord


class OutboxMessageSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = OutboxMessage
        exclude = ["claimed_by", "claimed_until"]
        read_only_fields = [f.name for f in OutboxMessage._meta.fields]


class SuppressionRecordSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = SuppressionRecord
        fields = "__all__"
        read_only_fields = [f.name for f in SuppressionRecord._meta.fields]


class ChannelRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChannelRule
        exclude = ["policy"]

    def create(self, validated_data):
        validated_data["policy"] = ContactPolicy.current()
        return super().create(validated_data)

    def validate_channel(self, value):
        duplicate = ChannelRule.objects.filter(
            policy_id=ContactPolicy.SINGLETON_ID, channel=value
        ).exclude(pk=getattr(self.instance, "pk", None))
        if duplicate.exists():
            raise serializers.ValidationError(_("This channel already has a rule."))
        return value


class OutboxMessageViewSet(ScopedViewSet):
    queryset = OutboxMessage.objects.select_related("customer")
    serializer_class = OutboxMessageSerializer
    http_method_names = ["get", "head", "options"]
    filterset_class = OutboxMessageAPIFilterSet
    search_fields = ["recipient", "dedup_key", "customer__code"]
    ordering_fields = ["id", "due_at", "sent_at", "status"]


class SuppressionRecordViewSet(ScopedViewSet):
    queryset = SuppressionRecord.objects.select_related("customer")
    serializer_class = SuppressionRecordSerializer
    http_method_names = ["get", "head", "options"]
    filterset_fields = ["channel", "reason", "action", "campaign_id", "task_id"]
    search_fields = ["customer__code", "dedup_key"]
    ordering_fields = ["id", "at"]


class ChannelRuleViewSet(ScopedViewSet):
    queryset = ChannelRule.objects.all()
    serializer_class = ChannelRuleSerializer
    filterset_fields = ["channel"]
    ordering_fields = ["id", "channel"]


routes = [
    ("outbox", OutboxMessageViewSet),
    ("suppressions", SuppressionRecordViewSet),
    ("channel-rules", ChannelRuleViewSet),
]
