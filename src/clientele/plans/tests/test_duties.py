"""Duty tasks: created for the right people once per period however often the run runs,
closed by the Interactions actually recorded (inside the period in Shanghai time, by the
right person), missed when the period ends; and the compliance numbers built from them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from clientele.customers.models import Interaction
from clientele.plans import services
from clientele.plans.choices import TaskStatus
from clientele.plans.models import DutyTask
from clientele.plans.periods import period_of
from clientele.segmentation.models import CurrentClass

from .conftest import MARCH, MARCH_ENDS, MARCH_STARTS, put_in_class

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 15, 4, 0, tzinfo=dt.UTC)


def _visit(customer, user, at, channel="visit"):
    return Interaction.objects.create(customer=customer, channel=channel, user=user, occurred_at=at)


class TestPeriods:
    def test_a_month_is_local_midnight_to_local_midnight(self):
        period = period_of("month", MARCH)
        assert (period.start, period.end) == (dt.date(2026, 3, 1), dt.date(2026, 4, 1))
        assert (period.starts_at, period.ends_at) == (MARCH_STARTS, MARCH_ENDS)
        assert period.last_day == dt.date(2026, 3, 31)
        assert str(period) == "2026-03"

    def test_weeks_start_on_monday_and_quarters_on_the_first_month(self):
        week = period_of("week", dt.date(2026, 3, 15))  # a Sunday
        assert (week.start, week.end) == (dt.date(2026, 3, 9), dt.date(2026, 3, 16))
        quarter = period_of("quarter", dt.date(2026, 12, 31))
        assert (quarter.start, quarter.end) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
        assert str(quarter) == "2026-Q4"


class TestGeneration:
    def test_one_task_per_duty_and_customer_assigned_to_the_performer(self, plan_a, class_a):
        w = class_a
        created = services.generate_tasks(today=MARCH, now=NOW)
        assert created == 6
        tasks = {
            (t.customer_id, t.channel): t
            for t in DutyTask.objects.filter(plan=plan_a).select_related("duty")
        }
        # Visits: the customer's account manager, and the customer's team.
        assert tasks[(w.customer_a.pk, "visit")].assignee == w.account_manager
        assert tasks[(w.customer_a.pk, "visit")].team == w.team_a
        assert tasks[(w.customer_b.pk, "visit")].assignee == w.account_manager_b
        assert tasks[(w.customer_b.pk, "visit")].team == w.team_b
        # No account manager: nobody by name, the team's members may do it.
        assert tasks[(w.customer_team.pk, "visit")].assignee is None
        assert tasks[(w.customer_team.pk, "visit")].team == w.team_a
        # Calls: the named executive for every A customer.
        for customer in (w.customer_a, w.customer_b, w.customer_team):
            assert tasks[(customer.pk, "phone")].assignee == w.marketing_manager
        task = tasks[(w.customer_a.pk, "visit")]
        assert task.period_start == dt.date(2026, 3, 1)
        assert task.due_on == dt.date(2026, 3, 31)
        assert (task.starts_at, task.ends_at) == (MARCH_STARTS, MARCH_ENDS)
        assert task.status == TaskStatus.OPEN and task.min_count == 1
        assert task.duty == plan_a.visit

    def test_running_twice_creates_nothing_twice(self, plan_a, class_a):
        assert services.generate_tasks(today=MARCH, now=NOW) == 6
        assert services.generate_tasks(today=MARCH, now=NOW) == 0
        assert services.generate_tasks(today=dt.date(2026, 3, 31), now=NOW) == 0
        assert DutyTask.objects.count() == 6
        # The next month is a new period.
        assert services.generate_tasks(today=dt.date(2026, 4, 1), now=NOW) == 6
        assert DutyTask.objects.count() == 12

    def test_only_the_class_and_active_plans(self, abc, plan_a, plan_c, world):
        put_in_class(abc, [world.customer_a], "A")
        put_in_class(abc, [world.customer_b], "C")  # C has a forbidden channel only
        assert services.generate_tasks(today=MARCH, now=NOW) == 2
        assert set(DutyTask.objects.values_list("customer_id", flat=True)) == {world.customer_a.pk}
        plan_a.active = False
        plan_a.save()
        assert services.generate_tasks(today=dt.date(2026, 4, 2), now=NOW) == 0

    def test_customers_who_left_the_class_lose_their_open_tasks(self, abc, plan_a, class_a):
        w = class_a
        services.generate_tasks(today=MARCH, now=NOW)
        CurrentClass.objects.filter(customer=w.customer_b).update(code="B")
        services.generate_tasks(today=MARCH, now=NOW)
        assert not DutyTask.objects.filter(customer=w.customer_b).exists()
        assert DutyTask.objects.count() == 4

    def test_command_and_daily_job(self, plan_a, class_a, capsys):
        call_command("plan_duties", "--date", "2026-03-15")
        assert "created 6" in capsys.readouterr().out
        from clientele.plans.tasks import daily_duties

        daily_duties.call_local()  # today's period: a new one, idempotent within it
        daily_duties.call_local()
        assert DutyTask.objects.filter(period_start=dt.date(2026, 3, 1)).count() == 6


class TestClosing:
    def test_a_matching_interaction_closes_the_task_at_once(self, plan_a, class_a):
        w = class_a
        services.generate_tasks(today=MARCH, now=NOW)
        # Wrong person (the executive's call made by the account manager): still open.
        _visit(w.customer_a, w.account_manager, NOW, channel="phone")
        call = DutyTask.objects.get(customer=w.customer_a, channel="phone")
        assert call.status == TaskStatus.OPEN
        visit = _visit(w.customer_a, w.account_manager, NOW)
        task = DutyTask.objects.get(customer=w.customer_a, channel="visit")
        assert task.status == TaskStatus.DONE
        assert task.done_by_interaction == visit and task.done_at is not None

    def test_run_closes_what_bulk_imports_recorded_and_misses_the_rest(self, plan_a, class_a):
        w = class_a
        services.generate_tasks(today=MARCH, now=NOW)
        # bulk_create sends no signal: the run finds it.
        Interaction.objects.bulk_create(
            [
                Interaction(
                    customer=w.customer_b,
                    channel="visit",
                    user=w.account_manager_b,
                    occurred_at=MARCH_ENDS - dt.timedelta(seconds=1),
                )
            ]
        )
        assert DutyTask.objects.filter(status=TaskStatus.DONE).count() == 0
        after = MARCH_ENDS + dt.timedelta(hours=1)
        result = services.run_duties(today=dt.date(2026, 4, 1), now=after)
        assert result.done == 1 and result.missed == 5 and result.created == 6
        done = DutyTask.objects.get(status=TaskStatus.DONE)
        assert (done.customer, done.channel) == (w.customer_b, "visit")
        # A visit recorded late (backdated into March) still closes the missed task.
        _visit(w.customer_a, w.account_manager, MARCH_STARTS)
        task = DutyTask.objects.get(
            customer=w.customer_a, channel="visit", period_start=dt.date(2026, 3, 1)
        )
        assert task.status == TaskStatus.DONE

    def test_a_team_task_is_closed_by_any_team_member(self, plan_a, class_a):
        w = class_a
        services.generate_tasks(today=MARCH, now=NOW)
        _visit(w.customer_team, w.account_manager_b, NOW)  # team B: not theirs
        task = DutyTask.objects.get(customer=w.customer_team, channel="visit")
        assert task.status == TaskStatus.OPEN
        _visit(w.customer_team, w.account_manager, NOW)  # team A
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE

    def test_at_least_two(self, plan_a, class_a):
        w = class_a
        plan_a.visit.min_count = 2
        plan_a.visit.save()
        services.generate_tasks(today=MARCH, now=NOW)
        _visit(w.customer_a, w.account_manager, NOW)
        task = DutyTask.objects.get(customer=w.customer_a, channel="visit")
        assert task.status == TaskStatus.OPEN
        second = _visit(w.customer_a, w.account_manager, NOW + dt.timedelta(days=1))
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE and task.done_by_interaction == second


class TestCompliance:
    @pytest.fixture
    def recorded(self, plan_a, plan_c, class_a):
        """March tasks and the Interactions around the month's edges (Shanghai time)."""
        w = class_a
        services.generate_tasks(today=MARCH, now=NOW)
        # 29 Feb 23:59:59 in Shanghai: February, does not count.
        _visit(w.customer_a, w.account_manager, MARCH_STARTS - dt.timedelta(seconds=1))
        # 31 March 23:59:59 in Shanghai: March, counts.
        _visit(w.customer_b, w.account_manager_b, MARCH_ENDS - dt.timedelta(seconds=1))
        # 1 April 00:00 in Shanghai: April, does not count.
        _visit(w.customer_team, w.account_manager, MARCH_ENDS)
        # 1 March 00:00 in Shanghai, by the executive: counts.
        _visit(w.customer_a, w.marketing_manager, MARCH_STARTS, channel="phone")
        # The executive's call made by someone else: does not count.
        _visit(w.customer_b, w.account_manager_b, NOW, channel="phone")
        return w

    def test_per_account_manager(self, recorded, administrator):
        w = recorded
        result = services.compliance(administrator, period_of("month", MARCH), "manager")
        rows = {row.key: row for row in result.rows}
        numbers = {k: (r.required, r.fulfilled, r.missed) for k, r in rows.items()}
        assert numbers == {
            w.account_manager.pk: (1, 0, 1),
            w.account_manager_b.pk: (1, 1, 0),
            w.marketing_manager.pk: (3, 1, 2),
            None: (1, 0, 1),
        }
        assert rows[w.account_manager_b.pk].rate == Decimal("100.0")
        assert rows[w.marketing_manager.pk].rate == Decimal("33.3")
        assert rows[w.account_manager.pk].name == str(w.account_manager)
        total = result.total
        assert (total.required, total.fulfilled, total.missed) == (6, 2, 4)

    def test_per_team(self, recorded, administrator):
        w = recorded
        result = services.compliance(administrator, period_of("month", MARCH), "team")
        numbers = {r.key: (r.required, r.fulfilled) for r in result.rows}
        assert numbers == {w.team_a.pk: (4, 1), w.team_b.pk: (2, 1)}

    def test_missed_customers(self, recorded, administrator):
        w = recorded
        march = period_of("month", MARCH)
        missed = services.missed_tasks(administrator, march, "manager", w.marketing_manager.pk)
        assert {t.customer for t in missed} == {w.customer_b, w.customer_team}
        missed = services.missed_tasks(administrator, march, "manager", None)
        assert [t.customer for t in missed] == [w.customer_team]
        missed = services.missed_tasks(administrator, march, "team", w.team_b.pk)
        assert [(t.customer, t.channel) for t in missed] == [(w.customer_b, "phone")]

    def test_forbidden_channel_contacts_are_counted(self, abc, recorded, administrator):
        w = recorded
        CurrentClass.objects.filter(customer=w.customer_b).update(code="C")
        _visit(w.customer_b, w.account_manager_b, NOW)
        result = services.compliance(administrator, period_of("month", MARCH), "manager")
        rows = {row.key: row for row in result.rows}
        # Both March visits of the C customer by account_manager_b are violations.
        assert rows[w.account_manager_b.pk].violations == 2

    def test_an_account_manager_sees_their_team_only(self, recorded, account_manager):
        w = recorded
        result = services.compliance(account_manager, period_of("month", MARCH), "manager")
        assert w.account_manager_b.pk not in {r.key for r in result.rows}
        assert result.total.required == 4


class TestSetBased:
    """The work grows with duties, never with customers: the query counts stay fixed."""

    def test_query_counts_do_not_grow_with_customers(
        self, abc, plan_a, world, django_assert_max_num_queries
    ):
        from clientele.customers.models import Customer

        Customer.objects.bulk_create(
            [
                Customer(code=f"BULK-{i}", name=f"Bulk {i}", owner=world.account_manager)
                for i in range(200)
            ]
        )
        put_in_class(abc, list(Customer.objects.all()), "A")
        with django_assert_max_num_queries(12):
            assert services.generate_tasks(today=MARCH, now=NOW) == 2 * 203
        with django_assert_max_num_queries(3):
            services.mark_done(now=NOW)
            services.mark_missed(now=MARCH_ENDS)
        with django_assert_max_num_queries(6):
            result = services.compliance(world.administrator, period_of("month", MARCH))
        assert result.total.required == 406 and result.total.fulfilled == 0
