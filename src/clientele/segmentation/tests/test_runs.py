"""Runs keep history (one snapshot per run), record duration and counts, turn changes of
class into dated transition events, respect manual classes and tier downgrade policies,
record failures without stopping the other definitions, and explain each class on the
360 page. Also the jobs: nightly at 02:00 local time and after each import."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from clientele.customers.models import Customer
from clientele.sales.models import Order
from clientele.segmentation import tasks
from clientele.segmentation.constants import Kind, RunStatus, Trigger
from clientele.segmentation.models import (
    ClassificationDefinition,
    ClassificationRun,
    ClassTransition,
    CurrentClass,
    CustomerClass,
)
from clientele.segmentation.services import (
    clear_override,
    early_warning,
    explain,
    latest_runs,
    run_definition,
    run_definitions,
    set_override,
    succeeded_runs,
    transition_matrix,
)

from .fixtures import AS_OF, local, make_customers

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    return make_customers()


def _current(definition, customer):
    return CurrentClass.objects.get(definition=definition, customer=customer)


def test_history_and_transitions(customers):
    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    first = run_definition(tiers, as_of=AS_OF)
    assert first.transitions == 0  # the first run is the baseline, not a change
    Order.objects.create(
        customer=customers["c3"], number="X1", ordered_at=local("2025-07-10 10:00"),
        total=Decimal("20000"), status="paid",
    )  # fmt: skip
    second = run_definition(tiers, as_of=dt.date(2025, 7, 15))
    assert CustomerClass.objects.filter(run=first).count() == 8
    assert CustomerClass.objects.filter(run=second).count() == 8
    assert CustomerClass.objects.get(run=first, customer=customers["c3"]).code == "normal"
    (move,) = ClassTransition.objects.filter(run=second)
    assert (move.customer, move.from_code, move.to_code) == (
        customers["c3"],
        "normal",
        "supreme_vip",
    )
    assert second.transitions == 1
    current = _current(tiers, customers["c3"])
    assert current.code == "supreme_vip" and current.since == dt.date(2025, 7, 15)
    assert _current(tiers, customers["c1"]).since == AS_OF
    assert second.counts == {"normal": 4, "senior": 1, "supreme_vip": 2, "vip": 1}
    assert second.customers == 8 and second.duration > 0 and second.finished_at
    assert [r.pk for r in latest_runs()] == [second.pk]
    assert [r.pk for r in succeeded_runs(tiers)] == [second.pk, first.pk]
    matrix = transition_matrix(first, second)
    assert matrix[("normal", "supreme_vip")] == 1 and matrix[("normal", "normal")] == 4


def test_a_customer_added_later_enters_with_an_empty_from(customers):
    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    run_definition(tiers, as_of=AS_OF)
    newcomer = Customer.objects.create(code="NEW", name="Newcomer")
    run = run_definition(tiers, as_of=AS_OF)
    (move,) = ClassTransition.objects.filter(run=run)
    assert (move.customer, move.from_code, move.to_code) == (newcomer, "", "normal")


def test_tiers_never_downgrade(customers):
    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    run_definition(tiers, as_of=AS_OF)
    assert _current(tiers, customers["c2"]).code == "senior"
    Order.objects.filter(customer=customers["c2"]).update(status="returned")
    run = run_definition(tiers, as_of=AS_OF)
    assert _current(tiers, customers["c2"]).code == "senior"
    assert CustomerClass.objects.get(run=run, customer=customers["c2"]).measure == 0


def test_tiers_rolling_downgrade_waits_for_the_window(customers):
    rolling = ClassificationDefinition.objects.create(
        key="tiers_rolling", name="Rolling tiers", kind=Kind.TIER,
        parameters={"downgrade": "rolling", "window_days": 30},
    )  # fmt: skip
    c4 = customers["c4"]
    Order.objects.create(
        customer=c4, number="R1", ordered_at=local("2025-06-29 12:00"),
        total=Decimal("2000"), status="paid",
    )  # fmt: skip
    run_definition(rolling, as_of=AS_OF)
    assert _current(rolling, c4).code == "senior"
    run_definition(rolling, as_of=AS_OF + dt.timedelta(days=10))  # window spend gone: 0
    assert _current(rolling, c4).code == "senior"  # but not due for review yet
    run = run_definition(rolling, as_of=AS_OF + dt.timedelta(days=31))
    assert _current(rolling, c4).code == "normal"
    moves = ClassTransition.objects.filter(run=run, customer=c4)
    assert [(m.from_code, m.to_code) for m in moves] == [("senior", "normal")]


def test_manual_class_is_kept_until_cleared(customers):
    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    c7 = customers["c7"]
    set_override(tiers, c7, "vip", reason="partner")
    run = run_definition(tiers, as_of=AS_OF)
    assert CustomerClass.objects.get(run=run, customer=c7).code == "vip"
    assert _current(tiers, c7).code == "vip"
    (entry,) = [e for e in explain(c7) if e["key"] == "member_tiers"]
    assert entry["manual"] and "set by hand" in entry["text"]
    assert clear_override(tiers, c7)
    run_definition(tiers, as_of=AS_OF)
    assert _current(tiers, c7).code == "normal"


def test_a_manual_class_equal_to_the_computed_one_changes_only_the_flag(customers):
    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    c2 = customers["c2"]
    run_definition(tiers, as_of=AS_OF)
    assert (_current(tiers, c2).code, _current(tiers, c2).manual) == ("senior", False)
    set_override(tiers, c2, "senior", reason="kept by hand")
    run = run_definition(tiers, as_of=AS_OF + dt.timedelta(days=1))
    current = _current(tiers, c2)
    assert (current.code, current.manual, current.since) == ("senior", True, AS_OF)
    assert run.transitions == 0 and not ClassTransition.objects.filter(run=run).exists()
    clear_override(tiers, c2)
    run_definition(tiers, as_of=AS_OF + dt.timedelta(days=2))
    assert (_current(tiers, c2).code, _current(tiers, c2).manual) == ("senior", False)


def test_override_with_an_unknown_class_is_refused(customers):
    from django.core.exceptions import ValidationError

    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    with pytest.raises(ValidationError):
        set_override(tiers, customers["c1"], "platinum")


def test_a_failing_definition_is_recorded_and_others_still_run(customers):
    ClassificationDefinition.objects.create(
        key="clv_idle", name="Idle CLV", kind=Kind.CLV, active=False
    )
    broken = ClassificationDefinition.objects.create(
        key="life_broken", name="Lifecycle on idle CLV", kind=Kind.LIFECYCLE,
        parameters={"p_alive_below": 0.3, "p_alive_from": "clv_idle"},
    )  # fmt: skip
    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    runs = run_definitions([broken, tiers], as_of=AS_OF)
    status = {run.definition.key: run for run in runs}
    assert status["life_broken"].status == RunStatus.FAILED
    assert "clv_idle has no results yet" in status["life_broken"].error
    assert status["member_tiers"].status == RunStatus.SUCCEEDED


def test_a_running_definition_is_not_started_twice(customers):
    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    ClassificationRun.objects.create(
        definition=tiers, trigger=Trigger.MANUAL, as_of=AS_OF,
        started_at=dt.datetime.now(dt.UTC), status=RunStatus.RUNNING,
    )  # fmt: skip
    assert run_definition(tiers, as_of=AS_OF) is None


def test_explanations(customers):
    run_definitions(as_of=AS_OF)
    with translation.override("en"):
        entries = {e["key"]: e for e in explain(customers["c1"])}
    assert list(entries) == [
        "clv", "abc_spend", "member_tiers", "rfm", "lifecycle", "value_expectation",
    ]  # fmt: skip
    assert entries["abc_spend"]["text"] == (
        "A: 12-month spend 5,000, rank 1 of 8, cumulative share 50%"
    )
    assert entries["member_tiers"]["text"] == (
        "Supreme VIP: cumulative spend 21,000, price rate 88%"
    )
    assert entries["rfm"]["text"].startswith("Loyal: R4 F5 M5")
    assert entries["clv"]["text"].startswith(entries["clv"]["label"] + ": lifetime value")
    with translation.override("zh-hans"):
        chinese = {e["key"]: e for e in explain(customers["c1"])}
    assert chinese["member_tiers"]["label"] == "至尊VIP"
    assert explain(customers["c7"])[1]["text"].startswith("C: no 12-month spend")


def test_early_warning_lists_customers_newly_at_risk(customers):
    life = ClassificationDefinition.objects.create(
        key="life_plain", name="Lifecycle without model", kind=Kind.LIFECYCLE
    )
    run_definition(life, as_of=AS_OF)
    assert _current(life, customers["c4"]).code == "new"
    run_definition(life, as_of=dt.date(2025, 9, 30))
    warned = list(early_warning(life))
    assert [t.customer for t in warned] == [customers["c4"]]
    assert (warned[0].from_code, warned[0].to_code) == ("new", "at_risk")


def test_schedule_after_import_runs_the_import_definitions(customers):
    ClassificationDefinition.objects.filter(key="rfm").update(schedule="nightly")
    tasks.schedule_after_import()  # jobs run at once in tests (HUEY_IMMEDIATE)
    triggered = set(
        ClassificationRun.objects.filter(trigger=Trigger.IMPORT).values_list(
            "definition__key", flat=True
        )
    )
    assert "member_tiers" in triggered and "rfm" not in triggered
    assert ClassificationRun.objects.filter(status=RunStatus.FAILED).count() == 0


def test_nightly_job_fires_at_two_in_the_local_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    fires = tasks.local_time_is(2, 0)
    assert fires(dt.datetime(2026, 3, 1, 18, 0))  # 18:00 UTC = 02:00 in Shanghai
    assert not fires(dt.datetime(2026, 3, 1, 2, 0))
    assert not fires(dt.datetime(2026, 3, 1, 18, 1))


def test_command_runs_all_active_definitions(customers, capsys):
    call_command("classify", as_of=AS_OF.isoformat())
    output = capsys.readouterr().out
    assert "abc_spend: 8 customers" in output and "lifecycle: 8 customers" in output
    assert ClassificationRun.objects.filter(trigger=Trigger.COMMAND).count() == 6


def test_command_with_unknown_definition(customers):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="nope"):
        call_command("classify", definition=["nope"])


def test_deleting_a_customer_removes_its_classification_rows(customers):
    """The bulk-written tables carry no database foreign keys; a deleted customer's
    snapshot rows go run by run and its current classes definition by definition
    (segmentation.signals), its transitions by the ORM cascade; a queryset delete does the
    same; other customers keep theirs."""
    tiers = ClassificationDefinition.objects.get(key="member_tiers")
    run_definition(tiers, as_of=AS_OF)
    for code in ("LATE", "LATE2", "LATE3"):
        Customer.objects.create(code=code, name=code)
    run_definition(tiers, as_of=AS_OF)
    late = Customer.objects.get(code="LATE")
    assert ClassTransition.objects.filter(customer=late).exists()
    others = CustomerClass.objects.exclude(customer_id=late.pk).count()
    assert CustomerClass.objects.filter(customer_id=late.pk).count() == 1
    late.delete()
    assert not CustomerClass.objects.filter(customer_id=late.pk).exists()
    assert not CurrentClass.objects.filter(customer_id=late.pk).exists()
    assert not ClassTransition.objects.filter(customer_id=late.pk).exists()
    assert CustomerClass.objects.count() == others
    # A queryset delete sends the same signal for each customer.
    gone = list(Customer.objects.filter(code__in=["LATE2", "LATE3"]).values_list("id", flat=True))
    current_others = CurrentClass.objects.exclude(customer_id__in=gone).count()
    Customer.objects.filter(id__in=gone).delete()
    assert not CustomerClass.objects.filter(customer_id__in=gone).exists()
    assert CustomerClass.objects.count() == others - len(gone)
    assert not CurrentClass.objects.filter(customer_id__in=gone).exists()
    assert CurrentClass.objects.count() == current_others


def test_a_run_gives_the_connection_its_own_settings_back(customers):
    """The run tunes its connection (SQLite's page cache, PostgreSQL's work_mem); the
    caller's settings come back afterwards."""
    setting = "PRAGMA cache_size" if connection.vendor == "sqlite" else "SHOW work_mem"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size = -3000")
        cursor.execute(setting)
        before = cursor.fetchone()[0]
    runs = run_definitions(as_of=AS_OF)
    assert runs and all(run.status == RunStatus.SUCCEEDED for run in runs)
    with connection.cursor() as cursor:
        cursor.execute(setting)
        assert cursor.fetchone()[0] == before
