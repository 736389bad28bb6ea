"""Rule segments: one compiler from a JSON expression to a Django ``Q`` over Customer.

The same expression is stored in a rule definition (``parameters["expression"]``), sent
by the API and the live count of the edit page, and checked by campaigns (one customer's
eligibility). An expression is a tree:

    {"all": [clause, ...]}      every clause holds
    {"any": [clause, ...]}      at least one holds
    {"not": clause}             the clause does not hold
    {"field": ..., "op": ..., "value": ..., ...}   a condition (see FIELDS)

for example::

    {"all": [
        {"field": "spend", "op": ">=", "value": 299, "window_days": 365},
        {"any": [{"field": "tag", "op": "has", "value": "vip"},
                 {"field": "class", "definition": "rfm", "op": "in", "value": ["champions"]}]},
        {"not": {"field": "consent", "channel": "sms", "op": "=", "value": "opted_out"}}
    ]}

Values: `owner` and `team` take ids; `created` and `last_order` ISO dates (local days) or
`within_days` N; `tag` tag names; `bought_product` SKUs; `bought_category` category codes
(sub-categories included); `consent` a `channel` and opted_in / opted_out / unknown;
`class` a `definition` key and class codes; `segment` the key of another rule definition
(expanded live; cycles refused); `custom.<key>` is typed by its CustomField. Lists go with
in / not_in / has* / between. "!=" and not_in include customers without a value; ordered
comparisons never match a missing value (`last_order` compares customers who ordered).

Errors name the clause by its path ("all[1].any[0]", "" for the root) and its field.
Everything compiles to SQL: order aggregates, tags, consents and classes are correlated
``Exists``/``Subquery`` on indexed columns, so a count is one query and `matches` (one
customer) is one query on the primary key. Only valued orders count (``VALUE_STATUSES``:
cancelled and returned never do), placed before `at` (default now); windows are the
``window_days`` days up to `at`. A date `at` means the end of that local day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = [
    "CUSTOM_OPERATORS",
    "FIELDS",
    "MAX_CLAUSES",
    "MAX_DEPTH",
    "RuleError",
    "RuleExpressionError",
    "compile_q",
    "count",
    "customer_figures",
    "customers_matching",
    "describe",
    "matcher",
    "matches",
    "validate",
]

MAX_DEPTH = 12  # nesting of all/any/not, including referenced segments
MAX_CLAUSES = 200  # conditions in one expression, including referenced segments
MAX_WINDOW_DAYS = 36500
MAX_INTEGER = 2**53  # ids and counts (exact in JSON clients, within every database's integers)
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
MONEY = DecimalField(max_digits=20, decimal_places=2)
NUMBER = DecimalField(max_digits=30, decimal_places=6)

# Operator groups.
EQUALITY = ("=", "!=", "in", "not_in")
ORDERED = ("=", "!=", "<", "<=", ">", ">=", "between")
TEXT = ("=", "!=", "in", "not_in", "contains", "is_empty", "is_not_empty")
DATES = ("=", "!=", "<", "<=", ">", ">=", "between", "within_days", "not_within_days")
HAS = ("has", "has_not")
NO_VALUE = ("is_empty", "is_not_empty")

# field -> (type, operators, label). Custom fields are "custom.<key>", typed by their
# CustomField definition.
FIELDS = {
    "kind": ("choice", EQUALITY, gettext_lazy("Customer kind")),
    "status": ("choice", EQUALITY, gettext_lazy("Customer status")),
    "source": ("choice", (*EQUALITY, *NO_VALUE), gettext_lazy("Source")),
    "province": ("text", TEXT, gettext_lazy("Province")),
    "city": ("text", TEXT, gettext_lazy("City")),
    "owner": ("ref", (*EQUALITY, *NO_VALUE), gettext_lazy("Account manager")),
    "team": ("ref", (*EQUALITY, *NO_VALUE), gettext_lazy("Team")),
    "created": ("date", DATES, gettext_lazy("Created")),
    "birthday_month": ("month", (*EQUALITY, *NO_VALUE), gettext_lazy("Birthday month")),
    "annual_demand": ("number", (*ORDERED, *NO_VALUE), gettext_lazy("Declared annual demand")),
    "do_not_disturb": ("bool", ("=",), gettext_lazy("Do not disturb")),
    "tag": ("tag", (*HAS, "has_all"), gettext_lazy("Tag")),
    "consent": ("consent", ("=", "!="), gettext_lazy("Consent")),
    "spend": ("money", ORDERED, gettext_lazy("Spend")),
    "orders": ("count", ORDERED, gettext_lazy("Number of orders")),
    "last_order": ("date", (*DATES, *NO_VALUE), gettext_lazy("Last order date")),
    "bought_category": ("category", HAS, gettext_lazy("Bought from product category")),
    "bought_product": ("product", HAS, gettext_lazy("Bought product")),
    "class": ("class", EQUALITY, gettext_lazy("Class of another definition")),
    "segment": ("segment", ("in", "not_in"), gettext_lazy("Member of another segment")),
}
# Operators of custom fields, by the CustomField type.
CUSTOM_OPERATORS = {
    "number": (*ORDERED, *NO_VALUE),
    "date": (*ORDERED, *NO_VALUE),
    "choice": (*EQUALITY, *NO_VALUE),
    "text": TEXT,
}
# Extra keys a condition may carry, per field type.
EXTRA_KEYS = {
    "money": ("window_days",),
    "count": ("window_days",),
    "category": ("window_days",),
    "product": ("window_days",),
    "consent": ("channel",),
    "class": ("definition",),
    "number": ("unit",),
}
WINDOWED = ("money", "count", "category", "product")
CONSENT_VALUES = ("opted_in", "opted_out", "unknown")


@dataclass(frozen=True)
class RuleError:
    """One problem of an expression: where (`path`, "" for the root), which field (""
    for a group) and what, in the active language."""

    path: str
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"path": self.path, "field": self.field, "message": str(self.message)}

    def __str__(self):
        where = self.path or _("(root)")
        if self.field:
            return f"{where} {self.field}: {self.message}"
        return f"{where}: {self.message}"


class RuleExpressionError(ValueError):
    """An expression that cannot be evaluated; `errors` lists every problem."""

    def __init__(self, errors: list[RuleError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


def validate(expression, *, definition_key: str | None = None) -> list[RuleError]:
    """Every problem of `expression` (empty list: it is valid). `definition_key` is the
    rule definition being edited, so a reference to itself (a cycle) is refused."""
    compiler = _Compiler(
        timezone.now(), stack=(definition_key,) if definition_key else (), strict=True
    )
    compiler.compile(expression)
    return compiler.errors


def compile_q(expression, *, at=None, definition_key: str | None = None) -> Q:
    """The expression as a Q over Customer; raises RuleExpressionError."""
    compiler = _Compiler(_resolve_at(at), stack=(definition_key,) if definition_key else ())
    q = compiler.compile(expression)
    if compiler.errors:
        raise RuleExpressionError(compiler.errors)
    return q


def customers_matching(expression, *, at=None):
    """The customers the expression selects, as a QuerySet (raises RuleExpressionError)."""
    from clientele.customers.models import Customer

    return Customer.objects.filter(compile_q(expression, at=at))


def matches(expression, customer_id, *, at=None) -> bool:
    """Whether one customer matches: one query on the primary key (plus one lookup each
    for custom fields, product categories and referenced segments when the expression
    uses them; `matcher` compiles once for many customers)."""
    return customers_matching(expression, at=at).filter(pk=customer_id).exists()


def matcher(expression, *, at=None):
    """A function customer_id -> bool for many checks of one expression: compiled once
    (custom fields, categories and referenced segments are read once), then one query on
    the primary key per customer."""
    from clientele.customers.models import Customer

    q = compile_q(expression, at=at)

    def check(customer_id) -> bool:
        return Customer.objects.filter(q, pk=customer_id).exists()

    return check


def count(expression, *, at=None, queryset=None) -> int:
    """How many customers match (within `queryset`, e.g. a user's scope, if given)."""
    q = compile_q(expression, at=at)
    if queryset is None:
        from clientele.customers.models import Customer

        queryset = Customer.objects.all()
    return queryset.filter(q).order_by().count()


def _resolve_at(at) -> dt.datetime:
    if at is None:
        return timezone.now()
    if isinstance(at, dt.datetime):
        return at if timezone.is_aware(at) else timezone.make_aware(at)
    if isinstance(at, dt.date):
        return _day_start(at + dt.timedelta(days=1))
    raise TypeError("at must be a date or a datetime")


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of a local day, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(), timezone.get_default_timezone())


# --- the compiler -------------------------------------------------------------------------

_MATCH_NOTHING = Q(pk__in=[])


class _Compiler:
    """Walks the tree once, collecting every error and building the Q."""

    def __init__(self, at: dt.datetime, stack: tuple = (), strict: bool = False):
        self.at = at
        # strict: also check that the tags, products and classes named exist (validation
        # when saving); evaluation needs no such lookups.
        self.strict = strict
        self.errors: list[RuleError] = []
        self.clauses = 0
        self.stack = tuple(stack)  # rule definitions being expanded (cycle check)
        self._custom = None
        self._prefix = ""

    def error(self, path, field, message):
        self.errors.append(RuleError(self._prefix + path, field, message))

    def compile(self, expression) -> Q:
        return self.node(expression, "", 1)

    def node(self, node, path: str, depth: int) -> Q:
        if depth > MAX_DEPTH:
            self.error(path, "", _("Too deeply nested (at most %(n)s levels).") % {"n": MAX_DEPTH})
            return _MATCH_NOTHING
        if not isinstance(node, dict):
            self.error(path, "", _("A clause must be an object: a condition or all/any/not."))
            return _MATCH_NOTHING
        groups = [k for k in ("all", "any", "not") if k in node]
        if groups:
            if len(node) != 1:
                self.error(
                    path,
                    "",
                    _("A group has exactly one key (all, any or not); found: %(keys)s.")
                    % {"keys": ", ".join(sorted(map(str, node)))},
                )
                return _MATCH_NOTHING
            key = groups[0]
            sub = f"{path}.{key}" if path else key
            if key == "not":
                return ~self.node(node["not"], sub, depth + 1)
            items = node[key]
            if not isinstance(items, list) or not items:
                self.error(path, "", _("%(key)s needs a non-empty list of clauses.") % {"key": key})
                return _MATCH_NOTHING
            parts = [self.node(item, f"{sub}[{i}]", depth + 1) for i, item in enumerate(items)]
            q = parts[0]
            for part in parts[1:]:
                q = (q & part) if key == "all" else (q | part)
            return q
        return self.condition(node, path, depth)

    # --- conditions ----------------------------------------------------------------

    def condition(self, node, path, depth) -> Q:
        self.clauses += 1
        if self.clauses == MAX_CLAUSES + 1:
            self.error(path, "", _("Too many conditions (at most %(n)s).") % {"n": MAX_CLAUSES})
        if self.clauses > MAX_CLAUSES:
            return _MATCH_NOTHING
        field = node.get("field")
        if not isinstance(field, str) or not field:
            self.error(path, "", _("A condition needs a field."))
            return _MATCH_NOTHING
        if _has_nul(node):
            self.error(path, field, _("A value contains a NUL character."))
            return _MATCH_NOTHING
        spec = self.spec(field)
        if spec is None:
            self.error(
                path,
                field,
                _("Unknown field. Fields: %(fields)s, or custom.<key>.")
                % {"fields": ", ".join(FIELDS)},
            )
            return _MATCH_NOTHING
        kind, ops = spec[0], spec[1]
        allowed = {"field", "op", "value", *EXTRA_KEYS.get(kind, ())}
        unknown = sorted(set(map(str, node)) - allowed)
        if unknown:
            self.error(path, field, _("Unknown keys: %(keys)s.") % {"keys": ", ".join(unknown)})
            return _MATCH_NOTHING
        op = node.get("op")
        if op not in ops:
            self.error(
                path,
                field,
                _("Operator %(op)s does not apply; use one of: %(ops)s.")
                % {"op": op, "ops": ", ".join(ops)},
            )
            return _MATCH_NOTHING
        if op in NO_VALUE:
            if node.get("value") is not None:
                self.error(path, field, _("%(op)s takes no value.") % {"op": op})
                return _MATCH_NOTHING
        elif "value" not in node or node["value"] is None:
            self.error(path, field, _("A value is required."))
            return _MATCH_NOTHING
        window = None
        if kind in WINDOWED and node.get("window_days") is not None:
            window = self.window(node["window_days"], path, field)
            if window is None:
                return _MATCH_NOTHING
        handler = getattr(self, f"c_{kind}")
        before = len(self.errors)
        q = handler(node, field, op, node.get("value"), path, window=window, depth=depth)
        if len(self.errors) != before or q is None:
            return _MATCH_NOTHING
        return q

    def spec(self, field):
        if field in FIELDS:
            return FIELDS[field]
        if field.startswith("custom."):
            custom = self.custom_fields().get(field[7:])
            if custom is None:
                return None
            ops = CUSTOM_OPERATORS.get(custom.type, TEXT)
            kind = {"number": "cnumber", "date": "cdate", "choice": "cchoice"}.get(
                custom.type, "ctext"
            )
            return (kind, ops, custom.label)
        return None

    def custom_fields(self):
        if self._custom is None:
            from clientele.customers.models import CustomField

            self._custom = {f.key: f for f in CustomField.objects.all()}
        return self._custom

    # --- value parsing --------------------------------------------------------------

    def window(self, value, path, field):
        if not _is_int(value) or not 1 <= value <= MAX_WINDOW_DAYS:
            self.error(
                path,
                field,
                _("window_days must be a whole number of days from 1 to %(max)s.")
                % {"max": MAX_WINDOW_DAYS},
            )
            return None
        return int(value)

    def listed(self, op, value, path, field, parse):
        """The value parsed for the operator: a list for in/not_in/has*, a pair for
        between, else one value. None (with an error) if bad."""
        if op in ("in", "not_in", "has", "has_not", "has_all"):
            values = value if isinstance(value, list) else [value]
            if op in ("in", "not_in") and not isinstance(value, list):
                self.error(path, field, _("%(op)s needs a list of values.") % {"op": op})
                return None
            if not values:
                self.error(path, field, _("The list of values is empty."))
                return None
            if len(values) > 1000:
                self.error(path, field, _("At most 1,000 values."))
                return None
            parsed = [parse(v) for v in values]
            if any(p is None for p in parsed):
                return None
            return parsed
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                self.error(path, field, _("between needs two values: [low, high]."))
                return None
            low, high = parse(value[0]), parse(value[1])
            if low is None or high is None:
                return None
            if low > high:
                self.error(path, field, _("between: the low value is above the high value."))
                return None
            return (low, high)
        if isinstance(value, list | dict):
            self.error(path, field, _("%(op)s needs a single value.") % {"op": op})
            return None
        return parse(value)

    def parser(self, kind, path, field, **extra):
        def bad(message):
            self.error(path, field, message)
            return None

        def parse(v):
            if kind in ("money", "number"):
                if isinstance(v, bool) or not isinstance(v, int | float | str | Decimal):
                    return bad(_("%(value)s is not a number.") % {"value": _short(v)})
                try:
                    number = Decimal(str(v).strip())
                except InvalidOperation:
                    return bad(_("%(value)s is not a number.") % {"value": _short(v)})
                if not number.is_finite():
                    return bad(_("%(value)s is not a number.") % {"value": _short(v)})
                if kind == "money" and number != number.quantize(Decimal("0.01")):
                    return bad(_("An amount has at most two decimals."))
                if abs(number) >= Decimal("1e15"):
                    return bad(_("%(value)s is too large.") % {"value": _short(v)})
                return number
            if kind == "count":
                if not _is_int(v) or not 0 <= v <= MAX_INTEGER:
                    return bad(_("%(value)s is not a whole number of 0 or more.")
                               % {"value": _short(v)})  # fmt: skip
                return int(v)
            if kind == "date":
                if isinstance(v, str):
                    try:
                        day = dt.date.fromisoformat(v.strip())
                    except ValueError:
                        pass
                    else:
                        if MIN_DATE <= day <= MAX_DATE:
                            return day
                        return bad(
                            _("%(value)s is outside %(low)s to %(high)s.")
                            % {"value": _short(v), "low": MIN_DATE, "high": MAX_DATE}
                        )
                return bad(_("%(value)s is not a date (YYYY-MM-DD).") % {"value": _short(v)})
            if kind == "days":
                if not _is_int(v) or not 1 <= v <= MAX_WINDOW_DAYS:
                    return bad(
                        _("A number of days must be a whole number from 1 to %(max)s.")
                        % {"max": MAX_WINDOW_DAYS}
                    )
                return int(v)
            if kind == "month":
                if not _is_int(v) or not 1 <= v <= 12:
                    return bad(_("A month is a whole number from 1 to 12."))
                return int(v)
            if kind == "ref":
                if not _is_int(v) or not 1 <= v <= MAX_INTEGER:
                    return bad(_("%(value)s is not an id.") % {"value": _short(v)})
                return int(v)
            if kind == "text":
                if not isinstance(v, str | int) or isinstance(v, bool) or len(str(v)) > 500:
                    return bad(_("%(value)s is not a text of at most 500 characters.")
                               % {"value": _short(v)})  # fmt: skip
                return str(v)
            if kind == "choice":
                choices = extra["choices"]
                if not isinstance(v, str | int) or str(v) not in choices:
                    return bad(
                        _("%(value)s is not one of: %(choices)s.")
                        % {"value": _short(v), "choices": ", ".join(map(str, choices))}
                    )
                return str(v)
            raise AssertionError(kind)

        return parse

    # --- customer fields ------------------------------------------------------------

    def c_choice(self, node, field, op, value, path, **kw):
        from clientele.customers import choices

        options = {
            "kind": choices.CustomerKind,
            "status": choices.CustomerStatus,
            "source": choices.CustomerSource,
        }[field].values
        if op in NO_VALUE:
            return _empty_q(field, op == "is_empty", text=True)
        parsed = self.listed(op, value, path, field, self.parser("choice", path, field,
                                                                 choices=options))  # fmt: skip
        return None if parsed is None else _equality(field, op, parsed)

    def c_text(self, node, field, op, value, path, **kw):
        if op in NO_VALUE:
            return _empty_q(field, op == "is_empty", text=True)
        parsed = self.listed(op, value, path, field, self.parser("text", path, field))
        if parsed is None:
            return None
        if op == "contains":
            return Q(**{f"{field}__icontains": parsed})
        return _equality(field, op, parsed)

    def c_ref(self, node, field, op, value, path, **kw):
        column = f"{field}_id"
        if op in NO_VALUE:
            return Q(**{f"{column}__isnull": op == "is_empty"})
        parsed = self.listed(op, value, path, field, self.parser("ref", path, field))
        return None if parsed is None else _equality(column, op, parsed)

    def c_month(self, node, field, op, value, path, **kw):
        if op in NO_VALUE:
            return Q(birthday__isnull=op == "is_empty")
        parsed = self.listed(op, value, path, field, self.parser("month", path, field))
        if parsed is None:
            return None
        return _equality("birthday__month", op, parsed, nullable=True)

    def c_number(self, node, field, op, value, path, **kw):
        unit = node.get("unit")
        if unit is not None and (not isinstance(unit, str) or not unit.strip()):
            self.error(path, field, _("unit must be a text such as t."))
            return None
        base = Q(demand_unit=unit.strip()) if unit else Q()
        if op in NO_VALUE:
            return Q(annual_demand__isnull=op == "is_empty") & base
        parsed = self.listed(op, value, path, field, self.parser("number", path, field))
        if parsed is None:
            return None
        return _compare_field("annual_demand", op, parsed) & base

    def c_bool(self, node, field, op, value, path, **kw):
        if not isinstance(value, bool):
            self.error(path, field, _("The value must be true or false."))
            return None
        return Q(do_not_disturb=value)

    def c_date(self, node, field, op, value, path, **kw):
        if field == "created":
            return self.created(op, value, path, field)
        return self.last_order(op, value, path, field)

    def created(self, op, value, path, field):
        if op in ("within_days", "not_within_days"):
            days = self.parser("days", path, field)(value)
            if days is None:
                return None
            q = Q(created_at__gte=self.at - dt.timedelta(days=days), created_at__lt=self.at)
            return q if op == "within_days" else ~q
        parsed = self.listed(op, value, path, field, self.parser("date", path, field))
        if parsed is None:
            return None
        low, high = _day_bounds(op, parsed)
        q = Q()
        if low is not None:
            q &= Q(created_at__gte=low)
        if high is not None:
            q &= Q(created_at__lt=high)
        return ~q if op == "!=" else q

    def last_order(self, op, value, path, field):
        if op in NO_VALUE or op in ("within_days", "not_within_days"):
            days = None
            if op not in NO_VALUE:
                days = self.parser("days", path, field)(value)
                if days is None:
                    return None
            q = Q(Exists(self.orders(days)))
            return q if op in ("within_days", "is_not_empty") else ~q
        parsed = self.listed(op, value, path, field, self.parser("date", path, field))
        if parsed is None:
            return None
        last = self.last_order_at()
        low, high = _day_bounds(op, parsed)
        q = Q(Exists(self.orders(None)))
        if low is not None:
            q &= Q(GreaterThanOrEqual(last, low))
        if high is not None:
            q &= Q(LessThan(last, high))
        if op == "!=":
            q = Q(Exists(self.orders(None))) & ~q
        return q

    # --- tags, consents --------------------------------------------------------------

    def c_tag(self, node, field, op, value, path, **kw):
        from clientele.customers.models import Customer, Tag

        names = self.listed(op, value, path, field, self.parser("text", path, field))
        if names is None:
            return None
        if self.strict:
            found = set(Tag.objects.filter(name__in=names).values_list("name", flat=True))
            missing = [n for n in names if n not in found]
            if missing:
                self.error(path, field, _("No such tag: %(names)s.")
                           % {"names": ", ".join(missing)})  # fmt: skip
                return None
        # By name through the join: no lookup at compile time, so checking one customer
        # stays one query (a tag deleted later is simply held by nobody).
        through = Customer.tags.through
        if op == "has_all":
            q = Q()
            for name in dict.fromkeys(names):
                q &= Q(Exists(through.objects.filter(customer_id=OuterRef("pk"),
                                                     tag__name=name)))  # fmt: skip
            return q
        q = Q(
            Exists(
                through.objects.filter(customer_id=OuterRef("pk"), tag__name__in=sorted(set(names)))
            )
        )
        return q if op == "has" else ~q

    def c_consent(self, node, field, op, value, path, **kw):
        from clientele.customers import choices
        from clientele.customers.models import Consent

        channel = node.get("channel")
        if channel not in choices.ConsentChannel.values:
            self.error(
                path,
                field,
                _("channel must be one of: %(channels)s.")
                % {"channels": ", ".join(choices.ConsentChannel.values)},
            )
            return None
        status = self.parser("choice", path, field, choices=CONSENT_VALUES)(value)
        if status is None:
            return None
        rows = Consent.objects.filter(customer_id=OuterRef("pk"), channel=channel)
        if status == "unknown":
            q = ~Q(Exists(rows))
        else:
            q = Q(Exists(rows.filter(status=status)))
        return q if op == "=" else ~q

    # --- orders -----------------------------------------------------------------------

    def orders(self, window):
        """Valued orders of the outer customer placed before `at` (in the window)."""
        from clientele.sales.models import VALUE_STATUSES, Order

        rows = Order.objects.filter(
            customer_id=OuterRef("pk"), status__in=VALUE_STATUSES, ordered_at__lt=self.at
        )
        if window is not None:
            rows = rows.filter(ordered_at__gte=self.at - dt.timedelta(days=window))
        return rows.order_by()

    def c_money(self, node, field, op, value, path, window=None, **kw):
        parsed = self.listed(op, value, path, field, self.parser("money", path, field))
        if parsed is None:
            return None
        return _compare_expression(self.spend(window), op, parsed)

    def spend(self, window):
        """The customer's valued spend in the window (0 without orders)."""
        total = Subquery(
            self.orders(window).values("customer_id").annotate(v=Sum("total")).values("v")[:1],
            output_field=MONEY,
        )
        # Cast: SQLite compares an untyped SUM with a decimal parameter (sent as text) as
        # text; a typed expression compares as a number on both databases.
        return Cast(Coalesce(total, Value(Decimal(0))), MONEY)

    def order_count(self, window):
        number = Subquery(
            self.orders(window).values("customer_id").annotate(v=Count("id")).values("v")[:1],
            output_field=IntegerField(),
        )
        return Coalesce(number, Value(0))

    def last_order_at(self):
        return Subquery(
            self.orders(None).values("customer_id").annotate(v=Max("ordered_at")).values("v")[:1]
        )

    def c_count(self, node, field, op, value, path, window=None, **kw):
        parsed = self.listed(op, value, path, field, self.parser("count", path, field))
        if parsed is None:
            return None
        return _compare_expression(self.order_count(window), op, parsed)

    def c_category(self, node, field, op, value, path, window=None, **kw):
        from clientele.catalog.models import ProductCategory
        from clientele.sales.models import OrderLine

        codes = self.listed(op, value, path, field, self.parser("text", path, field))
        if codes is None:
            return None
        tree = list(ProductCategory.objects.values_list("pk", "code", "parent_id"))
        by_code = {code: pk for pk, code, _parent in tree}
        missing = [c for c in codes if c not in by_code]
        if missing and self.strict:
            self.error(path, field, _("No such product category: %(codes)s.")
                       % {"codes": ", ".join(missing)})  # fmt: skip
            return None
        # The categories and every category under them (categories are few).
        children: dict = {}
        for pk, _code, parent in tree:
            children.setdefault(parent, []).append(pk)
        wanted, frontier = set(), [by_code[c] for c in codes if c in by_code]
        while frontier:
            pk = frontier.pop()
            if pk not in wanted:
                wanted.add(pk)
                frontier.extend(children.get(pk, ()))
        lines = OrderLine.objects.filter(product__category_id__in=sorted(wanted))
        return self.line_exists(lines, op, window)

    def c_product(self, node, field, op, value, path, window=None, **kw):
        from clientele.catalog.models import Product
        from clientele.sales.models import OrderLine

        skus = self.listed(op, value, path, field, self.parser("text", path, field))
        if skus is None:
            return None
        if self.strict:
            found = set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))
            missing = [s for s in skus if s not in found]
            if missing:
                self.error(path, field, _("No such product (SKU): %(skus)s.")
                           % {"skus": ", ".join(missing)})  # fmt: skip
                return None
        lines = OrderLine.objects.filter(product__sku__in=sorted(set(skus)))
        return self.line_exists(lines, op, window)

    def line_exists(self, lines, op, window=None):
        from clientele.sales.models import VALUE_STATUSES

        lines = lines.filter(
            order__customer_id=OuterRef("pk"),
            order__status__in=VALUE_STATUSES,
            order__ordered_at__lt=self.at,
        )
        if window is not None:
            lines = lines.filter(order__ordered_at__gte=self.at - dt.timedelta(days=window))
        q = Q(Exists(lines.order_by()))
        return q if op == "has" else ~q

    # --- classes and other segments ------------------------------------------------

    def c_class(self, node, field, op, value, path, **kw):
        from .constants import Kind
        from .models import ClassificationDefinition, CurrentClass

        key = node.get("definition")
        if not isinstance(key, str) or not key:
            self.error(path, field, _("definition must be the key of a classification "
                                      "definition."))  # fmt: skip
            return None
        if self.strict:
            definition = ClassificationDefinition.objects.filter(key=key).first()
            if definition is None:
                self.error(path, field, _("There is no classification definition %(key)s.")
                           % {"key": key})  # fmt: skip
                return None
            try:
                codes = definition.class_codes()
            except Exception:  # a stored definition whose parameters no longer validate
                codes = []
            if definition.kind == Kind.CLUSTER:
                codes = sorted(set(codes) | {f"c{i}" for i in range(1, 13)})
            parse = self.parser("choice", path, field, choices=codes)
        else:
            parse = self.parser("text", path, field)
        parsed = self.listed(op, value, path, field, parse)
        if parsed is None:
            return None
        wanted = parsed if isinstance(parsed, list) else [parsed]
        rows = CurrentClass.objects.filter(
            customer_id=OuterRef("pk"), definition__key=key, code__in=wanted
        )
        q = Q(Exists(rows))
        return q if op in ("=", "in") else ~q

    def c_segment(self, node, field, op, value, path, depth=1, **kw):
        from .constants import Kind
        from .models import ClassificationDefinition

        if not isinstance(value, str):
            self.error(path, field, _("The value is the key of a rule segment."))
            return None
        if value in self.stack:
            chain = " -> ".join([*self.stack[self.stack.index(value) :], value])
            self.error(path, field, _("Segments refer to each other in a cycle: %(chain)s.")
                       % {"chain": chain})  # fmt: skip
            return None
        definition = ClassificationDefinition.objects.filter(key=value, kind=Kind.RULE).first()
        expression = (definition.parameters or {}).get("expression") if definition else None
        if expression is None:
            self.error(path, field, _("There is no rule segment %(key)s.") % {"key": value})
            return None
        # Expand the referenced expression here: membership is live, like the rest.
        saved = (self.stack, self._prefix)
        self.stack = (*self.stack, value)
        self._prefix = f"{self._prefix}{path}<{value}>."
        try:
            q = self.node(expression, "", depth + 1)
        finally:
            self.stack, self._prefix = saved
        return q if op == "in" else ~q

    # --- custom fields -----------------------------------------------------------------

    def custom_text(self, field):
        return KeyTextTransform(field[7:], "custom_fields")

    def c_ctext(self, node, field, op, value, path, **kw):
        text = self.custom_text(field)
        if op in NO_VALUE:
            empty = Q(IsNull(text, True)) | Q(Exact(text, ""))
            return empty if op == "is_empty" else ~empty
        parsed = self.listed(op, value, path, field, self.parser("text", path, field))
        if parsed is None:
            return None
        if op == "contains":
            from django.db.models.lookups import IContains

            return Q(IContains(text, parsed))
        return _equality_expression(text, op, parsed)

    def c_cchoice(self, node, field, op, value, path, **kw):
        text = self.custom_text(field)
        if op in NO_VALUE:
            empty = Q(IsNull(text, True)) | Q(Exact(text, ""))
            return empty if op == "is_empty" else ~empty
        options = [str(c) for c in self.custom_fields()[field[7:]].choices]
        parsed = self.listed(op, value, path, field,
                             self.parser("choice", path, field, choices=options))  # fmt: skip
        return None if parsed is None else _equality_expression(text, op, parsed)

    def c_cnumber(self, node, field, op, value, path, **kw):
        text = self.custom_text(field)
        if op in NO_VALUE:
            empty = Q(IsNull(text, True)) | Q(Exact(text, ""))
            return empty if op == "is_empty" else ~empty
        parsed = self.listed(op, value, path, field, self.parser("number", path, field))
        if parsed is None:
            return None
        # Values are stored as validated decimal text (CustomField.to_python).
        present = ~Q(IsNull(text, True)) & ~Q(Exact(text, ""))
        return present & _compare_expression(Cast(text, NUMBER), op, parsed)

    def c_cdate(self, node, field, op, value, path, **kw):
        text = self.custom_text(field)
        if op in NO_VALUE:
            empty = Q(IsNull(text, True)) | Q(Exact(text, ""))
            return empty if op == "is_empty" else ~empty
        parsed = self.listed(op, value, path, field, self.parser("date", path, field))
        if parsed is None:
            return None
        # ISO dates (YYYY-MM-DD, as CustomField.to_python stores them) sort as text.
        iso = (
            tuple(d.isoformat() for d in parsed)
            if isinstance(parsed, tuple)
            else parsed.isoformat()
        )
        present = ~Q(IsNull(text, True)) & ~Q(Exact(text, ""))
        return present & _compare_expression(text, op, iso)


# --- helpers ------------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _has_nul(value) -> bool:
    """Whether any text in a condition holds NUL (PostgreSQL refuses it in text).
    Iterative: a value nested thousands deep must not exhaust the stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _short(value) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:37] + "..."


def _empty_q(field, empty: bool, text=False) -> Q:
    q = Q(**{field: ""}) if text else Q(**{f"{field}__isnull": True})
    return q if empty else ~q


def _equality(column, op, parsed, nullable=False) -> Q:
    if op in ("=", "!="):
        q = Q(**{column: parsed})
    else:
        q = Q(**{f"{column}__in": parsed})
    return q if op in ("=", "in") else ~q


def _equality_expression(expression, op, parsed) -> Q:
    from django.db.models.lookups import In

    if op in ("=", "!="):
        q = Q(Exact(expression, parsed))
    else:
        q = Q(In(expression, parsed))
    if op in ("=", "in"):
        return q
    # A missing value is "not equal" too (NOT over NULL would drop it).
    return ~q | Q(IsNull(expression, True))


def _compare_field(column, op, parsed) -> Q:
    lookups = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
    if op == "between":
        return Q(**{f"{column}__gte": parsed[0], f"{column}__lte": parsed[1]})
    if op == "!=":
        return ~Q(**{column: parsed})
    return Q(**{f"{column}__{lookups[op]}": parsed})


def _compare_expression(expression, op, parsed) -> Q:
    lookups = {
        "=": Exact,
        "<": LessThan,
        "<=": LessThanOrEqual,
        ">": GreaterThan,
        ">=": GreaterThanOrEqual,
    }
    if op == "between":
        return Q(GreaterThanOrEqual(expression, parsed[0])) & Q(
            LessThanOrEqual(expression, parsed[1])
        )
    if op == "!=":
        return ~Q(Exact(expression, parsed))
    return Q(lookups[op](expression, parsed))


def _day_bounds(op, parsed):
    """[low, high) datetimes of a date comparison on a local-day basis."""
    one = dt.timedelta(days=1)
    if op == "between":
        return _day_start(parsed[0]), _day_start(parsed[1] + one)
    if op in ("=", "!="):
        return _day_start(parsed), _day_start(parsed + one)
    if op == "<":
        return None, _day_start(parsed)
    if op == "<=":
        return None, _day_start(parsed + one)
    if op == ">":
        return _day_start(parsed + one), None
    return _day_start(parsed), None  # >=


def customer_figures(expression, customer_id, *, at=None, limit: int = 3) -> list[str]:
    """The customer's own order figures that the expression tests (spend, orders, last
    order; at most `limit`), in words: ["spend in 365 days: 1,200"]. One query."""
    from clientele.customers.models import Customer

    wanted: list[tuple[str, int | None]] = []

    def walk(node, depth):
        if depth > MAX_DEPTH or not isinstance(node, dict):
            return
        for key in ("all", "any"):
            if isinstance(node.get(key), list):
                for item in node[key]:
                    walk(item, depth + 1)
        if "not" in node:
            walk(node["not"], depth + 1)
        field = node.get("field")
        if field in ("spend", "orders", "last_order"):
            window = node.get("window_days") if field != "last_order" else None
            window = window if _is_int(window) and 1 <= window <= MAX_WINDOW_DAYS else None
            if (field, window) not in wanted:
                wanted.append((field, window))

    walk(expression, 1)
    wanted = wanted[:limit]
    if not wanted:
        return []
    compiler = _Compiler(_resolve_at(at))
    annotations = {}
    for i, (field, window) in enumerate(wanted):
        if field == "spend":
            annotations[f"f{i}"] = compiler.spend(window)
        elif field == "orders":
            annotations[f"f{i}"] = compiler.order_count(window)
        else:
            annotations[f"f{i}"] = compiler.last_order_at()
    row = Customer.objects.filter(pk=customer_id).annotate(**annotations).values(*annotations)
    row = row.first()
    if row is None:
        return []
    texts = []
    for i, (field, window) in enumerate(wanted):
        value = row[f"f{i}"]
        if field == "last_order":
            shown = timezone.localtime(value).date().isoformat() if value else _("never")
            texts.append(_("last order: %(date)s") % {"date": shown})
            continue
        shown = _plain(value or 0)
        if field == "spend":
            text = (_("spend in %(days)s days: %(value)s") if window
                    else _("all-time spend: %(value)s"))  # fmt: skip
        else:
            text = (_("orders in %(days)s days: %(value)s") if window
                    else _("all-time orders: %(value)s"))  # fmt: skip
        texts.append(text % {"days": window, "value": shown})
    return texts


# --- plain words --------------------------------------------------------------------------

_OP_WORDS = {
    "=": "=",
    "!=": "≠",
    "<": "<",
    "<=": "≤",
    ">": ">",
    ">=": "≥",
}


def describe(expression) -> str:
    """The expression in plain words, in the active language (for pages and the 360
    explanation); tolerant of invalid input."""
    return _describe(expression, 0)


def _describe(node, depth) -> str:
    if depth > MAX_DEPTH or not isinstance(node, dict):
        return "?"
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        items = node[key] if isinstance(node[key], list) else []
        parts = [_describe(item, depth + 1) for item in items]
        joiner = _(" and ") if key == "all" else _(" or ")
        text = joiner.join(parts)
        return f"({text})" if depth and len(parts) > 1 else text
    if "not" in node:
        return _("not %(clause)s") % {"clause": _describe(node["not"], depth + 1)}
    field = node.get("field")
    spec = FIELDS.get(field) if isinstance(field, str) else None
    label = str(spec[2]) if spec else str(field)
    op = node.get("op")
    value = node.get("value")
    if isinstance(value, list):
        value_text = ", ".join(map(_plain, value))
    else:
        value_text = _plain(value)
    extra = ""
    if node.get("window_days"):
        extra = _(" in %(days)s days") % {"days": node["window_days"]}
    if field == "segment":
        words = _("in segment %(key)s") if op == "in" else _("not in segment %(key)s")
        return words % {"key": value_text}
    if field == "consent":
        label = _("%(channel)s consent") % {"channel": node.get("channel")}
    if field == "class":
        label = _("class of %(definition)s") % {"definition": node.get("definition")}
    words = {
        "in": _("is one of"),
        "not_in": _("is not one of"),
        "contains": _("contains"),
        "is_empty": _("is empty"),
        "is_not_empty": _("is not empty"),
        "between": _("is between"),
        "within_days": _("within the last (days)"),
        "not_within_days": _("not within the last (days)"),
        "has": _("includes"),
        "has_not": _("excludes"),
        "has_all": _("includes all of"),
    }
    op_text = _OP_WORDS.get(op) or words.get(op, str(op))
    if op in NO_VALUE:
        return f"{label}{extra} {op_text}"
    if op == "between" and isinstance(value, list) and len(value) == 2:
        value_text = _("%(low)s and %(high)s") % {"low": _plain(value[0]), "high": _plain(value[1])}
    return f"{label}{extra} {op_text} {value_text}"


def _plain(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        digits = 0 if number == number.to_integral() else 2
        return f"{number:,.{digits}f}"
    return str(value)
