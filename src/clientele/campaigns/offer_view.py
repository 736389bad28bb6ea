"""The unified offer view: for one customer, found by id, phone, card or code, the offers
they may be given now (with scripts, best first), their open tasks and their last
contacts. A store clerk's or hotline agent's pop-up and the API both read it, so it has
to answer in a few milliseconds whatever the number of customers and offers.

How it stays fast:

* The presentable offers, their exclusions and the per-customer statement are kept per
  process in a Catalogue. The statement returns, for one customer, their display fields,
  whether they have acceptances or open tasks, one boolean per eligibility expression, and
  the offers' signature (count, latest change, total acceptances). A signature different
  from the catalogue's means an offer changed (an edit, an acceptance spending budget or
  stock, a deletion): the catalogue is read again before answering. It is also read again
  at the next moment an offer's validity window opens or closes, and at least every
  STATEMENT_SECONDS, because an eligibility window ("spent in the last 90 days") is
  compiled with the moment of compilation.
* Every statement is a core.prepared.PreparedQuery: compiled once, prepared once per
  PostgreSQL connection. A customer without acceptances or open tasks costs two
  statements (facts, last contacts), plus one for a lookup by phone, card or code.
"""

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from clientele.core.models import User
from clientele.core.permissions import customer_in_scope, scope_queryset
from clientele.core.prepared import PreparedQuery
from clientele.customers.models import Customer, Interaction

from .choices import TaskStatus
from .models import Offer, OfferAcceptance, Task

log = logging.getLogger(__name__)

RECENT_INTERACTIONS = 10
STATEMENT_SECONDS = 60
# A phone shared by more customers than this, none of them in the user's scope among
# the newest, is looked up again through the scoped (slower) query.
LOOKUP_CANDIDATES = 20

_CUSTOMER_FIELDS = (
    "id",
    "code",
    "name",
    "phone",
    "card_number",
    "owner_id",
    "team_id",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "has_acceptances",
    "has_open_tasks",
    "offers_count",
    "offers_changed",
    "offers_used",
)
_FIXED = len(_CUSTOMER_FIELDS)
_HAS_ACCEPTANCES = _CUSTOMER_FIELDS.index("has_acceptances")
_HAS_OPEN_TASKS = _CUSTOMER_FIELDS.index("has_open_tasks")
_SIGNATURE = slice(_FIXED - 3, _FIXED)


def _expression_key(expression) -> str:
    return json.dumps(expression, sort_keys=True, ensure_ascii=False)


def _signature_sql() -> list[str]:
    """The offers' signature as three scalar subqueries of the per-customer statement; the
    catalogue reads the same aggregates through the ORM (same types after conversion)."""
    quote = connection.ops.quote_name
    table = quote(Offer._meta.db_table)
    changed = quote(Offer._meta.get_field("updated_at").column)
    used = quote(Offer._meta.get_field("used").column)
    return [
        f"(SELECT COUNT(*) FROM {table})",
        f"(SELECT MAX({changed}) FROM {table})",
        f"(SELECT SUM({used}) FROM {table})",
    ]


_SIGNATURE_FIELDS = (IntegerField(), DateTimeField(), IntegerField())


def _read_signature() -> tuple:
    signature = Offer.objects.order_by().aggregate(
        offers_count=Count("id"), offers_changed=Max("updated_at"), offers_used=Sum("used")
    )
    return tuple(signature[name] for name in _CUSTOMER_FIELDS[_SIGNATURE])


def exclusion_pairs() -> dict[int, set[int]]:
    """Which offers exclude which, both ways: the whole (small) pair table in one query."""
    through = Offer.excludes.through
    result: dict[int, set[int]] = {}
    for a, b in through.objects.order_by().values_list("from_offer_id", "to_offer_id"):
        result.setdefault(a, set()).add(b)
        result.setdefault(b, set()).add(a)
    return result


def _eligibility_conditions(expressions: dict[str, dict], at) -> dict:
    """Each expression key's condition from the rules compiler (`compile_q`, which
    `customers_matching` filters by); an expression it refuses is left out and logged, so
    its offers are eligible for nobody and the view still answers."""
    from clientele.segmentation import rules

    conditions = {}
    for key, expression in expressions.items():
        try:
            conditions[key] = rules.compile_q(expression, at=at)
        except rules.RuleExpressionError as error:
            log.warning("bad eligibility %s: %s", key, error)
    return conditions


def _facts_queryset(conditions: dict, customer_id):
    """The per-customer statement (see the module's docstring), one boolean column per
    condition in their order: each evaluated on the customer's row, correlated subqueries
    on indexed columns, about a millisecond for a hundred expressions."""
    annotations = {
        "has_acceptances": Exists(OfferAcceptance.objects.filter(customer_id=OuterRef("pk"))),
        "has_open_tasks": Exists(
            Task.objects.filter(customer_id=OuterRef("pk"), status=TaskStatus.OPEN)
        ),
    }
    signature = zip(_CUSTOMER_FIELDS[_SIGNATURE], _signature_sql(), _SIGNATURE_FIELDS, strict=True)
    for name, sql, output_field in signature:
        annotations[name] = RawSQL(sql, (), output_field=output_field)
    for n, condition in enumerate(conditions.values()):
        annotations[f"e{n}"] = Case(
            When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    return (
        Customer.objects.filter(pk=customer_id)
        .order_by()
        .annotate(**annotations)
        .values_list(*_CUSTOMER_FIELDS, *(f"e{n}" for n in range(len(conditions))))
    )


@dataclass
class Catalogue:
    """The presentable offers at one moment and what choosing among them needs: offers
    without eligibility (everyone's), offers per eligibility expression, the exclusion
    pairs, and the per-customer statement."""

    at: dt.datetime
    signature: tuple
    expires: float
    offers: list[Offer]
    everyone: set[int]
    by_key: dict[str, list[int]]
    exclusions: dict[int, set[int]]
    facts: PreparedQuery = field(repr=False)
    keys: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, at=None) -> "Catalogue":
        now = at or timezone.now()
        # The signature first: an offer changed while the rest is read then shows as a
        # different signature at the next request, which reads everything again.
        signature = _read_signature()
        offers = list(Offer.objects.presentable(now).order_by("-priority", "name", "id"))
        bounds = Offer.objects.filter(active=True).aggregate(
            opens=Min("valid_from", filter=Q(valid_from__gt=now)),
            closes=Min("valid_until", filter=Q(valid_until__gt=now)),
        )
        seconds = float(STATEMENT_SECONDS)
        for bound in bounds.values():
            if bound is not None:
                seconds = min(seconds, (bound - now).total_seconds())
        everyone = {offer.pk for offer in offers if not offer.eligibility}
        by_key: dict[str, list[int]] = {}
        expressions = {}
        for offer in offers:
            if offer.eligibility:
                key = _expression_key(offer.eligibility)
                by_key.setdefault(key, []).append(offer.pk)
                expressions[key] = offer.eligibility
        conditions = _eligibility_conditions(expressions, now)
        return cls(
            at=now,
            signature=signature,
            expires=time.monotonic() + max(seconds, 0.0),
            offers=offers,
            everyone=everyone,
            by_key=by_key,
            exclusions=exclusion_pairs(),
            facts=PreparedQuery(
                "offer_facts", lambda customer_id: _facts_queryset(conditions, customer_id), int
            ),
            keys=list(conditions),
        )

    def eligible(self, row) -> set[int]:
        """The offer ids a facts row makes eligible (an expression the compiler refused
        is not a column: its offers are eligible for nobody)."""
        eligible = set(self.everyone)
        for key, matched in zip(self.keys, row[_FIXED:], strict=True):
            if matched:
                eligible.update(self.by_key[key])
        return eligible

    def choose(self, eligible: set[int], channel: str | None, taken: dict[int, int]) -> list[Offer]:
        """The offers to present, best first: allowed on `channel`, eligible, under the
        customer's limit, and not excluded by an offer the customer took or a better one
        chosen before it."""
        blocked: set[int] = set()
        for offer_id in taken:
            blocked |= self.exclusions.get(offer_id, set())
        chosen = []
        for offer in self.offers:
            if offer.pk not in eligible or offer.pk in blocked or not offer.allows(channel):
                continue
            if taken.get(offer.pk, 0) >= offer.per_customer_limit:
                continue
            chosen.append(offer)
            blocked |= self.exclusions.get(offer.pk, set())
        return chosen


_current: Catalogue | None = None
_load_lock = threading.Lock()


def catalogue(at=None, *, stale: Catalogue | None = None) -> Catalogue:
    """The catalogue for `at` (read afresh) or for now (kept per process). `stale` is one
    whose signature no longer matches the database: every thread waits for the new one.
    One that merely reached its expiry time is read again by one thread while the others
    go on answering from it for those few milliseconds (an offer past its end by that
    much is still refused at acceptance, which checks the database)."""
    global _current
    if at is not None:
        return Catalogue.load(at)
    current = _current
    if current is not None and current is not stale:
        if time.monotonic() < current.expires:
            return current
        if not _load_lock.acquire(blocking=False):
            return current
    else:
        _load_lock.acquire()
    try:
        if _current is current or _current is stale:  # nobody read it again meanwhile
            _current = Catalogue.load()
        return _current
    finally:
        _load_lock.release()


def clear_caches() -> None:
    """Forget the per-process catalogue (tests, and after bulk changes made in SQL)."""
    global _current
    _current = None


# --- per customer -------------------------------------------------------------------------

_TAKEN = PreparedQuery(
    "offer_taken",
    lambda customer_id: (
        OfferAcceptance.objects.filter(customer_id=customer_id)
        .order_by()
        .values("offer_id")
        .annotate(n=Count("id"))
        .values_list("offer_id", "n")
    ),
    int,
)
_OPEN_TASKS = PreparedQuery(
    "offer_open_tasks",
    lambda customer_id: (
        Task.objects.filter(customer_id=customer_id, status=TaskStatus.OPEN)
        .order_by("-campaign__priority", "id")
        .values_list(
            "id",
            "campaign_id",
            "campaign__name",
            "status",
            "result",
            "last_wave",
            "handed_to_store",
        )
    ),
    int,
)
_RECENT = PreparedQuery(
    "offer_recent_contacts",
    lambda customer_id: (
        Interaction.objects.filter(customer_id=customer_id)
        .order_by("-occurred_at", "-id")
        .values_list(
            "id",
            "channel",
            "direction",
            "occurred_at",
            "subject",
            "intent",
            "outcome",
            "user__first_name",
            "user__last_name",
            "user__username",
        )[:RECENT_INTERACTIONS]
    ),
    int,
)


def _person(first_name, last_name, username) -> str | None:
    """A user's display name by User.__str__ from joined columns; None without a user."""
    if username is None:
        return None
    return str(User(first_name=first_name or "", last_name=last_name or "", username=username))


def _facts(customer_id: int, at) -> tuple[Catalogue, tuple | None]:
    current = catalogue(at)
    row = current.facts.first(customer_id)
    if at is None and row is not None and tuple(row[_SIGNATURE]) != current.signature:
        current = catalogue(stale=current)
        row = current.facts.first(customer_id)
    return current, row


def _taken(customer_id: int) -> dict[int, int]:
    return dict(_TAKEN.rows(customer_id))


def offers_for(customer, *, channel: str | None = None, at=None) -> list[Offer]:
    """The offers to present to one customer, best first (see Catalogue.choose)."""
    customer_id = getattr(customer, "pk", customer)
    current, row = _facts(customer_id, at)
    if row is None:
        return []
    taken = _taken(customer_id) if row[_HAS_ACCEPTANCES] else {}
    return current.choose(current.eligible(row), channel, taken)


def present(customer_id: int, *, channel: str | None = None, user=None, at=None) -> dict | None:
    """The offer view of one customer as plain data (what the API returns as JSON), or
    None if there is no such customer or `user` may not see them."""
    if not 0 < customer_id < 2**63:  # no such id; the database would refuse the number
        return None
    current, row = _facts(customer_id, at)
    if row is None:
        return None
    (pk, code, name, phone, card, owner_id, team_id, first, last, username) = row[:10]
    has_acceptances, has_open_tasks = row[_HAS_ACCEPTANCES], row[_HAS_OPEN_TASKS]
    if user is not None and not customer_in_scope(user, owner_id, team_id):
        return None
    taken = _taken(pk) if has_acceptances else {}
    offers = current.choose(current.eligible(row), channel, taken)
    tasks = _OPEN_TASKS.rows(pk) if has_open_tasks else []
    return {
        "customer": {
            "id": pk,
            "code": code,
            "name": name,
            "phone": phone,
            "card_number": card,
            "owner": _person(first, last, username),
        },
        "channel": channel,
        "offers": [
            {
                "id": offer.pk,
                "name": offer.name,
                "description": offer.description,
                "script": offer.script,
                "priority": offer.priority,
                "valid_until": offer.valid_until,
                "budget_left": None if offer.budget_left is None else str(offer.budget_left),
                "stock_left": offer.stock_left,
                "per_customer_limit": offer.per_customer_limit,
            }
            for offer in offers
        ],
        "tasks": [
            {
                "id": task_id,
                "campaign_id": campaign_id,
                "campaign": campaign,
                "status": status,
                "result": result,
                "last_wave": last_wave,
                "handed_to_store": store,
            }
            for task_id, campaign_id, campaign, status, result, last_wave, store in tasks
        ],
        "interactions": [
            {
                "id": item_id,
                "channel": item_channel,
                "direction": direction,
                "occurred_at": occurred_at,
                "subject": subject,
                "intent": intent,
                "outcome": outcome,
                "user": _person(first_name, last_name, user_name),
            }
            for (
                item_id,
                item_channel,
                direction,
                occurred_at,
                subject,
                intent,
                outcome,
                first_name,
                last_name,
                user_name,
            ) in _RECENT.rows(pk)
        ],
    }


# --- finding the customer -------------------------------------------------------------------


def phone_variants(text: str) -> list[str]:
    """The stored forms a number typed at the counter may have: separators dropped as
    the importer drops them ("138 0013-8000" -> "13800138000"), and a mainland mobile with
    and without the +86 prefix."""
    from clientele.imports.parsing import ParseError, parse_phone

    try:
        number = parse_phone(text) or ""
    except ParseError:
        number = text.strip()
    variants = {text.strip(), number}
    if number.startswith("+86"):
        variants.add(number[3:])
    elif len(number) == 11 and number.startswith("1"):
        variants.add("+86" + number)
    return sorted(v for v in variants if v)


def _by_code(customers, code):
    return customers.filter(code=code)


def _by_card(customers, card):
    return customers.filter(card_number=card)


def _by_phone(customers, a, b, c, d, e, f):
    # The variants twice (first and second phone): each slot of a PreparedQuery once.
    return customers.filter(Q(phone__in=[a, b, c]) | Q(phone2__in=[d, e, f]))


def _lookup(match, kind, count) -> PreparedQuery:
    """The newest LOOKUP_CANDIDATES customers `match` finds, with owner and team, among
    all customers. Compiled once but planned per call (server_prepare=False): a generic
    plan would take any number for as common as the empty second phone most have."""
    return PreparedQuery(
        f"offer_find{match.__name__}",
        lambda *values: (
            match(Customer.objects.all(), *values)
            .order_by("-id")
            .values_list("id", "owner_id", "team_id")[:LOOKUP_CANDIDATES]
        ),
        *[kind] * count,
        server_prepare=False,
    )


_LOOKUPS = {_by_code: _lookup(_by_code, str, 1), _by_card: _lookup(_by_card, str, 1)}
_LOOKUPS[_by_phone] = _lookup(_by_phone, str, 6)


def find_customer_id(*, phone: str = "", card: str = "", code: str = "", user=None) -> int | None:
    """The id of the customer with this code, membership card or phone (in that order of
    preference; a shared phone gives the newest customer), within `user`'s scope when a
    user is given; None if there is none."""
    if code.strip():
        match, values = _by_code, (code.strip(),)
    elif card.strip():
        match, values = _by_card, (card.strip(),)
    elif phone.strip():
        numbers = phone_variants(phone)
        numbers = (numbers + [numbers[0]] * 3)[:3]
        match, values = _by_phone, (*numbers, *numbers)
    else:
        return None
    rows = _LOOKUPS[match].rows(*values)
    for customer_id, owner_id, team_id in rows:
        if user is None or customer_in_scope(user, owner_id, team_id):
            return customer_id
    if len(rows) < LOOKUP_CANDIDATES:
        return None
    # Many customers share it and none of the newest is the user's: ask with the scope.
    visible = scope_queryset(Customer.objects.all(), user)
    return match(visible, *values).order_by("-id").values_list("id", flat=True).first()
