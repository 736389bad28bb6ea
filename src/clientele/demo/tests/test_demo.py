"""The demo company: reproducible, shaped like a real retail business, consistent money
and times, and loaded only once.

Each test loads a small company with a fixed `today` and `now`, so the calendar (11.11,
Spring Festival) and "nothing in the future" are checked against known dates."""

import datetime
import re
from collections import Counter, defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, F, Q, Sum

from clientele.core.models import Role, User
from clientele.customers.models import Consent, Contact, Customer, Feedback, Interaction
from clientele.demo import loader
from clientele.demo.calendar import build_calendar
from clientele.sales.models import VALUE_STATUSES, Order, OrderLine

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 11, 23)
# 15:30 in Shanghai on TODAY: later hours of today must not get orders.
NOW = int(datetime.datetime(2026, 11, 23, 15, 30, tzinfo=SHANGHAI).timestamp())
NOW_DT = datetime.datetime.fromtimestamp(NOW, datetime.UTC)


def _load(size=500, seed=7, **options):
    """Load a small company on the fixed calendar of these tests."""
    return loader.load(size=size, seed=seed, stdout=_Quiet(), today=TODAY, now=NOW, **options)


class _Quiet:
    """A stdout that keeps the progress lines for assertions."""

    def __init__(self):
        self.lines = []

    def write(self, text):
        """Keep the text."""
        self.lines.append(text)

    def flush(self):
        """Nothing is buffered."""
        pass


def _wipe():
    """Remove generated customers and everything hanging off them (not users, tags or
    products, which a second load reuses). Plain DELETEs, children first: the ORM's
    cascade would visit every app that points at customers."""
    from django.db import connection

    models = [OrderLine, Order, Interaction, Feedback, Consent, Customer.tags.through, Contact]
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        table = connection.ops.quote_name(Customer._meta.db_table)
        cursor.execute(f"DELETE FROM {table} WHERE parent_id IS NOT NULL")
        cursor.execute(f"DELETE FROM {table}")


@pytest.mark.django_db
def test_same_seed_gives_the_same_data_and_another_seed_does_not():
    _load(seed=7)
    first = loader.fingerprint()
    codes = list(Customer.objects.order_by("code").values_list("code", "name", "phone")[:50])
    _wipe()
    _load(seed=7)
    assert loader.fingerprint() == first
    assert (
        list(Customer.objects.order_by("code").values_list("code", "name", "phone")[:50]) == codes
    )
    _wipe()
    _load(seed=8)
    assert loader.fingerprint() != first


@pytest.mark.django_db
def test_the_hour_and_day_of_the_load_change_dates_not_counts():
    _load(seed=7)
    first = loader.fingerprint()
    _wipe()
    loader.load(size=500, seed=7, stdout=_Quiet(), today=TODAY, now=NOW - 5 * 3600)
    assert loader.fingerprint() == first
    _wipe()
    earlier = datetime.datetime(2026, 6, 1, 12, tzinfo=SHANGHAI)
    loader.load(size=500, seed=7, stdout=_Quiet(), now=int(earlier.timestamp()))
    counted = ("customers", "orders", "lines", "contacts", "consents", "tags", "interactions")
    again = loader.fingerprint()
    assert {k: again[k] for k in counted} == {k: first[k] for k in counted}
    assert not Order.objects.filter(ordered_at__gt=earlier).exists()


@pytest.mark.django_db
def test_counts_follow_the_size():
    summary = _load(size=500)
    assert summary.customers == Customer.objects.count() == 500
    assert Customer.objects.filter(kind="organization").count() == round(500 * 0.015)
    orders = Order.objects.count()
    assert summary.orders == orders
    assert 500 * 12.5 * 0.8 < orders < 500 * 12.5 * 1.2
    assert summary.lines == OrderLine.objects.count()
    per_order = Order.objects.annotate(n=Count("lines")).aggregate(
        low=Count("id", filter=Q(n__lt=1)), high=Count("id", filter=Q(n__gt=4))
    )
    assert per_order == {"low": 0, "high": 0}


@pytest.mark.django_db
def test_spend_is_pareto_shaped():
    _load(size=2000, seed=11)
    spend = sorted(
        (
            row["s"]
            for row in Order.objects.filter(status__in=VALUE_STATUSES)
            .values("customer_id")
            .annotate(s=Sum("total"))
        ),
        reverse=True,
    )
    spend += [Decimal(0)] * (2000 - len(spend))  # customers who never bought
    share = sum(spend[:400]) / sum(spend)
    assert 0.65 <= share <= 0.9


@pytest.mark.django_db
def test_seasonal_peaks_on_11_11_and_before_spring_festival():
    _load(size=1500)
    per_day = Counter(
        dt.astimezone(SHANGHAI).date() for dt in Order.objects.values_list("ordered_at", flat=True)
    )
    average = sum(per_day.values()) / len(build_calendar(TODAY).dates)
    for year in (2025, 2026):
        assert per_day[datetime.date(year, 11, 11)] > 3 * average
    # Spring Festival 2026 fell on 17 February: the week before is busier than the
    # festival week itself.
    before = sum(per_day[datetime.date(2026, 2, d)] for d in range(10, 17))
    during = sum(per_day[datetime.date(2026, 2, d)] for d in range(17, 24))
    assert before > 2 * during


@pytest.mark.django_db
def test_returns_and_cancellations_are_present_and_not_value():
    _load(size=800)
    counts = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    total = sum(counts.values())
    assert 0.015 < counts["returned"] / total < 0.045
    assert 0.01 < counts["cancelled"] / total < 0.03
    assert Order.objects.valued().count() == total - counts["returned"] - counts["cancelled"]


@pytest.mark.django_db
def test_order_totals_are_the_sum_of_their_lines():
    _load(size=500)
    sums = defaultdict(Decimal)
    for order_id, quantity, price, discount, amount in OrderLine.objects.values_list(
        "order_id", "quantity", "unit_price", "discount", "amount"
    ):
        assert amount == OrderLine.line_amount(quantity, price, discount)
        assert amount >= 0
        assert amount.as_tuple().exponent == -2
        sums[order_id] += amount
    for order_id, total in Order.objects.values_list("id", "total"):
        assert total == sums[order_id]


@pytest.mark.django_db
def test_every_organization_has_contacts_with_one_key_man_and_groups_exist():
    _load(size=2000)
    organizations = Customer.objects.filter(kind="organization").annotate(
        contacts_n=Count("contacts"),
        key_men=Count("contacts", filter=Q(contacts__decision_role="key_man")),
    )
    assert organizations.count() == 30
    for organization in organizations:
        assert 1 <= organization.contacts_n <= 4
        assert organization.key_men == 1
        assert organization.industry and organization.size and organization.owner_id
    assert not Contact.objects.filter(customer__kind="person").exists()
    subsidiaries = Customer.objects.exclude(parent=None)
    assert subsidiaries.exists()
    for subsidiary in subsidiaries.select_related("parent"):
        assert subsidiary.parent.kind == "organization"
        assert subsidiary.owner_id == subsidiary.parent.owner_id
        assert subsidiary.name.startswith(subsidiary.parent.name)
    assert Customer.objects.filter(annual_demand__gt=0, demand_unit="t").exists()


@pytest.mark.django_db
def test_people_look_like_chinese_retail_customers():
    _load(size=1000)
    people = Customer.objects.filter(kind="person")
    for name, phone, gender, birthday in people.values_list("name", "phone", "gender", "birthday"):
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name)
        assert phone == "" or re.fullmatch(r"1[3-9]\d{9}", phone)
        assert gender in ("female", "male")
        assert birthday is None or 17 <= (TODAY - birthday).days / 365.25 <= 83
    phones = [p for p in Customer.objects.values_list("phone", flat=True) if p]
    phones += [p for p in Contact.objects.values_list("phone", flat=True) if p]
    assert len(phones) == len(set(phones))
    assert people.exclude(card_number="").count() > 0.6 * people.count()
    assert people.filter(tags__name="退休").exists()
    quiet = Customer.objects.filter(do_not_disturb=True)
    assert quiet.exists()
    assert not Consent.objects.filter(
        customer__in=quiet, channel__in=["sms", "phone"], status="opted_in"
    ).exists()
    opted_out = Consent.objects.filter(status="opted_out").values_list("channel", flat=True)
    assert {"sms", "email"} <= set(opted_out)
    statuses = set(Customer.objects.values_list("status", flat=True))
    assert {"active", "prospect", "lost"} <= statuses


@pytest.mark.django_db
def test_times_are_aware_in_the_past_and_in_business_hours():
    _load(size=500)
    assert not Order.objects.filter(ordered_at__gt=NOW_DT).exists()
    assert not Interaction.objects.filter(occurred_at__gt=NOW_DT).exists()
    assert not Feedback.objects.filter(received_at__gt=NOW_DT).exists()
    assert not Consent.objects.filter(recorded_at__gt=NOW_DT).exists()
    assert not Customer.objects.filter(created_at__gt=NOW_DT).exists()
    first_day = datetime.datetime.combine(
        build_calendar(TODAY).dates[0], datetime.time(), tzinfo=SHANGHAI
    )
    assert not Order.objects.filter(ordered_at__lt=first_day).exists()
    opening = {"store": range(10, 22), "sales": range(9, 18), "phone": range(9, 18)}
    for channel, ordered_at in Order.objects.values_list("channel", "ordered_at"):
        assert ordered_at.utcoffset() == datetime.timedelta(0)
        hour = ordered_at.astimezone(SHANGHAI).hour
        assert hour in opening.get(channel, range(0, 24))
    # A customer exists before their first order.
    late = Order.objects.filter(ordered_at__lt=F("customer__created_at"))
    assert not late.exists()


@pytest.mark.django_db
def test_users_for_every_role():
    _load(size=300)
    roles = Counter(User.objects.values_list("role", flat=True))
    assert roles[Role.ADMINISTRATOR] >= 1
    assert roles[Role.MARKETING_MANAGER] >= 1
    assert roles[Role.SERVICE_AGENT] >= 1
    assert roles[Role.ANALYST] >= 1
    assert roles[Role.ACCOUNT_MANAGER] >= 6
    teams = set(User.objects.filter(role=Role.ACCOUNT_MANAGER).values_list("team__name", flat=True))
    assert 3 <= len(teams) <= 4
    owners = set(Customer.objects.exclude(owner=None).values_list("owner__role", flat=True))
    assert owners == {Role.ACCOUNT_MANAGER}


@pytest.mark.django_db
def test_ensure_demo_loads_once_and_always_returns_a_working_admin_login():
    out = _Quiet()
    login = loader.ensure_demo(size=300, seed=3, stdout=out, today=TODAY, now=NOW)
    assert any("300 customers" in line for line in out.lines)
    # The demo company is graded at once: every default definition ran and placed the
    # customers who bought something.
    from clientele.segmentation.models import ClassificationRun, CurrentClass

    assert any("Classified with 6 definitions" in line for line in out.lines), out.lines
    assert not ClassificationRun.objects.exclude(status="succeeded").exists()
    assert CurrentClass.objects.filter(definition__key="abc_spend", code="A").exists()
    # ... and the seed's A/B/C service plans exist with this period's duty tasks.
    from clientele.plans.models import ClassPlan, DutyTask

    assert sorted(ClassPlan.objects.values_list("class_code", flat=True)) == ["A", "B", "C"]
    assert DutyTask.objects.filter(plan__class_code="A").exists()
    # ... and the two worked campaign examples ran, each with a holdout.
    from clientele.campaigns.models import Campaign, CampaignTarget

    assert Campaign.objects.count() == 2
    assert CampaignTarget.objects.filter(in_holdout=True).exists()
    before = loader.fingerprint()
    admin = User.objects.get(username=login.username)
    assert admin.check_password(login.password)
    assert admin.role == Role.ADMINISTRATOR

    admin.set_password("someone-changed-it")
    admin.save()
    again = loader.ensure_demo(size=300, seed=3, stdout=_Quiet(), today=TODAY, now=NOW)
    assert again == login
    assert loader.fingerprint() == before
    assert User.objects.get(username=login.username).check_password(login.password)


@pytest.mark.django_db
def test_chunks_and_resume_continue_an_interrupted_load():
    _load(size=400, chunk_size=200)
    _load(size=700, chunk_size=200, resume=True)
    codes = list(Customer.objects.order_by("code").values_list("code", flat=True))
    assert codes == [f"C{i:07d}" for i in range(1, 701)]
    assert Customer.objects.filter(kind="organization").count() == round(700 * 0.015)
    numbers = Order.objects.values("source", "number").annotate(n=Count("id")).filter(n__gt=1)
    assert not numbers.exists()
    with pytest.raises(ValueError):
        Customer.objects.filter(code="C0000700").update(code="C9999999")
        Customer.objects.create(code="C-extra", name="extra")
        _load(size=800, chunk_size=200, resume=True)


@pytest.mark.django_db
def test_interactions_and_feedback_fill_every_channel_of_the_timeline():
    _load(size=1000)
    channels = set(Interaction.objects.values_list("channel", flat=True))
    assert {"visit", "phone", "sms", "email", "store", "hotline"} <= channels
    visits = Interaction.objects.filter(channel="visit")
    assert not visits.filter(customer__kind="person").exists()
    assert not visits.exclude(user__role=Role.ACCOUNT_MANAGER).exists()
    calls = Interaction.objects.filter(channel="phone")
    assert calls.filter(reached=False).exists() and calls.filter(intent="accepted").exists()
    # Contacts on interactions belong to the interaction's customer.
    assert (
        not Interaction.objects.exclude(contact=None)
        .exclude(contact__customer=F("customer"))
        .exists()
    )
    # No marketing SMS to anyone who opted out of SMS.
    assert not Interaction.objects.filter(
        channel="sms", customer__consents__channel="sms", customer__consents__status="opted_out"
    ).exists()
    kinds = set(Feedback.objects.values_list("kind", flat=True))
    assert kinds == {"complaint", "suggestion", "praise", "question"}
    assert {"open", "closed"} <= set(Feedback.objects.values_list("status", flat=True))
    assert all(
        re.search(r"[\u4e00-\u9fff]", t) for t in Feedback.objects.values_list("text", flat=True)
    )
