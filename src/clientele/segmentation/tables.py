"""Tables of the classification pages: definitions and the run history."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clientele.core.tables import BaseTable

from .models import ClassificationDefinition, ClassificationRun


def run_url(run) -> str:
    return reverse("segmentation:classificationrun_detail", args=[run.pk])


class DefinitionTable(BaseTable):
    key = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    last_run = tables.Column(verbose_name=_("last run"), empty_values=(), orderable=False)

    class Meta(BaseTable.Meta):
        model = ClassificationDefinition
        fields = ("key", "name", "name_zh", "kind", "active", "schedule", "position")

    def render_last_run(self, record):
        run = record.last_run
        return run.as_of if run else "—"

    def value_last_run(self, record):
        run = record.last_run
        return run.as_of.isoformat() if run else ""


class RunTable(BaseTable):
    id = tables.Column(verbose_name=_("run"), linkify=run_url)
    definition = tables.Column(linkify=True)
    counts = tables.Column(verbose_name=_("customers per class"), orderable=False)

    class Meta(BaseTable.Meta):
        model = ClassificationRun
        fields = (
            "id",
            "definition",
            "as_of",
            "trigger",
            "status",
            "started_at",
            "duration",
            "customers",
            "transitions",
            "counts",
            "started_by",
        )

    def render_duration(self, value):
        return f"{value:,.2f}" if value is not None else "—"

    def render_counts(self, value):
        return ", ".join(f"{code} {count:,}" for code, count in (value or {}).items()) or "—"

    def value_counts(self, value):
        return "; ".join(f"{code}={count}" for code, count in (value or {}).items())
