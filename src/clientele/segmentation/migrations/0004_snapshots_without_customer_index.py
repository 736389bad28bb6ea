"""Snapshot rows lose their index on the customer alone.

Every run writes one row per customer and definition; with a few runs kept the customer
index held millions of entries and each insert went to a random place in it (4-10 s per
definition at 1,000,000 customers on PostgreSQL). Every lookup names the run, which the
unique (run, customer) index serves; a deleted customer's rows are deleted run by run
(segmentation.signals), no longer by the ORM's cascade."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_index_second_phone"),
        ("segmentation", "0003_lean_snapshot_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customerclass",
            name="customer",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="class_history",
                to="customers.customer",
                verbose_name="customer",
            ),
        ),
    ]
