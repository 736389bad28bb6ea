"""A self-contained HTML report of one classification batch, charts drawn as inline SVG.

Viewable offline: no script, no stylesheet or font from anywhere else. The chart data come
from small aggregate queries on the result tables (counts per class, a sampled Pareto
curve, histogram bins), so the report costs the same for a thousand or a million customers.
"""

from __future__ import annotations

import html
import math

from .constants import DEFAULT_LABELS, Kind

WIDTH, HEIGHT, PAD = 560, 300, 44
COLORS = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", "#b7791f",
          "#e53e3e", "#4a5568", "#2c7a7b", "#9c4221"]  # fmt: skip
QUADRANT_COLORS = {"intimate": "#805ad5", "safe": "#38a169", "dangerous": "#e53e3e",
                   "stranger": "#a0aec0"}  # fmt: skip


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _label(item, code) -> str:
    own = (item.get("labels") or {}).get(code) or {}
    if own.get("en"):
        return own["en"]
    return str(DEFAULT_LABELS.get(code, code))


def _svg(body: str, width=WIDTH, height=HEIGHT, title="") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">'
        f'<rect width="{width}" height="{height}" fill="#fff"/>{body}</svg>'
    )


def _axes(xlabel: str, ylabel: str) -> str:
    x0, y0, x1, y1 = PAD, HEIGHT - PAD, WIDTH - 12, 12
    return (
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/>'
        f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333"/>'
        f'<text x="{(x0 + x1) / 2}" y="{HEIGHT - 8}" font-size="12" text-anchor="middle">'
        f"{_e(xlabel)}</text>"
        f'<text x="12" y="{(y0 + y1) / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 12 {(y0 + y1) / 2})">{_e(ylabel)}</text>'
    )


def _sx(fraction: float) -> float:
    return PAD + fraction * (WIDTH - 12 - PAD)


def _sy(fraction: float) -> float:
    return HEIGHT - PAD - fraction * (HEIGHT - PAD - 12)


def bar_chart(items: list[tuple[str, float]], title: str, ylabel: str, fmt="{:,.0f}") -> str:
    """Vertical bars with their values written on top."""
    if not items:
        return _svg('<text x="20" y="40">no data</text>', title=title)
    top = max(v for _l, v in items) or 1.0
    slot = (WIDTH - 12 - PAD) / len(items)
    body = [_axes("", ylabel)]
    for i, (label, value) in enumerate(items):
        h = (value / top) * (HEIGHT - PAD - 24)
        x = PAD + i * slot + slot * 0.15
        body.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{COLORS[i % len(COLORS)]}"><title>{_e(label)}: '
            f"{_e(fmt.format(value))}</title></rect>"
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - PAD - h - 4:.1f}" font-size="11" '
            f'text-anchor="middle">{_e(fmt.format(value))}</text>'
            + _bar_label(x + slot * 0.35, label, crowded=len(items) > 6)
        )
    return _svg("".join(body), title=title)


def _bar_label(x: float, label: str, crowded: bool) -> str:
    """The label under a bar; slanted when many bars would make them overlap."""
    y = HEIGHT - PAD + 14
    if crowded:
        return (
            f'<text x="{x:.1f}" y="{y}" font-size="10" text-anchor="end" '
            f'transform="rotate(-30 {x:.1f} {y})">{_e(label[:14])}</text>'
        )
    return f'<text x="{x:.1f}" y="{y}" font-size="11" text-anchor="middle">{_e(label[:14])}</text>'


def pareto_chart(points: list[tuple[float, float]], a_share: float, b_share: float) -> str:
    """Cumulative share of the measure against the share of customers, with the A and B
    cut lines."""
    body = [_axes("share of customers (%)", "cumulative share of measure (%)")]
    if points:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_sx(x / 100):.1f},{_sy(y / 100):.1f}"
            for i, (x, y) in enumerate([(0.0, 0.0), *points])
        )
        body.append(f'<path d="{path}" fill="none" stroke="#2b6cb0" stroke-width="2"/>')
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
    return _svg("".join(body), title="Pareto curve")


def heat_map(cells: dict[tuple[int, int], int]) -> str:
    """The 5x5 R-F grid, darker for more customers."""
    top = max(cells.values(), default=0) or 1
    size, left, upper = 48, 70, 20
    body = []
    for r in range(1, 6):
        for f in range(1, 6):
            count = cells.get((r, f), 0)
            shade = int(235 - 190 * (count / top))
            x, y = left + (f - 1) * size, upper + (5 - r) * size
            text_color = "#fff" if shade < 140 else "#000"
            body.append(
                f'<rect x="{x}" y="{y}" width="{size - 2}" height="{size - 2}" '
                f'fill="rgb({shade},{shade + 10 if shade < 245 else 255},255)"/>'
                f'<text x="{x + size / 2 - 1}" y="{y + size / 2 + 4}" font-size="11" '
                f'text-anchor="middle" fill="{text_color}">{count:,}</text>'
            )
        body.append(
            f'<text x="{left - 8}" y="{upper + (5 - r) * size + size / 2 + 4}" font-size="11" '
            f'text-anchor="end">R{r}</text>'
        )
    for f in range(1, 6):
        body.append(
            f'<text x="{left + (f - 1) * size + size / 2}" y="{upper + 5 * size + 14}" '
            f'font-size="11" text-anchor="middle">F{f}</text>'
        )
    return _svg("".join(body), width=left + 5 * size + 20, height=upper + 5 * size + 24,
                title="RFM grid")  # fmt: skip


def scatter(points: list[tuple[float, float, str]], xlabel: str, ylabel: str,
            x_cut: float, y_cut: float) -> str:  # fmt: skip
    """Value (log scale) against expectation, coloured by quadrant, with the cut lines."""
    body = [_axes(xlabel, ylabel)]
    if points:
        xs = [math.log10(1 + max(x, 0)) for x, _y, _c in points]
        ys = [y for _x, y, _c in points]
        xmax, ymax = (max(xs) or 1.0), (max(ys) or 1.0)
        for (_x, y, code), lx in zip(points, xs, strict=True):
            body.append(
                f'<circle cx="{_sx(lx / xmax):.1f}" cy="{_sy(y / ymax):.1f}" r="2" '
                f'fill="{QUADRANT_COLORS.get(code, "#4a5568")}" fill-opacity="0.6"/>'
            )
        cx, cy = _sx(math.log10(1 + max(x_cut, 0)) / xmax), _sy(min(y_cut / ymax, 1))
        body.append(
            f'<line x1="{cx:.1f}" y1="12" x2="{cx:.1f}" y2="{HEIGHT - PAD}" stroke="#999" '
            f'stroke-dasharray="4,3"/><line x1="{PAD}" y1="{cy:.1f}" x2="{WIDTH - 12}" '
            f'y2="{cy:.1f}" stroke="#999" stroke-dasharray="4,3"/>'
        )
    return _svg("".join(body), title="Value x expectation")


def _q(executor, sql):
    return executor.query(sql)


def write_report(path: str, executor, results: dict, models: dict, title: str) -> None:
    """Write the HTML report for the result tables of one batch."""
    sections = []
    for key, (item, table) in results.items():
        name, kind, params = item["name"], item["kind"], item["parameters"]
        t = table.get_name()
        counts = _q(executor, f"SELECT code, COUNT(*), SUM(measure) FROM {t} GROUP BY code")
        order = {code: i for i, code in enumerate(_codes(item))}
        counts.sort(key=lambda row: order.get(row[0], 99))
        charts = []
        if kind == Kind.ABC:
            n = _q(executor, f"SELECT COUNT(*) FROM {t} WHERE share IS NOT NULL")[0][0]
            step = max(1, n // 200)
            pts = _q(
                executor,
                f"SELECT rank, share FROM {t} WHERE share IS NOT NULL AND "
                f"(rank % {step} = 0 OR rank = {n}) ORDER BY rank",
            )
            charts.append(pareto_chart([(100.0 * r / n, s) for r, s in pts],
                                       params["a_share"], params["b_share"]))  # fmt: skip
        elif kind == Kind.TIER:
            rows = {c: (k, s or 0) for c, k, s in counts}
            tiers = [tier["code"] for tier in params["tiers"]][::-1]
            charts.append(bar_chart([(_label(item, c), rows.get(c, (0, 0))[0]) for c in tiers],
                                    "customers per tier", "customers"))  # fmt: skip
            charts.append(bar_chart([(_label(item, c), rows.get(c, (0, 0))[1]) for c in tiers],
                                    "spend per tier", "spend"))  # fmt: skip
        elif kind == Kind.RFM:
            cells = _q(executor, f"SELECT score_r, score_f, COUNT(*) FROM {t} "
                                 "WHERE score_r IS NOT NULL GROUP BY score_r, score_f")  # fmt: skip
            charts.append(heat_map({(int(r), int(f)): k for r, f, k in cells}))
        elif kind == Kind.CLV:
            bins = _q(
                executor,
                f"SELECT CAST(FLOOR(LOG10(1 + CASE WHEN clv > 0 THEN clv ELSE 0 END) * 4) AS INTEGER)"
                f" AS b, COUNT(*) FROM {t} WHERE clv IS NOT NULL GROUP BY b ORDER BY b",
            )
            charts.append(bar_chart([(f"<{10 ** ((b + 1) / 4) - 1:,.0f}", k) for b, k in bins],
                                    "lifetime value distribution", "customers"))  # fmt: skip
        elif kind == Kind.QUADRANT:
            n = _q(executor, f"SELECT COUNT(*) FROM {t}")[0][0]
            step = max(1, n // 1500)
            pts = _q(executor, f"SELECT measure, expectation, code FROM {t} "
                               f"WHERE customer_id % {step} = 0")  # fmt: skip
            cuts = models.get("other_outputs", {}).get(key, {})
            charts.append(scatter(pts, "value (log)", "expectation",
                                  cuts.get("value_cut", 0.0), cuts.get("expectation_cut", 0.0)))  # fmt: skip
        if kind in (Kind.LIFECYCLE, Kind.CLV, Kind.QUADRANT, Kind.ABC, Kind.RFM):
            charts.append(bar_chart([(_label(item, c), k) for c, k, _s in counts],
                                    "customers per class", "customers"))  # fmt: skip
        rows = "".join(
            f"<tr><td>{_e(c)}</td><td>{_e(_label(item, c))}</td><td>{k:,}</td>"
            f"<td>{(s or 0):,.2f}</td></tr>"
            for c, k, s in counts
        )
        sections.append(
            f"<section><h2>{_e(name)} <small>({_e(kind)})</small></h2>"
            f'<div class="charts">{"".join(charts)}</div>'
            f"<table><tr><th>class</th><th>label</th><th>customers</th><th>sum of measure</th>"
            f"</tr>{rows}</table></section>"
        )
    bg, gg = models.get("bgnbd"), models.get("gamma_gamma")
    params = (
        "".join(
            f"<tr><th>{_e(model)}</th><td>{_e(', '.join(f'{k} = {v:.4g}' for k, v in values.items()))}"
            f"</td></tr>"
            for model, values in (("BG/NBD", bg), ("Gamma-Gamma", gg))
            if values
        )
        or "<tr><td>no model could be fitted (no purchases)</td></tr>"
    )
    summary = (
        f"<p>{models['customers']:,} customers, {models['orders']:,} orders up to "
        f"{_e(models['until'])}; {models['ignored_future_orders']:,} later orders ignored; "
        f"{models['rejected_rows']:,} rows rejected. Lifetime value per {_e(models['period'])}"
        f", horizon {models['horizon']} periods.</p>"
    )
    document = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:24px;color:#1a202c}}
section{{margin-bottom:32px}} .charts svg{{margin:8px 16px 8px 0;border:1px solid #e2e8f0}}
table{{border-collapse:collapse}} td,th{{border:1px solid #e2e8f0;padding:4px 8px;text-align:left}}
small{{color:#718096;font-weight:normal}}
</style></head><body>
<h1>{_e(title)}</h1>{summary}
<table>{params}</table>
{"".join(sections)}
</body></html>
"""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(document)


def _codes(item) -> list[str]:
    from .parameters import class_codes

    return class_codes(item["kind"], item["parameters"])
