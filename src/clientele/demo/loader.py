"""Load the demo company into the database, once: users and teams, tags, the catalogue,
then customers chunk by chunk with everything that hangs off them.

`ensure_demo` is what `clientele demo` calls: it loads the demo unless customers already
exist, and in every case makes sure the administrator can sign in with the printed
password. `load` is the worker, also used by the benchmarks (with `resume=True` it
continues a load that stopped between chunks).
"""

import datetime
import sys
import time
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import Count, Sum

from clientele.catalog.models import Product, ProductCategory
from clientele.core import lockout
from clientele.core.models import Role, Team, User
from clientele.core.money import round_money
from clientele.customers.models import Consent, Contact, Customer, Feedback, Interaction, Tag
from clientele.sales.models import Order, OrderLine

from . import data
from .calendar import TZ, build_calendar
from .catalog import build_catalog
from .generator import Refs, generate_chunk
from .writer import insert, next_id, reset_sequences

DEFAULT_SIZE = 20_000
DEFAULT_SEED = 2026
ORGANIZATION_SHARE = 0.015
ORDERS_PER_CUSTOMER = 12.5
CHUNK_SIZE = 20_000
ADMIN_USERNAME = "admin"
# A demo is for looking around: one printed password for every demo user.
DEMO_PASSWORD = "clientele-demo"


@dataclass(frozen=True)
class DemoLogin:
    """The sign-in printed by `clientele demo`."""

    username: str
    password: str


@dataclass(frozen=True)
class LoadSummary:
    """What a load wrote, for progress lines and benchmarks."""

    customers: int
    orders: int
    lines: int
    seconds: float


def _printer(stdout):
    """A print function writing whole lines to `stdout` (sys.stdout by default)."""
    stream = stdout if stdout is not None else sys.stdout

    def say(text: str) -> None:
        """Write one progress line now, not when the buffer fills."""
        stream.write(text + "\n")
        stream.flush()

    return say


def ensure_demo(
    size: int = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    stdout=None,
    *,
    orders_per_customer: float = ORDERS_PER_CUSTOMER,
    today: datetime.date | None = None,
    now: int | None = None,
    classify: bool = True,
) -> DemoLogin:
    """Load the demo company unless customers already exist; return the admin login.

    The whole load is one transaction, so an interrupted load leaves nothing behind and
    the next call starts again."""
    say = _printer(stdout)
    if Customer.objects.exists():
        say("Customers already exist: the demo company is not loaded again.")
        return ensure_admin()
    with transaction.atomic():
        load(
            size=size,
            seed=seed,
            stdout=stdout,
            orders_per_customer=orders_per_customer,
            today=today,
            now=now,
        )
    if classify:
        _classify(say)
    return ensure_admin()


def _classify(say) -> None:
    """Run every classification definition once, so the dashboard, the 360 page and the
    class filters show the demo company graded from the first sign-in."""
    from clientele.segmentation.constants import RunStatus, Trigger
    from clientele.segmentation.runs import run_definitions

    started = time.perf_counter()
    runs = run_definitions(trigger=Trigger.COMMAND)
    failed = [run for run in runs if run.status != RunStatus.SUCCEEDED]
    for run in failed:
        say(f"Classification {run.definition.key} failed: {run.error}")
    say(
        f"Classified with {len(runs) - len(failed)} definitions in {time.perf_counter() - started:.1f} s."
    )
    _plans(say)


def _plans(say) -> None:
    """The seed's A/B/C service plans on the ABC classes, and this period's duty tasks for
    the account managers (what the compliance page measures)."""
    from clientele.plans.demo import create_demo_plans
    from clientele.plans.services import run_duties

    plans = create_demo_plans()
    if plans:
        run_duties()
        say(f"Created {len(plans)} class plans and this period's duty tasks.")
    _campaigns(say)


def _campaigns(say) -> None:
    """The worked campaign examples with their holdouts and results (demo/campaigns.py)."""
    from clientele.demo.campaigns import create_demo_campaigns

    started = time.perf_counter()
    made = create_demo_campaigns()
    if made:
        names = ", ".join(campaign.name for campaign in made)
        say(f"Ran the example campaigns ({names}) in {time.perf_counter() - started:.1f} s.")


def ensure_admin() -> DemoLogin:
    """Make sure the demo administrator exists, is active and has the demo password
    (hashing only when the password does not already match)."""
    user = User.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        user = User(username=ADMIN_USERNAME, first_name="管理员", last_name="系统")
    changed = user.pk is None
    if user.role != Role.ADMINISTRATOR or not user.is_active or not user.is_staff:
        user.role, user.is_active, user.is_staff = Role.ADMINISTRATOR, True, True
        changed = True
    if not user.has_usable_password() or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        changed = True
    if changed:
        user.save()
    lockout.clear(ADMIN_USERNAME)
    return DemoLogin(ADMIN_USERNAME, DEMO_PASSWORD)


def _users() -> tuple[dict[str, int], dict[str, np.ndarray], np.ndarray, int]:
    """Teams and the demo users (created if missing, left alone if present)."""
    team_names = [*data.TEAM_REGIONS, data.SERVICE_TEAM]
    existing = set(Team.objects.filter(name__in=team_names).values_list("name", flat=True))
    Team.objects.bulk_create(
        [Team(name=name, description="演示数据") for name in team_names if name not in existing]
    )
    team_ids = dict(Team.objects.filter(name__in=team_names).values_list("name", "pk"))
    present = set(User.objects.values_list("username", flat=True))
    missing = [u for u in data.DEMO_USERS if u[0] not in present]
    if missing:
        # One hash for all demo users: Argon2 is slow on purpose, and they share the
        # printed password anyway.
        template = User()
        template.set_password(DEMO_PASSWORD)
        User.objects.bulk_create(
            [
                User(
                    username=username,
                    role=role,
                    team_id=team_ids.get(team) if team else None,
                    last_name=surname,
                    first_name=given,
                    email=f"{username}@demo.clientele.local",
                    is_staff=role == Role.ADMINISTRATOR,
                    password=template.password,
                )
                for username, role, team, surname, given in missing
            ]
        )
    users = {
        u.username: u for u in User.objects.filter(username__in=[u[0] for u in data.DEMO_USERS])
    }
    managers = {
        name: np.asarray(
            sorted(
                u.pk for u in users.values() if u.role == Role.ACCOUNT_MANAGER and u.team_id == pk
            ),
            dtype=np.int64,
        )
        for name, pk in team_ids.items()
        if name in data.TEAM_REGIONS
    }
    service = np.asarray(
        sorted(u.pk for u in users.values() if u.role == Role.SERVICE_AGENT), dtype=np.int64
    )
    marketing = next((u.pk for u in users.values() if u.role == Role.MARKETING_MANAGER), 0)
    return team_ids, managers, service, marketing


def _tags() -> dict[str, int]:
    """The demo tags (created if missing), by name."""
    names = [name for name, _ in data.TAGS]
    existing = set(Tag.objects.filter(name__in=names).values_list("name", flat=True))
    Tag.objects.bulk_create(
        [Tag(name=name, description=text) for name, text in data.TAGS if name not in existing]
    )
    return dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))


def _catalog(seed: int) -> dict:
    """Categories and products (kept if their codes and SKUs already exist); returns the
    catalogue as arrays for the generator."""
    categories, products = build_catalog(seed)
    existing = set(ProductCategory.objects.values_list("code", flat=True))
    ProductCategory.objects.bulk_create(
        [
            ProductCategory(code=c.code, name=c.name)
            for c in categories
            if c.parent is None and c.code not in existing
        ]
    )
    category_ids = dict(ProductCategory.objects.values_list("code", "pk"))
    ProductCategory.objects.bulk_create(
        [
            ProductCategory(code=c.code, name=c.name, parent_id=category_ids[c.parent])
            for c in categories
            if c.parent is not None and c.code not in existing
        ]
    )
    category_ids = dict(ProductCategory.objects.values_list("code", "pk"))
    skus = set(
        Product.objects.filter(sku__in=[p.sku for p in products]).values_list("sku", flat=True)
    )
    Product.objects.bulk_create(
        [
            Product(
                sku=p.sku,
                name=p.name,
                category_id=category_ids[p.category],
                unit=p.unit,
                list_price=_yuan(p.price_cents),
                cost=_yuan(p.cost_cents),
                role=p.role,
            )
            for p in products
            if p.sku not in skus
        ]
    )
    product_ids = dict(
        Product.objects.filter(sku__in=[p.sku for p in products]).values_list("sku", "pk")
    )
    return {
        "product_ids": np.asarray([product_ids[p.sku] for p in products], dtype=np.int64),
        "price_cents": np.asarray([p.price_cents for p in products], dtype=np.int64),
        "product_top": np.asarray([p.top for p in products], dtype=np.int64),
        "product_bulk": np.asarray([p.bulk for p in products], dtype=bool),
        "product_role": np.asarray([p.role for p in products]),
    }


def _yuan(cents: int) -> str:
    """Cents as a decimal string for a DecimalField."""
    return f"{cents // 100}.{cents % 100:02d}"


def load(
    size: int = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    stdout=None,
    *,
    orders_per_customer: float = ORDERS_PER_CUSTOMER,
    chunk_size: int = CHUNK_SIZE,
    resume: bool = False,
    today: datetime.date | None = None,
    now: int | None = None,
) -> LoadSummary:
    """Write `size` customers (ORGANIZATION_SHARE of them organizations) with about
    `orders_per_customer` orders each, in chunks of `chunk_size` customers, each chunk in
    its own transaction. With `resume`, chunks already in the database (counted by
    customers) are skipped; otherwise the customer table should be empty."""
    say = _printer(stdout)
    began = time.perf_counter()
    now = int(time.time()) if now is None else int(now)
    today = today or datetime.datetime.fromtimestamp(now, TZ).date()
    say(
        f"Loading the demo company: {size:,} customers, about "
        f"{round(size * orders_per_customer):,} orders (seed {seed})"
    )
    with transaction.atomic():
        team_ids, managers, service_ids, marketing_id = _users()
        refs = Refs(
            **_catalog(seed),
            tag_ids=_tags(),
            team_ids=team_ids,
            managers_by_team=managers,
            service_ids=service_ids,
            marketing_id=marketing_id,
        )
    calendar = build_calendar(today)
    first_chunk = 0
    if resume:
        done = Customer.objects.count()
        if done % chunk_size:
            raise ValueError(
                f"{done} customers are not a whole number of chunks of {chunk_size}; "
                "resume needs the database of an interrupted load."
            )
        first_chunk = done // chunk_size
        if first_chunk:
            say(f"  resuming after {done:,} customers")
    chunks = -(-size // chunk_size)
    customers = orders = lines = 0
    for chunk_no in range(first_chunk, chunks):
        chunk_began = time.perf_counter()
        first = chunk_no * chunk_size
        count = min(chunk_size, size - first)
        organizations = round(ORGANIZATION_SHARE * (first + count)) - round(
            ORGANIZATION_SHARE * first
        )
        with transaction.atomic():
            result = generate_chunk(
                seed=seed,
                chunk_no=chunk_no,
                first=first,
                count=count,
                organizations=organizations,
                calendar=calendar,
                refs=refs,
                first_customer_id=next_id(Customer),
                first_contact_id=next_id(Contact),
                first_order_id=next_id(Order),
                orders_per_customer=orders_per_customer,
                now=now,
            )
            for table in result.tables:
                insert(table)
            reset_sequences(Customer, Contact, Order)
        customers += result.customers
        orders += result.orders
        lines += result.lines
        seconds = time.perf_counter() - chunk_began
        say(
            f"  customers {first + 1:,}-{first + count:,}: {result.orders:,} orders, "
            f"{result.lines:,} lines in {seconds:.1f} s "
            f"({result.lines / max(seconds, 1e-9):,.0f} lines/s)"
        )
    seconds = time.perf_counter() - began
    say(
        f"Demo company loaded in {seconds:.0f} s: {customers:,} customers, {orders:,} orders, {lines:,} order lines"
    )
    return LoadSummary(customers, orders, lines, seconds)


def fingerprint() -> dict:
    """Counts and sums that identify a generated data set (for reproducibility checks)."""
    orders = Order.objects.aggregate(n=Count("id"), total=Sum("total"))
    lines = OrderLine.objects.aggregate(
        n=Count("id"), amount=Sum("amount"), quantity=Sum("quantity"), discount=Sum("discount")
    )
    return {
        "customers": Customer.objects.count(),
        "organizations": Customer.objects.filter(kind="organization").count(),
        "contacts": Contact.objects.count(),
        "consents": Consent.objects.count(),
        "tags": Customer.tags.through.objects.count(),
        "interactions": Interaction.objects.count(),
        "feedback": Feedback.objects.count(),
        "orders": orders["n"],
        # Rounded: SQLite sums decimals as floats.
        "order_total": round_money(orders["total"] or 0),
        "lines": lines["n"],
        "line_amount": round_money(lines["amount"] or 0),
        "line_quantity": Decimal(lines["quantity"] or 0).quantize(Decimal("0.001")),
        "line_discount": round_money(lines["discount"] or 0),
        "by_status": dict(
            Order.objects.values_list("status").annotate(n=Count("id")).order_by("status")
        ),
    }
