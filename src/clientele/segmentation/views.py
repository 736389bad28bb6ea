"""Classification pages: definitions and runs (declared on core's generic views, so the
permission checks happen there), "Run now", a customer's manual classes, the dashboard
with its charts and their CSV export, and the block on the 360 page."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clientele.core import export, permissions
from clientele.core.views import ModelViews, scoped_object
from clientele.customers.models import Customer

from . import charts, clusters, filters, forms, rules, services, tables, tasks
from .constants import Kind, RunStatus
from .models import (
    ClassificationDefinition,
    ClassificationRun,
    ClassOverride,
    ClassTransition,
    CurrentClass,
    CustomerClass,
)


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


# --- definitions ---------------------------------------------------------------------


class DefinitionViews(ModelViews):
    model = ClassificationDefinition
    route = "definitions"
    table = tables.DefinitionTable
    filterset = filters.DefinitionFilterSet
    form = forms.DefinitionForm
    detail_template = "segmentation/definition_detail.html"
    # Each kind's default parameters beside the box (the form carries them).
    edit_template = "segmentation/definition_edit.html"
    detail_fields = ["key", "name", "name_zh", "kind", "description", "active", "schedule",
                     "position"]  # fmt: skip

    @classmethod
    def get_extra_context(cls, request, definition):
        user = request.user
        run = definition.last_run
        counts = (run.counts or {}) if run else {}
        centres = clusters.centres_of(run) if definition.kind == Kind.CLUSTER else {}
        return {
            "rule_text": rules.describe(definition.parameters.get("expression"))
            if definition.kind == Kind.RULE
            else "",
            "parameters_json": _pretty(definition.parameters),
            "classes": [
                {
                    "code": code,
                    "label": definition.label(code),
                    "count": counts.get(code),
                    "url": charts.class_url(definition, code),
                    "text": clusters.describe(centres[code]) if code in centres else "",
                }
                for code in charts.codes_of(definition)
            ],
            "last_run": run,
            "runs": definition.runs.select_related("started_by")[:10],
            "run_url": reverse("segmentation:run_now", args=[definition.pk]),
            "can_run": user.has_perm(
                permissions.perm_name(ClassificationDefinition, permissions.CHANGE)
            ),
            "can_view_runs": user.has_perm(
                permissions.perm_name(ClassificationRun, permissions.VIEW)
            ),
        }


@login_required
@require_POST
def run_now(request, pk):
    """Start a run of one definition by hand (queued; immediate when jobs run inline)."""
    permissions.require_perm(request.user, ClassificationDefinition, permissions.CHANGE)
    definition = get_object_or_404(ClassificationDefinition, pk=pk)
    if not definition.active:
        messages.error(request, _("%(definition)s is not active.") % {"definition": definition})
        return redirect(definition.get_absolute_url())
    before = definition.runs.aggregate(last=Max("id"))["last"] or 0
    tasks.start_by_hand([definition], user=request.user)
    run = definition.runs.filter(pk__gt=before).order_by("-id").first()
    if run is not None and run.status == RunStatus.SUCCEEDED:
        messages.success(
            request,
            _("%(definition)s ran: %(customers)s customers, %(changes)s changes of class.")
            % {"definition": definition, "customers": run.customers, "changes": run.transitions},
        )
    elif run is not None and run.status == RunStatus.FAILED:
        messages.error(request, _("The run failed: %(error)s") % {"error": run.error})
    else:
        messages.success(
            request, _("The run of %(definition)s has started.") % {"definition": definition}
        )
    return redirect(definition.get_absolute_url())


@login_required
@require_POST
def rule_count(request):
    """The live count of the edit page (htmx, debounced): how many customers the rule in
    the parameters box selects now — among the user's own customers for an account
    manager — or the errors naming each bad clause."""
    permissions.require_perm(request.user, ClassificationDefinition, permissions.VIEW)
    context = {"count": None, "errors": [], "message": "", "description": ""}
    text = request.POST.get("parameters", "")
    try:
        value = json.loads(text) if text.strip() else None
    except ValueError as error:
        context["message"] = _("Not valid JSON yet: %(error)s") % {"error": error}
        return render(request, "segmentation/_rule_count.html", context)
    if not (isinstance(value, dict) and "expression" in value):
        if request.POST.get("kind") == Kind.RULE:
            context["message"] = _('Add an "expression" to the parameters to see the count.')
        else:
            context["message"] = _("The live count applies to rule segments.")
        return render(request, "segmentation/_rule_count.html", context)
    expression = value["expression"]
    try:
        context["count"] = services.count_segment(expression, request.user)
    except rules.RuleExpressionError as error:
        context["errors"] = error.errors
    else:
        context["description"] = rules.describe(expression)
        context["scoped"] = permissions.customer_scope_q(request.user, "") is not None
    return render(request, "segmentation/_rule_count.html", context)


# --- runs ----------------------------------------------------------------------------


class RunViews(ModelViews):
    model = ClassificationRun
    route = "runs"
    table = tables.RunTable
    filterset = filters.RunFilterSet
    actions = ("list", "detail")
    detail_template = "segmentation/run_detail.html"

    @classmethod
    def get_queryset(cls, request):
        return ClassificationRun.objects.select_related("definition", "started_by")

    @classmethod
    def get_extra_context(cls, request, run):
        definition = run.definition
        order = charts.codes_of(definition)
        counts = run.counts or {}
        codes = [c for c in order if c in counts] + sorted(c for c in counts if c not in order)
        moves = permissions.scope_queryset(ClassTransition.objects.filter(run=run), request.user)
        return {
            "definition": definition,
            "classes": [
                {
                    "code": code,
                    "label": definition.label(code),
                    "count": counts[code],
                    "url": charts.customer_list_url(segment=f"{definition.key}:{code}:{run.pk}"),
                }
                for code in codes
            ],
            "moves": [
                {
                    "from": definition.label(row["from_code"]) if row["from_code"] else "—",
                    "to": definition.label(row["to_code"]),
                    "count": row["n"],
                    "url": charts.customer_list_url(
                        transition=f"{definition.key}:{row['from_code']}:{row['to_code']}:{run.pk}"
                    ),
                }
                for row in moves.order_by()
                .values("from_code", "to_code")
                .annotate(n=Count("id"))
                .order_by("-n", "from_code", "to_code")[:100]
            ],
            "outputs_json": _pretty(run.outputs) if run.outputs else "",
        }


# --- manual classes of a customer ----------------------------------------------------


def _may(user, model, action) -> bool:
    return user.has_perm(permissions.perm_name(model, action))


def customer_classes(request, customer) -> list[dict] | None:
    """The 360 page's classes of a customer with their explanations, or None when the
    user may not see classes."""
    if not _may(request.user, CurrentClass, permissions.VIEW):
        return None
    items = services.explain(customer)
    for item in items:
        item["url"] = charts.class_url(item["definition"], item["code"])
    return items


@login_required
def customer_overrides(request, pk):
    """A customer's classes with their explanations; managers set or clear a manual
    class per definition here."""
    permissions.require_perm(request.user, CurrentClass, permissions.VIEW)
    customer = scoped_object(request, Customer, pk)
    user = request.user
    may_set = _may(user, ClassOverride, permissions.ADD) and _may(
        user, ClassOverride, permissions.CHANGE
    )
    may_clear = _may(user, ClassOverride, permissions.DELETE)
    definitions = list(ClassificationDefinition.objects.filter(active=True))
    form = forms.OverrideForm(definitions=definitions)
    status = 200
    if request.method == "POST":
        if "clear" in request.POST:
            if not may_clear:
                raise PermissionDenied
            definition = get_object_or_404(ClassificationDefinition, pk=request.POST["clear"])
            if services.clear_override(definition, customer):
                messages.success(
                    request,
                    _("The manual class in %(definition)s is cleared; the next run computes it.")
                    % {"definition": definition},
                )
            return redirect(request.path)
        if not may_set:
            raise PermissionDenied
        form = forms.OverrideForm(request.POST, definitions=definitions)
        if form.is_valid():
            definition, code = form.cleaned_data["target"]
            try:
                services.set_override(
                    definition, customer, code, user=user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(
                    request,
                    _("%(customer)s is set to %(label)s in %(definition)s from the next run.")
                    % {
                        "customer": customer,
                        "label": definition.label(code),
                        "definition": definition,
                    },
                )
                return redirect(request.path)
        status = 400
    elif request.method != "GET":
        raise Http404
    overrides = ClassOverride.objects.filter(customer=customer).select_related(
        "definition", "set_by"
    )
    context = {
        "customer": customer,
        "classes": customer_classes(request, customer),
        "overrides": [{"override": o, "label": o.definition.label(o.code)} for o in overrides],
        "form": form,
        "may_set": may_set,
        "may_clear": may_clear,
    }
    return render(request, "segmentation/customer_classes.html", context, status=status)


# --- dashboard -----------------------------------------------------------------------


def _latest_runs(definitions):
    """(definition, its latest successful run) for the definitions that have one."""
    pairs = ((definition, definition.last_run) for definition in definitions)
    return [(definition, run) for definition, run in pairs if run is not None]


def _definitions_with_runs(request):
    definitions = ClassificationDefinition.objects.filter(active=True)
    key = request.GET.get("definition")
    if key:
        definitions = definitions.filter(key=key)
    return _latest_runs(definitions)


def _matrix_context(request):
    """The transition matrix's definition and two runs (defaults: the first definition
    with a run, its previous and latest runs) and the chart."""
    active = ClassificationDefinition.objects.filter(active=True)
    all_definitions = [d for d, _run in _latest_runs(active)]
    if not all_definitions:
        return {"matrix": None}
    key = request.GET.get("matrix") or all_definitions[0].key
    definition = next((d for d in all_definitions if d.key == key), all_definitions[0])
    runs = list(services.succeeded_runs(definition)[:50])
    by_id = {run.pk: run for run in runs}

    def pick(name, default):
        try:
            return by_id.get(int(request.GET.get(name, "")), default)
        except ValueError:
            return default

    run_to = pick("run_to", runs[0])
    run_from = pick("run_from", runs[1] if len(runs) > 1 else runs[0])
    chart = charts.matrix(definition, run_from, run_to, request.user)
    return {
        "matrix": chart,
        "matrix_definition": definition,
        "matrix_definitions": all_definitions,
        "matrix_runs": runs,
        "run_from": run_from,
        "run_to": run_to,
        "matrix_columns": [
            definition.label(code) if code else _("(not in run)") for code in chart.codes
        ],
        "matrix_rows": charts.matrix_rows(definition, chart, run_from, run_to),
    }


def _early_warning(request, definition, run):
    """Lifecycle: how many of the user's customers became at risk in the run, and the
    link to them (the list account managers work through)."""
    if definition.kind != Kind.LIFECYCLE:
        return None
    moves = permissions.scope_queryset(services.early_warning(run=run), request.user)
    return {
        "count": moves.count(),
        "url": charts.customer_list_url(transition=f"{definition.key}:*:at_risk:{run.pk}"),
    }


def _segment_summary(request, definition, run):
    """Rule segments: the rule in words; clusters: each cluster's centre in words, with
    the user's customers in it and the link to them."""
    if definition.kind == Kind.RULE:
        return {"rule": rules.describe(definition.parameters.get("expression")), "items": []}
    if definition.kind != Kind.CLUSTER:
        return None
    centres = clusters.centres_of(run)
    items = []
    for code, label, n, _total in charts.class_counts(definition, run, request.user):
        centre = centres.get(code)
        items.append(
            {
                "code": code,
                "label": label,
                "count": n,
                "url": charts.class_url(definition, code),
                "text": clusters.describe(centre) if centre else _("No purchases"),
            }
        )
    return {"rule": "", "items": items}


def _csv_response(chart) -> HttpResponse:
    return export.csv_response(chart.columns, chart.rows, chart.name)


@login_required
def dashboard(request):
    """Every active definition's latest run as charts, and the transition matrix.
    ?export=csv&chart=<name> downloads one chart's data table."""
    permissions.require_perm(request.user, CustomerClass, permissions.VIEW)
    export = request.GET.get("export")
    wanted = request.GET.get("chart", "")
    if export:
        permissions.require_perm(request.user, CustomerClass, permissions.EXPORT)
        if export != "csv":
            raise Http404
    sections = []
    for definition, run in _definitions_with_runs(request):
        if export and not wanted.startswith(definition.key + "-"):
            continue
        sections.append(
            {
                "definition": definition,
                "run": run,
                "charts": charts.definition_charts(definition, run, request.user),
                "early_warning": _early_warning(request, definition, run),
                "segment": _segment_summary(request, definition, run),
            }
        )
    context = {"sections": sections}
    if not export or wanted.endswith("-transitions"):
        context |= _matrix_context(request)
    if export:
        found = [c for s in sections for c in s["charts"]]
        if context.get("matrix") is not None:
            found.append(context["matrix"])
        chart = next((c for c in found if c.name == wanted), None)
        if chart is None:
            raise Http404
        return _csv_response(chart)
    context["can_export"] = _may(request.user, CustomerClass, permissions.EXPORT)
    context["definition_filter"] = request.GET.get("definition", "")
    context["all_definitions"] = ClassificationDefinition.objects.filter(active=True)
    return render(request, "segmentation/dashboard.html", context)


@login_required
def transition_matrix_fragment(request):
    """The transition matrix alone: the run selects reload it with htmx."""
    permissions.require_perm(request.user, CustomerClass, permissions.VIEW)
    context = _matrix_context(request)
    context["can_export"] = _may(request.user, CustomerClass, permissions.EXPORT)
    return render(request, "segmentation/_matrix.html", context)
