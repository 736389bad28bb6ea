"""Pages of the class plans: plans (with their duties and gifts on the edit page) and duty
tasks as declarations on the generic views; "my duties"; the compliance page with its
drill-down to missed customers and CSV export; and creating this period's tasks by hand."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_tables2 import RequestConfig

from clientele.core import permissions
from clientele.core.export import export_response
from clientele.core.views import ModelViews, scoped_object

from . import filters, forms, services, tables
from .choices import DutyKind, TaskStatus
from .models import ClassPlan, DutyTask
from .periods import local_today, period_of

MISSED_ON_PAGE = 500


class ClassPlanViews(ModelViews):
    model = ClassPlan
    table = tables.ClassPlanTable
    filterset = filters.ClassPlanFilterSet
    form = forms.ClassPlanForm
    detail_template = "plans/classplan_detail.html"
    edit_template = "plans/classplan_edit.html"
    route = "class-plans"

    @classmethod
    def get_queryset(cls, request):
        return ClassPlan.objects.select_related("definition", "team")

    @classmethod
    def get_extra_context(cls, request, plan):
        duties = list(plan.duties.select_related("performer_user"))
        today = local_today()
        current = {
            duty.pk: period_of(duty.period, today)
            for duty in duties
            if duty.kind == DutyKind.REQUIRED
        }
        return {
            "class_label": plan.class_label(),
            "duties": duties,
            "gifts": plan.gifts.all(),
            "current_periods": current,
            "open_tasks": permissions.scope_queryset(
                plan.tasks.filter(status=TaskStatus.OPEN), request.user
            ).count(),
            "can_generate": request.user.has_perm(
                permissions.perm_name(ClassPlan, permissions.CHANGE)
            ),
        }


class DutyTaskViews(ModelViews):
    model = DutyTask
    table = tables.DutyTaskTable
    filterset = filters.DutyTaskFilterSet
    form = forms.DutyTaskForm
    actions = ("list", "detail", "edit")  # tasks are created by the duty run
    route = "duties"
    detail_fields = [
        "customer",
        "plan",
        "duty",
        "channel",
        "min_count",
        "period_start",
        "due_on",
        "assignee",
        "team",
        "status",
        "done_at",
        "done_by_interaction",
        "notes",
    ]

    @classmethod
    def get_queryset(cls, request):
        return DutyTask.objects.select_related("customer", "plan", "duty", "assignee", "team")


@login_required
def my_duties(request):
    """The signed-in user's open duty tasks."""
    permissions.require_perm(request.user, DutyTask, permissions.VIEW)
    return redirect(DutyTaskViews.url("list") + "?mine=true&status=open")


@login_required
def generate(request, pk):
    """Create this period's duty tasks of one plan now (the daily run does it anyway)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    permissions.require_perm(request.user, ClassPlan, permissions.CHANGE)
    plan = scoped_object(request, ClassPlan, pk)
    created = services.generate_tasks(plans=ClassPlan.objects.filter(pk=plan.pk))
    done = services.mark_done()
    messages.success(
        request,
        _("Created %(created)s duty tasks; %(done)s already done.")
        % {"created": created, "done": done},
    )
    return redirect(plan.get_absolute_url())


@login_required
def compliance(request):
    """Per account manager or team, for a chosen period: duty tasks required, fulfilled by
    the Interactions recorded, missed, compliance %, contacts on forbidden channels; with
    ?key=<id> (or key=none) the missed customers of one row; ?export=csv for either."""
    exporting = request.GET.get("export") == "csv"
    permissions.require_perm(
        request.user, DutyTask, permissions.EXPORT if exporting else permissions.VIEW
    )
    form = forms.ComplianceForm(request.GET or None)
    params = {"period": "month", "day": None, "group": "manager", "plan": None}
    if form.is_bound and form.is_valid():
        params.update({k: v for k, v in form.cleaned_data.items() if v not in (None, "")})
    period_day = params["day"] or local_today()
    period = period_of(params["period"], period_day)
    group, plan = params["group"], params["plan"]
    query = request.GET.copy()
    query.pop("export", None)
    query.pop("key", None)
    context = {
        # Show the choices in effect (a missing one falls back to its default).
        "form": form
        if form.is_bound and not form.is_valid()
        else forms.ComplianceForm(initial=params | {"day": period_day}),
        "period": period,
        "group": group,
        "query_string": query.urlencode(),
        "can_export": request.user.has_perm(permissions.perm_name(DutyTask, permissions.EXPORT)),
    }
    key_text = request.GET.get("key")
    if key_text is not None:
        key = None if key_text in ("", "none") else _int_or_none(key_text)
        missed = services.missed_tasks(request.user, period, group, key, plan)
        table = tables.MissedTaskTable(missed)
        if exporting:
            RequestConfig(request, paginate=False).configure(table)
            return export_response(table, "csv", _("missed duties") + f" {period}")
        table = tables.MissedTaskTable(missed[:MISSED_ON_PAGE])
        context |= {"missed_table": table, "key": key_text, "row_name": _row_name(group, key)}
        return render(request, "plans/compliance.html", context)
    result = services.compliance(request.user, period, group, plan)
    table = tables.ComplianceTable(result.rows)
    if exporting:
        return export_response(table, "csv", _("compliance") + f" {period}")
    context |= {"result": result, "total": result.total}
    return render(request, "plans/compliance.html", context)


def _int_or_none(text):
    try:
        return int(text)
    except ValueError:
        return -1  # matches nothing


def _row_name(group, key):
    from clientele.core.models import Team, User

    if key is None:
        return _("Unassigned") if group == "manager" else _("No team")
    model = User if group == "manager" else Team
    return str(model.objects.filter(pk=key).first() or "")
