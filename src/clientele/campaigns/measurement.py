"""What a campaign changed: the treated targets against the holdout, overall and per wave,
channel and segment.

Both groups are measured the same way, from the orders themselves: a target *responded*
when it placed an order that counts as value (`sales.VALUE_STATUSES`) inside its window,
and its *revenue* is the total of those orders. The window of a target opens when it
became a target (`CampaignTarget.built_at`) and closes at the campaign's end or now. A
wave's window opens on the wave's day for that target and lasts the wave's
`evaluate_after_days`; for a wave sent only to non-responders, the holdout it is compared
with is likewise the holdout customers who had not ordered by that day.

Every figure is one aggregate query over the targets (scalar subqueries on the orders'
(customer, ordered_at) index): no Python loop over targets, so a campaign of a million
targets is measured in seconds. The statistics are in `stats.py`.

The seed's telecom figures are reported too: the *success rate* (treated targets who
accepted an offer, over treated targets) and the *participation rate* (treated targets
with an outcome recorded in any channel: reached, accepted, declined, handed over,
ordered, visited).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from clientele.channels.choices import MessageStatus, SuppressionReason
from clientele.channels.models import OutboxMessage, SuppressionRecord
from clientele.core.money import round_money
from clientele.sales.models import VALUE_STATUSES, Order

from . import stats
from .choices import TaskResult
from .models import Campaign, CampaignTarget, OfferAcceptance, Task

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=18, decimal_places=2)
# Outcomes that mean the customer took part (answered a call, came to a store...).
PARTICIPATING = [
    TaskResult.REACHED,
    TaskResult.ACCEPTED,
    TaskResult.DECLINED,
    TaskResult.HANDED_OVER,
    TaskResult.CONVERTED,
    TaskResult.VISITED,
]


@dataclass
class GroupResult:
    """One row of the results: a group of treated targets against its holdout."""

    dimension: str  # "campaign", "wave", "channel" or "segment"
    key: str
    label: str
    treated: int
    holdout: int
    contacted: int
    responded: int
    holdout_responded: int
    revenue: Decimal
    holdout_revenue: Decimal
    response: stats.ProportionComparison
    revenue_per_customer: stats.MeanComparison
    incremental_revenue: Decimal | None

    @property
    def response_rate(self):
        return self.response.treated_rate

    @property
    def natural_rate(self):
        return self.response.control_rate


@dataclass
class CampaignResults:
    """Everything the results page and its CSV show for one campaign."""

    campaign: Campaign
    as_of: dt.datetime
    overall: GroupResult
    waves: list[GroupResult] = field(default_factory=list)
    channels: list[GroupResult] = field(default_factory=list)
    segments: list[GroupResult] = field(default_factory=list)
    suppressed: list[tuple[str, str, int]] = field(default_factory=list)
    accepted: int = 0
    participated: int = 0
    cost: Decimal = ZERO
    revenue_interval: tuple[float, float] | None = None

    @property
    def rows(self) -> list[GroupResult]:
        return [self.overall, *self.waves, *self.channels, *self.segments]

    @property
    def success_rate(self) -> float | None:
        return self.accepted / self.overall.treated if self.overall.treated else None

    @property
    def participation_rate(self) -> float | None:
        return self.participated / self.overall.treated if self.overall.treated else None

    @property
    def suppressed_total(self) -> int:
        return sum(count for _key, _label, count in self.suppressed)

    @property
    def return_on_cost(self) -> float | None:
        """(Incremental revenue - cost) / cost; None without a cost or a holdout."""
        incremental = self.overall.incremental_revenue
        if incremental is None or not self.cost:
            return None
        return float((incremental - self.cost) / self.cost)


def _orders(start, end):
    """The target's value orders in [start, end): expressions over the target row."""
    return Order.objects.filter(
        customer_id=OuterRef("customer_id"),
        status__in=VALUE_STATUSES,
        ordered_at__gte=start,
        ordered_at__lt=end,
    )


def _with_outcome(targets, start, end):
    orders = _orders(start, end)
    revenue = (
        orders.order_by().values("customer_id").annotate(amount=Sum("total")).values("amount")[:1]
    )
    return targets.annotate(
        ordered=Exists(orders),
        revenue=Coalesce(Subquery(revenue, output_field=MONEY), Value(ZERO), output_field=MONEY),
    )


def _grouped(targets, *keys: str) -> list[dict]:
    """Count, responders, contacted, revenue and its sum of squares per `keys`, over a
    derived table: each target's order subqueries run once, not once per aggregate."""
    inner = (
        targets.order_by()
        .annotate(contacted_at=F("task__first_contacted_at"))
        .values(*keys, "ordered", "revenue", "contacted_at")
    )
    sql, params = inner.query.sql_with_params()
    quote = connection.ops.quote_name
    names = ", ".join(quote(key) for key in keys)
    revenue = quote("revenue")
    outer = (
        f"SELECT {names}, COUNT(*),"
        f" SUM(CASE WHEN {quote('ordered')} THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN {quote('contacted_at')} IS NOT NULL THEN 1 ELSE 0 END),"
        f" SUM({revenue}), SUM(CAST({revenue} AS REAL) * CAST({revenue} AS REAL))"
        f" FROM ({sql}) measured GROUP BY {names}"
    )
    with connection.cursor() as cursor:
        cursor.execute(outer, params)
        rows = cursor.fetchall()
    width = len(keys)
    return [
        dict(
            zip(keys, row[:width], strict=True),
            count=int(row[width]),
            responded=int(row[width + 1] or 0),
            contacted=int(row[width + 2] or 0),
            revenue_total=Decimal(str(row[width + 3] or 0)),
            revenue_squares=float(row[width + 4] or 0),
        )
        for row in rows
    ]


def _empty_group() -> dict:
    return {
        "count": 0,
        "responded": 0,
        "contacted": 0,
        "revenue_total": ZERO,
        "revenue_squares": 0.0,
    }


def _totals(targets) -> dict[bool, dict]:
    """Per group (in_holdout): count, responders, revenue and its sum of squares."""
    found = {True: _empty_group(), False: _empty_group()}
    for row in _grouped(targets, "in_holdout"):
        found[bool(row["in_holdout"])] = row
    return found


def _group(dimension, key, label, treated: dict, holdout: dict) -> GroupResult:
    treated_revenue = Decimal(treated["revenue_total"] or 0)
    holdout_revenue = Decimal(holdout["revenue_total"] or 0)
    response = stats.compare_proportions(
        treated["responded"], treated["count"], holdout["responded"], holdout["count"]
    )
    moments = [
        stats.Moments(group["count"], float(total), float(group["revenue_squares"] or 0))
        for group, total in ((treated, treated_revenue), (holdout, holdout_revenue))
    ]
    per_customer = stats.welch_test(*moments)
    incremental = None
    if treated["count"] and holdout["count"]:
        difference = treated_revenue / treated["count"] - holdout_revenue / holdout["count"]
        incremental = round_money(difference * treated["count"])
    return GroupResult(
        dimension=dimension,
        key=str(key),
        label=label,
        treated=treated["count"],
        holdout=holdout["count"],
        contacted=treated["contacted"],
        responded=treated["responded"],
        holdout_responded=holdout["responded"],
        revenue=round_money(treated_revenue),
        holdout_revenue=round_money(holdout_revenue),
        response=response,
        revenue_per_customer=per_customer,
        incremental_revenue=incremental,
    )


def _sent(campaign: Campaign, **filters) -> Q:
    """Targets that were sent a message of the campaign (matching `filters`). An IN over
    one uncorrelated subquery: the database reads the campaign's messages once, where a
    correlated EXISTS read them again for every target."""
    sent = OutboxMessage.objects.filter(
        campaign_id=campaign.pk, status=MessageStatus.SENT, **filters
    ).values("customer_id")
    return Q(customer_id__in=sent)


def measure(
    campaign: Campaign,
    *,
    as_of: dt.datetime | None = None,
    segment_definition=None,
    bootstrap_limit: int = 100_000,
) -> CampaignResults:
    """Measure a campaign as of a moment (default now). `segment_definition`: the
    classification whose current classes split the results by segment (default: the
    campaign's own class definition, if any). The bootstrap interval of revenue per
    customer is computed when the campaign has at most `bootstrap_limit` targets."""
    as_of = as_of or timezone.now()
    end = Value(min(as_of, campaign.ends_at) if campaign.ends_at else as_of)
    targets = CampaignTarget.objects.filter(campaign=campaign)
    measured = _with_outcome(targets, OuterRef("built_at"), end)
    totals = _totals(measured)
    results = CampaignResults(
        campaign=campaign,
        as_of=as_of,
        overall=_group("campaign", "all", _("Whole campaign"), totals[False], totals[True]),
    )
    results.waves = _by_wave(campaign, targets, as_of)
    results.channels = _by_channel(campaign, measured, totals[True])
    definition = segment_definition or campaign.class_definition
    if definition is not None:
        results.segments = _by_segment(measured, definition)
    results.suppressed = _suppressed(campaign)
    results.accepted = (
        OfferAcceptance.objects.filter(task__campaign=campaign)
        .values("customer_id")
        .distinct()
        .count()
    )
    results.participated = (
        # Through the targets' (campaign, customer) index: tasks of all statuses have no
        # campaign index of their own (see Task.Meta).
        Task.objects.filter(target__campaign=campaign, target__in_holdout=False)
        .filter(Q(reached=True) | Q(result__in=PARTICIPATING))
        .count()
    )
    acceptance_cost = OfferAcceptance.objects.filter(task__campaign=campaign).aggregate(
        total=Sum("cost")
    )["total"]
    results.cost = round_money(Decimal(campaign.spent or 0) + Decimal(acceptance_cost or 0))
    if 0 < targets.count() <= bootstrap_limit:
        results.revenue_interval = _bootstrap(measured)
    return results


def _days_after_targeting(days: int):
    """The moment `days` after the (outer) target became a target."""
    return ExpressionWrapper(
        OuterRef("built_at") + dt.timedelta(days=days), output_field=DateTimeField()
    )


def _by_wave(campaign: Campaign, targets, as_of) -> list[GroupResult]:
    rows = []
    for wave in campaign.waves.order_by("number"):
        start = _days_after_targeting(wave.day_offset)
        stop = _days_after_targeting(wave.day_offset + wave.evaluate_after_days)
        window = _with_outcome(targets, start, Least(stop, Value(as_of)))
        treated = window.filter(in_holdout=False).filter(_sent(campaign, wave=wave.number))
        holdout = window.filter(in_holdout=True)
        if wave.only_non_responders:
            holdout = holdout.exclude(Exists(_orders(OuterRef("built_at"), start)))
        treated_totals = _totals(treated)[False]
        holdout_totals = _totals(holdout)[True]
        label = _("Wave %(number)s (day %(day)s, %(channel)s)") % {
            "number": wave.number,
            "day": wave.day_offset,
            "channel": wave.get_channel_display(),
        }
        rows.append(_group("wave", wave.number, label, treated_totals, holdout_totals))
    return rows


def _by_channel(campaign: Campaign, measured, holdout_totals) -> list[GroupResult]:
    channels = (
        OutboxMessage.objects.filter(campaign_id=campaign.pk, status=MessageStatus.SENT)
        .order_by()
        .values_list("channel", flat=True)
        .distinct()
    )
    labels = dict(OutboxMessage._meta.get_field("channel").choices)
    rows = []
    for channel in sorted(channels):
        treated = measured.filter(in_holdout=False).filter(_sent(campaign, channel=channel))
        totals = _totals(treated)[False]
        rows.append(
            _group("channel", channel, labels.get(channel, channel), totals, holdout_totals)
        )
    return rows


def _by_segment(measured, definition) -> list[GroupResult]:
    from clientele.segmentation.models import CurrentClass

    current = CurrentClass.objects.filter(
        customer_id=OuterRef("customer_id"), definition=definition
    ).values("code")[:1]
    rows = _grouped(
        measured.annotate(segment=Coalesce(Subquery(current), Value(""))), "segment", "in_holdout"
    )
    groups: dict[str, dict[bool, dict]] = {}
    for row in rows:
        groups.setdefault(row["segment"], {})[bool(row["in_holdout"])] = row
    results = []
    for code in sorted(groups):
        pair = groups[code]
        treated = pair.get(False, _empty_group())
        holdout = pair.get(True, _empty_group())
        label = definition.label(code) if code else _("Not classified")
        results.append(_group("segment", code or "-", str(label), treated, holdout))
    return results


def _suppressed(campaign: Campaign) -> list[tuple[str, str, int]]:
    labels = dict(SuppressionReason.choices)
    rows = (
        SuppressionRecord.objects.filter(campaign_id=campaign.pk)
        .order_by()
        .values("reason")
        .annotate(customers=Count("customer_id", distinct=True))
        .order_by("-customers", "reason")
    )
    return [
        (row["reason"], str(labels.get(row["reason"], row["reason"])), row["customers"])
        for row in rows
    ]


def _bootstrap(measured) -> tuple[float, float] | None:
    import numpy as np

    treated, holdout = [], []
    for in_holdout, revenue in measured.values_list("in_holdout", "revenue").iterator(
        chunk_size=10_000
    ):
        (holdout if in_holdout else treated).append(float(revenue or 0))
    if not treated or not holdout:
        return None
    return stats.bootstrap_difference(np.array(treated), np.array(holdout))
