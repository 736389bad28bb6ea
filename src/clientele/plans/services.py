"""Domain operations of the class plans, callable from pages, the API, the command line
and the background jobs alike:

- `generate_tasks`: each period, one DutyTask per required duty and customer of the
  class, inserted in one INSERT ... SELECT per duty from the current classes (unique per
  duty, customer and period, so running twice inserts nothing the second time);
- `mark_done` / `mark_missed`: one UPDATE each, from the Interactions recorded;
- `run_duties`: all three, what the daily job and `clientele manage plan_duties` call;
- `compliance` / `missed_tasks`: required, fulfilled and missed per account manager or
  team for a period, from the Interactions, in aggregate queries;
- `customer_plan`: the plans, benefits and earned gifts of one customer (360 page).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import IsNull
from django.utils import timezone

from clientele.core.permissions import scope_queryset
from clientele.customers.models import Interaction
from clientele.sales.models import VALUE_STATUSES, OrderLine
from clientele.segmentation.models import CurrentClass

from .choices import DutyKind, Performer, TaskStatus
from .models import ClassPlan, ContactDuty, DutyTask
from .periods import PeriodRange, local_midnight, local_today, period_of, year_before

# Backdated interactions still close tasks of periods that ended this many days ago.
DONE_LOOKBACK_DAYS = 100


# --- duty tasks ---------------------------------------------------------------------
def _constant(value, output_field):
    """A typed constant column (PostgreSQL needs a type for NULL in INSERT ... SELECT)."""
    return Cast(Value(value), output_field=output_field)


def _task_rows(duty: ContactDuty, period: PeriodRange, now: dt.datetime):
    """The SELECT of the new tasks of one duty and period: a row per current class."""
    plan = duty.plan
    if duty.performer == Performer.USER:
        assignee = _constant(duty.performer_user_id, BigIntegerField())
    elif duty.performer == Performer.TEAM:
        assignee = _constant(None, BigIntegerField())
    else:
        assignee = F("customer__owner_id")
    if duty.performer == Performer.TEAM and plan.team_id:
        team = _constant(plan.team_id, BigIntegerField())
    else:
        team = F("customer__team_id")
    columns = {
        "t_plan": _constant(plan.pk, BigIntegerField()),
        "t_duty": _constant(duty.pk, BigIntegerField()),
        "t_customer": F("customer_id"),
        "t_channel": _constant(duty.channel, CharField()),
        "t_min_count": _constant(duty.min_count, IntegerField()),
        "t_period_start": Value(period.start, output_field=DateField()),
        "t_due_on": Value(period.last_day, output_field=DateField()),
        "t_starts_at": Value(period.starts_at, output_field=DateTimeField()),
        "t_ends_at": Value(period.ends_at, output_field=DateTimeField()),
        "t_assignee": assignee,
        "t_team": team,
        "t_status": _constant(TaskStatus.OPEN.value, CharField()),
        "t_notes": _constant("", TextField()),
        "t_created": Value(now, output_field=DateTimeField()),
        "t_updated": Value(now, output_field=DateTimeField()),
    }
    target = [
        "plan_id",
        "duty_id",
        "customer_id",
        "channel",
        "min_count",
        "period_start",
        "due_on",
        "starts_at",
        "ends_at",
        "assignee_id",
        "team_id",
        "status",
        "notes",
        "created_at",
        "updated_at",
    ]
    rows = (
        CurrentClass.objects.filter(definition_id=plan.definition_id, code=plan.class_code)
        .order_by()
        .annotate(**columns)
        .values_list(*columns)
    )
    return target, rows


def create_tasks(duty: ContactDuty, period: PeriodRange, now: dt.datetime | None = None) -> int:
    """Insert the tasks of one required duty for one period in a single INSERT ... SELECT
    from the current classes; rows that exist already are skipped. Returns the count."""
    if duty.kind != DutyKind.REQUIRED:
        return 0
    target, rows = _task_rows(duty, period, now or timezone.now())
    select_sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(DutyTask._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in target)
    sql = f"INSERT INTO {table} ({columns}) {select_sql} ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def drop_stale_tasks(duty: ContactDuty, period: PeriodRange) -> int:
    """Remove the open tasks of a period for customers who left the class since."""
    plan = duty.plan
    in_class = CurrentClass.objects.filter(
        definition_id=plan.definition_id, code=plan.class_code, customer_id=OuterRef("customer_id")
    )
    stale = (
        DutyTask.objects.filter(duty=duty, period_start=period.start, status=TaskStatus.OPEN)
        .exclude(Exists(in_class))
        .order_by()
        .values("pk")
    )
    # One DELETE: QuerySet.delete() would load every row to send signals nobody needs.
    select_sql, params = stale.query.sql_with_params()
    table = connection.ops.quote_name(DutyTask._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id IN ({select_sql})", params)
        return max(cursor.rowcount, 0)


def generate_tasks(today: dt.date | None = None, plans=None, now: dt.datetime | None = None) -> int:
    """Create the tasks of the current period (the one containing `today`, a local date)
    for every required duty of the active plans. Idempotent. Returns the tasks created."""
    now = now or timezone.now()
    today = today or local_today(now)
    plans = ClassPlan.objects.filter(active=True) if plans is None else plans
    duties = ContactDuty.objects.filter(plan__in=plans, kind=DutyKind.REQUIRED).select_related(
        "plan"
    )
    created = 0
    for duty in duties:  # one INSERT per duty: a handful, however many customers
        period = period_of(duty.period, today)
        with transaction.atomic():
            drop_stale_tasks(duty, period)
            created += create_tasks(duty, period, now)
    return created


def matching_interactions():
    """The Interactions that fulfil the outer DutyTask: the customer, the channel, inside
    the period, and by the assignee (a task without one: any member of its team, or
    anyone when it has no team either)."""
    no_assignee = IsNull(OuterRef("assignee_id"), True)
    no_team = IsNull(OuterRef("team_id"), True)
    return Interaction.objects.filter(
        customer_id=OuterRef("customer_id"),
        channel=OuterRef("channel"),
        occurred_at__gte=OuterRef("starts_at"),
        occurred_at__lt=OuterRef("ends_at"),
    ).filter(
        Q(user_id=OuterRef("assignee_id"))
        | (Q(no_assignee) & (Q(no_team) | Q(user__team_id=OuterRef("team_id"))))
    )


def matched_count():
    """How many matching Interactions the outer DutyTask has (0 when none)."""
    counts = (
        matching_interactions().order_by().values("customer_id").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def mark_done(
    now: dt.datetime | None = None,
    customer_ids=None,
    lookback_days: int = DONE_LOOKBACK_DAYS,
    channel: str | None = None,
) -> int:
    """Mark done, in one UPDATE, every open (or missed) task with enough matching
    Interactions; `done_by_interaction` is the latest of them. Without `customer_ids`
    only tasks of periods under way or ended in the last `lookback_days` are looked at;
    with `channel`, only tasks on that channel. Returns the count."""
    now = now or timezone.now()
    tasks = DutyTask.objects.filter(status__in=[TaskStatus.OPEN, TaskStatus.MISSED])
    if customer_ids is not None:
        # A few customers (an Interaction just saved): all their unfinished tasks.
        tasks = tasks.filter(customer_id__in=list(customer_ids))
        if channel:
            tasks = tasks.filter(channel=channel)
    else:
        # The daily run: periods that ended recently or are under way.
        tasks = tasks.filter(
            ends_at__gte=now - dt.timedelta(days=lookback_days), starts_at__lte=now
        )
    fulfilled = tasks.alias(matched=matched_count()).filter(matched__gte=F("min_count"))
    latest = matching_interactions().order_by("-occurred_at", "-id").values("id")[:1]
    return DutyTask.objects.filter(pk__in=fulfilled.values("pk")).update(
        status=TaskStatus.DONE,
        done_at=now,
        done_by_interaction_id=Subquery(latest),
        updated_at=now,
    )


def mark_missed(now: dt.datetime | None = None) -> int:
    """Open tasks whose period has ended become missed, in one UPDATE."""
    now = now or timezone.now()
    return DutyTask.objects.filter(status=TaskStatus.OPEN, ends_at__lte=now).update(
        status=TaskStatus.MISSED, updated_at=now
    )


@dataclass
class DutyRun:
    created: int = 0
    done: int = 0
    missed: int = 0


def run_duties(today: dt.date | None = None, now: dt.datetime | None = None) -> DutyRun:
    """The daily step: create this period's tasks, close those fulfilled by the recorded
    Interactions, and mark missed those whose period ended. Safe to repeat."""
    now = now or timezone.now()
    result = DutyRun()
    result.created = generate_tasks(today=today, now=now)
    with transaction.atomic():
        result.done = mark_done(now=now)
        result.missed = mark_missed(now=now)
    return result


# --- compliance ---------------------------------------------------------------------
GROUP_FIELDS = {"manager": "assignee_id", "team": "team_id"}


@dataclass
class ComplianceRow:
    """Required, fulfilled and missed duty tasks of one account manager or team."""

    key: int | None
    name: str
    required: int = 0
    fulfilled: int = 0
    violations: int = 0  # contacts on a channel the class must not be contacted on

    @property
    def missed(self) -> int:
        return self.required - self.fulfilled

    @property
    def rate(self) -> Decimal | None:
        if not self.required:
            return None
        return (Decimal(self.fulfilled) * 100 / self.required).quantize(Decimal("0.1"))


@dataclass
class Compliance:
    period: PeriodRange
    group: str
    rows: list[ComplianceRow] = field(default_factory=list)

    @property
    def total(self) -> ComplianceRow:
        total = ComplianceRow(None, "")
        for row in self.rows:
            total.required += row.required
            total.fulfilled += row.fulfilled
            total.violations += row.violations
        return total


def period_tasks(user, period: PeriodRange, plan=None):
    """The duty tasks of a period that the user may see."""
    tasks = DutyTask.objects.filter(period_start=period.start, duty__period=period.kind)
    if plan is not None:
        tasks = tasks.filter(plan=plan)
    return scope_queryset(tasks, user)


def compliance(user, period: PeriodRange, group: str = "manager", plan=None) -> Compliance:
    """Per account manager (the tasks' assignee) or per team: duty tasks required in the
    period, fulfilled by Interactions actually recorded, missed; and contacts made on a
    forbidden channel. Aggregate queries only: one for the tasks, one per forbidden duty."""
    from clientele.core.models import Team, User

    key = GROUP_FIELDS[group]
    counts = (
        period_tasks(user, period, plan)
        .alias(matched=matched_count())
        .order_by()
        .values(key)
        .annotate(
            required=Count("pk"),
            fulfilled=Count("pk", filter=Q(matched__gte=F("min_count"))),
        )
    )
    rows: dict[int | None, ComplianceRow] = {}
    for item in counts:
        rows[item[key]] = ComplianceRow(item[key], "", item["required"], item["fulfilled"])
    for item in _violations(user, period, group, plan):
        row = rows.setdefault(item["key"], ComplianceRow(item["key"], ""))
        row.violations += item["n"]
    model = User if group == "manager" else Team
    names = {obj.pk: str(obj) for obj in model.objects.filter(pk__in=[k for k in rows if k])}
    for row in rows.values():
        row.name = names.get(row.key, "")
    ordered = sorted(rows.values(), key=lambda r: (r.key is None, r.name))
    return Compliance(period=period, group=group, rows=ordered)


def _violations(user, period: PeriodRange, group: str, plan=None):
    """Interactions in the period on a channel a forbidden duty of the period's kind rules
    out, for customers now in the duty's class, counted per user or per user's team."""
    duties = ContactDuty.objects.filter(
        kind=DutyKind.FORBIDDEN, plan__active=True, period=period.kind
    ).select_related("plan")
    if plan is not None:
        duties = duties.filter(plan=plan)
    key = "user_id" if group == "manager" else "user__team_id"
    for duty in duties:
        in_class = CurrentClass.objects.filter(
            definition_id=duty.plan.definition_id,
            code=duty.plan.class_code,
            customer_id=OuterRef("customer_id"),
        )
        contacts = scope_queryset(
            Interaction.objects.filter(
                channel=duty.channel,
                occurred_at__gte=period.starts_at,
                occurred_at__lt=period.ends_at,
            ).filter(Exists(in_class)),
            user,
        )
        for item in contacts.order_by().values(key).annotate(n=Count("pk")):
            yield {"key": item[key], "n": item["n"]}


def missed_tasks(user, period: PeriodRange, group: str, key: int | None, plan=None):
    """The tasks of one account manager or team (key None: unassigned) not fulfilled by
    the Interactions recorded in the period, with their customers."""
    tasks = period_tasks(user, period, plan)
    column = GROUP_FIELDS[group]
    tasks = tasks.filter(**{f"{column}__isnull": True} if key is None else {column: key})
    return (
        tasks.alias(matched=matched_count())
        .filter(matched__lt=F("min_count"))
        .select_related("customer", "duty", "assignee", "team", "plan")
        .order_by("customer__code", "duty_id")
    )


# --- the 360 page -------------------------------------------------------------------
def purchased_quantities(customer_ids, today: dt.date | None = None) -> dict[str, Decimal]:
    """Quantity bought in the last 12 months per product unit (orders that count as value
    only), summed over the given customers, in one query."""
    today = today or local_today()
    since = local_midnight(year_before(today))
    rows = (
        OrderLine.objects.filter(
            order__customer_id__in=list(customer_ids),
            order__status__in=VALUE_STATUSES,
            order__ordered_at__gte=since,
        )
        .order_by()
        .values("product__unit")
        .annotate(total=Sum("quantity"))
    )
    return {row["product__unit"]: row["total"] or Decimal("0") for row in rows}


def customer_plan(customer, today: dt.date | None = None) -> list[dict]:
    """The plans that apply to a customer (one per current class that has an active plan),
    each with its benefits, contact duties, gift thresholds (reached or not, from the
    quantity bought in the last 12 months in the gift's unit), the gifts earned (the
    highest threshold reached per unit) and the customer's open duty tasks."""
    classes = list(
        CurrentClass.objects.of_customer(customer.pk).values_list("definition_id", "code")
    )
    if not classes:
        return []
    condition = Q()
    for definition_id, code in classes:
        condition |= Q(definition_id=definition_id, class_code=code)
    plans = list(
        ClassPlan.objects.filter(condition, active=True)
        .select_related("definition", "team")
        .prefetch_related("duties__performer_user", "gifts")
        .order_by("-priority", "definition__position", "pk")
    )
    if not plans:
        return []
    quantities = purchased_quantities([customer.pk], today)
    open_tasks = {}
    for task in DutyTask.objects.filter(
        customer_id=customer.pk, status=TaskStatus.OPEN
    ).select_related("duty", "assignee"):
        open_tasks.setdefault(task.plan_id, []).append(task)
    result = []
    for plan in plans:
        gifts, earned = [], {}
        for gift in plan.gifts.all():  # ordered by unit, highest threshold first
            reached = quantities.get(gift.unit, Decimal("0")) >= gift.min_quantity
            gifts.append({"gift": gift, "reached": reached})
            if reached and gift.unit not in earned:
                earned[gift.unit] = gift
        duties = list(plan.duties.all())
        result.append(
            {
                "plan": plan,
                "url": plan.get_absolute_url(),
                "definition": plan.definition,
                "class_code": plan.class_code,
                "class_label": plan.class_label(),
                "team": plan.team,
                "priority": plan.priority,
                "price_rate": plan.price_rate,
                "fee_waivers": list(plan.fee_waivers or []),
                "duties": [d for d in duties if d.kind == DutyKind.REQUIRED],
                "forbidden": [d for d in duties if d.kind == DutyKind.FORBIDDEN],
                "gifts": gifts,
                "earned": list(earned.values()),
                "quantities": {
                    g.unit: quantities.get(g.unit, Decimal("0")) for g in plan.gifts.all()
                },
                "open_tasks": open_tasks.get(plan.pk, []),
            }
        )
    return result
