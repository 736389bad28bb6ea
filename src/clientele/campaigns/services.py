"""Domain operations of the campaigns, callable from pages, the API, jobs and hooks alike:
the holdout, accepting an offer (the offer view itself, and finding a customer by phone,
card or code, are in offer_view), and closing a task everywhere (the closed loop).

Limits are the database's (principle 6): an acceptance is one row under a unique
constraint, budget and stock move by a conditional UPDATE, and a task closes by an UPDATE
that only succeeds while it is open. Two channels acting at the same moment therefore
produce one acceptance, one closed task and one unit of budget spent."""

import logging
from dataclasses import dataclass, field

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientele.channels.services import cancel_pending
from clientele.customers.choices import Direction
from clientele.customers.models import Interaction

from . import offer_view
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


def _meets(expression, customer_id: int, at) -> bool:
    """Whether the customer meets an offer's eligibility; an expression the compiler
    refuses is met by nobody (and logged), as in the offer view."""
    from clientele.segmentation import rules

    try:
        return rules.matches(expression, customer_id, at=at)
    except rules.RuleExpressionError as error:
        log.warning("bad eligibility of an offer: %s", error)
        return False


def _check_available(offer: Offer, customer_id: int, channel: str, at) -> int:
    """Raise OfferUnavailable unless the customer may take the offer now; return how many
    times the customer has taken it."""
    if not Offer.objects.presentable(at).filter(pk=offer.pk).exists():
        raise OfferUnavailable("not_presentable")
    if not offer.allows(channel):
        raise OfferUnavailable("channel")
    if offer.eligibility and not _meets(offer.eligibility, customer_id, at):
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
    exclusions = offer_view.exclusion_pairs() if others else {}
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
        cancel_pending(campaign_id=task.campaign_id, task_id=task.pk)
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
            (
                o
                for o in offer_view.offers_for(task.customer_id, channel=channel, at=at)
                if o.pk in offered
            ),
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
            ).only("id", "target_id", "customer_id", "campaign_id")
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
            # The campaigns lead the outbox's (campaign, task) index.
            cancel_pending(
                campaign_id__in={task.campaign_id for task in tasks}, task_id__in=task_ids
            )
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
