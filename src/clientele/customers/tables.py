"""Tables for the customer lists."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from clientele.core.tables import BaseTable

from .models import Consent, Contact, Customer, CustomField, Feedback, Interaction, Tag


class CustomerTable(BaseTable):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    owner = tables.Column(verbose_name=_("account manager"))

    class Meta(BaseTable.Meta):
        model = Customer
        fields = (
            "code",
            "name",
            "kind",
            "status",
            "phone",
            "city",
            "source",
            "owner",
            "team",
            "created_at",
        )


class ContactTable(BaseTable):
    name = tables.Column(linkify=True)
    customer = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Contact
        fields = ("name", "customer", "title", "decision_role", "phone", "email")


class ConsentTable(BaseTable):
    customer = tables.Column(linkify=True)
    channel = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Consent
        fields = ("customer", "channel", "status", "recorded_at", "source")


class InteractionTable(BaseTable):
    occurred_at = tables.DateTimeColumn(linkify=True)
    customer = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Interaction
        fields = (
            "occurred_at",
            "customer",
            "channel",
            "direction",
            "subject",
            "reached",
            "intent",
            "user",
        )


class FeedbackTable(BaseTable):
    received_at = tables.DateTimeColumn(linkify=True)
    customer = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Feedback
        fields = ("received_at", "customer", "kind", "category", "source", "status", "text")


class TagTable(BaseTable):
    name = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Tag
        fields = ("name", "description")


class CustomFieldTable(BaseTable):
    key = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = CustomField
        fields = ("key", "label", "label_zh", "type", "required")
