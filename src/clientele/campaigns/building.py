"""Building and running campaigns, set-based (principle 3): no Python loop per customer
decides anything, whatever the audience size.

- The audience is a queryset (the rules compiler's `customers_matching`, or the
  customers a trigger fired for), narrowed to those eligible for at least one of the
  campaign's offers when every offer is limited to a segment.
- Targets go in from the id array in bulk (COPY on PostgreSQL); the holdout is a hash
  of (campaign, customer) computed by numpy over the array, so it is the same at every
  rebuild. Tasks for the treated targets are one INSERT ... SELECT.
- A wave takes its due tasks in id chunks; per chunk, inside one contact-policy
  admission: arbitration between campaigns, the campaign's budget, the policy's checks
  (every suppressed contact recorded with its reason) and the outbox insert with the key
  task:wave:channel. Re-running a wave inserts nothing twice: the key is unique, and the
  tasks it reached have moved on to the next wave in the same transaction.
- At a million targets what is left is the database's own work (index entries of the
  targets, tasks and outbox rows) and, in Python, one formatted line per message (the
  coupon's MAC is a large part): rows go to PostgreSQL as COPY text built here rather
  than adapted cell by cell (`bench/bench_campaign_build.py`, docs/benchmarks.md).
"""

import datetime
import hashlib
import logging
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clientele.channels import bulk
from clientele.channels.choices import ADDRESS_FIELD, SuppressionAction, SuppressionReason
from clientele.channels.models import OutboxMessage, SuppressionRecord
from clientele.channels.policy import (
    WAITING_REASONS,
    admission,
    arbitrate,
    check_contact,
    local_date,
)
from clientele.channels.services import NewMessage, _row, cancel_pending
from clientele.core.background_copy import BackgroundCopy, escape, format_values
from clientele.core.bulk_session import bulk_work_mem
from clientele.core.id_arrays import id_array, unique_ints
from clientele.core.models import User
from clientele.customers.models import Customer
from clientele.sales.models import VALUE_STATUSES, Order, OrderLine

from .choices import AudienceKind, CampaignStatus, TaskStatus
from .models import Campaign, CampaignTarget, Task, Wave

log = logging.getLogger(__name__)

# Due tasks per admission. Each chunk joins the wave's remaining due tasks again and its
# arbitration and frequency caps re-read today's outbox, including the rows earlier
# chunks of the same wave wrote, so fewer, larger chunks are faster (1,000,000
# customers: wave 18.5 s in chunks of 400,000, 16.3 s in one). A chunk's rows are held
# in memory: about 450 bytes a task, so a million-task chunk keeps a worker under 1 GB.
CHUNK = 1000000
INSERT_BATCH = 20000
COPY_BLOCK = 20000
NULL = "\\N"  # COPY text's NULL
ANALYZE_AFTER = 50000


class CampaignBusy(RuntimeError):
    """Another worker is building or running this campaign right now."""


@contextmanager
def campaign_lock(campaign_id: int):
    """One build or wave run per campaign at a time, across every worker machine (Huey's
    lock lives in its storage: Redis in production, the SQLite file embedded)."""
    from huey.contrib.djhuey import HUEY
    from huey.exceptions import TaskLockedException

    try:
        with HUEY.lock_task(f"clientele-campaign-{campaign_id}"):
            yield
    except TaskLockedException:
        raise CampaignBusy(campaign_id) from None


# --- audiences ----------------------------------------------------------------------------


def _rules():
    from clientele.segmentation import rules

    return rules


def with_eligibility(campaign: Campaign, queryset, at):
    """Narrow an audience to customers eligible for at least one of the campaign's offers;
    unchanged if the campaign has no offers or one of them is for everyone."""
    offers = list(campaign.offers.filter(active=True))
    if not offers or not all(offer.eligibility for offer in offers):
        return queryset
    condition = Q()
    for offer in offers:
        matching = _rules().customers_matching(offer.eligibility, at=at)
        condition |= Q(pk__in=matching.order_by().values("pk"))
    return queryset.filter(condition)


def _in_segment(campaign: Campaign, queryset, at):
    if not campaign.segment:
        return queryset
    matching = _rules().customers_matching(campaign.segment, at=at)
    return queryset.filter(pk__in=matching.order_by().values("pk"))


def segment_audience(campaign: Campaign, at=None):
    """The customers of a segment campaign: the segment as of `audience_at` (default the
    start), eligible for an offer."""
    at = at or timezone.now()
    moment = campaign.audience_at or min(campaign.starts_at, at)
    queryset = _in_segment(campaign, Customer.objects.all(), moment)
    return with_eligibility(campaign, queryset, at)


def _tier_upgrades(definition) -> Q:
    codes = definition.class_codes()
    pairs = Q(pk__in=[])
    for low, code in enumerate(codes):
        for high in codes[low + 1 :]:
            pairs |= Q(definition=definition, from_code=code, to_code=high)
    return pairs


def triggered_customers(campaign: Campaign, since, until):
    """The customers whose trigger fired in (since, until], as a queryset of Customer."""
    from clientele.segmentation.constants import Kind
    from clientele.segmentation.models import ClassificationDefinition, ClassTransition

    kind = campaign.audience_kind
    customers = Customer.objects.all()
    window = Q(at__gt=since, at__lte=until)
    if kind == AudienceKind.BIRTHDAY:
        first, last = local_date(since), local_date(until)
        days = Q(pk__in=[])
        day = first + datetime.timedelta(days=1)
        count = 0
        while day <= last and count < 366:
            days |= Q(birthday__month=day.month, birthday__day=day.day)
            day += datetime.timedelta(days=1)
            count += 1
        queryset = customers.filter(days)
    elif kind == AudienceKind.HOLIDAY:
        fired = campaign.holiday and local_date(since) < campaign.holiday <= local_date(until)
        queryset = customers if fired else customers.none()
    elif kind in (AudienceKind.CLASS_CHANGE, AudienceKind.AT_RISK):
        transitions = ClassTransition.objects.filter(window)
        if kind == AudienceKind.CLASS_CHANGE:
            transitions = transitions.filter(
                definition_id=campaign.class_definition_id, to_code=campaign.to_class
            )
        else:
            transitions = transitions.filter(to_code="at_risk")
            if campaign.class_definition_id:
                transitions = transitions.filter(definition_id=campaign.class_definition_id)
            else:
                transitions = transitions.filter(definition__kind=Kind.LIFECYCLE)
        queryset = customers.filter(pk__in=transitions.order_by().values("customer_id"))
    elif kind == AudienceKind.TIER_UPGRADE:
        definitions = ClassificationDefinition.objects.filter(kind=Kind.TIER)
        if campaign.class_definition_id:
            definitions = definitions.filter(pk=campaign.class_definition_id)
        upgrades = Q(pk__in=[])
        for definition in definitions:
            upgrades |= _tier_upgrades(definition)
        transitions = ClassTransition.objects.filter(window).filter(upgrades)
        queryset = customers.filter(pk__in=transitions.order_by().values("customer_id"))
    elif kind == AudienceKind.FIRST_ORDER:
        delay = datetime.timedelta(days=campaign.days_after_first_order or 0)
        first_orders = (
            Order.objects.filter(status__in=VALUE_STATUSES)
            .order_by()
            .values("customer_id")
            .annotate(first=Min("ordered_at"))
            .filter(first__gt=since - delay, first__lte=until - delay)
            .values("customer_id")
        )
        queryset = customers.filter(pk__in=first_orders)
    else:
        return customers.none()
    return with_eligibility(campaign, _in_segment(campaign, queryset, until), until)


# --- targets and tasks --------------------------------------------------------------------


@dataclass
class BuildResult:
    added: int = 0
    holdout: int = 0
    tasks: int = 0

    def __iadd__(self, other):
        self.added += other.added
        self.holdout += other.holdout
        self.tasks += other.tasks
        return self


def add_targets(campaign: Campaign, customers, *, at=None) -> BuildResult:
    """Make the customers of `customers` (a queryset) targets of the campaign, those
    already targeted left alone; the holdout drawn per (campaign, customer); a task for
    each new treated target, assigned to the customer's account manager."""
    at = at or timezone.now()
    ids = unique_ints(id_array(customers))
    existing = id_array(CampaignTarget.objects.filter(campaign=campaign), "customer_id")
    new = np.setdiff1d(ids, existing, assume_unique=True)
    result = BuildResult()
    if new.size == 0:
        return result
    holdout = holdout_of(campaign, new)
    with transaction.atomic():
        bulk_work_mem()
        # Ids come from a sequence: the targets added below are the campaign's above it.
        before = CampaignTarget.objects.aggregate(last=Max("id"))["last"] or 0
        if connection.vendor == "postgresql":
            result.added = _copy_targets(campaign, new, holdout, at)
        else:
            rows = (
                {
                    "campaign_id": campaign.pk,
                    "customer_id": customer_id,
                    "in_holdout": in_holdout,
                    "built_at": at,
                }
                for customer_id, in_holdout in zip(new.tolist(), holdout.tolist(), strict=True)
            )
            while batch := list(islice(rows, INSERT_BATCH)):
                result.added += bulk.insert(CampaignTarget, batch)
        result.holdout = int(holdout.sum())
        if result.added >= ANALYZE_AFTER:
            _analyze(CampaignTarget)
        result.tasks = _insert_tasks(campaign, at, before, older=existing.size > 0)
        if result.tasks >= ANALYZE_AFTER:
            _analyze(Task)
    return result


def _analyze(model) -> None:
    """Refresh the planner's statistics after a large insert (PostgreSQL; allowed inside a
    transaction, samples a fixed number of rows): without it the next statements plan for
    the table as it was, e.g. a nested loop over a million rows thought to be a few."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW default_statistics_target")
        (target,) = cursor.fetchone()
        # A tenth of the usual sample (3,000 rows): enough to tell a million rows from a
        # few, which is all these statistics are refreshed for, in a tenth of the time.
        cursor.execute("SET default_statistics_target = 10")
        try:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        finally:
            cursor.execute("SELECT set_config('default_statistics_target', %s, false)", [target])


def _copy_lines(table: str, columns: list[str], lines) -> None:
    """COPY already formatted text (items of whole tab-separated, newline-terminated
    lines) into `table`, in blocks sent from a second thread (core.background_copy):
    the server stores one block while the next is formatted here (messages: rendered),
    instead of the two taking turns. A million rows go in without a call per cell."""
    lines = iter(lines)
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    sql = f"COPY {quote(table)} ({names}) FROM STDIN"
    copier = BackgroundCopy()
    try:
        while block := list(islice(lines, COPY_BLOCK)):
            copier.submit_text(sql, "".join(block).encode())
    except BaseException:
        copier.close(failed=True)
        raise
    copier.close()


def _copy_targets(campaign: Campaign, ids: np.ndarray, holdout: np.ndarray, at) -> int:
    prefix = f"{campaign.pk}\t"
    stamp = f"\t{at.isoformat()}\n"
    lines = (
        f"{prefix}{customer_id}\t{'t' if in_holdout else 'f'}{stamp}"
        for customer_id, in_holdout in zip(ids.tolist(), holdout.tolist(), strict=True)
    )
    _copy_lines(
        CampaignTarget._meta.db_table,
        ["campaign_id", "customer_id", "in_holdout", "built_at"],
        lines,
    )
    return int(ids.size)


def holdout_of(campaign: Campaign, customer_ids: np.ndarray) -> np.ndarray:
    from .services import holdout_mask

    return holdout_mask(campaign.pk, customer_ids, campaign.holdout_rate)


def _insert_tasks(campaign: Campaign, at, before: int, *, older: bool) -> int:
    """One task per treated target that has none yet, the owner taken from the customer:
    for the targets just added (ids above `before`) a plain INSERT ... SELECT, since none
    can have a task; if the campaign had targets already (`older`), for those whose task
    is missing (deleted by hand) the same, skipping those that have one. The unique
    target key's check on every row of a million-target build cost 0.7 s, hence two."""
    quote = connection.ops.quote_name
    task, target, customer = (
        quote(Task._meta.db_table),
        quote(CampaignTarget._meta.db_table),
        quote(Customer._meta.db_table),
    )
    stamp = connection.ops.adapt_datetimefield_value(at)
    insert = (
        f"INSERT INTO {task} (created_at, updated_at, campaign_id, customer_id, target_id,"
        " owner_id, status, last_wave, result, intent, handed_to_store, notes, closed_via)"
        f" SELECT %s, %s, t.campaign_id, t.customer_id, t.id, c.owner_id, %s, 0, '', '', '',"
        f" '', '' FROM {target} t JOIN {customer} c ON c.id = t.customer_id"
        " WHERE t.campaign_id = %s AND t.in_holdout = %s"
    )
    params = [stamp, stamp, TaskStatus.OPEN, campaign.pk, False, before]
    with connection.cursor() as cursor:
        cursor.execute(insert + " AND t.id > %s", params)
        added = cursor.rowcount
        if not older:
            return added
        # The target's unique key skips those that have a task (an anti-join here was
        # planned as a nested loop rescanning the table being filled: quadratic).
        cursor.execute(insert + " AND t.id <= %s ON CONFLICT (target_id) DO NOTHING", params)
        return added + cursor.rowcount


def build(campaign: Campaign, *, at=None, rebuild: bool = False) -> BuildResult:
    """Add the targets due now: the segment (at the first build, or again with `rebuild`)
    or the customers whose trigger fired since the last check. Safe to call again:
    targets are unique per campaign and the holdout is the same."""
    at = at or timezone.now()
    with campaign_lock(campaign.pk):
        campaign.refresh_from_db()
        if campaign.audience_kind == AudienceKind.SEGMENT:
            if campaign.built_at and not rebuild:
                return BuildResult()
            result = add_targets(campaign, segment_audience(campaign, at), at=at)
            Campaign.objects.filter(pk=campaign.pk).update(built_at=at, checked_until=at)
        else:
            since = campaign.checked_until or campaign.starts_at
            result = BuildResult()
            if at > since:
                result = add_targets(campaign, triggered_customers(campaign, since, at), at=at)
            Campaign.objects.filter(pk=campaign.pk).update(
                built_at=Coalesce(F("built_at"), Value(at)), checked_until=at
            )
    campaign.refresh_from_db()
    return result


# --- waves -----------------------------------------------------------------------------


class _Merge(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def coupon_key() -> bytes:
    """The key of coupon codes: derived from the secret key (BLAKE2 takes at most 64
    bytes of key; any secret key length gives 32 here)."""
    return hashlib.sha256(b"clientele coupon:" + settings.SECRET_KEY.encode()).digest()


def coupon_code(task_id: int, key: bytes | None = None) -> str:
    """A coupon code per task, unguessable from the task id: keyed BLAKE2 (a MAC, like
    HMAC-SHA256 but a third of its cost, which was most of a message's) of the task id.
    `key` is `coupon_key()`, passed by callers making many codes."""
    digest = hashlib.blake2b(f"{task_id}".encode(), key=key or coupon_key(), digest_size=8)
    return f"C{task_id:x}{digest.hexdigest()[:6]}".upper()


def _top_categories(customer_ids: list[int]) -> dict[int, str]:
    """The category each customer spent most on (ties: the lower code)."""
    rows = (
        OrderLine.objects.filter(
            order__customer_id__in=customer_ids, order__status__in=VALUE_STATUSES
        )
        .order_by()
        .values_list("order__customer_id", "product__category__code")
        .annotate(total=Sum("amount"))
    )
    best: dict[int, tuple] = {}
    for customer_id, code, total in rows:
        if code is None:
            continue
        key = (total, _negated(code))
        if customer_id not in best or key > best[customer_id][0]:
            best[customer_id] = (key, code)
    return {customer_id: code for customer_id, (_key, code) in best.items()}


def _negated(code: str) -> tuple:
    return tuple(-ord(ch) for ch in code)


@dataclass
class WaveResult:
    wave: int
    due: int = 0
    enqueued: int = 0
    contacted: int = 0
    suppressed: dict = field(default_factory=lambda: defaultdict(int))
    waiting: int = 0
    over_budget: int = 0


def run_wave(campaign: Campaign, wave: Wave, *, previous: int = 0, now=None) -> WaveResult:
    """Send one wave to the open tasks due for it (they had the `previous` wave, the
    wave's day has come since they became targets, and, for a non-responder wave, they
    have not responded). Chunk by chunk, each in one admission."""
    now = now or timezone.now()
    today = local_date(now)
    result = WaveResult(wave=wave.number)
    due = Task.objects.filter(
        campaign=campaign,
        status=TaskStatus.OPEN,
        last_wave=previous,
        target__built_at__lte=now - datetime.timedelta(days=wave.day_offset),
    ).filter(Q(wait_until__isnull=True) | Q(wait_until__lte=today))
    if wave.only_non_responders:
        due = due.filter(target__responded_at__isnull=True)
    address = ADDRESS_FIELD.get(wave.channel)
    # A row: task id, customer id, name, code, owner id[, address] (`_renderer` reads it).
    columns = ["id", "customer_id", "customer__name", "customer__code", "owner_id"]
    if address:
        columns.append(f"customer__{address}")
    offer = campaign.offers.filter(active=True).order_by("-priority", "name").first()
    last_id = 0
    analyzed_at = 0
    while True:
        size = CHUNK
        left = _contacts_left(campaign)
        if left is not None:
            if left <= 0:
                result.over_budget += due.filter(id__gt=last_id).count()
                break
            size = min(CHUNK, left)
        chunk = _rows(due.filter(id__gt=last_id).order_by("id").values_list(*columns)[:size])
        if not chunk:
            break
        last_id = chunk[-1][0]
        result.due += len(chunk)
        if result.enqueued - analyzed_at >= ANALYZE_AFTER:
            # Arbitration reads today's outbox: planned against statistics from before
            # the previous chunks' rows, its read once took minutes instead of a second.
            _analyze(OutboxMessage)
            analyzed_at = result.enqueued
        _send_chunk(campaign, wave, chunk, offer, now, result)
    return result


def _rows(queryset) -> list[tuple]:
    """The rows of a values_list of integer and text columns in one fetch (the ORM's
    iterator fetches 100 rows a call: two thousand round trips per chunk)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _contacts_left(campaign: Campaign) -> int | None:
    campaign.refresh_from_db(fields=["spent"])
    return campaign.contacts_left


def _update_ids(model, ids: list[int], assignments: str, params: list) -> None:
    """UPDATE rows of `model` by id with raw `assignments` ("col = %s, ..."): one
    statement with an array on PostgreSQL (cheap however many ids), IN lists of a few
    thousand on SQLite."""
    if not ids:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET {assignments} WHERE id = ANY(%s::bigint[])",
                [*params, _array_text(ids)],
            )
            return
        for start in range(0, len(ids), 5000):
            part = ids[start : start + 5000]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"UPDATE {table} SET {assignments} WHERE id IN ({marks})", [*params, *part]
            )


def _move_on(contacted: list[int], passed: list[int], wave: int, stamp, contacted_at) -> None:
    """Tasks that had the wave move on to it: those contacted (`contacted` task ids) with
    their first contact stamped, those suppressed for good (`passed`) without. On
    PostgreSQL one statement: an UPDATE by an id array reads the whole table once however
    short the array (130,000 suppressed tasks took 1 s on their own)."""
    if connection.vendor != "postgresql":
        _update_ids(
            Task,
            contacted,
            "last_wave = %s, wait_until = NULL, updated_at = %s,"
            " first_contacted_at = COALESCE(first_contacted_at, %s)",
            [wave, stamp, contacted_at],
        )
        _update_ids(
            Task, passed, "last_wave = %s, wait_until = NULL, updated_at = %s", [wave, stamp]
        )
        return
    if not contacted and not passed:
        return
    table = connection.ops.quote_name(Task._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_wave = %s, wait_until = NULL, updated_at = %s,"
            " first_contacted_at = CASE WHEN id = ANY(%s::bigint[]) THEN first_contacted_at"
            " ELSE COALESCE(first_contacted_at, %s) END"
            " WHERE id = ANY(%s::bigint[])",
            [wave, stamp, _array_text(passed), contacted_at, _array_text(contacted + passed)],
        )


def _array_text(ids: list[int]) -> str:
    """A PostgreSQL array literal of integers: psycopg's list adapter costs more per id."""
    return "{" + ",".join(map(str, ids)) + "}"


def _send_chunk(campaign, wave, chunk, offer, now, result: WaveResult) -> None:
    """One admission: arbitration, the policy's checks, the outbox insert, the suppressions
    recorded, and the tasks moved on (or told to wait for tomorrow), all in one
    transaction. The steps of `policy.admit`, with the rows written by COPY."""
    variants = wave.variants or {}
    categories = _top_categories([row[1] for row in chunk]) if variants else {}
    by_customer = {row[1]: row for row in chunk}
    ops = connection.ops
    with admission() as policy:
        bulk_work_mem()
        candidates = np.empty((len(chunk), 3), dtype=np.int64)
        candidates[:, 0] = np.fromiter((row[1] for row in chunk), np.int64, len(chunk))
        candidates[:, 1] = campaign.pk
        candidates[:, 2] = campaign.priority
        arbitration = arbitrate(
            candidates,
            day=local_date(now),
            policy=policy,
            channel=wave.channel,
            waiting_campaigns=[campaign.pk],
        )
        winners = arbitration.winner_pairs[:, 0].tolist()
        waiting = set(arbitration.waiting_pairs[:, 0].tolist())
        allowed: list[int] = []
        allowed_set: set[int] = set()
        send_at = now
        if winners:
            decision = check_contact(winners, wave.channel, now, policy=policy)
            allowed = decision.allowed
            allowed_set = set(allowed)
            send_at = decision.send_at
            for reason, ids in decision.suppressed.items():
                result.suppressed[reason] += len(ids)
                if reason in WAITING_REASONS:
                    waiting.update(ids)
            result.enqueued += _enqueue(
                campaign, wave, [by_customer[c] for c in allowed], offer, categories, send_at
            )
            _record_suppressions(decision, campaign, wave, by_customer)
        result.suppressed[SuppressionReason.ARBITRATION] += len(arbitration.waiting_pairs) + len(
            arbitration.dropped_pairs
        )
        result.contacted += len(allowed)
        result.waiting += len(waiting)
        stamp = ops.adapt_datetimefield_value(now)
        if waiting:
            retry_on = local_date(now) + datetime.timedelta(days=1)
            _update_ids(
                Task,
                [by_customer[c][0] for c in waiting],
                "wait_until = %s, updated_at = %s",
                [ops.adapt_datefield_value(retry_on), stamp],
            )
        _move_on(
            [by_customer[c][0] for c in allowed],
            [row[0] for c, row in by_customer.items() if c not in waiting and c not in allowed_set],
            wave.number,
            stamp,
            ops.adapt_datetimefield_value(send_at),
        )
        if allowed and campaign.cost_per_contact:
            Campaign.objects.filter(pk=campaign.pk).update(
                spent=F("spent") + campaign.cost_per_contact * len(allowed)
            )


def _enqueue(campaign, wave, rows, offer, categories, due_at) -> int:
    """Queue one message per row, due at `due_at` (what `channels.services.enqueue`
    does): on PostgreSQL one COPY of rows formatted here; if a dedup key is already there
    (a wave re-run after a manual change), the insert that skips existing keys instead."""
    if not rows:
        return 0
    render = _renderer(campaign, wave, offer, categories, _managers(rows))
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic(), connection.wrap_database_errors:
                return _copy_messages(campaign, wave, rows, render, due_at)
        except IntegrityError:
            pass
    now = timezone.now()
    messages = [_message(campaign, wave, row, render, due_at) for row in rows]
    return bulk.insert(
        OutboxMessage,
        [_row(i, message, now) for i, message in enumerate(messages)],
        ignore_conflicts_on="dedup_key",
    )


_OUTBOX_GIVEN = (
    "channel",
    "customer_id",
    "recipient",
    "subject",
    "body",
    "dedup_key",
    "campaign_id",
    "task_id",
    "wave",
    "marketing",
    "priority",
    "due_at",
    "next_attempt_at",
)


def _copy_layout(model, given: tuple[str, ...]) -> tuple[list[str], str]:
    """For COPY lines that start with the `given` fields' values in that order: the
    column names, and the text that ends every line before its newline (the other
    columns' defaults and timestamps, as `channels.bulk.insert` fills them)."""
    columns = bulk._columns(model, given, connection)
    constants = tuple((field, value) for field, how, value in columns if how == "constant")
    names = [model._meta.get_field(name).column for name in given]
    names += [field.column for field, _value in constants]
    return names, ("\t" + format_values(constants) if constants else "")


def _copy_messages(campaign, wave, rows, render, due_at) -> int:
    """The outbox rows as COPY text, one f-string per message (the per-cell adaptation
    of a generic insert cost more than the rest of the wave)."""
    names, suffix = _copy_layout(OutboxMessage, _OUTBOX_GIVEN)
    due = due_at.isoformat()
    channel, number = wave.channel, wave.number
    middle = f"\t{campaign.pk}\t"
    tail = f"\t{number}\tt\t{campaign.priority}\t{due}\t{due}{suffix}\n"

    def lines():
        for row in rows:
            task_id, customer_id = row[0], row[1]
            recipient, subject, body = render(row)
            if not recipient:
                raise IntegrityError(f"no recipient for task {task_id}")  # the checked path
            yield (
                f"{channel}\t{customer_id}\t{escape(recipient[:254])}\t"
                f"{escape(subject)}\t{escape(body)}\t{task_id}:{number}:{channel}"
                f"{middle}{task_id}{tail}"
            )

    _copy_lines(OutboxMessage._meta.db_table, names, lines())
    return len(rows)


def _record_suppressions(decision, campaign, wave, by_customer) -> int:
    """One SuppressionRecord per suppressed customer (what `policy.record_suppressions`
    writes), with the task and the message's key. On PostgreSQL as COPY text formatted
    per reason (only the customer and the task vary within one)."""
    if not any(decision.suppressed.values()):
        return 0
    retry_on = decision.retry_on
    if connection.vendor != "postgresql":
        rows = [
            {
                "customer_id": customer_id,
                "channel": decision.channel,
                "reason": reason,
                "action": action,
                "retry_on": retry,
                "at": decision.at,
                "campaign_id": campaign.pk,
                "task_id": by_customer[customer_id][0],
                "dedup_key": f"{by_customer[customer_id][0]}:{wave.number}:{wave.channel}",
            }
            for reason, ids, action, retry in _suppression_groups(decision, retry_on)
            for customer_id in ids
        ]
        return bulk.insert(SuppressionRecord, rows)
    # The columns in the order of the line below.
    order = ("customer_id", "task_id", "dedup_key", "channel", "reason", "action", "retry_on")
    names, suffix = _copy_layout(SuppressionRecord, (*order, "at", "campaign_id"))
    end = suffix + "\n"
    key_end = f":{wave.number}:{wave.channel}"
    lines = []
    for reason, ids, action, retry in _suppression_groups(decision, retry_on):
        retry_text = retry.isoformat() if retry else NULL
        shared = (
            f"\t{escape(decision.channel)}\t{reason}\t{action}"
            f"\t{retry_text}\t{decision.at.isoformat()}"
            f"\t{campaign.pk}{end}"
        )
        for customer_id in ids:
            task_id = by_customer[customer_id][0]
            lines.append(f"{customer_id}\t{task_id}\t{task_id}{key_end}{shared}")
    _copy_lines(SuppressionRecord._meta.db_table, names, lines)
    return len(lines)


def _suppression_groups(decision, retry_on):
    """(reason, customer ids, action, retry day or None) per suppression reason."""
    for reason, ids in decision.suppressed.items():
        waiting = reason in WAITING_REASONS
        action = SuppressionAction.WAITING if waiting else SuppressionAction.DROPPED
        yield reason, ids, action, retry_on if waiting else None


def _managers(rows) -> dict[int, str]:
    """The display name of each account manager owning one of the rows (by user id): a
    few dozen people read once, where the row carried three name columns each."""
    ids = {row[4] for row in rows if row[4] is not None}
    users = User.objects.filter(pk__in=ids).values_list("pk", "first_name", "last_name", "username")
    return {pk: f"{first} {last}".strip() or username or "" for pk, first, last, username in users}


def _renderer(campaign, wave, offer, categories, managers: dict[int, str]):
    """A function row -> (recipient, subject, body) for the wave's rows: the template (or
    the variant for the customer's top category) with the merge fields filled; unknown
    fields are left as they are. `managers` names the owners (`_managers`)."""
    variants = wave.variants or {}
    offer_name = offer.name if offer else ""
    unsubscribe = wave.channel == "email"
    if unsubscribe:
        from clientele.channels.signing import unsubscribe_url
    texts = [wave.template, wave.subject, *variants.values()]
    # The coupon (a MAC, a large part of a message's cost) only when a template asks for it.
    with_coupon = any("{coupon}" in text for text in texts)
    key = coupon_key()

    def render(row):
        task_id, customer_id, name, code, owner_id = row[:5]
        recipient = row[5] if len(row) > 5 else str(customer_id)
        template = wave.template
        category = categories.get(customer_id) if categories else None
        if category and category in variants:
            template = variants[category]
        values = _Merge(
            name=name,
            code=code,
            offer=offer_name,
            coupon=coupon_code(task_id, key) if with_coupon else "",
            manager=managers.get(owner_id, ""),
            campaign=campaign.name,
            unsubscribe="",
        )
        if unsubscribe and "{unsubscribe}" in template:
            values["unsubscribe"] = unsubscribe_url(customer_id, "email")
        subject = wave.subject.format_map(values)[:200] if wave.subject else ""
        return recipient or "", subject, template.format_map(values)

    return render


def _message(campaign, wave, row, render, due_at=None) -> NewMessage:
    recipient, subject, body = render(row)
    task_id = row[0]
    return NewMessage(
        channel=wave.channel,
        customer_id=row[1],
        recipient=recipient,
        subject=subject,
        body=body,
        dedup_key=f"{task_id}:{wave.number}:{wave.channel}",
        campaign_id=campaign.pk,
        task_id=task_id,
        wave=wave.number,
        priority=campaign.priority,
        due_at=due_at,
    )


def run_due_waves(campaign: Campaign, *, now=None) -> list[WaveResult]:
    """Every wave of an active campaign, in order, for the tasks due for it."""
    now = now or timezone.now()
    with campaign_lock(campaign.pk):
        campaign.refresh_from_db()
        if campaign.status != CampaignStatus.ACTIVE or campaign.starts_at > now:
            return []
        results = []
        previous = 0
        for wave in campaign.waves.order_by("number"):
            results.append(run_wave(campaign, wave, previous=previous, now=now))
            previous = wave.number
        return results


def finish(campaign: Campaign, *, at=None) -> int:
    """End a campaign: open tasks are cancelled and their pending messages with them.
    Returns the number of tasks cancelled."""
    at = at or timezone.now()
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.FINISHED, updated_at=at
        )
        cancelled = Task.objects.filter(campaign=campaign, status=TaskStatus.OPEN).update(
            status=TaskStatus.CANCELLED, closed_at=at, updated_at=at
        )
        cancel_pending(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return cancelled


def contacted_count(campaign: Campaign) -> int:
    """Treated targets that have been contacted at least once (for pages and tests)."""
    return Task.objects.filter(campaign=campaign, first_contacted_at__isnull=False).count()


def outbox_for(campaign: Campaign):
    return OutboxMessage.objects.filter(campaign_id=campaign.pk)
