"""The seed's plans for the default ABC definition (SEEDS.md section 3), for the demo.

A: a VIP service team with priority, a monthly visit by the account manager and a monthly
phone call by an executive, volume gifts (>= 5,000 t a Europe trip, >= 2,000 t a phone,
>= 1,000 t a tablet); B: a monthly visit by the account manager to find the key man;
C: low-cost contact only (phone and web), no visits, fee waivers."""

from decimal import Decimal

from django.db import transaction

from clientele.core.models import Role, User
from clientele.segmentation.models import ClassificationDefinition

from .choices import DutyKind, Performer, Period
from .models import ClassPlan, ContactDuty, VolumeGift

ABC_KEY = "abc_spend"


def _executive():
    """The demo's executive: the marketing manager (the demo has no vice-president)."""
    return (
        User.objects.filter(role=Role.MARKETING_MANAGER, is_active=True).order_by("pk").first()
        or User.objects.filter(role=Role.ADMINISTRATOR, is_active=True).order_by("pk").first()
    )


@transaction.atomic
def create_demo_plans(definition_key: str = ABC_KEY, team=None) -> list[ClassPlan]:
    """Create the A, B and C plans of the ABC definition unless they exist; returns the
    plans created (none when the definition is missing or the plans exist)."""
    definition = ClassificationDefinition.objects.filter(key=definition_key).first()
    if definition is None:
        return []
    executive = _executive()
    specs = [
        {
            "class_code": "A",
            "name": "A 类客户服务计划",
            "description": "VIP 服务小组，财务与流程优先；客户经理掌握库存与前景，预测需求；"
            "电话/短信推送市场供应信息。",
            "priority": 100,
            "price_rate": Decimal("95.00"),
            "fee_waivers": ["免运费", "免开票手续费"],
            "duties": [
                {
                    "channel": "visit",
                    "performer": Performer.ACCOUNT_MANAGER,
                    "purpose": "客户经理每月拜访",
                },
                {
                    "channel": "phone",
                    "performer": Performer.USER if executive else Performer.TEAM,
                    "performer_user": executive,
                    "purpose": "副总经理每月电话问候",
                },
            ],
            "gifts": [
                (Decimal("5000"), "t", "欧洲游（约 10,000 元）", Decimal("10000")),
                (Decimal("2000"), "t", "东南亚游（约 5,000 元）或手机", Decimal("5000")),
                (Decimal("1000"), "t", "国内游（约 3,000 元）或平板电脑", Decimal("3000")),
            ],
        },
        {
            "class_code": "B",
            "name": "B 类客户发展计划",
            "description": "公关小组每月拜访重点潜在客户，找到关键人，了解渠道与采购周期，"
            "与竞争对手比较；目标：把 B 类发展为 A 类。",
            "priority": 50,
            "price_rate": Decimal("98.00"),
            "fee_waivers": ["免运费"],
            "duties": [
                {
                    "channel": "visit",
                    "performer": Performer.ACCOUNT_MANAGER,
                    "purpose": "找到关键人（KeyMan）",
                },
            ],
            "gifts": [],
        },
        {
            "class_code": "C",
            "name": "C 类客户维系计划",
            "description": "只用低成本方式联系（电话、网站）；免手续费和供应信息留住客户。",
            "priority": 10,
            "price_rate": None,
            "fee_waivers": ["免开户手续费"],
            "duties": [
                {"kind": DutyKind.FORBIDDEN, "channel": "visit", "purpose": "不上门拜访"},
            ],
            "gifts": [],
        },
    ]
    created = []
    for spec in specs:
        if ClassPlan.objects.filter(definition=definition, class_code=spec["class_code"]).exists():
            continue
        plan = ClassPlan.objects.create(
            definition=definition,
            class_code=spec["class_code"],
            name=spec["name"],
            description=spec["description"],
            priority=spec["priority"],
            price_rate=spec["price_rate"],
            fee_waivers=spec["fee_waivers"],
            team=team,
        )
        ContactDuty.objects.bulk_create(
            [
                ContactDuty(
                    plan=plan,
                    kind=duty.get("kind", DutyKind.REQUIRED),
                    channel=duty["channel"],
                    period=Period.MONTH,
                    min_count=1,
                    performer=duty.get("performer", Performer.ACCOUNT_MANAGER),
                    performer_user=duty.get("performer_user")
                    if duty.get("performer") == Performer.USER
                    else None,
                    purpose=duty["purpose"],
                )
                for duty in spec["duties"]
            ]
        )
        VolumeGift.objects.bulk_create(
            [
                VolumeGift(plan=plan, min_quantity=q, unit=unit, gift=gift, value=value)
                for q, unit, gift, value in spec["gifts"]
            ]
        )
        created.append(plan)
    return created
