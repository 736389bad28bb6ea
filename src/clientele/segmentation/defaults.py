"""The definitions every installation starts with (from the seed documents): ABC by
12-month spend 80/95, the four member tiers, RFM quintiles, lifetime value (BG/NBD +
Gamma-Gamma, weekly, 52 weeks, 1% a month), lifecycle and value x expectation quadrants."""

from . import parameters
from .constants import Kind, Schedule

DEFAULT_DEFINITIONS = [
    {
        "key": "clv",
        "name": "Lifetime value",
        "name_zh": "客户终身价值",
        "kind": Kind.CLV,
        "position": 10,
        "parameters": {"period": "week", "horizon": 52, "discount_rate": 0.01},
        "labels": {
            "high": {"en": "High value", "zh-hans": "高价值"},
            "medium": {"en": "Medium value", "zh-hans": "中价值"},
            "low": {"en": "Low value", "zh-hans": "低价值"},
            "none": {"en": "No purchases", "zh-hans": "无购买"},
        },
    },
    {
        "key": "abc_spend",
        "name": "ABC by 12-month spend",
        "name_zh": "ABC分类（近12个月消费）",
        "kind": Kind.ABC,
        "position": 20,
        "parameters": {"measure": "spend", "window_days": 365, "a_share": 80, "b_share": 95},
        "labels": {
            "A": {"en": "A", "zh-hans": "A类"},
            "B": {"en": "B", "zh-hans": "B类"},
            "C": {"en": "C", "zh-hans": "C类"},
        },
    },
    {
        "key": "member_tiers",
        "name": "Member tiers",
        "name_zh": "会员等级",
        "kind": Kind.TIER,
        "position": 30,
        "parameters": {"tiers": parameters.DEFAULT_TIERS, "downgrade": "never"},
        "labels": {
            "normal": {"en": "Member", "zh-hans": "普通会员"},
            "senior": {"en": "Senior member", "zh-hans": "高级会员"},
            "vip": {"en": "VIP", "zh-hans": "VIP会员"},
            "supreme_vip": {"en": "Supreme VIP", "zh-hans": "至尊VIP"},
        },
    },
    {
        "key": "rfm",
        "name": "RFM",
        "name_zh": "RFM分群",
        "kind": Kind.RFM,
        "position": 40,
        "parameters": {"method": "quintile"},
        "labels": {
            "champions": {"en": "Champions", "zh-hans": "重要价值客户"},
            "loyal": {"en": "Loyal", "zh-hans": "忠诚客户"},
            "potential_loyalists": {"en": "Potential loyalists", "zh-hans": "潜在忠诚客户"},
            "new_customers": {"en": "New customers", "zh-hans": "新客户"},
            "promising": {"en": "Promising", "zh-hans": "有潜力客户"},
            "need_attention": {"en": "Need attention", "zh-hans": "需要关注"},
            "about_to_sleep": {"en": "About to sleep", "zh-hans": "即将沉睡"},
            "at_risk": {"en": "At risk", "zh-hans": "流失风险"},
            "cannot_lose": {"en": "Cannot lose them", "zh-hans": "不能失去"},
            "hibernating": {"en": "Hibernating", "zh-hans": "沉睡客户"},
            "none": {"en": "No purchases", "zh-hans": "无购买"},
        },
    },
    {
        "key": "lifecycle",
        "name": "Lifecycle",
        "name_zh": "生命周期",
        "kind": Kind.LIFECYCLE,
        "position": 50,
        "parameters": {"p_alive_below": 0.2, "p_alive_from": "clv"},
        "labels": {
            "prospect": {"en": "Prospect", "zh-hans": "潜在客户"},
            "new": {"en": "New", "zh-hans": "新客户"},
            "active": {"en": "Active", "zh-hans": "活跃"},
            "at_risk": {"en": "At risk", "zh-hans": "流失预警"},
            "lapsed": {"en": "Lapsed", "zh-hans": "已流失"},
            "reactivated": {"en": "Reactivated", "zh-hans": "已召回"},
        },
    },
    {
        "key": "value_expectation",
        "name": "Value x expectation",
        "name_zh": "价值-期望四象限",
        "kind": Kind.QUADRANT,
        "position": 60,
        "parameters": {"value": {"measure": "clv", "definition": "clv"}},
        "labels": {
            "intimate": {"en": "Intimate", "zh-hans": "亲密客户"},
            "safe": {"en": "Safe", "zh-hans": "安全客户"},
            "dangerous": {"en": "Dangerous", "zh-hans": "危险客户"},
            "stranger": {"en": "Stranger", "zh-hans": "陌生客户"},
        },
    },
]


def default_definitions() -> list[dict]:
    """The default definitions with validated, normalised parameters (no database)."""
    result = []
    for spec in DEFAULT_DEFINITIONS:
        item = dict(spec)
        item["parameters"] = parameters.validate(spec["kind"], spec["parameters"])
        item["schedule"] = Schedule.NIGHTLY_AND_IMPORT
        result.append(item)
    return result


def create_missing(model) -> list:
    """Create each default definition whose key is not in `model`'s table yet; return the
    created rows. Takes the model class so a data migration can pass its historical one."""
    existing = set(model.objects.values_list("key", flat=True))
    taken = set(model.objects.values_list("name", flat=True))
    created = []
    for item in default_definitions():
        if item["key"] in existing or item["name"] in taken:
            continue
        obj = model(**{k: v for k, v in item.items()})
        obj.save()
        created.append(obj)
    return created
