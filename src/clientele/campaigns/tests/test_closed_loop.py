"""The closed loop: an acceptance in any channel closes the customer's task everywhere —
pending messages for it are cancelled, it leaves the call list, no later wave reaches
the customer — and records an Interaction; an order or a visit does the same for
campaigns that stop on them; call results that do not close the task are recorded too."""

import datetime
from decimal import Decimal

import pytest

from clientele.campaigns import building, services
from clientele.campaigns.models import CampaignTarget, OfferAcceptance, Task, Wave
from clientele.channels.models import OutboxMessage
from clientele.conftest import make_order
from clientele.customers.models import Customer, Interaction

from .conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(campaign, policy, world):
    """The retention campaign built on the world, its first wave queued (not yet sent)."""
    campaign.holdout_rate = Decimal("0")
    campaign.save()
    Customer.objects.update(phone="+8613900000000")
    Wave.objects.create(
        campaign=campaign,
        number=2,
        day_offset=0,
        channel="call_list",
        template="Call {name} about {offer}",
    )
    building.build(campaign, at=NOW)
    building.run_due_waves(campaign, now=NOW)
    return campaign


def _task(campaign, customer):
    return Task.objects.get(campaign=campaign, customer=customer)


def test_acceptance_closes_the_task_everywhere(running, offer, world):
    task = _task(running, world.customer_a)
    pending = OutboxMessage.objects.filter(task_id=task.pk, status="pending")
    assert pending.count() == 2  # the SMS and the call-list item
    acceptance = services.accept_offer(world.customer_a, offer, "store", world.service_agent)
    task.refresh_from_db()
    assert task.status == "done" and task.result == "accepted"
    assert task.closed_via == "store" and task.offer == offer
    assert acceptance.task is None and acceptance.channel == "store"
    assert not pending.exists()
    assert OutboxMessage.objects.filter(task_id=task.pk, status="cancelled").count() == 2
    # Other customers' messages are untouched.
    other = _task(running, world.customer_b)
    assert OutboxMessage.objects.filter(task_id=other.pk, status="pending").count() == 2
    interaction = Interaction.objects.filter(customer=world.customer_a).first()
    assert interaction.channel == "store" and interaction.intent == "accepted"
    assert interaction.user == world.service_agent
    target = CampaignTarget.objects.get(pk=task.target_id)
    assert target.converted_at and target.responded_at
    # A later wave does not reach the customer again.
    Wave.objects.create(campaign=running, number=3, day_offset=1, channel="sms", template="x")
    building.run_due_waves(running, now=NOW + datetime.timedelta(days=2))
    assert not OutboxMessage.objects.filter(task_id=task.pk, wave=3).exists()
    assert OutboxMessage.objects.filter(task_id=other.pk, wave=3).exists()


def test_close_everywhere_only_wins_once(running, world):
    task = _task(running, world.customer_a)
    assert task.close_everywhere("declined", channel="hotline", intent="declined")
    again = Task.objects.get(pk=task.pk)
    assert not again.close_everywhere("accepted", channel="store")
    again.refresh_from_db()
    assert again.result == "declined" and again.closed_via == "hotline"
    assert Interaction.objects.filter(customer=world.customer_a, channel="hotline").count() == 1


def test_call_results(running, world, offer):
    task = _task(running, world.customer_a)
    services.record_result(
        task,
        services.CallResult(reached=False, result="not_reached"),
        channel="call_list",
        user=world.account_manager,
    )
    task.refresh_from_db()
    assert task.status == "open" and task.reached is False
    services.record_result(
        task,
        services.CallResult(
            reached=True, result="handed_over", store="Xuhui store", intent="interested"
        ),
        channel="call_list",
        user=world.account_manager,
    )
    task.refresh_from_db()
    assert task.status == "open" and task.handed_to_store == "Xuhui store"
    subjects = list(
        Interaction.objects.filter(customer=world.customer_a, channel="phone").values_list(
            "subject", flat=True
        )
    )
    assert any("Xuhui store" in s for s in subjects) and len(subjects) == 2
    # The store closes it back: the customer accepts there.
    services.record_result(
        task, services.CallResult(result="accepted"), channel="store", user=world.service_agent
    )
    task.refresh_from_db()
    assert task.status == "done" and task.closed_via == "store" and task.offer == offer
    assert OfferAcceptance.objects.get().task == task


def test_an_order_closes_tasks_that_stop_on_orders(running, world):
    running.stop_condition = "order"
    running.save()
    task = _task(running, world.customer_a)
    make_order(
        world.customer_a, "SO-NEW", world.product, ordered_at=NOW + datetime.timedelta(hours=1)
    )
    task.refresh_from_db()
    assert task.status == "done" and task.result == "converted"
    assert not OutboxMessage.objects.filter(task_id=task.pk, status="pending").exists()
    assert CampaignTarget.objects.get(pk=task.target_id).converted_at is not None
    # An order from before the campaign reached the customer closes nothing.
    other = _task(running, world.customer_b)
    make_order(
        world.customer_b, "SO-OLD", world.product, ordered_at=NOW - datetime.timedelta(days=3)
    )
    other.refresh_from_db()
    assert other.status == "open"


def test_an_order_converts_a_holdout_target_too(campaign, policy, world):
    campaign.holdout_rate = Decimal("0.9")
    campaign.save()
    building.build(campaign, at=NOW)
    target = CampaignTarget.objects.filter(in_holdout=True).select_related("customer").first()
    make_order(target.customer, "SO-H", world.product, ordered_at=NOW + datetime.timedelta(hours=1))
    target.refresh_from_db()
    assert target.converted_at == NOW + datetime.timedelta(hours=1)


def test_a_visit_closes_tasks_that_stop_on_visits(running, world):
    running.stop_condition = "visit"
    running.save()
    task = _task(running, world.customer_a)
    Interaction.objects.create(
        customer=world.customer_a, channel="visit", occurred_at=NOW + datetime.timedelta(hours=2)
    )
    task.refresh_from_db()
    assert task.status == "done" and task.result == "visited"
    # An order does not close a task that stops on visits.
    other = _task(running, world.customer_b)
    make_order(
        world.customer_b, "SO-B2", world.product, ordered_at=NOW + datetime.timedelta(hours=1)
    )
    other.refresh_from_db()
    assert other.status == "open"


def test_finishing_a_campaign_cancels_open_tasks_and_messages(running, world):
    cancelled = building.finish(running, at=NOW)
    assert cancelled == Task.objects.filter(campaign=running).count()
    assert not OutboxMessage.objects.filter(campaign_id=running.pk, status="pending").exists()


def test_the_outbox_filter_by_task_finds_its_messages(running, world, api_client_for):
    """The outbox is indexed by (campaign, task, wave): filtering by a task goes through
    its campaign, and still finds the messages of a task that was deleted."""
    from clientele.channels.filters import OutboxMessageFilterSet
    from clientele.channels.models import OutboxMessage as Message

    task = _task(running, world.customer_a)
    expected = set(Message.objects.filter(task_id=task.pk).values_list("pk", flat=True))
    assert len(expected) == 2
    api = api_client_for("administrator")
    listing = api.get(f"/api/outbox/?task_id={task.pk}&page_size=100").json()["results"]
    assert {row["id"] for row in listing} == expected
    page = OutboxMessageFilterSet({"task_id": task.pk}, queryset=Message.objects.all()).qs
    assert set(page.values_list("pk", flat=True)) == expected
    # A campaign filter and a task filter together still agree.
    both = api.get(f"/api/outbox/?task_id={task.pk}&campaign_id={running.pk}").json()
    assert {row["id"] for row in both["results"]} == expected
    # An orphan: the task is gone, its messages are still found by its id.
    Task.objects.filter(pk=task.pk).delete()
    listing = api.get(f"/api/outbox/?task_id={task.pk}").json()["results"]
    assert {row["id"] for row in listing} == expected
    assert api.get("/api/outbox/?task_id=999999999").json()["results"] == []
