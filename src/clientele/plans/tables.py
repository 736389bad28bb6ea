"""Tables of the plan and duty-task lists and of the compliance page."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clientele.core.tables import BaseTable

from .models import ClassPlan, DutyTask


class ClassPlanTable(BaseTable):
    name = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = ClassPlan
        fields = ("name", "definition", "class_code", "team", "priority", "price_rate", "active")


class DutyTaskTable(BaseTable):
    id = tables.Column(linkify=True, verbose_name=_("task"))
    customer = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = DutyTask
        fields = (
            "id",
            "customer",
            "plan",
            "channel",
            "min_count",
            "period_start",
            "due_on",
            "assignee",
            "team",
            "status",
            "done_at",
        )


class ComplianceTable(tables.Table):
    """One row per account manager or team (rows are ComplianceRow objects)."""

    name = tables.Column(verbose_name=_("name"), orderable=False)
    required = tables.Column(
        verbose_name=pgettext_lazy("contacts required by a plan", "required"), orderable=False
    )
    fulfilled = tables.Column(verbose_name=_("fulfilled"), orderable=False)
    missed = tables.Column(verbose_name=_("missed"), orderable=False)
    rate = tables.Column(verbose_name=_("compliance (%)"), orderable=False)
    violations = tables.Column(verbose_name=_("forbidden-channel contacts"), orderable=False)

    exclude_from_export = ()

    class Meta:
        attrs = {"class": "table"}
        template_name = "core/table.html"
        empty_text = ""


class MissedTaskTable(tables.Table):
    """The missed customers of one account manager or team."""

    code = tables.Column(
        accessor="customer__code", verbose_name=_("customer code"), orderable=False
    )
    customer = tables.Column(
        verbose_name=_("customer"),
        orderable=False,
        linkify=lambda record: record.customer.get_absolute_url(),
    )
    duty = tables.Column(verbose_name=_("duty"), orderable=False)
    assignee = tables.Column(verbose_name=_("assigned to"), orderable=False)
    team = tables.Column(verbose_name=_("team"), orderable=False)
    due_on = tables.DateColumn(verbose_name=_("due"), orderable=False)

    exclude_from_export = ()

    class Meta:
        attrs = {"class": "table"}
        template_name = "core/table.html"
        empty_text = ""
