"""Receivers of the classification app."""

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from .models import ClassificationRun, CurrentClass, CustomerClass


@receiver(pre_delete, sender="customers.Customer")
def delete_class_history(sender, instance, **kwargs):
    """A deleted customer's snapshot rows and current classes, found run by run and
    definition by definition through the unique (run, customer) index and the (definition,
    customer) primary key: neither table has an index on the customer alone (see
    CustomerClass and CurrentClass), so the ORM's own cascade would read the whole table."""
    runs = list(ClassificationRun.objects.values_list("id", flat=True))
    if runs:
        CustomerClass.objects.filter(run_id__in=runs, customer_id=instance.pk).delete()
    CurrentClass.objects.of_customer(instance.pk).delete()


def keep_order_days(sender, using, **kwargs):
    """After migrations: the per-customer-day table and its triggers made current for the
    time zone (SQLite), so runs read it and imports keep it (see stored_days)."""
    from django.conf import settings
    from django.db import connections

    from . import stored_days

    connection = connections[using]
    if stored_days.supported(connection) and _orders_migrated(connection):
        stored_days.ensure(connection, settings.TIME_ZONE)


def _orders_migrated(connection) -> bool:
    from clientele.sales.models import Order

    return Order._meta.db_table in connection.introspection.table_names()
