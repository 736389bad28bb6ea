"""The plan edit page saves duties and gifts with the plan (or nothing); the compliance page
shows the numbers, drills down to missed customers with links to their 360 pages and
exports CSV, within each role's rights and scope; "my duties"; creating tasks by hand; and
the benefits block of the 360 page with gifts earned from the last 12 months' volume."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from clientele.catalog.models import Product
from clientele.conftest import make_order
from clientele.core.tests.declarative import csv_rows
from clientele.customers.models import Interaction
from clientele.plans import services
from clientele.plans.demo import create_demo_plans
from clientele.plans.models import ClassPlan, DutyTask

from .conftest import MARCH, put_in_class
from .test_access import _formsets

pytestmark = [pytest.mark.django_db, pytest.mark.urls("clientele.plans.tests.urls")]

NOW = dt.datetime(2026, 3, 15, 4, 0, tzinfo=dt.UTC)


class TestPlanEditPage:
    def _data(self, abc, world, **extra):
        return {
            "definition": abc.pk,
            "class_code": "A",
            "name": "VIP plan",
            "priority": "100",
            "price_rate": "92.50",
            "fee_waivers": "freight\n\n invoice fee ",
            "team": world.team_a.pk,
            "active": "on",
        } | extra

    def test_plan_with_duties_and_gifts_in_one_post(self, abc, world, client_for):
        duties = [
            {
                "kind": "required",
                "channel": "visit",
                "period": "month",
                "min_count": "1",
                "performer": "account_manager",
                "purpose": "visit",
            },
            {
                "kind": "required",
                "channel": "phone",
                "period": "month",
                "min_count": "1",
                "performer": "user",
                "performer_user": str(world.marketing_manager.pk),
            },
        ]
        gifts = [{"min_quantity": "5000", "unit": "t", "gift": "Europe trip", "value": "10000"}]
        client = client_for("marketing_manager")
        assert client.get(reverse("plans:classplan_add")).status_code == 200
        response = client.post(
            reverse("plans:classplan_add"), self._data(abc, world) | _formsets(duties, gifts)
        )
        assert response.status_code == 302, response.context["form"].errors
        plan = ClassPlan.objects.get(name="VIP plan")
        assert plan.fee_waivers == ["freight", "invoice fee"]
        assert plan.price_rate == Decimal("92.50")
        assert plan.duties.count() == 2 and plan.gifts.get().gift == "Europe trip"
        page = client.get(plan.get_absolute_url())
        assert page.status_code == 200
        assert "Europe trip" in page.content.decode()
        edit = client.get(reverse("plans:classplan_edit", args=[plan.pk]))
        html = edit.content.decode()
        assert edit.status_code == 200 and "freight\ninvoice fee" in html
        assert 'data-testid="duties-formset"' in html and 'data-testid="gifts-formset"' in html
        assert 'value="Europe trip"' in html

    def test_a_bad_duty_saves_nothing_and_says_why(self, abc, world, client_for):
        duties = [
            {
                "kind": "required",
                "channel": "phone",
                "period": "month",
                "min_count": "1",
                "performer": "user",
            }
        ]
        response = client_for("marketing_manager").post(
            reverse("plans:classplan_add"), self._data(abc, world) | _formsets(duties, [])
        )
        assert response.status_code == 400
        assert "Name the user who performs it." in response.content.decode()
        assert not ClassPlan.objects.exists()

    def test_an_unknown_class_is_refused(self, abc, world, client_for):
        response = client_for("marketing_manager").post(
            reverse("plans:classplan_add"),
            self._data(abc, world, class_code="Z") | _formsets([], []),
        )
        assert response.status_code == 400
        assert not ClassPlan.objects.exists()


@pytest.fixture
def march(plan_a, class_a):
    w = class_a
    services.generate_tasks(today=MARCH, now=NOW)
    Interaction.objects.create(
        customer=w.customer_b, channel="visit", user=w.account_manager_b, occurred_at=NOW
    )
    return w


def _compliance(client, **params):
    return client.get(
        reverse("plans:compliance"), {"period": "month", "day": "2026-03-15"} | params
    )


class TestCompliancePage:
    def test_numbers_and_drill_down(self, march, client_for):
        w = march
        client = client_for("marketing_manager")
        page = _compliance(client)
        assert page.status_code == 200
        html = page.content.decode()
        assert "2026-03" in html and str(w.account_manager_b) in html
        # The account manager missed customer_a's visit: the drill-down links to the 360.
        drill = _compliance(client, key=w.account_manager.pk)
        assert drill.status_code == 200
        html = drill.content.decode()
        assert reverse("customers:customer_detail", args=[w.customer_a.pk]) in html
        assert w.customer_b.code not in html
        unassigned = _compliance(client, key="none").content.decode()
        assert w.customer_team.code in unassigned
        teams = _compliance(client, group="team").content.decode()
        assert str(w.team_b) in teams

    def test_csv_export(self, march, client_for):
        w = march
        client = client_for("analyst")
        rows = csv_rows(_compliance(client, export="csv"))
        header, body = rows[0], rows[1:]
        assert header[:5] == ["name", "required", "fulfilled", "missed", "compliance (%)"]
        by_name = {row[0]: row[1:5] for row in body}
        assert by_name[str(w.account_manager_b)] == ["1", "1", "0", "100.0"]
        assert by_name[str(w.marketing_manager)] == ["3", "0", "3", "0.0"]
        missed = csv_rows(_compliance(client, export="csv", key=w.marketing_manager.pk))
        codes = {row[0] for row in missed[1:]}
        assert codes == {w.customer_a.code, w.customer_b.code, w.customer_team.code}

    @pytest.mark.parametrize(
        "role,view,export",
        [
            ("administrator", 200, 200),
            ("marketing_manager", 200, 200),
            ("account_manager", 200, 403),
            ("service_agent", 200, 403),
            ("analyst", 200, 200),
        ],
    )
    def test_rights(self, march, client_for, role, view, export):
        client = client_for(role)
        assert _compliance(client).status_code == view
        assert _compliance(client, export="csv").status_code == export

    def test_account_managers_see_their_team_only(self, march, client_for):
        w = march
        html = _compliance(client_for("account_manager")).content.decode()
        assert str(w.account_manager) in html
        assert str(w.account_manager_b) not in html
        drill = _compliance(client_for("account_manager"), key=w.marketing_manager.pk)
        assert w.customer_b.code not in drill.content.decode()

    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(reverse("plans:compliance"))
        assert response.status_code == 302


class TestDutyPages:
    def test_my_duties(self, march, client_for):
        w = march
        client = client_for("account_manager")
        response = client.get(reverse("plans:my_duties"))
        assert response.status_code == 302
        listing = client.get(response["Location"])
        tasks = list(listing.context["table"].data)
        assert tasks and {t.assignee for t in tasks} == {w.account_manager}
        assert client_for("account_manager_b").get(response["Location"]).status_code == 200

    def test_create_tasks_by_hand(self, plan_a, class_a, client_for):
        url = reverse("plans:classplan_generate", args=[plan_a.pk])
        assert client_for("account_manager").post(url).status_code == 403
        assert client_for("marketing_manager").get(url).status_code == 405
        response = client_for("marketing_manager").post(url)
        assert response.status_code == 302
        assert DutyTask.objects.count() == 6

    def test_create_tasks_by_api(self, plan_a, class_a, api_client_for):
        url = f"/api/class-plans/{plan_a.pk}/generate-tasks/"
        assert api_client_for("analyst").post(url).status_code == 403
        response = api_client_for("marketing_manager").post(url)
        assert response.status_code == 200 and response.json()["created"] == 6
        assert api_client_for("marketing_manager").post(url).json()["created"] == 0


class TestCustomerPlan:
    @pytest.fixture
    def tons(self, world):
        return Product.objects.create(
            sku="RICE-T", name="Rice", category=world.category, unit="t", list_price=Decimal("4800")
        )

    def _order(self, customer, number, product, quantity, at, status="paid"):
        return make_order(
            customer,
            number,
            product,
            lines=((quantity, "1.00", "0"),),
            ordered_at=at,
            status=status,
        )

    def test_gift_from_the_last_twelve_months_in_the_gift_unit(self, plan_a, class_a, tons):
        w = class_a
        today = dt.date(2026, 3, 15)
        recent = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        self._order(w.customer_a, "T-1", tons, 900, recent)
        self._order(w.customer_a, "T-2", tons, 600, recent)
        # Thirteen months ago, cancelled, or another unit: none counts.
        self._order(w.customer_a, "T-3", tons, 5000, dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
        self._order(w.customer_a, "T-4", tons, 3000, recent, status="cancelled")
        w.product.unit = "bag"
        w.product.save()
        self._order(w.customer_a, "T-5", w.product, 9000, recent)
        [item] = services.customer_plan(w.customer_a, today=today)
        assert item["plan"] == plan_a and item["class_code"] == "A"
        assert item["price_rate"] == Decimal("95.00") and item["fee_waivers"] == ["freight"]
        assert item["quantities"] == {"t": Decimal("1500")}
        assert [g.gift for g in item["earned"]] == ["tablet"]
        reached = {row["gift"].gift: row["reached"] for row in item["gifts"]}
        assert reached == {"Europe trip": False, "phone": False, "tablet": True}
        assert sorted(d.channel for d in item["duties"]) == ["phone", "visit"]

    def test_thresholds_are_inclusive(self, plan_a, class_a, tons):
        w = class_a
        self._order(w.customer_b, "T-9", tons, 2000, dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
        [item] = services.customer_plan(w.customer_b, today=dt.date(2026, 3, 15))
        assert [g.gift for g in item["earned"]] == ["phone"]

    def test_snippet(self, plan_a, plan_c, abc, world, tons):
        put_in_class(abc, [world.customer_a], "A")
        put_in_class(abc, [world.customer_b], "C")
        services.generate_tasks()
        html = render_to_string(
            "plans/_customer_plan.html",
            {"customer_plan": services.customer_plan(world.customer_a)},
        )
        assert 'data-testid="customer-plan"' in html and "A plan" in html
        assert "95%" in html and "freight" in html and "tablet" in html
        html = render_to_string(
            "plans/_customer_plan.html", {"customer_plan": services.customer_plan(world.customer_b)}
        )
        assert "C plan" in html and "Visit" in html
        assert render_to_string("plans/_customer_plan.html", {"customer_plan": None}).strip() == ""

    def test_no_class_no_plan(self, world):
        assert services.customer_plan(world.customer_a) == []


def test_demo_plans(abc, world):
    created = create_demo_plans()
    assert [p.class_code for p in created] == ["A", "B", "C"]
    a = ClassPlan.objects.get(class_code="A")
    assert a.gifts.count() == 3 and a.duties.count() == 2
    assert a.duties.get(channel="phone").performer_user == world.marketing_manager
    assert ClassPlan.objects.get(class_code="C").duties.get().kind == "forbidden"
    assert create_demo_plans() == []
    put_in_class(abc, [world.customer_a], "A")
    assert services.generate_tasks(today=MARCH) == 2
