"""Parameters of each kind of classification model: defaults, validation and class codes.

A definition stores its parameters as JSON; `validate` checks them for one kind, fills in
the defaults and returns the normalised dict, or raises ``ValidationError`` listing every
problem in words a marketing manager understands (contradictory thresholds such as B
below A or tiers out of order are refused here, so the engine never sees them). This
module needs no database, so the order-file mode of `clientele classify` uses it too."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .constants import (
    ABC_CODES,
    CLUSTER_RANGE,
    CLV_CODES,
    LIFECYCLE_CODES,
    NO_PURCHASE,
    QUADRANT_CODES,
    RULE_CODES,
    Kind,
    cluster_code,
)

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
LANGUAGES = ("en", "zh-hans")
ABC_MEASURES = ("spend", "margin", "quantity", "orders")
PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
DAYS_PER_MONTH = 365.25 / 12
FEEDBACK_KINDS = ("complaint", "suggestion", "question", "praise")

# The usual R-F segment map (recency score, frequency score; 5 is best), as rectangles.
DEFAULT_RFM_SEGMENTS = [
    {"code": "champions", "r": [5, 5], "f": [4, 5]},
    {"code": "loyal", "r": [3, 4], "f": [4, 5]},
    {"code": "potential_loyalists", "r": [4, 5], "f": [2, 3]},
    {"code": "new_customers", "r": [5, 5], "f": [1, 1]},
    {"code": "promising", "r": [4, 4], "f": [1, 1]},
    {"code": "need_attention", "r": [3, 3], "f": [3, 3]},
    {"code": "about_to_sleep", "r": [3, 3], "f": [1, 2]},
    {"code": "at_risk", "r": [1, 2], "f": [3, 4]},
    {"code": "cannot_lose", "r": [1, 2], "f": [5, 5]},
    {"code": "hibernating", "r": [1, 2], "f": [1, 2]},
]

DEFAULT_TIERS = [
    {"code": "normal", "min_spend": 0, "rate": 0.95},
    {"code": "senior", "min_spend": 2000, "rate": 0.92},
    {"code": "vip", "min_spend": 5000, "rate": 0.90},
    {"code": "supreme_vip", "min_spend": 20000, "rate": 0.88},
]

DEFAULTS = {
    Kind.ABC: {
        "measure": "spend",
        "unit": "",
        "window_days": 365,
        "a_share": 80,
        "b_share": 95,
        "potential": {"min_demand": 1000, "max_coverage": 20},
    },
    Kind.TIER: {"tiers": DEFAULT_TIERS, "downgrade": "never", "window_days": 365},
    Kind.RFM: {
        "window_days": None,
        "method": "quintile",
        "cutoffs": None,
        "segments": DEFAULT_RFM_SEGMENTS,
    },
    Kind.CLV: {
        "period": "week",
        "horizon": 52,
        "discount_rate": 0.01,
        "window_days": None,
        "bands": [20, 50],
    },
    Kind.LIFECYCLE: {
        "new_days": 30,
        "risk_factor": 2.0,
        "default_gap_days": 90,
        "lapsed_days": 365,
        "reactivated_days": 90,
        "p_alive_below": None,
        "p_alive_from": None,
    },
    Kind.QUADRANT: {
        "value": {"measure": "spend", "window_days": 365, "definition": None},
        "expectation": {"kinds": ["complaint", "suggestion"], "window_days": 365},
        "value_cut": "median",
        "expectation_cut": "median",
    },
    # A rule segment: customers matching the expression are "in", the others "out" (see
    # rules.py for the expression language).
    Kind.RULE: {"expression": None},
    # k-means on standardised recency, frequency, monetary (from the RFM definition's
    # latest snapshot) and lifetime value (from the lifetime-value definition's, if any).
    Kind.CLUSTER: {"k": 4, "rfm_from": "rfm", "clv_from": "clv"},
}


class _Errors:
    """Collects messages so one save reports every problem at once."""

    def __init__(self):
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError({"parameters": self.messages})


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _number(errors, params, key, *, low=None, high=None, low_open=False, integer=False,
            optional=False, label=None):  # fmt: skip
    """The number under `key`, checked against its range; None (with a message) if bad."""
    value = params.get(key)
    name = label or key
    if value is None:
        if not optional:
            errors.add(_("%(name)s is required.") % {"name": name})
        return None
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            errors.add(_("%(name)s must be a number.") % {"name": name})
            return None
    if not _is_number(value) or not math.isfinite(float(value)):
        errors.add(_("%(name)s must be a number.") % {"name": name})
        return None
    if integer and value != int(value):
        errors.add(_("%(name)s must be a whole number.") % {"name": name})
        return None
    if low is not None and (value <= low if low_open else value < low):
        errors.add(
            (_("%(name)s must be above %(low)s.") if low_open else _("%(name)s must be at least %(low)s."))
            % {"name": name, "low": low}
        )  # fmt: skip
        return None
    if high is not None and value > high:
        errors.add(_("%(name)s must be at most %(high)s.") % {"name": name, "high": high})
        return None
    return int(value) if integer else float(value)


def _choice(errors, params, key, allowed):
    value = params.get(key)
    if value not in allowed:
        errors.add(
            _("%(name)s must be one of: %(allowed)s.")
            % {"name": key, "allowed": ", ".join(str(a) for a in allowed)}
        )
        return None
    return value


def _window(errors, params, key="window_days"):
    """A window in days (None = the whole history)."""
    return _number(errors, params, key, low=1, high=36500, integer=True, optional=True)


def _money(errors, value, name):
    """A non-negative amount with at most two decimals, as float."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = None
    if isinstance(value, bool) or amount is None or not amount.is_finite() or amount < 0:
        errors.add(_("%(name)s must be an amount of 0 or more.") % {"name": name})
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.add(_("%(name)s has more than two decimals.") % {"name": name})
        return None
    return float(amount)


def _merged(kind, params):
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationError({"parameters": [_("Parameters must be a JSON object.")]})
    merged = dict(DEFAULTS.get(kind, {}))
    merged.update(params)
    return merged


def validate(kind: str, params: dict | None) -> dict:
    """Check `params` for a definition of `kind`; return them normalised, defaults filled.

    Raises ``ValidationError({"parameters": [...]})`` naming every problem."""
    if kind not in DEFAULTS:
        raise ValidationError({"kind": [_("Unknown kind of model: %(kind)s.") % {"kind": kind}]})
    params = _merged(kind, params)
    unknown = sorted(set(params) - set(DEFAULTS[kind]))
    errors = _Errors()
    if unknown:
        errors.add(_("Unknown parameters: %(names)s.") % {"names": ", ".join(unknown)})
    result = {
        Kind.ABC: _abc,
        Kind.TIER: _tier,
        Kind.RFM: _rfm,
        Kind.CLV: _clv,
        Kind.LIFECYCLE: _lifecycle,
        Kind.QUADRANT: _quadrant,
        Kind.RULE: _rule,
        Kind.CLUSTER: _cluster,
    }[kind](errors, params)
    errors.raise_if_any()
    return result


def _abc(errors, p):
    out = {
        "measure": _choice(errors, p, "measure", ABC_MEASURES),
        "unit": str(p.get("unit") or "").strip(),
        "window_days": _window(errors, p),
        "a_share": _number(
            errors, p, "a_share", low=0, high=100, low_open=True, label=_("A share")
        ),
        "b_share": _number(
            errors, p, "b_share", low=0, high=100, low_open=True, label=_("B share")
        ),
        "potential": None,
    }
    if out["measure"] == "quantity" and not out["unit"]:
        errors.add(_("ABC by quantity needs the unit of the products to count (e.g. t)."))
    for key in ("a_share", "b_share"):
        if out[key] is not None and round(out[key], 2) != out[key]:
            errors.add(_("%(name)s has more than two decimals.") % {"name": key})
    if out["a_share"] is not None and out["b_share"] is not None:
        if out["b_share"] <= out["a_share"]:
            errors.add(
                _(
                    "B's cumulative share (%(b)s%%) must be above A's (%(a)s%%): B takes the "
                    "customers after A."
                )
                % {"a": _plain(out["a_share"]), "b": _plain(out["b_share"])}
            )
    potential = p.get("potential")
    if potential is not None:
        if not isinstance(potential, dict):
            errors.add(_("potential must be an object with min_demand and max_coverage."))
        else:
            out["potential"] = {
                "min_demand": _number(errors, potential, "min_demand", low=0, low_open=True),
                "max_coverage": _number(
                    errors, potential, "max_coverage", low=0, high=100, low_open=True
                ),
            }
    return out


def _tier(errors, p):
    tiers = p.get("tiers")
    out = {
        "tiers": [],
        "downgrade": _choice(errors, p, "downgrade", ("never", "rolling")),
        "window_days": _window(errors, p),
    }
    if out["downgrade"] == "rolling" and out["window_days"] is None:
        errors.add(_("A rolling downgrade needs window_days, the length of the window."))
    if not isinstance(tiers, list) or not tiers:
        errors.add(_("tiers must be a list with at least one tier."))
        return out
    seen = set()
    for index, tier in enumerate(tiers, start=1):
        if not isinstance(tier, dict):
            errors.add(_("Tier %(n)s must be an object.") % {"n": index})
            continue
        code = tier.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            errors.add(
                _("Tier %(n)s needs a code of letters, digits, - or _ (at most 40).") % {"n": index}
            )
        elif code in seen:
            errors.add(_("The tier code %(code)s is used twice.") % {"code": code})
        seen.add(code)
        name = _("Tier %(code)s") % {"code": code}
        out["tiers"].append(
            {
                "code": code,
                "min_spend": _money(errors, tier.get("min_spend"), name + " min_spend"),
                "rate": _number(errors, tier, "rate", low=0, high=1, low_open=True,
                                label=name + " rate"),
            }
        )  # fmt: skip
    valid = [t for t in out["tiers"] if t["min_spend"] is not None and t["rate"] is not None]
    if len(valid) != len(out["tiers"]):
        return out
    if valid[0]["min_spend"] != 0:
        errors.add(
            _("The first tier (%(code)s) must start at 0 so every customer has a tier.")
            % {"code": valid[0]["code"]}
        )
    for lower, higher in zip(valid, valid[1:], strict=False):
        if higher["min_spend"] <= lower["min_spend"]:
            errors.add(
                _(
                    "Tiers are out of order: %(high)s needs %(high_min)s, which is not more "
                    "than %(low)s (%(low_min)s). List tiers from lowest to highest spend."
                )
                % {
                    "high": higher["code"],
                    "high_min": _plain(higher["min_spend"]),
                    "low": lower["code"],
                    "low_min": _plain(lower["min_spend"]),
                }
            )
        elif higher["rate"] > lower["rate"]:
            errors.add(
                _(
                    "Tier %(high)s gives a price rate of %(high_rate)s, worse than the lower "
                    "tier %(low)s (%(low_rate)s): a higher tier cannot pay more."
                )
                % {
                    "high": higher["code"],
                    "high_rate": _plain(higher["rate"]),
                    "low": lower["code"],
                    "low_rate": _plain(lower["rate"]),
                }
            )
    return out


def _increasing(errors, values, name, *, integer, low):
    if not isinstance(values, list) or len(values) != 4:
        errors.add(_("%(name)s needs four cut-offs (for scores 2 to 5).") % {"name": name})
        return None
    checked = [_number(errors, {name: v}, name, low=low, integer=integer) for v in values]
    if any(v is None for v in checked):
        return None
    if any(b <= a for a, b in zip(checked, checked[1:], strict=False)):
        errors.add(_("The cut-offs of %(name)s must increase strictly.") % {"name": name})
        return None
    return checked


def _rfm(errors, p):
    out = {
        "window_days": _window(errors, p),
        "method": _choice(errors, p, "method", ("quintile", "cutoffs")),
        "cutoffs": None,
        "segments": [],
    }
    if out["method"] == "cutoffs":
        cut = p.get("cutoffs")
        if not isinstance(cut, dict):
            errors.add(
                _("The cut-off method needs cutoffs for recency_days, frequency and monetary.")
            )
        else:
            out["cutoffs"] = {
                "recency_days": _increasing(
                    errors, cut.get("recency_days"), "recency_days", integer=True, low=0
                ),
                "frequency": _increasing(errors, cut.get("frequency"), "frequency",
                                         integer=True, low=1),
                "monetary": _increasing(errors, cut.get("monetary"), "monetary",
                                        integer=False, low=0),
            }  # fmt: skip
    segments = p.get("segments")
    if not isinstance(segments, list) or not segments:
        errors.add(_("segments must be a list of R-F rectangles."))
        return out
    owner: dict[tuple[int, int], str] = {}
    for index, seg in enumerate(segments, start=1):
        if not isinstance(seg, dict) or not CODE_RE.match(str(seg.get("code", ""))):
            errors.add(_("Segment %(n)s needs a code.") % {"n": index})
            continue
        if seg["code"] == NO_PURCHASE:
            errors.add(_("The segment code %(code)s is reserved.") % {"code": NO_PURCHASE})
        ranges = []
        for axis in ("r", "f"):
            span = seg.get(axis)
            if (
                not isinstance(span, list)
                or len(span) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in span)
                or not 1 <= span[0] <= span[1] <= 5
            ):
                errors.add(
                    _("Segment %(code)s: %(axis)s must be [low, high] with 1 <= low <= high <= 5.")
                    % {"code": seg["code"], "axis": axis}
                )
                break
            ranges.append(span)
        else:
            out["segments"].append({"code": seg["code"], "r": ranges[0], "f": ranges[1]})
            for r in range(ranges[0][0], ranges[0][1] + 1):
                for f in range(ranges[1][0], ranges[1][1] + 1):
                    if (r, f) in owner:
                        errors.add(
                            _("The cell R%(r)s F%(f)s is in both %(a)s and %(b)s.")
                            % {"r": r, "f": f, "a": owner[(r, f)], "b": seg["code"]}
                        )
                    owner[(r, f)] = seg["code"]
    if len(out["segments"]) == len(segments):
        missing = [f"R{r} F{f}" for r in range(1, 6) for f in range(1, 6) if (r, f) not in owner]
        if missing:
            errors.add(
                _("These R-F cells belong to no segment: %(cells)s.")
                % {"cells": ", ".join(missing)}
            )
    return out


def _clv(errors, p):
    out = {
        "period": _choice(errors, p, "period", tuple(PERIOD_DAYS)),
        "horizon": _number(errors, p, "horizon", low=1, high=3660, integer=True),
        "discount_rate": _number(errors, p, "discount_rate", low=0, high=0.5,
                                 label=_("discount_rate (per month)")),
        "window_days": _window(errors, p),
        "bands": None,
    }  # fmt: skip
    bands = p.get("bands")
    if (
        not isinstance(bands, list)
        or len(bands) != 2
        or not all(_is_number(b) for b in bands)
        or not 0 < bands[0] < bands[1] < 100
    ):
        errors.add(
            _(
                "bands must be two percentages of customers, e.g. [20, 50]: the top 20% are "
                "high value, the next up to 50% medium; the first must be below the second."
            )
        )
    else:
        out["bands"] = [float(b) for b in bands]
    return out


def _lifecycle(errors, p):
    out = {
        "new_days": _number(errors, p, "new_days", low=1, high=3650, integer=True),
        "risk_factor": _number(errors, p, "risk_factor", low=1, high=100),
        "default_gap_days": _number(errors, p, "default_gap_days", low=1, high=3650,
                                    integer=True),
        "lapsed_days": _number(errors, p, "lapsed_days", low=1, high=36500, integer=True),
        "reactivated_days": _number(errors, p, "reactivated_days", low=1, high=3650,
                                    integer=True),
        "p_alive_below": _number(errors, p, "p_alive_below", low=0, high=1, low_open=True,
                                 optional=True),
        "p_alive_from": p.get("p_alive_from") or None,
    }  # fmt: skip
    if out["risk_factor"] is not None and round(out["risk_factor"], 1) != out["risk_factor"]:
        errors.add(_("risk_factor takes at most one decimal (e.g. 2.5)."))
    if out["new_days"] is not None and out["lapsed_days"] is not None:
        if out["new_days"] >= out["lapsed_days"]:
            errors.add(
                _(
                    "new_days (%(new)s) must be shorter than lapsed_days (%(lapsed)s): a "
                    "customer cannot stay new longer than it takes to lapse."
                )
                % {"new": out["new_days"], "lapsed": out["lapsed_days"]}
            )
    if (out["p_alive_below"] is None) != (out["p_alive_from"] is None):
        errors.add(
            _(
                "p_alive_below and p_alive_from go together: the threshold and the key of the "
                "lifetime-value definition whose probability alive it reads."
            )
        )
    return out


def _quadrant(errors, p):
    value = p.get("value") if isinstance(p.get("value"), dict) else None
    expectation = p.get("expectation") if isinstance(p.get("expectation"), dict) else None
    out = {"value": None, "expectation": None, "value_cut": "median", "expectation_cut": "median"}
    if value is None:
        errors.add(_("value must be an object: {measure: spend|clv, window_days, definition}."))
    else:
        measure = _choice(errors, value, "measure", ("spend", "clv"))
        definition = value.get("definition") or None
        if measure == "clv" and not definition:
            errors.add(_("Value by lifetime value needs the key of a lifetime-value definition."))
        out["value"] = {
            "measure": measure,
            "window_days": _window(errors, value) if measure == "spend" else None,
            "definition": definition if measure == "clv" else None,
        }
    if expectation is None:
        errors.add(_("expectation must be an object: {kinds: [...], window_days}."))
    else:
        kinds = expectation.get("kinds")
        if not isinstance(kinds, list) or not kinds or not set(kinds) <= set(FEEDBACK_KINDS):
            errors.add(
                _("expectation kinds must be a non-empty list of: %(kinds)s.")
                % {"kinds": ", ".join(FEEDBACK_KINDS)}
            )
            kinds = None
        out["expectation"] = {
            "kinds": sorted(set(kinds)) if kinds else None,
            "window_days": _window(errors, expectation),
        }
    for key in ("value_cut", "expectation_cut"):
        cut = p.get(key)
        if cut == "median":
            out[key] = "median"
        else:
            out[key] = _number(errors, p, key, low=0)
    return out


def _rule(errors, p):
    """The expression, checked by the rule compiler (which reads tags, categories,
    definitions: this is the one kind whose validation needs the database)."""
    from . import rules

    expression = p.get("expression")
    if expression is None:
        errors.add(_("A rule segment needs an expression, e.g. %(example)s.")
                   % {"example": '{"all": [{"field": "spend", "op": ">=", "value": 299}]}'})  # fmt: skip
        return {"expression": None}
    for error in rules.validate(expression):
        errors.add(str(error))
    return {"expression": expression}


def _cluster(errors, p):
    low, high = CLUSTER_RANGE
    out = {
        "k": _number(errors, p, "k", low=low, high=high, integer=True,
                     label=_("k (number of clusters)")),
        "rfm_from": p.get("rfm_from") or None,
        "clv_from": p.get("clv_from") or None,
    }  # fmt: skip
    if out["rfm_from"] is None:
        errors.add(_("rfm_from needs the key of the RFM definition whose scores are clustered."))
    for key in ("rfm_from", "clv_from"):
        if out[key] is not None and not (isinstance(out[key], str) and CODE_RE.match(out[key])):
            errors.add(_("%(name)s must be the key of a definition.") % {"name": key})
    return out


def _plain(number) -> str:
    """A number without a pointless ".0"."""
    return f"{number:g}" if isinstance(number, float) else str(number)


def class_codes(kind: str, params: dict) -> list[str]:
    """Every class code a definition with these (validated) parameters can produce."""
    if kind == Kind.ABC:
        return list(ABC_CODES)
    if kind == Kind.TIER:
        return [t["code"] for t in params["tiers"]]
    if kind == Kind.RFM:
        codes = []
        for seg in params["segments"]:
            if seg["code"] not in codes:
                codes.append(seg["code"])
        return [*codes, NO_PURCHASE]
    if kind == Kind.CLV:
        return list(CLV_CODES)
    if kind == Kind.LIFECYCLE:
        return list(LIFECYCLE_CODES)
    if kind == Kind.QUADRANT:
        return list(QUADRANT_CODES)
    if kind == Kind.RULE:
        return list(RULE_CODES)
    if kind == Kind.CLUSTER:
        k = params.get("k") if isinstance(params, dict) else None
        low, high = CLUSTER_RANGE
        k = k if isinstance(k, int) and low <= k <= high else DEFAULTS[Kind.CLUSTER]["k"]
        return [*(cluster_code(n) for n in range(1, k + 1)), NO_PURCHASE]
    return []


def validate_labels(codes: list[str], labels) -> dict:
    """Check labels {code: {"en": ..., "zh-hans": ...}} against the definition's codes."""
    if labels in (None, ""):
        return {}
    if not isinstance(labels, dict):
        raise ValidationError({"labels": [_("Labels must be a JSON object by class code.")]})
    errors = []
    clean = {}
    for code, names in labels.items():
        if code not in codes:
            errors.append(
                _("There is no class %(code)s in this definition (classes: %(codes)s).")
                % {"code": code, "codes": ", ".join(codes)}
            )
            continue
        if not isinstance(names, dict) or not set(names) <= set(LANGUAGES):
            errors.append(
                _('Labels of %(code)s must be {"en": ..., "zh-hans": ...}.') % {"code": code}
            )
            continue
        if any(not isinstance(v, str) or len(v) > 60 for v in names.values()):
            errors.append(_("Labels of %(code)s must be text of at most 60 characters.")
                          % {"code": code})  # fmt: skip
            continue
        clean[code] = {lang: v.strip() for lang, v in names.items() if v.strip()}
    if errors:
        raise ValidationError({"labels": errors})
    return clean
