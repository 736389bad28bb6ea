"""Room for heap-only updates on PostgreSQL: a wave moves every task it reaches to the next
wave and stamps each target's first contact. With free space on each page and none of the
changed columns indexed, those are HOT updates that touch no index; at full pages every
update writes a new entry into each index of the table."""

from django.db import migrations

TABLES = ("campaigns_task", "campaigns_campaigntarget")


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f'ALTER TABLE "{table}" SET (fillfactor = 70)')


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f'ALTER TABLE "{table}" RESET (fillfactor)')


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
