"""Filters for the campaign lists."""

import django_filters
from django.utils.translation import gettext_lazy as _

from clientele.channels.choices import Channel
from clientele.core.filters import SearchFilterSet

from .choices import AudienceKind, CampaignStatus, OfferChannel, TaskResult, TaskStatus
from .models import Campaign, CampaignTarget, Offer, OfferAcceptance, Task, Wave


class OfferFilterSet(SearchFilterSet):
    search_fields = ("name", "description")
    active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = Offer
        fields = []


class CampaignFilterSet(SearchFilterSet):
    search_fields = ("name", "description")
    status = django_filters.ChoiceFilter(choices=CampaignStatus.choices, label=_("status"))
    audience_kind = django_filters.ChoiceFilter(choices=AudienceKind.choices, label=_("audience"))

    class Meta:
        model = Campaign
        fields = []


class WaveFilterSet(SearchFilterSet):
    search_fields = ("campaign__name", "template")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    campaign = django_filters.ModelChoiceFilter(
        queryset=Campaign.objects.all(), label=_("campaign")
    )

    class Meta:
        model = Wave
        fields = []


class CampaignTargetFilterSet(SearchFilterSet):
    search_fields = ("customer__code__istartswith", "customer__name")
    campaign = django_filters.ModelChoiceFilter(
        queryset=Campaign.objects.all(), label=_("campaign")
    )
    in_holdout = django_filters.BooleanFilter(label=_("in holdout"))

    class Meta:
        model = CampaignTarget
        fields = []


class TaskFilterSet(SearchFilterSet):
    search_fields = ("customer__code__istartswith", "customer__name", "campaign__name")
    campaign = django_filters.ModelChoiceFilter(
        queryset=Campaign.objects.all(), label=_("campaign")
    )
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices, label=_("status"))
    result = django_filters.ChoiceFilter(choices=TaskResult.choices, label=_("result"))

    class Meta:
        model = Task
        fields = []


class OfferAcceptanceFilterSet(SearchFilterSet):
    search_fields = ("customer__code__istartswith", "customer__name", "offer__name")
    offer = django_filters.ModelChoiceFilter(queryset=Offer.objects.all(), label=_("offer"))
    channel = django_filters.ChoiceFilter(choices=OfferChannel.choices, label=_("channel"))

    class Meta:
        model = OfferAcceptance
        fields = []
