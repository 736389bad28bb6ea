"""Data kept across the campaigns migrations that move it between tables."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("campaigns", "0005_targets_without_holdout_index")]
AFTER = [("campaigns", "0006_first_contact_on_task")]
CONTACTED = datetime.datetime(2026, 11, 11, 2, 0, tzinfo=datetime.UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_first_contacts_move_from_targets_to_tasks_and_back():
    old = migrate(BEFORE)
    customer_model = old.get_model("customers", "Customer")
    campaign = old.get_model("campaigns", "Campaign").objects.create(name="Moved")
    target_model = old.get_model("campaigns", "CampaignTarget")
    task_model = old.get_model("campaigns", "Task")
    tasks = {}
    for code, contacted, holdout in [
        ("M1", CONTACTED, False),
        ("M2", None, False),
        ("M3", None, True),
    ]:
        customer = customer_model.objects.create(code=code, name=code)
        target = target_model.objects.create(
            campaign=campaign, customer=customer, in_holdout=holdout, first_contacted_at=contacted
        )
        if not holdout:
            tasks[code] = task_model.objects.create(
                campaign=campaign, customer=customer, target=target
            ).pk
    try:
        new = migrate(AFTER)
        moved = new.get_model("campaigns", "Task").objects
        assert moved.get(pk=tasks["M1"]).first_contacted_at == CONTACTED
        assert moved.get(pk=tasks["M2"]).first_contacted_at is None
        back = migrate(BEFORE)
        targets = back.get_model("campaigns", "CampaignTarget").objects
        assert targets.get(customer__code="M1").first_contacted_at == CONTACTED
        assert targets.get(customer__code="M3").first_contacted_at is None
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
