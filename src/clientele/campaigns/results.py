"""The campaign results page and its CSV: treated against holdout, overall and per wave,
channel and segment (see measurement.py for what each figure means)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from clientele.core import export, permissions
from clientele.segmentation import charts
from clientele.segmentation.models import ClassificationDefinition

from .measurement import CampaignResults, measure
from .models import Campaign


def _percent(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _points(value) -> str:
    """A difference of rates in percentage points."""
    return "" if value is None else f"{value * 100:+.1f}"


def _number(value, digits=2) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def result_rows(results: CampaignResults) -> list[list[str]]:
    """The results table as text cells, shared by the page and the CSV."""
    rows = []
    for row in results.rows:
        response, revenue = row.response, row.revenue_per_customer
        interval = ""
        if response.uplift_low is not None:
            interval = f"{_points(response.uplift_low)} .. {_points(response.uplift_high)}"
        rows.append(
            [
                row.label,
                f"{row.treated:,}",
                f"{row.contacted:,}",
                f"{row.responded:,}",
                _percent(response.treated_rate),
                f"{row.holdout:,}",
                f"{row.holdout_responded:,}",
                _percent(response.control_rate),
                _points(response.uplift),
                interval,
                _percent(response.relative_uplift),
                "" if response.p_value is None else f"{response.p_value:.4f}",
                _number(row.revenue),
                _number(revenue.treated_mean),
                _number(revenue.control_mean),
                "" if revenue.p_value is None else f"{revenue.p_value:.4f}",
                _number(row.incremental_revenue),
            ]
        )
    return rows


def result_columns() -> list[str]:
    return [
        _("Group"),
        _("Treated"),
        _("Contacted"),
        _("Responded"),
        _("Response rate"),
        _("Holdout"),
        _("Holdout responded"),
        _("Natural rate"),
        _("Uplift (points)"),
        # xgettext:no-python-format
        _("95% interval (points)"),
        _("Relative uplift"),
        _("p-value"),
        _("Revenue"),
        _("Revenue per treated customer"),
        _("Revenue per holdout customer"),
        _("p-value (Welch)"),
        _("Incremental revenue"),
    ]


def _charts(results: CampaignResults):
    rates, revenue = [], []
    for row in [results.overall, *results.waves]:
        short = row.key if row.dimension == "wave" else _("All")
        if row.response.treated_rate is not None:
            rates.append(
                (_("%(group)s treated") % {"group": short}, row.response.treated_rate * 100, "")
            )
        if row.response.control_rate is not None:
            rates.append(
                (_("%(group)s holdout") % {"group": short}, row.response.control_rate * 100, "")
            )
    overall = results.overall.revenue_per_customer
    if overall.treated_mean is not None:
        revenue.append((_("Treated"), overall.treated_mean, ""))
    if overall.control_mean is not None:
        revenue.append((_("Holdout"), overall.control_mean, ""))
    suppressed = [(label, float(count), "") for _reason, label, count in results.suppressed]
    return [
        {"name": "response", "title": _("Response rate (%)"),
         "svg": charts.bar_chart(rates, _("Response rate (%)"), "%")},
        {"name": "revenue", "title": _("Revenue per customer"),
         "svg": charts.bar_chart(revenue, _("Revenue per customer"), "")},
        {"name": "suppressed", "title": _("Suppressed contacts by reason"),
         "svg": charts.bar_chart(suppressed, _("Suppressed contacts by reason"), "")},
    ]  # fmt: skip


def _csv(campaign, results) -> HttpResponse:
    return export.csv_response(
        result_columns(), result_rows(results), f"campaign-{campaign.pk}-results"
    )


@login_required
def campaign_results(request, pk):
    """Results of one campaign; ?segments=<definition key> splits them by its classes;
    ?export=csv downloads the table."""
    permissions.require_perm(request.user, Campaign, permissions.VIEW)
    campaign = get_object_or_404(Campaign, pk=pk)
    definition = None
    key = request.GET.get("segments", "")
    if key:
        definition = ClassificationDefinition.objects.filter(key=key).first()
        if definition is None:
            raise Http404
    results = measure(campaign, segment_definition=definition)
    export = request.GET.get("export")
    if export:
        permissions.require_perm(request.user, Campaign, permissions.EXPORT)
        if export != "csv":
            raise Http404
        return _csv(campaign, results)
    context = {
        "campaign": campaign,
        "results": results,
        "columns": result_columns(),
        "rows": result_rows(results),
        "charts": _charts(results),
        "definitions": ClassificationDefinition.objects.filter(active=True),
        "segments_key": key,
        "can_export": request.user.has_perm(permissions.perm_name(Campaign, permissions.EXPORT)),
        "success_rate": _percent(results.success_rate),
        "participation_rate": _percent(results.participation_rate),
        "return_on_cost": _percent(results.return_on_cost),
    }
    return render(request, "campaigns/campaign_results.html", context)
