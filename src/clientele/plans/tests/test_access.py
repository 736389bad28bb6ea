"""Every page and endpoint of the plans for every role, generated from declarations (see
core.tests.declarative): marketing managers run plans; account managers read plans and
see and change their own and their team's duty tasks (another team's: 404 and absent);
service agents read; analysts read and export."""

import datetime as dt
import itertools

import pytest

from clientele.core.tests.declarative import ModelApiTests, ModelViewTests
from clientele.plans.choices import Performer, Period
from clientele.plans.models import ClassPlan, ContactDuty, DutyTask, VolumeGift
from clientele.segmentation.models import ClassificationDefinition

pytestmark = pytest.mark.urls("clientele.plans.tests.urls")

PLANS = {
    "administrator": "vacdx",
    "marketing_manager": "vacdx",
    "account_manager": "v",
    "service_agent": "v",
    "analyst": "vx",
}
DUTY_TASKS = {
    "administrator": "vcx",
    "marketing_manager": "vcx",
    "account_manager": "vc",
    "service_agent": "v",
    "analyst": "vx",
}

_seq = itertools.count(1)


def _plan(code=None):
    definition = ClassificationDefinition.objects.get(key="abc_spend")
    code = code or ("A", "B", "C")[next(_seq) % 3]
    plan = ClassPlan.objects.filter(definition=definition, class_code=code).first()
    if plan is not None:
        return plan
    return ClassPlan.objects.create(definition=definition, class_code=code, name=f"Plan {code}")


def _existing_task(world, side):
    """One task per side per test (the world is made anew for each test)."""
    if not hasattr(world, "duty_task_a"):
        world.duty_task_a, world.duty_task_b = _task(world, "a"), _task(world, "b")
    return world.duty_task_a if side == "a" else world.duty_task_b


def _task(world, side):
    plan = _plan("A")
    duty = ContactDuty.objects.create(plan=plan, channel="visit", period=Period.MONTH)
    customer = world.customer_a if side == "a" else world.customer_b
    owner = world.account_manager if side == "a" else world.account_manager_b
    start = dt.date(2026, 3, 1) + dt.timedelta(days=next(_seq))
    return DutyTask.objects.create(
        plan=plan,
        duty=duty,
        customer=customer,
        channel="visit",
        period_start=start,
        due_on=start,
        starts_at=dt.datetime(2026, 2, 28, 16, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 3, 31, 16, tzinfo=dt.UTC),
        assignee=owner,
        team=customer.team,
        notes=f"task {side}",
    )


class TestClassPlanViews(ModelViewTests):
    model = ClassPlan
    grants = PLANS

    def make(self, world, side="a"):
        # Plans are not scoped; side "b" is simply another class.
        return _plan("A" if side == "a" else "B")

    def form_data(self, world):
        data = {
            "definition": ClassificationDefinition.objects.get(key="abc_spend").pk,
            "class_code": "C",
            "name": "C plan",
            "priority": "10",
            "fee_waivers": "account fee\nfreight",
            "active": "on",
        }
        return data | _formsets(
            duties=[
                {
                    "kind": "forbidden",
                    "channel": "visit",
                    "period": "month",
                    "min_count": "1",
                    "performer": "account_manager",
                }
            ],
            gifts=[{"min_quantity": "1000", "unit": "t", "gift": "tablet"}],
        )

    def edit_data(self, world, obj):
        return {
            "definition": obj.definition_id,
            "class_code": obj.class_code,
            "name": "Renamed plan",
            "priority": "5",
            "active": "on",
        } | _formsets(duties=[], gifts=[])

    def edited(self, obj):
        return obj.name == "Renamed plan"

    def export_text(self, obj):
        return obj.name

    def search_text(self, obj):
        return obj.name


def _formsets(duties, gifts):
    data = {}
    for prefix, rows in (("duties", duties), ("gifts", gifts)):
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for i, row in enumerate(rows):
            data |= {f"{prefix}-{i}-{key}": value for key, value in row.items()}
    return data


class TestDutyTaskViews(ModelViewTests):
    model = DutyTask
    grants = DUTY_TASKS
    actions = ("list", "detail", "edit")
    scoped = True
    test_add = None
    test_delete = None

    def make(self, world, side="a"):
        return _task(world, side)

    def existing(self, world, side="a"):
        return _existing_task(world, side)

    def edit_data(self, world, obj):
        return {"status": "done", "notes": "visited, met the key man"}

    def edited(self, obj):
        return obj.status == "done" and obj.done_at is not None

    def form_data(self, world):
        return {}

    def export_text(self, obj):
        return str(obj.pk)

    def search_text(self, obj):
        return obj.customer.code


class TestClassPlanApi(ModelApiTests):
    endpoint = "/api/class-plans/"
    model = ClassPlan
    grants = PLANS
    patch = {"name": "Patched plan"}

    def make(self, world, side="a"):
        return _plan("A" if side == "a" else "B")

    def payload(self, world):
        return {
            "definition": "abc_spend",
            "class_code": "C",
            "name": "C plan",
            "fee_waivers": ["x"],
        }

    def patched(self, obj):
        return obj.name == "Patched plan"


class TestContactDutyApi(ModelApiTests):
    endpoint = "/api/contact-duties/"
    model = ContactDuty
    grants = PLANS
    patch = {"min_count": 3}

    def make(self, world, side="a"):
        return ContactDuty.objects.create(plan=_plan("A"), channel="phone")

    def payload(self, world):
        return {
            "plan": _plan("A").pk,
            "channel": "phone",
            "performer": Performer.USER,
            "performer_user": world.marketing_manager.pk,
        }

    def patched(self, obj):
        return obj.min_count == 3


class TestVolumeGiftApi(ModelApiTests):
    endpoint = "/api/volume-gifts/"
    model = VolumeGift
    grants = PLANS
    patch = {"gift": "a phone"}

    def make(self, world, side="a"):
        return VolumeGift.objects.create(plan=_plan("A"), min_quantity=2000, unit="t", gift="trip")

    def payload(self, world):
        return {"plan": _plan("A").pk, "min_quantity": "5000", "unit": "t", "gift": "Europe trip"}

    def patched(self, obj):
        return obj.gift == "a phone"


class TestDutyTaskApi(ModelApiTests):
    endpoint = "/api/duty-tasks/"
    model = DutyTask
    grants = DUTY_TASKS
    scoped = True
    patch = {"status": "done", "notes": "called"}
    test_create = None  # tasks are created by the duty run only
    test_delete = None

    def make(self, world, side="a"):
        return _task(world, side)

    def existing(self, world, side="a"):
        return _existing_task(world, side)

    def payload(self, world):
        return {}

    def patched(self, obj):
        return obj.status == "done" and obj.notes == "called" and obj.done_at is not None
