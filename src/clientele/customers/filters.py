"""Filters for the customer lists."""

import django_filters
from django.utils.translation import gettext_lazy as _

from clientele.core.filters import SearchFilterSet
from clientele.core.models import Team, User
from clientele.segmentation.filters import SegmentCustomerFilters

from . import choices
from .models import Consent, Contact, Customer, CustomField, Feedback, Interaction, Tag


class CustomerFilterSet(SearchFilterSet, SegmentCustomerFilters):
    # Prefix matches only: each is served by an index, so a search stays fast with a
    # million customers (a substring match reads the whole table; see
    # docs/benchmarks.md). Users type the start of a name, code or phone.
    search_fields = (
        "code__istartswith",
        "name__startswith",
        "phone__startswith",
        "email__istartswith",
        "card_number__startswith",
    )
    kind = django_filters.ChoiceFilter(choices=choices.CustomerKind.choices, label=_("kind"))
    status = django_filters.ChoiceFilter(choices=choices.CustomerStatus.choices, label=_("status"))
    source = django_filters.ChoiceFilter(choices=choices.CustomerSource.choices, label=_("source"))
    province = django_filters.CharFilter(label=_("province"))
    city = django_filters.CharFilter(label=_("city"))
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.all(), label=_("account manager")
    )
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("team"))
    tag = django_filters.ModelChoiceFilter(
        field_name="tags", queryset=Tag.objects.all(), label=_("tag")
    )
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("created on or after")
    )

    class Meta:
        model = Customer
        fields = []


class ContactFilterSet(SearchFilterSet):
    search_fields = ("name", "phone__startswith", "email__istartswith", "customer__name")
    decision_role = django_filters.ChoiceFilter(
        choices=choices.DecisionRole.choices, label=_("decision role")
    )

    class Meta:
        model = Contact
        fields = []


class ConsentFilterSet(SearchFilterSet):
    search_fields = ("customer__code__istartswith", "customer__name", "source")
    channel = django_filters.ChoiceFilter(
        choices=choices.ConsentChannel.choices, label=_("channel")
    )
    status = django_filters.ChoiceFilter(choices=choices.ConsentStatus.choices, label=_("status"))

    class Meta:
        model = Consent
        fields = []


class InteractionFilterSet(SearchFilterSet):
    search_fields = ("subject", "notes", "customer__code__istartswith", "customer__name")
    channel = django_filters.ChoiceFilter(
        choices=choices.InteractionChannel.choices, label=_("channel")
    )
    direction = django_filters.ChoiceFilter(choices=choices.Direction.choices, label=_("direction"))
    intent = django_filters.ChoiceFilter(choices=choices.Intent.choices, label=_("intent"))
    after = django_filters.DateFilter(
        field_name="occurred_at", lookup_expr="date__gte", label=_("on or after")
    )

    class Meta:
        model = Interaction
        fields = []


class FeedbackFilterSet(SearchFilterSet):
    search_fields = ("text", "category", "customer__code__istartswith", "customer__name")
    kind = django_filters.ChoiceFilter(choices=choices.FeedbackKind.choices, label=_("kind"))
    source = django_filters.ChoiceFilter(choices=choices.FeedbackSource.choices, label=_("source"))
    status = django_filters.ChoiceFilter(choices=choices.FeedbackStatus.choices, label=_("status"))

    class Meta:
        model = Feedback
        fields = []


class TagFilterSet(SearchFilterSet):
    search_fields = ("name", "description")

    class Meta:
        model = Tag
        fields = []


class CustomFieldFilterSet(SearchFilterSet):
    search_fields = ("key", "label", "label_zh")

    class Meta:
        model = CustomField
        fields = ["type"]
