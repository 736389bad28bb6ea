"""The audit trail: who changed what and when on audited records.

A model opts in with `audited = True`. Single-record saves and deletes are recorded by
signals in the same transaction; bulk paths (imports) call `record_bulk` themselves,
because Django sends no signals for bulk_create and bulk_update.
"""

import datetime
from decimal import Decimal

from django.db.models import signals
from django.dispatch import receiver

from .middleware import current_user
from .models import AuditEntry

_SKIP_FIELDS = {"created_at", "updated_at"}


def _plain(value):
    """A JSON-safe form of a field value for the changes column."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        # One instant, one text: a form's value is in the local zone, the database's in
        # UTC, and comparing their str() would report unchanged times as changed.
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.isoformat(sep=" ")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return str(value)


def _value(instance, field):
    value = getattr(instance, field.attname)
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and field.get_internal_type() == "DecimalField"
    ):
        # As stored: a form's "12.5" and the database's "12.500" are the same amount.
        value = value.quantize(Decimal(1).scaleb(-field.decimal_places))
    return _plain(value)


def _snapshot(instance) -> dict:
    return {
        f.attname: _value(instance, f)
        for f in instance._meta.concrete_fields
        if f.attname not in _SKIP_FIELDS and not f.primary_key
    }


def _customer_id(instance):
    path = getattr(type(instance), "customer_path", None)
    if path == "":
        return instance.pk
    return getattr(instance, "customer_id", None)


def _write(instance, action, changes):
    user = current_user()
    AuditEntry.objects.create(
        user=user if user is not None and user.pk else None,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        customer_id=_customer_id(instance),
        changes=changes,
    )


def _is_audited(sender) -> bool:
    return getattr(sender, "audited", False)


@receiver(signals.pre_save)
def _remember_old(sender, instance, raw=False, **kwargs):
    if raw or not _is_audited(sender):
        return
    old = None
    if instance.pk is not None:
        old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_old = _snapshot(old) if old is not None else None


@receiver(signals.post_save)
def _record_save(sender, instance, created, raw=False, **kwargs):
    if raw or not _is_audited(sender):
        return
    new = _snapshot(instance)
    old = getattr(instance, "_audit_old", None)
    if created or old is None:
        changes = {k: [None, v] for k, v in new.items() if v not in (None, "", [], {})}
        _write(instance, AuditEntry.Action.CREATE, changes)
        return
    changes = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
    if changes:
        _write(instance, AuditEntry.Action.UPDATE, changes)


@receiver(signals.post_delete)
def _record_delete(sender, instance, **kwargs):
    if _is_audited(sender):
        _write(instance, AuditEntry.Action.DELETE, {})


def record_m2m(instance, field: str, old: list, new: list) -> None:
    """Record a change of a many-to-many field (tags), which save() does not see."""
    if sorted(map(str, old)) != sorted(map(str, new)):
        _write(instance, AuditEntry.Action.UPDATE, {field: [sorted(old), sorted(new)]})


def record_bulk(model, rows, action=AuditEntry.Action.IMPORT, user=None, batch_size=2000):
    """Write one audit entry per (object_id, customer_id, repr, changes) tuple in bulk."""
    label = model._meta.label_lower
    entries = [
        AuditEntry(
            user=user,
            action=action,
            object_type=label,
            object_id=object_id,
            object_repr=str(text)[:200],
            customer_id=customer_id,
            changes=changes,
        )
        for object_id, customer_id, text, changes in rows
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
