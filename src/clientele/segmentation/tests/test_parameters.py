"""Definitions are validated per kind: contradictory thresholds (B below A, tiers out of
order, an R-F map with holes) are refused with a message naming the problem, before any
run could produce nonsense."""

import pytest
from django.core.exceptions import ValidationError

from clientele.segmentation import parameters
from clientele.segmentation.constants import Kind
from clientele.segmentation.defaults import DEFAULT_DEFINITIONS
from clientele.segmentation.models import ClassificationDefinition
from clientele.segmentation.services import ensure_default_definitions


def _messages(kind, params):
    with pytest.raises(ValidationError) as caught:
        parameters.validate(kind, params)
    return " ".join(m for msgs in caught.value.message_dict.values() for m in msgs)


def test_defaults_are_valid_and_filled():
    params = parameters.validate(Kind.ABC, {})
    assert params["a_share"] == 80 and params["b_share"] == 95 and params["window_days"] == 365
    tiers = parameters.validate(Kind.TIER, {})["tiers"]
    assert [(t["code"], t["min_spend"], t["rate"]) for t in tiers] == [
        ("normal", 0, 0.95), ("senior", 2000, 0.92), ("vip", 5000, 0.90),
        ("supreme_vip", 20000, 0.88),
    ]  # fmt: skip
    clv = parameters.validate(Kind.CLV, {})
    assert (clv["period"], clv["horizon"], clv["discount_rate"]) == ("week", 52, 0.01)
    for spec in DEFAULT_DEFINITIONS:
        parameters.validate(spec["kind"], spec["parameters"])


def test_b_below_a_is_refused():
    assert "must be above A" in _messages(Kind.ABC, {"a_share": 90, "b_share": 80})
    assert "must be above A" in _messages(Kind.ABC, {"a_share": 80, "b_share": 80})


def test_abc_needs_a_unit_for_quantity_and_a_known_measure():
    assert "unit" in _messages(Kind.ABC, {"measure": "quantity"})
    assert "measure must be one of" in _messages(Kind.ABC, {"measure": "weight"})
    assert parameters.validate(Kind.ABC, {"measure": "quantity", "unit": "t"})["unit"] == "t"


def test_tiers_out_of_order_are_refused():
    tiers = [
        {"code": "normal", "min_spend": 0, "rate": 0.95},
        {"code": "vip", "min_spend": 5000, "rate": 0.9},
        {"code": "senior", "min_spend": 2000, "rate": 0.92},
    ]
    assert "out of order" in _messages(Kind.TIER, {"tiers": tiers})


def test_a_higher_tier_with_a_worse_rate_is_refused():
    tiers = [
        {"code": "normal", "min_spend": 0, "rate": 0.9},
        {"code": "vip", "min_spend": 5000, "rate": 0.95},
    ]
    assert "worse than the lower tier" in _messages(Kind.TIER, {"tiers": tiers})


def test_tiers_must_start_at_zero_and_have_unique_codes():
    assert "must start at 0" in _messages(
        Kind.TIER, {"tiers": [{"code": "a", "min_spend": 10, "rate": 1}]}
    )
    tiers = [{"code": "a", "min_spend": 0, "rate": 1}, {"code": "a", "min_spend": 5, "rate": 1}]
    assert "used twice" in _messages(Kind.TIER, {"tiers": tiers})


def test_rfm_map_must_cover_each_cell_once():
    segments = [dict(s) for s in parameters.DEFAULT_RFM_SEGMENTS]
    hole = [s for s in segments if s["code"] != "promising"]
    assert "R4 F1" in _messages(Kind.RFM, {"segments": hole})
    overlap = [*segments, {"code": "extra", "r": [5, 5], "f": [5, 5]}]
    assert "R5 F5 is in both champions and extra" in _messages(Kind.RFM, {"segments": overlap})


def test_rfm_cutoffs_must_increase():
    cut = {"recency_days": [30, 20, 180, 365], "frequency": [2, 3, 5, 8], "monetary": [1, 2, 3, 4]}
    assert "increase strictly" in _messages(Kind.RFM, {"method": "cutoffs", "cutoffs": cut})


def test_lifecycle_contradictions_are_refused():
    assert "shorter than lapsed_days" in _messages(
        Kind.LIFECYCLE, {"new_days": 400, "lapsed_days": 365}
    )
    assert "go together" in _messages(Kind.LIFECYCLE, {"p_alive_below": 0.2})


def test_clv_bands_and_unknown_parameters():
    assert "bands" in _messages(Kind.CLV, {"bands": [50, 20]})
    assert "Unknown parameters: colour" in _messages(Kind.CLV, {"colour": "red"})


@pytest.mark.django_db
def test_rule_and_cluster_parameters_are_validated():
    assert "needs an expression" in _messages(Kind.RULE, {})
    assert "all[0] spend" in _messages(
        Kind.RULE, {"expression": {"all": [{"field": "spend", "op": ">=", "value": "x"}]}}
    )
    assert "k (number of clusters) must be at most 12" in _messages(Kind.CLUSTER, {"k": 13})
    assert "at least 2" in _messages(Kind.CLUSTER, {"k": 1})
    assert "rfm_from" in _messages(Kind.CLUSTER, {"rfm_from": None})
    assert parameters.validate(Kind.CLUSTER, {"k": 5}) == {
        "k": 5,
        "rfm_from": "rfm",
        "clv_from": "clv",
    }


@pytest.mark.django_db
def test_model_save_refuses_bad_parameters_and_labels():
    with pytest.raises(ValidationError):
        ClassificationDefinition.objects.create(
            key="bad", name="Bad", kind=Kind.ABC, parameters={"a_share": 96}
        )
    with pytest.raises(ValidationError, match="no class Z"):
        ClassificationDefinition.objects.create(
            key="bad2", name="Bad 2", kind=Kind.ABC, labels={"Z": {"en": "Zed"}}
        )


@pytest.mark.django_db
def test_references_to_lifetime_value_are_checked():
    definition = ClassificationDefinition(
        key="life2", name="Life 2", kind=Kind.LIFECYCLE,
        parameters={"p_alive_below": 0.3, "p_alive_from": "nope"},
    )  # fmt: skip
    with pytest.raises(ValidationError, match="no lifetime-value definition nope"):
        definition.full_clean()


@pytest.mark.django_db
def test_labels_in_both_languages():
    definition = ClassificationDefinition.objects.get(key="member_tiers")
    assert definition.label("vip", "en") == "VIP"
    assert definition.label("supreme_vip", "zh-hans") == "至尊VIP"
    assert definition.display_name("zh-hans") == "会员等级"


@pytest.mark.django_db
def test_default_definitions_exist_once():
    keys = set(ClassificationDefinition.objects.values_list("key", flat=True))
    assert {"clv", "abc_spend", "member_tiers", "rfm", "lifecycle", "value_expectation"} <= keys
    assert ensure_default_definitions() == []
    ClassificationDefinition.objects.filter(key="rfm").delete()
    assert [d.key for d in ensure_default_definitions()] == ["rfm"]
