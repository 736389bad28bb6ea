"""Filters of the classification pages, and the customer-list filters every dashboard bar
and cell links to.

Customer-list values (all parsed by the functions below, which the customer filter set
calls through `SegmentCustomerFilters`):

- ``segment=<definition key>:<class code>`` customers whose current class is the code;
  ``segment=<key>:<code>:<run id>`` customers in that class in that run's snapshot.
- ``transition=<key>:<from>:<to>:<run id>`` customers whose class changed from <from> to
  <to> in that run (its transition events; an empty <from> means new to the definition,
  ``*`` any class: ``lifecycle:*:at_risk:<run>`` is the early-warning list);
  ``transition=<key>:<from>:<to>:<run a>:<run b>`` customers in class <from> in run a and
  <to> in run b (an empty code: not in that run) — the cells of the transition matrix.
- ``rfm=<key>:<R>:<F>[:<run id>]`` customers in one cell of the R x F grid (latest run by
  default).
- ``score=<key>:<field>:<low>:<high>[:<run id>]`` customers whose snapshot value lies in
  [low, high) (either bound may be empty): the bars of the lifetime-value histogram.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from clientele.core.filters import SearchFilterSet

from .constants import Kind, RunStatus, Trigger
from .models import ClassificationDefinition, ClassificationRun, ClassTransition, CustomerClass

# Snapshot columns a score range may filter on.
SCORE_FIELDS = (
    "measure",
    "share",
    "clv",
    "p_alive",
    "expected_purchases",
    "expected_aov",
    "monetary",
    "frequency",
    "recency_days",
    "expectation",
)


def _definition(key: str) -> ClassificationDefinition:
    definition = ClassificationDefinition.objects.filter(key=key).first()
    if definition is None:
        raise ValidationError(_("There is no classification %(key)s.") % {"key": key})
    return definition


def _run(definition, text: str | None) -> ClassificationRun:
    """The named run of the definition, or its latest successful one."""
    if text in (None, ""):
        run = definition.last_run
        if run is None:
            raise ValidationError(_("%(definition)s has not run yet.") % {"definition": definition})
        return run
    try:
        run = definition.runs.filter(pk=int(text)).first()
    except ValueError:
        run = None
    if run is None:
        raise ValidationError(
            _("%(definition)s has no run %(run)s.") % {"definition": definition, "run": text}
        )
    return run


def _parts(value: str, low: int, high: int, example: str) -> list[str]:
    parts = str(value).strip().split(":")
    if not low <= len(parts) <= high or not parts[0]:
        raise ValidationError(_("Expected %(example)s.") % {"example": example})
    return parts


def _in_run(run_id, **conditions):
    return Exists(
        CustomerClass.objects.filter(run_id=run_id, customer=OuterRef("pk"), **conditions)
    )


def filter_by_class(queryset, value):
    """Customers in a class: ``key:code`` (current class) or ``key:code:run``."""
    from .models import CurrentClass

    parts = _parts(value, 2, 3, "definition:class or definition:class:run")
    definition = _definition(parts[0])
    code = parts[1]
    if len(parts) == 3:
        run = _run(definition, parts[2])
        return queryset.filter(_in_run(run.pk, code=code))
    return queryset.filter(
        Exists(
            CurrentClass.objects.filter(definition=definition, customer=OuterRef("pk"), code=code)
        )
    )


def filter_by_transition(queryset, value):
    """Customers who moved between classes: ``key:from:to:run`` (the run's transition
    events; from ``*``: any) or ``key:from:to:run_a:run_b`` (class in run a, class in run b)."""
    parts = _parts(value, 4, 5, "definition:from:to:run or definition:from:to:run:run")
    definition = _definition(parts[0])
    from_code, to_code = parts[1], parts[2]
    if len(parts) == 4:
        run = _run(definition, parts[3])
        events = ClassTransition.objects.filter(run=run, customer=OuterRef("pk"), to_code=to_code)
        if from_code != "*":
            events = events.filter(from_code=from_code)
        return queryset.filter(Exists(events))
    run_a, run_b = _run(definition, parts[3]), _run(definition, parts[4])
    for run, code in ((run_a, from_code), (run_b, to_code)):
        if code:
            queryset = queryset.filter(_in_run(run.pk, code=code))
        else:
            queryset = queryset.exclude(_in_run(run.pk))
    return queryset


def filter_by_rfm_cell(queryset, value):
    """Customers in one R x F cell: ``key:R:F`` or ``key:R:F:run``."""
    parts = _parts(value, 3, 4, "definition:R:F or definition:R:F:run")
    definition = _definition(parts[0])
    try:
        r, f = int(parts[1]), int(parts[2])
    except ValueError:
        raise ValidationError(_("R and F are scores from 1 to 5.")) from None
    if not (1 <= r <= 5 and 1 <= f <= 5):
        raise ValidationError(_("R and F are scores from 1 to 5."))
    run = _run(definition, parts[3] if len(parts) == 4 else None)
    return queryset.filter(_in_run(run.pk, score_r=r, score_f=f))


def filter_by_score(queryset, value):
    """Customers whose snapshot value is in [low, high): ``key:field:low:high[:run]``."""
    parts = _parts(value, 4, 5, "definition:field:low:high or definition:field:low:high:run")
    definition = _definition(parts[0])
    field = parts[1]
    if field not in SCORE_FIELDS:
        raise ValidationError(
            _("%(field)s is not a score; use one of: %(fields)s.")
            % {"field": field, "fields": ", ".join(SCORE_FIELDS)}
        )
    conditions = {}
    try:
        if parts[2] != "":
            conditions[f"{field}__gte"] = float(parts[2])
        if parts[3] != "":
            conditions[f"{field}__lt"] = float(parts[3])
    except ValueError:
        raise ValidationError(_("The bounds must be numbers.")) from None
    if not conditions:
        conditions[f"{field}__isnull"] = False
    run = _run(definition, parts[4] if len(parts) == 5 else None)
    return queryset.filter(_in_run(run.pk, **conditions))


class _CheckedField(forms.CharField):
    """A text box whose value a filter function checks when the form is cleaned, so a bad
    value is a form error (and an empty list) rather than a server error."""

    check = None

    def __init__(self, *args, check=None, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.check = check

    def clean(self, value):
        value = super().clean(value)
        if value and self.check is not None:
            from clientele.customers.models import Customer

            self.check(Customer.objects.none(), value)  # raises ValidationError
        return value


class _CheckedFilter(django_filters.CharFilter):
    field_class = _CheckedField


def _checked(check, label):
    return _CheckedFilter(
        method=lambda queryset, name, value: check(queryset, value) if value else queryset,
        label=label,
        check=check,
    )


class SegmentCustomerFilters(django_filters.FilterSet):
    """The class filters of the customer list: add it to CustomerFilterSet's bases."""

    segment = _checked(filter_by_class, _("class"))
    transition = _checked(filter_by_transition, _("change of class"))
    rfm = _checked(filter_by_rfm_cell, _("RFM cell"))
    score = _checked(filter_by_score, _("score range"))


# --- lists of the classification pages -----------------------------------------------


class DefinitionFilterSet(SearchFilterSet):
    search_fields = ("key", "name", "name_zh", "description")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, label=_("kind"))
    active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = ClassificationDefinition
        fields = []


class RunFilterSet(SearchFilterSet):
    search_fields = ("definition__key", "definition__name", "error")
    definition = django_filters.ModelChoiceFilter(
        queryset=ClassificationDefinition.objects.all(), label=_("definition")
    )
    status = django_filters.ChoiceFilter(choices=RunStatus.choices, label=_("status"))
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices, label=_("started by"))

    class Meta:
        model = ClassificationRun
        fields = []
