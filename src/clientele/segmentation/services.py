"""Classification services shared by pages, API, the command line and jobs: default
definitions, runs, manual classes, the early-warning list, transition matrices and the
plain explanation of each class on the 360 page."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from . import clusters, rules
from .constants import Kind, RunStatus, Trigger
from .defaults import create_missing
from .models import (
    ClassificationDefinition,
    ClassificationRun,
    ClassOverride,
    ClassTransition,
    CurrentClass,
    CustomerClass,
)
from .runs import run_definitions

__all__ = [
    "clear_override",
    "count_segment",
    "early_warning",
    "ensure_default_definitions",
    "explain",
    "latest_runs",
    "run_definitions",
    "run_definition",
    "set_override",
    "succeeded_runs",
    "transition_matrix",
]


def ensure_default_definitions() -> list[ClassificationDefinition]:
    """Create the default definitions that are missing (by key); idempotent. Returns the
    ones created."""
    return create_missing(ClassificationDefinition)


def run_definition(definition, *, trigger=Trigger.MANUAL, as_of=None, user=None):
    """Run one definition now; returns its run (None if it was already running)."""
    runs = run_definitions([definition], trigger=trigger, as_of=as_of, user=user)
    return runs[0] if runs else None


@transaction.atomic
def set_override(definition, customer, code: str, user=None, reason: str = "") -> ClassOverride:
    """Set a class by hand (e.g. a member level granted by a manager). Runs keep it until
    `clear_override`; the current class changes at the next run."""
    override = ClassOverride.objects.filter(definition=definition, customer=customer).first()
    override = override or ClassOverride(definition=definition, customer=customer)
    override.code, override.reason, override.set_by = code, reason, user
    override.full_clean()
    override.save()
    return override


def count_segment(expression, user, *, at=None) -> int:
    """How many of the customers `user` may see match a rule expression (account
    managers: their own and their team's). Raises rules.RuleExpressionError."""
    from clientele.core.permissions import scope_queryset
    from clientele.customers.models import Customer

    return rules.count(expression, at=at, queryset=scope_queryset(Customer.objects.all(), user))


def clear_override(definition, customer) -> bool:
    """Remove a manual class; True if there was one."""
    deleted, _rows = ClassOverride.objects.filter(definition=definition, customer=customer).delete()
    return bool(deleted)


def early_warning(definition=None, run=None):
    """Customers who became "at risk" in the latest successful run of a lifecycle
    definition (the list account managers work through): transitions into at_risk."""
    if run is None:
        definition = (
            definition
            or ClassificationDefinition.objects.filter(kind=Kind.LIFECYCLE, active=True).first()
        )
        run = definition.last_run if definition else None
    if run is None:
        return ClassTransition.objects.none()
    return ClassTransition.objects.filter(run=run, to_code="at_risk").select_related("customer")


def transition_matrix(run_from: ClassificationRun, run_to: ClassificationRun) -> dict:
    """Customers by (class in run_from, class in run_to), for two runs of one definition,
    as {(from, to): count}; customers missing from one run count under ""."""
    table = CustomerClass._meta.db_table
    sql = (
        f"SELECT COALESCE(a.code, ''), COALESCE(b.code, ''), COUNT(*) FROM"
        f" (SELECT customer_id, code FROM {table} WHERE run_id = %s) a"
        f" FULL OUTER JOIN (SELECT customer_id, code FROM {table} WHERE run_id = %s) b"
        " ON a.customer_id = b.customer_id GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [run_from.pk, run_to.pk])
        return {(a, b): int(n) for a, b, n in cursor.fetchall()}


# --- explanations on the 360 page -----------------------------------------------------


def _n(value, digits=0) -> str:
    return f"{value:,.{digits}f}" if value is not None else "-"


def _window_text(days) -> str:
    if days is None:
        return _("all-time")
    if days % 365 == 0:
        return _("%(months)s-month") % {"months": days // 365 * 12}
    return _("%(days)s-day") % {"days": days}


def explain(customer) -> list[dict]:
    """Each current class of a customer with a plain explanation, in the active language:
    [{"definition", "key", "name", "kind", "code", "label", "since", "manual", "text",
      "run_id", "computed_at"}], ordered like the definitions."""
    currents = (
        CurrentClass.objects.of_customer(customer.pk, active_only=True)
        .select_related("definition")
        .order_by("definition__position", "definition__name")
    )
    manual = set(
        ClassOverride.objects.filter(customer=customer).values_list("definition_id", flat=True)
    )
    out = []
    for current in currents:
        definition = current.definition
        run = definition.last_run
        row = CustomerClass.objects.filter(run=run, customer=customer).first() if run else None
        label = definition.label(current.code)
        text = label
        if row is not None:
            text = _explain_row(definition, run, row, label)
        if definition.pk in manual:
            text = _("%(text)s (set by hand)") % {"text": text}
        out.append(
            {
                "definition": definition,
                "key": definition.key,
                "name": definition.display_name(),
                "kind": definition.kind,
                "code": current.code,
                "label": label,
                "since": current.since,
                "manual": definition.pk in manual,
                "text": text,
                "run_id": run.pk if run else None,
                "computed_at": row.computed_at if row else None,
            }
        )
    return out


def _explain_row(definition, run, row, label) -> str:
    p = definition.parameters
    kind = definition.kind
    if kind == Kind.ABC:
        measure = {
            "spend": _("spend"),
            "margin": _("gross margin"),
            "quantity": _("quantity (%(unit)s)") % {"unit": p.get("unit")},
            "orders": _("orders"),
        }[p["measure"]]
        window = _window_text(p["window_days"])
        if row.share is None:
            text = _("%(label)s: no %(window)s %(measure)s") % {
                "label": label, "window": window, "measure": measure,
            }  # fmt: skip
        else:
            text = _(
                "%(label)s: %(window)s %(measure)s %(value)s, rank %(rank)s of %(total)s,"
                " cumulative share %(share)s%%"
            ) % {
                "label": label,
                "window": window,
                "measure": measure,
                "value": _n(row.measure, 0 if p["measure"] != "quantity" else 3),
                "rank": _n(row.rank),
                "total": _n(run.customers),
                "share": _n(row.share),
            }
        if row.potential:
            text += _("; potential: declared annual demand mostly bought elsewhere")
        return text
    if kind == Kind.TIER:
        tiers = p["tiers"]
        index = next((i for i, t in enumerate(tiers) if t["code"] == row.code), 0)
        basis = _("cumulative spend") if p["downgrade"] == "never" else _(
            "%(window)s spend") % {"window": _window_text(p["window_days"])}  # fmt: skip
        text = _("%(label)s: %(basis)s %(spend)s, price rate %(rate)s%%") % {
            "label": label, "basis": basis, "spend": _n(row.measure),
            "rate": _n(tiers[index]["rate"] * 100),
        }  # fmt: skip
        if index + 1 < len(tiers):
            nxt = tiers[index + 1]
            gap = max(nxt["min_spend"] - (row.measure or 0), 0)
            text += _("; %(gap)s more to %(next)s") % {
                "gap": _n(gap), "next": definition.label(nxt["code"]),
            }  # fmt: skip
        return text
    if kind == Kind.RFM:
        if row.score_r is None:
            return _("%(label)s: no purchase in the period") % {"label": label}
        return _(
            "%(label)s: R%(r)s F%(f)s M%(m)s — last purchase %(days)s days ago,"
            " %(n)s purchase days, spend %(spend)s"
        ) % {
            "label": label, "r": row.score_r, "f": row.score_f, "m": row.score_m,
            "days": _n(row.recency_days), "n": _n(row.frequency), "spend": _n(row.monetary),
        }  # fmt: skip
    if kind == Kind.CLV:
        if row.clv is None:
            return _("%(label)s: no purchase yet") % {"label": label}
        return _(
            "%(label)s: lifetime value %(clv)s over %(horizon)s %(period)ss, probability"
            " alive %(alive)s%%, %(purchases)s purchases expected, rank %(rank)s of %(total)s"
        ) % {
            "label": label, "clv": _n(row.clv), "horizon": p["horizon"], "period": p["period"],
            "alive": _n((row.p_alive or 0) * 100), "purchases": _n(row.expected_purchases, 1),
            "rank": _n(row.rank), "total": _n(run.customers),
        }  # fmt: skip
    if kind == Kind.LIFECYCLE:
        if row.recency_days is None:
            return _("%(label)s: has not bought yet") % {"label": label}
        text = _("%(label)s: last purchase %(days)s days ago, %(n)s purchase days") % {
            "label": label, "days": _n(row.recency_days), "n": _n(row.frequency),
        }  # fmt: skip
        if row.measure is not None:
            text += _(", usually %(gap)s days apart") % {"gap": _n(row.measure)}
        if row.p_alive is not None:
            text += _(", probability alive %(alive)s%%") % {"alive": _n(row.p_alive * 100)}
        return text
    if kind == Kind.QUADRANT:
        cuts = run.outputs or {}
        return _(
            "%(label)s: value %(value)s (cut %(vcut)s), %(rate)s complaints or suggestions per"
            " order (cut %(ecut)s)"
        ) % {
            "label": label, "value": _n(row.measure), "vcut": _n(cuts.get("value_cut")),
            "rate": _n(row.expectation, 2), "ecut": _n(cuts.get("expectation_cut"), 2),
        }  # fmt: skip
    if kind == Kind.RULE:
        expression = p.get("expression")
        text = _("%(label)s: %(rule)s") % {"label": label, "rule": rules.describe(expression)}
        try:
            figures = rules.customer_figures(expression, row.customer_id, at=run.as_of)
        except Exception:  # an explanation never breaks the 360 page
            figures = []
        if figures:
            text += " (" + "; ".join(figures) + ")"
        return text
    if kind == Kind.CLUSTER:
        centre = clusters.centres_of(run).get(row.code)
        if centre is None:
            return _("%(label)s: no purchase yet") % {"label": label}
        text = _("%(label)s: %(centre)s") % {"label": label, "centre": clusters.describe(centre)}
        if row.recency_days is not None:
            text += _(" — this customer: last purchase %(days)s days ago, %(n)s purchase days,"
                      " spend %(spend)s") % {
                "days": _n(row.recency_days), "n": _n(row.frequency), "spend": _n(row.monetary),
            }  # fmt: skip
        return text
    return label


def latest_runs():
    """The latest run of each definition (for a run history overview)."""
    return ClassificationRun.objects.filter(
        pk__in=ClassificationRun.objects.values("definition")
        .annotate(last=Max("id"))
        .values("last")
    ).select_related("definition")


def succeeded_runs(definition):
    """The run history of a definition, newest first."""
    return definition.runs.filter(status=RunStatus.SUCCEEDED).order_by("-id")
