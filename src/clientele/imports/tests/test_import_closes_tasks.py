"""Imported orders and visits close campaign tasks as orders and visits entered by hand
do (the closed loop), but only those dated after the customer became a target: an old
order in a history import must not end a campaign that started later."""

import datetime as dt

import pytest
from django.utils import timezone

from clientele.campaigns.models import Campaign, CampaignTarget, Task

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
def tasks(customers):
    """An active campaign stopping on an order and one stopping on a visit, each with an
    open task for C001 and C002, targeted two days ago."""
    built = timezone.now() - dt.timedelta(days=2)
    made = {}
    for stop in ("order", "visit"):
        campaign = Campaign.objects.create(
            name=f"Stops on {stop}", status="active", stop_condition=stop
        )
        for customer in customers[:2]:
            target = CampaignTarget.objects.create(
                campaign=campaign, customer=customer, built_at=built
            )
            made[(stop, customer.code)] = Task.objects.create(
                campaign=campaign, customer=customer, target=target
            )
    return made


def _status(task):
    task.refresh_from_db()
    return task.status


def test_an_imported_order_after_targeting_closes_the_order_task(
    run_import, tasks, products, django_capture_on_commit_callbacks
):
    old = (timezone.localtime() - dt.timedelta(days=5)).strftime("%Y-%m-%d %H:%M")
    rows = [
        ORDER_HEADER,
        ["N-1", "C001", yesterday(), "paid", "SKU1", "1", "10.00"],
        ["N-2", "C002", old, "paid", "SKU1", "1", "10.00"],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert run_import("orders", rows).status == "succeeded"
    assert _status(tasks[("order", "C001")]) == "done"
    assert tasks[("order", "C001")].result == "converted"
    assert _status(tasks[("order", "C002")]) == "open"  # ordered before the campaign
    assert _status(tasks[("visit", "C001")]) == "open"  # that campaign stops on a visit


def test_an_imported_visit_closes_the_visit_task(
    run_import, tasks, django_capture_on_commit_callbacks
):
    rows = [
        ["customer code", "channel", "occurred at", "subject"],
        ["C002", "visit", yesterday(), "Came to the store"],
        ["C001", "phone", yesterday(), "Called"],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        job = run_import("interactions", rows)
    assert job.status == "succeeded", job.errors
    assert _status(tasks[("visit", "C002")]) == "done"
    assert _status(tasks[("visit", "C001")]) == "open"
    assert _status(tasks[("order", "C002")]) == "open"
