"""The classification dashboard's charts: each is a small data table aggregated in the
database (GROUP BY over one run's snapshot rows, a sampled curve, a sampled scatter, never
the rows themselves) and an inline SVG drawn from it on the server. No script, no
library, nothing from a CDN; every bar, cell, band and point is a link to the customer
list filtered to it (see filters.py for the filter values), and every table exports as
CSV.

Account managers see the charts over their own and their team's customers: the rows are
narrowed by `permissions.customer_scope_q` before any aggregate."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Mod, RowNumber
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from clientele.core import permissions

from .constants import Kind
from .models import CustomerClass

WIDTH, HEIGHT, PAD = 560, 300, 48
COLORS = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", "#b7791f",
          "#e53e3e", "#4a5568", "#2c7a7b", "#9c4221"]  # fmt: skip
QUADRANT_COLORS = {"intimate": "#805ad5", "safe": "#38a169", "dangerous": "#e53e3e",
                   "stranger": "#a0aec0"}  # fmt: skip
SCATTER_LIMIT = 2000
PARETO_POINTS = 200


@dataclass
class Chart:
    """One chart: its data table (what the CSV export holds) and its SVG."""

    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    svg: SafeString = mark_safe("")
    links: list[str] = field(default_factory=list)  # one per row, where rows are links
    codes: list[str] = field(default_factory=list)  # transition matrix: classes in order
    counts: dict = field(default_factory=dict)  # transition matrix: {(from, to): n}


# --- data --------------------------------------------------------------------------


def snapshot_rows(run, user):
    """The run's snapshot rows the user may see."""
    rows = CustomerClass.objects.filter(run=run)
    q = permissions.customer_scope_q(user, "customer__")
    return rows if q is None else rows.filter(q)


def customer_list_url(**params) -> str:
    return reverse("customers:customer_list") + "?" + urlencode(params)


def class_url(definition, code) -> str:
    return customer_list_url(segment=f"{definition.key}:{code}")


def codes_of(definition) -> list[str]:
    """The definition's class codes in display order."""
    try:
        return definition.class_codes()
    except Exception:  # parameters that no longer validate: fall back to what the run holds
        return []


def every_nth(rows, order_by: str, step: int):
    """Rows 1, 1 + step, 1 + 2 step ... in `order_by` order, numbered by the database
    (ROW_NUMBER), so a sample of an account manager's customers is as even as everyone's
    (a modulo of the stored ids or ranks could miss a subset entirely)."""
    if step <= 1:
        return rows
    numbered = rows.annotate(row_number=Window(RowNumber(), order_by=F(order_by).asc()))
    return numbered.annotate(bucket=Mod(F("row_number") - 1, step)).filter(bucket=0)


def class_counts(definition, run, user) -> list[tuple[str, str, int, float]]:
    """(code, label, customers, sum of measure) per class, in the definition's order."""
    found = {
        row["code"]: (row["n"], row["total"] or 0.0)
        for row in snapshot_rows(run, user)
        .order_by()
        .values("code")
        .annotate(n=Count("*"), total=Sum("measure"))
    }
    order = codes_of(definition)
    codes = [c for c in order if c in found or c in (run.counts or {})]
    codes += sorted(c for c in found if c not in codes)
    return [(c, definition.label(c), *found.get(c, (0, 0.0))) for c in codes]


def definition_charts(definition, run, user) -> list[Chart]:
    """Every chart of one definition's latest run."""
    counts = class_counts(definition, run, user)
    charts = []
    kind = definition.kind
    if kind == Kind.ABC:
        charts.append(pareto(definition, run, user))
    elif kind == Kind.TIER:
        charts.append(tier_pyramid(definition, counts))
    elif kind == Kind.RFM:
        charts.append(rfm_grid(definition, run, user))
    elif kind == Kind.CLV:
        charts.append(clv_histogram(definition, run, user))
    elif kind == Kind.QUADRANT:
        charts.append(quadrant_scatter(definition, run, user))
    charts.append(class_bars(definition, counts))
    return charts


def class_bars(definition, counts) -> Chart:
    chart = Chart(
        name=f"{definition.key}-classes",
        title=_("Customers per class"),
        columns=[_("class"), _("label"), _("customers"), _("sum of measure")],
    )
    for code, label, n, total in counts:
        chart.rows.append([code, label, n, round(total, 2)])
        chart.links.append(class_url(definition, code))
    chart.svg = bar_chart(
        [(label, n, url) for (_c, label, n, _t), url in zip(counts, chart.links, strict=True)],
        chart.title,
        _("customers"),
    )
    return chart


def pareto(definition, run, user) -> Chart:
    """Cumulative share of the measure against the share of customers (by rank), sampled
    to about 200 points in the database, with the A and B cut lines and the classes as
    bands linking to their customers."""
    params = definition.parameters
    total = run.customers or 0
    rows = snapshot_rows(run, user).filter(share__isnull=False, rank__isnull=False)
    chart = Chart(
        name=f"{definition.key}-pareto",
        title=_("Pareto curve"),
        columns=[_("rank"), _("share of customers (%)"), _("cumulative share (%)")],
    )
    if total:
        found = rows.aggregate(n=Count("*"), last=Max("rank"))
        step = max(1, found["n"] // PARETO_POINTS)
        sampled = list(every_nth(rows, "rank", step).order_by("rank").values_list("rank", "share"))
        if sampled and sampled[-1][0] != found["last"]:
            sampled += list(rows.filter(rank=found["last"]).values_list("rank", "share")[:1])
        for rank, share in sampled:
            chart.rows.append([rank, round(100.0 * rank / total, 2), round(share, 2)])
    # Bands: where each class sits along the ranking (from the run's own counts, so an
    # account manager's subset still shows the company-wide cut).
    bands, start = [], 0
    for code in ("A", "B", "C"):
        n = int((run.counts or {}).get(code, 0))
        if total and n:
            bands.append((start / total, (start + n) / total, code, definition.label(code),
                          class_url(definition, code)))  # fmt: skip
        start += n
    chart.svg = pareto_svg(
        [(r[1], r[2]) for r in chart.rows],
        params.get("a_share", 80),
        params.get("b_share", 95),
        bands,
        chart.title,
    )
    return chart


def tier_pyramid(definition, counts) -> Chart:
    chart = Chart(
        name=f"{definition.key}-pyramid",
        title=_("Tier pyramid"),
        columns=[_("tier"), _("label"), _("customers"), _("spend")],
    )
    top_down = list(reversed(counts))
    for code, label, n, total in top_down:
        chart.rows.append([code, label, n, round(total, 2)])
        chart.links.append(class_url(definition, code))
    chart.svg = pyramid_svg(
        [(label, n, total, url) for (_c, label, n, total), url in zip(top_down, chart.links,
                                                                       strict=True)],
        chart.title,
    )  # fmt: skip
    return chart


def rfm_grid(definition, run, user) -> Chart:
    chart = Chart(
        name=f"{definition.key}-rfm-grid",
        title=_("RFM grid (recency x frequency)"),
        columns=[_("R score"), _("F score"), _("customers")],
    )
    cells = {
        (r, f): n
        for r, f, n in snapshot_rows(run, user)
        .filter(score_r__isnull=False, score_f__isnull=False)
        .order_by()
        .values_list("score_r", "score_f")
        .annotate(n=Count("*"))
    }
    for r in range(5, 0, -1):
        for f in range(1, 6):
            chart.rows.append([r, f, cells.get((r, f), 0)])
            chart.links.append(customer_list_url(rfm=f"{definition.key}:{r}:{f}"))
    chart.svg = heat_map_svg(cells, lambda r, f: customer_list_url(rfm=f"{definition.key}:{r}:{f}"),
                             chart.title)  # fmt: skip
    return chart


def nice_edges(top: float, bins: int = 12) -> list[float]:
    """Bin edges 0, 1, 2, 5, 10, 20, 50 ... up to `top`, at most `bins` bins (the lowest
    ones merged into the first)."""
    if top <= 0:
        return [0.0, 1.0]
    edges, magnitude = [], 1.0
    while not edges or edges[-1] < top:
        for m in (1, 2, 5):
            edges.append(m * magnitude)
            if edges[-1] >= top:
                break
        magnitude *= 10
    edges = edges[-bins:]
    return [0.0, *edges] if edges[0] > 0 else edges


def clv_histogram(definition, run, user) -> Chart:
    """Customers per lifetime-value band (1-2-5 bands, counted in the database)."""
    rows = snapshot_rows(run, user).filter(clv__isnull=False)
    top = rows.aggregate(top=Max("clv"))["top"] or 0.0
    edges = nice_edges(top)
    whens = [When(clv__lt=edge, then=Value(i)) for i, edge in enumerate(edges[1:-1])]
    bucket = Case(*whens, default=Value(len(edges) - 2), output_field=IntegerField())
    found = dict(
        rows.annotate(bucket=bucket).order_by().values_list("bucket").annotate(n=Count("*"))
    )
    chart = Chart(
        name=f"{definition.key}-clv-histogram",
        title=_("Lifetime value distribution"),
        columns=[_("from"), _("below"), _("customers")],
    )
    items = []
    for i in range(len(edges) - 1):
        low = "" if i == 0 else _num(edges[i])
        high = "" if i == len(edges) - 2 else _num(edges[i + 1])
        n = found.get(i, 0)
        url = customer_list_url(score=f"{definition.key}:clv:{low}:{high}")
        chart.rows.append([low or "", high or "", n])
        chart.links.append(url)
        label = f"<{_short(edges[i + 1])}" if high else f">={_short(edges[i])}"
        items.append((label, n, url))
    chart.svg = bar_chart(items, chart.title, _("customers"))
    return chart


def quadrant_scatter(definition, run, user) -> Chart:
    """Value against expectation, at most 2,000 customers sampled in the database by
    customer id; the cut lines and each quadrant link to the class."""
    rows = snapshot_rows(run, user)
    n = rows.count()
    step = max(1, math.ceil(n / SCATTER_LIMIT))
    sampled = (
        every_nth(rows, "customer_id", step)
        .order_by("customer_id")
        .values_list("customer_id", "measure", "expectation", "code")[:SCATTER_LIMIT]
    )
    chart = Chart(
        name=f"{definition.key}-scatter",
        title=_("Value x expectation"),
        columns=[_("customer id"), _("value"), _("expectation"), _("class")],
    )
    points = []
    for customer_id, value, expectation, code in sampled:
        chart.rows.append([customer_id, value, expectation, code])
        url = reverse("customers:customer_detail", args=[customer_id])
        chart.links.append(url)
        points.append((value or 0.0, expectation or 0.0, code, url))
    outputs = run.outputs or {}
    quadrants = {code: (definition.label(code), class_url(definition, code))
                 for code in QUADRANT_COLORS}  # fmt: skip
    chart.svg = scatter_svg(
        points,
        float(outputs.get("value_cut") or 0.0),
        float(outputs.get("expectation_cut") or 0.0),
        quadrants,
        chart.title,
    )
    return chart


def matrix(definition, run_from, run_to, user) -> Chart:
    """Customers by class in one run (rows) and in another (columns); an empty code means
    not in that run. The same counts as services.transition_matrix, by lookups on the
    (run, customer) unique index, so it stays fast on SQLite too and narrows to an account
    manager's customers."""
    a = snapshot_rows(run_from, user)
    b = snapshot_rows(run_to, user)
    previous = CustomerClass.objects.filter(run=run_from, customer=OuterRef("customer"))
    later = CustomerClass.objects.filter(run=run_to, customer=OuterRef("customer"))
    counts = {}
    for was, now, n in (
        b.annotate(was=Coalesce(Subquery(previous.values("code")[:1]), Value("")))
        .order_by()
        .values_list("was", "code")
        .annotate(n=Count("*"))
    ):
        counts[(was, now)] = n
    for was, n in a.filter(~Exists(later)).order_by().values_list("code").annotate(n=Count("*")):
        counts[(was, "")] = n
    order = codes_of(definition)
    seen = {c for pair in counts for c in pair}
    codes = [c for c in order if c in seen] + sorted(c for c in seen if c not in order)
    chart = Chart(
        name=f"{definition.key}-transitions",
        title=_("Transition matrix"),
        columns=[_("from class"), _("to class"), _("customers")],
    )
    for was in codes:
        for now in codes:
            n = counts.get((was, now), 0)
            if n:
                chart.rows.append([was, now, n])
                chart.links.append(
                    customer_list_url(
                        transition=f"{definition.key}:{was}:{now}:{run_from.pk}:{run_to.pk}"
                    )
                )
    chart.codes = codes
    chart.counts = counts
    return chart


def matrix_rows(definition, chart, run_from, run_to) -> list[dict]:
    """The matrix as rows of cells for the template: label, count, link, shade."""
    top = max(chart.counts.values(), default=0) or 1
    out = []
    for was in chart.codes:
        cells = []
        for now in chart.codes:
            n = chart.counts.get((was, now), 0)
            url = customer_list_url(
                transition=f"{definition.key}:{was}:{now}:{run_from.pk}:{run_to.pk}"
            )
            shade = int(245 - 150 * n / top)
            cells.append({"count": n, "url": url if n else "", "shade": shade,
                          "ink": "#fff" if shade < 150 else "", "diagonal": was == now})  # fmt: skip
        label = definition.label(was) if was else _("(not in run)")
        out.append({"code": was, "label": label, "cells": cells})
    return out


# --- SVG -----------------------------------------------------------------------------


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _short(value: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return _num(value)


def _svg(body: str, title: str, width=WIDTH, height=HEIGHT) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" class="chart" '
        f'style="max-width: {width}px">'
        f"<title>{_e(title)}</title>"
        f'<rect width="{width}" height="{height}" fill="#fff"/>{body}</svg>'
    )


def _link(url: str, body: str, label: str = "") -> str:
    tip = f"<title>{_e(label)}</title>" if label else ""
    return f'<a href="{_e(url)}">{tip}{body}</a>'


def _axes(xlabel: str, ylabel: str) -> str:
    x0, y0, x1, y1 = PAD, HEIGHT - PAD, WIDTH - 12, 12
    return (
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/>'
        f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333"/>'
        f'<text x="{(x0 + x1) / 2}" y="{HEIGHT - 6}" font-size="12" text-anchor="middle">'
        f"{_e(xlabel)}</text>"
        f'<text x="12" y="{(y0 + y1) / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 12 {(y0 + y1) / 2})">{_e(ylabel)}</text>'
    )


def _sx(fraction: float) -> float:
    return PAD + fraction * (WIDTH - 12 - PAD)


def _sy(fraction: float) -> float:
    return HEIGHT - PAD - fraction * (HEIGHT - PAD - 12)


def _empty(title: str) -> SafeString:
    return _svg(f'<text x="20" y="40" fill="#6b7280">{_e(_("No data."))}</text>', title)


def bar_chart(items: list[tuple[str, float, str]], title: str, ylabel: str) -> SafeString:
    """Vertical bars (label, value, link) with their values on top."""
    if not items:
        return _empty(title)
    top = max(v for _l, v, _u in items) or 1.0
    slot = (WIDTH - 12 - PAD) / len(items)
    body = [_axes("", ylabel)]
    crowded = len(items) > 6
    for i, (label, value, url) in enumerate(items):
        h = (value / top) * (HEIGHT - PAD - 24)
        x = PAD + i * slot + slot * 0.15
        bar = (
            f'<rect x="{x:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{max(h, 1):.1f}" fill="{COLORS[i % len(COLORS)]}"/>'
        )
        body.append(_link(url, bar, f"{label}: {value:,.0f}"))
        body.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - PAD - h - 4:.1f}" font-size="11" '
            f'text-anchor="middle">{value:,.0f}</text>'
        )
        y = HEIGHT - PAD + 14
        cx = x + slot * 0.35
        if crowded:
            body.append(
                f'<text x="{cx:.1f}" y="{y}" font-size="10" text-anchor="end" '
                f'transform="rotate(-30 {cx:.1f} {y})">{_e(label[:16])}</text>'
            )
        else:
            body.append(
                f'<text x="{cx:.1f}" y="{y}" font-size="11" text-anchor="middle">'
                f"{_e(label[:16])}</text>"
            )
    return _svg("".join(body), title)


def pareto_svg(points, a_share, b_share, bands, title) -> SafeString:
    body = []
    for i, (x0, x1, _code, label, url) in enumerate(bands):
        band = (
            f'<rect x="{_sx(x0):.1f}" y="12" width="{max(_sx(x1) - _sx(x0), 1):.1f}" '
            f'height="{HEIGHT - PAD - 12}" fill="{COLORS[i]}" fill-opacity="0.10"/>'
            f'<text x="{(_sx(x0) + _sx(x1)) / 2:.1f}" y="{HEIGHT - PAD - 8}" font-size="12" '
            f'text-anchor="middle" fill="{COLORS[i]}">{_e(label)}</text>'
        )
        body.append(_link(url, band, label))
    body.append(_axes(_("share of customers (%)"), _("cumulative share (%)")))
    if points:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_sx(x / 100):.1f},{_sy(y / 100):.1f}"
            for i, (x, y) in enumerate([(0.0, 0.0), *points, (100.0, points[-1][1])])
        )
        body.append(f'<path d="{path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    for share, name, color in ((a_share, "A", "#38a169"), (b_share, "B", "#dd6b20")):
        y = _sy(share / 100)
        body.append(
            f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - 12}" y2="{y:.1f}" stroke="{color}" '
            f'stroke-dasharray="5,4"/><text x="{WIDTH - 16}" y="{y - 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="{color}">{name} {share:g}%</text>'
        )
    for tick in (0, 25, 50, 75, 100):
        body.append(
            f'<text x="{_sx(tick / 100):.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
            f'text-anchor="middle">{tick}</text><text x="{PAD - 4}" y="{_sy(tick / 100) + 3:.1f}"'
            f' font-size="10" text-anchor="end">{tick}</text>'
        )
    return _svg("".join(body), title)


def pyramid_svg(rows, title) -> SafeString:
    """Tiers top (highest) to bottom: customers to the left, spend to the right."""
    if not rows:
        return _empty(title)
    middle, gap, upper = WIDTH / 2, 60, 28
    height = upper + len(rows) * 34 + 10
    top_n = max(n for _l, n, _s, _u in rows) or 1
    top_s = max(s for _l, _n, s, _u in rows) or 1
    span = middle - gap - 64  # room for the numbers outside the bars
    body = [
        f'<text x="{middle - gap}" y="16" font-size="11" text-anchor="end">'
        f"{_e(_('customers'))}</text>"
        f'<text x="{middle + gap}" y="16" font-size="11">{_e(_("spend"))}</text>'
    ]
    for i, (label, n, spend, url) in enumerate(rows):
        y = upper + i * 34
        wn, ws = span * n / top_n, span * spend / top_s
        row = (
            f'<rect x="{middle - gap - wn:.1f}" y="{y}" width="{max(wn, 1):.1f}" height="26" '
            f'fill="#2b6cb0"/>'
            f'<rect x="{middle + gap:.1f}" y="{y}" width="{max(ws, 1):.1f}" height="26" '
            f'fill="#38a169"/>'
            f'<text x="{middle}" y="{y + 17}" font-size="11" text-anchor="middle">'
            f"{_e(label[:14])}</text>"
            f'<text x="{middle - gap - wn - 4:.1f}" y="{y + 17}" font-size="10" '
            f'text-anchor="end">{n:,}</text>'
            f'<text x="{middle + gap + ws + 4:.1f}" y="{y + 17}" font-size="10">{spend:,.0f}</text>'
        )
        body.append(_link(url, row, f"{label}: {n:,} / {spend:,.0f}"))
    return _svg("".join(body), title, height=height)


def heat_map_svg(cells, url_for, title) -> SafeString:
    """The 5 x 5 R-F grid (R5 on top), darker for more customers."""
    top = max(cells.values(), default=0) or 1
    size, left, upper = 50, 60, 16
    body = []
    for r in range(1, 6):
        for f in range(1, 6):
            count = cells.get((r, f), 0)
            shade = int(240 - 190 * (count / top))
            x, y = left + (f - 1) * size, upper + (5 - r) * size
            ink = "#fff" if shade < 140 else "#000"
            cell = (
                f'<rect x="{x}" y="{y}" width="{size - 2}" height="{size - 2}" '
                f'fill="rgb({shade},{min(shade + 10, 255)},255)"/>'
                f'<text x="{x + size / 2 - 1}" y="{y + size / 2 + 4}" font-size="11" '
                f'text-anchor="middle" fill="{ink}">{count:,}</text>'
            )
            body.append(_link(url_for(r, f), cell, f"R{r} F{f}: {count:,}"))
        body.append(
            f'<text x="{left - 8}" y="{upper + (5 - r) * size + size / 2 + 4}" font-size="11" '
            f'text-anchor="end">R{r}</text>'
        )
    for f in range(1, 6):
        body.append(
            f'<text x="{left + (f - 1) * size + size / 2}" y="{upper + 5 * size + 14}" '
            f'font-size="11" text-anchor="middle">F{f}</text>'
        )
    return _svg("".join(body), title, width=left + 5 * size + 20, height=upper + 5 * size + 24)


def scatter_svg(points, x_cut, y_cut, quadrants, title) -> SafeString:
    """Value (log scale) against expectation, coloured by quadrant, with the cut lines; the
    quadrant names link to their classes and each point to its customer."""
    body = [_axes(_("value (log scale)"), _("expectation"))]
    xs = [math.log10(1 + max(x, 0)) for x, _y, _c, _u in points]
    xmax = max([*xs, math.log10(1 + max(x_cut, 0)), 1e-9]) or 1.0
    ymax = max([y for _x, y, _c, _u in points] + [y_cut, 1e-9]) or 1.0
    for (_x, y, code, url), lx in zip(points, xs, strict=True):
        dot = (
            f'<circle cx="{_sx(lx / xmax):.1f}" cy="{_sy(y / ymax):.1f}" r="2.5" '
            f'fill="{QUADRANT_COLORS.get(code, "#4a5568")}" fill-opacity="0.7"/>'
        )
        body.append(_link(url, dot))
    cx, cy = _sx(math.log10(1 + max(x_cut, 0)) / xmax), _sy(min(y_cut / ymax, 1))
    body.append(
        f'<line x1="{cx:.1f}" y1="12" x2="{cx:.1f}" y2="{HEIGHT - PAD}" stroke="#999" '
        f'stroke-dasharray="4,3"/><line x1="{PAD}" y1="{cy:.1f}" x2="{WIDTH - 12}" '
        f'y2="{cy:.1f}" stroke="#999" stroke-dasharray="4,3"/>'
    )
    corners = {
        "dangerous": (PAD + 6, 26, "start"),
        "intimate": (WIDTH - 16, 26, "end"),
        "stranger": (PAD + 6, HEIGHT - PAD - 8, "start"),
        "safe": (WIDTH - 16, HEIGHT - PAD - 8, "end"),
    }
    for code, (x, y, anchor) in corners.items():
        label, url = quadrants[code]
        text = (
            f'<text x="{x}" y="{y}" font-size="12" font-weight="600" text-anchor="{anchor}" '
            f'fill="{QUADRANT_COLORS[code]}">{_e(label)}</text>'
        )
        body.append(_link(url, text, label))
    return _svg("".join(body), title)
