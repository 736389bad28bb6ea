"""Classification pages: definitions (JSON parameters checked by the kind's validator),
"Run now", the run history, manual classes, the customer-list class filters, the
dashboard's charts (aggregated in the database, every bar a link, every table a CSV) and
the 360 block. Guards against: a contradictory definition saved from the page, a page or
chart that shows an account manager another team's customers, a drill-down link whose
list does not hold the customers the bar counted."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clientele.core.models import Role
from clientele.core.permissions import ROLE_MATRIX
from clientele.customers.models import Customer
from clientele.sales.models import Order
from clientele.segmentation import charts, filters
from clientele.segmentation.models import (
    ClassificationDefinition,
    ClassificationRun,
    ClassOverride,
    CurrentClass,
    CustomerClass,
)
from clientele.segmentation.services import explain, run_definitions, transition_matrix

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("clientele.segmentation.tests.urls_for_tests"),
]

# The entries proposed for core.permissions.ROLE_MATRIX (administrators may do anything).
# Until they are applied, tests put them in place; afterwards this changes nothing.
PROPOSED_ROLES = {
    Role.MARKETING_MANAGER: {
        "segmentation.*": "vx",
        "segmentation.classificationdefinition": "vacx",
        "segmentation.classoverride": "vacdx",
    },
    Role.ACCOUNT_MANAGER: {"segmentation.*": "v"},
    Role.ANALYST: {"segmentation.*": "vx"},
    Role.SERVICE_AGENT: {"segmentation.currentclass": "v"},
}


@pytest.fixture(autouse=True)
def segment_roles(monkeypatch):
    for role, rules in PROPOSED_ROLES.items():
        for key, letters in rules.items():
            monkeypatch.setitem(ROLE_MATRIX[role], key, letters)


@pytest.fixture(autouse=True)
def segment_filters(monkeypatch):
    """The customer list with the class filters, as the proposed CustomerFilterSet patch
    makes it (nothing changes once it is applied)."""
    from clientele.customers.filters import CustomerFilterSet
    from clientele.customers.views import CustomerViews

    if "segment" not in CustomerFilterSet.base_filters:

        class Patched(CustomerFilterSet, filters.SegmentCustomerFilters):
            class Meta(CustomerFilterSet.Meta):
                pass

        monkeypatch.setattr(CustomerViews, "filterset", Patched)


# Spend in the last year per customer (team A: a1-a5 owned by account_manager, team B:
# b1-b5 owned by account_manager_b); one order per amount, `days` apart going back.
SPEND = {
    "a1": ["20000", "5000", "3000"],
    "a2": ["8000"],
    "a3": ["1500", "1500"],
    "a4": ["400"],
    "a5": [],
    "b1": ["12000", "4000"],
    "b2": ["2500"],
    "b3": ["900", "300", "200"],
    "b4": ["100"],
    "b5": ["60"],
}


@pytest.fixture
def shop(world):
    """Ten customers with orders in the last months, on both teams' sides."""
    now = timezone.now()
    customers = {}
    for name, amounts in SPEND.items():
        side = name[0]
        customers[name] = Customer.objects.create(
            code=f"S-{name.upper()}",
            name=f"Shop {name}",
            owner=world.users["account_manager" if side == "a" else "account_manager_b"],
            team=world.team_a if side == "a" else world.team_b,
        )
        Order.objects.bulk_create(
            Order(
                customer=customers[name],
                number=f"S-{name}-{i}",
                ordered_at=now - dt.timedelta(days=5 + 40 * i + len(name) * 3),
                total=Decimal(amount),
                status="paid",
            )
            for i, amount in enumerate(amounts)
        )
    world.shop = customers
    return world


@pytest.fixture
def ran(shop):
    """Every default definition run once."""
    runs = run_definitions()
    assert runs and all(r.status == "succeeded" for r in runs), [(r, r.error) for r in runs]
    shop.runs = {r.definition.key: r for r in runs}
    return shop


def _definition(key):
    return ClassificationDefinition.objects.get(key=key)


def _customer_codes(client, query):
    """The customer codes the customer list shows for a filter query."""
    response = client.get(reverse("customers:customer_list") + "?" + query + "&export=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return sorted(row[0] for row in rows[1:])


ABC_FORM = {
    "key": "abc_margin",
    "name": "ABC by margin",
    "name_zh": "ABC（毛利）",
    "kind": "abc",
    "description": "",
    "parameters": '{"measure": "margin", "a_share": 70, "b_share": 90}',
    "labels": '{"A": {"en": "Key", "zh-hans": "重点"}}',
    "active": "on",
    "schedule": "nightly",
    "position": "70",
}


# --- definitions ---------------------------------------------------------------------


class TestDefinitionPages:
    def test_list_and_detail_by_role(self, client_for, world):
        definition = _definition("abc_spend")
        for role in ("administrator", "marketing_manager", "analyst", "account_manager"):
            client = client_for(role)
            assert (
                client.get(reverse("segmentation:classificationdefinition_list")).status_code == 200
            )
            page = client.get(definition.get_absolute_url())
            assert page.status_code == 200
            assert "a_share" in page.content.decode()
        agent = client_for("service_agent")
        assert agent.get(reverse("segmentation:classificationdefinition_list")).status_code == 403

    def test_add_validates_and_normalises_parameters(self, client_for, world):
        client = client_for("marketing_manager")
        response = client.post(reverse("segmentation:classificationdefinition_add"), ABC_FORM)
        assert response.status_code == 302, response.content.decode()[-2000:]
        created = _definition("abc_margin")
        assert created.parameters["a_share"] == 70 and created.parameters["window_days"] == 365
        assert created.labels == {"A": {"en": "Key", "zh-hans": "重点"}}
        assert response["Location"] == created.get_absolute_url()

    def test_contradictory_thresholds_are_refused_with_the_validators_message(
        self, client_for, world
    ):
        client = client_for("marketing_manager")
        data = ABC_FORM | {"parameters": '{"a_share": 90, "b_share": 80}'}
        response = client.post(reverse("segmentation:classificationdefinition_add"), data)
        assert response.status_code == 400
        page = response.content.decode()
        assert "must be above A" in page and "B takes the customers after A" in page
        assert not ClassificationDefinition.objects.filter(key="abc_margin").exists()

        tiers = _definition("member_tiers")
        bad = (
            '{"tiers": [{"code": "normal", "min_spend": 0, "rate": 0.95},'
            ' {"code": "vip", "min_spend": 5000, "rate": 0.9},'
            ' {"code": "senior", "min_spend": 2000, "rate": 0.92}]}'
        )
        data = {
            "name": tiers.name,
            "name_zh": tiers.name_zh,
            "parameters": bad,
            "labels": "{}",
            "schedule": tiers.schedule,
            "position": tiers.position,
        }
        url = reverse("segmentation:classificationdefinition_edit", args=[tiers.pk])
        response = client.post(url, data)
        assert response.status_code == 400
        assert "Tiers are out of order" in response.content.decode()
        tiers.refresh_from_db()
        assert [t["code"] for t in tiers.parameters["tiers"]][-1] == "supreme_vip"

    def test_bad_json_and_rule_kinds_are_form_errors(self, client_for, world):
        client = client_for("administrator")
        url = reverse("segmentation:classificationdefinition_add")
        response = client.post(url, ABC_FORM | {"parameters": "{a_share: 70"})
        assert response.status_code == 400 and "JSON" in response.content.decode()
        response = client.post(url, ABC_FORM | {"kind": "rule", "parameters": "{}"})
        assert response.status_code == 400

    def test_edit_page_shows_the_kinds_defaults_and_keeps_the_kind(self, client_for, world):
        definition = _definition("rfm")
        client = client_for("marketing_manager")
        page = client.get(
            reverse("segmentation:classificationdefinition_edit", args=[definition.pk])
        )
        text = page.content.decode()
        assert page.status_code == 200
        assert 'data-testid="kind-defaults"' in text and '<details open data-kind="rfm">' in text
        assert "champions" in text
        data = {
            "key": "changed",
            "kind": "abc",
            "name": definition.name,
            "parameters": '{"method": "quintile"}',
            "labels": "{}",
            "schedule": definition.schedule,
            "position": 41,
        }
        response = client.post(
            reverse("segmentation:classificationdefinition_edit", args=[definition.pk]), data
        )
        assert response.status_code == 302
        definition.refresh_from_db()
        assert (definition.kind, definition.key, definition.position) == ("rfm", "rfm", 41)

    def test_analysts_and_account_managers_cannot_change(self, client_for, world):
        definition = _definition("abc_spend")
        for role in ("analyst", "account_manager"):
            client = client_for(role)
            assert (
                client.get(reverse("segmentation:classificationdefinition_add")).status_code == 403
            )
            url = reverse("segmentation:classificationdefinition_edit", args=[definition.pk])
            assert client.post(url, ABC_FORM).status_code == 403
            run = reverse("segmentation:run_now", args=[definition.pk])
            assert client.post(run).status_code == 403
        assert not ClassificationRun.objects.exists()


# --- runs ----------------------------------------------------------------------------


class TestRuns:
    def test_run_now_runs_and_the_history_shows_duration_and_counts(self, client_for, shop):
        definition = _definition("member_tiers")
        client = client_for("marketing_manager")
        url = reverse("segmentation:run_now", args=[definition.pk])
        assert client.get(url).status_code == 405
        response = client.post(url, follow=True)
        assert response.status_code == 200
        run = ClassificationRun.objects.get(definition=definition)
        assert run.status == "succeeded" and run.trigger == "manual"
        assert run.started_by == shop.users["marketing_manager"]
        assert "ran:" in response.content.decode()
        assert run.counts["supreme_vip"] == 1 and run.counts["vip"] == 2  # a1; a2 and b1
        listing = client.get(reverse("segmentation:classificationrun_list"))
        text = listing.content.decode()
        assert listing.status_code == 200 and f"{run.duration:,.2f}" in text
        assert "supreme_vip 1" in text
        detail = client.get(reverse("segmentation:classificationrun_detail", args=[run.pk]))
        text = detail.content.decode()
        assert 'data-testid="run-counts"' in text
        assert f"segment=member_tiers%3Asupreme_vip%3A{run.pk}" in text
        csv_export = client.get(reverse("segmentation:classificationrun_list") + "?export=csv")
        assert csv_export.status_code == 200

    def test_run_detail_lists_changes_with_links(self, client_for, shop):
        tiers = _definition("member_tiers")
        run_definitions([tiers])
        Order.objects.create(
            customer=shop.shop["a4"], number="S-UP", ordered_at=timezone.now(),
            total=Decimal("6000"), status="paid",
        )  # fmt: skip
        (second,) = run_definitions([tiers])
        assert second.transitions == 1
        page = client_for("analyst").get(
            reverse("segmentation:classificationrun_detail", args=[second.pk])
        )
        text = page.content.decode()
        assert 'data-testid="run-moves"' in text
        link = f"transition=member_tiers%3Anormal%3Avip%3A{second.pk}"
        assert link in text
        client = client_for("administrator")
        assert _customer_codes(client, link) == ["S-A4"]

    def test_inactive_definition_does_not_run(self, client_for, world):
        definition = _definition("rfm")
        definition.active = False
        definition.save()
        client = client_for("administrator")
        client.post(reverse("segmentation:run_now", args=[definition.pk]))
        assert not ClassificationRun.objects.exists()


# --- manual classes ------------------------------------------------------------------


class TestOverrides:
    def test_a_manager_sets_and_clears_a_manual_class(self, client_for, ran):
        customer = ran.shop["b5"]
        tiers = _definition("member_tiers")
        url = reverse("segmentation:customer_classes", args=[customer.pk])
        client = client_for("marketing_manager")
        page = client.get(url)
        assert page.status_code == 200 and 'data-testid="override-form"' in page.content.decode()
        response = client.post(url, {"target": f"{tiers.pk}:vip", "reason": "Key partner"})
        assert response.status_code == 302
        override = ClassOverride.objects.get(customer=customer, definition=tiers)
        assert (override.code, override.reason) == ("vip", "Key partner")
        assert override.set_by == ran.users["marketing_manager"]
        run_definitions([tiers])
        assert CurrentClass.objects.get(customer=customer, definition=tiers).code == "vip"
        assert "(set by hand)" in client.get(url).content.decode()
        response = client.post(url, {"clear": tiers.pk})
        assert response.status_code == 302
        assert not ClassOverride.objects.filter(customer=customer).exists()

    def test_an_unknown_class_is_a_form_error(self, client_for, ran):
        customer = ran.shop["b5"]
        tiers = _definition("member_tiers")
        url = reverse("segmentation:customer_classes", args=[customer.pk])
        response = client_for("administrator").post(url, {"target": f"{tiers.pk}:platinum"})
        assert response.status_code == 400
        assert not ClassOverride.objects.exists()

    def test_only_managers_set_classes_and_scope_holds(self, client_for, ran):
        tiers = _definition("member_tiers")
        own, other = ran.shop["a2"], ran.shop["b2"]
        for role in ("analyst", "account_manager"):
            client = client_for(role)
            url = reverse("segmentation:customer_classes", args=[own.pk])
            page = client.get(url)
            assert page.status_code == 200
            assert 'data-testid="override-form"' not in page.content.decode()
            assert client.post(url, {"target": f"{tiers.pk}:vip"}).status_code == 403
            assert client.post(url, {"clear": tiers.pk}).status_code == 403
        account_manager = client_for("account_manager")
        url = reverse("segmentation:customer_classes", args=[other.pk])
        assert account_manager.get(url).status_code == 404
        assert not ClassOverride.objects.exists()


# --- customer-list filters -----------------------------------------------------------


class TestCustomerFilters:
    def test_filter_functions(self, ran):
        everyone = Customer.objects.all()
        abc = ran.runs["abc_spend"]
        a_customers = set(
            CustomerClass.objects.filter(run=abc, code="A").values_list("customer__code", flat=True)
        )
        assert a_customers and "S-A1" in a_customers
        by_class = filters.filter_by_class(everyone, "abc_spend:A")
        assert set(by_class.values_list("code", flat=True)) == a_customers
        by_run = filters.filter_by_class(everyone, f"abc_spend:A:{abc.pk}")
        assert set(by_run.values_list("code", flat=True)) == a_customers
        rfm = ran.runs["rfm"]
        row = CustomerClass.objects.filter(run=rfm, score_r__isnull=False).first()
        cell = filters.filter_by_rfm_cell(everyone, f"rfm:{row.score_r}:{row.score_f}")
        expected = CustomerClass.objects.filter(run=rfm, score_r=row.score_r, score_f=row.score_f)
        assert cell.count() == expected.count() >= 1
        scored = filters.filter_by_score(everyone, "clv:clv::")
        assert (
            scored.count()
            == CustomerClass.objects.filter(run=ran.runs["clv"], clv__isnull=False).count()
        )
        same = filters.filter_by_transition(everyone, f"abc_spend:A:A:{abc.pk}:{abc.pk}")
        assert set(same.values_list("code", flat=True)) == a_customers

    @pytest.mark.parametrize(
        "function, value",
        [
            (filters.filter_by_class, "nope:A"),
            (filters.filter_by_class, "abc_spend"),
            (filters.filter_by_class, "abc_spend:A:999999"),
            (filters.filter_by_transition, "abc_spend:A:B"),
            (filters.filter_by_rfm_cell, "rfm:6:1"),
            (filters.filter_by_score, "clv:password:1:2"),
            (filters.filter_by_score, "clv:clv:x:2"),
        ],
    )
    def test_bad_values_are_validation_errors(self, ran, function, value):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            function(Customer.objects.all(), value)

    def test_a_bad_value_in_the_list_shows_nothing_rather_than_failing(self, client_for, ran):
        response = client_for("administrator").get(
            reverse("customers:customer_list") + "?segment=nope:A"
        )
        assert response.status_code == 200
        assert "There is no classification nope." in response.content.decode()

    def test_segment_filter_set_on_its_own(self, ran):
        class Customers(filters.SegmentCustomerFilters):
            class Meta:
                model = Customer
                fields = []

        found = Customers({"segment": "abc_spend:A"}, queryset=Customer.objects.all())
        assert found.is_valid() and found.qs.filter(code="S-A1").exists()
        bad = Customers({"segment": "abc_spend:A:x"}, queryset=Customer.objects.all())
        assert not bad.is_valid() and "segment" in bad.errors


# --- dashboard -----------------------------------------------------------------------


def _testids(text):
    return set(re.findall(r'data-testid="([^"]+)"', text))


class TestDashboard:
    def test_every_chart_is_there_with_links(self, client_for, ran):
        page = client_for("analyst").get(reverse("segmentation:dashboard"))
        assert page.status_code == 200
        text = page.content.decode()
        ids = _testids(text)
        for name in (
            "abc_spend-pareto",
            "member_tiers-pyramid",
            "rfm-rfm-grid",
            "clv-clv-histogram",
            "value_expectation-scatter",
            "lifecycle-classes",
            "transitions",
        ):
            assert f"chart-{name}" in ids, name
        assert "<svg" in text and "<script" not in text.split("<main", 1)[1]
        assert "http://" not in "".join(re.findall(r"<svg.*?</svg>", text, re.S)).replace(
            "http://www.w3.org/2000/svg", ""
        )
        customers = reverse("customers:customer_list")
        assert f'href="{customers}?segment=abc_spend%3AA"' in text
        assert f'href="{customers}?segment=member_tiers%3Asupreme_vip"' in text
        assert f'href="{customers}?rfm=rfm%3A' in text
        assert f'href="{customers}?score=clv%3Aclv%3A' in text
        assert "?transition=" in text

    def test_bars_count_what_their_links_list(self, client_for, ran):
        client = client_for("administrator")
        definition = _definition("member_tiers")
        (chart,) = [
            c
            for c in charts.definition_charts(
                definition, ran.runs["member_tiers"], ran.administrator
            )
            if c.name == "member_tiers-classes"
        ]
        assert chart.rows
        for row, link in zip(chart.rows, chart.links, strict=True):
            listed = _customer_codes(client, link.split("?", 1)[1])
            assert len(listed) == row[2], (row, listed)
        # The RFM grid and histogram through the filter functions directly:
        everyone = Customer.objects.all()
        grid = charts.rfm_grid(_definition("rfm"), ran.runs["rfm"], ran.administrator)
        for (_r, _f, n), link in zip(grid.rows, grid.links, strict=True):
            value = link.split("rfm=", 1)[1].replace("%3A", ":")
            assert filters.filter_by_rfm_cell(everyone, value).count() == n
        hist = charts.clv_histogram(_definition("clv"), ran.runs["clv"], ran.administrator)
        assert (
            sum(row[2] for row in hist.rows)
            == CustomerClass.objects.filter(run=ran.runs["clv"], clv__isnull=False).count()
        )
        for row, link in zip(hist.rows, hist.links, strict=True):
            value = link.split("score=", 1)[1].replace("%3A", ":")
            assert filters.filter_by_score(everyone, value).count() == row[2]

    def test_pareto_tiers_and_scatter_data(self, ran):
        admin = ran.administrator
        pareto = charts.pareto(_definition("abc_spend"), ran.runs["abc_spend"], admin)
        shares = [row[2] for row in pareto.rows]
        assert shares == sorted(shares) and shares[-1] == pytest.approx(100, abs=0.01)
        assert "A 80%" in pareto.svg and "B 95%" in pareto.svg
        pyramid = charts.tier_pyramid(
            _definition("member_tiers"),
            charts.class_counts(_definition("member_tiers"), ran.runs["member_tiers"], admin),
        )
        assert [row[0] for row in pyramid.rows] == ["supreme_vip", "vip", "senior", "normal"]
        spend = {row[0]: row[3] for row in pyramid.rows}
        assert spend["supreme_vip"] == pytest.approx(28000)
        assert spend["vip"] == pytest.approx(8000 + 16000)
        scatter = charts.quadrant_scatter(
            _definition("value_expectation"), ran.runs["value_expectation"], admin
        )
        assert 0 < len(scatter.rows) <= charts.SCATTER_LIMIT
        assert scatter.svg.count("<circle") == len(scatter.rows)

    def test_samples_stay_within_their_limits(self, ran, monkeypatch):
        monkeypatch.setattr(charts, "SCATTER_LIMIT", 4)
        monkeypatch.setattr(charts, "PARETO_POINTS", 2)
        scatter = charts.quadrant_scatter(
            _definition("value_expectation"), ran.runs["value_expectation"], ran.administrator
        )
        assert 1 <= len(scatter.rows) <= 4
        # An account manager's sample is drawn from their own customers, evenly.
        mine = charts.quadrant_scatter(
            _definition("value_expectation"), ran.runs["value_expectation"], ran.account_manager
        )
        own = set(Customer.objects.filter(team=ran.team_a).values_list("pk", flat=True))
        assert mine.rows and {row[0] for row in mine.rows} <= own
        pareto = charts.pareto(_definition("abc_spend"), ran.runs["abc_spend"], ran.account_manager)
        assert pareto.rows

    def test_each_chart_exports_as_csv(self, client_for, ran):
        client = client_for("analyst")
        url = reverse("segmentation:dashboard")
        for name in ("abc_spend-pareto", "member_tiers-pyramid", "rfm-rfm-grid",
                     "clv-clv-histogram", "value_expectation-scatter", "lifecycle-classes",
                     "rfm-classes", "abc_spend-transitions"):  # fmt: skip
            response = client.get(url, {"export": "csv", "chart": name, "matrix": "abc_spend"})
            assert response.status_code == 200, name
            assert response["Content-Type"].startswith("text/csv")
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
            assert len(rows) >= 2, name
        grid = client.get(url, {"export": "csv", "chart": "rfm-rfm-grid"})
        rows = list(csv.reader(io.StringIO(grid.content.decode("utf-8-sig"))))
        assert len(rows) == 26 and sum(int(r[2]) for r in rows[1:]) >= 1
        assert client.get(url, {"export": "csv", "chart": "nope"}).status_code == 404
        assert client.get(url, {"export": "pdf", "chart": "rfm-rfm-grid"}).status_code == 404

    def test_permissions(self, client_for, ran):
        url = reverse("segmentation:dashboard")
        assert client_for("service_agent").get(url).status_code == 403
        account_manager = client_for("account_manager")
        assert account_manager.get(url).status_code == 200
        export = account_manager.get(url, {"export": "csv", "chart": "rfm-classes"})
        assert export.status_code == 403
        assert client_for("analyst").get(url).status_code == 200

    def test_account_managers_see_their_own_customers_only(self, ran):
        definition = _definition("member_tiers")
        run = ran.runs["member_tiers"]
        mine = charts.class_counts(definition, run, ran.account_manager)
        everyone = charts.class_counts(definition, run, ran.administrator)
        own = Customer.objects.filter(team=ran.team_a).count()
        assert sum(n for _c, _l, n, _s in mine) == own
        assert sum(n for _c, _l, n, _s in everyone) == Customer.objects.count()

    def test_transition_matrix_between_two_runs(self, client_for, ran):
        tiers = _definition("member_tiers")
        first = ran.runs["member_tiers"]
        Order.objects.create(
            customer=ran.shop["b4"], number="S-UP2", ordered_at=timezone.now(),
            total=Decimal("2500"), status="paid",
        )  # fmt: skip
        (second,) = run_definitions([tiers])
        chart = charts.matrix(tiers, first, second, ran.administrator)
        assert chart.counts == transition_matrix(first, second)
        assert chart.counts[("normal", "senior")] == 1
        scoped = charts.matrix(tiers, first, second, ran.account_manager_b)
        assert scoped.counts[("normal", "senior")] == 1
        assert sum(scoped.counts.values()) == Customer.objects.filter(team=ran.team_b).count()
        client = client_for("analyst")
        fragment = client.get(
            reverse("segmentation:transition_matrix"),
            {"matrix": "member_tiers", "run_from": first.pk, "run_to": second.pk},
        )
        text = fragment.content.decode()
        assert fragment.status_code == 200 and 'hx-get="' in text
        link = f"transition=member_tiers%3Anormal%3Asenior%3A{first.pk}%3A{second.pk}"
        assert link in text
        assert _customer_codes(client_for("administrator"), link) == ["S-B4"]
        assert _customer_codes(client_for("account_manager"), link) == []

    def test_early_warning_links_to_who_became_at_risk(self, client_for, ran):
        from clientele.segmentation.services import early_warning

        lifecycle = _definition("lifecycle")
        later = timezone.localdate() + dt.timedelta(days=120)
        (run,) = run_definitions([lifecycle], as_of=later)
        expected = sorted(early_warning(run=run).values_list("customer__code", flat=True))
        assert expected, "someone should be at risk 120 days on"
        page = client_for("administrator").get(reverse("segmentation:dashboard"))
        text = page.content.decode()
        assert 'data-testid="early-warning-lifecycle"' in text
        link = f"transition=lifecycle%3A%2A%3Aat_risk%3A{run.pk}"
        assert link in text
        assert _customer_codes(client_for("administrator"), link) == expected
        mine = _customer_codes(client_for("account_manager"), link)
        assert mine == [code for code in expected if code.startswith(("S-A", "A-"))]


# --- the 360 block -------------------------------------------------------------------


class TestCustomerBlock:
    def test_the_block_shows_each_class_with_its_explanation(self, rf, ran):
        from clientele.segmentation.views import customer_classes

        customer = ran.shop["a1"]
        request = rf.get("/")
        request.user = ran.analyst
        items = customer_classes(request, customer)
        assert [i["key"] for i in items] == [i["key"] for i in explain(customer)]
        html = render_to_string(
            "segmentation/_customer_classes.html",
            {"customer_classes": items, "object": customer},
        )
        assert 'data-testid="class-abc_spend"' in html
        assert "cumulative share" in html and "segment=abc_spend%3AA" in html
        request.user = ran.users["service_agent"]  # the call centre sees classes too
        assert customer_classes(request, customer)

    def test_no_block_for_a_role_without_classes(self, rf, ran, monkeypatch):
        from clientele.segmentation.views import customer_classes

        customer = ran.shop["a1"]
        monkeypatch.delitem(ROLE_MATRIX[Role.SERVICE_AGENT], "segmentation.currentclass")
        request = rf.get("/")
        request.user = ran.users["service_agent"]
        assert customer_classes(request, customer) is None
        assert (
            render_to_string(
                "segmentation/_customer_classes.html",
                {"customer_classes": None, "object": customer},
            ).strip()
            == ""
        )
