"""Prefix-search indexes that only PostgreSQL needs: with a non-C collation a plain
btree cannot serve LIKE 'x%', and case-insensitive prefixes compare upper(...)."""

from django.db import migrations

INDEXES = {
    "customer_name_prefix": "(name varchar_pattern_ops)",
    "customer_code_upper_prefix": "(upper(code) varchar_pattern_ops)",
    "customer_email_upper_prefix": "(upper(email) varchar_pattern_ops)",
    "customer_phone_prefix": "(phone varchar_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer {definition}"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_customer_city_status")]

    operations = [migrations.RunPython(create, drop)]
