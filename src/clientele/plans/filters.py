"""Filters of the plan and duty-task lists."""

import django_filters
from django.utils.translation import gettext_lazy as _

from clientele.core.filters import SearchFilterSet
from clientele.customers.choices import InteractionChannel
from clientele.segmentation.models import ClassificationDefinition

from .choices import TaskStatus
from .models import ClassPlan, DutyTask


class ClassPlanFilterSet(SearchFilterSet):
    search_fields = ("name", "class_code__iexact", "description")
    definition = django_filters.ModelChoiceFilter(
        queryset=ClassificationDefinition.objects.all(), label=_("classification")
    )
    active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = ClassPlan
        fields = []


class DutyTaskFilterSet(SearchFilterSet):
    search_fields = ("customer__code__istartswith", "customer__name")
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("assigned to me"))
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices, label=_("status"))
    channel = django_filters.ChoiceFilter(choices=InteractionChannel.choices, label=_("channel"))
    plan = django_filters.ModelChoiceFilter(queryset=ClassPlan.objects.all(), label=_("plan"))
    period_start = django_filters.DateFilter(label=_("period start"))
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("due on or before")
    )

    class Meta:
        model = DutyTask
        fields = []

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        return queryset.filter(assignee=user)
