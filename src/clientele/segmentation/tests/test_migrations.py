"""Current classes kept across the migration to the (definition, customer) key and back."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("segmentation", "0005_current_classes_without_customer_index")]
AFTER = [("segmentation", "0006_current_class_composite_key")]
DAY = datetime.date(2026, 11, 11)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


CURRENT = ("CurrentClass", "definition__key", "customer__code", "code", "since", "manual")
SNAPSHOT = ("CustomerClass", "run__definition__key", "customer__code", "code", "rank", "clv")


def _rows(apps, model_name, *fields):
    return sorted(apps.get_model("segmentation", model_name).objects.values_list(*fields))


def _customers(apps, codes):
    model = apps.get_model("customers", "Customer")
    return [model.objects.create(code=code, name=code) for code in codes]


@pytest.mark.django_db(transaction=True)
def test_current_classes_move_to_the_composite_key_and_back():
    old = migrate(BEFORE)
    customers = _customers(old, ("K1", "K2"))
    definition_model = old.get_model("segmentation", "ClassificationDefinition")
    definitions = [
        definition_model.objects.create(key=key, name=key, kind="tier", parameters={})
        for key in ("moved_a", "moved_b")
    ]
    current = old.get_model("segmentation", "CurrentClass")
    for definition in definitions:
        for customer in customers:
            current.objects.create(
                definition=definition, customer=customer, code=f"c{customer.code}",
                since=DAY, reviewed_at=DAY, manual=customer.code == "K2",
            )  # fmt: skip
    expected = _rows(old, *CURRENT)
    assert len(expected) == 4
    try:
        new = migrate(AFTER)
        assert _rows(new, *CURRENT) == expected
        model = new.get_model("segmentation", "CurrentClass")
        assert [f.name for f in model._meta.pk_fields] == ["definition", "customer"]
        with pytest.raises(IntegrityError), transaction.atomic():  # the key is unique
            model.objects.create(
                definition_id=definitions[0].pk, customer_id=customers[0].pk, code="again",
                since=DAY, reviewed_at=DAY,
            )  # fmt: skip
        back = migrate(BEFORE)
        assert _rows(back, *CURRENT) == expected
        assert back.get_model("segmentation", "CurrentClass").objects.filter(id__gt=0).count() == 4
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


SNAPSHOT_BEFORE = [("segmentation", "0006_current_class_composite_key")]
SNAPSHOT_AFTER = [("segmentation", "0007_snapshot_composite_key")]


@pytest.mark.django_db(transaction=True)
def test_snapshot_rows_move_to_the_run_customer_key_and_back():
    old = migrate(SNAPSHOT_BEFORE)
    customers = _customers(old, ("S1", "S2"))
    definition = old.get_model("segmentation", "ClassificationDefinition").objects.create(
        key="snap", name="snap", kind="abc", parameters={}
    )
    when = datetime.datetime(2026, 11, 11, tzinfo=datetime.UTC)
    run_model = old.get_model("segmentation", "ClassificationRun")
    runs = [
        run_model.objects.create(
            definition=definition, trigger="manual", as_of=DAY, started_at=when, status="succeeded"
        )
        for _ in range(2)
    ]
    snapshot = old.get_model("segmentation", "CustomerClass")
    for position, run in enumerate(runs):
        for rank, customer in enumerate(customers, start=1):
            snapshot.objects.create(
                run=run, customer=customer, code="AB"[position], rank=rank,
                clv=rank * 10.5, computed_at=when,
            )  # fmt: skip
    expected = _rows(old, *SNAPSHOT)
    assert len(expected) == 4
    try:
        new = migrate(SNAPSHOT_AFTER)
        assert _rows(new, *SNAPSHOT) == expected
        model = new.get_model("segmentation", "CustomerClass")
        assert [f.name for f in model._meta.pk_fields] == ["run", "customer"]
        with pytest.raises(IntegrityError), transaction.atomic():  # the key is unique
            model.objects.create(
                run_id=runs[0].pk, customer_id=customers[0].pk, code="again", computed_at=when
            )
        back = migrate(SNAPSHOT_BEFORE)
        assert _rows(back, *SNAPSHOT) == expected
        restored = back.get_model("segmentation", "CustomerClass")
        assert restored.objects.filter(id__gt=0).count() == 4
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
