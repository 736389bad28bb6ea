"""An import of orders, customers or feedback queues the classification definitions
scheduled "after each import" once it commits, so a paid order upgrades its customer's
tier the same day; imports that change no value input queue nothing."""

import pytest

from clientele.segmentation.constants import Trigger
from clientele.segmentation.models import ClassificationRun, CurrentClass
from clientele.segmentation.tasks import schedule_after_import

from .conftest import yesterday

pytestmark = pytest.mark.django_db

ORDER_HEADER = [
    "order number",
    "customer code",
    "ordered at",
    "status",
    "sku",
    "quantity",
    "unit price",
]


@pytest.fixture
def classify_after_import(settings):
    settings.CLIENTELE_CLASSIFY_AFTER_IMPORT = True


def test_an_order_import_runs_the_import_definitions_and_upgrades_the_tier(
    classify_after_import, run_import, customers, products, django_capture_on_commit_callbacks
):
    rows = [ORDER_HEADER, ["N-1", "C001", yesterday(), "paid", "SKU1", "250", "10.00"]]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = run_import("orders", rows)
    assert job.status == "succeeded", job.errors
    assert schedule_after_import in callbacks
    runs = ClassificationRun.objects.filter(trigger=Trigger.IMPORT)
    assert runs.filter(definition__key="member_tiers", status="succeeded").exists()
    tier = CurrentClass.objects.get(definition__key="member_tiers", customer=customers[0])
    assert tier.code == "senior"  # 2,500 spent: senior from 2,000


def test_rejected_imports_and_contact_imports_queue_nothing(
    classify_after_import, run_import, customers, products, django_capture_on_commit_callbacks
):
    bad = [ORDER_HEADER, ["N-2", "NO-SUCH", yesterday(), "paid", "SKU1", "1", "10.00"]]
    contacts = [["customer code", "name"], ["C001", "Wang Fang"]]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert run_import("orders", bad).status == "rejected"
        assert run_import("contacts", contacts).status == "succeeded"
    assert callbacks == []
    assert not ClassificationRun.objects.exists()


def test_the_hook_can_be_turned_off(
    settings, run_import, customers, products, django_capture_on_commit_callbacks
):
    settings.CLIENTELE_CLASSIFY_AFTER_IMPORT = False
    rows = [ORDER_HEADER, ["N-3", "C001", yesterday(), "paid", "SKU1", "1", "10.00"]]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert run_import("orders", rows).status == "succeeded"
    assert schedule_after_import not in callbacks
