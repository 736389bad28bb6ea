"""Classification API: definitions (read for every role with segment access; create and
update for managers, the kind's validation errors per field), POST .../run/, the run
history and customers' classes filtered by definition, run and class. Guards against: a
contradictory definition saved through the API, an analyst starting runs, an account
manager reading another team's customers' classes."""

import pytest

from clientele.segmentation.models import ClassificationDefinition, ClassificationRun

from . import test_pages

# The page tests' fixtures: the proposed role entries and customer filters, and the data.
segment_roles = test_pages.segment_roles
segment_filters = test_pages.segment_filters
shop = test_pages.shop
ran = test_pages.ran

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("clientele.segmentation.tests.urls_for_tests"),
]

DEFINITIONS = "/api/segment-definitions/"
RUNS = "/api/segment-runs/"
CLASSES = "/api/customer-classes/"


def _definition(key):
    return ClassificationDefinition.objects.get(key=key)


class TestDefinitions:
    def test_read_by_role(self, api_client_for, world):
        for role in ("administrator", "marketing_manager", "analyst", "account_manager"):
            response = api_client_for(role).get(DEFINITIONS)
            assert response.status_code == 200, role
            keys = {item["key"] for item in response.json()["results"]}
            assert {"abc_spend", "member_tiers", "rfm", "clv"} <= keys
        detail = api_client_for("analyst").get(f"{DEFINITIONS}{_definition('abc_spend').pk}/")
        body = detail.json()
        assert body["class_codes"] == ["A", "B", "C"] and body["parameters"]["a_share"] == 80
        assert api_client_for("service_agent").get(DEFINITIONS).status_code == 403

    def test_managers_create_with_defaults_filled(self, api_client_for, world):
        payload = {
            "key": "abc_tons",
            "name": "ABC by tons",
            "kind": "abc",
            "parameters": {"measure": "quantity", "unit": "t"},
        }
        response = api_client_for("marketing_manager").post(DEFINITIONS, payload, format="json")
        assert response.status_code == 201, response.json()
        created = _definition("abc_tons")
        assert created.parameters["a_share"] == 80 and created.parameters["unit"] == "t"
        assert response.json()["class_codes"] == ["A", "B", "C"]

    def test_validation_errors_name_the_field(self, api_client_for, world):
        client = api_client_for("marketing_manager")
        payload = {"key": "abc_bad", "name": "Bad", "kind": "abc",
                   "parameters": {"a_share": 90, "b_share": 80}}  # fmt: skip
        response = client.post(DEFINITIONS, payload, format="json")
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert any("must be above A" in message for message in errors["parameters"])
        payload = {"key": "abc_q", "name": "Q", "kind": "abc", "parameters": {"measure": "quantity"},
                   "labels": {"Z": {"en": "Zed"}}}  # fmt: skip
        errors = client.post(DEFINITIONS, payload, format="json").json()["errors"]
        assert "parameters" in errors or "labels" in errors
        rule = {"key": "r", "name": "R", "kind": "rule", "parameters": {}}
        assert "parameters" in client.post(DEFINITIONS, rule, format="json").json()["errors"]
        assert not ClassificationDefinition.objects.filter(key__in=["abc_bad", "abc_q"]).exists()

    def test_update_refuses_tiers_out_of_order_and_a_new_kind(self, api_client_for, world):
        tiers = _definition("member_tiers")
        client = api_client_for("marketing_manager")
        url = f"{DEFINITIONS}{tiers.pk}/"
        bad = {"parameters": {"tiers": [
            {"code": "normal", "min_spend": 0, "rate": 0.95},
            {"code": "vip", "min_spend": 5000, "rate": 0.90},
            {"code": "senior", "min_spend": 2000, "rate": 0.92},
        ]}}  # fmt: skip
        response = client.patch(url, bad, format="json")
        assert response.status_code == 400
        assert "Tiers are out of order" in " ".join(response.json()["errors"]["parameters"])
        response = client.patch(url, {"kind": "abc"}, format="json")
        assert response.status_code == 400 and "kind" in response.json()["errors"]
        response = client.patch(url, {"position": 31, "name_zh": "会员"}, format="json")
        assert response.status_code == 200
        tiers.refresh_from_db()
        assert (tiers.position, tiers.name_zh) == (31, "会员")

    def test_analysts_and_account_managers_cannot_write(self, api_client_for, world):
        payload = {"key": "x", "name": "X", "kind": "abc"}
        tiers = _definition("member_tiers")
        for role in ("analyst", "account_manager"):
            client = api_client_for(role)
            assert client.post(DEFINITIONS, payload, format="json").status_code == 403
            url = f"{DEFINITIONS}{tiers.pk}/"
            assert client.patch(url, {"position": 1}, format="json").status_code == 403
            assert client.post(f"{url}run/").status_code == 403
        assert not ClassificationRun.objects.exists()


class TestRunAction:
    def test_run_now(self, api_client_for, shop):
        tiers = _definition("member_tiers")
        response = api_client_for("marketing_manager").post(f"{DEFINITIONS}{tiers.pk}/run/")
        assert response.status_code == 201, response.content
        (run,) = response.json()
        assert run["definition"] == "member_tiers" and run["status"] == "succeeded"
        assert run["started_by"] == "marketing_manager" and run["customers"] == 13
        assert run["duration"] > 0

    def test_inactive_definition(self, api_client_for, world):
        rfm = _definition("rfm")
        rfm.active = False
        rfm.save()
        response = api_client_for("administrator").post(f"{DEFINITIONS}{rfm.pk}/run/")
        assert response.status_code == 400


class TestRunsAndClasses:
    def test_run_history_filters(self, api_client_for, ran):
        client = api_client_for("analyst")
        body = client.get(RUNS, {"definition": "rfm"}).json()
        assert [item["definition"] for item in body["results"]] == ["rfm"]
        assert body["results"][0]["counts"]
        assert client.get(RUNS, {"status": "failed"}).json()["count"] == 0
        assert client.post(RUNS, {}).status_code in (403, 405)

    def test_customer_classes_filter_by_definition_run_and_class(self, api_client_for, ran):
        client = api_client_for("analyst")
        run = ran.runs["abc_spend"]
        body = client.get(CLASSES, {"definition": "abc_spend", "code": "A"}).json()
        codes = {item["customer"] for item in body["results"]}
        assert "S-A1" in codes and all(item["code"] == "A" for item in body["results"])
        assert {item["run"] for item in body["results"]} == {run.pk}
        by_run = client.get(CLASSES, {"run": run.pk, "page_size": 100}).json()
        assert by_run["count"] == run.customers
        one = client.get(CLASSES, {"definition": "rfm", "customer": "S-B1"}).json()["results"]
        assert len(one) == 1 and one[0]["score_r"] is not None
        # Without ?run= only the latest run of each definition: one row per definition.
        latest = client.get(CLASSES, {"customer": "S-B1"}).json()
        assert latest["count"] == len(ran.runs)

    def test_history_reads_older_runs(self, api_client_for, ran):
        from clientele.segmentation.services import run_definitions

        tiers = _definition("member_tiers")
        first = ran.runs["member_tiers"]
        (second,) = run_definitions([tiers])
        client = api_client_for("administrator")
        now = client.get(CLASSES, {"definition": "member_tiers"}).json()
        assert {item["run"] for item in now["results"]} == {second.pk}
        then = client.get(CLASSES, {"run": first.pk}).json()
        assert {item["run"] for item in then["results"]} == {first.pk}

    def test_account_managers_see_their_customers_only(self, api_client_for, ran):
        body = (
            api_client_for("account_manager")
            .get(CLASSES, {"definition": "member_tiers", "page_size": 100})
            .json()
        )
        customers = {item["customer"] for item in body["results"]}
        assert customers == {"A-001", "A-002", "S-A1", "S-A2", "S-A3", "S-A4", "S-A5"}
        other = api_client_for("account_manager").get(
            CLASSES, {"customer": "S-B1", "definition": "rfm"}
        )
        assert other.json()["count"] == 0
        assert api_client_for("service_agent").get(CLASSES).status_code == 403
