"""Domain operations of the campaigns, callable from pages, the API, jobs and hooks alike:
the holdout, the offers one customer may be given (the unified offer view), accepting an
offer, and closing a task everywhere (the closed loop).

Limits are the database's (principle 6): an acceptance is one row under a unique
constraint, budget and stock move by a conditional UPDATE, and a task closes by an UPDATE
that only succeeds while it is open. Two channels acting at the same moment therefore
produce one acceptance, one closed task and one unit of budget spent."""

import json
import logging
import time
from dataclasses import dataclass, field

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientele.channels.services import cancel_pending
from clientele.customers.choices import Direction
from clientele.customers.models import Customer, Interaction

from .choices import (
    CLOSING_RESULTS,
    INTERACTION_CHANNEL,
    CampaignStatus,
    StopCondition,
    TaskResult,
    TaskStatus,
)
from .models import CampaignTarget, Offer, OfferAcceptance, Task

log = logging.getLogger(__name__)

RECENT_INTERACTIONS = 10

# --- holdout --------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def holdout_draw(campaign_id: int, customer_ids) -> np.ndarray:
    """A uniform number in [0, 1) per customer, fixed by (campaign, customer): the
    SplitMix64 finaliser of the pair, so the holdout is random across customers, different
    per campaign, and the same however often or in whatever order the campaign is built."""
    ids = np.asarray(customer_ids, dtype=np.int64).reshape(-1).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = (np.uint64(campaign_id) * _GOLDEN) ^ ids
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def holdout_mask(campaign_id: int, customer_ids, rate) -> np.ndarray:
    """True for the customers in the campaign's holdout at `rate` (0.10 = 10%). Raising
    the rate only adds customers to the holdout; nobody moves out."""
    return holdout_draw(campaign_id, customer_ids) < float(rate)


def in_holdout(campaign_id: int, customer_id: int, rate) -> bool:
    return bool(holdout_mask(campaign_id, [customer_id], rate)[0])


# --- which offers a customer may be given -----------------------------------------------


class OfferUnavailable(Exception):
    """The offer cannot be accepted by this customer now; `code` says why."""

    messages = {
        "not_presentable": gettext_lazy(
            "The offer is not active, outside its validity, or its budget or stock is used up."
        ),
        "channel": gettext_lazy("The offer may not be presented on this channel."),
        "not_eligible": gettext_lazy("The customer is not eligible for this offer."),
        "limit": gettext_lazy("The customer has reached the limit for this offer."),
        "excluded": gettext_lazy("The customer took an offer that excludes this one."),
        "already_accepted": gettext_lazy("The offer was just accepted in another channel."),
        "exhausted": gettext_lazy("The offer's budget or stock is used up."),
    }

    def __init__(self, code: str):
        self.code = code
        super().__init__(str(self.messages[code]))


def _expression_key(expression) -> str:
    return json.dumps(expression, sort_keys=True, ensure_ascii=False)


# The eligibility statement of a set of expressions, compiled once and reused for this
# many seconds: compiling 100 expressions to SQL costs tens of milliseconds of Python,
# the query itself about one. `at` inside it is the moment of compilation, so a window
# ("spend in the last 90 days") may lag by up to this long.
STATEMENT_SECONDS = 60
_SENTINEL = -4_242_424_242
_statements: dict[tuple, tuple] = {}


@dataclass
class CustomerFacts:
    """What one query tells about a customer for the offer view: the eligible offers, and
    whether any acceptance or open task exists (most customers have neither, and their
    queries are then skipped)."""

    eligible: set[int]
    has_acceptances: bool = True
    has_open_tasks: bool = True


def _facts_statement(expressions: dict[str, dict], at) -> tuple:
    """(sql, params, index of the customer id in params, expression key per column): one
    row for one customer with two flags (any acceptance, any open task) and a boolean
    per expression. Each expression column is the rules compiler's condition
    (`compile_q`, which `customers_matching` filters by) evaluated on that row:
    correlated subqueries on indexed columns, so about a millisecond for a hundred
    expressions (wrapping each in EXISTS over `customers_matching` costs ten times that
    in planning alone)."""
    from clientele.segmentation import rules

    annotations = {
        "has_acceptances": Exists(OfferAcceptance.objects.filter(customer_id=OuterRef("pk"))),
        "has_open_tasks": Exists(
            Task.objects.filter(customer_id=OuterRef("pk"), status=TaskStatus.OPEN)
        ),
    }
    keys = []
    for key, expression in expressions.items():
        try:
            condition = rules.compile_q(expression, at=at)
        except rules.RuleExpressionError as error:
            log.warning("bad eligibility %s: %s", key, error)
            continue
        annotations[f"e{len(keys)}"] = Case(
            When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
        )
        keys.append(key)
    queryset = (
        Customer.objects.filter(pk=_SENTINEL)
        .order_by()
        .annotate(**annotations)
        .values_list(*annotations)
    )
    sql, params = queryset.query.sql_with_params()
    params = list(params)
    return sql, params, params.index(_SENTINEL), keys


def customer_facts(customer_id: int, offers, *, at=None) -> CustomerFacts:
    """The offers (of `offers`) whose eligibility the customer meets, and the two flags:
    one query whatever the number of offers. Without `at` (now), the compiled statement
    is reused for STATEMENT_SECONDS. An expression the compiler refuses makes its offer
    ineligible (and is logged), never the whole view fail."""
    everyone = {offer.pk for offer in offers if not offer.eligibility}
    by_expression: dict[str, list[int]] = {}
    expressions = {}
    for offer in offers:
        if offer.eligibility:
            key = _expression_key(offer.eligibility)
            by_expression.setdefault(key, []).append(offer.pk)
            expressions[key] = offer.eligibility
    if at is None:
        cache_key = tuple(sorted(expressions))
        cached = _statements.get(cache_key)
        if cached is None or time.monotonic() - cached[0] > STATEMENT_SECONDS:
            if len(_statements) > 64:
                _statements.clear()
            cached = (time.monotonic(), _facts_statement(expressions, timezone.now()))
            _statements[cache_key] = cached
        statement = cached[1]
    else:
        statement = _facts_statement(expressions, at)
    sql, params, index, keys = statement
    params = list(params)
    params[index] = customer_id
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:  # no such customer
        return CustomerFacts(eligible=set(), has_acceptances=False, has_open_tasks=False)
    eligible = set(everyone)
    for key, matched in zip(keys, row[2:], strict=True):
        if matched:
            eligible.update(by_expression[key])
    return CustomerFacts(
        eligible=eligible, has_acceptances=bool(row[0]), has_open_tasks=bool(row[1])
    )


def eligible_offer_ids(customer_id: int, offers, *, at=None) -> set[int]:
    """The ids of `offers` whose eligibility the customer meets (see customer_facts)."""
    return customer_facts(customer_id, offers, at=at).eligible


_exclusion_cache: dict = {}


def _exclusions(signature=None) -> dict[int, set[int]]:
    """Which offers exclude which, both ways: the whole (small) pair table in one query.
    With a `signature` (the latest change among the offers), the table read for that
    signature is reused for STATEMENT_SECONDS: saving an offer (which the edit page and
    the API do with its exclusions) changes the signature."""
    if signature is not None:
        cached = _exclusion_cache.get("pairs")
        if cached and cached[0] == signature and time.monotonic() - cached[1] < STATEMENT_SECONDS:
            return cached[2]
    through = Offer.excludes.through
    result: dict[int, set[int]] = {}
    for a, b in through.objects.order_by().values_list("from_offer_id", "to_offer_id"):
        result.setdefault(a, set()).add(b)
        result.setdefault(b, set()).add(a)
    if signature is not None:
        _exclusion_cache["pairs"] = (signature, time.monotonic(), result)
    return result


_offer_cache: dict[int, Offer] = {}


def clear_caches() -> None:
    """Forget the per-process caches (offers, exclusions, eligibility statements)."""
    _offer_cache.clear()
    _exclusion_cache.clear()
    _statements.clear()


def presentable_offers(at=None) -> list[Offer]:
    """The presentable offers, best first, in one light query (ids, change times and the
    budget and stock counters); the rest of each offer (texts, eligibility) is kept per
    process and read again whenever the offer changed (every save and every acceptance
    sets updated_at). Budget, stock, validity and `active` are always the database's
    current values."""
    rows = list(
        Offer.objects.presentable(at or timezone.now())
        .order_by("-priority", "name", "id")
        .values_list("id", "updated_at", "spent", "used")
    )
    stale = [
        pk
        for pk, changed, *_rest in rows
        if getattr(_offer_cache.get(pk), "updated_at", None) != changed
    ]
    if stale:
        if len(_offer_cache) > 2000:
            _offer_cache.clear()
        for offer in Offer.objects.filter(pk__in=stale):
            _offer_cache[offer.pk] = offer
    offers = []
    for pk, changed, spent, used in rows:
        # A shallow copy of the cached instance (copy.copy of a model is far slower).
        offer = Offer.__new__(Offer)
        offer.__dict__.update(_offer_cache[pk].__dict__)
        offer.updated_at, offer.spent, offer.used = changed, spent, used
        offers.append(offer)
    return offers


def offers_for(
    customer, *, channel: str | None = None, at=None, facts=None, presentable=None
) -> list[Offer]:
    """The offers to present to one customer, best first: presentable (active, valid, with
    budget and stock left), allowed on `channel`, eligible, under the customer's limit,
    and not excluded by an offer the customer took or a better one listed before it.
    Two queries (offers, customer facts), three when the customer took offers before.
    `presentable` and `facts` pass in what the caller already read."""
    customer_id = getattr(customer, "pk", customer)
    if presentable is None:
        presentable = [offer for offer in presentable_offers(at) if offer.allows(channel)]
    offers = presentable
    if not offers:
        return []
    facts = facts or customer_facts(customer_id, offers, at=at)
    taken = {}
    if facts.has_acceptances:
        taken = dict(
            OfferAcceptance.objects.filter(customer_id=customer_id)
            .order_by()
            .values("offer_id")
            .annotate(n=Count("id"))
            .values_list("offer_id", "n")
        )
    signature = (len(offers), max(offer.updated_at for offer in offers)) if at is None else None
    exclusions = _exclusions(signature)
    blocked: set[int] = set()
    for offer_id in taken:
        blocked |= exclusions.get(offer_id, set())
    chosen = []
    for offer in offers:
        if offer.pk not in facts.eligible or offer.pk in blocked:
            continue
        if taken.get(offer.pk, 0) >= offer.per_customer_limit:
            continue
        chosen.append(offer)
        blocked |= exclusions.get(offer.pk, set())
    return chosen


def _check_available(offer: Offer, customer_id: int, channel: str, at) -> int:
    """Raise OfferUnavailable unless the customer may take the offer now; return how many
    times the customer has taken it."""
    if not Offer.objects.presentable(at).filter(pk=offer.pk).exists():
        raise OfferUnavailable("not_presentable")
    if not offer.allows(channel):
        raise OfferUnavailable("channel")
    if offer.pk not in eligible_offer_ids(customer_id, [offer], at=at):
        raise OfferUnavailable("not_eligible")
    taken = dict(
        OfferAcceptance.objects.filter(customer_id=customer_id)
        .order_by()
        .values("offer_id")
        .annotate(n=Count("id"))
        .values_list("offer_id", "n")
    )
    if taken.get(offer.pk, 0) >= offer.per_customer_limit:
        raise OfferUnavailable("limit")
    others = set(taken) - {offer.pk}
    exclusions = _exclusions() if others else {}
    if any(offer.pk in exclusions.get(o, set()) for o in others):
        raise OfferUnavailable("excluded")
    return taken.get(offer.pk, 0)


# --- the closed loop ----------------------------------------------------------------------


def _interaction(customer_id, channel, *, user=None, subject="", notes="", at=None, **fields):
    return Interaction.objects.create(
        customer_id=customer_id,
        channel=INTERACTION_CHANNEL.get(channel, "web"),
        direction=fields.pop("direction", Direction.INBOUND),
        occurred_at=at or timezone.now(),
        user=user,
        subject=str(subject)[:200],
        notes=notes,
        **fields,
    )


def accept_offer(customer, offer, channel: str, user=None, *, task=None, at=None):
    """Record that the customer took the offer in `channel`; one transaction:

    1. the acceptance row (the (offer, customer, sequence) constraint lets one of two
       concurrent acceptances in, the other gets OfferUnavailable("already_accepted"));
    2. the offer's budget and stock by a conditional UPDATE (refused when used up: the
       acceptance is rolled back and the offer stops being presented everywhere);
    3. the customer's open tasks in campaigns offering it closed everywhere (pending
       messages cancelled), their targets marked responded and converted;
    4. an Interaction on the shared timeline.

    Raises OfferUnavailable (with a code) when the offer cannot be taken."""
    customer_id = getattr(customer, "pk", customer)
    at = at or timezone.now()
    with transaction.atomic():
        taken = _check_available(offer, customer_id, channel, at)
        try:
            with transaction.atomic():
                acceptance = OfferAcceptance.objects.create(
                    offer=offer,
                    customer_id=customer_id,
                    sequence=taken + 1,
                    task=task,
                    channel=channel,
                    user=user,
                    cost=offer.cost,
                    accepted_at=at,
                )
        except IntegrityError:
            raise OfferUnavailable("already_accepted") from None
        updated = (
            Offer.objects.filter(pk=offer.pk, active=True)
            .filter(
                Q(budget__isnull=True) | Q(spent__lte=F("budget") - F("cost")),
                Q(stock__isnull=True) | Q(used__lt=F("stock")),
            )
            .update(spent=F("spent") + F("cost"), used=F("used") + 1, updated_at=at)
        )
        if not updated:
            raise OfferUnavailable("exhausted")
        tasks = Task.objects.filter(customer_id=customer_id, status=TaskStatus.OPEN).filter(
            Q(campaign__offers=offer) | Q(pk=getattr(task, "pk", None))
        )
        for open_task in tasks.distinct():
            close_task(
                open_task,
                TaskResult.ACCEPTED,
                channel=channel,
                user=user,
                offer=offer,
                intent="accepted",
                at=at,
                record_interaction=False,
            )
        CampaignTarget.objects.filter(
            customer_id=customer_id, campaign__offers=offer, converted_at__isnull=True
        ).update(converted_at=at, responded_at=Coalesce(F("responded_at"), Value(at)))
        _interaction(
            customer_id,
            channel,
            user=user,
            at=at,
            subject=_("Accepted offer: %(offer)s") % {"offer": offer.name},
            intent="accepted",
            reached=True,
            outcome=offer.name[:255],
        )
    offer.refresh_from_db(fields=["spent", "used"])
    return acceptance


def close_task(
    task,
    result: str,
    *,
    channel: str,
    user=None,
    offer=None,
    notes: str = "",
    intent: str = "",
    at=None,
    record_interaction: bool = True,
) -> bool:
    """Close the task in every channel at once: an UPDATE that only succeeds while the task
    is open (so exactly one channel wins), its pending messages cancelled, its target
    marked responded (and converted for an acceptance or an order), and (unless the caller
    records one itself) an Interaction. Returns False if the task was closed already."""
    at = at or timezone.now()
    with transaction.atomic():
        changes = {
            "status": TaskStatus.DONE,
            "result": result,
            "closed_at": at,
            "closed_via": channel,
            "closed_by": user,
            "updated_at": at,
        }
        if offer is not None:
            changes["offer"] = offer
        if intent:
            changes["intent"] = intent
        if notes:
            changes["notes"] = notes
        updated = Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(**changes)
        if not updated:
            return False
        cancel_pending(task_id=task.pk)
        target = {"responded_at": Coalesce(F("responded_at"), Value(at))}
        if result in (TaskResult.ACCEPTED, TaskResult.CONVERTED):
            target["converted_at"] = Coalesce(F("converted_at"), Value(at))
        CampaignTarget.objects.filter(pk=task.target_id).update(**target)
        if record_interaction:
            _interaction(
                task.customer_id,
                channel,
                user=user,
                at=at,
                subject=_("%(campaign)s: %(result)s")
                % {"campaign": task.campaign.name, "result": TaskResult(result).label},
                notes=notes,
                intent=intent if intent in ("accepted", "declined", "interested") else "",
            )
    for name, value in changes.items():
        setattr(task, name, value)
    return True


@dataclass
class CallResult:
    """What an account manager (or store, or hotline) records on a task."""

    reached: bool | None = None
    intent: str = ""
    result: str = ""
    store: str = ""
    notes: str = ""
    offer: Offer | None = None
    errors: dict = field(default_factory=dict)


def record_result(task, outcome: CallResult, *, channel: str, user=None, at=None) -> bool:
    """Record a call's (or a store's) result on a task. Accepted takes the offer (the
    campaign's best one for the customer unless named) and closes the task everywhere;
    declined closes it; reached / not reached / handed over record the attempt on the
    timeline and leave the task open (a store it was handed to closes it later). Returns
    whether the task is closed now."""
    at = at or timezone.now()
    result = outcome.result or (TaskResult.REACHED if outcome.reached else TaskResult.NOT_REACHED)
    if result == TaskResult.ACCEPTED:
        offered = set(task.campaign.offers.values_list("pk", flat=True))
        offer = outcome.offer or next(
            (o for o in offers_for(task.customer_id, channel=channel, at=at) if o.pk in offered),
            None,
        )
        if offer is None:
            return close_task(
                task, result, channel=channel, user=user, notes=outcome.notes, intent="accepted"
            )
        accept_offer(task.customer_id, offer, channel, user, task=task, at=at)
        task.refresh_from_db()
        return True
    if result in CLOSING_RESULTS:
        return close_task(
            task,
            result,
            channel=channel,
            user=user,
            notes=outcome.notes,
            intent=outcome.intent or ("declined" if result == TaskResult.DECLINED else ""),
            at=at,
        )
    with transaction.atomic():
        changes = {"result": result, "updated_at": at}
        if outcome.reached is not None:
            changes["reached"] = outcome.reached
        if outcome.intent:
            changes["intent"] = outcome.intent
        if result == TaskResult.HANDED_OVER:
            changes["handed_to_store"] = outcome.store
        if outcome.notes:
            changes["notes"] = outcome.notes
        Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(**changes)
        subject = _("%(campaign)s: %(result)s") % {
            "campaign": task.campaign.name,
            "result": TaskResult(result).label,
        }
        if result == TaskResult.HANDED_OVER:
            subject = _("%(campaign)s: handed over to %(store)s") % {
                "campaign": task.campaign.name,
                "store": outcome.store,
            }
        _interaction(
            task.customer_id,
            channel,
            user=user,
            at=at,
            subject=subject,
            notes=outcome.notes,
            direction=Direction.OUTBOUND,
            reached=outcome.reached,
            intent=outcome.intent
            if outcome.intent in ("interested", "not_interested", "accepted", "declined")
            else "",
        )
        if result != TaskResult.NOT_REACHED:
            CampaignTarget.objects.filter(pk=task.target_id, responded_at__isnull=True).update(
                responded_at=at
            )
    task.refresh_from_db()
    return False


def close_for_customers(customer_ids, condition: str, *, at=None, channel: str = "") -> int:
    """The stop-condition hook, set-based: the customers' open tasks in active campaigns
    that stop on `condition` (an order or a visit) close everywhere, pending messages are
    cancelled, and targets (holdout too, for measurement) are marked responded, and for
    an order converted. Returns the number of tasks closed. Cheap when nothing is open:
    one indexed query on (customer, status)."""
    ids = [int(i) for i in customer_ids]
    if not ids:
        return 0
    at = at or timezone.now()
    result = TaskResult.CONVERTED if condition == StopCondition.ORDER else TaskResult.VISITED
    live = Q(campaign__status=CampaignStatus.ACTIVE)
    targets = CampaignTarget.objects.filter(live, customer_id__in=ids, built_at__lte=at)
    closed = 0
    with transaction.atomic():
        if condition == StopCondition.ORDER:
            targets.filter(converted_at__isnull=True).update(
                converted_at=at, responded_at=Coalesce(F("responded_at"), Value(at))
            )
        else:
            targets.filter(responded_at__isnull=True).update(responded_at=at)
        tasks = list(
            Task.objects.filter(
                live,
                customer_id__in=ids,
                status=TaskStatus.OPEN,
                campaign__stop_condition=condition,
                target__built_at__lte=at,
            ).only("id", "target_id", "customer_id")
        )
        if tasks:
            task_ids = [task.pk for task in tasks]
            closed = Task.objects.filter(pk__in=task_ids, status=TaskStatus.OPEN).update(
                status=TaskStatus.DONE,
                result=result,
                closed_at=at,
                closed_via=channel,
                updated_at=at,
            )
            cancel_pending(task_id__in=task_ids)
    return closed


def close_imported(kind: str, *, since, at=None) -> int:
    """The stop-condition hook for bulk imports: orders (or visits) written since `since`
    and dated after their customer became a target of an active campaign close that
    customer's tasks, as the save signals do for one order or visit. One query finds the
    customers; `close_for_customers` does the rest."""
    from clientele.sales.models import VALUE_STATUSES

    live = CampaignTarget.objects.filter(campaign__status=CampaignStatus.ACTIVE)
    if kind == "orders":
        condition = StopCondition.ORDER
        ids = live.filter(
            customer__orders__updated_at__gte=since,
            customer__orders__status__in=VALUE_STATUSES,
            customer__orders__ordered_at__gte=F("built_at"),
        )
    elif kind == "interactions":
        condition = StopCondition.VISIT
        ids = live.filter(
            customer__interactions__created_at__gte=since,
            customer__interactions__channel="visit",
            customer__interactions__occurred_at__gte=F("built_at"),
        )
    else:
        return 0
    customer_ids = list(ids.order_by().values_list("customer_id", flat=True).distinct())
    return close_for_customers(customer_ids, condition, at=at)


# --- the unified offer view ---------------------------------------------------------------


def find_customer(*, phone: str = "", card: str = "", code: str = "", queryset=None):
    """The customer with this phone, membership card or code (indexed columns), within
    `queryset` (a user's scope) if given; None if there is none. A phone shared by
    several customers gives the most recently created."""
    queryset = Customer.objects.all() if queryset is None else queryset
    if code:
        queryset = queryset.filter(code=code.strip())
    elif card:
        queryset = queryset.filter(card_number=card.strip())
    elif phone:
        numbers = phone_variants(phone)
        queryset = queryset.filter(Q(phone__in=numbers) | Q(phone2__in=numbers))
    else:
        return None
    return queryset.select_related("owner").order_by("-id").first()


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


def offer_view(customer, *, channel: str | None = None, at=None) -> dict:
    """What a store clerk or hotline agent sees for one customer: the eligible offers with
    scripts (best first), the open tasks, and the last interactions. Three queries for
    a customer without acceptances or open tasks (offers, customer facts, interactions),
    once the offers' texts and the statement are cached (see presentable_offers and
    customer_facts); one more for each of the two when there are some."""
    offers = [offer for offer in presentable_offers(at) if offer.allows(channel)]
    facts = customer_facts(customer.pk, offers, at=at)
    tasks = []
    if facts.has_open_tasks:
        tasks = list(
            Task.objects.filter(customer_id=customer.pk, status=TaskStatus.OPEN)
            .select_related("campaign")
            .order_by("-campaign__priority", "id")
        )
    interactions = list(
        Interaction.objects.filter(customer_id=customer.pk)
        .select_related("user")
        .order_by("-occurred_at", "-id")[:RECENT_INTERACTIONS]
    )
    return {
        "customer": customer,
        "offers": offers_for(customer, channel=channel, at=at, facts=facts, presentable=offers),
        "tasks": tasks,
        "interactions": interactions,
    }
