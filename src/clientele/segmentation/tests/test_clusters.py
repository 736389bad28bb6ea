"""Clusters (`segmentation.clusters` and the engine's cluster kind) and rule segments run
by the engine. Guards against: k-means that does not find clusters planted far apart, a
fit that changes from run to run on the same data (labels must be stable: "Cluster 1" is
the highest spend), customers without a purchase forced into a cluster, a rule run that
loops over customers in Python or disagrees with the live count."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientele.sales.models import Order
from clientele.segmentation import clusters, rules
from clientele.segmentation.constants import RunStatus
from clientele.segmentation.models import (
    ClassificationDefinition,
    ClassTransition,
    CurrentClass,
    CustomerClass,
)
from clientele.segmentation.services import explain, run_definition, run_definitions

from .fixtures import AS_OF, local, make_customers


def planted(seed=1, sizes=(300, 200, 100)):
    """Three groups far apart in (recency, frequency, monetary, clv): loyal big spenders,
    regulars, lapsed small buyers (group 0 spends most)."""
    rng = np.random.default_rng(seed)
    centres = [(10, 40, 20000, 30000), (60, 8, 2000, 2500), (400, 1, 80, 10)]
    rows, truth = [], []
    for group, (size, centre) in enumerate(zip(sizes, centres, strict=True)):
        spread = np.array(centre, dtype=float) * 0.1 + 1
        rows.append(np.abs(rng.normal(centre, spread, size=(size, 4))))
        truth += [group] * size
    order = rng.permutation(sum(sizes))
    return np.vstack(rows)[order].astype(np.float32), np.array(truth)[order]


class TestFit:
    def test_recovers_planted_clusters_ordered_by_spend(self):
        raw, truth = planted()
        fit = clusters.fit(raw, 3)
        # Each planted group is exactly one cluster; the biggest spenders are Cluster 1.
        for group, label in ((0, 1), (1, 2), (2, 3)):
            assert set(fit.labels[truth == group].tolist()) == {label}
        assert [c["code"] for c in fit.centres] == ["c1", "c2", "c3"]
        assert [c["size"] for c in fit.centres] == [300, 200, 100]
        assert fit.centres[0]["monetary"] > fit.centres[1]["monetary"] > fit.centres[2]["monetary"]
        assert [c["value"] for c in fit.centres] == ["high", "low", "low"]
        assert abs(fit.centres[2]["recency_days"] - 400) < 20

    def test_large_data_fits_on_a_sample_then_assigns_everyone(self, monkeypatch):
        monkeypatch.setattr(clusters, "FIT_SAMPLE", 150)
        monkeypatch.setattr(clusters, "CHUNK", 70)  # several chunks per pass
        raw, truth = planted(seed=3)
        fit = clusters.fit(raw, 3)
        for group, label in ((0, 1), (1, 2), (2, 3)):
            assert set(fit.labels[truth == group].tolist()) == {label}
        assert sum(c["size"] for c in fit.centres) == 600

    def test_deterministic(self):
        raw, _truth = planted(seed=7)
        first, second = clusters.fit(raw, 5), clusters.fit(raw.copy(), 5)
        assert np.array_equal(first.labels, second.labels)
        assert first.centres == second.centres

    def test_fewer_distinct_customers_than_k(self):
        raw = np.array([[5, 2, 100, 50]] * 4 + [[300, 1, 10, 1]] * 3, dtype=np.float32)
        fit = clusters.fit(raw, 6)
        assert [c["code"] for c in fit.centres] == ["c1", "c2"]
        assert fit.labels.tolist() == [1, 1, 1, 1, 2, 2, 2]
        assert clusters.fit(np.empty((0, 4), dtype=np.float32), 3).centres == []

    def test_standardise_is_float32_z_scores(self):
        raw, _truth = planted()
        x = clusters.standardise(raw)
        assert x.dtype == np.float32
        assert np.allclose(x.mean(axis=0), 0, atol=1e-4) and np.allclose(
            x.std(axis=0), 1, atol=1e-3
        )

    def test_description(self):
        centre = {"recency_days": 12.4, "frequency": 8.2, "monetary": 3400.2, "clv": None,
                  "value": "high"}  # fmt: skip
        assert clusters.describe(centre) == (
            "Bought 12 days ago on average, 8 purchases, spends 3,400; high value"
        )
        centre.update(clv=5120.0, value="low", monetary=12.0)
        assert clusters.describe(centre) == (
            "Bought 12 days ago on average, 8 purchases, spends 12, lifetime value 5,120; low value"
        )


@pytest.mark.django_db
class TestParameters:
    def test_k_range_and_sources(self):
        make = ClassificationDefinition(key="seg_k", name="K", kind="cluster")
        for bad in (1, 13, 2.5, "x"):
            make.parameters = {"k": bad}
            with pytest.raises(ValidationError):
                make.full_clean()
        make.parameters = {"k": 3, "rfm_from": "nope"}
        with pytest.raises(ValidationError) as caught:
            make.full_clean()
        assert "nope" in str(caught.value)
        make.parameters = {"k": 3}
        make.full_clean()
        assert make.parameters == {"k": 3, "rfm_from": "rfm", "clv_from": "clv"}
        assert make.class_codes() == ["c1", "c2", "c3", "none"]
        assert make.label("c2") == "Cluster 2"


@pytest.mark.django_db
class TestRuns:
    def test_cluster_run(self):
        customers = make_customers()
        rfm = ClassificationDefinition.objects.get(key="rfm")
        clv = ClassificationDefinition.objects.get(key="clv")
        seg = ClassificationDefinition.objects.create(
            key="clusters", name="Clusters", kind="cluster", parameters={"k": 2}
        )
        runs = run_definitions([seg, rfm, clv], as_of=AS_OF)  # ordered: clv, rfm, clusters
        assert [r.definition.key for r in runs] == ["clv", "rfm", "clusters"]
        run = runs[-1]
        assert run.status == RunStatus.SUCCEEDED, run.error
        codes = dict(
            CurrentClass.objects.filter(definition=seg).values_list("customer__code", "code")
        )
        # c6 (only cancelled/returned orders) and c7 (none) bought nothing.
        assert codes["C6"] == codes["C7"] == "none"
        assert {codes[c] for c in ("C1", "C2", "C3", "C4", "C5", "C8")} == {"c1", "c2"}
        centres = run.outputs["centres"]
        assert [c["code"] for c in centres] == ["c1", "c2"]
        assert centres[0]["monetary"] >= centres[1]["monetary"]
        assert sum(c["size"] for c in centres) == 6 == run.outputs["customers"]
        assert run.counts["none"] == 2
        row = CustomerClass.objects.get(run=run, customer=customers["c1"])
        assert row.monetary == CustomerClass.objects.get(run=rfm.last_run,
                                                         customer=customers["c1"]).monetary  # fmt: skip
        assert codes["C1"] == "c1"  # the biggest spender is in the top cluster
        text = next(e["text"] for e in explain(customers["c1"]) if e["key"] == "clusters")
        assert text.startswith("Cluster 1: Bought ")
        # same data, same assignment
        again = run_definition(seg, as_of=AS_OF)
        assert again.outputs["centres"] == centres and again.transitions == 0

    def test_cluster_needs_rfm_results(self):
        make_customers()
        seg = ClassificationDefinition.objects.create(
            key="clusters", name="Clusters", kind="cluster", parameters={"k": 3, "clv_from": None}
        )
        run = run_definition(seg, as_of=AS_OF)
        assert run.status == RunStatus.FAILED and "rfm" in run.error

    def test_rule_run_in_out_and_transitions(self):
        customers = make_customers()
        expression = {"field": "spend", "op": ">=", "value": 1000, "window_days": 365}
        seg = ClassificationDefinition.objects.create(
            key="big", name="Big spenders", kind="rule", parameters={"expression": expression}
        )
        with CaptureQueriesContext(connection) as queries:
            run = run_definition(seg, as_of=AS_OF)
        assert run.status == RunStatus.SUCCEEDED, run.error
        # set-based: the number of statements does not depend on the customers
        assert len(queries) < 60
        codes = dict(CurrentClass.objects.filter(definition=seg).values_list("customer__code",
                                                                               "code"))  # fmt: skip
        # 1 July 2024 to 30 June 2025: c1 5,000, c2 3,000, c3 1,000 (15 August 2024),
        # c4 500, c5 500; c2's cancelled order and c4's order of 1 July do not count
        assert {c for c, code in codes.items() if code == "in"} == {"C1", "C2", "C3"}
        assert len(codes) == 8 and run.counts == {"in": 3, "out": 5}
        assert rules.count(expression, at=AS_OF) == 3
        assert seg.label("in") == "In segment" and seg.label("out") == "Not in segment"
        text = next(e["text"] for e in explain(customers["c1"]) if e["key"] == "big")
        assert text == "In segment: Spend in 365 days ≥ 1,000 (spend in 365 days: 5,000)"
        # c5 spends enough later: the next run moves it in (a transition event)
        Order.objects.create(customer=customers["c5"], number="X9",
                             ordered_at=local("2025-07-05 10:00"), total=Decimal("800"),
                             status="paid")  # fmt: skip
        second = run_definition(seg, as_of=dt.date(2025, 7, 10))
        moved = ClassTransition.objects.get(run=second)
        assert (moved.customer.code, moved.from_code, moved.to_code) == ("C5", "out", "in")

    def test_rule_run_refuses_a_broken_expression(self):
        from clientele.customers.models import Tag

        make_customers()
        bad = {"all": [{"field": "tag", "op": "has", "value": "vip"}]}
        with pytest.raises(ValidationError) as caught:  # no such tag: refused on save
            ClassificationDefinition.objects.create(key="bad", name="Bad", kind="rule",
                                                    parameters={"expression": bad})  # fmt: skip
        assert "all[0] tag" in str(caught.value)
        Tag.objects.create(name="vip")
        ClassificationDefinition.objects.create(key="vip", name="VIP", kind="rule",
                                                parameters={"expression": bad})  # fmt: skip
        outer = {"any": [{"field": "city", "op": "=", "value": "x"},
                         {"field": "segment", "op": "in", "value": "vip"}]}  # fmt: skip
        seg = ClassificationDefinition.objects.create(key="outer", name="Outer", kind="rule",
                                                      parameters={"expression": outer})  # fmt: skip
        ClassificationDefinition.objects.filter(key="vip").delete()  # gone after saving
        run = run_definition(seg, as_of=AS_OF)
        assert run.status == RunStatus.FAILED
        assert "any[1] segment: There is no rule segment vip" in run.error
        assert not CustomerClass.objects.filter(run=run).exists()


@pytest.mark.django_db
@pytest.mark.urls("clientele.segmentation.tests.urls_for_tests")
class TestPages:
    """The dashboard and definition pages show each rule segment and cluster with its
    count and a link to exactly its customers."""

    def test_dashboard_definition_page_and_drill_down(self, client_for, users):
        from django.urls import reverse

        make_customers()
        expression = {"field": "spend", "op": ">=", "value": 1000, "window_days": 365}
        big = ClassificationDefinition.objects.create(
            key="big", name="Big spenders", kind="rule", parameters={"expression": expression}
        )
        seg = ClassificationDefinition.objects.create(
            key="clusters", name="Clusters", kind="cluster", parameters={"k": 2}
        )
        keys = ["rfm", "clv"]
        runs = run_definitions(
            [big, seg, *ClassificationDefinition.objects.filter(key__in=keys)], as_of=AS_OF
        )
        assert all(r.status == RunStatus.SUCCEEDED for r in runs)
        client = client_for("marketing_manager")
        text = client.get(reverse("segmentation:dashboard")).content.decode()
        assert "Rule: Spend in 365 days ≥ 1,000" in text
        assert 'data-testid="clusters-clusters"' in text
        assert "Bought " in text and "purchases, spends" in text
        assert "segment=clusters%3Ac1" in text and "segment=big%3Ain" in text
        listed = client.get(reverse("customers:customer_list") + "?segment=big%3Ain")
        body = listed.content.decode()
        assert listed.status_code == 200
        assert all(f"Customer {c}<" in body or f"Customer {c} " in body
                   or f">Customer {c}" in body for c in ("c1", "c2", "c3"))  # fmt: skip
        assert "Customer c5" not in body and "Customer c7" not in body
        detail = client.get(reverse("segmentation:classificationdefinition_detail",
                                    args=[seg.pk])).content.decode()  # fmt: skip
        assert "Cluster 1" in detail and "Bought " in detail
        detail = client.get(reverse("segmentation:classificationdefinition_detail",
                                    args=[big.pk])).content.decode()  # fmt: skip
        assert 'data-testid="rule-text"' in detail and "In segment" in detail
