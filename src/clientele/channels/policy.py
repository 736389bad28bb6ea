"""The contact policy: who may be contacted, on which channel, when, and how often.

Campaigns call three things, all set-based (a handful of queries per channel whatever the
number of customers; the sets are intersected with numpy, never looped over in Python):

    with admission() as policy:                 # one admission at a time (see below)
        result = arbitrate(candidates, day=...) # campaigns competing for customers today
        decision = check_contact(ids, "sms", at, policy=policy)
        record_suppressions(decision, campaign_id=...)
        enqueue(messages for decision.allowed, due at decision.send_at)

or simply `admit(messages)`, which does the last three. `check_contact` suppresses, with a
reason, customers who opted out (or never opted in when the policy requires it), are
marked do-not-disturb, have no address for the channel, have reached a frequency cap
(per channel and across channels), or exceed the day's capacity (of the channel, and of
each account manager's call list); a contact due in quiet hours is not suppressed but
deferred to the end of the quiet period (`send_at`).

Frequency caps count the outbox itself: marketing rows pending, sending or sent whose
due time lies within the window either side of the new contact (a wave scheduled for
tomorrow counts as much as yesterday's message). Counting and inserting happen inside
`admission()`, which locks the policy row (SELECT ... FOR UPDATE on PostgreSQL; SQLite
has one writer): two campaigns admitting at the same moment are serialised by the
database, so neither can slip past a cap the other just filled (principle 6).

All days and hours are in the organization's time zone (settings.TIME_ZONE).
"""

import datetime
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from clientele.core.id_arrays import id_array, int_columns, unique_ints
from clientele.customers.choices import ConsentStatus
from clientele.customers.models import Consent, Customer

from .choices import (
    ADDRESS_FIELD,
    CONSENT_CHANNEL,
    MessageStatus,
    SuppressionAction,
    SuppressionReason,
)
from .models import ContactPolicy, OutboxMessage, SuppressionRecord

# Up to this many customers, queries filter by their ids; above, a query reads the whole
# flagged set (opt-outs, a window of the outbox) once and numpy intersects it.
SMALL_SET = 2000
LIVE = [MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.SENT]
# Suppressions that only mean "not today": the contact may be tried again on retry_on.
WAITING_REASONS = {SuppressionReason.CAPACITY}
RECORD_BATCH = 5000


def local_zone() -> ZoneInfo:
    """The organization's time zone: quiet hours and days are evaluated in it."""
    return ZoneInfo(settings.TIME_ZONE)


def local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The UTC instants at which a local day starts and ends."""
    zone = local_zone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)


def local_date(at: datetime.datetime) -> datetime.date:
    """The organization's calendar day at an instant."""
    return at.astimezone(local_zone()).date()


def quiet_hours_end(policy: ContactPolicy, at: datetime.datetime) -> datetime.datetime | None:
    """If `at` falls in the quiet hours, the UTC instant they end; otherwise None. Quiet
    hours may wrap midnight (21:00-08:00)."""
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    local = at.astimezone(local_zone())
    moment = local.time()
    if start < end:
        inside = start <= moment < end
        end_day = local.date()
    else:
        inside = moment >= start or moment < end
        end_day = local.date() + datetime.timedelta(days=1) if moment >= start else local.date()
    if not inside:
        return None
    return datetime.datetime.combine(end_day, end, tzinfo=local_zone()).astimezone(datetime.UTC)


def _unique_ids(customer_ids) -> np.ndarray:
    """Distinct ids as int64, in the order given (the caller's priority order)."""
    if hasattr(customer_ids, "values_list") or not hasattr(customer_ids, "__len__"):
        customer_ids = list(customer_ids)
    ids = np.asarray(customer_ids, dtype=np.int64).reshape(-1)
    if ids.size == 0:
        return ids
    _values, first = np.unique(ids, return_index=True)
    return ids[np.sort(first)]


def _subset(queryset, field_name: str, ids: np.ndarray):
    """Filter by the ids when they are few; otherwise read the whole set once."""
    if len(ids) <= SMALL_SET:
        return queryset.filter(**{f"{field_name}__in": ids.tolist()})
    return queryset


@dataclass
class ContactDecision:
    """The outcome of check_contact: who may be contacted and when, and who not and why."""

    channel: str
    at: datetime.datetime
    send_at: datetime.datetime
    allowed: list[int] = field(default_factory=list)
    suppressed: dict[str, list[int]] = field(default_factory=dict)

    @property
    def deferred(self) -> bool:
        """True when `at` fell in quiet hours and the contact moved to their end."""
        return self.send_at > self.at

    @property
    def retry_on(self) -> datetime.date:
        """The day a contact suppressed for capacity may be tried again."""
        return local_date(self.send_at) + datetime.timedelta(days=1)

    def reason_of(self, customer_id: int) -> str | None:
        """Why one customer was suppressed, or None if allowed."""
        for reason, ids in self.suppressed.items():
            if customer_id in ids:
                return reason
        return None

    def suppressed_count(self) -> int:
        """How many customers were suppressed, for any reason."""
        return sum(len(ids) for ids in self.suppressed.values())


def check_contact(
    customer_ids,
    channel: str,
    at: datetime.datetime | None = None,
    *,
    policy: ContactPolicy | None = None,
    marketing: bool = True,
) -> ContactDecision:
    """Which of `customer_ids` may be contacted on `channel` at `at` (default now).

    Each suppressed customer gets the first reason that applies, in this order: opted out,
    no consent, do not disturb, no address, frequency cap, capacity. Service messages
    (marketing=False) only need an address and fit in the capacity. Capacity is given
    out in the order of `customer_ids`, so pass the most valuable customers first."""
    at = at or timezone.now()
    policy = policy or ContactPolicy.current()
    send_at = (quiet_hours_end(policy, at) if marketing else None) or at
    decision = ContactDecision(channel=channel, at=at, send_at=send_at)
    keep = _unique_ids(customer_ids)

    def drop(reason: str, bad: np.ndarray) -> None:
        nonlocal keep
        if keep.size == 0 or bad.size == 0:
            return
        mask = np.isin(keep, bad)
        if mask.any():
            decision.suppressed.setdefault(reason, []).extend(keep[mask].tolist())
            keep = keep[~mask]

    if marketing:
        consents = Consent.objects.filter(channel=CONSENT_CHANNEL[channel])
        opted_out = consents.filter(status=ConsentStatus.OPTED_OUT)
        drop(
            SuppressionReason.OPTED_OUT,
            id_array(_subset(opted_out, "customer_id", keep), "customer_id"),
        )
        if policy.require_opt_in:
            opted_in = id_array(
                _subset(consents.filter(status=ConsentStatus.OPTED_IN), "customer_id", keep),
                "customer_id",
            )
            drop(SuppressionReason.NO_CONSENT, keep[~np.isin(keep, opted_in)])
        dnd = Customer.objects.filter(do_not_disturb=True)
        drop(SuppressionReason.DO_NOT_DISTURB, id_array(_subset(dnd, "id", keep), "id"))
    address = ADDRESS_FIELD.get(channel)
    if address:
        missing = Customer.objects.filter(**{address: ""})
        drop(SuppressionReason.NO_ADDRESS, id_array(_subset(missing, "id", keep), "id"))
    rule = policy.rule_for(channel)
    if marketing:
        contacts = OutboxMessage.objects.filter(marketing=True, status__in=LIVE)
        if rule is not None and rule.max_contacts is not None:
            over = _over_cap(
                contacts.filter(channel=channel), keep, send_at, rule.window_days, rule.max_contacts
            )
            drop(SuppressionReason.FREQUENCY_CAP, over)
        if policy.max_contacts is not None:
            over = _over_cap(contacts, keep, send_at, policy.window_days, policy.max_contacts)
            drop(SuppressionReason.FREQUENCY_CAP, over)
    if rule is not None and keep.size:
        drop(SuppressionReason.CAPACITY, _over_capacity(rule, keep, send_at))
    decision.allowed = keep.tolist()
    return decision


def _over_cap(contacts, keep: np.ndarray, send_at, window_days: int, cap: int) -> np.ndarray:
    """Customers with `cap` or more contacts within the window around send_at: one
    GROUP BY ... HAVING over the outbox."""
    if keep.size == 0:
        return keep
    if cap == 0:
        return keep
    window = datetime.timedelta(days=window_days)
    in_window = contacts.filter(due_at__gt=send_at - window, due_at__lt=send_at + window)
    crowded = (
        _subset(in_window, "customer_id", keep)
        .order_by()
        .values("customer_id")
        .annotate(contacts=Count("id"))
        .filter(contacts__gte=cap)
    )
    return id_array(crowded, "customer_id")


def _over_capacity(rule, keep: np.ndarray, send_at) -> np.ndarray:
    """Customers beyond the day's capacity: first each account manager's (their customers'
    call-list items), then the channel's. Earlier customers in `keep` are served first."""
    if rule.daily_capacity is None and rule.manager_daily_capacity is None:
        return keep[:0]
    start, end = local_day_bounds(local_date(send_at))
    today = OutboxMessage.objects.filter(
        channel=rule.channel, status__in=LIVE, due_at__gte=start, due_at__lt=end
    ).order_by()
    over = np.zeros(keep.size, dtype=bool)
    if rule.manager_daily_capacity is not None:
        over |= _over_manager_capacity(today, keep, rule.manager_daily_capacity)
    if rule.daily_capacity is not None:
        remaining = max(0, rule.daily_capacity - today.count())
        position = np.cumsum(~over)  # 1-based rank among those still in
        over |= position > remaining
    return keep[over]


def _over_manager_capacity(today, keep: np.ndarray, capacity: int) -> np.ndarray:
    """A mask over `keep`: customers whose account manager's list for the day is full.
    Customers without an account manager go to the call centre (the channel capacity)."""
    used = dict(
        today.values("customer__owner_id")
        .annotate(n=Count("id"))
        .values_list("customer__owner_id", "n")
    )
    pairs = np.array(
        list(
            _subset(Customer.objects.order_by(), "id", keep)
            .exclude(owner_id=None)
            .values_list("id", "owner_id")
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    owner = np.full(keep.size, -1, dtype=np.int64)
    if pairs.size:
        order = np.argsort(pairs[:, 0])
        ids, owners = pairs[order, 0], pairs[order, 1]
        position = np.searchsorted(ids, keep)
        position[position >= ids.size] = 0
        found = ids[position] == keep
        owner[found] = owners[position[found]]
    # Rank of each customer within its manager's group, keeping the given order.
    order = np.argsort(owner, kind="stable")
    sorted_owner = owner[order]
    starts = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
    group = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, sorted_owner.size]))
    rank_sorted = np.arange(sorted_owner.size) - starts[group]
    remaining = np.array(
        [
            np.iinfo(np.int64).max if o == -1 else max(0, capacity - used.get(int(o), 0))
            for o in sorted_owner[starts]
        ],
        dtype=np.int64,
    )
    over_sorted = rank_sorted >= remaining[group]
    over = np.empty(keep.size, dtype=bool)
    over[order] = over_sorted
    return over


@contextmanager
def admission():
    """One transaction in which contacts are checked and queued, holding the policy row's
    lock so concurrent admissions (two campaigns, two workers) take turns: the second sees
    the first's rows when it counts."""
    with transaction.atomic():
        ContactPolicy.current()
        yield ContactPolicy.objects.select_for_update().get(pk=ContactPolicy.SINGLETON_ID)


def record_suppressions(
    decision: ContactDecision,
    *,
    campaign_id: int | None = None,
    messages: dict[int, object] | None = None,
) -> int:
    """Write one SuppressionRecord per suppressed customer of the decision, in bulk.
    `messages` (customer id -> NewMessage) supplies each record's task, campaign and key."""
    messages = messages or {}
    retry_on = decision.retry_on

    def rows():
        for reason, ids in decision.suppressed.items():
            waiting = reason in WAITING_REASONS
            for customer_id in ids:
                message = messages.get(customer_id)
                yield SuppressionRecord(
                    customer_id=customer_id,
                    channel=decision.channel,
                    reason=reason,
                    action=SuppressionAction.WAITING if waiting else SuppressionAction.DROPPED,
                    retry_on=retry_on if waiting else None,
                    at=decision.at,
                    campaign_id=getattr(message, "campaign_id", None) or campaign_id,
                    task_id=getattr(message, "task_id", None),
                    dedup_key=getattr(message, "dedup_key", ""),
                )

    return _bulk_insert(rows())


def _bulk_insert(records: Iterable[SuppressionRecord]) -> int:
    written = 0
    iterator = iter(records)
    while batch := list(islice(iterator, RECORD_BATCH)):
        SuppressionRecord.objects.bulk_create(batch)
        written += len(batch)
    return written


@dataclass
class AdmissionResult:
    """What `admit` did: rows queued, and the decision per (channel, marketing) group."""

    enqueued: int
    decisions: list[ContactDecision]

    @property
    def suppressed(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for decision in self.decisions:
            for reason, ids in decision.suppressed.items():
                totals[reason] = totals.get(reason, 0) + len(ids)
        return totals


def admit(messages, at: datetime.datetime | None = None) -> AdmissionResult:
    """Check `messages` (NewMessage or dicts) against the contact policy at `at` and queue
    the allowed ones, due at the decision's send time (later if the message says so);
    record every suppressed one. One admission, one transaction."""
    from .services import NewMessage, enqueue

    at = at or timezone.now()
    items = [m if isinstance(m, NewMessage) else NewMessage(**m) for m in messages]
    groups: dict[tuple[str, bool], list[NewMessage]] = {}
    for message in items:
        groups.setdefault((message.channel, message.marketing), []).append(message)
    enqueued = 0
    decisions = []
    with admission() as policy:
        for (channel, marketing), group in groups.items():
            decision = check_contact(
                [m.customer_id for m in group], channel, at, policy=policy, marketing=marketing
            )
            allowed = set(decision.allowed)
            for message in group:
                if message.due_at is None or message.due_at < decision.send_at:
                    message.due_at = decision.send_at
            enqueued += enqueue(m for m in group if m.customer_id in allowed)
            record_suppressions(decision, messages={m.customer_id: m for m in group})
            decisions.append(decision)
    return AdmissionResult(enqueued=enqueued, decisions=decisions)


@dataclass
class ArbitrationResult:
    """(customer id, campaign id) pairs: who contacts the customer on the day, who waits
    for a later day, who was dropped; as n x 2 arrays (`*_pairs`, what set-based callers
    use) and as lists of tuples."""

    day: datetime.date
    winner_pairs: np.ndarray
    waiting_pairs: np.ndarray
    dropped_pairs: np.ndarray

    @staticmethod
    def _tuples(pairs: np.ndarray) -> list[tuple[int, int]]:
        # tolist() gives Python ints in one call; a tuple per pair keeps the type.
        return list(map(tuple, pairs.tolist()))

    @property
    def winners(self) -> list[tuple[int, int]]:
        return self._tuples(self.winner_pairs)

    @property
    def waiting(self) -> list[tuple[int, int]]:
        return self._tuples(self.waiting_pairs)

    @property
    def dropped(self) -> list[tuple[int, int]]:
        return self._tuples(self.dropped_pairs)

    @property
    def retry_on(self) -> datetime.date:
        """The day waiting losers try again."""
        return self.day + datetime.timedelta(days=1)


def _pairs_in(pairs: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Mask of the rows of `pairs` (n x 2) that appear among the rows of `others`."""
    if pairs.size == 0 or others.size == 0:
        return np.zeros(len(pairs), dtype=bool)
    both = np.vstack([pairs, others])
    low, high = both.min(axis=0), both.max(axis=0)
    span = int(high[1] - low[1]) + 1
    if low.min() >= 0 and (int(high[0]) + 1) * span < 2**62:
        # Each pair as one integer (exact while it fits): np.isin on a million keys takes
        # a tenth of the time np.unique(axis=0) takes on the pairs.
        keys = both[:, 0] * span + (both[:, 1] - low[1])
        return np.isin(keys[: len(pairs)], keys[len(pairs) :])
    _unique, labels = np.unique(both, axis=0, return_inverse=True)
    labels = labels.reshape(-1)
    return np.isin(labels[: len(pairs)], labels[len(pairs) :])


def arbitrate(
    candidates,
    *,
    day: datetime.date | None = None,
    waiting_campaigns: Iterable[int] = (),
    policy: ContactPolicy | None = None,
    channel: str = "",
    record: bool = True,
) -> ArbitrationResult:
    """Decide which campaigns contact each customer on `day` (default today, local).

    `candidates` is a sequence of (customer_id, campaign_id, priority) rows (a list or an
    n x 3 array). A customer takes at most policy.max_campaigns_per_day campaigns a day,
    counting those already in the outbox for that day, which keep their place: a
    campaign already contacting the customer that day always wins again (a second
    channel of the same wave), and the free places go to the highest priority, ties to
    the lower campaign id. Losers of campaigns in `waiting_campaigns` wait for the next
    day; the others are dropped. Every loser is recorded as a suppression (reason
    arbitration) unless record=False. Call it inside `admission()` together with the
    enqueue, so the day's places cannot be taken twice."""
    policy = policy or ContactPolicy.current()
    day = day or local_date(timezone.now())
    rows = np.asarray(list(candidates) if not hasattr(candidates, "shape") else candidates)
    rows = rows.astype(np.int64).reshape(-1, 3)
    nothing = np.empty((0, 2), dtype=np.int64)
    empty = ArbitrationResult(
        day=day, winner_pairs=nothing, waiting_pairs=nothing, dropped_pairs=nothing
    )
    if rows.size == 0:
        return empty
    # One row per (customer, campaign), keeping the campaign's highest priority.
    order = np.lexsort((-rows[:, 2], rows[:, 1], rows[:, 0]))
    rows = rows[order]
    first = np.r_[True, np.any(rows[1:, :2] != rows[:-1, :2], axis=1)]
    rows = rows[first]
    customers = unique_ints(rows[:, 0])

    start, end = local_day_bounds(day)
    incumbents_qs = _subset(
        OutboxMessage.objects.filter(
            campaign_id__isnull=False, status__in=LIVE, due_at__gte=start, due_at__lt=end
        ),
        "customer_id",
        customers,
    )
    incumbents = int_columns(
        incumbents_qs.values_list("customer_id", "campaign_id").distinct(),
        "customer_id",
        "campaign_id",
    )
    already = _pairs_in(rows[:, :2], incumbents)
    # Places left per candidate customer: the daily maximum minus campaigns already there.
    taken = np.zeros(rows.shape[0], dtype=np.int64)
    if incumbents.size:
        inc_customers, inc_counts = np.unique(incumbents[:, 0], return_counts=True)
        position = np.searchsorted(inc_customers, rows[:, 0])
        position[position >= inc_customers.size] = 0
        hit = inc_customers[position] == rows[:, 0]
        taken[hit] = inc_counts[position[hit]]
    places = policy.max_campaigns_per_day - taken

    contenders = rows[~already]
    contender_places = places[~already]
    order = np.lexsort((contenders[:, 1], -contenders[:, 2], contenders[:, 0]))
    contenders, contender_places = contenders[order], contender_places[order]
    starts = np.flatnonzero(np.r_[True, contenders[1:, 0] != contenders[:-1, 0]])
    sizes = np.diff(np.r_[starts, contenders.shape[0]])
    rank = np.arange(contenders.shape[0]) - np.repeat(starts, sizes)
    wins = rank < contender_places

    winners = np.vstack([rows[already, :2], contenders[wins, :2]])
    losers = contenders[~wins, :2]
    waits = np.isin(losers[:, 1], np.fromiter(waiting_campaigns, dtype=np.int64))
    result = ArbitrationResult(
        day=day,
        winner_pairs=winners,
        waiting_pairs=losers[waits],
        dropped_pairs=losers[~waits],
    )
    if record and losers.size:
        at = timezone.now()

        def records():
            for pairs, action, retry_on in (
                (result.waiting, SuppressionAction.WAITING, result.retry_on),
                (result.dropped, SuppressionAction.DROPPED, None),
            ):
                for customer_id, campaign_id in pairs:
                    yield SuppressionRecord(
                        customer_id=customer_id,
                        channel=channel,
                        reason=SuppressionReason.ARBITRATION,
                        action=action,
                        retry_on=retry_on,
                        at=at,
                        campaign_id=campaign_id,
                    )

        _bulk_insert(records())
    return result
